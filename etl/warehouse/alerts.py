"""What the alert tables mean for their readers and for people: the open alerts of a scope, an alert's history,
and acknowledging or resolving one by a user whose scope holds it (the screens and the CLI call these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, case, func, insert, select, update

from etl.warehouse.accounts import User, scope_holds
from etl.warehouse.db import as_utc, bump_version
from etl.warehouse.schema import alert_events, alerts
from geo.codes import scope_range

SEVERITIES = ("info", "warning", "major", "critical")
SEVERITY_NAMES = {"info": "提示", "warning": "一般", "major": "重要", "critical": "紧急"}
STATUS_NAMES = {"pending": "待确认条件", "open": "未确认", "acknowledged": "已确认", "resolved": "已消除"}
LEVEL_NAMES = {"village": "村级", "township": "乡镇级", "county": "县级"}
EVENT_NAMES = {"opened": "新告警", "acknowledged": "已确认", "escalated": "已升级", "resolved": "已消除"}
VISIBLE = ("open", "acknowledged")  # pending alerts are still holding for their rule's `for`
# Most severe first: the order of every list people read.
_RANK = case({name: rank for rank, name in enumerate(reversed(SEVERITIES))}, value=alerts.c.severity, else_=9)


class AlertError(ValueError):
    """An acknowledgement or resolution that cannot be done; the message says why, in Chinese."""


@dataclass(frozen=True)
class Alert:
    """One alert as people see it."""

    id: int
    rule_id: str
    subject: str
    region_code: str
    name: str
    severity: str
    status: str
    level: str
    owner_code: str
    value: float | None
    detail: str | None
    since: datetime
    opened_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolve_note: str | None

    @property
    def severity_name(self) -> str:
        """提示 / 一般 / 重要 / 紧急."""
        return SEVERITY_NAMES.get(self.severity, self.severity)

    @property
    def status_name(self) -> str:
        """未确认 / 已确认 / 已消除."""
        return STATUS_NAMES.get(self.status, self.status)


_TIMES = ("since", "opened_at", "acknowledged_at", "resolved_at")


def _alert(row) -> Alert:
    values = {name: getattr(row, name) for name in Alert.__dataclass_fields__}
    return Alert(**{**values, **{name: as_utc(values[name]) for name in _TIMES}})


def list_alerts(
    connection: Connection,
    scope: str | None,
    *,
    open_only: bool = False,
    region: str | None = None,
    severity: str | None = None,
    limit: int | None = 200,
) -> list[Alert]:
    """The alerts of a scope (and, if given, of a region within it), open ones (unacknowledged first) or all,
    most severe and newest first, of one ``severity`` if given; pending alerts (holding for their rule's `for`) are
    not alerts yet. A scope of None (the operator's CLI) is every region."""
    query = select(alerts)
    if scope is not None:
        query = query.where(alerts.c.region_code.between(*scope_range(scope)))
    if region:
        query = query.where(alerts.c.region_code.between(*scope_range(region)))
    if severity:
        query = query.where(alerts.c.severity == severity)
    query = query.where(alerts.c.status.in_(VISIBLE)) if open_only else query.where(alerts.c.status != "pending")
    unacknowledged_first = case((alerts.c.status == "open", 0), else_=1)
    query = query.order_by(unacknowledged_first, _RANK, alerts.c.opened_at.desc(), alerts.c.id.desc())
    return [_alert(row) for row in connection.execute(query.limit(limit))]


def open_alerts(connection: Connection, scope: str, limit: int | None = 200) -> list[Alert]:
    """The open alerts (unacknowledged and acknowledged) of a scope: the county screen's 未消除告警 and ticker,
    a village board's alerts."""
    return list_alerts(connection, scope, open_only=True, limit=limit)


def open_alert_counts(connection: Connection, scope: str) -> dict[str, int]:
    """How many open alerts of each name a scope has (e.g. {"垃圾桶满溢": 3})."""
    low, high = scope_range(scope)
    query = (
        select(alerts.c.name, func.count())
        .where(alerts.c.region_code.between(low, high), alerts.c.status.in_(VISIBLE))
        .group_by(alerts.c.name)
    )
    return dict(connection.execute(query).all())


# The ids an alert can have (its id column is a 32-bit integer on PostgreSQL): one beyond them is not there, rather
# than an OverflowError on SQLite (a 500 on /alerts) or a DataError on PostgreSQL.
MAX_ID = 2**31 - 1


def get_alert(connection: Connection, alert_id: int) -> Alert | None:
    """The alert of that id, or None."""
    if not 1 <= alert_id <= MAX_ID:
        return None
    row = connection.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    return _alert(row) if row else None


def alert_history(connection: Connection, alert_id: int) -> list:
    """An alert's events in order: (at, kind, actor, level, note)."""
    if not 1 <= alert_id <= MAX_ID:
        return []
    query = (
        select(alert_events.c.at, alert_events.c.kind, alert_events.c.actor, alert_events.c.level, alert_events.c.note)
        .where(alert_events.c.alert_id == alert_id)
        .order_by(alert_events.c.id)
    )
    return connection.execute(query).all()


def add_event(
    connection: Connection,
    alert_id: int,
    kind: str,
    level: str,
    at: datetime,
    actor: str | None = None,
    note: str | None = None,
) -> int:
    """Record a state change of an alert; the evaluator plans its notifications. The event's id."""
    values = {"alert_id": alert_id, "at": at, "kind": kind, "actor": actor, "level": level, "note": note, "planned": 0}
    return connection.execute(insert(alert_events).values(**values).returning(alert_events.c.id)).scalar_one()


def _actionable(connection: Connection, alert_id: int, user: User, what: str) -> Alert:
    """The alert, if the user may act on it; AlertError saying why not (unknown, not in scope, read-only)."""
    alert = get_alert(connection, alert_id)
    if alert is None or alert.status == "pending":
        raise AlertError(f"告警 {alert_id} 不存在")
    if not user.enabled:
        raise AlertError(f"用户 {user.name} 已停用，不能{what}告警")
    if user.role == "viewer":
        raise AlertError(f"用户 {user.name} 是只读用户，不能{what}告警")
    if not scope_holds(user.scope, alert.region_code):
        raise AlertError(
            f"告警 {alert_id}（{alert.region_code}）不在用户 {user.name} 的范围 {user.scope} 内，不能{what}"
        )
    if alert.status == "resolved":
        raise AlertError(f"告警 {alert_id} 已消除，无需{what}")
    return alert


def acknowledge(
    connection: Connection, alert_id: int, user: User, note: str | None = None, now: datetime | None = None
) -> Alert:
    """Acknowledge an open alert (who, when, note): it stops escalating. AlertError for a user outside the
    alert's scope, a read-only user, or an alert that is already acknowledged or resolved."""
    now = now or datetime.now(UTC)
    alert = _actionable(connection, alert_id, user, "确认")
    if alert.status == "acknowledged":
        raise AlertError(f"告警 {alert_id} 已由 {alert.acknowledged_by} 确认")
    changed = connection.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.status == "open")
        .values(status="acknowledged", acknowledged_at=now, acknowledged_by=user.name, ack_note=note, updated_at=now)
    ).rowcount
    if not changed:  # the evaluator resolved it, or someone acknowledged it, a moment ago
        raise AlertError(f"告警 {alert_id} 刚刚已被确认或消除")
    add_event(connection, alert_id, "acknowledged", alert.level, now, user.name, note)
    bump_version(connection)  # the screens' cached alerts are keyed by version: they show it at their next refresh
    return get_alert(connection, alert_id)


def resolve(connection: Connection, alert_id: int, user: User, note: str, now: datetime | None = None) -> Alert:
    """Resolve an alert by hand with a note (e.g. handled on site). If its condition still holds, the next
    evaluation opens a new alert: a hand resolution does not silence a rule."""
    now = now or datetime.now(UTC)
    if not (note or "").strip():
        raise AlertError("手工消除告警需要写明原因（--note）")
    alert = _actionable(connection, alert_id, user, "消除")
    changed = connection.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.status.in_(VISIBLE))
        .values(status="resolved", resolved_at=now, resolved_by=user.name, resolve_note=note, updated_at=now)
    ).rowcount
    if not changed:
        raise AlertError(f"告警 {alert_id} 刚刚已被消除")
    add_event(connection, alert_id, "resolved", alert.level, now, user.name, note)
    bump_version(connection)  # off the screens at their next refresh
    return get_alert(connection, alert_id)
