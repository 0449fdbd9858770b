"""A screen outlives its server: badge and last content while it is down, recovery without a reload loop."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.conftest import free_port, serve

pytestmark = pytest.mark.browser


SCREENS = [
    # (address, what shows that the page is up, an element whose content must survive the outage)
    (
        "/screen/county?kiosk=1&screen=wall-1",
        "document.querySelectorAll('.panel-asof').length >= 5",
        "#panel-governance .panel-body",
    ),
    (
        "/board/990101001001?screen=board-1&refresh=1",
        "document.querySelector('.slide.active') !== null",
        ".slide.active .slide-body",
    ),
]


@pytest.mark.parametrize(("route", "ready", "content"), SCREENS, ids=["county-screen", "village-board"])
def test_server_restart_shows_badge_keeps_content_and_recovers(browser, tmp_path, route, ready, content):
    from etl.demo.build import build_demo
    from etl.warehouse.settings import Settings

    var_dir = tmp_path / "var"
    build_demo(Settings.load(var_dir=str(var_dir)), echo=lambda _line: None)
    port = free_port()
    environment = {"HEARTBEAT_SECONDS": "2"}
    process, base = serve(var_dir, environment, port=port)
    # A kiosk box's own zone is often UTC: the badge still says the time as the county reads it.
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True, timezone_id="UTC")
    page = context.new_page()
    loads = []
    page.on("load", lambda _page: loads.append(1))
    try:
        page.goto(base + route)
        page.wait_for_function(ready)
        page.wait_for_function(f"document.querySelector('{content}').innerText.length > 0")
        before = page.locator(content).inner_text()

        process.terminate()
        process.wait(timeout=20)
        page.wait_for_selector("#connection-badge", state="visible", timeout=30000)
        shown = re.search(r"连接中断 (\d\d):(\d\d)", page.locator("#connection-badge").inner_text())
        local = datetime.now(timezone(timedelta(hours=8)))
        minutes = int(shown[1]) * 60 + int(shown[2])
        assert abs(minutes - (local.hour * 60 + local.minute)) % 1440 in (0, 1, 2, 1439, 1438), shown[0]
        assert page.locator(content).inner_text() == before  # last good content stays

        process, base = serve(var_dir, environment, port=port)
        page.wait_for_selector("#connection-badge", state="hidden", timeout=60000)
        page.wait_for_timeout(3000)  # a few more heartbeats: the page must not reload itself
        assert len(loads) == 1
        assert page.locator(content).inner_text() == before
    finally:
        context.close()
        process.terminate()
        process.wait(timeout=20)
    from etl.warehouse.db import make_engine
    from etl.warehouse.screens import screen_states

    engine = make_engine(f"sqlite:///{var_dir / 'warehouse.db'}")
    with engine.connect() as connection:
        states = {state.screen_id: state for state in screen_states(connection)}
    screen_id = route.split("screen=")[1].split("&")[0]
    assert states[screen_id].route == route and states[screen_id].state == "ok"
    engine.dispose()
