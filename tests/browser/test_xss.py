"""Stored XSS: HTML and script in every text field of every dataset (device ids, names, titles, notices, finance
lines, stop names, routes, weather, incident kinds, services' labels, region names, a screen's location and
route) reach every page as text. Every page is visited, markers hovered and clicked, every slide shown; any
script that runs (an alert), any element the payloads would make, any CSP report fails the test."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from etl.cli import main
from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP
from tests.browser.conftest import open_page, serve
from tests.hostile_county import STOP, build_hostile
from tests.sessions import add_admin, browser_log_in

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(2)>",
    '"><script>alert(3)</script>',
    "<b class=xss>4</b>",
    "<iframe srcdoc='<script>parent.alert(5)</script>'>",
    "<a href=javascript:alert(6) class=xss>6</a>",
]
# Elements the payloads would create if any were parsed as HTML.
INJECTED = "img[src='x'], svg[onload], iframe, .xss, a[href^='javascript'], #react-entry-point script"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """The sample county with the payloads in every text field, a screen registered with a payload location
    (its heartbeat's route a payload too), served by gunicorn."""
    var_dir = tmp_path_factory.mktemp("xss-var")
    settings = build_hostile(var_dir, PAYLOADS, region_names=True)
    runner = CliRunner()
    registered = runner.invoke(
        main,
        ["--var-dir", str(var_dir), "screens", "register", "wall-x", "--kind", "county", "--location", PAYLOADS[0]],
    )
    assert registered.exit_code == 0, registered.output
    add_admin(var_dir)  # for the ops page
    process, base = serve(var_dir, {"SERVICES_FILE": settings.services_file})
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def watched(browser):
    """A page (CSP enforced: a CSP report means markup tried to run) that records dialogs and errors."""
    context, page = open_page(browser, enforce_csp=True)
    page.dialogs = []

    def dismiss(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    yield page
    context.close()


def check(page, where: str) -> None:
    """Nothing ran, nothing was injected, nothing was refused by the CSP."""
    assert page.dialogs == [], f"{where}: script ran: {page.dialogs}"
    injected = page.evaluate(f"[...document.querySelectorAll({INJECTED!r})].map(e => e.outerHTML.slice(0, 80))")
    assert injected == [], f"{where}: markup from data became elements: {injected}"
    assert page.evaluate("window.__violations") == [], f"{where}: CSP refused something"
    assert page.errors == [], f"{where}: {page.errors}"


def wait_until(page, script: str, timeout_ms: int = 15000) -> None:
    """Poll a condition from Python (the CSP forbids the string evaluation wait_for_function uses)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not true within {timeout_ms} ms: {script}")


def test_county_screen_at_every_level_with_device_tooltips_hovered(watched, hostile_server):
    for region in ("", f"?region={TOWNSHIP}", f"?region={BOARD_VILLAGE}"):
        watched.goto(f"{hostile_server}/screen/county{region}")
        wait_until(
            watched, "document.querySelectorAll('.panel-asof').length >= 5 && !!document.querySelector('#ticker span')"
        )
        watched.wait_for_selector("#screen-map path.leaflet-interactive")
        check(watched, f"county screen {region}")
    ticker = watched.locator("#ticker").inner_text()
    assert PAYLOADS[0] in ticker and PAYLOADS[2] in ticker  # shown, as text
    assert PAYLOADS[0] in watched.locator("#breadcrumb").inner_text()  # the village's name
    # The devices' dots (coloured by status; the regions' polygons under them drill when clicked).
    colours = ("#3ddc84", "#ff5252", "#8a8f98")  # ok, alarm, silent (dashboard/pages/county_screen.py)
    markers = watched.locator(", ".join(f"#screen-map path.leaflet-interactive[fill='{c}']" for c in colours))
    assert markers.count() >= len(PAYLOADS)
    shown = set()
    for index in range(markers.count()):
        markers.nth(index).dispatch_event("mouseover")  # what Leaflet listens to, even under another layer
        watched.wait_for_timeout(50)
        shown |= set(watched.locator(".leaflet-tooltip").all_inner_texts())
        markers.nth(index).hover(force=True)  # and the pointer itself: the dots are above the regions
        watched.wait_for_timeout(50)
        shown |= set(watched.locator(".leaflet-tooltip").all_inner_texts())
        markers.nth(index).click(force=True)  # a popup, if a layer bound one, opens on click
        check(watched, f"device marker {index}")
    assert any(PAYLOADS[1] in text for text in shown), shown  # the device ids' tooltips, as text
    # The scripted refresh draws the same content again: still text.
    watched.wait_for_timeout(1500)
    check(watched, "county screen after refreshes")


def test_board_shows_every_slide_as_text(watched, hostile_server):
    watched.goto(f"{hostile_server}/board/{BOARD_VILLAGE}?rotate=0.6&refresh=1")
    watched.wait_for_selector(".slide.active")
    seen = set()
    for _ in range(150):
        seen.add(watched.evaluate("JSON.parse(document.querySelector('.slide.active').id).slide"))
        if len(seen) == 8:
            break
        watched.wait_for_timeout(100)
    assert len(seen) == 8, seen
    check(watched, "board")
    text = watched.locator("#screen-canvas").inner_text()
    assert PAYLOADS[0] in watched.locator(".board-header h1").inner_text()
    assert PAYLOADS[3] in text and PAYLOADS[4] in text


def test_stop_drill_ops_and_ping_pages(watched, hostile_server):
    watched.goto(f"{hostile_server}/stop/{STOP}?rotate=0.5&refresh=1")
    watched.wait_for_selector(".bus")
    watched.wait_for_timeout(2500)  # rotations and a refresh
    check(watched, "stop")
    assert watched.locator(".stop-header h1").inner_text() == PAYLOADS[0]
    for address in ("/", f"/?region={TOWNSHIP}", f"/?region={BOARD_VILLAGE}", "/ping"):
        watched.goto(hostile_server + address)
        watched.wait_for_selector("#react-entry-point *")
        watched.wait_for_timeout(500)
        check(watched, address)
    watched.request.post(f"{hostile_server}/api/heartbeat", data={"screen": "unknown-x", "route": PAYLOADS[1]})
    browser_log_in(watched, hostile_server, "yunwei", "/ops/screens")  # an admin's page
    watched.wait_for_selector(".ops table")
    table = watched.locator(".ops").inner_text()  # registered screens, and unregistered ones apart
    assert PAYLOADS[0] in table and PAYLOADS[1] in table
    check(watched, "ops")
