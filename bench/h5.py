"""一户一码 under load, in one run: the household page's weight on first load (Chromium), its latency at 200
requests/s on the default two gunicorn workers, 1,000 诉求 a minute for five minutes through the page into the
warehouse by the qr_cases feed under `etl watch` (none lost, none doubled, each within 60 s), and the label sheet of
a village of 500 households.

Targets (issue "一户一码"): page ≤ 150 KB transferred; p95 ≤ 100 ms at 200/s; every 诉求 in the warehouse within
60 s, none lost or doubled; sheet ≤ 5 s. BENCH_H5_SECONDS (default 30) is the page load's length, BENCH_H5_MINUTES
(default 5) the submissions'.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import insert, select

from etl.demo.sample import BOARD_VILLAGE, build_sample
from etl.household_sheet import write_sheet
from etl.warehouse.db import as_utc, make_engine
from etl.warehouse.household_tokens import issue, village_households
from etl.warehouse.schema import cases, households, intake_cases
from tests.browser.conftest import CHROMIUM, FLAGS, serve
from tests.household_fixtures import intake_feeds

HOUSEHOLDS = 500
RATE = 200
PER_MINUTE = 1000
ADDRESSES = [f"10.{n // 250}.{n % 250}.{7 + n % 5}" for n in range(200)]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def _village(engine) -> list[str]:
    """500 households in the board's village, each with a code: their tokens."""
    now = datetime.now(UTC)
    rows = [
        {
            "household_code": f"B{n:04d}",
            "region_code": BOARD_VILLAGE,
            "event_time": now,
            "loaded_at": now,
            "head_name": "王建国",
            "door_plate": f"幸福路{n}号",
            "village_group": f"{n // 40 + 1}组",
        }
        for n in range(HOUSEHOLDS)
    ]
    with engine.begin() as connection:
        connection.execute(insert(households), rows)
        found = [h for h in village_households(connection, BOARD_VILLAGE) if h.code.startswith("B")]
        return [issue(connection, household, "bench") for household in found]


def _sheet(engine, folder: Path) -> float:
    """Seconds for `households qr` of the 500 households: new codes and the PDF."""
    start = time.perf_counter()
    with engine.begin() as connection:
        found = [h for h in village_households(connection, BOARD_VILLAGE) if h.code.startswith("B")]
        labels = [(household, issue(connection, household, "bench")) for household in found]
        write_sheet(folder / "sheet.pdf", labels, "https://ruralbrain.example.gov.cn")
    return time.perf_counter() - start


