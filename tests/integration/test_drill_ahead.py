"""A drill asked ahead (/screen/county/ahead): the server computes the new scope as the page will, for the same
viewer, so the page's own request finds everything in the shared cache; a region outside the viewer's scope is
refused as the page refuses it."""

from __future__ import annotations

import pytest

from dashboard import cache as cache_module
from dashboard.app import create_app
from etl.demo.sample import COUNTY, VILLAGES, build_sample
from etl.warehouse.accounts import add_user
from etl.warehouse.db import bump_version, make_engine
from etl.warehouse.settings import Settings
from tests.dash_requests import page
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration
TOWNSHIP = VILLAGES[0][:9] + "000"
SIBLING = VILLAGES[2][:9] + "000"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(app, engine) of the sample county, with a township leader."""
    var_dir = tmp_path_factory.mktemp("drill-ahead-var")
    build_sample(var_dir)
    settings = Settings.load(var_dir=str(var_dir))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "zhen-ahead", "township", TOWNSHIP, password=PASSWORD)
    yield create_app(settings), engine
    engine.dispose()


@pytest.fixture
def computed(monkeypatch) -> list[str]:
    """The shared-cache keys computed (not found) from now on."""
    found = []
    kept = cache_module._kept

    def spy(key, compute):
        return kept(key, lambda: found.append(key) or compute())

    monkeypatch.setattr(cache_module, "_kept", spy)
    return found


def _new_version(engine) -> None:
    with engine.begin() as connection:
        bump_version(connection)


@pytest.mark.parametrize("region", [TOWNSHIP, VILLAGES[0]])
def test_the_page_after_its_drill_ahead_computes_nothing(served, computed, region):
    app, engine = served
    client = app.server.test_client()
    _new_version(engine)
    ahead = client.get(f"/screen/county/ahead?region={region}&profile=county-1080p")
    assert ahead.status_code == 204 and ahead.data == b"" and "no-store" in ahead.headers["Cache-Control"]
    assert any(key.startswith("q:screen_content:") for key in computed)  # the scope's content, computed now
    ahead.close()  # sent: what it computed inside the content is stored
    computed.clear()
    address = f"?region={region}&profile=county-1080p"
    answer = client.post("/_dash-update-component", json=page("/screen/county", address))
    assert answer.status_code == 200 and region in answer.get_data(as_text=True)
    assert computed == []


def test_another_profile_or_a_made_up_region_asks_ahead_what_its_page_would_ask(served, computed):
    app, engine = served
    client = app.server.test_client()
    _new_version(engine)
    for ahead in ("?region=990101999999&profile=county-1080p", "?region=%3Cscript%3E", "?profile=county-wide"):
        answer = client.get(f"/screen/county/ahead{ahead}")
        assert answer.status_code == 204
        answer.close()
        computed.clear()
        page_answer = client.post("/_dash-update-component", json=page("/screen/county", ahead))
        assert page_answer.status_code == 200 and COUNTY in page_answer.get_data(as_text=True)
        assert computed == []


def test_a_leader_cannot_ask_ahead_for_a_township_beside_theirs(served, computed):
    app, engine = served
    client = logged_in(app, "zhen-ahead")
    _new_version(engine)
    refused = client.get(f"{HTTPS}/screen/county/ahead?region={SIBLING}")
    assert refused.status_code == 403
    assert computed == []  # nothing of the sibling's was computed
    own = client.get(f"{HTTPS}/screen/county/ahead?region={VILLAGES[0]}")
    assert own.status_code == 204 and computed
