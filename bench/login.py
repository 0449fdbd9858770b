"""What a login costs, in one run against the same gunicorn: the county screen's refresh callback for a township
from a logged-in township cadre against the same refresh from an anonymous kiosk (alternating one-second slices,
so other load weighs on both alike), and the login page's first render in headless Chromium.

Targets (issue "Who is looking"): logged-in refresh throughput ≥ 0.95 of the anonymous one; login page first
render ≤ 300 ms.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from etl.demo.sample import TOWNSHIP, build_sample
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from tests.browser.conftest import CHROMIUM, FLAGS, serve

PASSWORD = "bench password long enough"
# The panels of the default county profile: a refresh may ask for a profile's panel list only.
NAMES = ["governance", "industry", "livelihood", "rankings", "environment", "security"]


def _refresh(scope: str) -> dict:
    """The body of the county screen's refresh for ``scope``."""
    return {
        "output": "screen-content.data",
        "outputs": {"id": "screen-content", "property": "data"},
        "inputs": [{"id": "screen-refresh", "property": "n_intervals", "value": 1}],
        "state": [
            {"id": "screen-scope", "property": "data", "value": {"scope": scope, "shown": scope, "names": NAMES}},
            {"id": "screen-shown", "property": "data", "value": None},
        ],
        "changedPropIds": ["screen-refresh.n_intervals"],
    }


def _session_cookie(base: str) -> str:
    """Log the bench's township cadre in through the login form; the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    data = f"name=zhen&password={PASSWORD.replace(' ', '+')}&csrf_token={token}&next=/".encode()
    opener.open(urllib.request.Request(base + "/login", data)).read()
    cookie = next(c for c in jar if c.name == "ruralbrain_session")
    return f"{cookie.name}={cookie.value}"


def _first_renders(base: str, times: int = 7) -> list[float]:
    """Milliseconds from navigation start to the login page's load event, each in a new browser context."""
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for _ in range(times):
            context = browser.new_context()
            page = context.new_page()
            page.goto(base + "/login")
            timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
            entry = json.loads(timing)
            results.append(entry["loadEventEnd"] - entry["startTime"])
            context.close()
        browser.close()
    return results


def _rates(base: str, requests: list[tuple[bytes, dict]], rounds: int = 6, seconds: float = 1.0, threads: int = 8):
    """Requests per second each (body, headers) sustains against the callback route, replayed by several threads
    in alternating one-second slices."""
    done = [0] * len(requests)
    for _ in range(rounds):
        for index, (body, headers) in enumerate(requests):
            counts: list[int] = []
            stop = time.monotonic() + seconds

            def worker(body=body, headers=headers, counts=counts, stop=stop):
                count = 0
                while time.monotonic() < stop:
                    call = urllib.request.Request(base + "/_dash-update-component", body, headers)
                    with urllib.request.urlopen(call) as response:
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


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        var_dir = Path(scratch)
        settings = build_sample(var_dir)
        with make_engine(settings.warehouse_url).begin() as connection:
            add_user(connection, "zhen", "township", TOWNSHIP, password=PASSWORD)
        process, base = serve(var_dir, {"COOKIE_SECURE": "false"})
        try:
            cookie = _session_cookie(base)
            body = json.dumps(_refresh(TOWNSHIP)).encode()
            headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
            rates = _rates(base, [(body, headers), (body, {**headers, "Cookie": cookie})])
            renders = _first_renders(base)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"refresh, anonymous kiosk:   {rates[0]:7.0f} req/s")
    print(f"refresh, logged-in cadre:   {rates[1]:7.0f} req/s  ratio {rates[1] / rates[0]:.2f} (target ≥ 0.95)")
    print(f"login page first render:    median {statistics.median(renders):.0f} ms (target ≤ 300), runs {renders}")


if __name__ == "__main__":
    main()
