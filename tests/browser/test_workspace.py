"""The leaders' workspace as a township leader uses it, on the demo-like sample, logged in through the real login
form: a period and a filter chosen, the KPI, trend and children compared read off the page, the records opened,
tables exported to XLSX and CSV and read back (openpyxl, csv), every value compared with the warehouse's raw
rows; back and forward, a colleague's link, a sibling township refused by address and never offered by the tree.
Then the page on a phone (390×844: nothing overflows but the tables, which scroll) and printed (A4 landscape)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta, timezone

import openpyxl
import pytest
from sqlalchemy import select

from etl.demo.sample import TOWNSHIP, VILLAGES
from etl.warehouse.accounts import add_user, audit_entries, get_user
from etl.warehouse.db import as_utc, make_engine
from etl.warehouse.schema import cases, regions
from etl.warehouse.settings import Settings
from tests.browser.conftest import open_page, screenshot, serve
from tests.sessions import PASSWORD, browser_log_in

pytestmark = pytest.mark.browser
SIBLING = VILLAGES[2][:9] + "000"  # 枣林镇, beside the leader's 城关街道
BEIJING = timezone(timedelta(hours=8))
# What the page and the files call the sample's codes (written out here, not taken from the code under test).
CATEGORY = {"conflict": "矛盾", "dispute": "纠纷"}
MODULE = {"general": "综合", "online_mediation": "线上矛调"}
STATUS = {"closed": "办结", "in_progress": "处置中"}
USERS = {"zhen-ws": ("township", TOWNSHIP), "zhen-ws2": ("township", TOWNSHIP), "zao-ws": ("township", SIBLING)}


@pytest.fixture(scope="module")
def workspace_server(sample_var):
    """The sample served for logins over plain HTTP (the test's browser talks to 127.0.0.1 without TLS)."""
    engine = make_engine(Settings.load(var_dir=str(sample_var)).warehouse_url)
    with engine.begin() as connection:
        for name, (role, scope) in USERS.items():
            if get_user(connection, name) is None:  # another module of the session may have made it
                add_user(connection, name, role, scope, password=PASSWORD)
    process, base = serve(sample_var, {"COOKIE_SECURE": "false"})
    yield base, engine
    process.terminate()
    process.wait(timeout=10)
    engine.dispose()


def log_in(page, base: str, name: str, next_page: str = "/explore") -> None:
    """Through the login form, as a person does; then the page's content."""
    browser_log_in(page, base, name, next_page)
    page.wait_for_selector("#explore-cards", timeout=30000)


def texts(page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        selector, "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(c => c.textContent))"
    )


def mask(text: str) -> str:
    """Phone numbers masked as a leader sees them (138****5005)."""
    return re.sub(r"1[3-9]\d{9}", lambda m: m.group()[:3] + "****" + m.group()[-4:], text)


def expected_cases(engine, start: datetime) -> list[dict]:
    """The township's 纠纷 cases since ``start``, newest first, from the raw rows."""
    low, high = TOWNSHIP[:9] + "000", TOWNSHIP[:9] + "999"
    query = (
        select(cases, regions.c.name.label("village"))
        .join(regions, regions.c.code == cases.c.region_code)
        .where(cases.c.region_code.between(low, high), cases.c.category == "dispute", cases.c.event_time >= start)
        .order_by(cases.c.event_time.desc(), cases.c.case_id.desc())
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def when(moment) -> str:
    return as_utc(moment).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def record_cells(row: dict, now: datetime) -> list[str]:
    """A case as the records table and its exports show it to a township leader."""
    due, closed = as_utc(row["due_at"]), as_utc(row["closed_at"])
    overdue = "" if due is None else ("是" if (closed or now) > due else "否")
    return [
        row["case_id"],
        row["village"],
        row["region_code"],
        when(row["event_time"]),
        CATEGORY[row["category"]],
        MODULE[row["module"]],
        "",
        mask(row["title"]),
        row["reporter_name"][0] + "*" + row["reporter_name"][-1],
        row["reporter_phone"][:3] + "****" + row["reporter_phone"][-4:],
        STATUS[row["status"]],
        "",
        when(row["due_at"]),
        overdue,
        when(row["closed_at"]),
        str(row["satisfaction"]) if row["satisfaction"] is not None else "",
    ]


def download(page, link_id: str, tmp_path) -> bytes:
    with page.expect_download() as info:
        page.click(f"#{link_id}")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def test_a_township_leader_reads_filters_exports_and_stays_in_scope(browser, workspace_server, tmp_path):
    base, engine = workspace_server
    context, page = open_page(browser)
    log_in(page, base, "zhen-ws")
    page.errors.clear()  # the login page has no icon: Chromium's /favicon.ico is a 404 before the workspace
    assert page.inner_text("#explore-region") == f"城关街道（{TOWNSHIP}）"

    # A period and a filter, each a step of the address.
    page.click("#explore-period-7d")
    page.wait_for_url("**period=7d**")
    page.wait_for_selector("#explore-period-7d.explore-chip-on")  # the new view is drawn
    page.locator('[id=\'{"explore-filter":"category"}\']').click()
    search = page.locator("input.dash-dropdown-search:visible")
    assert search.get_attribute("placeholder") == "搜索"  # Dash's own words are in Chinese too
    search.fill("没有这个")
    assert "没有匹配的选项" in page.locator(".dash-dropdown-content:visible").inner_text()
    search.fill("")
    page.get_by_role("option", name="纠纷").click()
    page.wait_for_url("**category=dispute**")
    page.wait_for_selector(".explore-card-note")  # 类别：纠纷 on the cards the filter limits
    now = datetime.now(UTC)
    today = now.astimezone(BEIJING).date()
    start = datetime.combine(today - timedelta(days=6), datetime.min.time(), BEIJING)
    rows = expected_cases(engine, start)
    assert rows, "the sample has 纠纷 cases in the leader's township this week"
    assert "近7天" in page.inner_text("#explore-period")

    # The KPI: this week's 纠纷 cases; the sample holds no earlier data, so both comparisons say so.
    card = page.locator('[id=\'{"explore-card":"cases.received"}\']')
    assert card.locator(".explore-card-value").inner_text().replace("\n", "") == f"{len(rows)}件"
    assert "无去年同期数据" in card.inner_text() and "类别：纠纷" in card.inner_text()

    # The trend, a day at a time over the seven days.
    page.click("#explore-trend summary")
    trend = texts(page, "#explore-table-trend tbody tr")
    per_day = {}
    for row in rows:
        day = as_utc(row["event_time"]).astimezone(BEIJING).date().isoformat()
        per_day[day] = per_day.get(day, 0) + 1
    days = [(today - timedelta(days=6 - n)).isoformat() for n in range(7)]
    assert [cells[0] for cells in trend] == days
    first_day = min(per_day)
    assert {cells[0]: cells[3] for cells in trend if cells[0] >= first_day} == {
        day: str(per_day.get(day, 0)) for day in days if day >= first_day
    }

    # The villages compared: each one's count and share.
    compared = {cells[1]: cells for cells in texts(page, "#explore-table-compare tbody tr")}
    with engine.connect() as connection:
        villages = dict(
            connection.execute(select(regions.c.code, regions.c.name).where(regions.c.parent_code == TOWNSHIP)).all()
        )
    assert set(compared) == set(villages)
    for code, name in villages.items():
        count = sum(1 for row in rows if row["region_code"] == code)
        assert compared[code][0] == name and compared[code][2] == str(count)
        assert compared[code][3] == f"{count / len(rows) * 100:.1f}%"

    # The records behind the number, newest first, personal fields masked for a township leader.
    shown = [["" if cell == "—" else cell for cell in row] for row in texts(page, "#explore-table-records tbody tr")]
    assert shown == [record_cells(row, now) for row in rows[:20]]
    assert f"共 {len(rows)} 条" in page.inner_text("#explore-count")

    # Exports of what is on screen: records to XLSX and CSV, the children compared to XLSX, the KPI to CSV.
    book = openpyxl.load_workbook(io.BytesIO(download(page, "explore-export-records-xlsx", tmp_path))).active
    title = book["A1"].value
    assert f"城关街道（{TOWNSHIP}）" in title and "近7天" in title and "类别：纠纷" in title
    assert "数据截至" in title and "导出时间" in title and book.freeze_panes == "A3"
    assert book["D2"].value == "受理时间" and book.column_dimensions["H"].width >= 30
    as_text = [
        [when(v.replace(tzinfo=BEIJING)) if isinstance(v, datetime) else "" if v is None else str(v) for v in row]
        for row in book.iter_rows(min_row=3, values_only=True)
    ]
    assert as_text == [record_cells(row, now) for row in rows]
    data = download(page, "explore-export-records-csv", tmp_path)
    assert data.startswith(b"\xef\xbb\xbf")
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert read[0][0] == "事件编号" and read[1:] == [record_cells(row, now) for row in rows]
    compared_book = openpyxl.load_workbook(io.BytesIO(download(page, "explore-export-compare-xlsx", tmp_path))).active
    exported = {row[1]: row for row in compared_book.iter_rows(min_row=3, values_only=True)}
    assert {code: row[2] for code, row in exported.items()} == {
        code: sum(1 for row in rows if row["region_code"] == code) for code in villages
    }
    kpi = list(csv.DictReader(io.StringIO(download(page, "explore-export-kpi-csv", tmp_path).decode("utf-8-sig"))))
    received = next(row for row in kpi if row["指标"] == "受理事件")
    assert (received["本期"], received["同比"]) == (str(len(rows)), "无去年同期数据")
    with engine.connect() as connection:
        exports = audit_entries(connection, user="zhen-ws", event="export", limit=20)
    assert len(exports) >= 4

    # Back and forward step through the views; the address is the view.
    filtered = page.url
    page.go_back()
    page.wait_for_url(re.compile(r".*period=7d(?!.*category).*"))
    page.wait_for_function("() => !document.querySelector('#explore-card-note, .explore-card-note')")
    page.go_forward()
    page.wait_for_url(filtered)
    page.wait_for_selector(".explore-card-note")

    # A colleague of the same township opens the link and sees the same; one of the sibling township is refused.
    colleague_context, colleague = open_page(browser)
    log_in(colleague, base, "zhen-ws2", next_page="/explore")
    colleague.goto(filtered)
    colleague.wait_for_selector(".explore-card-note")
    assert colleague.locator('[id=\'{"explore-card":"cases.received"}\'] .explore-card-value').inner_text() == (
        card.locator(".explore-card-value").inner_text()
    )
    colleague_context.close()
    sibling_context, sibling = open_page(browser)
    log_in(sibling, base, "zao-ws")
    assert sibling.goto(filtered.replace("/explore?", f"/explore?region={TOWNSHIP}&")).status == 403
    sibling_context.close()

    assert page.errors == []
    # The sibling township by address: 403, audited; by the tree: not offered, not found.
    assert page.goto(f"{base}/explore?region={SIBLING}").status == 403
    with engine.connect() as connection:
        assert audit_entries(connection, user="zhen-ws", event="scope_violation", limit=5)
    page.goto(f"{base}/explore")
    page.wait_for_selector("#explore-cards")
    page.click(".explore-tree summary")
    offered = page.eval_on_selector_all(".explore-tree a", "links => links.map(a => a.getAttribute('href'))")
    assert offered and not any(SIBLING in href or VILLAGES[2] in href for href in offered)
    page.fill("#explore-search", "枣林")
    page.press("#explore-search", "Enter")
    page.wait_for_selector("#explore-results .explore-none")
    page.fill("#explore-search", "社区")
    page.press("#explore-search", "Enter")
    page.wait_for_selector("#explore-results .explore-found")
    found = page.eval_on_selector_all("#explore-results a", "links => links.map(a => a.getAttribute('href'))")
    assert found and all("region=990101001" in href for href in found)
    screenshot(page, "workspace-township")
    context.close()


def test_the_date_picker_opens_at_this_month_and_names_weekdays_in_chinese(browser, workspace_server):
    # Dash's date picker takes its words from a date-fns locale; without one the row read Mo Tu We … Su. It
    # opened at the earliest month allowed (2000年1月): a leader clicked through 26 years to reach this one.
    base, _ = workspace_server
    context, page = open_page(browser)
    log_in(page, base, "zhen-ws")
    page.locator("input#explore-dates").click()
    page.wait_for_selector(".dash-datepicker-calendar")
    today = datetime.now(UTC).astimezone(BEIJING).date()
    month = page.locator(".dash-datepicker-calendar-month-header").first.inner_text()
    row = page.evaluate(
        """() => [...document.querySelector('.dash-datepicker-calendar thead').rows[1].cells]
            .map(cell => cell.innerText.trim())"""
    )
    assert row == ["一", "二", "三", "四", "五", "六", "日"], row
    assert month in (f"{today.year}年{today.month}月", f"{today.year}年{today.month - 1}月"), month
    context.close()


def test_on_a_phone_cards_stack_tables_scroll_and_nothing_else_overflows(browser, workspace_server):
    base, _ = workspace_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True, is_mobile=True)
    page = context.new_page()
    log_in(page, base, "zhen-ws")
    page.wait_for_selector(".explore-map .leaflet-interactive")
    overflowing = page.evaluate(
        """() => Array.from(document.querySelectorAll('.explore *'))
            .filter(e => !e.closest('.explore-scroll') && !e.closest('.leaflet-container'))
            .filter(e => { const r = e.getBoundingClientRect(); return r.width && r.right > innerWidth + 1; })
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert overflowing == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    cards = page.eval_on_selector_all(".explore-card", "cards => cards.map(c => c.getBoundingClientRect().width)")
    assert len(cards) > 1 and all(width > 300 for width in cards)  # one card a row
    records = page.eval_on_selector("#explore-table-records", "t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert records[0] > records[1]  # wider than the phone: it scrolls in its box
    assert page.eval_on_selector(".explore-map", "m => m.getBoundingClientRect().height") <= 260
    screenshot(page, "workspace-phone")
    context.close()


def test_a_view_prints_on_a4_landscape_with_its_title_period_and_data_time(browser, workspace_server):
    base, _ = workspace_server
    context, page = open_page(browser)
    log_in(page, base, "zhen-ws")
    page.emulate_media(media="print")
    assert page.is_hidden(".explore-tree") and page.is_hidden(".explore-controls")
    footer = page.inner_text(".explore-print-footer")
    assert "城关街道" in footer and "近30天" in footer and "数据截至" in footer
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = (float(n) for n in re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert (round(width), round(height)) == (842, 595)  # A4 landscape in points
    context.close()


def test_a_range_past_today_and_a_too_long_daily_trend_are_said_on_the_page(browser, workspace_server):
    # The page, not its callback: the notice is read where a leader reads it, beside the period it changed.
    base, _ = workspace_server
    context, page = open_page(browser)
    today = datetime.now(UTC).astimezone(BEIJING).date()
    first, later = today.replace(day=1), f"{today.year + 1}-{today.month:02d}-01"
    log_in(page, base, "zhen-ws")
    page.goto(f"{base}/explore?measure=cases.received&period=custom&from={first}&to={later}")
    notice = page.locator(".explore-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "结束日期晚于今天，已截至今天"
    box = notice.bounding_box()
    assert box["y"] + box["height"] <= 1080 and box["height"] >= 12  # on the first screen, one readable line
    assert page.evaluate("getComputedStyle(document.querySelector('.explore-notice')).color") != "rgb(255, 255, 255)"
    shown_range = f"{first:%Y-%m-%d} 至 {today:%Y-%m-%d}" if first != today else f"{today:%Y-%m-%d}"
    assert f"自定义（{shown_range}）" in page.inner_text(".explore")
    long_ago = today.replace(year=today.year - 2)
    page.goto(f"{base}/explore?measure=cases.received&period=custom&from={long_ago}&to={today}&grain=day")
    page.wait_for_selector("#explore-cards")
    page.locator(".explore-notice", has_text="按日最多 366 天，已改为按周").wait_for(state="visible")
    page.wait_for_selector("#explore-trend-graph .xtick text")
    labels = page.eval_on_selector_all("#explore-trend-graph .xtick text", "ticks => ticks.map(t => t.textContent)")
    assert 2 <= len(labels) <= 16, labels  # two years of weeks: a label every few bars, not a wall of 105
    screenshot(page, "workspace-notices")
    context.close()
