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
    assert "虚线为示意边界" in page.locator("#map-legend").inner_text()
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
