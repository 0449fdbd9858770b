"""Alerts inside `ruralbrain etl watch`: the rules a batch touched evaluated right after it commits, and a thread
that sweeps every rule on the file's schedule and sends the notifications that are due (woken by each batch)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from sqlalchemy import Engine

from etl.alerts.config import DEMO_FILE, AlertsConfig, load_alerts
from etl.alerts.evaluate import Evaluator
from etl.alerts.lock import serialised
from etl.alerts.notify import deliver, plan
from etl.alerts.retention import CHUNK, prune_some
from etl.warehouse.settings import Settings

POLL = 1.0  # seconds between looks for due notifications (deferred ones, retries) when nothing wakes the thread
PRUNE_EVERY = 3600.0  # seconds between passes over the alerts' history (etl/alerts/retention.py)


def _complain(what: str, error: Exception) -> None:
    print(f"告警：{what}失败：{type(error).__name__}: {error}", file=sys.stderr, flush=True)


class AlertService:
    """The evaluator and notifier of one `etl watch` process (other processes run their own; the warehouse's
    lock lets one act at a time, and the notifications log keeps them from sending anything twice)."""

    def __init__(
        self,
        engine: Engine,
        config: AlertsConfig,
        clock: Callable[[], datetime] | None = None,
        on_error: Callable[[str, Exception], None] = _complain,
        feeds: Collection[str] | None = None,
    ):
        self.engine, self.config = engine, config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.evaluator = Evaluator(engine, config, self.clock, feeds)
        self.on_error = on_error
        self.wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None

    def after_batch(self, feed) -> Callable:
        """A run's progress callback: after each committed batch, the rules it touched over the regions it loaded."""
        mark = [self.clock()]

        def evaluate(_counts, _batch) -> None:
            since, mark[0] = mark[0], self.clock()
            try:
                changes = self.evaluator.after_load(feed.name, feed.dataset, since)
            except Exception as error:  # noqa: BLE001 - the batch is committed; the sweep evaluates it again
                self.on_error(f"{feed.name} 导入后的评估", error)
                return
            if changes.opened or changes.resolved:
                self.wake.set()

        return evaluate

    def start(self, stop: threading.Event) -> None:
        """Sweep and deliver in a thread until ``stop`` is set."""
        self._stop = stop
        self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Wait for the thread to finish what it is sending (call after setting the stop event)."""
        if self._thread is not None:
            self.wake.set()
            self._thread.join()

    def _loop(self) -> None:
        next_sweep = next_prune = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.config.sweep.total_seconds()
                self._guarded("定期检查", self.evaluator.sweep)
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY
                self._guarded("清理告警历史", self.prune)
            self._guarded("发送通知", self.deliver)
            self.wake.wait(POLL)
            self.wake.clear()

    def _guarded(self, what: str, action: Callable) -> None:
        try:
            action()
        except Exception as error:  # noqa: BLE001 - a broken channel or a lost connection must not end the loop
            self.on_error(what, error)

    def prune(self) -> int:
        """Delete the alerts' history beyond its window, a chunk per transaction (the first pass over years of
        history would otherwise hold SQLite's write lock, and the evaluator with it, until it ended)."""
        removed, now = 0, self.clock()
        while True:
            with self.engine.begin() as connection:
                deleted = prune_some(connection, now)
            removed += deleted
            if deleted < CHUNK:
                return removed

    def deliver(self):
        """Plan the notifications of state changes made elsewhere (acknowledged on a screen or the CLI), then send
        what is due."""
        if self.config.channels:
            with serialised(self.engine) as connection:
                plan(connection, self.config.channels, self.clock())
        stopping = self._stop.is_set if self._stop is not None else (lambda: False)
        done = deliver(self.engine, self.config.channels, self.clock, stop=stopping)
        for what in done.given_up:
            print(f"告警：已放弃发送：{what}", file=sys.stderr, flush=True)
        return done


def configured(settings: Settings | None = None) -> AlertsConfig:
    """The deployment's alerts file (ALERTS_FILE, default the demo's), loaded and checked."""
    settings = settings or Settings.load()
    return load_alerts(settings.alerts_file or DEMO_FILE)


def default_service(engine: Engine, feeds: Collection[str] | None = None) -> AlertService:
    """The alert service of `etl watch` for this deployment's alerts file and the feeds its feeds file declares."""
    return AlertService(engine, configured(), feeds=feeds)
