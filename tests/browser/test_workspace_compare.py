"""/explore's 下级对比 as a county leader sees it on desktop screens: the whole table shows, every column header and
every cell inside the box the table sits in, and the choropleth beside or below it at a usable size. The hostile
review found, at 1440×900, the table 667 px wide in a 547 px box: 去年同期（件） cut to 去年同 and 同比 out of sight,
nothing on the page saying the box scrolls. (On a phone the table scrolls in its box: test_workspace.py.)"""

from __future__ import annotations

import pytest

from etl.demo.sample import COUNTY
from etl.warehouse.accounts import add_user, get_user
from etl.warehouse.db import make_engine
from etl.warehouse.settings import Settings
from tests.browser.conftest import screenshot, serve
from tests.sessions import PASSWORD, browser_log_in

pytestmark = pytest.mark.browser
LEADER = "xian-compare"

# The compare table's header cells and body cells each as shown (inside the table's box and the window) or not,
# the box's and the table's widths, and the map's size.
SEEN = """() => {
  const table = document.getElementById('explore-table-compare');
  const box = table.parentElement.getBoundingClientRect();
  const right = Math.min(box.right, document.documentElement.clientWidth);
  const inside = e => { const r = e.getBoundingClientRect(); return r.left >= box.left - 1 && r.right <= right + 1; };
  const map = document.querySelector('.explore-map').getBoundingClientRect();
  return {heads: [...table.querySelectorAll('th')].map(th => [th.textContent, inside(th)]),
          cells: [...table.querySelectorAll('td')].filter(td => !inside(td)).map(td => td.textContent),
          box: Math.round(box.width), table: table.scrollWidth, map: [Math.round(map.width), Math.round(map.height)]};
}"""


@pytest.fixture(scope="module")
def county_server(sample_var):
    """The sample served for a county leader's login over plain HTTP."""
    engine = make_engine(Settings.load(var_dir=str(sample_var)).warehouse_url)
    with engine.begin() as connection:
        if get_user(connection, LEADER) is None:
            add_user(connection, LEADER, "county", COUNTY, password=PASSWORD)
    engine.dispose()
    process, base = serve(sample_var, {"COOKIE_SECURE": "false"})
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize("size", [(1280, 800), (1440, 900), (1920, 1080)])
def test_a_desktop_shows_the_whole_compare_table_and_its_map(browser, county_server, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    try:
        browser_log_in(page, county_server, LEADER, "/explore")
        page.wait_for_selector("#explore-table-compare th")
        page.wait_for_selector(".explore-map .leaflet-interactive")
        page.locator("#explore-table-compare").scroll_into_view_if_needed()
        screenshot(page, f"workspace-compare-{width}")
        seen = page.evaluate(SEEN)
        assert [head for head, _ in seen["heads"]][-2:] == ["去年同期（件）", "同比"], seen["heads"]
        hidden = [head for head, shown in seen["heads"] if not shown]
        assert hidden == [] and seen["cells"] == [], seen
        assert seen["table"] <= seen["box"] + 1, seen  # nothing left to scroll to
        assert seen["map"][0] >= 400 and seen["map"][1] >= 400, seen  # the choropleth beside or under it, usable
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
