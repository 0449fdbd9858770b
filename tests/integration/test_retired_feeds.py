"""A feed removed from the feeds file (a county stopped a transport) while its state stays in the warehouse: `etl
status` lists it apart as 已停用 instead of dropping it from sight, a late_feed rule never raises an alert about it
and resolves the one it had open with the reason, and `etl feeds retire NAME` forgets its state once the file no
longer declares it; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from etl.alerts.evaluate import Evaluator
from etl.cli import main
from etl.dataset import BEIJING
from etl.feed_lock import feed_lock
from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.db import current_version
from etl.warehouse.schema import alerts, feed_freshness, feed_runs, feed_state, tourism
from tests.alert_county import VILLAGE_A1, Clock, alerts_file, county_engine

# Two transports of one county's tourism figures: the file drop it keeps and the FTP export it stopped.
FEED = """
[feeds.{name}]
dataset = "tourism"
cadence = "1h"
schedule = "0.2s"
[feeds.{name}.source]
type = "file"
settle_seconds = 0
path = "{drops}/{name}"
[feeds.{name}.mapping]
record_id = "编号"
region_code = "村代码"
event_time = "日期"
visitors = "游客人数"
"""
LATE_RULE = '[evaluation]\nsweep = "1h"\n[rules.late]\nname = "数据源滞后"\nkind = "late_feed"\n'


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    return f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def _feeds_file(tmp_path, *names: str):
    """The feeds file declaring ``names`` (each with its drop folder), loaded."""
    text = "".join(FEED.format(name=name, drops=tmp_path / "drops") for name in names)
    (tmp_path / "feeds.toml").write_text(text, encoding="utf-8")
    for name in names:
        (tmp_path / "drops" / name).mkdir(parents=True, exist_ok=True)
    return load_feeds(tmp_path / "feeds.toml")


def _load_both(engine, tmp_path, at: datetime) -> None:
    """Both feeds declared and run once, each delivering a day's visitors of ``at``."""
    declared = _feeds_file(tmp_path, "visits", "visits_ftp")
    day = at.astimezone(BEIJING).strftime("%Y-%m-%d")
    for number, name in enumerate(declared, start=1):
        drop = tmp_path / "drops" / name / "v.csv"
        drop.write_text(f"编号,村代码,日期,游客人数\nT{number},{VILLAGE_A1},{day},12\n", encoding="utf-8")
        assert run_feed(engine, declared[name], now=lambda: at + timedelta(days=1)).counts.loaded == 1


def _cli(url: str, tmp_path, *arguments: str):
    return CliRunner().invoke(
        main,
        ["--var-dir", str(tmp_path / "var"), "--warehouse-url", url, *arguments],
        env={"FEEDS_FILE": str(tmp_path / "feeds.toml")},
    )


def _live(engine) -> dict[str, str]:
    with engine.connect() as connection:
        live = select(alerts.c.subject, alerts.c.status).where(alerts.c.status != "resolved")
        return dict(connection.execute(live).all())


def test_status_lists_a_feed_gone_from_the_feeds_file_apart_as_retired(url, tmp_path):
    # The stopped feed vanished from `etl status` while its state, runs and freshness stayed in the warehouse
    # (and kept a late alert open): nothing told the operator it was there.
    engine = county_engine(url)
    _load_both(engine, tmp_path, datetime.now(UTC) - timedelta(days=3))
    _feeds_file(tmp_path, "visits")  # the county stopped its FTP export
    said = _cli(url, tmp_path, "etl", "status")
    assert said.exit_code == 0, said.output
    lines = said.output.splitlines()
    kept = next(line for line in lines if line.startswith("visits "))
    assert "滞后 " in kept  # the feed still declared is late, as before
    apart = next(index for index, line in enumerate(lines) if line.startswith("已停用"))
    retired = next(line for line in lines if line.startswith("visits_ftp "))
    assert lines.index(retired) > apart > lines.index(kept)
    assert retired.rstrip().endswith("已停用") and "滞后" not in retired and "成功" in retired
    assert "ruralbrain etl feeds retire" in lines[apart]
    engine.dispose()


