"""The county screen in headless Chromium and under load, in one run against the same gunicorn.

Prints, for the 1080p profile in a 1920×1080 window and the 4K profile in a 3840×2160 one: first render time
and bytes transferred (compressed), drill-down time (click → map and panels rendered; the median over the
townships holding the sample's facts, each a scope nothing has cached yet: each profile starts at a new warehouse
version, as after a load, so the 4K drills do not find what the 1080p ones cached), and the throughput of the screen's
refresh callback against a trivial Dash callback (in alternating slices, so that other load on the machine
weighs on both alike): a refresh that brings new content (the target), and one that finds the content unchanged
since the screen got it, as nearly every refresh between loads.
Targets: first render ≤ 1.0 s, ≤ 1.5 MB, drill ≤ 150 ms, refresh throughput ≥ 0.7 × the trivial one, and at 4K
the same figures within 10 % of 1080p's.
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from sqlalchemy import select

from etl.demo.sample import VILLAGES, build_sample
from etl.warehouse.db import bump_version, make_engine
from etl.warehouse.schema import regions
from tests.browser.conftest import CHROMIUM, FLAGS, serve

PANELS_READY = (
    "[...document.querySelectorAll('.panel-asof')].length >= 5 && "
    "[...document.querySelectorAll('.panel-asof')].every(e => e.innerText.startsWith('数据截至'))"
)

# The page's routing callback, then its first refresh.
REFRESHED = (
    f"({PANELS_READY}) && performance.getEntriesByType('resource')"
    ".filter(e => e.name.includes('_dash-update-component')).length >= 2"
)


def _throughput(base: str, requests: list[dict], rounds: int = 5, seconds: float = 1.0, threads: int = 8) -> list:
    """Requests per second each callback request sustains when replayed by several threads, measured in
    alternating one-second slices: load from anything else on the machine then weighs on both alike."""
    prepared = []
    for request in requests:
        headers = {k: v for k, v in request["headers"].items() if k.lower() in ("content-type", "x-csrftoken")}
        headers["Accept-Encoding"] = "gzip"
        prepared.append((base + request["path"], request["body"].encode(), headers))
    done = [0] * len(requests)
    for _ in range(rounds):
        for index, (url, body, headers) in enumerate(prepared):
            counts = []
            stop = time.monotonic() + seconds

            def worker(url=url, body=body, headers=headers, counts=counts, stop=stop):
                count = 0
                while time.monotonic() < stop:
                    with urllib.request.urlopen(urllib.request.Request(url, body, headers)) as response:
                        response.read()
                    count += 1
                counts.append(count)

            pool = [threading.Thread(target=worker) for _ in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            done[index] += sum(counts)
    return [count / (rounds * seconds) for count in done]


# The new scope's URL, its panels with 数据截至 and its map drawn.
DRILLED = (
    f"location.search.includes('region=') && ({PANELS_READY}) && "
    "document.querySelectorAll('#screen-map .leaflet-overlay-pane path').length > 0"
)
# The ping page's callback has answered (it sets the title), so its request has been seen.
PINGED = "document.getElementById('ping-text') && document.getElementById('ping-text').title !== ''"


def _townships_with_facts(settings) -> list[str]:
    """Names of the townships that hold the sample's facts (the others show 暂无数据, not 数据截至)."""
    engine = make_engine(settings.warehouse_url)
    codes = sorted({village[:9] + "000" for village in VILLAGES})
    with engine.connect() as connection:
        names = dict(connection.execute(select(regions.c.code, regions.c.name).where(regions.c.code.in_(codes))).all())
    engine.dispose()
    return [names[code] for code in codes]


def _new_version(settings) -> None:
    """A write's new warehouse version: every answer the server cached before is stale, as after a load."""
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        bump_version(connection)
    engine.dispose()


def _drill(page, base: str, township: str, profile: str) -> float:
    """Seconds from a click on a township of the county map (a scope no screen has shown yet, so nothing of
    it is cached) until the new scope's map and panels are rendered."""
    page.goto(f"{base}/screen/county?profile={profile}")
    page.wait_for_function(PANELS_READY)
    page.wait_for_selector("#screen-map .leaflet-overlay-pane path")
    box = page.locator(".region-label", has_text=re.compile(f"^{township}$")).first.bounding_box()
    page.evaluate("document.querySelectorAll('.panel-asof').forEach(e => e.innerText = '')")
    start = time.perf_counter()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # One condition polled every frame: separate waits would add a round trip to the browser each.
    page.wait_for_function(DRILLED, polling="raf")
    return time.perf_counter() - start


