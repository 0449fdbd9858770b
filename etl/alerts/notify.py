"""Notifications: planned for each state change of an alert and each channel whose route takes it (one row per
event and channel, so nothing is planned twice), deferred past a channel's quiet hours unless critical (an owner's
time to acknowledge then runs from their end), then claimed, sent, and marked sent, or retried with backoff until
the channel's attempts are spent."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from sqlalchemy import Connection, Engine, and_, bindparam, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from etl.alerts.channels import Channel, DeliveryError, Reached, Unreachable
from etl.alerts.lock import write_lock
from etl.alerts.message import Message, render
from etl.warehouse.db import as_utc
from etl.warehouse.schema import alert_events, alerts, notifications, regions

# A notification being sent is another process's after this long (that process died mid-send).
LEASE = timedelta(minutes=5)
# A notification claimed and not yet started is another process's after this long: a process killed mid-round held
# its whole batch, healthy channels' rows included, for the full lease. Each row gets LEASE as its sending starts.
CLAIM_LEASE = timedelta(seconds=30)
CLAIM_BATCH = 64  # rows claimed at once: a few rounds of the senders, started well within CLAIM_LEASE
PLAN_BATCH = 2000
OWNED = ("opened", "escalated")  # the events that give an alert to an owner, whose time to acknowledge then runs


def _deferred(channel: Channel, severity: str, now: datetime) -> datetime:
    """When a notification may go: now, or the end of the channel's quiet hours (critical alerts go at once)."""
    if channel.quiet is None or severity == "critical":
        return now
    return channel.quiet.deferred_until(now) or now


def plan(connection: Connection, channels: dict[str, Channel], now: datetime) -> int:
    """Notifications for every event not planned yet, inside the caller's transaction; how many were added."""
    added = 0
    while True:
        events = connection.execute(
            select(alert_events).where(alert_events.c.planned == 0).order_by(alert_events.c.id).limit(PLAN_BATCH)
        ).all()
        if not events:
            return added
        ids = sorted({event.alert_id for event in events})
        found = {
            row.id: row
            for part in _parts(ids)
            for row in connection.execute(select(alerts).where(alerts.c.id.in_(part)))
        }
        codes = sorted({code for row in found.values() for code in (row.region_code, row.owner_code)})
        names = dict(
            row
            for part in _parts(codes)
            for row in connection.execute(select(regions.c.code, regions.c.name).where(regions.c.code.in_(part)))
        )
        rows, told = [], {}
        for event in events:
            alert = found.get(event.alert_id)
            for name, channel in channels.items():
                if alert is None or not channel.route.matches(
                    event.level, alert.region_code, alert.severity, event.kind
                ):
                    continue
                message = render(alert, event, names, name)
                due = _deferred(channel, alert.severity, now)
                if event.kind in OWNED:
                    told[event.id] = min(due, told.get(event.id, due))
                rows.append(
                    {
                        "alert_id": alert.id,
                        "event_id": event.id,
                        "channel": name,
                        "status": "pending",
                        "attempts": 0,
                        "due_at": due,
                        "message": orjson.dumps(message.as_json()).decode(),
                        "created_at": now,
                    }
                )
        if rows:
            insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[connection.dialect.name]
            statement = insert(notifications).on_conflict_do_nothing(index_elements=["event_id", "channel"])
            added += connection.execute(statement, rows).rowcount or 0
        _count_from_told(connection, [(event, told[event.id]) for event in events if event.id in told])
        for part in _parts([event.id for event in events]):
            connection.execute(update(alert_events).where(alert_events.c.id.in_(part)).values(planned=1))


def _count_from_told(connection: Connection, told: list) -> None:
    """An owner's time to acknowledge (escalation counts from ``level_since``) runs from the first moment a
    notification of the event that made them the owner goes out: the end of the quiet hours when every channel
    that takes it keeps quiet then. Counted from the event, an alert opened at 23:00 and told at 07:00 escalated at
    07:00 at once, before anyone could have read it. (No channel takes it: the screens show it at once.)"""
    later = [
        {"alert": event.alert_id, "level_at": event.level, "told": when}
        for event, when in told
        if when > as_utc(event.at)
    ]
    if later:
        a = alerts.c
        connection.execute(
            update(alerts)
            .where(
                a.id == bindparam("alert"),
                a.level == bindparam("level_at"),
                a.status == "open",
                a.level_since < bindparam("told"),
            )
            .values(level_since=bindparam("told")),
            later,
        )


