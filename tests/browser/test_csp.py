"""The screens run under the Content Security Policy the app sends, in Chromium: every page, a drill, every slide
of a board, the stop's rotation; no CSP report, no console error. The policy allows no inline script but
Dash's own (by hash) and no eval."""

from __future__ import annotations

import re

import pytest

from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP
from tests.browser.conftest import open_page
from tests.sessions import add_admin, browser_log_in

pytestmark = pytest.mark.browser

PAGES = [
    "/screen/county?kiosk=1&rotate=1&refresh=1",
    f"/screen/county?region={TOWNSHIP}",
    f"/screen/county?region={BOARD_VILLAGE}&profile=county-4k",
    f"/board/{BOARD_VILLAGE}?rotate=0.5&refresh=1",
    f"/board/{BOARD_VILLAGE}?profile=board-landscape",
    "/stop/S01?rotate=0.5&refresh=1",
    "/",
    f"/?region={BOARD_VILLAGE}",
    "/ops/screens",
    "/ping",
]


@pytest.fixture
def enforced(browser):
    """A page under the CSP (not bypassed) that records CSP reports and every console error."""
    context, page = open_page(browser, enforce_csp=True)
    yield page
    context.close()


def test_the_policy_allows_no_inline_script_but_dashs_own_and_no_eval(enforced, sample_server):
    response = enforced.goto(sample_server + "/screen/county")
    policy = response.headers["content-security-policy"]
    script = re.search(r"script-src ([^;]+)", policy).group(1).split()
    assert script[0] == "'self'" and all(source.startswith("'sha256-") for source in script[1:])
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("address", PAGES)
def test_every_screen_loads_and_runs_under_the_policy(enforced, sample_server, sample_var, address):
    if address == "/ops/screens":  # an admin's page: the login form first, under the policy too
        browser_log_in(enforced, sample_server, add_admin(sample_var), address)
    enforced.goto(sample_server + address)
    enforced.wait_for_selector("#react-entry-point *")
    if "/screen/county" in address:
        enforced.wait_for_selector("#screen-map .leaflet-overlay-pane path")
        enforced.wait_for_selector("#panel-governance .panel-body *")  # drawn by assets/ruralbrain.js
    if "/board/" in address:
        enforced.wait_for_selector(".qr img", state="attached")  # the QR codes are data: images
    enforced.wait_for_timeout(3000)  # refreshes, rotations, a heartbeat
    if address.startswith("/screen/county?kiosk"):
        label = enforced.locator(".region-label").first
        box = label.bounding_box()
        enforced.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a drill
        enforced.wait_for_url(re.compile(r"region=\d{12}"))
        enforced.wait_for_selector("#screen-map .leaflet-overlay-pane path")
        enforced.wait_for_timeout(1500)
    assert enforced.evaluate("window.__violations") == []
    assert enforced.errors == []
