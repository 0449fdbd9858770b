"""Many kiosk screens against one gunicorn (the production config) on loopback, with a bounded load generator.

Each simulated screen is a village board, registered with a token as a county registers its boards: a refresh
callback every 30 s (the request a real board sends, captured once from Chromium, pointed at the screen's own
village) and a heartbeat with its token every 60 s, their start times spread evenly over the cadence. Latency
is measured from when a request was due, not when it was sent, so a backlog in the generator counts against the
server instead of hiding (no coordinated omission). A request on a kept-alive connection that the server closed
before answering (a worker recycled after max_requests) is sent again once on a new connection, as a browser
does; its latency still counts from when it was due. Errors are printed by kind.

Prints p50/p95/p99 and errors at 1,000 screens, then searches for the largest count that keeps
p95 ≤ 200 ms with no errors; each level lasts two minutes (BENCH_LOAD_SECONDS) and counts only when a second run
confirms it. Both sides share the machine's cores: the generator's own CPU use is printed.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bench.screen import _capture
from etl.demo.sample import BOARD_VILLAGE, build_sample
from etl.warehouse.db import make_engine
from etl.warehouse.schema import regions
from etl.warehouse.screens import register
from tests.browser.conftest import CHROMIUM, FLAGS, free_port

REFRESH_SECONDS, HEARTBEAT_SECONDS = 30, 60
# Long enough to cross at least two minute boundaries, where minute-keyed answers expire (BENCH_LOAD_SECONDS).
LEVEL_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "120"))
TARGET_P95_MS = 200
# What a browser retries once on a new connection when a kept-alive one fails before any answer.
RETRIED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
CONNECTIONS = 64  # the generator's bound: at most this many requests in flight
ROOT = Path(__file__).resolve().parents[1]
# After the page's own routing callback, a board's only server callback is its refresh.
REFRESHED = (
    "performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component')).length >= 2"
)


@dataclass
class Level:
    """What one run at a number of screens measured."""

    screens: int
    sent: int
    errors: int
    p50: float
    p95: float
    p99: float
    generator_cpu: float  # share of one core the load generator itself used
    kinds: dict[str, int] = field(default_factory=dict)  # errors by kind: HTTP status or exception
    retried: int = 0  # requests sent again after a kept-alive connection closed under them

    @property
    def ok(self) -> bool:
        """p95 within the target and no error."""
        return self.errors == 0 and self.p95 <= TARGET_P95_MS

    def line(self) -> str:
        """One row of the printed table."""
        return (
            f"{self.screens:>6} screens  {self.sent:>6} requests  {self.errors:>4} errors  "
            f"p50 {self.p50:7.1f} ms  p95 {self.p95:7.1f} ms  p99 {self.p99:7.1f} ms  "
            f"generator {100 * self.generator_cpu:3.0f}% of a core  {'ok' if self.ok else 'over'}"
            + (f"  errors: {', '.join(f'{kind} ×{count}' for kind, count in self.kinds.items())}" if self.kinds else "")
            + (f"  sent again on a new connection: {self.retried}" if self.retried else "")
        )


def _serve(var_dir: Path, port: int) -> subprocess.Popen:
    """gunicorn with the deployment's config file, as a county would run it."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    env = {**os.environ, "VAR_DIR": str(var_dir), "PORT": str(port), "HOST": "127.0.0.1"}
    process = subprocess.Popen(
        [gunicorn, "-c", str(ROOT / "data" / "deploy" / "gunicorn.conf.py"), "dashboard.wsgi:server"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not answer within 60 s")


@dataclass
class Boards:
    """The simulated boards: the server, the refresh request, the villages, and the tokens registered so far."""

    port: int
    refresh: dict
    villages: list[str]
    warehouse_url: str
    tokens: dict[int, str] = field(default_factory=dict)

    def register(self, screens: int) -> None:
        """Register the boards load-0 … load-(screens-1) not registered yet (before a level is timed)."""
        engine = make_engine(self.warehouse_url)
        with engine.begin() as connection:
            for index in range(len(self.tokens), screens):
                village = self.villages[index % len(self.villages)]
                self.tokens[index] = register(connection, f"load-{index}", "board", region_code=village)
        engine.dispose()


def _schedule(screens: int, seconds: float, boards: Boards) -> list[tuple[float, str, bytes]]:
    """(due time, path, body) of every request the screens send in ``seconds``, in time order."""
    due = []
    for index in range(screens):
        village = boards.villages[index % len(boards.villages)]
        body = boards.refresh["body"].replace(BOARD_VILLAGE, village).encode()
        beat = {"screen": f"load-{index}", "token": boards.tokens[index], "route": f"/board/{village}", "build": ""}
        beat = json.dumps({**beat, "data_version": 1, "heap_mb": 30}).encode()
        start = REFRESH_SECONDS * index / screens
        moment = start
        while moment < seconds:
            due.append((moment, boards.refresh["path"], body))
            moment += REFRESH_SECONDS
        moment = HEARTBEAT_SECONDS * index / screens + 0.5
        while moment < seconds:
            due.append((moment, "/api/heartbeat", beat))
            moment += HEARTBEAT_SECONDS
    return sorted(due, key=lambda item: item[0])


def _run_level(boards: Boards, screens: int) -> Level:
    """Send one level's schedule through at most CONNECTIONS keep-alive connections; collect latencies."""
    boards.register(screens)
    plan = _schedule(screens, LEVEL_SECONDS, boards)
    port = boards.port
    work: queue.Queue = queue.Queue()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    retried = [0]
    lock = threading.Lock()
    headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}

    def worker():
        connection, used = http.client.HTTPConnection("127.0.0.1", port, timeout=30), False
        while (item := work.get()) is not None:
            due_at, path, body = item
            failure = None
            for attempt in (1, 2):
                try:
                    connection.request("POST", path, body, headers)
                    response = connection.getresponse()
                    response.read()
                    failure = f"HTTP {response.status}" if response.status >= 400 else None
                    used = True
                    break
                except (OSError, http.client.HTTPException) as error:
                    failure = type(error).__name__
                    connection.close()
                    connection, reused, used = http.client.HTTPConnection("127.0.0.1", port, timeout=30), used, False
                    # A kept-alive connection the server closed (a worker recycled after max_requests) before
                    # answering: a browser sends the request again on a new connection, once; so do we.
                    if not (reused and attempt == 1 and isinstance(error, RETRIED)):
                        break
                    with lock:
                        retried[0] += 1
            elapsed = (time.perf_counter() - due_at) * 1000
            with lock:
                latencies.append(elapsed)
                if failure:
                    errors[failure] = errors.get(failure, 0) + 1

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(CONNECTIONS)]
    for thread in pool:
        thread.start()
    cpu_before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for offset, path, body in plan:
        delay = started + offset - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        work.put((started + offset, path, body))
    for _ in pool:
        work.put(None)
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    ordered = sorted(latencies)

    def percentile(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")

    p50, p95, p99 = percentile(0.5), percentile(0.95), percentile(0.99)
    return Level(screens, len(plan), sum(errors.values()), p50, p95, p99, cpu / wall, errors, retried[0])


def _confirmed(boards: Boards, screens: int) -> Level:
    """A level run twice, the worse of the two: one lucky run never moves the search on."""
    runs = []
    for attempt in (1, 2):
        level = _run_level(boards, screens)
        print(f"{level.line()}  (run {attempt} of 2)", flush=True)
        runs.append(level)
        if not level.ok:
            break  # a miss needs no confirmation
    return max(runs, key=lambda level: (not level.ok, level.p95))


def _largest_ok(boards: Boards, first: Level) -> tuple[int, list[Level]]:
    """Double the screens until a level misses the target, then halve the gap twice; every level confirmed."""
    runs = [first]
    good, bad = (first.screens, None) if first.ok else (0, first.screens)
    while bad is None:
        level = _confirmed(boards, good * 2)
        runs.append(level)
        good, bad = (level.screens, None) if level.ok else (good, level.screens)
    for _ in range(2):
        middle = (good + bad) // 2
        level = _confirmed(boards, middle)
        runs.append(level)
        good, bad = (middle, bad) if level.ok else (good, middle)
    return good, runs


def main() -> None:
    """Build the sample warehouse, capture a board's refresh request, then load gunicorn level by level."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        var_dir = Path(folder)
        settings = build_sample(var_dir)
        engine = make_engine(settings.warehouse_url)
        with engine.connect() as connection:
            villages = list(connection.execute(select(regions.c.code).where(regions.c.level == "village")).scalars())
        engine.dispose()
        port = free_port()
        process = _serve(var_dir, port)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1080, "height": 1920}, bypass_csp=True)
                refresh = _capture(page, f"{base}/board/{BOARD_VILLAGE}?refresh=1", REFRESHED, "board-refresh")
                browser.close()
            # Warm every village's cached queries once, as the boards of a running county would have.
            boards = Boards(port, refresh, villages, settings.warehouse_url)
            warm = _run_level(boards, len(villages))
            print(f"warm-up: {warm.sent} requests, {warm.errors} errors", flush=True)
            workers = os.cpu_count() * 2
            print(
                f"gunicorn: data/deploy/gunicorn.conf.py ({workers} workers × 2 threads) on {os.cpu_count()} cores, "
                f"shared with the load generator; each level runs {LEVEL_SECONDS} s",
                flush=True,
            )
            at_thousand = _confirmed(boards, 1000)
            largest, _runs = _largest_ok(boards, at_thousand)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(
        f"1,000 screens: p95 {at_thousand.p95:.0f} ms with {at_thousand.errors} errors (target p95 ≤ "
        f"{TARGET_P95_MS} ms, 0 errors); largest count within the target: {largest:,} screens "
        f"({largest / 1000:.1f}× the 1,000 target)"
    )
    print(
        json.dumps(
            {
                "p95_ms_at_1000": round(at_thousand.p95, 1),
                "errors_at_1000": at_thousand.errors,
                "largest_screens_ok": largest,
            }
        )
    )


if __name__ == "__main__":
    main()
