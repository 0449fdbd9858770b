"""assets/keeper.js on an unattended screen: the daily reload at RELOAD_AT in the county's time (UTC+8) whatever zone
the kiosk box runs in, and an error screen that recovers by itself once the data it lacked arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.browser.conftest import serve

pytestmark = pytest.mark.browser
CHINA = timezone(timedelta(hours=8))
REGIONS = Path(__file__).resolve().parents[2] / "data" / "demo" / "regions.csv"
# Records the delay of every timer that reloads the page (window.__reloads), from the page's first script on.
RECORD_RELOADS = """
(() => {
  const real = window.setTimeout;
  window.__reloads = [];
  window.setTimeout = function (callback, ms) {
    if (String(callback).indexOf("location.reload") !== -1) { window.__reloads.push(ms); }
    return real.apply(this, arguments);
  };
})();
"""


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    """A warehouse at the newest schema without any region, served with a heartbeat a second; (base URL, settings)."""
    from etl.warehouse.db import make_engine, migrate
    from etl.warehouse.settings import Settings

    var_dir = tmp_path_factory.mktemp("empty-var")
    settings = Settings.load(var_dir=str(var_dir))
    engine = make_engine(settings.warehouse_url)
    migrate(engine)
    engine.dispose()
    process, base = serve(var_dir, {"HEARTBEAT_SECONDS": "1"})
    yield base, settings
    process.terminate()
    process.wait(timeout=10)


def next_reload(now: datetime) -> datetime:
    """The next 03:00 (the default RELOAD_AT) in UTC+8 after ``now``."""
    local = now.astimezone(CHINA)
    at = local.replace(hour=3, minute=0, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/Los_Angeles"])
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 10, 12, 0, tzinfo=UTC),  # 20:00 in the county
        datetime(2026, 3, 10, 20, 0, tzinfo=UTC),  # 04:00 in the county, a day later than in Los Angeles
        datetime(2026, 11, 1, 18, 59, tzinfo=UTC),  # 02:59 in the county, Los Angeles's summer time ends
    ],
    ids=["evening", "early-morning", "a-minute-before"],
)
def test_the_daily_reload_is_at_reload_at_in_the_countys_time(browser, empty_server, zone, now):
    base, _settings = empty_server
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True, timezone_id=zone)
    page = context.new_page()
    try:
        page.clock.set_fixed_time(now)
        page.add_init_script(RECORD_RELOADS)
        page.goto(base + "/screen/county?kiosk=1")
        page.wait_for_function("window.__reloads.length > 0")
        delays = page.evaluate("window.__reloads")
    finally:
        context.close()
    assert delays == [(next_reload(now) - now) / timedelta(milliseconds=1)], zone


def test_an_error_screen_recovers_once_the_data_arrives_and_does_not_reload_before(browser, empty_server):
    from etl.regions import import_codes_file
    from etl.warehouse.db import make_engine

    base, settings = empty_server
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page = context.new_page()
    loads = []
    page.on("load", lambda _page: loads.append(1))
    try:
        page.goto(base + "/screen/county?kiosk=1&screen=wall-empty")
        page.wait_for_selector(".screen-error .error-reason")
        assert "还没有区划" in page.locator(".error-reason").inner_text()
        # Several heartbeats while nothing changed: the error screen stays, no reload.
        for _ in range(4):
            page.wait_for_event("requestfinished", lambda request: "/api/heartbeat" in request.url)
        assert len(loads) == 1 and page.locator(".screen-error").count() == 1

        engine = make_engine(settings.warehouse_url)
        import_codes_file(engine, REGIONS)
        engine.dispose()
        page.wait_for_selector("#panel-governance", timeout=30000)
        assert page.locator(".screen-error").count() == 0
        assert len(loads) == 2
    finally:
        context.close()


def test_a_busy_warehouse_is_not_shown_as_a_lost_connection(browser, empty_server):
    """A heartbeat the server answers 503 (the warehouse busy with a long load's commit, dashboard/heartbeat.py):
    the server is there and the screen keeps its content; keeper.js showed 连接中断 as for a cut cable."""
    base, _settings = empty_server
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page = context.new_page()
    answered = []

    def busy(route):
        answered.append(1)
        route.fulfill(status=503, content_type="application/json", body='{"error": "数据仓库正忙"}')

    try:
        page.route("**/api/heartbeat", busy)
        page.goto(base + "/screen/county?kiosk=1&screen=wall-busy")
        for _ in range(3):
            page.wait_for_event("requestfinished", lambda request: "/api/heartbeat" in request.url)
        assert len(answered) >= 3
        assert not page.locator("#connection-badge").is_visible()
        page.unroute("**/api/heartbeat")
        page.route("**/api/heartbeat", lambda route: route.abort())  # now the server is gone: the badge shows
        page.wait_for_selector("#connection-badge", state="visible", timeout=30000)
    finally:
        context.close()


def test_the_daily_reload_waits_for_the_server(browser, empty_server):
    """At RELOAD_AT with the server down (a night's maintenance), a reload left Chromium's own error page on the
    wall for good: it has no script to come back from. The page now reloads once the server answers."""
    base, _settings = empty_server
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page = context.new_page()
    loads, asked = [], []
    page.on("load", lambda _page: loads.append(1))

    def down(route):
        asked.append(1)
        route.abort()

    try:
        page.clock.install(time=datetime(2026, 3, 10, 18, 59, 0, tzinfo=UTC))  # 02:59 in the county
        page.goto(base + "/screen/county?kiosk=1&screen=wall-night")
        page.wait_for_selector(".screen-error, #panel-governance")
        page.route("**/healthz", down)
        page.clock.run_for("02:00")  # 03:00 passes while the server is down
        page.wait_for_timeout(500)
        assert asked and len(loads) == 1  # asked, and stayed on its page
        page.unroute("**/healthz")
        with page.expect_event("load", timeout=30000):
            page.clock.run_for("01:05")  # a minute later the server answers: the reload
        assert len(loads) == 2
    finally:
        context.close()
