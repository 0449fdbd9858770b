"""Feed runs end to end on real files and real databases: reconciliation, idempotence, rollups, late data."""

from __future__ import annotations

import csv
import os
import re
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from etl.feeds import load_feeds
from etl.regions import load_hierarchy
from etl.rollups import day_of, hour_of, month_of
from etl.runner import run_feed
from etl.warehouse.db import current_version, make_engine, migrate
from etl.warehouse.schema import cases, device_latest, feed_freshness, feed_runs, quarantine, readings, rollups
from geo.hierarchy import HierarchyRead, RegionRecord
from geo.issues import Issue, kind_of

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
COUNTY, TOWN_A, TOWN_B = "990199000000", "990199001000", "990199002000"
VILLAGE_A1, VILLAGE_A2, VILLAGE_B1 = "990199001001", "990199001002", "990199002001"

FEEDS = """
[feeds.cases]
dataset = "cases"
cadence = "1h"
[feeds.cases.source]
type = "file"
settle_seconds = 0
path = "drops/cases"
pattern = "*.csv"
[feeds.cases.mapping]
case_id = "事件编号"
region_code = "村代码"
event_time = "受理时间"
category = "类别"
module = "=综合"
title = "标题"
status = "状态"
closed_at = "办结时间"
satisfaction = "满意度"

[feeds.sensors]
dataset = "readings"
cadence = "5m"
[feeds.sensors.source]
type = "file"
settle_seconds = 0
path = "drops/sensors"
[feeds.sensors.mapping]
device_id = "device"
metric = "metric"
event_time = "time"
value = "value"

[feeds.devices]
dataset = "devices"
cadence = "1d"
[feeds.devices.source]
type = "file"
settle_seconds = 0
path = "drops/devices"
[feeds.devices.mapping]
device_id = "id"
kind = "kind"
region_code = "village"
event_time = "installed"
"""

CASE_HEADER = ["事件编号", "村代码", "受理时间", "类别", "标题", "状态", "办结时间", "满意度"]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    records = [
        RegionRecord(COUNTY, "测试县", "county", "990100000000"),
        RegionRecord(TOWN_A, "东镇", "township", COUNTY),
        RegionRecord(TOWN_B, "西镇", "township", COUNTY),
        RegionRecord(VILLAGE_A1, "甲村", "village", TOWN_A),
        RegionRecord(VILLAGE_A2, "乙村", "village", TOWN_A),
        RegionRecord(VILLAGE_B1, "丙村", "village", TOWN_B),
    ]
    load_hierarchy(engine, HierarchyRead(records, []), source="test")
    yield engine
    engine.dispose()


@pytest.fixture
def feeds(tmp_path):
    (tmp_path / "feeds.toml").write_text(FEEDS, encoding="utf-8")
    for name in ("cases", "sensors", "devices"):
        (tmp_path / "drops" / name).mkdir(parents=True)
    return load_feeds(tmp_path / "feeds.toml")


