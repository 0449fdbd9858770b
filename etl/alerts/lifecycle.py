"""An alert's life in the warehouse: opened once per rule and subject (after the rule's hold time), kept while
its value hovers between the fire and clear conditions, resolved when it clears (and has stayed clear for the
rule's keep_for: a value that comes back within it continues the alert), escalated one level up when
unacknowledged too long, retired when its rule leaves the file. Every state change is an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from etl.alerts.kinds import Observation
from etl.alerts.owner import level_up, owner_code, owner_level
from etl.alerts.rules import Rule
from etl.warehouse.alerts import LEVEL_NAMES, add_event
from etl.warehouse.db import as_utc
from etl.warehouse.schema import ALERT_LIVE, alert_events, alerts

LIVE = alerts.c.status != "resolved"


@dataclass
class Changes:
    """What an evaluation did."""

    opened: int = 0
    resolved: int = 0
    escalated: int = 0
    pending: int = 0

    def add(self, other: Changes) -> None:
        """Add another rule's changes."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def live_alerts(connection: Connection, rule_id: str) -> list:
    """The rule's alerts that are not resolved (pending, open, acknowledged)."""
    a = alerts.c
    query = select(a.id, a.subject, a.region_code, a.status, a.since, a.level, a.value, a.detail, a.clearing_since)
    return connection.execute(query.where(alerts.c.rule_id == rule_id, LIVE)).all()


def _insert(connection: Connection, rows: list[dict]) -> dict[str, int]:
    """Insert new alerts, skipping any (rule, subject) alive already (another evaluator's); {subject: id}."""
    if not rows:
        return {}
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[connection.dialect.name]
    statement = insert(alerts).on_conflict_do_nothing(
        index_elements=["rule_id", "subject"], index_where=text(ALERT_LIVE)
    )
    returned = connection.execute(statement.returning(alerts.c.id, alerts.c.subject), rows)
    return {subject: alert_id for alert_id, subject in returned}


def _open(connection: Connection, alert_id: int, level: str, now: datetime) -> None:
    add_event(connection, alert_id, "opened", level, now)


def apply(connection: Connection, rule: Rule, seen: Observation, live: list, now: datetime) -> Changes:
    """Bring a rule's alerts in line with what it sees now (``live``: its live alerts in the evaluated scope)."""
    changes = Changes()
    by_subject = {alert.subject: alert for alert in live}
    new, moved = [], []
    for subject, found in seen.firing.items():
        alert = by_subject.get(subject)
        if alert is None:
            level = owner_level(found.region_code)
            opens = not rule.hold
            new.append(
                {
                    "rule_id": rule.id,
                    "subject": subject,
                    "region_code": found.region_code,
                    "name": rule.name,
                    "severity": rule.severity,
                    "status": "open" if opens else "pending",
                    "level": level,
                    "owner_code": owner_code(found.region_code, level),
                    "value": found.value,
                    "detail": found.detail,
                    "since": now,
                    "opened_at": now if opens else None,
                    "level_since": now if opens else None,
                    "updated_at": now,
                }
            )
        elif alert.status == "pending" and now - as_utc(alert.since) >= rule.hold:
            opened = connection.execute(
                update(alerts)
                .where(alerts.c.id == alert.id, alerts.c.status == "pending")
                .values(
                    status="open",
                    opened_at=now,
                    level_since=now,
                    value=found.value,
                    detail=found.detail,
                    updated_at=now,
                )
            ).rowcount
            if opened:
                _open(connection, alert.id, alert.level, now)
                changes.opened += 1
        elif (alert.value, alert.detail) != (found.value, found.detail) or alert.clearing_since is not None:
            # The value moves while the alert is open (or still holding): keep the last one people read. Firing
            # again while it was clearing, it continues: the clear time starts over.
            moved.append({"alert_id": alert.id, "new_value": found.value, "new_detail": found.detail})
    if moved:
        connection.execute(
            update(alerts)
            .where(alerts.c.id == bindparam("alert_id"))
            .values(value=bindparam("new_value"), detail=bindparam("new_detail"), clearing_since=None, updated_at=now),
            moved,
        )
    inserted = _insert(connection, new)
    opened = [
        {"alert_id": inserted[row["subject"]], "at": now, "kind": "opened", "level": row["level"], "planned": 0}
        for row in new
        if row["subject"] in inserted and row["status"] == "open"
    ]
    if opened:  # one statement for a sweep that opens thousands
        connection.execute(insert(alert_events), opened)
    changes.opened += len(opened)
    changes.pending += sum(1 for row in new if row["subject"] in inserted and row["status"] == "pending")
    for alert in live:
        if alert.subject in seen.firing:
            continue
        if alert.status == "pending":  # the condition did not last the hold time
            connection.execute(delete(alerts).where(alerts.c.id == alert.id, alerts.c.status == "pending"))
        elif alert.subject in seen.cleared:
            if rule.keep and alert.clearing_since is None:
                _clearing(connection, alert.id, now)
            elif not rule.keep or now - as_utc(alert.clearing_since) >= rule.keep:
                changes.resolved += resolve(connection, alert, now, f"条件已消除：{seen.cleared[alert.subject]}")
        elif alert.clearing_since is not None:
            # Back between the limits (or out of sight): the clear condition no longer holds, its time starts over.
            connection.execute(update(alerts).where(alerts.c.id == alert.id, LIVE).values(clearing_since=None))
    return changes


