"""The demo simulator through the real transports: deterministic files, every feed loads, counts reconcile,
a small share is quarantined with reasons, rollups exist, live readings arrive over MQTT, and the job platform's
postings and later matches arrive over SQL."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import threading
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from etl.demo import job_platform
from etl.demo.build import build_demo
from etl.demo.simulate import ApiStore, SimulatorServer, simulate_history, simulate_live
from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.db import make_engine
from etl.warehouse.schema import readings, rollups
from etl.warehouse.settings import Settings
from tests.browser.conftest import free_port

NOW = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)
FEEDS = Path(__file__).resolve().parents[2] / "data" / "demo" / "feeds.toml"


def demo(tmp_path, name: str) -> Settings:
    settings = Settings.load(var_dir=str(tmp_path / name))
    build_demo(settings, echo=lambda _line: None)
    return settings


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.csv"))}


def postings(settings: Settings) -> list[tuple]:
    """Every row of the simulated job platform's database."""
    with closing(sqlite3.connect(Path(settings.var_dir) / "sim" / "jobs.db")) as platform:
        return platform.execute("SELECT * FROM job_postings ORDER BY posting_no").fetchall()


def test_history_is_deterministic_and_every_feed_loads_and_reconciles(tmp_path):
    first, second = demo(tmp_path, "a"), demo(tmp_path, "b")
    counts = simulate_history(first, days=8, now=NOW)  # a week and a day: every weekly export appears
    assert simulate_history(second, days=8, now=NOW) == counts
    assert snapshot(Path(first.var_dir) / "drops") == snapshot(Path(second.var_dir) / "drops")
    assert postings(first) == postings(second)

    port = free_port()
    feeds = load_feeds(FEEDS, {"var_dir": first.var_dir, "sim_port": str(port)})
    server = SimulatorServer(ApiStore(Path(first.var_dir) / "sim" / "api.json"), port).start()
    engine = make_engine(first.warehouse_url)
    try:
        reports = {name: run_feed(engine, feed, now=lambda: NOW) for name, feed in feeds.items() if name != "sensors"}
    finally:
        server.stop()
    rows_in = sum(r.counts.rows_in for r in reports.values())
    quarantined = sum(r.counts.quarantined for r in reports.values())
    for name, report in reports.items():
        c = report.counts
        assert report.error is None, (name, report.error)
        assert c.loaded > 0, name
        assert c.rows_in == c.loaded + c.duplicates + c.quarantined, name
    assert 0 < quarantined <= 0.03 * rows_in
    assert reports["sensor_files"].counts.duplicates > 0  # readings delivered twice are absorbed
    issue = next(i for i in reports["cases"].issues)
    assert issue.file.startswith("cases-") and " 行" in issue.file and issue.field
    with engine.connect() as connection:
        measures = set(
            connection.execute(select(rollups.c.measure).where(rollups.c.region_code == "990101000000")).scalars()
        )
    for expected in (
        "cases.received",
        "reading.pm25",
        "waste.tonnage",
        "ecommerce.sales",
        "points.earned",
        "jobs.matched",
    ):
        assert expected in measures
    engine.dispose()


def test_live_readings_arrive_over_mqtt(tmp_path, mqtt_broker):
    host, port = mqtt_broker
    settings = demo(tmp_path, "live")
    simulate_history(settings, days=1, now=NOW)  # the device registry and the API store
    feeds = load_feeds(FEEDS, {"var_dir": settings.var_dir, "sim_port": str(free_port())})
    engine = make_engine(settings.warehouse_url)
    assert run_feed(engine, feeds["devices"]).counts.loaded > 0
    source = {**feeds["sensors"].source, "host": host, "port": port, "client_id": f"test-{uuid.uuid4().hex[:8]}"}
    sensors = dataclasses.replace(feeds["sensors"], source=source)
    run_feed(engine, sensors)  # creates the persistent session, so the broker keeps what comes next
    stop = threading.Event()
    worker = threading.Thread(
        target=simulate_live, args=(settings, stop), kwargs={"interval": 0.5, "mqtt_host": host, "mqtt_port": port}
    )
    worker.start()
    stop.wait(2.0)
    stop.set()
    worker.join(timeout=10)
    report = run_feed(engine, sensors)
    assert report.error is None and report.counts.loaded > 100
    with engine.connect() as connection:
        newest = connection.execute(select(func.max(readings.c.event_time))).scalar()
    assert newest.replace(tzinfo=UTC) > NOW  # live, not history
    engine.dispose()


