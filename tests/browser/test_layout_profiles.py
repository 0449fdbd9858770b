"""Every screen profile in real Chromium at its own display size, with the demo's 30 days of data and with the
long-data county (tests/long_county.py): every panel, slide and publicity card is looked at, and none may hold
content larger than its box, text cut by the canvas or by what it sits in, type below the profile's minimum on
the target display, or an area whose content covers less than 85 % of its height (tests/browser/layout.py).
Screenshots of each view are saved under test-artifacts/layout/<data>/ (the folder is printed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl.demo.sample import BOARD_VILLAGE
from layouts.profiles import profiles
from tests.browser.conftest import ARTIFACTS, free_port, serve
from tests.browser.layout import check
from tests.long_county import STOP, build_long

pytestmark = pytest.mark.browser

# Per kind of screen: the addresses of the views to look at, for the demo's data and for the long data.
VIEWS = {
    "demo": {
        "county": ["/screen/county", "/screen/county?region=990101101201"],
        "board": ["/board/990101101201"],
        "stop": ["/stop/S01"],
    },
    "long": {
        "county": ["/screen/county", f"/screen/county?region={BOARD_VILLAGE}"],
        "board": [f"/board/{BOARD_VILLAGE}"],
        "stop": [f"/stop/{STOP}"],
    },
}
# Drawn once the page is there with its content (the county screen draws its panels in the browser).
READY = {
    "county": "[...document.querySelectorAll('.panel-asof')].length >= 6 && "
    "[...document.querySelectorAll('.panel-asof')].every(e => e.textContent.length > 0)",
    "board": "document.querySelectorAll('.slide').length > 0",
    "stop": "document.querySelector('#stop-arrivals') !== null",
}
# Show the i-th of some elements (slides, publicity cards) as rotation would, with rotation itself held.
SHOW = """([selector, index, shown, hidden]) => document.querySelectorAll(selector)
  .forEach((e, k) => { e.className = k === index ? shown : hidden; })"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """{"demo": base URL, "long": base URL}: the demo county after `ruralbrain demo --no-serve` (its 30 days of
    history through every feed), and the long-data county, each served by gunicorn."""
    demo = tmp_path_factory.mktemp("demo-data")
    environment = {**os.environ, "VAR_DIR": str(demo), "SIM_PORT": str(free_port())}
    built = subprocess.run(
        [sys.executable, "-m", "etl.cli", "demo", "--no-serve"], env=environment, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    _next_buses(demo, environment)
    long = tmp_path_factory.mktemp("long-data")
    settings = build_long(long)
    running = [serve(demo), serve(long, {"SERVICES_FILE": settings.services_file})]
    yield {"demo": running[0][1], "long": running[1][1]}
    for process, _base in running:
        process.terminate()
        process.wait(timeout=10)


def _next_buses(var_dir: Path, environment: dict) -> None:
    """The demo's buses and forecasts as of now, the way `make demo` keeps them (its live simulator's API, then the
    feeds): the history's predictions have passed by the time the demo is built."""
    api = var_dir / "sim" / "api.json"
    before = api.stat().st_mtime
    live = subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "simulate", "--days", "0", "--live", "--interval", "600"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while api.stat().st_mtime == before and time.monotonic() < deadline:
            time.sleep(0.2)
        command = [sys.executable, "-m", "etl.cli", "etl", "run", "buses", "weather"]
        loaded = subprocess.run(command, env=environment, capture_output=True, text=True)
        assert loaded.returncode == 0, loaded.stdout[-2000:] + loaded.stderr[-2000:]
    finally:
        live.terminate()
        live.wait(timeout=30)


def _save(page, data: str, name: str) -> None:
    folder = ARTIFACTS / "layout" / data
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def _views(page, profile):
    """(view name, what layout.check found) for each slide or publicity card the page rotates through, or the
    page as it is; yielded while the view is shown, so the caller's screenshot is of that view."""
    if profile.kind == "board":
        slides = [
            json.loads(frame)["slide"]
            for frame in page.evaluate("[...document.querySelectorAll('.slide')].map(s => s.id)")
        ]
        for index, slide in enumerate(slides):
            page.evaluate(SHOW, [".slide", index, "slide active", "slide"])
            yield slide, check(page, profile)
        return
    if profile.kind == "stop":
        for index in range(page.locator(".stop-item").count()):
            page.evaluate(SHOW, [".stop-item", index, "stop-item active", "stop-item"])
            yield f"publicity-{index}", check(page, profile)
        return
    yield "", check(page, profile)


