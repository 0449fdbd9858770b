"""试点建设 (/pilots) as a township leader uses it, on the demo programme loaded through the real pipeline (the demo
county, two days of simulated feeds, scored for two months), logged in through the real login form: the matrix
holds the warehouse's scores, the map a circle per pilot, the timeline what is overdue; a pilot drilled into
shows its items, the evidence of each and its monthly trend; the monthly report downloaded and read back with
openpyxl equals the warehouse; a pilot and a region of another township are refused (403); a viewer is offered
no export; on a phone (390×844) nothing overflows but the tables, which scroll in their boxes."""

from __future__ import annotations

import io
import re
from collections import Counter

import openpyxl
import pytest

from etl.warehouse import pilots as reads
from etl.warehouse.accounts import add_user, audit_entries
from etl.warehouse.settings import Settings
from tests.browser.conftest import open_page, screenshot, serve
from tests.sessions import PASSWORD, browser_log_in

pytestmark = pytest.mark.browser
PROGRAMME, MONTH = "demo", "2026-03"  # the demo tests' clock (tests/integration/test_pilots_demo.py: NOW)
TOWNSHIP = "990101101000"  # 枣林镇: a pilot township with two pilot villages
OTHER = "990101201000"  # 凤凰乡: a pilot township of another leader
USERS = {"zao-pilots": ("township", TOWNSHIP), "kan-pilots": ("viewer", TOWNSHIP)}
# What the page and the files call the statuses (written out here, not taken from the code under test).
STATUS = {"met": "达标", "partly": "部分达标", "unmet": "未达标", "no_data": "无数据"}
MILESTONE = {
    "done": "已完成",
    "in_progress": "进行中",
    "not_started": "未开始",
    "delayed": "滞后",
    "unreported": "未填报",
}


# What sticks out of a phone's width, besides the tables' boxes (which scroll) and the map.
OVERFLOWING = """() => Array.from(document.querySelectorAll('.pilots *'))
    .filter(e => !e.closest('.pilots-scroll') && !e.closest('.leaflet-container'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.width && r.right > innerWidth + 1; })
    .map(e => e.tagName + '.' + e.className)"""


@pytest.fixture(scope="module")
def pilots_server(tmp_path_factory):
    """The demo programme through the real pipeline, served for logins over plain HTTP."""
    from tests.integration.test_pilots_demo import build

    var_dir = tmp_path_factory.mktemp("pilots-var")
    _settings, engine, _reports, _scored = build(Settings.load(var_dir=str(var_dir)), days=2)
    with engine.begin() as connection:
        for name, (role, scope) in USERS.items():
            add_user(connection, name, role, scope, password=PASSWORD)
    process, base = serve(var_dir, {"COOKIE_SECURE": "false"})
    yield base, engine
    process.terminate()
    process.wait(timeout=10)
    engine.dispose()


def log_in(page, base: str, name: str, next_page: str = "/pilots") -> None:
    """Through the login form, as a person does; then the page's content."""
    browser_log_in(page, base, name, next_page)
    page.wait_for_selector("#pilots-as-of", timeout=30000)


def cells(page, selector: str) -> list[list[str]]:
    """The text of every body row's cells of a table."""
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(c => c.innerText))"
    )


def band(found: dict) -> str:
    """The colour of a pilot's circle: its points (达标 1, 部分达标 0.5) over its items, in three bands."""
    if not found:
        return "#8a96a3"
    share = sum({"met": 1, "partly": 0.5}.get(score.status, 0) for score in found.values()) / len(found)
    return "#2e9d57" if share >= 0.8 else "#e0a21b" if share >= 0.5 else "#d64545"


def warehouse(engine):
    """The township's pilots, items, scores, funds and the programme as the warehouse holds them."""
    with engine.connect() as connection:
        return (
            reads.pilots(connection, PROGRAMME, TOWNSHIP),
            reads.items(connection, PROGRAMME),
            reads.scores(connection, PROGRAMME, MONTH, TOWNSHIP),
            reads.funds(connection, PROGRAMME, MONTH, TOWNSHIP),
            reads.get_programme(connection, PROGRAMME),
            reads.milestones(connection, PROGRAMME),
            reads.milestone_states(connection, PROGRAMME, MONTH, TOWNSHIP),
        )


