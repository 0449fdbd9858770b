"""The drill-down in real Chromium: county → township → village and back through the breadcrumb."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
COUNTY = "990101000000"


def paths(page):
    return page.locator("#region-map .leaflet-overlay-pane path")


def click_region(page, name: str) -> None:
    """Click the map where a region's label sits: inside its polygon and in view, as a person would."""
    box = page.locator(".region-label", has_text=re.compile(f"^{name}$")).first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_drill_from_county_to_village_and_back(page, demo_server):
    page.goto(demo_server + "/")
    page.wait_for_selector("#region-map .leaflet-overlay-pane path")
    assert paths(page).count() == 12  # the twelve townships of 示范县
    assert page.locator("#breadcrumb").inner_text().strip() == "示范县"
    assert page.locator(".drill-header").inner_text().count("示范县") == 1  # the title does not repeat it
    assert "虚线为示意边界" in page.locator("#map-legend").inner_text()
    # Every name stands on a region and lets clicks and hovers through to it.
    assert page.locator(".region-label").count() == 12
    assert page.evaluate(
        """[...document.querySelectorAll('.region-label')].every(label => {
            const box = label.getBoundingClientRect();
            const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return hit !== null && hit.matches('#region-map path.leaflet-interactive');
        })"""
    )
    screenshot(page, "drill-county")

    township = page.locator(".region-label").first.inner_text()
    click_region(page, township)
    page.wait_for_url(re.compile(r"\?region=990101\d{3}000$"))
    page.wait_for_function("document.querySelector('#breadcrumb').innerText.includes('›')")
    assert page.locator("#breadcrumb").inner_text().split("›")[-1].strip() == township
    page.wait_for_function("document.querySelectorAll('#region-map .leaflet-overlay-pane path').length != 12")
    villages = page.locator(".region-label").all_inner_texts()
    assert villages and all(name.endswith(("村", "社区")) for name in villages)
    assert paths(page).count() == len(villages)

    village = villages[0]
    click_region(page, village)
    page.wait_for_url(re.compile(r"\?region=990101\d{6}$"))
    page.wait_for_selector("#region-info h3")
    assert page.locator("#region-info h3").inner_text() == village
    assert page.locator("#breadcrumb").inner_text().replace(" ", "").split("›") == ["示范县", township, village]
    screenshot(page, "drill-village")

    page.locator("#breadcrumb a", has_text="示范县").click()
    page.wait_for_url(re.compile(rf"(\?region={COUNTY}|/)$"))
    page.wait_for_function("document.querySelectorAll('#region-map .leaflet-overlay-pane path').length == 12")
    assert page.locator("#breadcrumb").inner_text().strip() == "示范县"
    page.go_back()
    page.wait_for_selector("#region-info h3")
    assert page.locator("#region-info h3").inner_text() == village  # the back button returns to the selection
    assert page.errors == []


def test_responses_are_gzipped(demo_server):
    import urllib.request

    request = urllib.request.Request(demo_server + "/geo/children/" + COUNTY + ".geojson")
    request.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Content-Type"].startswith("application/geo+json")
    for bad in ("12345", "990101999999", "manifest"):  # not a code, an unknown code, not a region file
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{demo_server}/geo/children/{bad}.geojson")
        assert error.value.code == 404


def test_a_configured_basemap_is_drawn_from_its_local_tile_server_in_its_crs(browser, tmp_path):
    """TILE_URL puts tiles under the boundaries (here from a tile server on loopback); TILE_CRS=gcj02 shifts
    the boundaries the way 高德 tiles are shifted, so both line up. The page runs under the app's CSP, which
    lets the tiles' server in (img-src) and nothing else of it."""
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import orjson

    from etl.demo.build import build_demo
    from etl.warehouse.settings import Settings
    from geo.crs import wgs84_to_gcj02
    from tests.browser.conftest import open_page, serve

    requested = []
    tile = (  # a 1×1 grey PNG
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU\x00\x00"
        b"\x00\nIDATx\x9cc\xb8\x0f\x00\x00\x82\x00\x81\x8b\xa2\xb0\xf5\x00\x00\x00\x00IEND\xaeB`\x82"
    )

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            requested.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *_args):
            pass

    tiles = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=tiles.serve_forever, daemon=True).start()
    var_dir = tmp_path / "var"
    build_demo(Settings.load(var_dir=str(var_dir)), echo=lambda _line: None)
    environment = {"TILE_URL": f"http://127.0.0.1:{tiles.server_port}/{{z}}/{{x}}/{{y}}.png", "TILE_CRS": "gcj02"}
    process, base = serve(var_dir, environment)
    context, page = open_page(browser, enforce_csp=True)
    try:
        page.goto(base + "/")
        page.wait_for_selector("#region-map .leaflet-overlay-pane path")
        page.wait_for_selector("#region-map img.leaflet-tile-loaded")
        assert requested and all(re.fullmatch(r"/\d+/\d+/\d+\.png", path) for path in requested)
        served = orjson.loads(urllib.request.urlopen(f"{base}/geo/children/{COUNTY}.geojson").read())
        built = orjson.loads((var_dir / "geo" / "children" / f"{COUNTY}.geojson").read_bytes())
        lon, lat = built["features"][0]["geometry"]["coordinates"][0][0]
        expected = wgs84_to_gcj02(lon, lat)
        shifted = served["features"][0]["geometry"]["coordinates"][0][0]
        assert shifted == pytest.approx(expected, abs=1e-6) and shifted != pytest.approx([lon, lat], abs=1e-4)
        # The names stand at label points shifted alike, inside their regions on the tiles.
        label = built["features"][0]["properties"]["label"]
        assert served["features"][0]["properties"]["label"] == pytest.approx(wgs84_to_gcj02(*label), abs=1e-6)
        tiles_before = len(requested)
        page.goto(base + "/screen/county")  # the big screen draws the same basemap under its choropleth
        page.wait_for_selector("#screen-map img.leaflet-tile-loaded")
        page.wait_for_selector("#screen-map .leaflet-overlay-pane path")
        assert len(requested) > tiles_before
        assert page.errors == [] and page.evaluate("window.__violations") == []
    finally:
        context.close()
        process.terminate()
        process.wait(timeout=10)
        tiles.shutdown()
