"""村务公开 on an upright (1080×1920) and a landscape (1920×1080) board in real Chromium, with one to four notices of
long and short texts: a notice's text may end in … only when the slide has no line left for it. The hostile review
found four notices cut to one line each above some 208 px of empty paper upright (a fixed one-line clamp for four
notices), and one notice cut at eight lines above a third of the slide; across, one or two notices were cut at four
lines above some 250 px of nothing."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest

from etl.demo.sample import VILLAGES, build_sample
from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.db import make_engine
from layouts.profiles import profiles
from tests.browser.conftest import screenshot, serve
from tests.browser.layout import check

pytestmark = pytest.mark.browser

LONG_TITLE = "关于村集体经济项目收益分配方案及村级公益事业建设项目实施情况的公示"
LONG_BODY = (
    "根据村民代表会议决议，现将本村集体经济项目收益分配方案、村级公益事业建设项目实施情况及资金使用明细予以公示，"
    "公示期为七个工作日。公示期间如有异议，请以书面形式向村务监督委员会反映，或拨打乡镇纪委监督电话反映问题。"
    "公示内容包括项目名称、建设地点、资金来源、投资规模、施工单位、验收结果和资金拨付进度等，欢迎广大村民监督。"
) * 3
SHORT_BODY = "请各户于本周六上午清理房前屋后。"
# Village → its new notices (title, body), newest first. With the sample's own notices the village affairs slide of
# VILLAGES[0] shows these four, VILLAGES[1] three (its one short sample notice under these two), VILLAGES[2] two
# and VILLAGES[3] one.
NOTICES = {
    VILLAGES[0]: [
        (LONG_TITLE, LONG_BODY),
        ("人居环境整治通知", SHORT_BODY),
        ("医保参保缴费通知", LONG_BODY),
        (LONG_TITLE, LONG_BODY),
    ],
    VILLAGES[1]: [(LONG_TITLE, LONG_BODY), ("村道硬化项目公示", LONG_BODY)],
    VILLAGES[2]: [("村道硬化项目公示", LONG_BODY), (LONG_TITLE, LONG_BODY)],
    VILLAGES[3]: [(LONG_TITLE, LONG_BODY)],
}
SHOWN = {VILLAGES[0]: 4, VILLAGES[1]: 3, VILLAGES[2]: 2, VILLAGES[3]: 1}

# Show the village affairs slide, rotation held (as tests/browser/test_layout_profiles.py does).
SHOW = """() => document.querySelectorAll('.slide').forEach(s => {
  s.className = JSON.parse(s.id).slide === 'village_affairs' ? 'slide active' : 'slide'; })"""
# Per notice of the shown slide: whether its text (the visible one) is cut (… drawn by a clamp, or at the end of
# the text), its line height, and the empty band under it: down to the next notice (less the list's gap) or to the
# end of the list, less the notice's own padding and rule.
NOTICES_SEEN = """() => {
  const list = document.querySelector('.slide.active .notices');
  const bottom = list.getBoundingClientRect().bottom;
  const gap = parseFloat(getComputedStyle(list).rowGap) || 0;
  const items = [...list.querySelectorAll('.notice')];
  return {name: list.className, notices: items.map((item, i) => {
    const text = [...item.querySelectorAll('p')].find(p => p.checkVisibility({visibilityProperty: true}));
    const style = getComputedStyle(item);
    const below = i + 1 < items.length ? items[i + 1].getBoundingClientRect().top - gap : bottom;
    const band = below - text.getBoundingClientRect().bottom - parseFloat(style.paddingBottom)
      - parseFloat(style.borderBottomWidth);
    return {cut: text.scrollHeight > text.clientHeight + 1 || text.textContent.trim().endsWith('…'),
            line: parseFloat(getComputedStyle(text).lineHeight), band: Math.round(band),
            start: text.textContent.slice(0, 12)};
  })};
}"""


@pytest.fixture(scope="module")
def notices_server(tmp_path_factory):
    """The sample county with the notices above loaded through its own notices feed, served by gunicorn."""
    var_dir = tmp_path_factory.mktemp("notices-var")
    settings = build_sample(var_dir)
    now = datetime.now(UTC)
    rows = [
        [f"FN{code}-{i}", code, (now - timedelta(minutes=1 + i)).isoformat(), "村务", title, body, "", "", ""]
        for code, items in NOTICES.items()
        for i, (title, body) in enumerate(items)
    ]
    with open(var_dir / "drops" / "notices" / "fit.csv", "w", encoding="utf-8", newline="") as handle:
        header = ["id", "village", "time", "kind", "title", "body", "direction", "amount", "period"]
        csv.writer(handle).writerows([header, *rows])
    feed = load_feeds(var_dir / "screen-feeds.toml", {"var_dir": str(var_dir)})["notices"]
    engine = make_engine(settings.warehouse_url)
    try:
        assert run_feed(engine, feed).counts.loaded == len(rows)
    finally:
        engine.dispose()
    process, base = serve(var_dir)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
@pytest.mark.parametrize("village", list(SHOWN))
def test_a_board_gives_its_notices_the_lines_its_slide_has(browser, notices_server, village, orientation):
    profile = profiles()[f"board-{orientation}"]
    context = browser.new_context(viewport={"width": profile.width, "height": profile.height}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{notices_server}/board/{village}?profile={profile.name}&rotate=86400&refresh=86400")
        page.wait_for_selector(".slide-village_affairs .notice")
        page.evaluate(SHOW)
        page.wait_for_timeout(300)  # fonts settle
        screenshot(page, f"{orientation}-notices-{SHOWN[village]}")
        seen = page.evaluate(NOTICES_SEEN)
        assert f"notices-{SHOWN[village]}" in seen["name"].split(), seen
        # A text cut with … while a line of empty paper lies under it is what a villager sees as wasted room.
        wasted = [notice for notice in seen["notices"] if notice["cut"] and notice["band"] >= notice["line"]]
        assert wasted == [], seen["notices"]
        # Nothing overflows or is clipped, no type below the minimum, and the slide is at least 85 % full.
        assert check(page, profile)["problems"] == []
        # The long texts are longer than any slide holds: the check above had texts to look at.
        assert any(notice["cut"] for notice in seen["notices"]), seen["notices"]
    finally:
        context.close()