def drop(tmp_path, feed: str, name: str, header: list[str], rows: list[list], encoding: str = "utf-8") -> None:
    with open(tmp_path / "drops" / feed / name, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def t(hours_before_now: float) -> str:
    """A local (UTC+8) timestamp as county exports write it, some hours before NOW."""
    return (NOW - timedelta(hours=hours_before_now)).astimezone(timezone_cst()).strftime("%Y-%m-%d %H:%M:%S")


def timezone_cst():
    from etl.rollups import LOCAL

    return LOCAL


def case_rows() -> list[list]:
    return [
        ["C1", VILLAGE_A1, t(30), "矛盾", "邻里纠纷", "办结", t(5), "5"],
        ["C2", VILLAGE_A2, t(20), "纠纷", "土地界址", "受理", "", ""],
        ["C3", VILLAGE_B1, t(3), "请求", "<script>alert(1)</script>路灯", "处置中", "", ""],  # kept as text
        ["C4", "990199009009", t(3), "诉求", "未知村", "受理", "", ""],  # unknown region
        ["C5", VILLAGE_A1, t(3), "投诉", "类别错", "受理", "", ""],  # not a category
        ["C6", VILLAGE_A1, t(3), "请求", "满意度坏", "办结", t(1), "很好"],  # not a number
        ["C7", VILLAGE_A1, t(-5), "请求", "未来", "受理", "", ""],  # 5 h in the future
        ["C8", "99019900100X", t(3), "请求", "坏代码", "受理", "", ""],  # bad code
        ["C9", VILLAGE_A1, "", "请求", "无时间", "受理", "", ""],  # required time missing
        ["C1", VILLAGE_A1, t(30), "矛盾", "邻里纠纷", "办结", t(5), "5"],  # same row twice in a file
    ]


def test_every_bad_row_is_quarantined_with_its_reason_and_counts_reconcile(engine, feeds, tmp_path):
    drop(tmp_path, "cases", "cases_0310.csv", CASE_HEADER, case_rows(), encoding="gbk")
    report = run_feed(engine, feeds["cases"], now=lambda: NOW)
    counts = report.counts
    assert report.error is None
    assert (counts.rows_in, counts.loaded, counts.duplicates, counts.quarantined) == (10, 3, 1, 6)
    assert counts.rows_in == counts.loaded + counts.duplicates + counts.quarantined
    with engine.connect() as connection:
        kept = {row.location: row for row in connection.execute(select(quarantine))}
        title = connection.execute(select(cases.c.title).where(cases.c.case_id == "C3")).scalar()
        run = connection.execute(select(feed_runs)).one()
    assert title == "<script>alert(1)</script>路灯"
    rows = {location.split("第 ")[1].split(" 行")[0]: row for location, row in kept.items()}
    reasons = {number: (row.field, kind_of(row.reason)) for number, row in rows.items()}
    assert reasons == {
        "5": ("村代码", "unknown region"),
        "6": ("类别", "invalid value"),
        "7": ("满意度", "invalid value"),
        "8": ("受理时间", "future time"),
        "9": ("村代码", "bad region code"),
        "10": ("受理时间", "invalid value"),
    }
    assert all(location.startswith("cases_0310.csv，第 ") for location in kept)
    assert "类别错" in kept["cases_0310.csv，第 6 行"].raw
    assert (run.status, run.rows_in, run.loaded, run.duplicates, run.quarantined) == ("ok", 10, 3, 1, 6)
    assert (tmp_path / "drops" / "cases" / "processed" / "cases_0310.csv").exists()


def rollup_table(engine) -> dict:
    with engine.connect() as connection:
        return {
            (r.grain, r.bucket.replace(tzinfo=None), r.region_code, r.measure, r.dimension): (
                r.count,
                r.total,
                r.min,
                r.max,
            )
            for r in connection.execute(select(rollups))
        }


def test_rerun_is_idempotent_and_rollups_match_a_recomputation(engine, feeds, tmp_path):
    drop(tmp_path, "cases", "a.csv", CASE_HEADER, case_rows())
    run_feed(engine, feeds["cases"], now=lambda: NOW)
    with engine.connect() as connection:
        first_rows = sorted(
            tuple(r) for r in connection.execute(select(cases.c.case_id, cases.c.status, cases.c.closed_at))
        )
        version = current_version(connection)
    first_rollups = rollup_table(engine)
    drop(tmp_path, "cases", "b.csv", CASE_HEADER, case_rows())  # the same export delivered again
    report = run_feed(engine, feeds["cases"], now=lambda: NOW + timedelta(minutes=5))
    # The bad rows are in the quarantine already: duplicates now, C7 (5 h ahead of a clock 5 min on) too, though its
    # reason names another time (a row in the future made a new entry at every run).
    assert (report.counts.loaded, report.counts.duplicates, report.counts.quarantined) == (0, 10, 0)
    with engine.connect() as connection:
        assert (
            sorted(tuple(r) for r in connection.execute(select(cases.c.case_id, cases.c.status, cases.c.closed_at)))
            == first_rows
        )
        assert current_version(connection) == version + 1
    assert rollup_table(engine) == first_rollups

    # Hand-recomputed from the three loaded cases: received by category, at every level, per hour, day, month.
    expected = defaultdict(int)
    for _case_id, village, hours, category in (
        ("C1", VILLAGE_A1, 30, "conflict"),
        ("C2", VILLAGE_A2, 20, "dispute"),
        ("C3", VILLAGE_B1, 3, "request"),
    ):
        moment = NOW - timedelta(hours=hours)
        for code in (village, village[:9] + "000", COUNTY):
            expected[("hour", hour_of(moment).replace(tzinfo=None), code, "cases.received", category)] += 1
            expected[("day", day_of(moment).replace(tzinfo=None), code, "cases.received", category)] += 1
            expected[("month", month_of(moment).replace(tzinfo=None), code, "cases.received", category)] += 1
    received = {k: v[0] for k, v in first_rollups.items() if k[3] == "cases.received"}
    assert received == dict(expected)
    closed = {k: v[0] for k, v in first_rollups.items() if k[3] == "cases.closed" and k[0] == "day"}
    assert closed == {
        ("day", day_of(NOW - timedelta(hours=5)).replace(tzinfo=None), c, "cases.closed", "conflict"): 1
        for c in (VILLAGE_A1, TOWN_A, COUNTY)
    }


def test_a_status_change_updates_the_row_and_its_buckets(engine, feeds, tmp_path):
    drop(tmp_path, "cases", "a.csv", CASE_HEADER, [["C2", VILLAGE_A2, t(20), "纠纷", "土地界址", "受理", "", ""]])
    run_feed(engine, feeds["cases"], now=lambda: NOW)
    drop(tmp_path, "cases", "b.csv", CASE_HEADER, [["C2", VILLAGE_A2, t(20), "纠纷", "土地界址", "办结", t(1), "4"]])
    report = run_feed(engine, feeds["cases"], now=lambda: NOW)
    assert (report.counts.loaded, report.counts.duplicates) == (1, 0)
    closed = {k[2]: v for k, v in rollup_table(engine).items() if k[3] == "cases.closed" and k[0] == "hour"}
    assert closed == {code: (1, 1.0, None, None) for code in (VILLAGE_A2, TOWN_A, COUNTY)}


def load_two_devices(engine, feeds, tmp_path) -> int:
    """A bin in 甲村 and an air sensor in 丙村, through the devices feed; returns the rows loaded."""
    drop(
        tmp_path,
        "devices",
        "d.csv",
        ["id", "kind", "village", "installed"],
        [["BIN-1", "垃圾桶", VILLAGE_A1, "2025-01-01"], ["AIR-1", "空气监测", VILLAGE_B1, "2025-01-01"]],
    )
    return run_feed(engine, feeds["devices"], now=lambda: NOW).counts.loaded


def test_readings_late_data_and_ranges(engine, feeds, tmp_path):
    assert load_two_devices(engine, feeds, tmp_path) == 2
    header = ["device", "metric", "time", "value"]
    drop(
        tmp_path,
        "sensors",
        "s1.csv",
        header,
        [
            ["BIN-1", "fill_level", t(1), "40"],
            ["BIN-1", "fill_level", t(0.5), "60"],
            ["AIR-1", "pm25", t(0.5), "35"],
            ["AIR-1", "pm25", t(0.4), "NaN"],  # not a finite number
            ["AIR-1", "pm25", t(0.3), "-3"],  # out of range
            ["GHOST", "pm25", t(0.3), "3"],  # unknown device
        ],
    )
    first = run_feed(engine, feeds["sensors"], now=lambda: NOW)
    assert (first.counts.loaded, first.counts.quarantined, first.counts.late) == (3, 3, 0)
    drop(
        tmp_path,
        "sensors",
        "s2.csv",
        header,
        [
            ["BIN-1", "fill_level", t(10), "20"],  # 10 h late: accepted, its bucket recomputed
            ["BIN-1", "fill_level", t(60), "20"],  # 60 h late: beyond the 48 h window
        ],
    )
    second = run_feed(engine, feeds["sensors"], now=lambda: NOW)
    assert (second.counts.loaded, second.counts.quarantined, second.counts.late) == (1, 1, 1)
    table = rollup_table(engine)
    late_hour = hour_of(NOW - timedelta(hours=10)).replace(tzinfo=None)
    assert table[("hour", late_hour, TOWN_A, "reading.fill_level", "")] == (1, 20.0, 20.0, 20.0)
    hour = hour_of(NOW - timedelta(hours=1)).replace(tzinfo=None)
    assert table[("hour", hour, COUNTY, "reading.fill_level", "")] == (2, 100.0, 40.0, 60.0)
    day = day_of(NOW).replace(tzinfo=None)
    assert table[("day", day, COUNTY, "reading.fill_level", "")] == (3, 120.0, 20.0, 60.0)
    with engine.connect() as connection:
        assert (
            connection.execute(select(readings.c.region_code).where(readings.c.device_id == "AIR-1")).scalar()
            == VILLAGE_B1
        )
        fresh = dict(
            connection.execute(
                select(feed_freshness.c.region_code, feed_freshness.c.last_event_time).where(
                    feed_freshness.c.feed == "sensors"
                )
            ).all()
        )
    assert set(fresh) == {VILLAGE_A1, VILLAGE_B1}
    with engine.connect() as connection:
        latest = dict(connection.execute(select(device_latest.c.device_id, device_latest.c.value)).all())
    assert latest == {"BIN-1": 60.0, "AIR-1": 35.0}  # the late reading did not replace the newest one


def test_a_renamed_column_quarantines_the_rows_and_says_which(engine, feeds, tmp_path):
    header = ["编号", "村代码", "受理时间", "类别", "标题", "状态", "办结时间", "满意度"]  # 事件编号 renamed
    drop(tmp_path, "cases", "renamed.csv", header, [["C1", VILLAGE_A1, t(3), "矛盾", "x", "受理", "", ""]])
    report = run_feed(engine, feeds["cases"], now=lambda: NOW)
    assert (report.counts.rows_in, report.counts.quarantined) == (1, 1)
    issue = report.issues[0]
    assert issue.kind == "missing column" and "没有列 '事件编号'（case_id）" in issue.detail


def test_quarantine_retry_loads_rows_whose_region_was_imported_since(engine, feeds, tmp_path):
    from etl.runner import retry_quarantine

    drop(tmp_path, "cases", "a.csv", CASE_HEADER, case_rows())
    run_feed(engine, feeds["cases"], now=lambda: NOW)
    extra = [
        RegionRecord("990199009000", "新镇", "township", COUNTY),
        RegionRecord("990199009009", "新村", "village", "990199009000"),
    ]
    load_hierarchy(engine, HierarchyRead(extra, []), source="test")
    report = retry_quarantine(engine, feeds["cases"], now=lambda: NOW)
    assert (report.counts.rows_in, report.counts.loaded, report.counts.quarantined) == (6, 1, 5)
    again = retry_quarantine(engine, feeds["cases"], now=lambda: NOW)  # only the re-quarantined ones remain
    assert (again.counts.rows_in, again.counts.loaded, again.counts.quarantined) == (5, 0, 5)
    with engine.connect() as connection:
        assert connection.execute(select(cases.c.region_code).where(cases.c.case_id == "C4")).scalar() == "990199009009"
        kept = connection.execute(
            select(quarantine.c.raw, quarantine.c.retried_at).where(quarantine.c.source == "cases")
        ).all()
    # Each retry quarantined the rows that failed again anew, and kept the earlier copies too: a retry every hour
    # multiplied the quarantine. A row that failed again is there once, with its latest reason; the row that
    # loaded stays, marked retried.
    assert len(kept) == 6 and len({raw for raw, _ in kept}) == 6
    assert sum(retried is not None for _, retried in kept) == 1


def test_cli_run_status_and_quarantine_list(tmp_path):
    from click.testing import CliRunner

    from etl.cli import main

    (tmp_path / "feeds.toml").write_text(FEEDS.replace('path = "drops/', 'path = "{var_dir}/drops/'), encoding="utf-8")
    var = tmp_path / "var"
    (var / "drops" / "cases").mkdir(parents=True)
    (tmp_path / "codes.csv").write_text(
        "code,name\n990199,测试县\n990199001,东镇\n990199001001,甲村\n990199001002,乙村\n990199002,西镇\n990199002001,丙村\n",
        encoding="utf-8",
    )
    base = ["--var-dir", str(var)]
    runner = CliRunner()
    env = {"FEEDS_FILE": str(tmp_path / "feeds.toml")}
    assert runner.invoke(main, [*base, "geo", "import", str(tmp_path / "codes.csv")], env=env).exit_code == 0
    local = datetime.now(UTC).astimezone(timezone_cst())
    when = {"C7": local + timedelta(hours=5), "C9": None}  # keep the future and the missing time bad
    rows = []
    for row in case_rows():
        moment = when.get(row[0], local - timedelta(hours=1))
        rows.append([*row[:2], moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "", *row[3:]])
    with open(var / "drops" / "cases" / "c.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([CASE_HEADER, *rows])
    result = runner.invoke(main, [*base, "etl", "run", "cases"], env=env)
    assert result.exit_code == 0, result.output
    assert "cases：输入 10 行 = 导入 3 + 重复 1 + 隔离 6" in result.output
    assert re.search(r"· cases：10 行 · 1 批 · [\d,]+ 行/秒 · 100%", result.output)  # progress, not a terminal
    assert "隔离：c.csv，第 5 行，字段「村代码」：区划未知 [unknown region]" in result.output
    strict = runner.invoke(main, [*base, "etl", "run", "cases", "--strict"], env=env)
    assert strict.exit_code == 0, strict.output  # nothing new arrived, nothing was quarantined
    status = runner.invoke(main, [*base, "etl", "status"], env=env)
    line = next(line for line in status.output.splitlines() if line.startswith("cases"))
    assert line.split()[3:9] == ["成功", "0", "0", "0", "0", "0"] and line.endswith("正常")
    assert re.search(r"^devices +从未运行 .*参考数据$", status.output, re.M)
    listed = runner.invoke(main, [*base, "etl", "quarantine", "list", "--feed", "cases"], env=env)
    assert listed.output.count("cases：c.csv，第 ") == 6
    unknown = runner.invoke(main, [*base, "etl", "run", "nosuch"], env=env)
    assert unknown.exit_code != 0 and "没有这些数据源：nosuch" in unknown.output
    with open(var / "drops" / "cases" / "d.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([CASE_HEADER, case_rows()[3]])  # an unknown village
    strict = runner.invoke(main, [*base, "etl", "run", "--strict"], env=env)
    assert strict.exit_code == 1 and "隔离 1" in strict.output


def test_bad_files_mixed_with_good_ones_reconcile_and_nothing_is_lost(engine, feeds, tmp_path):
    good = case_rows()[:3]
    drop(tmp_path, "cases", "1_good.csv", CASE_HEADER, good, encoding="gb18030")
    folder = tmp_path / "drops" / "cases"
    (folder / "2_empty.csv").write_bytes(b"")
    (folder / "3_noise.csv").write_bytes(bytes(range(0x80, 0x100)) * 4)  # neither UTF-8, GBK nor UTF-16
    lines = [",".join(CASE_HEADER), ",".join(str(v) for v in case_rows()[1])]
    (folder / "4_truncated.csv").write_text("\n".join(lines)[:-12], encoding="utf-8")  # last row cut short
    report = run_feed(engine, feeds["cases"], now=lambda: NOW)
    counts = report.counts
    assert counts.rows_in == counts.loaded + counts.duplicates + counts.quarantined
    assert counts.loaded == 3
    kinds = {(issue.file, issue.kind) for issue in report.issues}
    assert ("2_empty.csv", "empty file") in kinds
    assert ("3_noise.csv", "encoding") in kinds
    assert ("4_truncated.csv", "truncated row") in kinds
    with engine.connect() as connection:
        stored = connection.execute(select(quarantine.c.location, quarantine.c.reason)).all()
    assert len(stored) == counts.quarantined and all(row.reason for row in stored)
    assert (folder / "failed" / "3_noise.csv").exists() and (folder / "processed" / "1_good.csv").exists()


def _recomputed_from_scratch(engine) -> dict:
    """Every rollup rebuilt from the raw rows alone (the slow path), as rollup_table gives them."""
    from sqlalchemy import delete

    from etl.datasets import datasets
    from etl.rollups import recompute_rollups, touched_buckets

    with engine.begin() as connection:
        connection.execute(delete(rollups))
        for dataset in datasets().values():
            rows = [dict(r) for r in connection.execute(select(dataset.table)).mappings()]
            for row in rows:
                for column, value in row.items():
                    if isinstance(value, datetime) and value.tzinfo is None:
                        row[column] = value.replace(tzinfo=UTC)
            recompute_rollups(connection, dataset, touched_buckets(dataset, rows))
    return rollup_table(engine)


def test_rollups_kept_by_adding_batches_equal_a_recomputation_from_raw_rows(engine, feeds, tmp_path):
    load_two_devices(engine, feeds, tmp_path)
    header = ["device", "metric", "time", "value"]
    batches = [
        [["BIN-1", "fill_level", t(h / 4), str(10 + h)] for h in range(40, 0, -1)],  # ten hours, one batch
        [["BIN-1", "fill_level", t(0.1), "90"], ["AIR-1", "pm25", t(0.1), "12.5"]],  # new rows into a used hour
        [["BIN-1", "fill_level", t(30), "5"], ["AIR-1", "pm25", t(26), "80"]],  # late, into other days
        [["BIN-1", "fill_level", t(0.1), "95"], ["AIR-1", "pm25", t(0.05), "7"]],  # one corrected, one new
    ]
    for number, rows in enumerate(batches):
        drop(tmp_path, "sensors", f"s{number}.csv", header, rows)
        run_feed(engine, feeds["sensors"], now=lambda: NOW)
    drop(tmp_path, "cases", "a.csv", CASE_HEADER, case_rows())
    run_feed(engine, feeds["cases"], now=lambda: NOW)
    closing = [["C2", VILLAGE_A2, t(20), "纠纷", "土地界址", "办结", t(1), "4"]]  # a change: C2 closed
    drop(tmp_path, "cases", "b.csv", CASE_HEADER, closing + [["C10", VILLAGE_B1, t(2), "请求", "新", "受理", "", ""]])
    run_feed(engine, feeds["cases"], now=lambda: NOW)

    kept = rollup_table(engine)
    assert {key[0] for key in kept} == {"hour", "day", "month"}
    assert kept[("day", day_of(NOW).replace(tzinfo=None), COUNTY, "reading.fill_level", "")][2:] == (11.0, 95.0)
    rebuilt = _recomputed_from_scratch(engine)
    assert kept.keys() == rebuilt.keys()
    for key, (count, total, low, high) in rebuilt.items():
        assert kept[key] == (count, pytest.approx(total), low, high), key


def test_a_feed_keeps_its_latest_runs_only_so_a_watch_polling_every_few_seconds_does_not_grow_without_end(
    engine, feeds, tmp_path, monkeypatch
):
    # `etl watch` writes a run per poll (a sensor feed: one every few seconds, about 17,000 a day): the history
    # of runs has a bound like every other write path. A smaller bound stands in for KEPT_RUNS here.
    monkeypatch.setattr("etl.runner.KEPT_RUNS", 3)
    monkeypatch.setattr("etl.runner.TRIM_EVERY", 1)  # every run trims (in service: the first, then one in 100)
    drop(tmp_path, "devices", "d.csv", ["id", "kind", "village", "installed"], [["D1", "air", VILLAGE_A1, t(50)]])
    run_feed(engine, feeds["devices"], now=lambda: NOW)
    ids = []
    for number in range(6):
        drop(
            tmp_path,
            "cases",
            f"c{number}.csv",
            CASE_HEADER,
            [[f"K{number}", VILLAGE_A1, t(3), "请求", "路灯", "受理", "", ""]],
        )
        ids.append(run_feed(engine, feeds["cases"], now=lambda: NOW).run_id)
    with engine.connect() as connection:
        kept = connection.execute(select(feed_runs.c.feed, feed_runs.c.id).order_by(feed_runs.c.id)).all()
        loaded = connection.execute(select(cases.c.case_id).order_by(cases.c.case_id)).scalars().all()
    assert [run_id for feed, run_id in kept if feed == "cases"] == ids[-3:]
    assert [feed for feed, _ in kept].count("devices") == 1  # another feed's history is its own
    assert loaded == [f"K{number}" for number in range(6)]  # the runs' data stays, only their log is trimmed


def test_status_shows_no_lag_for_reference_data(engine, feeds, tmp_path):
    # A device installed three years ago is not data three years late: lag measures live feeds only, and a
    # reference feed's "1285天14小时" read as an alarm beside its 参考数据.
    from etl.status import feed_status

    drop(tmp_path, "devices", "d.csv", ["id", "kind", "village", "installed"], [["D1", "air", VILLAGE_A1, t(26000)]])
    drop(tmp_path, "sensors", "s.csv", ["device", "metric", "time", "value"], [["D1", "pm25", t(2), "35"]])
    for name in ("devices", "sensors"):
        assert run_feed(engine, feeds[name], now=lambda: NOW).counts.loaded == 1
    states = {state.feed: state for state in feed_status(engine, feeds, now=NOW)}
    assert states["devices"].freshness == "参考数据" and states["devices"].lag is None
    assert states["sensors"].lag == "2小时"  # a live feed's lag stays
    with engine.connect() as connection:
        lags = dict(connection.execute(select(feed_runs.c.feed, feed_runs.c.lag_seconds)).all())
    assert lags["devices"] is None and lags["sensors"] == 7200  # what etl run and etl watch print after a run


def test_a_retried_row_failing_for_another_reason_keeps_its_first_reason(engine, feeds, tmp_path):
    # A message that was no JSON object fails a retry as a record with a missing column: deleting its entry
    # would lose why it was quarantined in the first place.
    from etl.quarantine import record_issues
    from etl.runner import retry_quarantine

    first = Issue("MQTT 主题 x", "第 2 项", "payload", "not an object", "应为 JSON 对象，收到的是 int", {"item": 2})
    with engine.begin() as connection:
        record_issues(connection, "cases", [first])
    report = retry_quarantine(engine, feeds["cases"], now=lambda: NOW)
    assert report.counts.quarantined == 1
    with engine.connect() as connection:
        kept = connection.execute(
            select(quarantine.c.reason, quarantine.c.retried_at).where(quarantine.c.source == "cases")
        ).all()
    assert len(kept) == 2
    assert [reason for reason, retried in kept if retried is not None] == [first.reason]


def test_a_bad_row_read_again_is_quarantined_once(engine, feeds, tmp_path):
    # A SQL feed reads its boundary row again on every poll (since >= watermark): a bad one was quarantined
    # again each time, a row every few seconds for ever. Read again, it counts as a duplicate.
    bad = [["Q1", "990199009009", t(3), "请求", "未知村", "受理", "", ""]]
    drop(tmp_path, "cases", "a.csv", CASE_HEADER, bad)
    first = run_feed(engine, feeds["cases"], now=lambda: NOW)
    drop(tmp_path, "cases", "b.csv", CASE_HEADER, bad)
    again = run_feed(engine, feeds["cases"], now=lambda: NOW)
    assert (first.counts.quarantined, first.counts.duplicates) == (1, 0)
    assert (again.counts.rows_in, again.counts.quarantined, again.counts.duplicates) == (1, 0, 1)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(quarantine)).scalar() == 1


def test_a_device_registered_while_a_run_goes_on_is_known_to_its_next_batch(engine, feeds, tmp_path):
    """A long run (an `etl watch` MQTT run lasts a minute) read the device registry once at its start: a device
    the devices feed registered meanwhile had its readings quarantined as unknown until the next run."""
    assert load_two_devices(engine, feeds, tmp_path) == 2
    header = ["device", "metric", "time", "value"]
    drop(tmp_path, "sensors", "s1.csv", header, [["BIN-1", "fill_level", t(2), "40"]])
    drop(tmp_path, "sensors", "s2.csv", header, [["BIN-2", "fill_level", t(1), "70"], ["GHOST", "pm25", t(1), "3"]])
    os.utime(tmp_path / "drops" / "sensors" / "s2.csv", (time.time() + 5, time.time() + 5))  # read second

    registered = []

    def register_after_first_batch(counts, batch) -> None:
        if counts.loaded == 1 and not registered:  # the first file is in: a new bin is registered before the second
            registered.append(True)
            drop(
                tmp_path,
                "devices",
                "d2.csv",
                ["id", "kind", "village", "installed"],
                [["BIN-2", "垃圾桶", VILLAGE_A2, "2025-01-02"]],
            )
            assert run_feed(engine, feeds["devices"], now=lambda: NOW).counts.loaded == 1

    report = run_feed(engine, feeds["sensors"], now=lambda: NOW, progress=register_after_first_batch)
    assert (report.counts.loaded, report.counts.quarantined) == (2, 1)  # only GHOST stays unknown
    with engine.connect() as connection:
        stored = connection.execute(select(readings.c.region_code).where(readings.c.device_id == "BIN-2")).scalar()
        reasons = connection.execute(select(quarantine.c.reason)).scalars().all()
    assert stored == VILLAGE_A2
    assert len(reasons) == 1 and "GHOST" in reasons[0]
