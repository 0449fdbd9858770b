"""The board's 民主议事 · 民主监督 slide over the long-data county: the village's newest matters (the vote once
taken) and questions (answered or not), as many as the board holds, newest first; quiet for a village without any,
so the rotation passes over it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import Flask

from dashboard.cache import cache, cache_config
from dashboard.panels import Window
from dashboard.plain import compact
from dashboard.regions import get_region
from dashboard.slides import Context
from dashboard.slides.democracy import render
from etl.demo.sample import BOARD_VILLAGE, VILLAGES
from etl.warehouse.db import make_engine
from tests.long_county import build_long

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    """(context of a board of the long county's village, of its neighbour) in portrait and landscape."""
    var_dir = tmp_path_factory.mktemp("democracy-var")
    settings = build_long(var_dir)
    engine = make_engine(settings.warehouse_url)
    app = Flask(__name__)
    cache.init_app(app, config=cache_config(settings))
    window = Window.at(datetime.now(UTC))
    with app.app_context():
        yield lambda code, orientation: Context(engine, get_region(engine, code), window, settings, orientation)
    engine.dispose()


def _shown(context) -> str:
    return json.dumps(compact(render(context)), ensure_ascii=False)


def test_the_newest_matters_and_questions_as_many_as_the_board_holds(boards):
    portrait = _shown(boards(BOARD_VILLAGE, "portrait"))
    assert "民主议事" in portrait and "民主监督" in portrait
    # LY0 … LY5 are newest first; the odd ones were voted on (1,200,000 for, 34,567 against), the even still voting.
    assert portrait.count("集体经济项目收益分配方案") == 8  # four matters and four questions of six each
    assert "关于1号村集体经济" in portrait and "关于5号村集体经济" not in portrait
    assert portrait.count("赞成120.0万 反对34,567") == 2 and portrait.count("表决中") == 2
    assert portrait.count("已答复") == 2 and portrait.count("办理中") == 2
    # Markup in a title is text (Dash components never read HTML), a phone number in it masked.
    assert "<b>请答复</b>回电138****5678" in portrait and "13812345678" not in portrait
    landscape = _shown(boards(BOARD_VILLAGE, "landscape"))
    assert landscape.count("集体经济项目收益分配方案") == 6


def test_a_village_without_any_is_quiet(boards):
    quiet = compact(render(boards(VILLAGES[1], "portrait")))
    assert quiet[0][0] == "div.slide-empty.slide-quiet" and "暂无民主议事" in json.dumps(quiet, ensure_ascii=False)
