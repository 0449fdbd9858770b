"""Callbacks validate everything the browser sends: a scope outside the deployment's root, unknown panels or
slides, malformed codes, stop ids and request bodies get 400 with a reason, never 500, and refused requests
write nothing to the cache. A server callback this sweep does not cover fails the test."""

from __future__ import annotations

import os

import pytest

from dashboard.app import create_app
from etl.demo.sample import BOARD_VILLAGE, COUNTY, TOWNSHIP, VILLAGES, build_sample
from etl.warehouse.settings import Settings
from tests.dash_requests import PAGES_OUTPUT, callback, page

pytestmark = pytest.mark.integration
OTHER_TOWNSHIP = VILLAGES[2][:9] + "000"
# The panels of the default county profile: a refresh asks for the panel list of a profile, no other.
PANELS = ["governance", "industry", "livelihood", "rankings", "environment", "security"]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The sample county served for one township (ROOT_REGION): the county and the other townships are out."""
    var_dir = tmp_path_factory.mktemp("validation-var")
    build_sample(var_dir)
    return create_app(Settings.load(var_dir=str(var_dir), root_region=TOWNSHIP)), var_dir


def county(scope=TOWNSHIP, shown=TOWNSHIP, names=PANELS, digest=None) -> dict:
    return callback(
        "screen-content.data",
        {"id": "screen-content", "property": "data"},
        [{"id": "screen-refresh", "property": "n_intervals", "value": 1}],
        [
            {"id": "screen-scope", "property": "data", "value": {"scope": scope, "shown": shown, "names": names}},
            {"id": "screen-shown", "property": "data", "value": digest},
        ],
    )


BOARD_OUTPUT = (
    '..{"part":"body","slide":["ALL"]}.children...{"part":"asof","slide":["ALL"]}.children...'
    '{"part":"asof","slide":["ALL"]}.className..'
)


def board(village=BOARD_VILLAGE, slides=("finance", "points")) -> dict:
    ids = [{"slide": slide, "part": "body"} for slide in slides]
    return callback(
        BOARD_OUTPUT,
        [
            [{"id": identity, "property": "children"} for identity in ids],
            [{"id": {**identity, "part": "asof"}, "property": "children"} for identity in ids],
            [{"id": {**identity, "part": "asof"}, "property": "className"} for identity in ids],
        ],
        [{"id": "board-refresh", "property": "n_intervals", "value": 1}],
        [
            {"id": "board-scope", "property": "data", "value": {"village": village, "profile": "board-portrait"}},
            [{"id": identity, "property": "id", "value": identity} for identity in ids],
        ],
    )


STOP_OUTPUT = (
    "..stop-arrivals.children...stop-weather.children...stop-publicity.children...stop-asof.children"
    "...stop-asof.className.."
)


def stop(scope) -> dict:
    return callback(
        STOP_OUTPUT,
        [
            {"id": "stop-arrivals", "property": "children"},
            {"id": "stop-weather", "property": "children"},
            {"id": "stop-publicity", "property": "children"},
            {"id": "stop-asof", "property": "children"},
            {"id": "stop-asof", "property": "className"},
        ],
        [{"id": "stop-refresh", "property": "n_intervals", "value": 1}],
        [{"id": "stop-scope", "property": "data", "value": scope}],
    )


def drill(click) -> dict:
    return callback(
        "drill-location.search",
        {"id": "drill-location", "property": "search"},
        [{"id": "region-geojson", "property": "clickData", "value": click}],
        [{"id": "drill-location", "property": "search", "value": ""}],
    )


# Per server callback (by output): a request that must succeed, and requests that must be refused.
SWEEP = {
    "screen-content.data": (
        county(),
        [
            county(scope=COUNTY, shown=COUNTY),  # above the deployment's root
            county(scope=OTHER_TOWNSHIP, shown=OTHER_TOWNSHIP),  # beside it
            county(scope=BOARD_VILLAGE, shown=OTHER_TOWNSHIP),  # the map of another region
            county(scope="990101999999", shown=TOWNSHIP),  # no such region
            county(scope="9901010010", shown=TOWNSHIP),
            county(scope=["x"], shown=TOWNSHIP),
            county(names=["governance", "no-such-panel"]),
            county(names=["governance", "governance"]),
            county(names=["governance", "industry"]),  # not a profile's list: a cache entry of its own
            county(names=PANELS[::-1]),
            county(names="governance"),
            county(digest="<script>"),
            county(digest=12),
            callback("screen-content.data", {}, [{"id": "screen-refresh", "property": "n_intervals", "value": 1}]),
        ],
    ),
    BOARD_OUTPUT: (
        board(),
        [
            board(village=VILLAGES[2]),  # a village of another township
            board(village=TOWNSHIP),  # not a village
            board(village="99010100100x"),
            board(village=None),
            board(slides=("finance", "nope")),
            board(slides=("finance", "finance")),
        ],
    ),
    STOP_OUTPUT: (
        stop({"stop_id": "S01"}),
        [
            stop({"stop_id": "S" * 5000}),
            stop({"stop_id": "<img src=x>"}),
            stop({"stop_id": "S999"}),  # no such stop
            stop({"stop_id": 1}),
            stop("S01"),
            stop(None),
        ],
    ),
    "drill-location.search": (
        drill({"properties": {"code": BOARD_VILLAGE}}),
        [drill({"properties": {}}), drill({"properties": {"code": "?x=<b>"}}), drill([1]), drill("x")],
    ),
    PAGES_OUTPUT: (
        page("/board/" + BOARD_VILLAGE, "?rotate=inf&refresh=nan&profile=x"),
        [page(123), page("/", {"region": "x"})],
    ),
    "ping-text.title": (
        callback(
            "ping-text.title",
            {"id": "ping-text", "property": "title"},
            [{"id": "ping-interval", "property": "n_intervals", "value": 1}],
        ),
        [],
    ),
}
MALFORMED = [
    b"not json",
    b"[1, 2]",
    b'{"output": "no-such.output"}',
    b'{"output": 12}',
    b'{"output": "screen-content.data", "inputs": "x"}',
    b'{"output": "screen-content.data", "inputs": [{"id": "screen-refresh"}]}',
    b'{"output": "screen-content.data", "inputs": [], "state": [3]}',
    b'{"output": "screen-content.data", "inputs": [], "changedPropIds": [1]}',
]


def test_every_server_callback_is_in_this_sweep(app):
    app[0].server.test_client().get("/healthz")  # Dash completes its callbacks (the page router) at the first request
    served = {output for output, spec in app[0].callback_map.items() if "callback" in spec}
    clientside = set(app[0].callback_map) - served
    assert served - set(SWEEP) == set(), "a new server callback: add what it must accept and refuse to SWEEP"
    assert clientside  # the rotations and clocks run in the browser


@pytest.mark.parametrize("output", list(SWEEP))
def test_valid_requests_are_answered_and_bad_ones_refused_with_a_reason(app, output):
    client = app[0].server.test_client()
    good, bad = SWEEP[output]
    answer = client.post("/_dash-update-component", json=good)
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:300]
    for body in bad:
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code == 400, (body, answer.status_code, answer.get_data(as_text=True)[:300])
        assert answer.json["error"]  # the reason, in Chinese


def test_malformed_callback_requests_are_400_not_500(app):
    client = app[0].server.test_client()
    for raw in MALFORMED:
        answer = client.post("/_dash-update-component", data=raw, content_type="application/json")
        assert answer.status_code == 400, raw


def test_refused_requests_write_nothing_to_the_cache(app):
    application, var_dir = app
    client = application.server.test_client()
    client.post("/_dash-update-component", json=county())  # the root's own entries exist already
    before = len(os.listdir(var_dir / "cache"))
    for n in range(20):
        scope = f"98{n:02d}01001000"  # anywhere but the root's township
        assert client.post("/_dash-update-component", json=county(scope=scope, shown=scope)).status_code == 400
        assert client.post("/_dash-update-component", json=stop({"stop_id": f"S{n:04d}"})).status_code == 400
    assert len(os.listdir(var_dir / "cache")) == before
