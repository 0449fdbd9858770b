"""The alerts' history kept bounded: alerts resolved more than ALERT_HISTORY_DAYS ago are deleted with their events
and notifications."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select

from etl.warehouse.schema import alert_events, alerts, notifications

# The legal minimum for network logs (six months): a resolved alert, what happened to it and whom it reached.
ALERT_HISTORY_DAYS = 180
# Alerts deleted per statement, so one pass after a long pause never holds a huge list or lock.
CHUNK = 500


def prune(connection: Connection, now: datetime) -> int:
    """Delete the alerts resolved before the history window, with their events and notifications (those never
    sent too: a channel switched off or taken out of the file leaves them pending); how many alerts were deleted."""
    removed = 0
    while deleted := prune_some(connection, now):
        removed += deleted
    return removed


def prune_some(connection: Connection, now: datetime) -> int:
    """``prune`` for at most CHUNK alerts: a caller committing after each holds no lock for long."""
    before = now - timedelta(days=ALERT_HISTORY_DAYS)
    expired = select(alerts.c.id).where(alerts.c.status == "resolved", alerts.c.resolved_at < before)
    ids = list(connection.execute(expired.limit(CHUNK)).scalars())
    if ids:
        connection.execute(delete(notifications).where(notifications.c.alert_id.in_(ids)))
        connection.execute(delete(alert_events).where(alert_events.c.alert_id.in_(ids)))
        connection.execute(delete(alerts).where(alerts.c.id.in_(ids)))
    return len(ids)
