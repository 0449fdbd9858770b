"""The county big screen in real Chromium: panels filled from the warehouse at 1080p and 4K, drill-down,
kiosk rotation, and no phone or ID number in any response of a whole visit."""

from __future__ import annotations

import contextlib
import re

import pytest

from tests.browser.conftest import screenshot
from tests.privacy_formats import response_leaks

pytestmark = pytest.mark.browser
PANELS = ("governance", "industry", "livelihood", "environment", "security", "rankings")


def wait_for_numbers(page) -> None:
    page.wait_for_function(
        "[...document.querySelectorAll('.panel-asof')].length >= 5 && "
        "[...document.querySelectorAll('.panel-asof')].every(e => e.innerText.startsWith('数据截至'))"
    )


def panel_text(page, name: str) -> str:
    return page.locator(f"#panel-{name} .panel-body").inner_text()


@pytest.mark.parametrize(
    ("width", "height", "profile", "zoom"),
    [
        (1920, 1080, "county-1080p", 1.0),
        (3840, 2160, "county-1080p", 2.0),
        (3840, 2160, "county-4k", 2.0),  # the 1080p design drawn at ×2
        (3840, 1080, "county-wide", 1.5),  # a 2560×720 design at ×1.5
    ],
)
def test_every_panel_shows_warehouse_numbers_at_each_size(browser, sample_server, width, height, profile, zoom):
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{sample_server}/screen/county?profile={profile}")
    wait_for_numbers(page)
    for name in PANELS:
        numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", panel_text(page, name))]
        assert any(numbers), f"panel {name} shows no number"
    assert "积分" in panel_text(page, "rankings") and "暂无数据" not in panel_text(page, "rankings")
    assert re.search(r"今日受理\s*\d+\s*件", page.locator("#screen-kpis").inner_text())
    industry = panel_text(page, "industry")
    assert re.search(r"农业传感器\s*2\s*个", industry) and re.search(r"土壤墒情\s*40\s*%", industry), industry
    heights = page.evaluate(
        "[...document.querySelectorAll('#panel-industry .spark-columns span')].map(s => s.style.height)"
    )
    assert len(heights) == 30 and sum(h != "0%" for h in heights) >= 3  # the sample's orders on several days
    governance = panel_text(page, "governance")
    assert re.search(r"受理\s*24\s*件", governance), governance  # the 24 cases of the fixture
    fills = page.evaluate("[...document.querySelectorAll('#screen-map path')].map(p => p.getAttribute('fill'))")
    assert len(fills) == 12 and len(set(fills)) >= 2  # the choropleth tells townships with cases apart
    canvas_zoom = page.evaluate("Number(getComputedStyle(document.getElementById('screen-canvas')).zoom)")
    assert canvas_zoom == pytest.approx(zoom, rel=0.01)
    screenshot(page, f"county-screen-{profile}-{width}x{height}")
    assert errors == []
    context.close()


def test_drill_rescopes_panels_and_url_and_back(page, sample_server):
    page.goto(f"{sample_server}/screen/county")
    wait_for_numbers(page)
    assert page.locator("#breadcrumb").inner_text().strip() == "示范县"
    box = page.locator(".region-label", has_text=re.compile("^城关街道$")).first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"region=990101001000"))
    wait_for_numbers(page)
    page.wait_for_function("document.querySelector('#breadcrumb').innerText.includes('城关街道')")
    # 城关街道 holds two of the fixture's four villages: half of the 24 cases.
    page.wait_for_function("/受理\\s*12\\s*件/.test(document.querySelector('#panel-governance .panel-body').innerText)")
    page.locator("#breadcrumb a", has_text="示范县").click()
    page.wait_for_function("/受理\\s*24\\s*件/.test(document.querySelector('#panel-governance .panel-body').innerText)")
    # The drill was a step in the history: the back button returns to the township.
    page.go_back()
    page.wait_for_url(re.compile(r"region=990101001000$"))
    page.wait_for_function("/受理\\s*12\\s*件/.test(document.querySelector('#panel-governance .panel-body').innerText)")
    page.go_back()
    page.wait_for_url(re.compile(r"/screen/county$"))
    page.wait_for_function("/受理\\s*24\\s*件/.test(document.querySelector('#panel-governance .panel-body').innerText)")
    assert page.errors == []