def _parts(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Delivered:
    """What a delivery round did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    # What was given up on (its attempts spent), in Chinese, for the operator: a robot answering "sign not match"
    # left a critical alert's notification failed without a word anywhere.
    given_up: list[str] = field(default_factory=list)


def _claim(engine: Engine, channels: dict[str, Channel], now: datetime, limit: int) -> tuple[list, datetime]:
    """Take the due notifications of the configured channels (and those whose sender's lease ran out); with the
    lease they were taken until."""
    n = notifications.c
    due = or_(and_(n.status == "pending", n.due_at <= now), and_(n.status == "sending", n.lease_until < now))
    # An alert's notifications reach a channel in the order of its events: while an earlier one waits (a retry after
    # the receiver failed once), the later waits behind it; 已消除 arrived before 新告警 and the alert read as open.
    earlier = aliased(notifications)
    behind = (
        select(earlier.c.id)
        .where(
            earlier.c.alert_id == n.alert_id,
            earlier.c.channel == n.channel,
            earlier.c.event_id < n.event_id,
            earlier.c.status.in_(("pending", "sending")),
        )
        .exists()
    )
    # Critical alerts first: behind a backlog of minor ones a critical alert waited for the whole round.
    critical = select(alerts.c.severity).where(alerts.c.id == n.alert_id).scalar_subquery() == "critical"
    query = (
        select(n.id, n.channel, n.attempts, n.message)
        .where(due, n.channel.in_(list(channels)), ~behind)
        .order_by(case((critical, 0), else_=1), n.due_at, n.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: two senders take different rows; SQLite: its write lock
    )
    with engine.begin() as connection:
        write_lock(connection)
        claimed = connection.execute(query).all()
        if claimed:
            connection.execute(
                update(notifications)
                .where(n.id.in_([row.id for row in claimed]))
                .values(status="sending", lease_until=now + CLAIM_LEASE)
            )
    return claimed, now + CLAIM_LEASE


def _renewed(engine: Engine, row_id: int, lease: datetime, now: datetime) -> datetime | None:
    """The notification's lease from ``now`` on, when it is still this sender's (its lease is the one this sender
    gave it), else None: another sender took it when the lease ran out (a batch behind a slow channel) and sends it."""
    until = now + LEASE
    n = notifications.c
    with engine.begin() as connection:
        taken = connection.execute(
            update(notifications)
            .where(n.id == row_id, n.status == "sending", n.lease_until == lease)
            .values(lease_until=until)
        ).rowcount
    return until if taken else None


def _recorder(engine: Engine, row_id: int, held: list[datetime], clock) -> Callable[[str], None]:
    """What keeps a part of a notification its channel delivered (an SMS's phone) in the notification's row, the
    sender's lease renewed with it (``held[0]``, the lease it holds). The part is kept even when another sender has
    taken the row over (its lease ran out), and then this sender stops: the other sends the rest."""
    n = notifications.c

    def record(part: str) -> None:
        until = clock() + LEASE
        with engine.begin() as connection:
            write_lock(connection)  # SQLite: read and write the parts in one go; PostgreSQL: the row's lock
            stored = connection.execute(select(n.reached).where(n.id == row_id).with_for_update()).scalar()
            parts = orjson.dumps(sorted({*_parts_reached(stored), part})).decode()
            mine = connection.execute(
                update(notifications)
                .where(n.id == row_id, n.status == "sending", n.lease_until == held[0])
                .values(reached=parts, lease_until=until)
            ).rowcount
            if not mine:
                connection.execute(update(notifications).where(n.id == row_id).values(reached=parts))
        if not mine:
            raise DeliveryError("另一发送进程已接手这条通知")
        held[0] = until

    return record


def _parts_reached(stored: str | None) -> list[str]:
    return orjson.loads(stored) if stored else []


def _send(engine: Engine, channel: Channel, row, lease: datetime, clock, done: Delivered) -> bool:
    """Send one claimed notification, its lease renewed as it goes (or not at all, when another sender has taken it),
    and mark it in the log: sent, to be retried after the backoff, or failed; False when the receiver did not
    answer."""
    lease = _renewed(engine, row.id, lease, clock())
    if lease is None:
        return True
    error, held, answered = None, [lease], True
    try:
        message = Message.from_json(orjson.loads(row.message))
        if channel.in_parts:  # the parts reached so far, read now that the row is this sender's
            with engine.connect() as connection:
                stored = connection.execute(select(notifications.c.reached).where(notifications.c.id == row.id))
                reached = Reached(_parts_reached(stored.scalar()), _recorder(engine, row.id, held, clock))
            channel.send(message, reached)
        else:
            channel.send(message)
    except DeliveryError as problem:
        error, answered = str(problem), not isinstance(problem, Unreachable)
    except Exception as problem:  # noqa: BLE001 - a channel's bug must not stop the others' notifications
        error = f"{type(problem).__name__}: {problem}"
    now, attempts, lease = clock(), row.attempts + 1, held[0]
    if error is None:
        values, outcome = {"status": "sent", "sent_at": now, "error": None}, "sent"
    elif attempts >= channel.attempts:
        values, outcome = {"status": "failed", "error": error}, "failed"
    else:
        # A retry keeps the channel's quiet hours too: one failing at 21:59 went out at 22:04.
        severity = orjson.loads(row.message).get("severity", "")
        due = _deferred(channel, severity, now + channel.retry_after(attempts))
        values, outcome = {"status": "pending", "error": error, "due_at": due}, "retried"
    with engine.begin() as connection:
        connection.execute(
            update(notifications)
            .where(notifications.c.id == row.id, notifications.c.lease_until == lease)
            .values(attempts=attempts, lease_until=None, **values)
        )
    with _counting:
        setattr(done, outcome, getattr(done, outcome) + 1)
        if outcome == "failed":
            title = orjson.loads(row.message).get("title", "")
            done.given_up.append(
                f"渠道 {channel.name} 的通知“{title}”（第 {row.id} 条）在 {attempts} 次尝试后仍失败：{error}"
            )
    return answered


_counting = threading.Lock()
SENDERS = 8  # notifications in flight at once: a burst of alerts is not sent one round trip after another


def _release(engine: Engine, row_id: int, lease: datetime) -> None:
    """A claimed notification not started given back to wait, due as it was, its attempts as they were."""
    with engine.begin() as connection:
        connection.execute(
            update(notifications)
            .where(notifications.c.id == row_id, notifications.c.lease_until == lease)
            .values(status="pending", lease_until=None)
        )


def deliver(
    engine: Engine,
    channels: dict[str, Channel],
    clock: Callable[[], datetime],
    *,
    limit: int = CLAIM_BATCH,
    stop: Callable[[], bool] = lambda: False,
) -> Delivered:
    """Send the notifications that are due, a claim of ``limit`` at a time, each marked in the log right after its
    channel accepted it (or failed: tried again after the channel's backoff, given up after its attempts).
    ``stop()`` true: those not yet sent go back to wait. A channel whose receiver did not answer is left alone for
    the rest of the round, its notifications waiting as they were."""
    done = Delivered()
    silent: set[str] = set()  # channels whose receiver did not answer this round
    while True:
        open_channels = {name: channel for name, channel in channels.items() if name not in silent}
        if not open_channels or stop():
            return done
        claimed, lease = _claim(engine, open_channels, clock(), limit)

        def one(row, lease=lease) -> None:
            # One unresponsive receiver cost its timeout for every one of its notifications, and the other
            # channels' waited behind them (48 s for a critical alert to reach a healthy robot).
            if stop() or row.channel in silent:
                _release(engine, row.id, lease)
            elif not _send(engine, channels[row.channel], row, lease, clock, done):
                silent.add(row.channel)

        if len(claimed) <= 1:
            for row in claimed:
                one(row)
        else:
            with ThreadPoolExecutor(max_workers=SENDERS) as pool:
                list(pool.map(one, claimed))
        if len(claimed) < limit:
            return done