@pytest.mark.parametrize("data", ["demo", "long"])
@pytest.mark.parametrize("name", sorted(profiles()))
def test_every_view_fits_its_profile(browser, servers, data, name):
    profile = profiles()[name]
    context = browser.new_context(viewport={"width": profile.width, "height": profile.height}, bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    problems, smallest = [], []
    try:
        for address in VIEWS[data][profile.kind]:
            joiner = "&" if "?" in address else "?"
            # Rotation and refresh are held (a day): the test shows each slide itself.
            page.goto(f"{servers[data]}{address}{joiner}profile={name}&rotate=86400&refresh=86400")
            page.wait_for_function(READY[profile.kind])
            page.wait_for_timeout(300)  # fonts and the map settle
            label = address.strip("/").replace("/", "-").replace("?region=", "-")
            for view, found in _views(page, profile):
                _save(page, data, "-".join(part for part in (name, label, view) if part))
                problems += [f"{address} {view}: {problem}" for problem in found["problems"]]
                smallest.append(found["smallest"][0])
    finally:
        context.close()
    print(f"screenshots in {ARTIFACTS / 'layout' / data}")
    assert problems == [], "\n".join(problems[:40])
    assert min(smallest) >= profile.min_font_px  # in pixels of the target display
    assert errors == []


@pytest.mark.parametrize("name", sorted(name for name, p in profiles().items() if p.kind in ("board", "stop")))
def test_a_wrong_address_is_an_error_screen_readable_at_the_profile(browser, servers, name):
    profile = profiles()[name]
    address = "/board/990101999999" if profile.kind == "board" else "/stop/S99"
    context = browser.new_context(viewport={"width": profile.width, "height": profile.height}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{servers['demo']}{address}?profile={name}")
    page.wait_for_selector(".error-reason")
    reason = page.locator(".error-reason").inner_text()
    assert reason == ("未找到区划代码 990101999999 的村" if profile.kind == "board" else "未找到站点编号 S99 的站点")
    found = page.evaluate(
        "() => [...document.querySelectorAll('.error-canvas *')].filter(e => e.childNodes.length)"
        ".map(e => parseFloat(getComputedStyle(e).fontSize) * e.currentCSSZoom * devicePixelRatio)"
    )
    assert min(found) >= profile.min_font_px
    assert check(page, profile)["problems"] == []
    _save(page, "demo", f"{name}-error")
    context.close()


def test_an_unknown_address_is_a_chinese_404_page_with_status_404(browser, servers):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page = context.new_page()
    answer = page.goto(f"{servers['demo']}/no/such/page")
    assert answer.status == 404
    page.wait_for_selector(".not-found")
    assert "页面不存在（404）" in page.locator(".not-found").inner_text()
    assert page.goto(f"{servers['demo']}/screen/county").status == 200
    context.close()


# The shown card's empty band between its title and its text, the text's line height, and whether the text is cut.
CARD = """() => {
  const item = document.querySelector('.stop-item.active');
  const title = item.querySelector('h3').getBoundingClientRect();
  const body = item.querySelector('p');
  const box = body.getBoundingClientRect();
  return {gap: box.top - title.bottom, line: parseFloat(getComputedStyle(body).lineHeight),
          lines: Math.round(box.height / parseFloat(getComputedStyle(body).lineHeight)),
          cut: body.scrollHeight > body.clientHeight + 1};
}"""


@pytest.mark.parametrize("name", sorted(name for name, p in profiles().items() if p.kind == "stop"))
def test_a_stop_card_uses_the_lines_its_area_has_room_for(browser, servers, name):
    """The demo's 垃圾分类 card on a 1080p stop ended "做得好的农…" after three lines, under an empty band larger
    than a line: a fixed clamp of three lines, the text pushed to the bottom of the card."""
    profile = profiles()[name]
    context = browser.new_context(viewport={"width": profile.width, "height": profile.height}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{servers['demo']}/stop/S01?profile={name}&rotate=86400&refresh=86400")
        page.wait_for_function(READY["stop"])
        page.wait_for_timeout(300)
        cards = page.locator(".stop-item").count()
        for index in range(cards):
            page.evaluate(SHOW, [".stop-item", index, "stop-item active", "stop-item"])
            if page.locator(".stop-item.active p").count() == 0:
                continue
            card = page.evaluate(CARD)
            if card["cut"]:  # text longer than the area: it fills the area, no band of a line or more is left
                assert card["gap"] < card["line"], (index, card)
    finally:
        context.close()
