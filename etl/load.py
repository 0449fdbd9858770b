"""Idempotent bulk upsert of fact rows that tells which rows were new, which changed and which were already there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Connection, DateTime, Table

from etl.warehouse.partitions import MONTHLY, ensure_months

# Bookkeeping columns change on every load; they never make a row "changed".
BOOKKEEPING = ("loaded_at", "run_id")
# The staging table's extra column: each row's position in the batch, so SQL can say which rows it wrote.
POSITION = "_position"


@dataclass
class Upserted:
    """What an upsert wrote: rows that were not there before, and rows whose values changed."""

    inserted: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)

    @property
    def written(self) -> int:
        """Rows inserted or changed (the rest were already there, identical)."""
        return len(self.inserted) + len(self.changed)


def upsert_counting(connection: Connection, table: Table, rows: Sequence[dict]) -> Upserted:
    """Insert new rows, update changed ones, leave identical ones alone; says which rows were which.

    Rows must be unique by the table's primary key (the natural key). They go into a temporary staging
    table first (SQLite: executemany; PostgreSQL: binary ``COPY``), then one ``INSERT … SELECT … ON CONFLICT
    … DO UPDATE … WHERE`` merges them. Knowing the inserted rows lets rollups add them to their buckets
    instead of recomputing the buckets from every raw row.
    """
    if not rows:
        return Upserted()
    columns = list(rows[0])
    key = [column.name for column in table.primary_key.columns]
    if connection.dialect.name == "postgresql":
        if table.name in MONTHLY:
            ensure_months(connection, table.name, (row["event_time"] for row in rows))
        written = _postgres(connection, table, rows, columns, key)
    else:
        written = _sqlite(connection, table, rows, columns, key)
    result = Upserted()
    for position, inserted in written:
        (result.inserted if inserted else result.changed).append(rows[position])
    return result


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _changed(connection: Connection, table: Table, columns: list[str], key: list[str], left: str, right: str) -> str:
    """A condition true when any non-bookkeeping value differs between two row sources (null-safe)."""
    q = lambda name: _quoted(connection, name)  # noqa: E731 - a short local alias keeps the SQL readable
    distinct = "IS DISTINCT FROM" if connection.dialect.name == "postgresql" else "IS NOT"
    compared = [c for c in columns if c not in key and c not in BOOKKEEPING]
    return " OR ".join(f"{left}.{q(c)} {distinct} {right}.{q(c)}" for c in compared) or "FALSE"


def _merge(connection: Connection, table: Table, columns: list[str], key: list[str], staging: str) -> str:
    """INSERT … SELECT from staging … ON CONFLICT … DO UPDATE … WHERE any compared value differs."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    column_list = ", ".join(q(c) for c in columns)
    updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in columns if c not in key)
    # SQLite needs a WHERE after the SELECT, or it reads ON CONFLICT as a join constraint.
    return (
        f"INSERT INTO {q(table.name)} ({column_list}) SELECT {column_list} FROM {q(staging)} WHERE TRUE "
        f"ON CONFLICT ({', '.join(q(c) for c in key)}) DO UPDATE SET {updates} "
        f"WHERE {_changed(connection, table, columns, key, q(table.name), 'excluded')}"
    )


def _remembering(table: Table, column: str, convert):
    """``convert`` for one column, remembering its results for datetimes: a batch repeats a few moments often."""
    if convert is not None and isinstance(table.c[column].type, DateTime):
        return lru_cache(maxsize=65536)(convert)
    return convert


def _processors(connection: Connection, table: Table, columns: list[str]) -> list:
    """The dialect's own conversion of each value (e.g. datetimes to SQLite's text format)."""
    dialect = connection.dialect
    return [_remembering(table, c, table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]


def _sqlite(connection: Connection, table: Table, rows, columns, key) -> list[tuple[int, bool]]:
    """Stage, classify (new or changed, by a join on the key), merge; [(position, inserted)] of rows written."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    staging = f"staging_{table.name}"
    processors = _processors(connection, table, columns)
    parameters = [
        (position, *(p(row[c]) if p else row[c] for c, p in zip(columns, processors, strict=True)))
        for position, row in enumerate(rows)
    ]
    joined = " AND ".join(f"t.{q(c)} = s.{q(c)}" for c in key)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {q(staging)} "
            f"({POSITION} INTEGER PRIMARY KEY, {', '.join(q(c) for c in columns)})"
        )
        cursor.execute(f"DELETE FROM {q(staging)}")
        cursor.executemany(
            f"INSERT INTO {q(staging)} ({POSITION}, {', '.join(q(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in range(len(columns) + 1))})",
            parameters,
        )
        # Which staged rows are new and which differ, read before the merge changes the answer.
        written = cursor.execute(
            f"SELECT s.{POSITION}, t.{q(key[0])} IS NULL FROM {q(staging)} s LEFT JOIN {q(table.name)} t ON {joined} "
            f"WHERE t.{q(key[0])} IS NULL OR {_changed(connection, table, columns, key, 't', 's')}"
        ).fetchall()
        if written:
            cursor.execute(_merge(connection, table, columns, key, staging))
        cursor.execute(f"DELETE FROM {q(staging)}")
        return [(position, bool(inserted)) for position, inserted in written]
    finally:
        cursor.close()


def _postgres(connection: Connection, table: Table, rows, columns, key) -> list[tuple[int, bool]]:
    """Binary COPY into staging, insert the new rows, then merge the rest; [(position, inserted)] of rows written."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    staging = f"staging_{table.name}"
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {q(staging)} "
            f"({POSITION} integer, LIKE {q(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {q(staging)}")
        staged = [POSITION, *columns]
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            (f"pg_temp.{q(staging)}",),
        )
        types = dict(cursor.fetchall())
        with cursor.copy(f"COPY {q(staging)} ({', '.join(q(c) for c in staged)}) FROM STDIN (FORMAT BINARY)") as copy:
            # Binary COPY formats rows in psycopg's C code, several times faster than building COPY text here.
            copy.set_types([types[c] for c in staged])
            write = copy.write_row
            for position, row in enumerate(rows):
                write((position, *(row[c] for c in columns)))
        key_list = ", ".join(q(c) for c in key)
        matched = " AND ".join(f"s.{q(c)} = done.{q(c)}" for c in key)
        column_list = ", ".join(q(c) for c in columns)
        # PostgreSQL cannot tell inserted from updated rows of a partitioned table in RETURNING (no xmax), so
        # new rows go in first with DO NOTHING and leave staging; what stays there may differ and is merged.
        cursor.execute(
            f"WITH done AS (INSERT INTO {q(table.name)} ({column_list}) SELECT {column_list} FROM {q(staging)} "
            f"ON CONFLICT ({key_list}) DO NOTHING RETURNING {key_list}), "
            f"gone AS (DELETE FROM {q(staging)} s USING done WHERE {matched} RETURNING s.{POSITION}) "
            f"SELECT {POSITION} FROM gone"
        )
        written = [(position, True) for (position,) in cursor.fetchall()]
        if len(written) < len(rows):
            cursor.execute(
                f"WITH done AS ({_merge(connection, table, columns, key, staging)} RETURNING {key_list}) "
                f"SELECT s.{POSITION} FROM done JOIN {q(staging)} s ON {matched}"
            )
            written += [(position, False) for (position,) in cursor.fetchall()]
        return written
    finally:
        cursor.close()
