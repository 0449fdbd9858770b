"""Village e-boards and the bus-stop screen in real Chromium: slides rotate, QR codes scan to the configured
addresses, names are masked, and no text is smaller than the profile's minimum."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard.services import load_services
from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP, refresh_bus_predictions
from etl.warehouse.db import make_engine
from etl.warehouse.schema import weather_forecasts
from etl.warehouse.settings import Settings
from layouts.profiles import profiles
from tests.browser.conftest import screenshot
from tests.privacy_formats import leaks

pytestmark = pytest.mark.browser

# Every element that shows text of its own, visible, with its computed font size in canvas pixels.
TEXT_SIZES = """
() => [...document.querySelectorAll('#screen-canvas *')]
  .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map(e => [e.textContent.trim().slice(0, 20), parseFloat(getComputedStyle(e).fontSize)])
"""


def _page(browser, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return context, page


def _active(page) -> str:
    return page.evaluate("JSON.parse(document.querySelector('.slide.active').id).slide")


@pytest.mark.parametrize("name", ["board-portrait", "board-landscape"])
def test_board_rotates_every_slide_readably_with_masked_names(browser, sample_server, name):
    profile = profiles()[name]
    context, page = _page(browser, profile.width, profile.height)
    page.goto(f"{sample_server}/board/{BOARD_VILLAGE}?profile={name}&rotate=1.5")
    page.wait_for_selector(".slide.active")
    # A slide with nothing to show now (its body quiet) is passed over: the sample has no 民主议事 or 民主监督, and
    # no 清廉乡村 or 曝光台 case in this village.
    quiet = page.evaluate(
        "[...document.querySelectorAll('.slide')].filter(s => s.querySelector('.slide-quiet'))"
        ".map(s => JSON.parse(s.id).slide)"
    )
    assert quiet == ["democracy", "integrity"]
    shown = [slide for slide in profile.slides if slide not in quiet]
    seen: dict[str, str] = {}
    while len(seen) < len(shown):
        current = _active(page)
        if current not in seen:
            page.wait_for_timeout(200)
            seen[current] = page.locator(".slide.active").inner_text()
            small = [(text, size) for text, size in page.evaluate(TEXT_SIZES) if size < profile.min_font_px]
            assert small == [], f"{name}/{current}: text below {profile.min_font_px}px: {small[:5]}"
            assert leaks(page.content()) == [], f"{name}/{current} shows a phone or ID number"
            screenshot(page, f"{name}-{current}")
        page.wait_for_function(f"JSON.parse(document.querySelector('.slide.active').id).slide !== '{current}'")
    assert list(seen) == shown  # in the profile's order
    assert "村道硬化项目公示" in seen["village_affairs"] and "别村的通知" not in seen["village_affairs"]
    assert "138****5678" in seen["village_affairs"]  # the phone in the notice's text, masked
    assert re.search(r"本月收入\s*5\.00\s*万元", seen["finance"]), seen["finance"]
    assert re.search(r"本月支出\s*1\.20\s*万元", seen["finance"])
    # 王建国's household: 9 + 17 points; 李娜's: 5 + 13 (etl/demo/sample.py), both within 30 days; names masked, each
    # beside the end of its household code; the village's total is the sum of the list.
    assert re.search(r"王\*国\s*尾号H004\s*26分", seen["points"]) and re.search(
        r"李\*\s*尾号H000\s*18分", seen["points"]
    )
    assert re.search(r"近30天全村获得积分\s*44\s*分", seen["points"]), seen["points"]
    assert "王建国" not in page.content() and "李娜" not in page.content()
    assert re.search(r"党课\s*2\s*次", seen["party_affairs"])
    assert "防范电信诈骗" in seen["publicity"] and "国庆出行提示" not in seen["publicity"]
    assert "数据截至" in seen["requests"]
    assert page.errors == []
    context.close()


def test_qr_codes_decode_to_the_configured_addresses(browser, sample_server):
    import zxingcpp
    from PIL import Image

    context, page = _page(browser, 1080, 1920)
    page.goto(f"{sample_server}/board/{BOARD_VILLAGE}?rotate=0.4")
    page.wait_for_function(
        "document.querySelector('.slide.active') && JSON.parse(document.querySelector('.slide.active').id).slide"
        " === 'services'"
    )
    page.evaluate("window.ruralbrainLastTouch = Date.now()")  # a touch holds the slide while we scan
    decoded = {}
    for figure in page.locator(".slide.active figure.qr").all():
        image = Image.open(io.BytesIO(figure.locator("img").screenshot()))
        found = zxingcpp.read_barcodes(image)
        decoded[figure.locator("figcaption").inner_text()] = found[0].text if found else None
    expected = {service.label: service.url_for(BOARD_VILLAGE) for service in load_services()}
    assert set(expected) >= {"订家宴", "问律师", "找工作", "看医生", "要帮助", "打复印", "换积分"}
    assert decoded == expected
    context.close()


def _forecast_now(var_dir) -> str:
    """The warehouse's forecast condition for the stop's township this hour: the sample's hours alternate, and
    a run that crosses an hour after the sample was built must expect the next one."""
    engine = make_engine(Settings.load(var_dir=str(var_dir)).warehouse_url)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(weather_forecasts.c.condition).where(
                    weather_forecasts.c.region_code == TOWNSHIP,
                    weather_forecasts.c.event_time >= hour,
                    weather_forecasts.c.event_time < hour + timedelta(hours=1),
                )
            ).scalar_one()
    finally:
        engine.dispose()


def test_stop_screen_shows_the_next_buses_weather_and_rotating_publicity(browser, sample_server, sample_var):
    # The sample's predictions count from when it was built: a new snapshot keeps "in 30 s" true now.
    refresh_bus_predictions(sample_var, Settings.load(var_dir=str(sample_var)).warehouse_url)
    profile = profiles()["stop-landscape"]
    context, page = _page(browser, profile.width, profile.height)
    page.goto(f"{sample_server}/stop/S01?rotate=1")
    page.wait_for_selector(".bus")
    assert page.locator(".stop-header h1").inner_text() == "城关站"
    rows = page.locator(".bus").all_inner_texts()
    # Only the newest prediction of each bus, soonest first; the one in 30 s is arriving.
    assert len(rows) == 3, rows
    assert re.match(r"5路\s*开往 县城\s*即将进站", rows[0])
    assert re.match(r"1路\s*开往 枣林\s*[78]分钟", rows[1])
    assert re.match(r"5路\s*开往 白沙\s*1[56]分钟", rows[2])
    assert page.locator(".weather-now").inner_text() == _forecast_now(sample_var)
    titles = set()
    for _ in range(20):
        titles.add(page.locator(".stop-item.active h3").inner_text())
        if len(titles) == 2:
            break
        page.wait_for_timeout(500)
    assert titles == {"垃圾分类 从我做起", "防范电信诈骗"}  # the expired and the other township's never show
    small = [(text, size) for text, size in page.evaluate(TEXT_SIZES) if size < profile.min_font_px]
    assert small == [], small[:5]
    screenshot(page, "stop-landscape")
    assert page.errors == []
    context.close()


def test_unknown_village_or_stop_says_so(page, sample_server):
    page.goto(f"{sample_server}/board/990101999999")
    page.wait_for_selector(".error-reason")
    assert page.locator(".error-reason").inner_text() == "未找到区划代码 990101999999 的村"
    page.goto(f"{sample_server}/stop/no such stop")
    page.wait_for_selector(".error-reason")
    assert page.locator(".error-reason").inner_text() == "站点编号无效"
    page.goto(f"{sample_server}/stop/S99")
    page.wait_for_selector(".error-reason")
    assert page.locator(".error-reason").inner_text() == "未找到站点编号 S99 的站点"


def test_a_touch_pauses_rotation_until_the_board_is_left_alone(page, sample_server):
    page.goto(f"{sample_server}/board/{BOARD_VILLAGE}?rotate=0.5&idle=3")
    page.wait_for_selector(".slide.active")
    first = _active(page)
    page.wait_for_function(f"JSON.parse(document.querySelector('.slide.active').id).slide !== '{first}'")
    page.mouse.click(500, 900)  # a villager taps the board
    held = _active(page)
    page.wait_for_timeout(2000)  # four rotation periods, all within the idle time
    assert _active(page) == held
    page.wait_for_function(
        f"JSON.parse(document.querySelector('.slide.active').id).slide !== '{held}'", timeout=10000
    )  # and it moves on by itself once nobody touches it
