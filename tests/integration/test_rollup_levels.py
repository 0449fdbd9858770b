"""Prefecture and province rollups, combined from their counties' rollups, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from etl.feeds import load_feeds
from etl.regions import load_hierarchy
from etl.rollups import day_of, hour_of
from etl.runner import run_feed
from etl.warehouse.db import make_engine, migrate
from geo.hierarchy import HierarchyRead, RegionRecord
from tests.integration.test_runner import CASE_HEADER, FEEDS, NOW, drop, rollup_table, t

pytestmark = pytest.mark.integration
PROVINCE, PREFECTURE = "990000000000", "990100000000"
COUNTY_A, COUNTY_B = "990101000000", "990102000000"
VILLAGE_A, VILLAGE_B = "990101001001", "990102001001"


@pytest.fixture(params=["sqlite", "postgresql"])
def province(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    records = [RegionRecord(PROVINCE, "示范省", "province", None), RegionRecord(PREFECTURE, "示范市", "city", PROVINCE)]
    for county, village, name in ((COUNTY_A, VILLAGE_A, "甲"), (COUNTY_B, VILLAGE_B, "乙")):
        township = county[:6] + "001000"
        records += [
            RegionRecord(county, f"{name}县", "county", PREFECTURE),
            RegionRecord(township, f"{name}镇", "township", county),
            RegionRecord(village, f"{name}村", "village", township),
        ]
    load_hierarchy(engine, HierarchyRead(records, []), source="test")
    (tmp_path / "feeds.toml").write_text(FEEDS, encoding="utf-8")
    (tmp_path / "drops" / "cases").mkdir(parents=True)
    yield engine, load_feeds(tmp_path / "feeds.toml")["cases"]
    engine.dispose()


def _received(engine, grain: str, bucket) -> dict[str, int]:
    """cases.received counts of one bucket by region code (all categories together)."""
    found: dict[str, int] = {}
    for (row_grain, row_bucket, code, measure, _dimension), (count, *_rest) in rollup_table(engine).items():
        if row_grain == grain and row_bucket == bucket.replace(tzinfo=None) and measure == "cases.received":
            found[code] = found.get(code, 0) + count
    return found


def test_prefecture_and_province_sum_their_counties_and_follow_a_load_of_one(province, tmp_path):
    engine, cases = province
    rows = [
        ["A1", VILLAGE_A, t(2), "矛盾", "甲县的事", "受理", "", ""],
        ["A2", VILLAGE_A, t(2), "纠纷", "甲县的事", "受理", "", ""],
        ["B1", VILLAGE_B, t(2), "请求", "乙县的事", "受理", "", ""],
    ]
    drop(tmp_path, "cases", "1.csv", CASE_HEADER, rows)
    assert run_feed(engine, cases, now=lambda: NOW).counts.loaded == 3
    hour, day = hour_of(_at(2)), day_of(_at(2))
    expected = {COUNTY_A: 2, COUNTY_B: 1, PREFECTURE: 3, PROVINCE: 3}
    for grain, bucket in (("hour", hour), ("day", day)):
        counts = _received(engine, grain, bucket)
        assert {code: counts.get(code) for code in expected} == expected, grain

    drop(tmp_path, "cases", "2.csv", CASE_HEADER, [["B2", VILLAGE_B, t(2), "诉求", "乙县又一件", "受理", "", ""]])
    assert run_feed(engine, cases, now=lambda: NOW).counts.loaded == 1  # only county B is touched
    for grain, bucket in (("hour", hour), ("day", day)):
        counts = _received(engine, grain, bucket)
        assert (counts[COUNTY_A], counts[COUNTY_B], counts[PREFECTURE], counts[PROVINCE]) == (2, 2, 4, 4)
    by_dimension = {
        key[4]: value[0]
        for key, value in rollup_table(engine).items()
        if key[:4] == ("day", day.replace(tzinfo=None), PROVINCE, "cases.received")
    }
    assert by_dimension == {"conflict": 1, "dispute": 1, "request": 1, "appeal": 1}


def _at(hours_before: float):
    from datetime import timedelta

    return NOW - timedelta(hours=hours_before)
