"""The ETL under a careless upload and a hostile file: over-long and NUL fields agree on SQLite and PostgreSQL,
a row the database refuses is narrowed down to, a damaged workbook never blocks the queue, a file still being
written is loaded exactly once, MQTT rejects name topic and device, `etl verify` finds and repairs damaged
rollups, a run whose process died reads as interrupted."""

from __future__ import annotations

import csv
import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select, text, update

from etl.cli import main
from etl.feeds import load_feeds
from etl.regions import load_hierarchy
from etl.rollups import day_of, hour_of, month_of
from etl.runner import run_feed
from etl.status import feed_status
from etl.verify import verify_rollups
from etl.warehouse.db import current_version, make_engine, migrate
from etl.warehouse.schema import cases, feed_runs, quarantine, rollups
from geo.hierarchy import HierarchyRead, RegionRecord
from geo.issues import kind_of
from tests.mqtt_county import mqtt_feed, publish_all, register_device

VILLAGE = "990199001001"
REGIONS = [
    RegionRecord("990199000000", "测试县", "county", "990100000000"),
    RegionRecord("990199001000", "东镇", "township", "990199000000"),
    RegionRecord(VILLAGE, "甲村", "village", "990199001000"),
]
FEEDS = """
[feeds.cases]
dataset = "cases"
cadence = "1h"
[feeds.cases.source]
type = "file"
path = "drops"
settle_seconds = {settle}
[feeds.cases.mapping]
case_id = "编号"
region_code = "村代码"
event_time = "受理时间"
category = "类别"
module = "=综合"
status = "状态"
title = "标题"
reporter_name = "上报人"
"""
HEADER = ["编号", "村代码", "受理时间", "类别", "状态", "标题", "上报人"]


def warehouse(url: str):
    engine = make_engine(url)
    migrate(engine)
    load_hierarchy(engine, HierarchyRead(REGIONS, []), source="test")
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = warehouse(url)
    yield engine
    engine.dispose()


def cases_feed(tmp_path, settle: float = 0):
    (tmp_path / "feeds.toml").write_text(FEEDS.format(settle=settle), encoding="utf-8")
    (tmp_path / "drops").mkdir(exist_ok=True)
    return load_feeds(tmp_path / "feeds.toml")["cases"]


def row(case_id: str, title: str = "路灯不亮", reporter: str = "王五", hours_ago: float = 2) -> list[str]:
    """A case row as a county export writes it: local time (UTC+8), no zone."""
    when = datetime.now(UTC) - timedelta(hours=hours_ago) + timedelta(hours=8)
    return [case_id, VILLAGE, when.strftime("%Y-%m-%d %H:%M:%S"), "请求", "受理", title, reporter]


def drop(folder, name: str, rows: list[list[str]]) -> None:
    with open(folder / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def stored_ids(engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(select(cases.c.case_id)).scalars())


def test_an_over_long_or_nul_field_quarantines_its_row_alike_on_both_databases(engine, tmp_path):
    feed = cases_feed(tmp_path)
    drop(tmp_path / "drops", "a.csv", [row("L1"), row("L2", reporter="王" * 60), row("L3", title="路灯\x00不亮")])
    report = run_feed(engine, feed)
    assert report.error is None and stored_ids(engine) == ["L1"]
    with engine.connect() as connection:
        kept = {r.location: r for r in connection.execute(select(quarantine))}
    assert kind_of(kept["a.csv，第 3 行"].reason) == "too long" and "超过 50 个字符" in kept["a.csv，第 3 行"].reason
    assert kept["a.csv，第 3 行"].field == "上报人"
    assert kind_of(kept["a.csv，第 4 行"].reason) == "invalid value" and "NUL" in kept["a.csv，第 4 行"].reason
    assert (report.counts.loaded, report.counts.quarantined) == (1, 2)


def test_a_row_the_database_refuses_is_quarantined_alone_and_the_rest_load(engine, tmp_path):
    with engine.begin() as connection:  # a rule of the database that validation does not know about
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON cases WHEN NEW.title = '拒收' "
                    "BEGIN SELECT RAISE(ABORT, 'title refused'); END"
                )
            )
        else:
            connection.execute(text("ALTER TABLE cases ADD CONSTRAINT refuse CHECK (title <> '拒收')"))
    feed = cases_feed(tmp_path)
    rows = [row(f"R{n}", title="拒收" if n in (3, 11) else "路灯") for n in range(16)]
    drop(tmp_path / "drops", "a.csv", rows)
    report = run_feed(engine, feed)
    assert report.error is None
    assert stored_ids(engine) == sorted(f"R{n}" for n in range(16) if n not in (3, 11))
    with engine.connect() as connection:
        kept = connection.execute(select(quarantine.c.location, quarantine.c.reason)).all()
        counted = connection.execute(
            select(func.sum(rollups.c.count)).where(
                rollups.c.grain == "day", rollups.c.region_code == VILLAGE, rollups.c.measure == "cases.received"
            )
        ).scalar()
    assert sorted(location for location, _ in kept) == ["a.csv，第 13 行", "a.csv，第 5 行"]
    assert all(kind_of(reason) == "refused by database" for _, reason in kept)
    assert counted == 14  # the refused rows left nothing behind, in the facts or the rollups
    assert (report.counts.rows_in, report.counts.loaded, report.counts.quarantined) == (16, 14, 2)


