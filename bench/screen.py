"""The county screen in headless Chromium and under load, in one run against the same gunicorn.

Prints first render time and bytes transferred (compressed), drill-down time (click → map and panels
rendered; the median over the townships holding the sample's facts, each a scope nothing has cached yet),
and the throughput of the screen's refresh callback against a trivial Dash callback (in alternating slices,
so that other load on the machine weighs on both alike): a refresh that brings new content (the target),
and one that finds the content unchanged since the screen got it, as nearly every refresh between loads.
Targets: first render ≤ 1.5 s, ≤ 1.5 MB, drill ≤ 300 ms, refresh throughput ≥ 0.5 × the trivial one.
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
from etl.warehouse.db import make_engine
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


def _drill(page, base: str, township: str) -> float:
    """Seconds from a click on a township of the county map (a scope no screen has shown yet, so nothing of
    it is cached) until the new scope's map and panels are rendered."""
    page.goto(base + "/screen/county")
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
                page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
                page.goto(base + "/screen/county")  # warm the server's caches once, as a wall would
                page.wait_for_function(PANELS_READY)
                page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
                start = time.perf_counter()
                page.goto(base + "/screen/county")
                page.wait_for_function(PANELS_READY)
                page.wait_for_selector("#screen-map .leaflet-overlay-pane path")
                first_render = time.perf_counter() - start
                transferred = page.evaluate(
                    "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
                    ".reduce((sum, e) => sum + (e.transferSize || 0), 0)"
                )
                drills = [_drill(page, base, township) for township in townships]
                # The page arrives with its content: the first refresh goes out after the interval (1 s here).
                refresh = _capture(page, base + "/screen/county?refresh=1", REFRESHED, "screen-content")
                trivial = _capture(page, base + "/ping", PINGED, "ping-text")
                browser.close()
            unchanged, changed, baseline = _throughput(base, [refresh, _with_new_content(refresh), trivial])
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(
        f"first render {first_render * 1000:.0f} ms (target ≤ 1500), transferred {transferred / 1e6:.2f} MB "
        f"(target ≤ 1.5)"
    )
    drill = statistics.median(drills)
    print(
        f"drill-down click → map and panels {drill * 1000:.0f} ms, median of {len(drills)} townships "
        f"({', '.join(f'{d * 1000:.0f}' for d in drills)}) (target ≤ 300)"
    )
    print(
        f"refresh callback, new content {changed:.0f} req/s, trivial callback {baseline:.0f} req/s on 2 workers: "
        f"ratio {changed / baseline:.2f} (target ≥ 0.5)"
    )
    print(
        f"refresh callback, content unchanged since the screen got it (between two loads) {unchanged:.0f} req/s: "
        f"ratio {unchanged / baseline:.2f}"
    )
    print(
        json.dumps(
            {
                "first_render_ms": round(first_render * 1000),
                "bytes": transferred,
                "drill_ms": round(drill * 1000),
                "refresh_ratio": round(changed / baseline, 2),
                "refresh_ratio_unchanged": round(unchanged / baseline, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
