"""Idempotent bulk upsert of fact rows that tells which rows were new, which changed and which were already there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

import numpy as np
import orjson
import pandas as pd
import psycopg
from sqlalchemy import Connection, DateTime, Table, literal, select

from etl.warehouse.partitions import MONTHLY, ensure_months, months_spanning

# Bookkeeping columns change on every load; they never make a row "changed".
BOOKKEEPING = ("loaded_at", "run_id")
# The staging table's extra column: each row's position in the batch, so SQL can say which rows it wrote.
POSITION = "_position"
# Parameters one SQLite statement may hold (SQLITE_MAX_VARIABLE_NUMBER of SQLite before 3.32).
SQLITE_PARAMETERS = 999


@dataclass
class Upserted:
    """What an upsert wrote: rows that were not there before, rows whose values changed, and what the changed
    rows held before (the columns asked for), so their old rollup buckets can be recomputed too."""

    inserted: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    previous: list[dict] = field(default_factory=list)

    @property
    def written(self) -> int:
        """Rows inserted or changed (the rest were already there, identical)."""
        return len(self.inserted) + len(self.changed)


def upsert_counting(
    connection: Connection, table: Table, rows: Sequence[dict], previous: Sequence[str] = ()
) -> Upserted:
    """Insert new rows, update changed ones, leave identical ones alone; says which rows were which, and the
    ``previous`` columns of each changed row as they were before (what decided its old rollup buckets).

    Rows must be unique by the table's primary key (the natural key). When the key holds the event time and
    the table has nothing in the batch's time span (a live stream), no row can be there already: the rows
    are appended straight to the table (SQLite: multi-row INSERT; PostgreSQL: binary ``COPY``). Otherwise they go
    into a temporary staging table first; a join on the key finds the rows that already exist and whether
    they differ; one ``INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE`` merges. On PostgreSQL a batch of
    only new rows skips the join: ``ON CONFLICT DO NOTHING`` inside a savepoint inserts them all, or is
    rolled back when some were there. Knowing the inserted rows lets rollups add them to their buckets
    instead of recomputing the buckets from every raw row.
    """
    if not rows:
        return Upserted()
    columns = list(rows[0])
    key = [column.name for column in table.primary_key.columns]
    span = _event_span(table, rows)
    postgres = connection.dialect.name == "postgresql"
    if postgres and table.name in MONTHLY:
        ensure_months(connection, table.name, months_spanning(*span))
    if not postgres:
        _take_sqlite_write_lock(connection)
    append = _postgres_append if postgres else _sqlite_append
    if "event_time" in key and _nothing_in(connection, table, span) and append(connection, table, rows, columns):
        return Upserted(inserted=list(rows))
    if len(key) == 1 and _no_key_there(connection, table, key[0], rows) and append(connection, table, rows, columns):
        return Upserted(inserted=list(rows))  # a new export's rows (cases by case id): no staging, no join
    previous = [column for column in previous if column in table.c]
    existing = (_postgres if postgres else _sqlite)(connection, table, rows, columns, key, previous)
    if existing is None:
        return Upserted(inserted=list(rows))
    there = {entry[0] for entry in existing}
    changed = [entry for entry in existing if entry[1]]
    return Upserted(
        inserted=[row for position, row in enumerate(rows) if position not in there],
        changed=[rows[entry[0]] for entry in changed],
        previous=_as_rows(connection, table, previous, [entry[2:] for entry in changed]),
    )


def _as_rows(connection: Connection, table: Table, columns: list[str], values: list[tuple]) -> list[dict]:
    """Rows of ``columns`` read back through the raw driver, converted as SQLAlchemy would (SQLite keeps
    datetimes as text)."""
    dialect = connection.dialect
    converters = [table.c[c].type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
    return [
        {
            c: (convert(v) if convert and v is not None else v)
            for c, convert, v in zip(columns, converters, row, strict=True)
        }
        for row in values
    ]


def _event_span(table: Table, rows: Sequence[dict]) -> tuple[datetime, datetime] | None:
    """The earliest and latest event time of the rows, for a table that has event times."""
    if "event_time" not in table.c:
        return None
    times = [row["event_time"] for row in rows]
    return min(times), max(times)


def _take_sqlite_write_lock(connection: Connection) -> None:
    """Begin SQLite's transaction with the write lock (BEGIN IMMEDIATE) unless it has begun: no other writer
    can then add rows between the probe of the batch's time span and the append that trusts it."""
    driver = connection.connection.driver_connection
    # pysqlite begins a transaction only before its first INSERT, UPDATE or DELETE, so one that has begun
    # holds the write lock already.
    if not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def _nothing_in(connection: Connection, table: Table, span: tuple[datetime, datetime]) -> bool:
    """Whether the table holds no row with an event time in the span: then, for a key holding the event time,
    no row of the batch can be there already. One probe of the key's index."""
    column = table.c.event_time
    probe = select(literal(1)).where(column >= span[0], column <= span[1]).limit(1)
    return connection.execute(probe).first() is None


