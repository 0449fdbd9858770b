"""Static bundles are gzipped once per file: query strings and made-up fingerprints reach the same entry, and
the cache is bounded in bytes."""

from __future__ import annotations

import gzip
import re

import pytest

from dashboard.app import create_app
from dashboard.static_gzip import GzipCache
from etl.demo.build import build_demo
from etl.warehouse.settings import Settings

pytestmark = pytest.mark.integration
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The screens' app over the demo county (regions and map geometry, no facts needed)."""
    settings = Settings.load(var_dir=str(tmp_path_factory.mktemp("gzip-var")))
    build_demo(settings, echo=lambda _line: None)
    return create_app(settings)


def test_two_hundred_query_strings_on_a_bundle_leave_one_entry(app):
    client = app.server.test_client()
    page = client.get("/screen/county").get_data(as_text=True)
    bundle = re.search(r'src="(/_dash-component-suites/dash/dcc/[^"?]+\.js)', page).group(1)
    entries = app.server.extensions["ruralbrain_gzip"]
    before = len(entries)
    plain = client.get(bundle).get_data()
    for n in range(200):
        response = client.get(f"{bundle}?bust={n}", headers=GZIP)
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.get_data()) == plain
    assert len(entries) == before + 1
    # Dash's cache-busting fingerprint made up anew each time names the same file: still the same entry.
    folder, name = bundle.rsplit("/", 1)
    stem = name.split(".")[0]
    for n in range(50):
        assert client.get(f"{folder}/{stem}.v9_9_{n}m{n}.js", headers=GZIP).status_code == 200
    assert len(entries) == before + 1


def test_assets_and_geometry_ignore_query_strings_too(app):
    client = app.server.test_client()
    entries = app.server.extensions["ruralbrain_gzip"]
    before = len(entries)
    for n in range(100):
        assert client.get(f"/assets/ruralbrain.js?v={n}", headers=GZIP).headers["Content-Encoding"] == "gzip"
        assert client.get(f"/geo/children/990101000000.geojson?v={n}", headers=GZIP).status_code == 200
    assert len(entries) == before + 2


def test_the_cache_keeps_at_most_its_budget_least_recently_used_out_first():
    cache = GzipCache(budget=1000)
    for n in range(10):
        cache.put((f"/assets/{n}.js", "", 400), b"x" * 400)
        cache.get(("/assets/0.js", "", 400))  # the first one stays in use
    assert cache.size <= 1000 and len(cache) == 2
    assert cache.get(("/assets/0.js", "", 400)) is not None and cache.get(("/assets/9.js", "", 400)) is not None
    cache.put(("/big.js", "", 2000), b"x" * 2000)  # larger than the whole budget: not kept
    assert cache.get(("/big.js", "", 2000)) is None