def test_early_in_a_month_no_export_is_dated_in_the_future(tmp_path):
    """On the 2nd, this month's finance disclosure (published on the 5th) is not out yet: nothing the demo
    drops may be quarantined as ahead of now."""
    early = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    settings = demo(tmp_path, "early")
    simulate_history(settings, days=8, now=early)
    feeds = load_feeds(FEEDS, {"var_dir": settings.var_dir, "sim_port": str(free_port())})
    engine = make_engine(settings.warehouse_url)
    try:
        reports = {name: run_feed(engine, feeds[name], now=lambda: early) for name in ("finance", "notices", "cases")}
    finally:
        engine.dispose()
    assert reports["finance"].counts.loaded > 0  # last month's accounts
    future = [issue for report in reports.values() for issue in report.issues if issue.kind == "future time"]
    assert future == []


def test_job_platform_postings_and_later_matches_arrive_over_sql(tmp_path):
    settings = demo(tmp_path, "jobs")
    simulate_history(settings, days=30, now=NOW)
    feed = load_feeds(FEEDS, {"var_dir": settings.var_dir, "sim_port": str(free_port())})["jobs"]
    engine = make_engine(settings.warehouse_url)

    def county_matched() -> int:
        with engine.connect() as connection:
            return connection.execute(
                select(func.sum(rollups.c.total)).where(
                    rollups.c.region_code == "990101000000",
                    rollups.c.grain == "day",
                    rollups.c.measure == "jobs.matched",
                )
            ).scalar()

    def platform_matched() -> int:
        return sum(row[5] for row in postings(settings) if row[1] != job_platform.UNKNOWN_VILLAGE)

    first = run_feed(engine, feed, now=lambda: NOW)
    unknown = [row for row in postings(settings) if row[1] == job_platform.UNKNOWN_VILLAGE]
    assert first.error is None and first.counts.loaded == len(postings(settings)) - len(unknown) > 100
    assert first.counts.quarantined == len(unknown) > 0  # the platform's typing errors, kept with the reason
    assert all(i.file.startswith("SQL 第 ") and i.field == "village_code" for i in first.issues), first.issues
    assert county_matched() == platform_matched()

    before = set(postings(settings))
    villages = sorted({row[1] for row in before} - {job_platform.UNKNOWN_VILLAGE})
    path = Path(settings.var_dir) / "sim" / "jobs.db"
    for minute in range(1, 11):  # ten minutes of the platform's life: new postings, workers matched
        job_platform.live_update(path, villages, random.Random(minute), NOW + timedelta(minutes=minute))
    changed = set(postings(settings)) - before
    second = run_feed(engine, feed, now=lambda: NOW + timedelta(minutes=15))
    assert changed and second.error is None
    assert second.counts.loaded == len(changed)  # new and matched postings; rows at the watermark again: duplicates
    assert county_matched() == platform_matched()
    engine.dispose()


def test_a_job_posting_number_names_the_same_posting_whenever_history_is_written(tmp_path):
    villages = [f"990101001{n:03d}" for n in range(200)]

    def platform_at(moment: datetime) -> dict[str, tuple]:
        path = tmp_path / f"{moment:%H%M}" / "jobs.db"
        job_platform.write_history(path, villages, lambda *parts: random.Random(":".join(parts)), moment, days=30)
        with closing(sqlite3.connect(path)) as platform:
            rows = platform.execute("SELECT posting_no, village_code, title, posted_at, headcount FROM job_postings")
            return {row[0]: row[1:] for row in rows}

    now, later = platform_at(NOW), platform_at(NOW + timedelta(hours=6))
    assert len(now) > 300 and set(now) <= set(later)  # later holds the same postings and the day's newer ones
    assert all(later[number] == posting for number, posting in now.items())


def test_the_simulated_shop_keeps_its_last_weeks_of_orders_while_a_demo_runs_for_months():
    # simulate --live added an order a minute to the API's file and rewrote it whole each time, for ever.
    from datetime import UTC, datetime, timedelta

    from etl.demo.simulate import API_ORDER_DAYS, with_order

    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    orders = []
    for minutes in range(0, 90 * 24 * 60, 60):  # an order an hour for 90 days
        moment = now - timedelta(days=90) + timedelta(minutes=minutes)
        orders = with_order(orders, {"order_no": str(minutes), "paid_at": moment.isoformat()}, moment)
    oldest, newest = (datetime.fromisoformat(orders[end]["paid_at"]) for end in (0, -1))
    assert newest - oldest <= timedelta(days=API_ORDER_DAYS) and len(orders) <= API_ORDER_DAYS * 24 + 1
    assert orders[-1]["order_no"] == str(90 * 24 * 60 - 60)  # the newest is there