def _no_key_there(connection: Connection, table: Table, column: str, rows: Sequence[dict]) -> bool:
    """Whether none of the rows' keys (a one-column key) is in the table: one probe of the key's index with
    the keys bound as one value (a JSON array on SQLite, an array on PostgreSQL)."""
    keys = [row[column] for row in rows]
    name = _quoted(connection, column)
    driver = connection.connection.driver_connection
    if connection.dialect.name == "sqlite":
        probe = (
            f"SELECT 1 FROM {_quoted(connection, table.name)} WHERE {name} IN (SELECT value FROM json_each(?)) LIMIT 1"
        )
        return driver.execute(probe, (orjson.dumps(keys).decode(),)).fetchone() is None
    with driver.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {_quoted(connection, table.name)} WHERE {name} = ANY(%s) LIMIT 1", (keys,))
        return cursor.fetchone() is None


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _changed(connection: Connection, columns: list[str], key: list[str], left: str, right: str) -> str:
    """A condition true when any non-bookkeeping value differs between two row sources (null-safe)."""
    q = lambda name: _quoted(connection, name)  # noqa: E731 - a short local alias keeps the SQL readable
    distinct = "IS DISTINCT FROM" if connection.dialect.name == "postgresql" else "IS NOT"
    compared = [c for c in columns if c not in key and c not in BOOKKEEPING]
    return " OR ".join(f"{left}.{q(c)} {distinct} {right}.{q(c)}" for c in compared) or "FALSE"


def _insert(connection: Connection, table: Table, columns: list[str], key: list[str], staging: str, merge: bool):
    """INSERT … SELECT from staging … ON CONFLICT: DO NOTHING, or DO UPDATE … WHERE a compared value differs."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    column_list = ", ".join(q(c) for c in columns)
    action = "DO NOTHING"
    if merge:
        updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in columns if c not in key)
        action = f"DO UPDATE SET {updates} WHERE {_changed(connection, columns, key, q(table.name), 'excluded')}"
    # SQLite needs a WHERE after the SELECT, or it reads ON CONFLICT as a join constraint.
    return (
        f"INSERT INTO {q(table.name)} ({column_list}) SELECT {column_list} FROM {q(staging)} WHERE TRUE "
        f"ON CONFLICT ({', '.join(q(c) for c in key)}) {action}"
    )


def _existing(
    connection: Connection, table: Table, columns: list[str], key: list[str], staging: str, previous: list[str]
) -> str:
    """(position, differs, *previous values) of the staged rows whose key is already in the table."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    joined = " AND ".join(f"t.{q(c)} = s.{q(c)}" for c in key)
    before = "".join(f", t.{q(c)}" for c in previous)
    return (
        f"SELECT s.{POSITION}, {_changed(connection, columns, key, 't', 's')}{before} "
        f"FROM {q(staging)} s JOIN {q(table.name)} t ON {joined}"
    )


def sqlite_datetime(value: datetime | None) -> str | None:
    """A UTC datetime as SQLAlchemy stores it in SQLite ("2026-03-01 08:30:00.000000", the zone dropped),
    through C-level isoformat: SQLAlchemy's own formatting cost 3 µs a value, more than a big file's insert."""
    return None if value is None else value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _remembering(table: Table, column: str, convert):
    """``convert`` for one column; for datetimes the fast equivalent, remembering its results (a batch of
    readings repeats a few moments often)."""
    if convert is not None and isinstance(table.c[column].type, DateTime):
        return lru_cache(maxsize=65536)(sqlite_datetime)
    return convert


