"""A parameter repeated in a screen's address (?profile=a&profile=a, as a hand-edited kiosk URL has it) reaches
a page's layout as a list: the page router answered 500 and the wall stayed black, while the ops page read the
same address as fine. Every page now reads the first value of a repeated parameter."""

from __future__ import annotations

import re

import pytest

from dashboard.app import create_app
from dashboard.routes import problem_of
from etl.demo.sample import BOARD_VILLAGE, build_sample
from etl.warehouse.settings import Settings
from tests.dash_requests import page

pytestmark = pytest.mark.integration
REPEATED = [
    ("/screen/county", "?profile=county-1080p&profile=county-4k&region=990101001000&region=x&rotate=5&rotate=9"),
    (f"/board/{BOARD_VILLAGE}", "?profile=board-landscape&profile=board-landscape&refresh=30&refresh=1&idle=1&idle=2"),
    ("/stop/S01", "?profile=stop-portrait&profile=stop-landscape&rotate=10&rotate=20&refresh=5&refresh=6"),
    ("/", "?region=990101001000&region=990101001000"),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("repeated-var")
    build_sample(var_dir)
    return create_app(Settings.load(var_dir=str(var_dir)))


def _timeless(answer) -> str:
    """A page's answer without its clock times (two requests may straddle a second)."""
    return re.sub(r"\d{2}:\d{2}(:\d{2})?", "hh:mm", answer.get_data(as_text=True))


def _first_values(search: str) -> str:
    """The same address with each parameter once, at its first value."""
    kept = {}
    for pair in search[1:].split("&"):
        kept.setdefault(pair.split("=")[0], pair)
    return "?" + "&".join(kept.values())


@pytest.mark.parametrize(("path", "search"), REPEATED)
def test_a_repeated_parameter_is_read_as_its_first_value(app, path, search):
    client = app.server.test_client()
    answer = client.post("/_dash-update-component", json=page(path, search))
    assert answer.status_code == 200, answer.get_data(as_text=True)[-500:]
    single = client.post("/_dash-update-component", json=page(path, _first_values(search)))
    assert _timeless(answer) == _timeless(single)  # the page of the first values, profile and all
    with app.server.app_context():
        assert problem_of(path + search) == problem_of(path + _first_values(search))
