"""What a browser makes up cannot fill the shared cache through the county screen: its refresh takes only the panel
lists the profiles define (not any subset or order of the panels, each a content of its own), and an address naming
a region the warehouse does not hold is the root's screen, computed under the root's keys."""

from __future__ import annotations

import itertools

import pytest

from dashboard import cache as cache_module
from dashboard.app import create_app
from etl.demo.sample import COUNTY, VILLAGES, build_sample
from etl.warehouse.settings import Settings
from layouts.profiles import profiles
from tests.dash_requests import callback, page

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A test client of the sample county."""
    var_dir = tmp_path_factory.mktemp("cache-keys-var")
    build_sample(var_dir)
    return create_app(Settings.load(var_dir=str(var_dir))).server.test_client()


@pytest.fixture
def keys(monkeypatch) -> list[str]:
    """Every shared-cache key the requests ask for, in order."""
    asked = []
    kept = cache_module._kept

    def spy(key, compute):
        asked.append(key)
        return kept(key, compute)

    monkeypatch.setattr(cache_module, "_kept", spy)
    return asked


def refresh(names) -> dict:
    """The county screen's refresh of the county with panels ``names``."""
    scope = {"scope": COUNTY, "shown": COUNTY, "names": names}
    return callback(
        "screen-content.data",
        {"id": "screen-content", "property": "data"},
        [{"id": "screen-refresh", "property": "n_intervals", "value": 1}],
        [
            {"id": "screen-scope", "property": "data", "value": scope},
            {"id": "screen-shown", "property": "data", "value": None},
        ],
    )


def profile_names(name: str) -> list[str]:
    """The panels a county profile's page sends with its refresh (its panels but the title, map and ticker)."""
    return [place.name for place in profiles()[name].panels if place.name not in ("kpis", "map", "ticker")]


def test_refresh_takes_only_the_panel_lists_of_the_profiles(client, keys):
    for name in ("county-1080p", "county-wide"):
        answer = client.post("/_dash-update-component", json=refresh(profile_names(name)))
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    keys.clear()
    names = profile_names("county-1080p")
    variants = [list(order) for order in itertools.islice(itertools.permutations(names), 1, 16)]
    variants += [names[:1], names[1:], names[:-1], []]
    variants = [variant for variant in variants if variant != profile_names("county-wide")]
    for variant in variants:
        answer = client.post("/_dash-update-component", json=refresh(variant))
        assert answer.status_code == 400, (variant, answer.get_data(as_text=True)[:300])
        assert "板块" in answer.json["error"]
    assert not [key for key in keys if key.startswith("q:screen_content:")]


def test_a_made_up_region_is_the_root_under_the_roots_keys(client, keys):
    root = client.post("/_dash-update-component", json=page("/screen/county", ""))
    assert root.status_code == 200
    frames = {key for key in keys if key.startswith("q:screen_frame:")}
    assert len(frames) == 1
    keys.clear()
    for n in range(20):
        made_up = f"9901019{n:02d}999"  # well-formed, in the county's range, no such region
        answer = client.post("/_dash-update-component", json=page("/screen/county", f"?region={made_up}"))
        assert answer.status_code == 200
        assert COUNTY in answer.get_data(as_text=True)  # the root's screen
    assert {key for key in keys if key.startswith("q:screen_frame:")} == frames

    village = client.post("/_dash-update-component", json=page("/screen/county", f"?region={VILLAGES[0]}"))
    assert village.status_code == 200 and VILLAGES[0] in village.get_data(as_text=True)
    assert len({key for key in keys if key.startswith("q:screen_frame:")} - frames) == 1  # a real region: its own
