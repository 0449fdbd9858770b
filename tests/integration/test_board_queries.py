"""Board and stop queries on SQLite and the real PostgreSQL, against the hand-checkable sample."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from dashboard import board_queries as q
from dashboard.cache import cache, cache_config
from dashboard.ranking_queries import household_points
from etl.demo.build import build_demo
from etl.demo.sample import BOARD_VILLAGE, COUNTY, TOWNSHIP, load_screen_data
from etl.warehouse.db import make_engine
from etl.warehouse.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def sample(request, tmp_path):
    var_dir = tmp_path / "var"
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    settings = Settings.load(var_dir=str(var_dir), warehouse_url=url)
    build_demo(settings, echo=lambda _line: None)
    now = datetime.now(UTC)
    load_screen_data(Path(var_dir), url, now=now)
    app = Flask(__name__)
    cache.init_app(app, config=cache_config(settings))
    engine = make_engine(url)
    with app.app_context():
        cache.clear()
        yield engine, now
    engine.dispose()


def test_board_queries_answer_what_the_sample_holds(sample):
    engine, now = sample
    notices = q.notices(engine, BOARD_VILLAGE, ["village_affairs", "government_affairs"])
    assert [n["title"] for n in notices] == ["村道硬化项目公示", "医保缴费通知", "人居环境整治通知"]
    assert notices[0]["body"] == "公示期七天，如有异议请联系138****5678。"
    assert [n["title"] for n in q.notices(engine, BOARD_VILLAGE, ["party_affairs"])] == ["主题党日活动安排"]

    year = f"{(now + timedelta(hours=8)).year}"
    lines = q.finance_lines(engine, BOARD_VILLAGE, year)
    assert all(line["period"].startswith(year) for line in lines)  # last December's line is another year's
    month = max(line["period"] for line in lines)
    assert sorted((line["title"], line["amount"]) for line in lines if line["period"] == month) == [
        ("上级补助收入", 20000.0),
        ("村干部报酬", 12000.5),
        ("集体经营收入", 30000.0),
    ]

    points = household_points(engine, BOARD_VILLAGE, now - timedelta(days=400), now + timedelta(days=1))
    assert points["households"] == [
        {"household": "H004", "name": "王*国", "tail": "H004", "earned": 26, "redeemed": 0},
        {"household": "H000", "name": "李*", "tail": "H000", "earned": 18, "redeemed": 0},
    ]
    assert (points["earned"], points["redeemed"]) == (44, 0)  # the same rows' totals

    hour = now.replace(minute=0, second=0, microsecond=0)
    weather = q.forecast(engine, BOARD_VILLAGE, hour, hour + timedelta(hours=13))
    assert weather["region"] == TOWNSHIP  # the village has no forecast of its own: its township's
    assert [h["temperature"] for h in weather["hours"]] == [10.0 + h for h in range(12)]

    items = q.publicity_items(engine, BOARD_VILLAGE, now)
    assert [i["title"] for i in items] == ["防范电信诈骗", "垃圾分类 从我做起"]  # expired and other town's left out
    assert q.lineage(BOARD_VILLAGE) == [BOARD_VILLAGE, TOWNSHIP, COUNTY, "990100000000", "990000000000"]


def test_stop_queries_use_only_the_newest_prediction(sample):
    engine, now = sample
    assert q.stop(engine, "S01") == {"stop_id": "S01", "name": "城关站", "region_code": TOWNSHIP}
    assert q.stop(engine, "S99") is None
    buses = q.next_buses(engine, "S01", now)
    assert [(b["route"], b["direction"], b["minutes"]) for b in buses] == [
        ("5路", "白沙—县城", 0),
        ("1路", "县城—枣林", 7),
        ("5路", "县城—白沙", 15),
    ]
    fresh = q.feed_freshness(engine)
    assert fresh["bus_arrivals"]["cadence_seconds"] == 300 and fresh["bus_arrivals"]["last_loaded_at"] >= now
