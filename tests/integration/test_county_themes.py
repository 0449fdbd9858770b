"""The county map's themes for the indicators' 农厕革命, 政务服务, 疫情防控, 溯源 and 气象站 (issue 22), on the demo
county with eight days of simulated history through the demo's own feeds: each colours the townships with numbers,
and a township's number is a recount from the fact rows themselves over the screen's 30 days (not the rollups)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from dashboard.cache import cache, cache_config
from dashboard.county_content import THEMES, minute_of, screen_content
from dashboard.panels import Window
from etl.warehouse.schema import epidemic, gov_services, readings, toilets, traceability
from tests.recent_demo import build_recent

pytestmark = pytest.mark.integration
COUNTY, TOWNSHIP = "990101000000", "990101101000"  # 枣林镇: a pilot township, with traceability and a weather station
FEEDS = ("devices", "sensor_files", "toilets", "gov_services", "epidemic", "traceability")
# Each new theme's label and the recount of a township's number from the rows: (table, time column, what is
# summed or averaged over the rows in the window, the rows it keeps).
RECOUNTS = {
    "农厕革命 · 改造管护记录": (toilets, toilets.c.event_time, func.count(), ()),
    "政务服务 · 受理": (gov_services, gov_services.c.received_at, func.count(), ()),
    "疫情防控 · 服务人次": (
        epidemic,
        epidemic.c.event_time,
        func.sum(epidemic.c.quantity),
        (epidemic.c.kind.in_(["health_check", "vaccination"]),),  # 监测点 are not people
    ),
    "智慧农业 · 追溯赋码": (
        traceability,
        traceability.c.event_time,
        func.sum(traceability.c.codes),
        (traceability.c.action == "issued",),
    ),
    "气象站 · 时均降雨量": (
        readings,
        readings.c.event_time,
        func.avg(readings.c.value),
        (readings.c.metric == "rainfall",),
    ),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(engine, the county screen's content) of the demo with eight days of the indicators' feeds."""
    settings, engine = build_recent(tmp_path_factory.mktemp("themes-var"), FEEDS, days=8)  # codes are issued on Mondays
    app = Flask(__name__)
    cache.init_app(app, config=cache_config(settings))
    with app.app_context():
        yield engine, screen_content(engine, COUNTY, COUNTY, (), minute_of(datetime.now(UTC)))
    engine.dispose()


def _theme(content: dict, label: str) -> dict:
    return next(t for t in content["themes"] if json.dumps(t["legend"], ensure_ascii=False).count(f'"{label}"'))


def test_every_theme_has_a_distinct_label_and_the_new_ones_are_there():
    labels = [theme["label"] for theme in THEMES]
    assert len(set(labels)) == len(labels) and set(RECOUNTS) <= set(labels)


@pytest.mark.parametrize("label", list(RECOUNTS))
def test_a_townships_number_is_a_recount_of_its_rows(demo, label):
    engine, content = demo
    table, moment, value, kept = RECOUNTS[label]
    window = Window.at(datetime.now(UTC))
    low, high = TOWNSHIP[:9] + "000", TOWNSHIP[:9] + "999"
    query = select(value).where(
        table.c.region_code.between(low, high), moment >= window.month_start, moment < window.tomorrow, *kept
    )
    with engine.connect() as connection:
        expected = connection.execute(query).scalar()
    theme = _theme(content, label)
    assert expected and theme["values"][TOWNSHIP] == pytest.approx(float(expected), abs=1e-4)  # sent to 4 decimals
    assert theme["max"] >= theme["values"][TOWNSHIP] > 0  # the demo colours it, on a scale from 0 to the largest
    assert len(theme["values"]) > 1  # and more townships than this one


def test_the_rainfall_legend_shows_decimals_in_its_unit(demo):
    _engine, content = demo
    legend = json.dumps(_theme(content, "气象站 · 时均降雨量")["legend"], ensure_ascii=False)
    assert '"0.00mm/时"' in legend and legend.count("mm/时") == 6