def test_a_township_leader_sees_the_matrix_drills_exports_and_stays_in_scope(browser, pilots_server, tmp_path):
    base, engine = pilots_server
    listed, items, scores, funds, programme, steps, states = warehouse(engine)
    assert [p.name for p in listed] == ["枣林镇", "枣林镇马楼村", "枣林镇太和村"]
    context, page = open_page(browser)
    log_in(page, base, "zao-pilots")
    page.errors.clear()  # the login page has no icon: Chromium's /favicon.ico is a 404 before the page

    # The month defaults to the latest scored; the matrix holds the warehouse's scores, pilot by pilot.
    assert "2026年3月" in page.inner_text("#pilots-months .pilots-chip-on")
    for level in ("township", "village"):
        level_items = [item for item in items if item.level == level]
        header = page.eval_on_selector_all(f"#pilots-matrix-{level} thead th", "ths => ths.map(t => t.innerText)")
        assert [text.split("\n")[0] for text in header[1:-1]] == [item.item_id for item in level_items]
        expected = [
            [pilot.name] + [STATUS[scores[pilot.pilot_id][item.item_id].status] for item in level_items]
            for pilot in listed
            if pilot.kind == level
        ]
        assert [row[:-1] for row in cells(page, f"#pilots-matrix-{level}")] == expected
    shown = Counter(
        text
        for level in ("township", "village")
        for row in cells(page, f"#pilots-matrix-{level}")
        for text in row[1:-1]
    )
    assert set(shown) <= set(STATUS.values()) and len(shown) > 1  # the demo has a mix of results
    assert (
        page.locator(".pilots-s-met").count()
        == sum(s.status == "met" for per in scores.values() for s in per.values()) + 1
    )  # and the legend's 达标

    # The map: a circle per pilot over the township's villages; funds and the timeline for the same pilots.
    page.wait_for_selector("#pilots-map path.leaflet-interactive")
    fills = page.eval_on_selector_all(
        "#pilots-map .leaflet-pilots-pane path", "c => c.map(p => p.getAttribute('fill'))"
    )
    assert sorted(fills) == sorted(band(scores.get(pilot.pilot_id, {})) for pilot in listed)
    fund_rows = cells(page, "#pilots-funds-table")
    assert [row[0] for row in fund_rows] == [p.name for p in listed] + ["合计"]
    assert fund_rows[-1][2] == f"{sum(f.disbursed for f in funds.values()):,.2f}"
    timeline = cells(page, "#pilots-timeline-table")
    assert [row[0] for row in timeline] == [p.name for p in listed] + ["合计"]
    for row, pilot in zip(timeline, listed, strict=False):
        expected = [
            MILESTONE[state.status] + ("（逾期）" if state.overdue else "")
            for state in (states[pilot.pilot_id][step.milestone_id] for step in steps)
        ]
        assert row[2:] == expected, pilot.name
    assert set(MILESTONE.values()) & {text for row in timeline for text in row}  # statuses shown as text
    assert "凤凰乡" not in page.inner_text("main")

    # A pilot drilled into: its items, each with the evidence read for it, and its monthly trend.
    village = listed[1]
    page.click(f"#pilots-matrix-village a:has-text('{village.name}')")
    page.wait_for_url(f"**pilot={village.pilot_id}**")
    page.wait_for_selector("#pilots-items-table")
    rows = cells(page, "#pilots-items-table")
    village_items = [item for item in items if item.level == "village"]
    assert [row[0] for row in rows] == [item.item_id for item in village_items]
    for row, item in zip(rows, village_items, strict=True):
        score = scores[village.pilot_id][item.item_id]
        assert row[3] == STATUS[score.status]
        for entry in score.evidence:
            for part in (entry["what"], entry["value_text"], entry["period"], entry["rule"]):
                assert part in row[4], (item.item_id, part)
    with engine.connect() as connection:
        trend = reads.pilot_trend(connection, PROGRAMME, village.pilot_id)
    trend_rows = cells(page, "#pilots-trend-table")
    assert len(trend_rows) == len(trend) == 2
    for row, (month, counted) in zip(trend_rows, trend, strict=True):
        year, number = month.split("-")
        assert row[0] == f"{year}年{int(number)}月"
        assert row[1:5] == [str(counted.get(status, 0)) for status in STATUS]
    screenshot(page, "pilots-drill")
    page.go_back()
    page.wait_for_selector("#pilots-matrix-township")

    # The monthly report, downloaded and read back: its totals are the warehouse's for the township.
    with page.expect_download() as info:
        page.click("#pilots-export-monthly")
    path = tmp_path / "monthly.xlsx"
    info.value.save_as(path)
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    assert book.sheetnames == ["汇总", "示范县", "指标明细", "说明"]
    total = [row for row in book["汇总"].iter_rows(min_row=4, values_only=True) if row[0] == "合计"][0]
    counted = Counter(s.status for per in scores.values() for s in per.values())
    assert (total[2], total[3]) == (1, 2)
    assert list(total[11:15]) == [counted.get(status, 0) for status in STATUS]
    allocated = sum(
        funds[p.pilot_id].allocated
        if p.pilot_id in funds and funds[p.pilot_id].allocated is not None
        else programme.funds_per_pilot
        for p in listed
    )
    assert total[7] == pytest.approx(allocated)
    assert total[8] == pytest.approx(sum(f.disbursed for f in funds.values()))
    assert total[9] == pytest.approx(sum(f.spent for f in funds.values()))
    details = list(book["指标明细"].iter_rows(min_row=4, values_only=True))
    assert {row[1] for row in details} == {p.name for p in listed}
    with engine.connect() as connection:
        exported = audit_entries(connection, user="zao-pilots", event="export", limit=5)
    assert exported and "按月调度表" in exported[0].detail

    assert page.errors == []

    # Another township's pilot and region, by address: refused.
    assert page.goto(f"{base}/pilots?pilot={OTHER}").status == 403
    assert page.goto(f"{base}/pilots?region={OTHER}").status == 403
    assert page.goto(f"{base}/pilots/export?kind=monthly&region={OTHER}").status == 403
    context.close()