# From this many values on, a datetime column is formatted through its distinct values, and from this many distinct
# values on by numpy in one call: 300,000 distinct moments 0.3 s instead of 0.95 s one isoformat at a time (a big
# export's event, due and closing times never repeat), while a batch of readings repeats a few moments.
VECTOR_TIMES = 1000


def naive_or_utc(values: list) -> bool:
    """Whether every value is a naive or UTC datetime, or None: what may be handed to pandas as moments in one
    call. Text would be read as a date by pandas, and a moment in another zone equals its UTC twin (so it would
    share its text or hour): such columns go one by one."""
    if not {type(value) for value in values} <= {datetime, type(None)}:
        return False
    return {value.tzinfo for value in values if value is not None} <= {None, UTC}


def sqlite_datetimes(values: list) -> list[str | None] | None:
    """What ``sqlite_datetime`` gives for each value, each distinct value formatted once (by numpy when there are
    many); None when the values are not all naive or UTC datetimes (or None), for the caller to convert them one
    by one."""
    if not naive_or_utc(values):
        return None
    distinct = set(values)
    if len(distinct) < VECTOR_TIMES:
        text = {value: sqlite_datetime(value) for value in distinct}
        return list(map(text.__getitem__, values))
    try:
        index = pd.DatetimeIndex(values)
    except (TypeError, ValueError):  # naive and UTC moments together
        return None
    index = index.tz_localize(None) if index.tz is not None else index
    formatted = np.datetime_as_string(index.values, unit="us").tolist()
    return [None if gone else t[:10] + " " + t[11:] for t, gone in zip(formatted, index.isna().tolist(), strict=True)]


def _sqlite_columns(connection: Connection, table: Table, rows, columns) -> dict[str, list]:
    """Each column's values in SQLite's storage formats, built column by column (C-level loops)."""
    dialect = connection.dialect
    values = {}
    for column in columns:
        convert = _remembering(table, column, table.c[column].type.dialect_impl(dialect).bind_processor(dialect))
        raw = [row[column] for row in rows]
        vector = convert is not None and len(raw) >= VECTOR_TIMES and isinstance(table.c[column].type, DateTime)
        if vector and column not in BOOKKEEPING and (formatted := sqlite_datetimes(raw)) is not None:
            values[column] = formatted
        elif convert and column in BOOKKEEPING and raw.count(raw[0]) == len(raw):
            values[column] = [convert(raw[0])] * len(raw)  # one load time for the batch: converted once
        else:
            values[column] = list(map(convert, raw)) if convert else raw
    return values


def sqlite_insert(cursor, quote, table: str, values: dict[str, list], conflict: str = "") -> None:
    """INSERT INTO ``table`` (names quoted by ``quote``) rows given column by column, as many rows per
    statement as SQLite's parameter limit allows: executing one statement per row cost more than the rows
    themselves (500k readings: 2.3 s one per statement, 1.45 s about 140 per statement). A bookkeeping column
    holding one value for the whole batch (the loader stamps it) is bound once per statement, every row naming
    the same numbered parameter. ``conflict`` follows the VALUES (an ON CONFLICT clause)."""
    length = len(next(iter(values.values())))
    if not length:
        return
    shared = {c: v[0] for c, v in values.items() if c in BOOKKEEPING and v.count(v[0]) == length}
    varying = [c for c in values if c not in shared]
    width = len(varying)
    per = max(1, (SQLITE_PARAMETERS - len(shared)) // max(width, 1))
    names = ", ".join(quote(c) for c in [*varying, *shared])

    def statement(rows: int) -> str:
        after = [f"?{rows * width + n}" for n in range(1, len(shared) + 1)]
        tuples = (
            "(" + ", ".join([*(f"?{row * width + n}" for n in range(1, width + 1)), *after]) + ")"
            for row in range(rows)
        )
        return f"INSERT INTO {quote(table)} ({names}) VALUES {', '.join(tuples)} {conflict}"

    def parameters(start: int, rows: int) -> list:
        flat = [None] * (rows * width)
        for offset, column in enumerate(varying):
            flat[offset::width] = values[column][start : start + rows]  # a slice assignment: no tuple per row
        return flat + list(shared.values())

    full = length - length % per
    if full:
        cursor.executemany(statement(per), (parameters(start, per) for start in range(0, full, per)))
    if full < length:
        cursor.execute(statement(length - full), parameters(full, length - full))


def _sqlite_append(connection: Connection, table: Table, rows, columns) -> bool:
    """Insert rows known to be new straight into the table (no staging, no conflict handling); True."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    cursor = connection.connection.driver_connection.cursor()
    try:
        sqlite_insert(cursor, q, table.name, _sqlite_columns(connection, table, rows, columns))
    finally:
        cursor.close()
    return True


def _sqlite(connection: Connection, table: Table, rows, columns, key, previous) -> list[tuple]:
    """Stage, find the rows already there (and whether they differ), merge; [(position, differs, *previous)]
    of those."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    staging = f"staging_{table.name}"
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {q(staging)} "
            f"({POSITION} INTEGER PRIMARY KEY, {', '.join(q(c) for c in columns)})"
        )
        cursor.execute(f"DELETE FROM {q(staging)}")
        positions = {POSITION: list(range(len(rows)))}
        sqlite_insert(cursor, q, staging, positions | _sqlite_columns(connection, table, rows, columns))
        # Read before the merge, which would change the answer.
        existing = [
            (position, bool(differs), *before)
            for position, differs, *before in cursor.execute(
                _existing(connection, table, columns, key, staging, previous)
            )
        ]
        if len(existing) < len(rows) or any(entry[1] for entry in existing):
            cursor.execute(_insert(connection, table, columns, key, staging, merge=True))
        cursor.execute(f"DELETE FROM {q(staging)}")
        return existing
    finally:
        cursor.close()