def test_a_damaged_workbook_goes_to_failed_and_the_files_behind_it_load(tmp_path):
    engine = warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    feed = cases_feed(tmp_path)
    drops = tmp_path / "drops"
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    for n in range(300):
        workbook.active.append(row(f"X{n}", title=f"第{n}件"))
    workbook.save(drops / "a.xlsx")
    data = bytearray((drops / "a.xlsx").read_bytes())
    start = data.index(b"xl/worksheets/sheet1.xml") + 200  # inside the sheet's compressed data
    data[start : start + 64] = bytes(64)
    (drops / "a.xlsx").write_bytes(bytes(data))
    os.utime(drops / "a.xlsx", (1_000, 1_000))  # the oldest: read first
    drop(drops, "b.csv", [row("B1")])
    report = run_feed(engine, feed)
    assert report.error is None and "B1" in stored_ids(engine)
    assert (drops / "failed" / "a.xlsx").exists() and (drops / "processed" / "b.csv").exists()
    with engine.connect() as connection:
        [failure] = connection.execute(select(quarantine).where(quarantine.c.location.startswith("a.xlsx"))).all()
    assert kind_of(failure.reason) == "unreadable" and "读取中断" in failure.reason


def test_a_file_being_written_while_runs_come_and_go_is_loaded_exactly_once(tmp_path):
    engine = warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    # Pauses of the upload stay well under the settle time; a stall longer than it in the middle of a line is
    # what settle_seconds (default 10 s) or a done_suffix marker is there for.
    feed = cases_feed(tmp_path, settle=3.0)
    path = tmp_path / "drops" / "upload.csv"
    total = 400
    written = threading.Event()

    def upload() -> None:  # one handle, as an FTP server writes: pauses shorter than the settle time
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(HEADER) + "\n")
            for n in range(total):
                line = ",".join(row(f"W{n:03d}")) + "\n"
                half = len(line) // 2
                handle.write(line[:half])  # a line half-written when a run looks
                handle.flush()
                time.sleep(0.002)
                handle.write(line[half:])
                handle.flush()
                if n % 50 == 0:
                    time.sleep(0.1)
        written.set()

    writer = threading.Thread(target=upload)
    writer.start()
    runs = []
    while not written.is_set():
        runs.append(run_feed(engine, feed))
        time.sleep(0.05)
    writer.join()
    time.sleep(3.1)  # settled
    runs.append(run_feed(engine, feed))
    assert stored_ids(engine) == [f"W{n:03d}" for n in range(total)]
    assert sum(run.counts.loaded for run in runs) == total  # each row loaded once, in one run
    half_read = [str(issue) for run in runs for issue in run.issues]
    assert half_read == []  # no half-written line was ever read
    assert (tmp_path / "drops" / "processed" / "upload.csv").exists()


def test_an_mqtt_reject_names_its_topic_and_device(mqtt_broker, tmp_path):
    host, port = mqtt_broker
    engine = warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    register_device(engine, "AIR-1", VILLAGE)
    topic = f"test/{uuid.uuid4().hex[:8]}"
    (tmp_path / "feeds.toml").write_text(
        mqtt_feed(port, topic.replace("/", "-"), topic, host=host, idle_seconds=1), encoding="utf-8"
    )
    feed = load_feeds(tmp_path / "feeds.toml")["sensors"]
    run_feed(engine, feed)  # the session and its subscription exist from here on
    now = datetime.now(UTC).isoformat()
    reading = {"metric": "pm25", "time": now, "value": 12}
    publish_all(host, port, [(f"{topic}/air/{d}", json.dumps({"device": d, **reading})) for d in ("AIR-1", "GHOST-9")])
    report = run_feed(engine, feed)
    assert report.counts.loaded == 1
    [issue] = report.issues
    assert issue.file == f"MQTT 主题 {topic}/air/GHOST-9，设备 GHOST-9，时间 {now}"
    assert issue.kind == "unknown device"


