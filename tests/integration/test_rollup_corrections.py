"""Rollups follow a corrected row out of its old buckets: moved times, reopened cases, changed regions and
categories, checked against rollups computed independently from the raw rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from etl.datasets import datasets
from etl.feeds import load_feeds
from etl.regions import load_hierarchy
from etl.rollups import LOCAL, day_of, hour_of, month_of
from etl.runner import run_feed
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import cases, feed_freshness, feed_runs, feed_state, quarantine, rollups
from geo.hierarchy import HierarchyRead, RegionRecord

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
# Two counties, so that a corrected region can move a case from one county's buckets to another's.
VILLAGES = ("990199001001", "990199001002", "990199002001", "990198001001")
REGIONS = [
    RegionRecord("990199000000", "测试县", "county", "990100000000"),
    RegionRecord("990199001000", "东镇", "township", "990199000000"),
    RegionRecord("990199002000", "西镇", "township", "990199000000"),
    RegionRecord("990199001001", "甲村", "village", "990199001000"),
    RegionRecord("990199001002", "乙村", "village", "990199001000"),
    RegionRecord("990199002001", "丙村", "village", "990199002000"),
    RegionRecord("990198000000", "邻县", "county", "990100000000"),
    RegionRecord("990198001000", "南镇", "township", "990198000000"),
    RegionRecord("990198001001", "丁村", "village", "990198001000"),
]
FEEDS = """
[feeds.cases]
dataset = "cases"
cadence = "1h"
[feeds.cases.source]
type = "file"
path = "drops"
settle_seconds = 0
[feeds.cases.mapping]
case_id = "事件编号"
region_code = "村代码"
event_time = "受理时间"
category = "类别"
module = "模块"
status = "状态"
closed_at = "办结时间"
due_at = "办理期限"
rated_at = "评价时间"
satisfaction = "满意度"
"""
HEADER = ["事件编号", "村代码", "受理时间", "类别", "模块", "状态", "办结时间", "办理期限", "评价时间", "满意度"]
CATEGORIES = ("矛盾", "纠纷", "请求", "诉求")
MODULES = ("综合", "线上矛调", "信访投诉")


def local(hours_before_now: float) -> str:
    """A local (UTC+8) timestamp as county exports write it."""
    return (NOW - timedelta(hours=hours_before_now)).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")


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


@pytest.fixture
def feed(tmp_path):
    (tmp_path / "feeds.toml").write_text(FEEDS, encoding="utf-8")
    (tmp_path / "drops").mkdir()
    return load_feeds(tmp_path / "feeds.toml")["cases"]


class Cases:
    """Cases as a county's system holds them; each ``send`` drops the given ones as a file and loads it."""

    def __init__(self, engine, feed, folder):
        self.engine, self.feed, self.folder, self.files = engine, feed, folder, 0

    def send(self, *rows: dict) -> None:
        self.files += 1
        with open(self.folder / f"{self.files:04d}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for row in rows:
                writer.writerow([row.get(column, "") for column in HEADER])
        report = run_feed(self.engine, self.feed, now=lambda: NOW)
        assert report.error is None and report.counts.quarantined == 0, report.issues


def case(case_id: str, village: str, received: float, category: str = "矛盾", **more) -> dict:
    return {"事件编号": case_id, "村代码": village, "受理时间": local(received), "类别": category, "模块": "综合"} | {
        "状态": "受理",
        **more,
    }


def reference(engine) -> dict:
    """Every rollup computed from the raw rows by the measures' declarations alone (not the rollup code)."""
    dataset = datasets()["cases"]
    expected: dict = defaultdict(lambda: [0, 0.0])
    with engine.connect() as connection:
        raw = [dict(row) for row in connection.execute(select(cases)).mappings()]
    for row in raw:
        row.update({k: v.replace(tzinfo=UTC) for k, v in row.items() if isinstance(v, datetime) and v.tzinfo is None})
        code = row["region_code"]
        levels = (code, code[:9] + "000", code[:6] + "000000")
        for measure in dataset.measures:
            moment = row[measure.time]
            if moment is None or (measure.where and not measure.where(row)):
                continue
            dimension = str(row[measure.dimension]) if measure.dimension else ""
            value = float(row[measure.value]) if measure.value else 1.0
            for grain, bucket in (("hour", hour_of), ("day", day_of), ("month", month_of)):
                for region in levels:
                    entry = expected[(grain, bucket(moment).replace(tzinfo=None), region, measure.name, dimension)]
                    entry[0] += 1
                    entry[1] += value
    return {key: (count, total) for key, (count, total) in expected.items()}


def stored(engine) -> dict:
    """The rollups as kept, without empty buckets (a recompute may leave none, an addition never zero)."""
    with engine.connect() as connection:
        return {
            (r.grain, r.bucket.replace(tzinfo=None), r.region_code, r.measure, r.dimension): (r.count, r.total)
            for r in connection.execute(select(rollups).where(rollups.c.measure.startswith("cases.")))
            if r.count
        }


def assert_rollups_match(engine) -> None:
    kept, expected = stored(engine), reference(engine)
    assert kept.keys() == expected.keys(), (sorted(set(kept) - set(expected)), sorted(set(expected) - set(kept)))
    for key, (count, total) in expected.items():
        assert kept[key][0] == count and kept[key][1] == pytest.approx(total), key


def received_on(engine, day: datetime, region: str) -> int:
    return stored(engine).get(("day", day_of(day).replace(tzinfo=None), region, "cases.received", "conflict"), (0,))[0]


def test_a_case_moved_a_day_leaves_its_old_day(engine, feed, tmp_path):
    system = Cases(engine, feed, tmp_path / "drops")
    system.send(case("C1", VILLAGES[0], 30))
    old_day, new_day = NOW - timedelta(hours=30), NOW - timedelta(hours=54)
    assert received_on(engine, old_day, "990199000000") == 1
    system.send(case("C1", VILLAGES[0], 54))  # 受理时间 corrected: a day earlier
    assert received_on(engine, old_day, "990199000000") == 0
    assert received_on(engine, new_day, "990199000000") == 1
    assert_rollups_match(engine)


def test_a_reopened_case_is_no_longer_closed(engine, feed, tmp_path):
    system = Cases(engine, feed, tmp_path / "drops")
    system.send(case("C2", VILLAGES[1], 20, 状态="办结", 办结时间=local(2)))
    closed = ("day", day_of(NOW - timedelta(hours=2)).replace(tzinfo=None), "990199001000", "cases.closed", "conflict")
    assert stored(engine)[closed] == (1, 1.0)
    system.send(case("C2", VILLAGES[1], 20, 状态="处置中"))  # 办结 → 处置中, 办结时间 cleared
    assert closed not in stored(engine)
    assert_rollups_match(engine)


def test_a_case_moved_to_another_county_leaves_the_first(engine, feed, tmp_path):
    system = Cases(engine, feed, tmp_path / "drops")
    system.send(case("C3", VILLAGES[2], 5, "请求"))
    system.send(case("C3", VILLAGES[3], 5, "请求"))
    counties = {key[2] for key in stored(engine) if key[2].endswith("000000")}
    assert counties == {"990198000000"}
    assert_rollups_match(engine)


# One step of a county's corrections: which case, and what happens to it.
STEPS = st.lists(
    st.tuples(
        st.integers(0, 5),  # case number
        st.sampled_from(["send", "move", "close", "reopen", "rate", "region", "category", "module"]),
        st.integers(1, 80),  # hours before now (received, closed, rated …)
        st.integers(0, 3),  # a village, a category or a module
    ),
    min_size=1,
    max_size=12,
)


def apply(state: dict, step: tuple) -> dict:
    """The case after one step, as the county's system would send it again."""
    number, action, hours, choice = step
    row = dict(state.get(number) or case(f"P{number}", VILLAGES[choice], hours, CATEGORIES[choice]))
    received = (NOW - datetime.strptime(row["受理时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=LOCAL)).total_seconds()
    received_hours = received / 3600
    if action == "move":
        row["受理时间"] = local(hours)
    elif action == "close":
        row.update(状态="办结", 办结时间=local(min(hours, received_hours)), 办理期限=local(max(1, received_hours - 12)))
    elif action == "reopen":
        row.update(状态="处置中", 办结时间="", 评价时间="", 满意度="")
    elif action == "rate" and row.get("办结时间"):
        row.update(状态="评价", 评价时间=local(0.5), 满意度=str(choice + 2))
    elif action == "region":
        row["村代码"] = VILLAGES[choice]
    elif action == "category":
        row["类别"] = CATEGORIES[choice]
    elif action == "module":
        row["模块"] = MODULES[choice % len(MODULES)]
    state[number] = row
    return row


def reset(engine) -> None:
    with engine.begin() as connection:
        for table in (cases, rollups, feed_state, feed_runs, feed_freshness, quarantine):
            connection.execute(delete(table))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_any_sequence_of_corrections_keeps_rollups_equal_to_the_raw_rows(database, request, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    engine = warehouse(url)
    (tmp_path / "feeds.toml").write_text(FEEDS, encoding="utf-8")
    feed = load_feeds(tmp_path / "feeds.toml")["cases"]
    folder = tmp_path / "drops"
    folder.mkdir()

    @settings(
        max_examples=30 if database == "sqlite" else 12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=STEPS, batch=st.integers(1, 3))
    def check(steps, batch):
        reset(engine)
        system, state = Cases(engine, feed, folder), {}
        pending: dict[int, dict] = {}
        for position, step in enumerate(steps, start=1):
            pending[step[0]] = apply(state, step)
            if position % batch == 0 or position == len(steps):
                system.send(*pending.values())  # several corrections of one case in a file: the last stands
                pending = {}
        assert_rollups_match(engine)

    try:
        check()
    finally:
        engine.dispose()