def _column_types(cursor, relation: str) -> dict[str, int]:
    """Column name → type OID of a relation, for binary COPY."""
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", (relation,)
    )
    return dict(cursor.fetchall())


def _copy_rows(connection: Connection, cursor, relation: str, columns: list[str], rows, positions: bool) -> None:
    """Binary COPY of rows (with their positions, for staging) into a relation; psycopg formats them in C,
    several times faster than building COPY text here."""
    types = _column_types(cursor, relation)
    staged = [POSITION, *columns] if positions else columns
    values = itemgetter(*columns)
    copied = ", ".join(_quoted(connection, c) for c in staged)
    with cursor.copy(f"COPY {relation} ({copied}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([types[c] for c in staged])
        write = copy.write_row
        if positions:
            for position, row in enumerate(rows):
                write((position, *values(row)))
        else:
            for row in rows:
                write(values(row))


def _postgres_append(connection: Connection, table: Table, rows, columns) -> bool:
    """COPY rows believed new straight into the table, in a savepoint; False (rolled back) if a key was there
    after all (another load of the same span committed in between)."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    cursor = connection.connection.driver_connection.cursor()
    savepoint = connection.begin_nested()
    try:
        _copy_rows(connection, cursor, q(table.name), columns, rows, positions=False)
    except psycopg.errors.UniqueViolation:
        savepoint.rollback()
        return False
    except BaseException:
        savepoint.rollback()  # any other refusal goes to the caller with this savepoint closed
        raise
    finally:
        cursor.close()
    savepoint.commit()
    return True


def _postgres(connection: Connection, table: Table, rows, columns, key, previous) -> list[tuple] | None:
    """Binary COPY into staging, then insert; None when every row was new, else [(position, differs,
    *previous)] of the rows that were already there."""
    q = lambda name: _quoted(connection, name)  # noqa: E731
    staging = f"staging_{table.name}"
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {q(staging)} "
            f"({POSITION} integer, LIKE {q(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {q(staging)}")
        _copy_rows(connection, cursor, f"pg_temp.{q(staging)}", columns, rows, positions=True)
        savepoint = connection.begin_nested()
        try:
            cursor.execute(_insert(connection, table, columns, key, staging, merge=False))
        except BaseException:
            savepoint.rollback()
            raise
        if cursor.rowcount == len(rows):
            savepoint.commit()
            return None
        savepoint.rollback()  # some rows were there: find out which, then merge
        cursor.execute(_existing(connection, table, columns, key, staging, previous))
        existing = cursor.fetchall()
        if len(existing) < len(rows) or any(entry[1] for entry in existing):
            cursor.execute(_insert(connection, table, columns, key, staging, merge=True))
        return existing
    finally:
        cursor.close()