def _weight(base: str, token: str) -> int:
    """Bytes transferred (headers and encoded bodies) loading the household page in Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        responses = []
        page.on("requestfinished", lambda request: responses.append(request))
        page.goto(f"{base}/h/{token}", wait_until="load")
        total = sum(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in responses)
        browser.close()
    return total


def _open_loop(count: int, rate: float, call) -> tuple[list[float], int]:
    """Start ``count`` calls at ``rate`` per second whatever the answers take (latency counted from each call's
    planned start, so a slow server cannot slow the load down); (latencies in ms, errors)."""
    latencies, errors, lock = [], [0], threading.Lock()
    start = time.perf_counter() + 0.5

    def one(index: int) -> None:
        planned = start + index / rate
        time.sleep(max(0.0, planned - time.perf_counter()))
        try:
            ok = call(index)
        except requests.RequestException:
            ok = False
        elapsed = (time.perf_counter() - planned) * 1000
        with lock:
            latencies.append(elapsed)
            errors[0] += not ok

    with ThreadPoolExecutor(max_workers=96) as pool:
        list(pool.map(one, range(count)))
    return latencies, errors[0]


def _page_load(base: str, tokens: list[str], seconds: int) -> tuple[list[float], int]:
    local = threading.local()

    def get(index: int) -> bool:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        answer = session.get(f"{base}/h/{random.choice(tokens)}", headers={"Accept-Encoding": "gzip"}, timeout=30)
        return answer.status_code == 200 and "我要反映" in answer.text

    return _open_loop(RATE * seconds, RATE, get)


def _submissions(base: str, tokens: list[str], minutes: float) -> tuple[dict, int, int]:
    """1,000 诉求 a minute, each through its page (GET for the form, then POST), one in 20 sent twice as a double
    tap does; (case id → submitted at, double taps, errors)."""
    sent: dict[str, float] = {}
    doubles, lock = [0], threading.Lock()

    def submit(index: int) -> bool:
        session = requests.Session()
        address = {"X-Real-IP": ADDRESSES[index % len(ADDRESSES)]}
        token = tokens[index % len(tokens)]
        page = session.get(f"{base}/h/{token}", headers=address, timeout=30).text
        data = {
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page)[1],
            "key": re.search(r'name="key" value="([0-9a-f]{32})"', page)[1],
            "topic": "roads",
            "text": f"压测诉求 {index}",
        }
        times = 2 if index % 20 == 0 else 1
        locations = set()
        for _ in range(times):
            answer = session.post(
                f"{base}/h/{token}/cases", data=data, headers=address, timeout=30, allow_redirects=False
            )
            if answer.status_code != 303:
                return False
            locations.add(answer.headers["Location"].rsplit("/", 1)[1])
        with lock:
            doubles[0] += times - 1
            for case_id in locations:
                sent[case_id] = time.time()
        return len(locations) == 1

    latencies, errors = _open_loop(int(PER_MINUTE * minutes), PER_MINUTE / 60, submit)
    return sent, doubles[0], errors


def _arrivals(engine, sent: dict, wait: float = 120) -> dict[str, float]:
    """Seconds from each 诉求's intake time to its load into the warehouse's cases (waiting for stragglers)."""
    deadline = time.monotonic() + wait
    while True:
        with engine.connect() as connection:
            query = select(cases.c.case_id, cases.c.loaded_at).where(cases.c.channel == "qr_code")
            loaded = dict(connection.execute(query).all())
            created = dict(connection.execute(select(intake_cases.c.case_id, intake_cases.c.created_at)).all())
        if set(sent) <= set(loaded) or time.monotonic() > deadline:
            break
        time.sleep(2)
    return {
        case_id: (as_utc(loaded[case_id]) - datetime.fromisoformat(created[case_id])).total_seconds()
        for case_id in sent
        if case_id in loaded
    }


def main() -> None:
    seconds = int(os.environ.get("BENCH_H5_SECONDS", "30"))
    minutes = float(os.environ.get("BENCH_H5_MINUTES", "5"))
    with tempfile.TemporaryDirectory() as folder:
        var_dir = Path(folder)
        settings = build_sample(var_dir)
        engine = make_engine(settings.warehouse_url)
        _village(engine)
        sheet = _sheet(engine, var_dir)
        print(f"label sheet of {HOUSEHOLDS} households: {sheet:.2f} s (target ≤ 5 s: {sheet / 5:.2f} of it)")
        with engine.begin() as connection:
            found = [h for h in village_households(connection, BOARD_VILLAGE) if h.code.startswith("B")]
            tokens = [issue(connection, household, "bench") for household in found]
        limits = {"HOUSEHOLD_WRITES_PER_HOUR": "100000", "ADDRESS_WRITES_PER_HOUR": "100000", "COOKIE_SECURE": "false"}
        process, base = serve(var_dir, limits)
        feeds_file = intake_feeds(var_dir, settings.warehouse_url)["qr_cases"].base_dir / "intake-feeds.toml"
        watch = subprocess.Popen(
            [sys.executable, "-m", "etl.cli", "etl", "watch", "qr_cases"],
            env={**os.environ, "VAR_DIR": str(var_dir), "FEEDS_FILE": str(feeds_file)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            size = _weight(base, tokens[0])
            print(
                f"household page, first load: {size / 1024:.1f} KB transferred (target ≤ 150 KB: {size / 153600:.2f})"
            )
            latencies, errors = _page_load(base, tokens, seconds)
            p50, p95, p99 = (_percentile(latencies, share) for share in (0.5, 0.95, 0.99))
            print(
                f"household page at {RATE}/s for {seconds} s on 2 workers: p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
                f"p99 {p99:.0f} ms, {errors} errors of {len(latencies)} (target p95 ≤ 100 ms: {p95 / 100:.2f})"
            )
            sent, doubles, failed = _submissions(base, tokens, minutes)
            delays = _arrivals(engine, sent)
            with engine.connect() as connection:
                made = connection.execute(
                    select(intake_cases.c.case_id).where(intake_cases.c.text.like("压测诉求%"))
                ).all()
            lost = len(sent) - len(delays)
            within = sum(delay <= 60 for delay in delays.values())
            print(
                f"诉求 at {PER_MINUTE}/min for {minutes:g} min: {len(sent)} accepted ({failed} refused), "
                f"{doubles} double "
                f"taps, {len(made)} cases made (doubled: {len(made) - len(sent)}), {lost} missing in the warehouse; "
                f"intake → warehouse p50 {statistics.median(delays.values()):.1f} s, p95 "
                f"{_percentile(list(delays.values()), 0.95):.1f} s, max {max(delays.values()):.1f} s, "
                f"{within}/{len(sent)} within 60 s"
            )
        finally:
            watch.terminate()
            watch.wait(timeout=60)
            process.terminate()
            process.wait(timeout=10)
        engine.dispose()


if __name__ == "__main__":
    main()
