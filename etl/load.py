"""Idempotent bulk upsert of fact rows that counts what was new or changed and what was already there."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import Connection, DateTime, Table

from etl.warehouse.partitions import MONTHLY, ensure_months

# Bookkeeping columns change on every load; they never make a row "changed".
BOOKKEEPING = ("loaded_at", "run_id")


def upsert_counting(connection: Connection, table: Table, rows: Sequence[dict]) -> int:
    """Insert new rows, update changed ones, leave identical ones alone; returns how many were inserted or changed.

    Rows must be unique by the table's primary key (the natural key). SQLite uses executemany with
    ``ON CONFLICT … DO UPDATE … WHERE`` (its row count sums the writes); PostgreSQL copies the rows into a
    temporary table with ``COPY`` and merges them with one ``INSERT … SELECT … ON CONFLICT``.
    """
    if not rows:
        return 0
    columns = list(rows[0])
    key = [column.name for column in table.primary_key.columns]
    if connection.dialect.name == "postgresql":
        if table.name in MONTHLY:
            ensure_months(connection, table.name, (row["event_time"] for row in rows))
        return _postgres(connection, table, rows, columns, key)
    return _sqlite(connection, table, rows, columns, key)


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _merge_clause(connection: Connection, table: Table, columns: list[str], key: list[str], distinct: str) -> str:
    """ON CONFLICT … DO UPDATE … WHERE any non-bookkeeping column differs (null-safe)."""
    q = lambda name: _quoted(connection, name)  # noqa: E731 - a short local alias keeps the SQL readable
    values = [c for c in columns if c not in key]
    compared = [c for c in values if c not in BOOKKEEPING]
    updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in values)
    changed = " OR ".join(f"{q(table.name)}.{q(c)} {distinct} excluded.{q(c)}" for c in compared) or "FALSE"
    return f"ON CONFLICT ({', '.join(q(c) for c in key)}) DO UPDATE SET {updates} WHERE {changed}"


def _remembering(table: Table, column: str, convert):
    """``convert`` for one column, remembering its results for datetimes: a batch repeats a few moments often."""
    if convert is not None and isinstance(table.c[column].type, DateTime):
        return lru_cache(maxsize=65536)(convert)
    return convert


def _processors(connection: Connection, table: Table, columns: list[str]) -> list:
    """The dialect's own conversion of each value (e.g. datetimes to SQLite's text format)."""
    dialect = connection.dialect
    return [_remembering(table, c, table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]


def _sqlite(connection: Connection, table: Table, rows, columns, key) -> int:
    q = lambda name: _quoted(connection, name)  # noqa: E731
    statement = (
        f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) " + _merge_clause(connection, table, columns, key, "IS NOT")
    )
    processors = _processors(connection, table, columns)
    parameters = [tuple(p(row[c]) if p else row[c] for c, p in zip(columns, processors, strict=True)) for row in rows]
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, parameters)
        return cursor.rowcount
    finally:
        cursor.close()


def _copy_text(value) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _postgres(connection: Connection, table: Table, rows, columns, key) -> int:
    q = lambda name: _quoted(connection, name)  # noqa: E731
    staging = f"staging_{table.name}"
    column_list = ", ".join(q(c) for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {q(staging)} "
            f"(LIKE {q(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {q(staging)}")
        converters = [_remembering(table, c, _copy_text) for c in columns]
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join([convert(row[c]) for c, convert in zip(columns, converters, strict=True)]))
            buffer.write("\n")
        with cursor.copy(f"COPY {q(staging)} ({column_list}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        cursor.execute(
            f"INSERT INTO {q(table.name)} ({column_list}) SELECT {column_list} FROM {q(staging)} "
            + _merge_clause(connection, table, columns, key, "IS DISTINCT FROM")
        )
        return cursor.rowcount
    finally:
        cursor.close()