def _with_new_content(refresh: dict) -> dict:
    """The same refresh from a screen that does not show the current content yet (as after a load): the
    answer is the whole content, not "unchanged"."""
    body = json.loads(refresh["body"])
    for state in body["state"]:
        if state["id"] == "screen-shown":
            state["value"] = None
    return {**refresh, "body": json.dumps(body)}


def _capture(page, url: str, ready: str, needle: str) -> dict:
    """Load a page and keep the body of the first callback request whose outputs mention ``needle``."""
    found = {}

    def keep(request):
        if "_dash-update-component" in request.url and needle in (request.post_data or "") and not found:
            found.update(
                path=request.url.split("127.0.0.1")[1].split("/", 1)[1], body=request.post_data, headers=request.headers
            )

    page.on("request", keep)
    page.goto(url)
    page.wait_for_function(ready)
    page.remove_listener("request", keep)
    found["path"] = "/" + found["path"]
    return found


# The profiles measured, each in a window of its display's size: the 4K wall draws the 1080p design at ×2.
SIZES = {"1080p": ("county-1080p", 1920, 1080), "4K": ("county-4k", 3840, 2160)}


def _screen(browser, base: str, townships: list[str], profile: str, width: int, height: int) -> dict:
    """First render, bytes, drills and the refresh request of the county screen at one profile and window."""
    address = f"{base}/screen/county?profile={profile}"
    page = browser.new_page(viewport={"width": width, "height": height}, bypass_csp=True)
    page.goto(address)  # warm the server's caches once, as a wall would
    page.wait_for_function(PANELS_READY)
    page.close()
    page = browser.new_page(viewport={"width": width, "height": height}, bypass_csp=True)
    start = time.perf_counter()
    page.goto(address)
    page.wait_for_function(PANELS_READY)
    page.wait_for_selector("#screen-map .leaflet-overlay-pane path")
    first_render = time.perf_counter() - start
    transferred = page.evaluate(
        "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".reduce((sum, e) => sum + (e.transferSize || 0), 0)"
    )
    drills = [_drill(page, base, township, profile) for township in townships]
    # The page arrives with its content: the first refresh goes out after the interval (1 s here).
    refresh = _capture(page, f"{address}&refresh=1", REFRESHED, "screen-content")
    page.close()
    return {"first_render": first_render, "bytes": transferred, "drills": drills, "refresh": refresh}


def main() -> None:
    """Run the benchmark once and print its figures."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        var_dir = Path(folder)
        settings = build_sample(var_dir)  # panels wait for 数据截至, so the warehouse needs facts, not only regions
        townships = _townships_with_facts(settings)
        process, base = serve(var_dir, workers=2)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                found = {}
                for size, spec in SIZES.items():
                    _new_version(settings)  # the 4K drills' scopes are as uncached as the 1080p ones were
                    found[size] = _screen(browser, base, townships, *spec)
                page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
                trivial = _capture(page, base + "/ping", PINGED, "ping-text")
                browser.close()
            requests = []
            for figures in found.values():
                requests += [figures["refresh"], _with_new_content(figures["refresh"])]
            rates = _throughput(base, [*requests, trivial])
        finally:
            process.terminate()
            process.wait(timeout=10)
    baseline, summary = rates[-1], {}
    for index, (size, figures) in enumerate(found.items()):
        unchanged, changed = rates[2 * index], rates[2 * index + 1]
        drill = statistics.median(figures["drills"])
        print(
            f"{size}: first render {figures['first_render'] * 1000:.0f} ms (target ≤ 1000), transferred "
            f"{figures['bytes'] / 1e6:.2f} MB (target ≤ 1.5); drill-down click → map and panels {drill * 1000:.0f} ms, "
            f"median of {len(figures['drills'])} townships ({', '.join(f'{d * 1000:.0f}' for d in figures['drills'])}) "
            f"(target ≤ 150); refresh callback, new content {changed:.0f} req/s against a trivial callback's "
            f"{baseline:.0f} req/s on 2 workers: ratio {changed / baseline:.2f} (target ≥ 0.7); content unchanged "
            f"since the screen got it {unchanged:.0f} req/s: ratio {unchanged / baseline:.2f}"
        )
        summary[size] = {
            "first_render_ms": round(figures["first_render"] * 1000),
            "bytes": figures["bytes"],
            "drill_ms": round(drill * 1000),
            "refresh_ratio": round(changed / baseline, 2),
            "refresh_ratio_unchanged": round(unchanged / baseline, 2),
        }
    hd, wall = summary["1080p"], summary["4K"]
    print(
        "4K against 1080p (target within 10 %): "
        + ", ".join(f"{key} {wall[key] / hd[key]:.2f}×" for key in ("first_render_ms", "drill_ms", "refresh_ratio"))
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
