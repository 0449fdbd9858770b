"""The board's 清廉乡村 · 曝光台 slide: on the demo (a day of simulated history through its cases feed), a pilot
village's board shows its newest cases of each list with their state, as many as the board holds; over the long-data
county, markup and a phone number in a title are text and masked; a village without any is quiet, so the rotation
passes over it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from dashboard.cache import cache, cache_config
from dashboard.panels import Window
from dashboard.plain import compact
from dashboard.regions import get_region
from dashboard.slides import Context, slides
from dashboard.slides.integrity import render
from etl.demo.sample import BOARD_VILLAGE, VILLAGES
from etl.demo.simulate import MODULE_TOPICS
from etl.warehouse.db import make_engine
from etl.warehouse.schema import cases
from layouts.profiles import profiles
from tests.long_county import build_long
from tests.recent_demo import build_recent

pytestmark = pytest.mark.integration
# What the board calls each state (written out here, not taken from the code under test).
STATES = {
    "clean_village": {"received": "已受理", "in_progress": "核查中", "closed": "已办结", "rated": "已办结"},
    "exposure": {"received": "已曝光", "in_progress": "整改中", "closed": "已整改", "rated": "已整改"},
}


def _boards(settings, engine):
    """A context maker for a village's board in an orientation, within a cache like the app's."""
    app = Flask(__name__)
    cache.init_app(app, config=cache_config(settings))
    window = Window.at(datetime.now(UTC))
    return app, lambda code, orientation: Context(engine, get_region(engine, code), window, settings, orientation)


@pytest.fixture(scope="module")
def demo_boards(tmp_path_factory):
    settings, engine = build_recent(tmp_path_factory.mktemp("integrity-demo"), ("cases",), days=1)
    app, boards = _boards(settings, engine)
    with app.app_context():
        yield engine, boards
    engine.dispose()


@pytest.fixture(scope="module")
def long_boards(tmp_path_factory):
    settings = build_long(tmp_path_factory.mktemp("integrity-long"))
    engine = make_engine(settings.warehouse_url)
    app, boards = _boards(settings, engine)
    with app.app_context():
        yield boards
    engine.dispose()


def _lines(context) -> list[list[str]]:
    """The slide's lines as [day, title, state], and its subtitles as [subtitle]."""
    found = []

    def walk(node):
        if isinstance(node, list) and node and isinstance(node[0], str) and node[0].startswith("li"):
            found.append([part[-1] for part in node[1:]])
        elif isinstance(node, list) and node and node[0] == "h3.slide-subtitle":
            found.append([node[-1]])
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(compact(render(context)))
    return found


def _shown(context) -> str:
    return json.dumps(compact(render(context)), ensure_ascii=False)


@pytest.mark.parametrize(("orientation", "holds"), [("portrait", 4), ("landscape", 3)])
def test_a_pilot_villages_board_shows_its_newest_cases_of_each_list(demo_boards, orientation, holds):
    engine, boards = demo_boards
    expected = [["清廉乡村"]]
    for module, subtitle in (("clean_village", None), ("exposure", "曝光台")):
        query = (
            select(cases.c.title, cases.c.status)
            .where(cases.c.region_code == BOARD_VILLAGE, cases.c.module == module)
            .order_by(cases.c.event_time.desc())
            .limit(holds)
        )
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        assert len(rows) == holds  # the demo gives a pilot village more than a board holds
        expected += ([[subtitle]] if subtitle else []) + [[title, STATES[module][status]] for title, status in rows]
    shown = _lines(boards(BOARD_VILLAGE, orientation))
    assert [line if len(line) == 1 else line[1:] for line in shown] == expected
    assert all(len(line) == 1 or len(line[0]) == 5 for line in shown)  # each case with its day: 12-05
    # Titles that fit their lists (not the other modules' 路灯损坏请求维修 …).
    titles = {line[1] for line in shown if len(line) == 3}
    assert titles <= set(MODULE_TOPICS["清廉乡村"]) | set(MODULE_TOPICS["曝光台"])


def test_markup_and_phone_numbers_in_a_title_are_text_and_masked(long_boards):
    portrait = _shown(long_boards(BOARD_VILLAGE, "portrait"))
    assert "<b>曝光</b>举报电话138****5678：1号村道" in portrait and "13812345678" not in portrait
    assert portrait.count("廉情反映及核查结果公示") == 4 and portrait.count("乱堆乱放建筑垃圾") == 4
    assert "已整改" in portrait and "整改中" in portrait and "核查中" in portrait and "已办结" in portrait
    landscape = _shown(long_boards(BOARD_VILLAGE, "landscape"))
    assert landscape.count("廉情反映及核查结果公示") == 3 and landscape.count("乱堆乱放建筑垃圾") == 3


def test_a_village_without_any_is_quiet(long_boards):
    quiet = compact(render(long_boards(VILLAGES[1], "portrait")))
    assert quiet[0][0] == "div.slide-empty.slide-quiet" and "暂无清廉乡村和曝光台事项" in json.dumps(
        quiet, ensure_ascii=False
    )


def test_both_board_profiles_rotate_the_slide():
    assert slides()["integrity"].title == "清廉乡村 · 曝光台"
    for name in ("board-portrait", "board-landscape"):
        assert "integrity" in profiles()[name].slides
