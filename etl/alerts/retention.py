"""The alerts' history kept bounded: alerts resolved more than ALERT_HISTORY_DAYS ago are deleted with their events
and notifications, and notifications waiting for a channel that is no longer in the alerts file are failed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update

from etl.warehouse.schema import alert_events, alerts, notifications

# As long as the audit log must be kept: a resolved alert, what happened to it and whom it reached stay that long.
ALERT_HISTORY_DAYS = 180
# Alerts deleted per statement, so one pass after a long pause never holds a huge list or lock.
CHUNK = 500


def prune(connection: Connection, channels: Iterable[str], now: datetime) -> int:
    """Delete the alerts resolved before the history window, with their events and notifications, and fail the
    waiting notifications of channels not in ``channels``; how many alerts were deleted."""
    before = now - timedelta(days=ALERT_HISTORY_DAYS)
    expired = select(alerts.c.id).where(alerts.c.status == "resolved", alerts.c.resolved_at < before)
    removed = 0
    while ids := list(connection.execute(expired.limit(CHUNK)).scalars()):
        connection.execute(delete(notifications).where(notifications.c.alert_id.in_(ids)))
        connection.execute(delete(alert_events).where(alert_events.c.alert_id.in_(ids)))
        connection.execute(delete(alerts).where(alerts.c.id.in_(ids)))
        removed += len(ids)
    configured = sorted(set(channels))
    orphaned = notifications.c.status == "pending"
    if configured:
        orphaned = orphaned & notifications.c.channel.not_in(configured)
    connection.execute(
        update(notifications)
        .where(orphaned)
        .values(status="failed", error=notifications.c.channel + " 已不在告警配置（ALERTS_FILE）中：不再发送")
    )
    return removed
