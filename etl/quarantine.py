"""Rejected input kept in the warehouse with its reason, so nothing a source sent is ever lost."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import orjson
from sqlalchemy import Connection, insert

from etl.warehouse.schema import quarantine
from geo.issues import Issue


def record_issues(connection: Connection, source: str, issues: Iterable[Issue], run_id: int | None = None) -> int:
    """Store each issue (file, row or feature, field, reason, raw input); returns how many were stored."""
    now = datetime.now(UTC)
    rows = [
        {
            "source": source,
            "location": issue.where,
            "field": issue.field,
            "reason": issue.reason,
            "raw": orjson.dumps(issue.raw, default=str).decode() if issue.raw is not None else None,
            "created_at": now,
            "run_id": run_id,
        }
        for issue in issues
    ]
    if rows:
        connection.execute(insert(quarantine), rows)
    return len(rows)