def test_a_retired_feed_raises_no_late_alert_and_its_open_one_is_resolved(url, tmp_path):
    engine = county_engine(url)
    clock = Clock()
    _load_both(engine, tmp_path, clock.now - timedelta(hours=1))
    config = alerts_file(tmp_path, LATE_RULE)
    clock.advance(hours=3)  # both are late now: more than twice their hourly cadence
    Evaluator(engine, config, clock, feeds={"visits", "visits_ftp"}).sweep()
    assert _live(engine) == {"feed:visits": "open", "feed:visits_ftp": "open"}
    # The feeds file no longer declares visits_ftp: its alert is resolved, saying why; the kept feed's stays open.
    deployment = Evaluator(engine, config, clock, feeds={"visits"})
    assert deployment.sweep().resolved == 1
    assert _live(engine) == {"feed:visits": "open"}
    with engine.connect() as connection:
        note = connection.execute(select(alerts.c.resolve_note).where(alerts.c.subject == "feed:visits_ftp")).scalar()
    assert "数据源 visits_ftp 已停用" in note and "不在数据源文件中" in note
    clock.advance(days=2)
    assert deployment.sweep().opened == 0  # never raised again
    assert _live(engine) == {"feed:visits": "open"}
    # A load's evaluation of the kept feed leaves it as it is too.
    assert deployment.after_load("visits", "tourism", clock.now - timedelta(days=30)).opened == 0
    assert _live(engine) == {"feed:visits": "open"}
    engine.dispose()


def test_retire_forgets_a_retired_feeds_state_only_once_the_file_no_longer_declares_it(url, tmp_path):
    engine = county_engine(url)
    _load_both(engine, tmp_path, datetime.now(UTC) - timedelta(days=3))
    refused = _cli(url, tmp_path, "etl", "feeds", "retire", "visits_ftp")
    assert refused.exit_code == 1 and "仍在数据源文件中" in refused.output, refused.output
    _feeds_file(tmp_path, "visits")
    unknown = _cli(url, tmp_path, "etl", "feeds", "retire", "visits_sms")
    assert unknown.exit_code == 1 and "没有这个数据源的状态" in unknown.output and "visits_ftp" in unknown.output
    with feed_lock(engine, "visits_ftp"):  # a watch started with the old file still runs it
        busy = _cli(url, tmp_path, "etl", "feeds", "retire", "visits_ftp")
    assert busy.exit_code == 1 and "正在运行" in busy.output, busy.output
    with engine.connect() as connection:
        before = current_version(connection)
    done = _cli(url, tmp_path, "etl", "feeds", "retire", "visits_ftp")
    assert done.exit_code == 0 and "visits_ftp：已清除" in done.output, done.output
    with engine.connect() as connection:
        for table in (feed_state, feed_freshness, feed_runs):
            left = connection.execute(select(table.c.feed).distinct()).scalars().all()
            assert left == ["visits"], table.name
        assert connection.execute(select(func.count()).select_from(tourism)).scalar() == 2  # what it loaded stays
        assert current_version(connection) > before  # the screens' 数据截至 read the freshness
    status = _cli(url, tmp_path, "etl", "status")
    assert "visits_ftp" not in status.output and "已停用" not in status.output
    again = _cli(url, tmp_path, "etl", "feeds", "retire", "visits_ftp")
    assert again.exit_code == 1 and "没有这个数据源的状态" in again.output
    engine.dispose()


def _watch(tmp_path, environment: dict, *names: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "etl.cli", "--var-dir", str(tmp_path / "var"), "etl", "watch", *names]
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _until(engine, wanted: dict[str, str], watcher: subprocess.Popen) -> dict[str, str]:
    """The live alerts once they are ``wanted`` or 60 s have passed; then the watch is stopped."""
    deadline = time.monotonic() + 60
    try:
        while (found := _live(engine)) != wanted and time.monotonic() < deadline and watcher.poll() is None:
            time.sleep(0.2)
    finally:
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, output
    return found


def test_etl_watch_resolves_the_late_alert_of_a_feed_removed_from_the_file(tmp_path):
    # End to end as an operator meets it: a watch of one feed sweeps every declared feed (neither alert is
    # resolved for being out of that process's hands), and after the file drops one, the next watch resolves its
    # alert and keeps the other's.
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = county_engine(url)
    _load_both(engine, tmp_path, datetime.now(UTC) - timedelta(days=3))
    (tmp_path / "alerts.toml").write_text(LATE_RULE, encoding="utf-8")
    environment = {
        **os.environ,
        "WAREHOUSE_URL": url,
        "FEEDS_FILE": str(tmp_path / "feeds.toml"),
        "ALERTS_FILE": str(tmp_path / "alerts.toml"),
    }
    both = {"feed:visits": "open", "feed:visits_ftp": "open"}
    assert _until(engine, both, _watch(tmp_path, environment, "visits")) == both
    _feeds_file(tmp_path, "visits")
    assert _until(engine, {"feed:visits": "open"}, _watch(tmp_path, environment)) == {"feed:visits": "open"}
    engine.dispose()
