"""Readings partitioned by month on the real PostgreSQL: rows land in their month, nothing is lost when a month
arrives before its partition, upserts still count duplicates, and rollups equal SQLite's."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text

from etl.feeds import load_feeds
from etl.regions import load_hierarchy
from etl.runner import run_feed
from etl.warehouse.db import _alembic_config, make_engine, migrate
from etl.warehouse.partitions import ensure_months, existing_partitions, month_of, next_month
from etl.warehouse.schema import readings
from geo.hierarchy import HierarchyRead, RegionRecord
from tests.integration.test_runner import FEEDS, rollup_table

pytestmark = pytest.mark.integration
# A load just after midnight UTC on 1 March: the hour before is February's.
NOW = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
VILLAGE = "990199001001"


def one_village_warehouse(url: str):
    """A migrated warehouse holding one county, one township and VILLAGE."""
    engine = make_engine(url)
    migrate(engine)
    records = [
        RegionRecord("990199000000", "测试县", "county", "990100000000"),
        RegionRecord("990199001000", "东镇", "township", "990199000000"),
        RegionRecord(VILLAGE, "甲村", "village", "990199001000"),
    ]
    load_hierarchy(engine, HierarchyRead(records, []), source="test")
    return engine


def _load_two_months(engine, folder) -> list:
    """Devices and readings on both sides of the month boundary, through the real file-drop feeds."""
    (folder / "feeds.toml").write_text(FEEDS.replace('path = "drops/', f'path = "{folder.as_posix()}/drops/'))
    for name, header, rows in (
        ("devices", ["id", "kind", "village", "installed"], [["AIR-1", "空气监测", VILLAGE, "2025-01-01"]]),
        (
            "sensors",
            ["device", "metric", "time", "value"],
            [["AIR-1", "pm25", (NOW - timedelta(minutes=m)).isoformat(), str(m)] for m in (10, 50, 70, 130)],
        ),
    ):
        (folder / "drops" / name).mkdir(parents=True, exist_ok=True)
        with open(folder / "drops" / name / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])
    feeds = load_feeds(folder / "feeds.toml")
    return [run_feed(engine, feeds[name], now=lambda: NOW) for name in ("devices", "sensors")]


def _rows_per_partition(engine) -> dict[str, int]:
    with engine.connect() as connection:
        query = text("SELECT tableoid::regclass::text, count(*) FROM readings GROUP BY 1")
        return dict(connection.execute(query).all())


def test_readings_are_partitioned_by_month_and_match_sqlite(postgres_url, tmp_path):
    postgres = one_village_warehouse(postgres_url)
    with postgres.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pg_partitioned_table")).scalar() == 1
        partitions = existing_partitions(connection, "readings")
    this_month = month_of(datetime.now(UTC))
    assert {"readings_default", f"readings_{this_month:%Y_%m}", f"readings_{next_month(this_month):%Y_%m}"} <= (
        partitions
    )

    (tmp_path / "pg").mkdir()
    reports = _load_two_months(postgres, tmp_path / "pg")
    assert reports[1].counts.loaded == 4
    assert _rows_per_partition(postgres) == {"readings_2026_02": 2, "readings_2026_03": 2}

    again = run_feed(postgres, load_feeds(tmp_path / "pg" / "feeds.toml")["sensors"], now=lambda: NOW)
    assert again.counts.rows_in == 0  # the file was processed; re-drop it to see duplicates counted
    (tmp_path / "pg" / "drops" / "sensors" / "processed" / "sensors.csv").rename(
        tmp_path / "pg" / "drops" / "sensors" / "again.csv"
    )
    again = run_feed(postgres, load_feeds(tmp_path / "pg" / "feeds.toml")["sensors"], now=lambda: NOW)
    assert (again.counts.loaded, again.counts.duplicates) == (0, 4)  # ON CONFLICT through the partitions

    sqlite = one_village_warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    (tmp_path / "lite").mkdir()
    _load_two_months(sqlite, tmp_path / "lite")
    assert rollup_table(postgres) == rollup_table(sqlite)
    postgres.dispose()
    sqlite.dispose()


def test_rows_of_a_month_without_a_partition_wait_in_default_and_move_without_loss(postgres_url):
    engine = one_village_warehouse(postgres_url)
    old = datetime(2025, 6, 15, 8, 0, tzinfo=UTC)
    row = {"device_id": "AIR-1", "metric": "pm25", "value": 12.0, "region_code": VILLAGE, "loaded_at": old}
    with engine.begin() as connection:
        # Written around the loader (as a restore or a manual fix would): no partition for June 2025 yet.
        connection.execute(readings.insert(), [{**row, "event_time": old + timedelta(hours=h)} for h in range(3)])
    assert _rows_per_partition(engine) == {"readings_default": 3}
    with engine.begin() as connection:
        assert ensure_months(connection, "readings", [old]) == ["readings_2025_06"]
        assert ensure_months(connection, "readings", [old]) == []  # idempotent
    assert _rows_per_partition(engine) == {"readings_2025_06": 3}

    with engine.begin() as connection:  # back to one plain table, and forward again: every row kept
        command.downgrade(_alembic_config(connection), "0006")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pg_partitioned_table")).scalar() == 0
        assert connection.execute(select(func.count()).select_from(readings)).scalar() == 3
    migrate(engine)
    assert _rows_per_partition(engine) == {"readings_2025_06": 3}
    engine.dispose()


def test_a_watched_load_makes_a_new_months_partition_while_screens_keep_reading(postgres_url, tmp_path):
    # Inside `etl watch` a batch waits for locks in 0.25 s steps. A new month's partition is made beside the table and
    # attached (a lock readers do not conflict with), so a reader always holding the table (screens' queries
    # overlapping) does not make every step give up.
    import threading
    import time

    engine = one_village_warehouse(postgres_url)
    done, stop = threading.Event(), threading.Event()

    def reader(delay: float) -> None:
        time.sleep(delay)
        while not done.is_set():
            with engine.begin() as connection:
                connection.execute(text("SELECT count(*) FROM readings"))
                time.sleep(0.4)  # a long screen query, the next one starting before it ends

    readers = [threading.Thread(target=reader, args=(delay,), daemon=True) for delay in (0.0, 0.2)]
    for thread in readers:
        thread.start()
    timer = threading.Timer(30, stop.set)  # a watch asked to stop: a load still waiting then ends unloaded
    timer.start()
    try:
        (tmp_path / "w").mkdir()
        folder = tmp_path / "w"
        (folder / "feeds.toml").write_text(FEEDS.replace('path = "drops/', f'path = "{folder.as_posix()}/drops/'))
        _load_two_months(engine, folder)  # devices, then readings outside watch (no steps): a baseline
        feeds = load_feeds(folder / "feeds.toml")
        (folder / "drops" / "sensors" / "april.csv").write_text(
            "device,metric,time,value\nAIR-1,pm25,2026-04-02T10:00:00+00:00,7\n", encoding="utf-8"
        )
        report = run_feed(engine, feeds["sensors"], now=lambda: datetime(2026, 4, 2, 11, tzinfo=UTC), stop=stop)
        assert not stop.is_set() and report.counts.loaded == 1, report
        assert _rows_per_partition(engine).get("readings_2026_04") == 1
    finally:
        done.set()
        timer.cancel()
        for thread in readers:
            thread.join()
        engine.dispose()