def test_kiosk_rotates_themes_hides_the_cursor_and_leaks_no_personal_data(page, sample_server):
    bodies = []

    def keep(response):
        if response.request.resource_type in ("document", "xhr", "fetch"):
            with contextlib.suppress(Exception):  # redirects and aborted requests have no body
                bodies.append(response.text())

    page.on("response", keep)
    page.goto(f"{sample_server}/screen/county?kiosk=1&rotate=1")
    wait_for_numbers(page)
    ticker = page.locator("#ticker").text_content()
    assert "138****5005" in ticker  # the phone inside a case title, masked
    assert "张" not in ticker  # no reporter next to a case, not even masked (the sample's are 张三明 …)
    # A petition (信访投诉) is shown by its topic only, never by its title.
    assert "信访事项" in ticker and not re.search(r"反映问题2(?!\d)", ticker)
    first = page.locator("#map-theme .theme-label").inner_text()
    page.wait_for_function(f"document.querySelector('#map-theme .theme-label').innerText !== {first!r}", timeout=15000)
    assert page.evaluate("getComputedStyle(document.querySelector('.screen')).cursor") == "none"
    assert page.locator(".leaflet-control-zoom").count() == 0
    box = page.locator(".region-label").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # drill in kiosk mode too
    page.wait_for_url(re.compile(r"region=\d{12}&kiosk=1"))
    wait_for_numbers(page)
    for body in bodies:
        assert response_leaks(body) == []
    assert len(bodies) > 5
    assert page.errors == []


def test_village_level_shows_devices_by_status_and_alarms(page, sample_server):
    page.goto(f"{sample_server}/screen/county?region=990101001001")  # the sample's camera there is offline
    wait_for_numbers(page)
    page.wait_for_selector("#screen-map path.leaflet-interactive[fill='#ff5252']")
    colours = page.evaluate(
        "[...document.querySelectorAll('#screen-map path.leaflet-interactive')]"
        ".map(p => p.getAttribute('fill')).filter(f => ['#3ddc84', '#ff5252', '#8a8f98'].includes(f))"
    )
    assert len(colours) == 4 and colours.count("#ff5252") == 1  # bin, air station, sewage plant, camera
    assert "摄像头离线" in page.locator("#ticker").text_content()
    assert re.search(r"未消除告警\s*1\s*条", panel_text(page, "security"))
    assert page.errors == []


def test_a_touch_pauses_theme_rotation_until_the_screen_is_left_alone(page, sample_server):
    page.goto(f"{sample_server}/screen/county?kiosk=1&rotate=0.5&idle=3")
    wait_for_numbers(page)
    label = "document.querySelector('#map-theme .theme-label').innerText"
    first = page.evaluate(label)
    page.wait_for_function(f"{label} !== {first!r}")
    page.locator("#panel-rankings").click()  # a leader taps a panel (not the map, which would drill)
    held = page.evaluate(label)
    page.wait_for_timeout(2000)  # four rotation periods, all within the idle time
    assert page.evaluate(label) == held
    page.wait_for_function(f"{label} !== {held!r}", timeout=10000)  # it moves on once nobody touches it
    assert page.errors == []


def test_a_profile_of_another_kind_falls_back_to_the_county_canvas(page, sample_server):
    page.goto(f"{sample_server}/screen/county?profile=board-portrait")
    wait_for_numbers(page)
    canvas = page.locator("#screen-canvas")
    assert (canvas.get_attribute("data-width"), canvas.get_attribute("data-height")) == ("1920", "1080")
    assert page.errors == []


def test_a_refresh_redraws_only_what_changed_and_a_drill_keeps_the_profile(page, sample_server):
    page.goto(f"{sample_server}/screen/county?profile=county-4k&refresh=1")
    wait_for_numbers(page)
    updated = "document.querySelector('#screen-state .updated').innerText"
    first = page.evaluate(updated)
    # Mark what is on screen now: an unchanged part must still be the same element after refreshes.
    page.evaluate("document.querySelector('#ticker .ticker-track').dataset.seen = 'yes'")
    page.wait_for_function(f"{updated} !== {first!r}")  # refreshes came in (the time is to the second)
    assert page.locator("#ticker .ticker-track[data-seen='yes']").count() == 1  # the ticker kept scrolling
    assert re.search(r"受理\s*24\s*件", panel_text(page, "governance"))
    box = page.locator(".region-label", has_text=re.compile("^城关街道$")).first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"region=990101001000&profile=county-4k&refresh=1"))
    page.wait_for_function("/受理\\s*12\\s*件/.test(document.querySelector('#panel-governance .panel-body').innerText)")
    assert page.locator("#screen-canvas").get_attribute("data-scale") == "2"  # still the 4K profile
    assert (
        page.locator("#breadcrumb a").get_attribute("href")
        == "/screen/county?region=990101000000&profile=county-4k&refresh=1"
    )
    assert page.errors == []
