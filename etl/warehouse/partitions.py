"""Monthly partitions of PostgreSQL fact tables (readings): created ahead of the rows that need them.

A DEFAULT partition catches any month without its own, so an insert never fails; when a month's partition
is created later, the rows the DEFAULT partition already holds for that month move into it first (the
partition is filled, then attached), so nothing is lost and no insert ever waits for an operator.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, text

# Tables partitioned by month of event_time on PostgreSQL (SQLite has no partitions: the same table is plain).
MONTHLY = ("readings",)


def month_of(moment: datetime) -> datetime:
    """The first instant (UTC) of the UTC month holding ``moment``."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(month: datetime) -> datetime:
    """The first instant of the following month."""
    return month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)


def months_spanning(first: datetime, last: datetime) -> list[datetime]:
    """The first instants of every month from the one holding ``first`` to the one holding ``last``."""
    months, month, final = [], month_of(first), month_of(last)
    while month <= final:
        months.append(month)
        month = next_month(month)
    return months


def partition_name(table: str, month: datetime) -> str:
    """readings_2026_11 for November 2026."""
    return f"{table}_{month:%Y_%m}"


def existing_partitions(connection: Connection, table: str) -> set[str]:
    """The names of a table's partitions (DEFAULT included)."""
    rows = connection.execute(
        text(
            "SELECT child.relname FROM pg_inherits JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid WHERE parent.relname = :table"
        ),
        {"table": table},
    )
    return set(rows.scalars())


def ensure_months(connection: Connection, table: str, moments: Iterable[datetime]) -> list[str]:
    """Make sure every month of ``moments`` has its own partition; returns the partitions created."""
    months = sorted({month_of(moment) for moment in moments})
    if not months:
        return []
    existing = existing_partitions(connection, table)
    missing = [month for month in months if partition_name(table, month) not in existing]
    created = []
    for month in missing:
        # One creator at a time: two loads of the same new month would otherwise both try to attach it.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"partition:{table}"})
        if partition_name(table, month) in existing_partitions(connection, table):
            continue
        created.append(_create(connection, table, month))
    return created


def _create(connection: Connection, table: str, month: datetime) -> str:
    """Create one month's partition, moving that month's rows out of the DEFAULT partition first."""
    name, default = partition_name(table, month), f"{table}_default"
    bounds = {"start": month, "end": next_month(month)}
    connection.execute(text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'))
    if default in existing_partitions(connection, table):
        connection.execute(
            text(
                f'WITH moved AS (DELETE FROM "{default}" WHERE event_time >= :start AND event_time < :end '
                f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved'
            ),
            bounds,
        )
    start, end = (f"'{moment.isoformat()}'" for moment in (bounds["start"], bounds["end"]))
    connection.execute(text(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES FROM ({start}) TO ({end})'))
    return name
