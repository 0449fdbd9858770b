"""The county screen in headless Chromium and under load, in one run against the same gunicorn.

Prints first render time and bytes transferred (compressed), drill-down time (click → map and panels
rendered), and the throughput of the screen's refresh callbacks against a trivial Dash callback.
Targets: first render ≤ 1.5 s, ≤ 1.5 MB, drill ≤ 300 ms, refresh throughput ≥ 0.5 × the trivial one.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from etl.demo.sample import build_sample
from tests.browser.conftest import CHROMIUM, FLAGS, serve

PANELS_READY = (
    "[...document.querySelectorAll('.panel-asof')].length >= 5 && "
    "[...document.querySelectorAll('.panel-asof')].every(e => e.innerText.startsWith('数据截至'))"
)


def _throughput(base: str, request: dict, seconds: float = 5.0, threads: int = 8) -> float:
    """Requests per second a callback request sustains when replayed by several threads."""
    body = request["body"].encode()
    headers = {k: v for k, v in request["headers"].items() if k.lower() in ("content-type", "x-csrftoken")}
    headers["Accept-Encoding"] = "gzip"
    done = []
    stop = time.monotonic() + seconds

    def worker():
        count = 0
        while time.monotonic() < stop:
            with urllib.request.urlopen(urllib.request.Request(base + request["path"], body, headers)) as response:
                response.read()
            count += 1
        done.append(count)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(done) / seconds


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
        build_sample(var_dir)  # panels wait for 数据截至, so the warehouse needs facts, not only regions
        process, base = serve(var_dir, workers=2)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(base + "/screen/county")  # warm the server's caches once, as a wall would
                page.wait_for_function(PANELS_READY)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                start = time.perf_counter()
                page.goto(base + "/screen/county")
                page.wait_for_function(PANELS_READY)
                page.wait_for_selector("#screen-map .leaflet-overlay-pane path")
                first_render = time.perf_counter() - start
                transferred = page.evaluate(
                    "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
                    ".reduce((sum, e) => sum + (e.transferSize || 0), 0)"
                )
                box = page.locator(".region-label").first.bounding_box()
                page.evaluate("document.querySelectorAll('.panel-asof').forEach(e => e.innerText = '')")
                start = time.perf_counter()
                page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.wait_for_url("**region=*")
                page.wait_for_function(PANELS_READY)
                page.wait_for_selector("#screen-map .leaflet-overlay-pane path")
                drill = time.perf_counter() - start
                refresh = _capture(page, base + "/screen/county", PANELS_READY, "ticker")
                trivial = _capture(page, base + "/ping", "document.getElementById('ping-text')", "ping-text")
                browser.close()
            ours, baseline = _throughput(base, refresh), _throughput(base, trivial)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(
        f"first render {first_render * 1000:.0f} ms (target ≤ 1500), transferred {transferred / 1e6:.2f} MB "
        f"(target ≤ 1.5)"
    )
    print(f"drill-down click → map and panels {drill * 1000:.0f} ms (target ≤ 300)")
    print(
        f"refresh callback {ours:.0f} req/s, trivial callback {baseline:.0f} req/s on 2 workers: "
        f"ratio {ours / baseline:.2f} (target ≥ 0.5)"
    )
    print(
        json.dumps(
            {
                "first_render_ms": round(first_render * 1000),
                "bytes": transferred,
                "drill_ms": round(drill * 1000),
                "refresh_ratio": round(ours / baseline, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
