"""A village board left running in headless Chromium at an accelerated cadence: does the page grow?

The board refreshes from the server every 0.4 s and rotates its slide every 0.3 s (instead of every minute
and every 20 s) until it has done at least 1,000 of each. JS heap (after a forced garbage collection) and
DOM node count are read after a warm-up and at the end. Target: growth ≤ 10%.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from etl.demo.sample import BOARD_VILLAGE, build_sample
from tests.browser.conftest import CHROMIUM, FLAGS, serve

CYCLES = 1000
WARM_UP = 50
TARGET_GROWTH = 0.10
# performance.memory is coarse (bucketed) unless precise memory info is on; gc() needs --expose-gc.
SOAK_FLAGS = [*FLAGS, "--enable-precise-memory-info", "--js-flags=--expose-gc"]
MEASURE = """() => {
  if (window.gc) { window.gc(); window.gc(); }
  return { heap: performance.memory.usedJSHeapSize, nodes: document.getElementsByTagName('*').length };
}"""


def main() -> None:
    """Build the sample warehouse, serve it, and soak one board until 1,000 refreshes and rotations."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        var_dir = Path(folder)
        build_sample(var_dir)
        process, base = serve(var_dir, workers=2)
        refreshes = [0]
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=SOAK_FLAGS)
                page = browser.new_page(viewport={"width": 1080, "height": 1920})
                page.on(
                    "response",
                    lambda r: (
                        "_dash-update-component" in r.url
                        and "board-refresh" in (r.request.post_data or "")
                        and refreshes.__setitem__(0, refreshes[0] + 1)
                    ),
                )
                started = time.perf_counter()
                page.goto(f"{base}/board/{BOARD_VILLAGE}?refresh=0.4&rotate=0.3&screen=soak-1")
                page.wait_for_selector(".slide.active")
                while refreshes[0] < WARM_UP:
                    page.wait_for_timeout(200)
                start = page.evaluate(MEASURE)
                start_cycles = (refreshes[0], page.evaluate("window.ruralbrainBoard.rotations"))
                while refreshes[0] < CYCLES + WARM_UP or page.evaluate("window.ruralbrainBoard.rotations") < CYCLES:
                    page.wait_for_timeout(1000)
                end = page.evaluate(MEASURE)
                rotations = page.evaluate("window.ruralbrainBoard.rotations") - start_cycles[1]
                done = refreshes[0] - start_cycles[0]
                errors = page.evaluate("window.ruralbrainOffline()")
                browser.close()
            minutes = (time.perf_counter() - started) / 60
        finally:
            process.terminate()
            process.wait(timeout=10)
    heap_growth = end["heap"] / start["heap"] - 1
    node_growth = end["nodes"] / start["nodes"] - 1
    print(f"board soaked for {minutes:.1f} min: {done} refreshes and {rotations} rotations after the warm-up")
    print(
        f"JS heap {start['heap'] / 1e6:.2f} MB → {end['heap'] / 1e6:.2f} MB ({100 * heap_growth:+.1f}%), "
        f"DOM nodes {start['nodes']} → {end['nodes']} ({100 * node_growth:+.1f}%); target ≤ "
        f"{100 * TARGET_GROWTH:.0f}% growth; connection badge shown at the end: {errors}"
    )
    print(
        json.dumps(
            {
                "refreshes": done,
                "rotations": rotations,
                "heap_growth": round(heap_growth, 3),
                "node_growth": round(node_growth, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
