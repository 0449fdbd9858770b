"""Open alerts of a scope for the screens: the county screen's 未消除告警, ticker and village map, a village board's
alerts. Read through etl.warehouse.alerts and cached like every screen query: by warehouse version (which every
alert state change bumps) and by the viewer's scope, with the scope in the arguments."""

from __future__ import annotations

from sqlalchemy import Engine, case, func, or_, select

from dashboard.cache import versioned
from dashboard.panels import LOCAL
from dashboard.privacy import scrub
from etl.warehouse.alerts import LEVEL_NAMES, VISIBLE, open_alerts
from etl.warehouse.labels import METRIC_NAMES
from etl.warehouse.schema import alerts, regions
from geo.codes import level_of, scope_range

# How an alert's subject (etl/alerts/kinds) reads on a screen, by its first part.
SUBJECT_NAMES = {"device": "设备", "case": "事件", "feed": "数据源"}
OWNER_LEVELS = ("village", "township", "county")


def subject_parts(subject: str) -> tuple[str, str | None, str | None]:
    """(what people read, device id, metric) of an alert's subject: device:<metric>:<id> (a reading rule),
    device:<id> (silence), case:<id>, feed:<name>; a region's measure names no subject beyond its region."""
    kind, _, rest = subject.partition(":")
    if kind == "device":
        # A metric is one the readings know (cod, fill_level); a device id may hold colons itself (a gateway's MAC,
        # GW:A4:C1:… or a4:c1:38:…), which read as metric and id named a device that does not exist.
        metric, _, device = rest.partition(":")
        if not device or metric not in METRIC_NAMES:
            metric, device = None, rest
        return f"设备 {device}", device, metric
    if kind in SUBJECT_NAMES:
        return f"{SUBJECT_NAMES[kind]} {rest}", None, None
    return ("" if kind == "region" else subject), None, None


def escalated_to(region_code: str, level: str) -> str | None:
    """The level an alert has been escalated to (乡镇级, 县级), or None while its first owner has it."""
    first = level_of(region_code)
    first = first if first in OWNER_LEVELS else "county"
    return LEVEL_NAMES.get(level, level) if level != first else None


def _region_names(connection, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    query = select(regions.c.code, regions.c.name).where(regions.c.code.in_(sorted(codes)))
    return {code: name for code, name in connection.execute(query)}


@versioned
def open_alert_list(engine: Engine, scope: str, limit: int = 30) -> list[dict]:
    """The open alerts of a scope, unacknowledged first, then the most severe and newest: severity, name, subject,
    region, since when, and who acknowledged it or whether it was escalated; every text from data scrubbed."""
    with engine.connect() as connection:
        found = open_alerts(connection, scope, limit=limit)
        names = _region_names(connection, {alert.region_code for alert in found})
    listed = []
    for alert in found:
        subject, device, metric = subject_parts(alert.subject)
        listed.append(
            {
                "id": alert.id,
                "severity": alert.severity,
                "severity_name": alert.severity_name,
                "name": scrub(alert.name),
                "subject": scrub(subject),
                "device": device,
                "metric": metric,
                "region_code": alert.region_code,
                "region": scrub(names.get(alert.region_code, alert.region_code)),
                "since": alert.opened_at or alert.since,
                "acknowledged": alert.status == "acknowledged",
                "acknowledged_by": scrub(alert.acknowledged_by) if alert.acknowledged_by else None,
                "escalated_to": escalated_to(alert.region_code, alert.level),
            }
        )
    return listed


def _in_scope(scope: str):
    low, high = scope_range(scope)
    return alerts.c.region_code.between(low, high), alerts.c.status.in_(VISIBLE)


@versioned
def open_alert_tally(engine: Engine, scope: str) -> dict[str, int]:
    """{"open": how many alerts of a scope are open, "unacknowledged": how many of them nobody acknowledged}."""
    unacknowledged = func.sum(case((alerts.c.status == "open", 1), else_=0))
    with engine.connect() as connection:
        total, waiting = connection.execute(select(func.count(), unacknowledged).where(*_in_scope(scope))).one()
    return {"open": int(total or 0), "unacknowledged": int(waiting or 0)}


@versioned
def alerted_devices(engine: Engine, scope: str, metrics: list[str]) -> int:
    """How many devices of a scope have an open alert of a reading rule on one of ``metrics`` (full bins, sewage
    plants over the standard): every one, not a list's first few."""
    prefixes = or_(*(alerts.c.subject.startswith(f"device:{metric}:", autoescape=True) for metric in metrics))
    query = select(alerts.c.subject).where(*_in_scope(scope), prefixes)
    with engine.connect() as connection:
        return len({subject_parts(subject)[1] for subject in connection.execute(query).scalars()})


def acknowledgement(alert: dict, by_whom: bool = True) -> str:
    """已确认（who） / 未确认, and 已升级至… when the alert went up a level."""
    if alert["acknowledged"]:
        text = f"已确认（{alert['acknowledged_by']}）" if by_whom and alert["acknowledged_by"] else "已确认"
    else:
        text = "未确认"
    return f"{text} · 已升级至{alert['escalated_to']}" if alert["escalated_to"] else text


def since_text(alert: dict) -> str:
    """Since when an alert is open, in local time: 11-24 08:30起."""
    return f"{alert['since'].astimezone(LOCAL):%m-%d %H:%M}起"
