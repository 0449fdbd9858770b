"""Screen queries on SQLite and the real PostgreSQL: hand-computed answers, and a load invalidates the cache."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_caching import Cache

from dashboard.cache import cache, cache_config
from dashboard.filecache import SweptFileSystemCache
from dashboard.queries import (
    children_values,
    device_kinds,
    freshness,
    measure_series,
    measure_totals,
    village_ranking,
)
from etl.rollups import day_of, month_of
from etl.runner import run_feed
from etl.warehouse.settings import Settings
from tests.integration.test_runner import (  # the same small county, feeds and case rows
    CASE_HEADER,
    COUNTY,
    NOW,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    case_rows,
    drop,
    engine,  # noqa: F401 - fixture
    feeds,  # noqa: F401 - fixture
    t,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def app_context(tmp_path):
    app = Flask(__name__)
    cache.init_app(app, config=cache_config(Settings.load(var_dir=str(tmp_path / "var"))))
    with app.app_context():
        cache.clear()
        yield


def test_queries_answer_what_was_loaded_and_follow_new_loads(engine, feeds, tmp_path, app_context):  # noqa: F811
    drop(tmp_path, "cases", "a.csv", CASE_HEADER, case_rows())
    run_feed(engine, feeds["cases"], now=lambda: NOW)
    start, end = day_of(NOW) - timedelta(days=7), day_of(NOW) + timedelta(days=1)
    # Loaded: C1 (甲村, conflict, closed), C2 (乙村, dispute), C3 (丙村 in 西镇, request).
    county = measure_totals(engine, COUNTY, ["cases.received", "cases.closed"], start, end)
    assert {d: v["count"] for d, v in county["cases.received"].items()} == {"conflict": 1, "dispute": 1, "request": 1}
    assert county["cases.closed"] == {"conflict": {"count": 1, "total": 1.0}}
    town = measure_totals(engine, TOWN_A, ["cases.received"], start, end)
    assert sum(v["count"] for v in town["cases.received"].values()) == 2
    by_town = children_values(engine, COUNTY, ["cases.received"], start, end)["cases.received"]
    assert {code: v["count"] for code, v in by_town.items()} == {TOWN_A: 2, TOWN_B: 1}
    by_village = children_values(engine, TOWN_A, ["cases.received"], start, end)["cases.received"]
    assert {code: v["count"] for code, v in by_village.items()} == {VILLAGE_A1: 1, VILLAGE_A2: 1}
    # Several measures in one query: each the same as asked alone; a measure without rows is empty.
    both = children_values(engine, COUNTY, ["cases.received", "cases.closed", "waste.tonnage"], start, end)
    assert both["cases.received"] == by_town and both["waste.tonnage"] == {}
    assert both["cases.closed"] == children_values(engine, COUNTY, ["cases.closed"], start, end)["cases.closed"]
    assert {code: v["count"] for code, v in both["cases.closed"].items()} == {TOWN_A: 1}
    series = measure_series(engine, COUNTY, "cases.received", start, end)
    # Local (UTC+8) days: C1 on 03-09 14:00; C2 on 03-10 00:00 and C3 on 03-10 17:00.
    assert [point["count"] for point in series] == [1, 2]
    fresh = freshness(engine, TOWN_A)
    assert set(fresh) == {"cases"} and fresh["cases"]["cadence_seconds"] == 3600

    # Cached until the next load bumps the version; then the new answer shows at once.
    assert measure_totals(engine, TOWN_A, ["cases.received"], start, end) == town
    drop(tmp_path, "cases", "b.csv", CASE_HEADER, [["C20", VILLAGE_A1, t(2), "诉求", "新", "受理", "", ""]])
    run_feed(engine, feeds["cases"], now=lambda: NOW)
    again = measure_totals(engine, TOWN_A, ["cases.received"], start, end)
    assert sum(v["count"] for v in again["cases.received"].values()) == 3


def test_rankings_and_device_counts_at_every_scope_size(engine, feeds, tmp_path, app_context):  # noqa: F811
    drop(tmp_path, "cases", "a.csv", CASE_HEADER, case_rows())
    run_feed(engine, feeds["cases"], now=lambda: NOW)
    drop(tmp_path, "cases", "b.csv", CASE_HEADER, [["C20", VILLAGE_A2, t(4), "诉求", "又一件", "受理", "", ""]])
    run_feed(engine, feeds["cases"], now=lambda: NOW)
    month = month_of(NOW)  # the villages' 月度 ranking reads the month rollup
    by_county = village_ranking(engine, COUNTY, "cases.received", month)
    assert [(row["code"], row["count"]) for row in by_county] == [(VILLAGE_A2, 2), (VILLAGE_A1, 1), (VILLAGE_B1, 1)]
    assert all(row["name"] for row in by_county)
    # A prefecture or province ranks by one pass over the measure: the same villages, the same order.
    for wide in (COUNTY[:4] + "0" * 8, COUNTY[:2] + "0" * 10):
        assert village_ranking(engine, wide, "cases.received", month) == by_county
    assert village_ranking(engine, COUNTY, "cases.received", month, limit=1) == by_county[:1]
    assert village_ranking(engine, COUNTY, "cases.received", month_of(NOW - timedelta(days=40))) == []

    drop(
        tmp_path,
        "devices",
        "d.csv",
        ["id", "kind", "village", "installed"],
        [
            ["BIN-1", "垃圾桶", VILLAGE_A1, "2025-01-01"],
            ["BIN-2", "垃圾桶", VILLAGE_A2, "2025-01-01"],
            ["BIN-3", "垃圾桶", VILLAGE_B1, "2025-01-01"],
            ["AIR-1", "空气监测", VILLAGE_B1, "2025-01-01"],
        ],
    )
    run_feed(engine, feeds["devices"], now=lambda: NOW)
    drop(
        tmp_path,
        "sensors",
        "s.csv",
        ["device", "metric", "time", "value"],
        [
            ["BIN-1", "fill_level", t(0.5), "95"],
            ["BIN-2", "fill_level", t(0.5), "40"],
            ["BIN-3", "fill_level", t(5), "99"],
            ["AIR-1", "aqi", t(0.2), "180"],
        ],
    )
    run_feed(engine, feeds["sensors"], now=lambda: NOW)
    assert device_kinds(engine, COUNTY) == {"bin": 3, "air": 1}
    assert device_kinds(engine, TOWN_A) == {"bin": 2}


def test_the_file_cache_keeps_no_count_file_and_a_sweep_bounds_it(tmp_path):
    folder = tmp_path / "cache"
    swept = SweptFileSystemCache(str(folder), limit=3)
    for n in range(5):
        assert swept.set(f"k{n}", {"n": n}, timeout=3600)
        os.utime(swept._get_filename(f"k{n}"), (1_000_000 + n, 1_000_000 + n))  # k0 is the oldest
    swept.set("short", "x", timeout=10)
    debris = folder / "tmpabc.__wz_cache"  # a write killed half-way
    debris.write_bytes(b"")
    os.utime(debris, (1_000_000, 1_000_000))
    assert swept.get("k4") == {"n": 4}
    # No count file: cachelib writes one on every set when a threshold is configured.
    assert not Path(swept._get_filename(swept._fs_count_file)).exists()
    # In 60 s "short" has expired; of the other five, the three newest are kept; the debris goes.
    assert swept.sweep(now=time.time() + 60) == 4
    assert [swept.get(f"k{n}") for n in range(5)] == [None, None, {"n": 2}, {"n": 3}, {"n": 4}]
    assert swept.get("short") is None and not debris.exists()


def test_the_screens_use_the_swept_file_cache_without_redis(tmp_path):
    app = Flask(__name__)
    own = Cache()
    own.init_app(app, config=cache_config(Settings.load(var_dir=str(tmp_path / "var"))))
    with app.app_context():
        assert isinstance(own.cache, SweptFileSystemCache)
        own.set("a", [1, 2])
        assert own.get("a") == [1, 2]


def test_an_answer_is_written_at_once_and_a_caller_changing_it_changes_nothing(tmp_path):
    from dashboard import cache as cache_module
    from etl.warehouse.db import make_engine, migrate

    warehouse = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(warehouse)
    app = Flask(__name__)
    cache.init_app(app, config=cache_config(Settings.load(var_dir=str(tmp_path / "var"))))
    calls = []

    @cache_module.versioned
    def answer(_engine, scope):
        calls.append(scope)
        return {"scope": scope, "items": [1, 2]}

    def entries():
        return os.listdir(tmp_path / "var" / "cache")

    @app.get("/ask")
    def ask():
        first = answer(warehouse, "990101000000")
        first["items"].append(3)  # a caller changing its answer changes neither the entry nor the next answer
        again = answer(warehouse, "990101000000")
        assert again == {"scope": "990101000000", "items": [1, 2]} and len(calls) == 1
        assert len(entries()) == 1  # written at once: a thread or worker asking meanwhile waits for it, then reads it
        return "ok"

    client = app.test_client()
    response = client.get("/ask")
    assert response.status_code == 200
    response.close()
    assert len(entries()) == 1
    with app.app_context():
        assert answer(warehouse, "990101000000") == {"scope": "990101000000", "items": [1, 2]} and len(calls) == 1
    warehouse.dispose()


def test_the_file_cache_sweep_bounds_its_bytes_too(tmp_path):
    # A few large answers (a province's children) could fill the disk long before the count limit: the sweep also
    # removes the oldest entries until what is left fits the byte limit.
    folder = tmp_path / "cache"
    swept = SweptFileSystemCache(str(folder), limit=100, limit_bytes=250_000)
    for n in range(4):
        assert swept.set(f"big{n}", "x" * 100_000, timeout=3600)
        os.utime(swept._get_filename(f"big{n}"), (1_000_000 + n, 1_000_000 + n))  # big0 is the oldest
    assert swept.sweep() == 2
    assert [swept.get(f"big{n}") is not None for n in range(4)] == [False, False, True, True]
    assert sum(path.stat().st_size for path in folder.iterdir()) <= 250_000
