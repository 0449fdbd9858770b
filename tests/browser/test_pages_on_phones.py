"""The plain pages as a phone (390×844) and a desktop (1440×900) show them, in Chromium: /alerts' table uses a
desktop's width and on a phone scrolls sideways in its own box, with note boxes wide enough to type in and short
cells on one line, the page itself never wider than the phone; /ops/screens likewise, a screen's route never broken
inside a word; a household's 村务公开 keeps each date on one line whatever the title's length."""

from __future__ import annotations

import json
import urllib.request

import pytest

from etl.demo.sample import BOARD_VILLAGE, COUNTY, VILLAGES, build_sample
from etl.runner import run_feed
from etl.warehouse import intake_notices
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.screens import register
from tests.alert_county import open_alert
from tests.browser.conftest import screenshot, serve
from tests.household_fixtures import coded, intake_feeds
from tests.sessions import PASSWORD, browser_log_in

pytestmark = pytest.mark.browser
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1440, "height": 900}
ROUTE = f"/board/{BOARD_VILLAGE}?screen=lobby-tab&profile=board-landscape"
# Titles of twelve lengths (the page lists twelve notices), read at phone widths from 360 to 430 px: some date
# falls where a line wraps.
TITLES = ["关于开展村道路灯维修与人居环境整治工作安排的通知"[:n] for n in range(8, 20)]

# How many lines a piece of text takes (the distinct tops of its line boxes).
LINES = """(element) => { const range = document.createRange(); range.selectNodeContents(element);
  return new Set([...range.getClientRects()].map(box => Math.round(box.top))).size; }"""
# The words of an element's text (letters, digits, - _ .) that the browser broke over two lines.
BROKEN_WORDS = """(element) => {
  const broken = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const word of node.textContent.matchAll(/[A-Za-z0-9_.-]+/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      if (new Set([...range.getClientRects()].map(box => Math.round(box.top))).size > 1) { broken.push(word[0]); }
    }
  }
  return broken; }"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The sample county with an admin, open alerts, a registered screen and a tab reporting a long route, a
    household with a code and notices of every title length; served by gunicorn over plain HTTP."""
    var_dir = tmp_path_factory.mktemp("phones-var")
    settings = build_sample(var_dir)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "phone-adm", "admin", COUNTY, password=PASSWORD)
        for village in VILLAGES:
            detail = f"设备 SEW-{village[-3:]} 污水COD 75.2 mg/L，超过告警条件 > 60 已持续 20 分钟"
            open_alert(connection, village, "污水COD超标", detail=detail)
        register(connection, "board-01", "board", region_code=BOARD_VILLAGE, location="村委会门口")
    _household, token = coded(engine, "H000")
    for title in TITLES:
        notice = {"kind": "village_affairs", "title": title, "body": "详见村务公开栏。"}
        intake_notices.publish(engine, BOARD_VILLAGE, notice, [], uploads_dir=settings.uploads_dir, author="cun")
    run_feed(engine, intake_feeds(var_dir, settings.warehouse_url)["office_notices"])
    process, base = serve(var_dir, {"COOKIE_SECURE": "false"})
    beat = json.dumps({"screen": "lobby-tab", "route": ROUTE}).encode()
    request = urllib.request.Request(f"{base}/api/heartbeat", beat, {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
    yield base, token
    process.terminate()
    process.wait(timeout=10)
    engine.dispose()


@pytest.fixture
def sized(browser):
    """A page of a given window size (CSP bypassed, as the functional tests do)."""
    contexts = []

    def make(viewport: dict, **options):
        context = browser.new_context(viewport=viewport, bypass_csp=True, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _alerts_page(sized, base: str, viewport: dict):
    page = sized(viewport)
    browser_log_in(page, base, "phone-adm", "/alerts")
    page.wait_for_selector("tr.alert-open")
    return page


def _alert_row_measures(page) -> dict:
    """What a person sees of the first open alert's row and of the page's width."""
    row = page.locator("tr.alert-open").first
    return {
        "page": page.evaluate("document.documentElement.scrollWidth"),
        "table": round(page.locator("table").bounding_box()["width"]),
        "级别": row.locator("td").nth(0).evaluate(LINES),
        "告警": row.locator("td").nth(1).evaluate(LINES),
        "状态": row.locator("td").nth(3).evaluate(LINES),
        "notes": [round(box.bounding_box()["width"]) for box in row.locator("input[name=note]").all()],
    }


def test_alerts_on_a_phone_scroll_in_their_box_with_room_to_type(served, sized):
    base, _token = served
    page = _alerts_page(sized, base, PHONE)
    screenshot(page, "alerts-phone")
    seen = _alert_row_measures(page)
    assert seen["page"] <= PHONE["width"], seen
    assert (seen["级别"], seen["告警"], seen["状态"]) == (1, 1, 1), seen
    assert len(seen["notes"]) == 2 and min(seen["notes"]) >= 120, seen
    box = page.locator("table").evaluate("t => { const s = getComputedStyle(t.parentElement); return s.overflowX; }")
    assert box == "auto", box
    # The box scrolls: the far side of the table (its 确认 button) is reached by scrolling the box, not the page.
    page.locator("tr.alert-open button").first.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_alerts_on_a_desktop_use_the_windows_width(served, sized):
    base, _token = served
    page = _alerts_page(sized, base, DESKTOP)
    screenshot(page, "alerts-desktop")
    seen = _alert_row_measures(page)
    assert seen["page"] <= DESKTOP["width"] and seen["table"] >= DESKTOP["width"] - 80, seen
    assert (seen["级别"], seen["告警"], seen["状态"]) == (1, 1, 1), seen
    assert min(seen["notes"]) >= 120, seen


def test_ops_screens_on_a_phone_scroll_in_their_boxes_and_keep_routes_whole(served, sized):
    base, _token = served
    page = sized(PHONE)
    browser_log_in(page, base, "phone-adm", "/ops/screens")
    page.wait_for_selector("#screens-unregistered")
    screenshot(page, "ops-screens-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for table in ("#screens-table", "#screens-unregistered"):
        assert page.locator(table).evaluate("t => getComputedStyle(t.parentElement).overflowX") == "auto", table
    route = page.locator("#screens-unregistered td.ops-route").first
    assert route.inner_text().replace("\n", "") == ROUTE
    for table in ("#screens-table", "#screens-unregistered"):  # a route, a screen's id, a time: each whole
        assert page.locator(table).evaluate(BROKEN_WORDS) == [], table


def test_a_households_notice_dates_keep_one_line(served, sized):
    base, token = served
    page = sized(PHONE, is_mobile=True, device_scale_factor=2)
    page.goto(f"{base}/h/{token}")
    dates = page.locator("#notices summary .small")
    assert dates.count() == len(TITLES)
    broken = set()
    for width in range(360, 432, 3):
        page.set_viewport_size({"width": width, "height": 844})
        lines = dates.evaluate_all(f"dates => dates.map({LINES})")
        broken |= {
            (width, title)
            for title, count in zip(page.locator("#notices summary").all_inner_texts(), lines, strict=True)
            if count > 1
        }
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size(PHONE)
    screenshot(page, "household-notices-phone")
    assert not broken, sorted(broken)
