"""Insert-or-update of rows by their natural key, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(connection: Connection, table: Table, rows: Sequence[dict], key: Sequence[str]) -> None:
    """Write ``rows``: new keys are inserted, existing keys get the new values (bound parameters)."""
    if not rows:
        return
    dialect = connection.dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    statement = insert(table)
    updates = {column: statement.excluded[column] for column in rows[0] if column not in key}
    connection.execute(statement.on_conflict_do_update(index_elements=list(key), set_=updates), list(rows))
