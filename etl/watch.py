"""The feed scheduler behind `ruralbrain etl watch`: each feed runs on its schedule until asked to stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from etl.alerts.service import AlertService, default_service
from etl.feeds import Feed
from etl.programmes.refresh import after_run as rescore_pilots
from etl.runner import RunReport, run_feed


def watch(
    engine: Engine,
    feeds: list[Feed],
    stop: threading.Event,
    *,
    late_hours: float = 48,
    on_report: Callable[[RunReport], None] | None = None,
    on_error: Callable[[Feed, Exception], None] | None = None,
    alerts: AlertService | None = None,
) -> None:
    """Run every feed when it is due, one at a time, until ``stop`` is set.

    Stopping never interrupts a batch: the run in progress finishes (each batch is its own transaction)
    and then the loop ends. MQTT feeds drain what the broker holds and end when idle; their persistent
    session keeps new messages at the broker until the next run.

    Alerts (ALERTS_FILE unless ``alerts`` is given): the rules a batch touched are evaluated right after it
    commits, and a thread sweeps every rule and sends notifications until ``stop`` is set.
    """
    alerts = alerts or default_service(engine)
    alerts.start(stop)
    try:
        _loop(engine, feeds, stop, late_hours, on_report, on_error, alerts)
    finally:
        stop.set()
        alerts.join()


def _loop(engine, feeds, stop, late_hours, on_report, on_error, alerts: AlertService) -> None:
    due = {feed.name: 0.0 for feed in feeds}
    while not stop.is_set():
        now = time.monotonic()
        for feed in feeds:
            if stop.is_set() or due[feed.name] > now:
                continue
            due[feed.name] = now + feed.schedule.total_seconds()
            try:
                report = run_feed(engine, feed, late_hours=late_hours, stop=stop, progress=alerts.after_batch(feed))
            except Exception as error:  # noqa: BLE001 - one broken feed must not stop the others
                if on_error:
                    on_error(feed, error)
                continue
            if on_report:
                on_report(report)
            rescore_pilots(engine, report)  # the pilot programmes' scores follow the loads (throttled)
        next_due = min(due.values(), default=now + 1) - time.monotonic()
        stop.wait(max(0.05, min(next_due, 1.0)))