def _clearing(connection: Connection, alert_id: int, now: datetime) -> None:
    """Start counting a live alert's clear time (its firing again, or its value back between the limits, stops
    it)."""
    connection.execute(update(alerts).where(alerts.c.id == alert_id, LIVE).values(clearing_since=now, updated_at=now))


def resolve(connection: Connection, alert, now: datetime, note: str) -> int:
    """Resolve a live alert by the evaluator (1), unless someone resolved it a moment ago (0)."""
    done = connection.execute(
        update(alerts)
        .where(alerts.c.id == alert.id, alerts.c.status.in_(("open", "acknowledged")))
        .values(status="resolved", resolved_at=now, resolve_note=note, updated_at=now)
    ).rowcount
    if done:
        add_event(connection, alert.id, "resolved", alert.level, now, note=note)
    return done


def escalate(connection: Connection, rules: dict[str, Rule], now: datetime) -> int:
    """Move each open, unacknowledged alert one level up whose owner has had it longer than the rule allows (since
    ``level_since``: the event that gave it to them, or the end of the quiet hours that held back every notification
    of that event; notify.plan moves it there)."""
    query = select(alerts.c.id, alerts.c.rule_id, alerts.c.level, alerts.c.level_since, alerts.c.region_code)
    moved = 0
    # An alert counting down its keep_for has cleared: nobody is to be told of it again, a level up least of all.
    waiting = query.where(alerts.c.status == "open", alerts.c.level != "county", alerts.c.clearing_since.is_(None))
    for alert in connection.execute(waiting).all():
        rule = rules.get(alert.rule_id)
        allowed = rule.escalate.get(alert.level) if rule else None
        up = level_up(alert.level)
        if allowed is None or up is None or now - as_utc(alert.level_since) < allowed:
            continue
        done = connection.execute(
            update(alerts)
            .where(alerts.c.id == alert.id, alerts.c.status == "open", alerts.c.level == alert.level)
            .values(level=up, owner_code=owner_code(alert.region_code, up), level_since=now, updated_at=now)
        ).rowcount
        if done:
            note = f"{LEVEL_NAMES[alert.level]}超过 {_minutes(allowed)} 未确认，升级至{LEVEL_NAMES[up]}"
            add_event(connection, alert.id, "escalated", up, now, note=note)
            moved += 1
    return moved


def retire(connection: Connection, rules: dict[str, Rule], now: datetime) -> int:
    """Resolve the live alerts of rules no longer in the file, and drop their pending ones."""
    query = select(alerts.c.id, alerts.c.rule_id, alerts.c.status, alerts.c.level).where(LIVE)
    if rules:
        query = query.where(alerts.c.rule_id.not_in(list(rules)))
    retired = 0
    for alert in connection.execute(query).all():
        if alert.status == "pending":
            connection.execute(delete(alerts).where(alerts.c.id == alert.id, alerts.c.status == "pending"))
        else:
            retired += resolve(connection, alert, now, f"规则 {alert.rule_id} 已从告警规则文件中删除")
    return retired


def _minutes(duration) -> str:
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes // 60} 小时 {minutes % 60} 分钟" if minutes >= 60 else f"{minutes} 分钟"
