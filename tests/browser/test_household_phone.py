"""一户一码 on a phone (390×844, Chromium, the CSP enforced): a household opens its code's address, sends a 诉求 with
a photo and sees it listed with its status; the qr_cases feed brings it to the warehouse and the village board's
诉求办理 slide shows it; the clerk logs in through /login and closes it; the household rates it. A revoked code
gets a Chinese 403 page."""

from __future__ import annotations

import pytest

from etl.demo.sample import BOARD_VILLAGE, build_sample
from etl.runner import run_feed
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.household_tokens import issue
from tests.browser.conftest import screenshot, serve
from tests.household_fixtures import coded, intake_feeds, jpeg

PHONE = {"width": 390, "height": 844}
PASSWORD = "a password long enough"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("phone")
    settings = build_sample(var_dir)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "cun01", "village", BOARD_VILLAGE, password=PASSWORD)
    process, base = serve(var_dir, {"COOKIE_SECURE": "false"})
    yield base, engine, intake_feeds(var_dir, settings.warehouse_url)
    process.terminate()
    process.wait(timeout=10)


def phone(browser):
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)


def test_a_household_sends_a_request_the_board_shows_it_the_clerk_closes_it_and_the_household_rates_it(
    browser, served, tmp_path
):
    base, engine, feeds = served
    found, token = coded(engine, "H000")
    context = phone(browser)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    answer = page.goto(f"{base}/h/{token}")
    assert answer.status == 200
    assert "复兴社区" in page.locator("section.head").inner_text() and "户主 李*" in page.inner_text("body")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]  # readable without side-scrolling
    page.select_option("#topic", "utilities")
    page.fill("#text", "三组自来水管漏水，路面都湿了")
    photo = tmp_path / "漏水.jpg"
    photo.write_bytes(jpeg(1200, 900, "steelblue"))
    page.set_input_files("#photo", str(photo))
    page.fill("#phone", "13800001111")
    page.click("#request button[type=submit]")
    page.wait_for_url(f"**/h/{token}/cases/QR*")
    assert "水电设施" in page.inner_text("body") and "已受理" in page.inner_text("body")
    assert page.evaluate("document.querySelector('img.photo').naturalWidth") > 0
    case_address = page.url
    screenshot(page, "household-case-received")
    page.goto(f"{base}/h/{token}")
    mine = page.locator("#mine").inner_text()
    assert "水电设施" in mine and "已受理" in mine

    run_feed(engine, feeds["qr_cases"])  # the intake feed, as etl watch runs it every 10 s
    board = browser.new_context(viewport={"width": 1080, "height": 1920}, bypass_csp=True).new_page()
    board.goto(f"{base}/board/{BOARD_VILLAGE}?rotate=1.5")
    board.wait_for_function(
        "document.querySelector('.slide.active') && "
        "JSON.parse(document.querySelector('.slide.active').id).slide === 'requests'",
        timeout=30000,
    )
    slide = board.locator(".slide.active").inner_text()
    assert "水电设施" in slide and "已受理" in slide and "漏水" not in slide  # the household's words stay private
    screenshot(board, "household-case-on-board")
    board.context.close()

    clerk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    clerk.goto(f"{base}/office")
    clerk.wait_for_url("**/login?next=/office")
    clerk.fill("#name", "cun01")
    clerk.fill("#password", PASSWORD)
    clerk.click("button[type=submit]")
    clerk.wait_for_url(f"{base}/office")
    clerk.click(f"text={case_address.rsplit('/', 1)[1]}")
    assert "三组自来水管漏水" in clerk.inner_text("body") and "13800001111" in clerk.inner_text("body")
    act = "form[action^='/office/cases/'] button[type=submit]"
    clerk.select_option("#action", "accept")
    clerk.click(act)
    clerk.select_option("#action", "close")
    clerk.fill("#note", "已更换阀门，管道不再漏水")
    clerk.click(act)
    assert "已办结" in clerk.inner_text("body")
    clerk.context.close()

    page.goto(case_address)
    assert "已更换阀门，管道不再漏水" in page.inner_text("body")
    page.check("input[name=score][value='5']")
    page.click("form[action$='/rating'] button[type=submit]")
    assert "您已评价：5 分" in page.inner_text("body")
    screenshot(page, "household-case-rated")
    assert errors == []  # the CSP is enforced: nothing of these pages was refused

    with engine.begin() as connection:
        issue(connection, found, "test")  # a new code: the one on the door stops working
    refused = page.goto(f"{base}/h/{token}")
    assert refused.status == 403 and "此户码无效或已停用" in page.inner_text("body")
    context.close()
