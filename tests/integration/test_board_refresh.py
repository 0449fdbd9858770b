"""A board's refresh answer, served from memory to every board of a village: the same slides the page is drawn
with, per village and orientation, and a load shows in the very next refresh."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from dashboard.app import create_app
from etl.demo.sample import BOARD_VILLAGE, VILLAGES, build_sample
from etl.warehouse.db import bump_version
from etl.warehouse.schema import disclosures
from etl.warehouse.settings import Settings
from tests.dash_requests import callback, page

pytestmark = pytest.mark.integration
SLIDES = ("village_affairs", "finance", "points", "services")
OUTPUT = "..{}.children...{}.children...{}.className..".format(
    *(f'{{"part":"{part}","slide":["ALL"]}}' for part in ("body", "asof", "asof"))
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("board-refresh-var")
    build_sample(var_dir)
    application = create_app(Settings.load(var_dir=str(var_dir)))
    return application, application.server.config["RURALBRAIN_ENGINE"]


def _refresh(client, village: str, profile: str = "board-portrait", slides=SLIDES) -> list[list]:
    """The refresh answer of a board of ``village``: bodies, 数据截至 labels and their classes, in slide order."""
    ids = [{"slide": slide, "part": "body"} for slide in slides]
    body = callback(
        OUTPUT,
        [
            [{"id": identity, "property": "children"} for identity in ids],
            [{"id": {**identity, "part": "asof"}, "property": "children"} for identity in ids],
            [{"id": {**identity, "part": "asof"}, "property": "className"} for identity in ids],
        ],
        [{"id": "board-refresh", "property": "n_intervals", "value": 1}],
        [
            {"id": "board-scope", "property": "data", "value": {"village": village, "profile": profile}},
            [{"id": identity, "property": "id", "value": identity} for identity in ids],
        ],
    )
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    response = answer.json["response"]
    return [[response[_key(slide, part)][prop] for slide in slides] for part, prop in _PARTS]


_PARTS = (("body", "children"), ("asof", "children"), ("asof", "className"))


def _key(slide: str, part: str) -> str:
    return f'{{"part":"{part}","slide":"{slide}"}}'


def _page_slides(client, village: str, profile: str = "board-portrait") -> list[list]:
    """The same three parts as the board's page draws them when it loads."""
    answer = client.post("/_dash-update-component", json=page(f"/board/{village}", f"?profile={profile}"))
    assert answer.status_code == 200
    found = {}

    def walk(node):
        if isinstance(node, dict):
            props = node.get("props", {})
            identity = props.get("id")
            if isinstance(identity, dict) and identity.get("slide") in SLIDES:
                found[_key(identity["slide"], identity["part"])] = props
            for value in props.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(answer.json["response"]["_pages_content"]["children"])
    return [[found[_key(slide, part)].get(prop) for slide in SLIDES] for part, prop in _PARTS]


def test_a_refresh_answers_what_the_page_was_drawn_with_from_memory_or_not(app):
    application, _engine = app
    client = application.server.test_client()
    first = _refresh(client, BOARD_VILLAGE)
    assert first == _page_slides(client, BOARD_VILLAGE)
    assert _refresh(client, BOARD_VILLAGE) == first  # the second answer comes from memory
    assert _refresh(client, BOARD_VILLAGE, slides=SLIDES[1:3]) == [part[1:3] for part in first]  # a board's own slides
    landscape = _refresh(client, BOARD_VILLAGE, "board-landscape")
    assert landscape == _page_slides(client, BOARD_VILLAGE, "board-landscape")
    other = next(village for village in VILLAGES if village != BOARD_VILLAGE)
    assert _refresh(client, other) == _page_slides(client, other)
    assert _refresh(client, other)[0] != first[0]  # another village's own slides, not the first one's


def test_a_load_shows_in_the_next_refresh(app):
    application, engine = app
    client = application.server.test_client()
    before = _refresh(client, BOARD_VILLAGE)
    newest = (
        select(disclosures.c.disclosure_id)
        .where(disclosures.c.region_code == BOARD_VILLAGE, disclosures.c.kind == "village_affairs")
        .order_by(disclosures.c.event_time.desc())
        .limit(1)
    )
    with engine.begin() as connection:  # as a load commits: the rows and the version together
        connection.execute(
            update(disclosures)
            .where(disclosures.c.disclosure_id == connection.execute(newest).scalar_one())
            .values(title="关于村道硬化工程的公示（更正）")
        )
        bump_version(connection)
    after = _refresh(client, BOARD_VILLAGE)
    assert "关于村道硬化工程的公示（更正）" in str(after[0][0]) and "（更正）" not in str(before[0][0])
    assert after[0][1:] == before[0][1:]
