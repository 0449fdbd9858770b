"""Rejected input kept in the warehouse with its reason, so nothing a source sent is ever lost."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select

from etl.dataset import SentNumber
from etl.warehouse.schema import quarantine
from geo.issues import Issue

# How far back (quarantine entries) an issue is looked for before it is kept again: a SQL feed's boundary row is
# read again on the next poll, so its earlier entry is among the newest.
RECENT = 10_000
# Raw inputs looked up per statement (SQLite's parameter limit).
PAIRS = 5_000


def _raw_text(issue: Issue) -> str | None:
    """The raw input as JSON text that ``orjson.loads`` reads back (as `quarantine retry` does): a lone surrogate
    (which orjson refuses) escaped as \\udXXX, so a bad row is always kept rather than failing its batch; NaN,
    Infinity and 1e400 as a device wrote them (SentNumber) and infinities as text, not as null, which orjson makes
    of them; an integer past 64 bits as its digits. Only a plain NaN, an empty cell as pandas reads it, is null."""
    if issue.raw is None:
        return None
    try:
        text = orjson.dumps(issue.raw, default=str)  # a SentNumber is no float to orjson: str gives its text
    except TypeError:
        return json.dumps(_plain(issue.raw), default=str, ensure_ascii=True)
    if b"null" in text and _infinite(issue.raw):
        text = orjson.dumps(_plain(issue.raw), default=str)
    return text.decode()


def _infinite(value: Any) -> bool:
    """Whether a plain infinite float is somewhere in a raw row (orjson writes it as null)."""
    if value.__class__ is float:
        return math.isinf(value)
    if isinstance(value, dict):
        return any(map(_infinite, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_infinite, value))
    return False


def _plain(value: Any) -> Any:
    """A raw row with what JSON has no number for as text: NaN, Infinity (a device's or an infinite float), an
    integer past 64 bits; a plain NaN (an empty cell) as None."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, SentNumber):
        return str(value)
    if value.__class__ is float and not math.isfinite(value):
        return None if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value.__class__ is int and not -(2**63) <= value < 2**64:
        return str(value)
    return value


def _storable(text: str | None) -> str | None:
    """Text PostgreSQL can store: a NUL character (which a reason may quote from a bad value) written as \\0. JSON
    escapes it in the raw row already."""
    return text.replace("\x00", "\\0") if text else text


# A time written in a reason: the runner's reason for a row dated in the future names the time it was read at
# ("晚于现在（2026-12-08 05:35:23）"), so the same row read again had another reason and was kept again on every run.
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def _same_reason(reason: str | None) -> str | None:
    """A reason as duplicates are told by: its times left out (a row's own time is in its raw input)."""
    return _MOMENT.sub("…", reason) if reason else reason


def unseen(connection: Connection, source: str, issues: list[Issue]) -> list[Issue]:
    """The issues not among the source's recent unretried quarantine entries (same input, same reason but for the
    times it names): a row read again (a SQL feed's boundary row on every poll, a file sent twice, a row dated in
    the future until its time comes) is a duplicate, not a new entry."""
    if not issues:
        return issues
    newest = connection.execute(select(func.max(quarantine.c.id))).scalar() or 0
    keys = [(_raw_text(issue), _same_reason(_storable(issue.reason))) for issue in issues]
    raws = list(dict.fromkeys(raw for raw, _ in keys if raw is not None))
    seen: set = set()
    for start in range(0, len(raws), PAIRS):
        found = connection.execute(
            select(quarantine.c.raw, quarantine.c.reason).where(
                quarantine.c.id > newest - RECENT,
                quarantine.c.source == source,
                quarantine.c.retried_at.is_(None),
                quarantine.c.raw.in_(raws[start : start + PAIRS]),
            )
        )
        seen.update((raw, _same_reason(reason)) for raw, reason in found)
    if not seen:
        return issues
    # The same bad row twice in one batch is kept twice, as before: both were input of this read.
    return [issue for issue, key in zip(issues, keys, strict=True) if key not in seen]


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
