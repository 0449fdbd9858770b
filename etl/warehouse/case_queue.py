"""The township's queue for the leaders' workspace: open cases of a scope escalated to the township (or the county),
from any channel, oldest due first, with whether each is overdue; a 二维码 case carries the household's words."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select

from etl.warehouse.db import as_utc
from etl.warehouse.schema import cases, intake_cases, regions
from geo.codes import scope_range

OPEN = ("received", "in_progress")


def escalated_cases(
    connection: Connection, scope: str, level: str = "township", limit: int = 100, now: datetime | None = None
) -> list[dict]:
    """Open cases within ``scope`` (a region code) escalated to ``level`` (township or county), due first. Each:
    case_id, region_code, village (name), event_time, category, channel, title, status, due_at (UTC), overdue,
    and text (the household's words, for cases that came through a household's code; else None). Reporters are
    never included."""
    now = now or datetime.now(UTC)
    c = cases.c
    query = (
        select(
            c.case_id,
            c.region_code,
            regions.c.name.label("village"),
            c.event_time,
            c.category,
            c.channel,
            c.title,
            c.status,
            c.due_at,
            intake_cases.c.text,
        )
        .join(regions, regions.c.code == c.region_code)
        .outerjoin(intake_cases, intake_cases.c.case_id == c.case_id)
        .where(c.escalation == level, c.status.in_(OPEN), c.region_code.between(*scope_range(scope)))
        .order_by(c.due_at.is_(None), c.due_at, c.event_time)
        .limit(limit)
    )
    found = []
    for row in connection.execute(query).mappings():
        entry = dict(row)
        entry["event_time"], entry["due_at"] = as_utc(entry["event_time"]), as_utc(entry["due_at"])
        entry["overdue"] = entry["due_at"] is not None and entry["due_at"] < now
        found.append(entry)
    return found