def test_etl_verify_finds_damaged_rollups_and_repairs_them(engine, tmp_path):
    feed = cases_feed(tmp_path)
    drop(tmp_path / "drops", "a.csv", [row(f"V{n}", hours_ago=n * 5) for n in range(10)])
    run_feed(engine, feed)
    assert verify_rollups(engine, days=7).differences == []
    with engine.begin() as connection:  # an incident: one village-day bucket lost a count
        connection.execute(
            update(rollups)
            .where(rollups.c.grain == "day", rollups.c.region_code == VILLAGE, rollups.c.measure == "cases.received")
            .values(count=rollups.c.count + 7)
        )
        version = current_version(connection)
    found = verify_rollups(engine, days=7)
    assert found.differences and not found.repaired
    assert {d.key[0] for d in found.differences} >= {"day"} and all(d.key[2] == VILLAGE for d in found.differences)
    assert all(d.kept[0] == d.recomputed[0] + 7 for d in found.differences if d.key[0] == "day")
    repaired = verify_rollups(engine, days=7, repair=True)
    assert repaired.repaired and len(repaired.differences) == len(found.differences)
    assert verify_rollups(engine, days=7).differences == []
    with engine.connect() as connection:
        assert current_version(connection) == version + 1  # screens' caches see the repair


def test_etl_verify_keeps_the_history_in_the_day_of_the_first_raw_row_and_checks_the_rest(engine, tmp_path):
    # A county imported its statistics by day up to the morning its detail begins: the day holding the first raw row
    # is partly history. Before, verify recomputed that day from its hours alone, reported the history as a
    # difference, and --repair deleted it.
    now = datetime.now(UTC)
    first = day_of(now) - timedelta(days=2) + timedelta(hours=10, minutes=30)  # 10:30 local, two days ago
    feed = cases_feed(tmp_path)
    hours_ago = [(now - first).total_seconds() / 3600 - n for n in (0, 1, 2, 3, 4, 24)]  # the last one a day later
    drop(tmp_path / "drops", "a.csv", [row(f"V{n}", hours_ago=h) for n, h in enumerate(hours_ago)])
    run_feed(engine, feed)
    received = (rollups.c.measure == "cases.received") & (rollups.c.dimension == "request")
    with engine.begin() as connection:  # the history: 3 cases the day before, 5 in the morning, at every level
        levels = connection.execute(select(rollups.c.region_code).where(received).distinct()).scalars().all()
        before = day_of(first) - timedelta(days=1)
        history = dict(measure="cases.received", dimension="request", total=3.0, min=None, max=None, count=3)
        connection.execute(
            insert(rollups), [{**history, "grain": "day", "bucket": before, "region_code": code} for code in levels]
        )
        if month_of(before) != month_of(first):
            connection.execute(
                insert(rollups),
                [{**history, "grain": "month", "bucket": month_of(before), "region_code": code} for code in levels],
            )
        earlier_this_month = 3 if month_of(before) == month_of(first) else 0
        for grain, bucket, more in (("day", day_of(first), 5), ("month", month_of(first), 5 + earlier_this_month)):
            where = received & (rollups.c.grain == grain) & (rollups.c.bucket == bucket)
            connection.execute(
                update(rollups).where(where).values(count=rollups.c.count + more, total=rollups.c.total + more)
            )
    found = verify_rollups(engine, days=7, repair=True, now=now)
    assert found.differences == [], found.differences[:5]
    assert found.history_until["cases"] == first.replace(second=0)
    first_day = received & (rollups.c.grain == "day") & (rollups.c.bucket == day_of(first))
    with engine.connect() as connection:
        assert set(connection.execute(select(rollups.c.count).where(first_day)).scalars()) == {5 + 5}
    # The first day's hours, the days after it and the month holding them are still checked, and repaired.
    later = day_of(first) + timedelta(days=1)
    with engine.begin() as connection:
        for grain, bucket in (("hour", hour_of(first)), ("day", later), ("month", month_of(first))):
            where = received & (rollups.c.grain == grain) & (rollups.c.bucket == bucket)
            connection.execute(update(rollups).where(where, rollups.c.region_code == VILLAGE).values(count=99))
    found = verify_rollups(engine, days=7, now=now, repair=True)
    assert sorted(d.key[0] for d in found.differences) == ["day", "hour", "month"], found.differences
    assert verify_rollups(engine, days=7, now=now).differences == []
    with engine.connect() as connection:
        month = received & (rollups.c.grain == "month") & (rollups.c.bucket == month_of(first))
        days = received & (rollups.c.grain == "day") & (rollups.c.bucket >= month_of(first))
        village = rollups.c.region_code == VILLAGE
        month_count = connection.execute(select(rollups.c.count).where(month, village)).scalar()
        assert month_count == connection.execute(select(func.sum(rollups.c.count)).where(days, village)).scalar()


