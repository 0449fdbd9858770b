"""The feed scheduler behind `ruralbrain etl watch`: each feed runs on its schedule until asked to stop."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from sqlalchemy import Engine

from etl.alerts.service import AlertService, default_service
from etl.feed_lock import FeedBusy
from etl.feeds import Feed
from etl.programmes.refresh import after_run as rescore_pilots
from etl.runner import RunReport, patiently, run_feed
from etl.warehouse.accounts import forget_old_audit
from etl.warehouse.intake_files import SweepWithheld, sweep_stray

HOUSEKEEPING_SECONDS = 3600.0  # between passes over the audit log's window
# How long a stopping watch waits for the alerts thread to finish what it is doing. Past it (a check waiting out
# another process's write lock, 30 s on SQLite) the process ends without it: what it did not commit is done again by
# the next start, a notification whose sending was not recorded is sent again.
ALERTS_STOP_SECONDS = 6.0


def watch(
    engine: Engine,
    feeds: list[Feed],
    stop: threading.Event,
    *,
    late_hours: float = 48,
    on_report: Callable[[RunReport], None] | None = None,
    on_error: Callable[[Feed, Exception], None] | None = None,
    alerts: AlertService | None = None,
    audit_keep_days: int = 365,
    uploads_dir: str | None = None,
    declared: Collection[str] | None = None,
) -> None:
    """Run every feed when it is due, one at a time, until ``stop`` is set.

    Stopping never interrupts a batch: the run in progress finishes (each batch is its own transaction)
    and then the loop ends. MQTT feeds drain what the broker holds and end when idle; their persistent
    session keeps new messages at the broker until the next run.

    Alerts (ALERTS_FILE unless ``alerts`` is given): the rules a batch touched are evaluated right after it
    commits, and a thread sweeps every rule and sends notifications until ``stop`` is set. ``declared`` names every
    feed of the feeds file (not only those this process runs): a late_feed rule passes over any other feed and
    resolves its open alert (None: every feed the warehouse knows counts).

    Once an hour it forgets the audit entries older than ``audit_keep_days`` (AUDIT_KEEP_DAYS) and deletes what
    killed uploads left in ``uploads_dir`` (UPLOADS_DIR; ``sweep_stray``).
    """
    alerts = alerts or default_service(engine, declared)
    alerts.start(stop)
    try:
        _loop(engine, feeds, stop, late_hours, on_report, on_error, alerts, audit_keep_days, uploads_dir)
    finally:
        stop.set()
        joining = threading.Thread(target=alerts.join, name="alerts-join", daemon=True)
        joining.start()
        joining.join(ALERTS_STOP_SECONDS)
        if joining.is_alive():
            print(
                f"告警线程 {ALERTS_STOP_SECONDS:g} 秒内没有结束（在等数据仓库的写锁？），不再等它：未完成的检查下次启动"
                "时重做，未记下已发送的通知会再发一次",
                file=sys.stderr,
                flush=True,
            )


def _loop(
    engine, feeds, stop, late_hours, on_report, on_error, alerts: AlertService, audit_keep_days: int, uploads_dir
) -> None:
    due = {feed.name: 0.0 for feed in feeds}
    busy: set[str] = set()  # feeds another process was running at their last turn
    housekeeping = 0.0
    while not stop.is_set():
        now = time.monotonic()
        if now >= housekeeping:
            housekeeping = now + HOUSEKEEPING_SECONDS
            _housekeeping(engine, audit_keep_days, uploads_dir, stop)
        for feed in feeds:
            if stop.is_set() or due[feed.name] > now:
                continue
            due[feed.name] = now + feed.schedule.total_seconds()
            try:
                report = run_feed(engine, feed, late_hours=late_hours, stop=stop, progress=alerts.after_batch(feed))
            except FeedBusy as error:  # another process runs it now: its turn comes again, said once
                if feed.name not in busy:
                    busy.add(feed.name)
                    print(f"{feed.name}：{error}；到期时再试", flush=True)
                continue
            except Exception as error:  # noqa: BLE001 - one broken feed must not stop the others
                if on_error:
                    on_error(feed, error)
                continue
            busy.discard(feed.name)
            if on_report:
                on_report(report)
            if not stop.is_set():  # stopping: scoring waits for the next start (a lock would keep the exit waiting)
                rescore_pilots(engine, report)  # the pilot programmes' scores follow the loads (throttled)
        next_due = min(due.values(), default=now + 1) - time.monotonic()
        stop.wait(max(0.05, min(next_due, 1.0)))


def _housekeeping(engine: Engine, audit_keep_days: int, uploads_dir: str | None, stop: threading.Event) -> None:
    """The hourly pass: the audit log's window, then the uploads that killed writes left; a failure is reported and
    the feeds go on (the next hour tries again). Waiting for another writer's lock, it sees ``stop``."""
    try:
        patiently(engine, stop, lambda connection: forget_old_audit(connection, datetime.now(UTC), audit_keep_days))
    except Exception as error:  # noqa: BLE001
        print(f"审计日志清理失败：{type(error).__name__}: {error}", file=sys.stderr, flush=True)
    if not uploads_dir:
        return
    try:
        with engine.connect() as connection:
            swept = sweep_stray(connection, uploads_dir)
    except SweepWithheld as withheld:
        print(str(withheld), file=sys.stderr, flush=True)
        return
    except Exception as error:  # noqa: BLE001
        print(f"上传目录清理失败：{type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return
    if swept:
        print(f"上传目录：删除了 {swept} 个中断的上传留下的文件（半写的或没有记录的）", flush=True)
