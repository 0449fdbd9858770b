"""Rejected input kept in the warehouse with its reason, so nothing a source sent is ever lost."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

import orjson
from sqlalchemy import Connection, func, insert, select, tuple_

from etl.warehouse.schema import quarantine
from geo.issues import Issue

# How far back (quarantine entries) an issue is looked for before it is kept again: a SQL feed's boundary row is
# read again on the next poll, so its earlier entry is among the newest.
RECENT = 10_000
# (raw, reason) pairs per statement (SQLite's parameter limit).
PAIRS = 5_000


def _raw_text(issue: Issue) -> str | None:
    """The raw input as JSON text; a lone surrogate (which orjson refuses) escaped as \\udXXX, so a bad row is
    always kept rather than failing its batch."""
    if issue.raw is None:
        return None
    try:
        return orjson.dumps(issue.raw, default=str).decode()
    except TypeError:
        return json.dumps(issue.raw, default=str, ensure_ascii=True)


def _storable(text: str | None) -> str | None:
    """Text PostgreSQL can store: a NUL character (which a reason may quote from a bad value) written as \\0. JSON
    escapes it in the raw row already."""
    return text.replace("\x00", "\\0") if text else text


def unseen(connection: Connection, source: str, issues: list[Issue]) -> list[Issue]:
    """The issues not among the source's recent unretried quarantine entries (same input, same reason): a row
    read again (a SQL feed's boundary row on every poll, a file sent twice) is a duplicate, not a new entry."""
    if not issues:
        return issues
    newest = connection.execute(select(func.max(quarantine.c.id))).scalar() or 0
    pairs = list(dict.fromkeys((_raw_text(issue), _storable(issue.reason)) for issue in issues))
    seen: set = set()
    for start in range(0, len(pairs), PAIRS):
        seen.update(
            connection.execute(
                select(quarantine.c.raw, quarantine.c.reason).where(
                    quarantine.c.id > newest - RECENT,
                    quarantine.c.source == source,
                    quarantine.c.retried_at.is_(None),
                    tuple_(quarantine.c.raw, quarantine.c.reason).in_(pairs[start : start + PAIRS]),
                )
            ).all()
        )
    if not seen:
        return issues
    # The same bad row twice in one batch is kept twice, as before: both were input of this read.
    return [issue for issue in issues if (_raw_text(issue), _storable(issue.reason)) not in seen]


def record_issues(connection: Connection, source: str, issues: Iterable[Issue], run_id: int | None = None) -> int:
    """Store each issue (file, row or feature, field, reason, raw input); returns how many were stored."""
    now = datetime.now(UTC)
    rows = [
        {
            "source": source,
            "location": _storable(issue.where),
            "field": _storable(issue.field),
            "reason": _storable(issue.reason),
            "raw": _raw_text(issue),
            "created_at": now,
            "run_id": run_id,
        }
        for issue in issues
    ]
    if rows:
        connection.execute(insert(quarantine), rows)
    return len(rows)