def test_etl_verify_names_a_dataset_whose_rollups_have_no_raw_rows_and_leaves_them(engine, tmp_path):
    feed = cases_feed(tmp_path)
    drop(tmp_path / "drops", "a.csv", [row(f"V{n}", hours_ago=n * 5) for n in range(4)])
    run_feed(engine, feed)
    with engine.begin() as connection:
        connection.execute(cases.delete())  # an incident, or a warehouse holding imported statistics only
        kept = connection.execute(select(func.count()).where(rollups.c.measure.like("cases.%"))).scalar()
    found = verify_rollups(engine, days=7, repair=True)
    assert found.without_rows == {"cases": kept} and found.differences == []
    url = engine.url.render_as_string(hide_password=False)
    said = CliRunner().invoke(main, ["--var-dir", str(tmp_path / "var"), "--warehouse-url", url, "etl", "verify"])
    assert said.exit_code == 0 and f"cases 没有任何原始行，它在窗口内的 {kept} 条汇总无从重算，未核对" in said.output
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).where(rollups.c.measure.like("cases.%"))).scalar() == kept


def test_etl_verify_is_not_fooled_by_a_load_that_commits_while_it_runs(engine, tmp_path, monkeypatch):
    # `etl watch` goes on loading while an operator verifies. Before, verify read the kept rollups, a load committed,
    # and the recompute counted the new rows: every bucket they touched was listed as a difference (1,044 on the
    # demo at --days 400) and the command exited 1 on a sound warehouse.
    import etl.verify

    feed = cases_feed(tmp_path)
    drop(tmp_path / "drops", "a.csv", [row(f"V{n}", hours_ago=n * 5) for n in range(4)])
    run_feed(engine, feed)
    drop(tmp_path / "drops", "b.csv", [row(f"W{n}", hours_ago=n * 5 + 1) for n in range(4)])
    loads = []
    loader = threading.Thread(target=lambda: loads.append(run_feed(engine, feed)))
    recompute = etl.verify.recompute_rollups

    def with_a_load_meanwhile(*args, **kwargs):
        if not loader.is_alive() and not loads:
            loader.start()
            loader.join(timeout=2)  # long enough to commit, unless verify keeps loads waiting
        return recompute(*args, **kwargs)

    monkeypatch.setattr(etl.verify, "recompute_rollups", with_a_load_meanwhile)
    found = verify_rollups(engine, days=7)
    loader.join(timeout=60)
    assert found.differences == [], found.differences[:3]
    assert loads and loads[0].error is None and loads[0].counts.loaded == 4  # it waited, then loaded
    monkeypatch.setattr(etl.verify, "recompute_rollups", recompute)
    assert verify_rollups(engine, days=7).differences == []


def test_a_run_whose_process_died_reads_as_interrupted(tmp_path):
    engine = warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    feed = cases_feed(tmp_path)
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)  # a process id that no process has now
    from etl.runner import HOST

    with engine.begin() as connection:
        connection.execute(
            insert(feed_runs).values(
                feed="cases",
                started_at=datetime.now(UTC) - timedelta(minutes=5),
                status="running",
                rows_in=0,
                loaded=0,
                duplicates=0,
                quarantined=0,
                late=0,
                host=HOST,
                pid=dead,
            )
        )
    [state] = feed_status(engine, {"cases": feed})
    assert state.status == "中断"
    with engine.connect() as connection:
        run = connection.execute(select(feed_runs)).one()
    assert run.status == "interrupted" and run.finished_at is not None
