"""The demo county with a few days of simulated history up to now, loaded through some of the demo's own feeds: what
`make demo` shows of those feeds, for tests that read a screen's 30-day window (the simulator's files, the demo's
feeds.toml, the real loader; no HTTP or MQTT feed runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from etl.demo.build import DEMO_DIR, build_demo
from etl.demo.simulate import simulate_history
from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.db import make_engine
from etl.warehouse.settings import Settings


def build_recent(var_dir: Path, feeds: tuple[str, ...], days: int = 2) -> tuple[Settings, Engine]:
    """(settings, engine) of the demo county under ``var_dir`` with ``days`` of history through the named feeds."""
    settings = Settings.load(var_dir=str(var_dir))
    build_demo(settings, echo=lambda _line: None)
    now = datetime.now(UTC)
    simulate_history(settings, days=days, now=now)
    declared = load_feeds(DEMO_DIR / "feeds.toml", {"var_dir": str(var_dir), "sim_port": "0"})
    engine = make_engine(settings.warehouse_url)
    for name in feeds:
        report = run_feed(engine, declared[name], now=lambda: now)
        assert report.error is None and report.counts.loaded > 0, (name, report.error, report.counts)
    return settings, engine