def test_a_viewer_is_offered_no_export(browser, pilots_server):
    base, _ = pilots_server
    context, page = open_page(browser)
    log_in(page, base, "kan-pilots")
    page.wait_for_selector("#pilots-matrix-township")
    assert page.locator("#pilots-export-monthly").count() == 0
    assert page.goto(f"{base}/pilots/export?kind=monthly").status == 403
    context.close()


def test_on_a_phone_tables_scroll_and_nothing_else_overflows(browser, pilots_server):
    base, _ = pilots_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True, is_mobile=True)
    page = context.new_page()
    log_in(page, base, "zao-pilots")
    page.wait_for_selector("#pilots-map path.leaflet-interactive")
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    matrix = page.eval_on_selector("#pilots-matrix-village", "t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert matrix[0] > matrix[1]  # wider than the phone: it scrolls in its box
    screenshot(page, "pilots-phone")
    page.click("#pilots-matrix-village a >> nth=0")
    page.wait_for_selector("#pilots-items-table")
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "pilots-phone-drill")
    context.close()


def test_a_wide_screen_shows_map_and_funds_side_by_side(browser, pilots_server):
    base, _ = pilots_server
    context, page = open_page(browser)
    page.set_viewport_size({"width": 1920, "height": 1080})
    log_in(page, base, "zao-pilots")
    page.wait_for_selector("#pilots-map path.leaflet-interactive")
    left = page.eval_on_selector("#pilots-map-panel", "e => e.getBoundingClientRect().top")
    right = page.eval_on_selector("#pilots-funds", "e => e.getBoundingClientRect().top")
    assert left == right
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    assert re.search(r"数据截至 \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", page.inner_text("#pilots-as-of"))
    screenshot(page, "pilots-1920")
    context.close()
