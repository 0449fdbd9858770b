"""`ruralbrain etl verify`: the rollups of a recent window recomputed from the raw rows and compared with what
is kept, every difference reported, and optionally repaired (an operator's check after an incident)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, text

from etl.dataset import Dataset
from etl.datasets import datasets
from etl.rollups import HOUR, day_of, hour_of, measures_of, month_of, months_from_days, recompute_rollups
from etl.warehouse.db import as_utc, bump_version
from etl.warehouse.schema import regions, rollups

Key = tuple[str, datetime, str, str, str]  # grain, bucket, region, measure, dimension
Values = tuple[int, float, float | None, float | None]  # count, total, min, max
EMPTY: Values = (0, 0.0, None, None)


@dataclass(frozen=True)
class Difference:
    """One rollup row that does not match a recompute from the raw rows."""

    key: Key
    kept: Values
    recomputed: Values


@dataclass(frozen=True)
class Verification:
    """What `etl verify` found over its window, and whether it repaired it."""

    start: datetime
    end: datetime
    compared: int
    differences: list[Difference]
    repaired: bool
    # Datasets whose raw rows begin inside the window, with their first moment: their rollups before it are history
    # kept without its rows (imported statistics, the demo's past year) and are left alone; where there is such
    # history, so is the day that holds the first moment (partly history, perhaps).
    history_until: dict[str, datetime] = field(default_factory=dict)
    # Datasets with rollups in the window but no raw row at all (history alone, or raw rows deleted), with how many:
    # nothing to recompute them from, so they are not checked; an operator should know.
    without_rows: dict[str, int] = field(default_factory=dict)


def verify_rollups(engine: Engine, *, days: int = 7, repair: bool = False, now: datetime | None = None) -> Verification:
    """Recompute every rollup of the last ``days`` local days (and the months holding them) from the raw rows
    inside a transaction, compare with what was kept, then keep the recompute (``repair``) or roll it back.

    Hours before a dataset's first raw row are not recomputed: rollups there are history without its rows (a
    county's imported statistics, the demo's past year), which a recompute would take for errors and --repair
    would delete. Where a dataset has such history, the day holding its first raw row is kept as it is too (its
    hours are checked): statistics imported by day may cover its part before that row, which a recompute from
    hours would drop. Its month is recomputed from its days, so history of that month must come by day.

    Loads wait while it runs (the write lock on SQLite, the rollups' table lock on PostgreSQL): a load committing
    between the read of what is kept and the recompute would show as differences."""
    now = now or datetime.now(UTC)
    start = day_of(now - timedelta(days=max(1, days) - 1))
    last = hour_of(now)
    hours = [start + HOUR * n for n in range(int((last - start) / HOUR) + 1)]
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            _hold_writers(connection)
            chosen = select(regions.c.code).where(regions.c.level == "county")
            counties = {code[:6] for code in connection.execute(chosen).scalars()}
            before = _kept(connection, start)
            history_until, without_rows = {}, {}
            for dataset in datasets().values():
                if not dataset.measures:
                    continue
                first = connection.execute(select(func.min(dataset.table.c.event_time))).scalar()
                if first is None:
                    if kept := _count_kept(connection, dataset, start):
                        without_rows[dataset.name] = kept
                    continue
                first_hour = hour_of(as_utc(first))
                partial = None
                if first_hour > start:
                    history_until[dataset.name] = as_utc(first)
                    if _history_before(connection, dataset, first_hour):
                        partial = _snapshot(connection, dataset, first_hour)
                touched = {(hour, county) for hour in hours if hour >= first_hour for county in counties}
                recompute_rollups(connection, dataset, touched)
                if partial is not None:
                    _restore(connection, dataset, first_hour, partial)
                    months_from_days(connection, dataset, {month_of(first_hour)}, counties)
            after = _kept(connection, start)
            differences = [
                Difference(key, before.get(key, EMPTY), after.get(key, EMPTY))
                for key in sorted(before.keys() | after.keys())
                if not _same(before.get(key, EMPTY), after.get(key, EMPTY))
            ]
            if repair and differences:
                bump_version(connection)
                transaction.commit()
            else:
                transaction.rollback()
        except BaseException:
            transaction.rollback()
            raise
    return Verification(
        start,
        last + HOUR,
        len(before.keys() | after.keys()),
        differences,
        repair and bool(differences),
        history_until,
        without_rows,
    )


def _hold_writers(connection: Connection) -> None:
    """Make loads wait until the transaction ends: SQLite's write lock, PostgreSQL's lock on the rollups (every load
    that changes a bucket writes them; screens still read)."""
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if not driver.in_transaction:  # pysqlite begins only before a write: reads would see loads commit
            driver.execute("BEGIN IMMEDIATE")
    else:
        connection.execute(text("LOCK TABLE rollups IN SHARE ROW EXCLUSIVE MODE"))


def _history_before(connection: Connection, dataset: Dataset, first_hour: datetime) -> bool:
    """Whether the dataset has rollups wholly before its first raw row (hours before it, days before its day, months
    before its month): history."""
    earlier = or_(
        and_(rollups.c.grain == "hour", rollups.c.bucket < first_hour),
        and_(rollups.c.grain == "day", rollups.c.bucket < day_of(first_hour)),
        and_(rollups.c.grain == "month", rollups.c.bucket < month_of(first_hour)),
    )
    return connection.execute(select(rollups.c.count).where(measures_of(dataset), earlier).limit(1)).first() is not None


def _partial_buckets(dataset: Dataset, first_hour: datetime):
    """A SQL condition selecting the dataset's rollups of the day holding its first raw row, if it began before."""
    return and_(
        measures_of(dataset),
        rollups.c.grain == "day",
        rollups.c.bucket == day_of(first_hour),
        rollups.c.bucket < first_hour,
    )


def _snapshot(connection: Connection, dataset: Dataset, first_hour: datetime) -> list[dict]:
    """The kept rows of the day that holds a dataset's first raw row and began before it."""
    return [
        dict(row) for row in connection.execute(select(rollups).where(_partial_buckets(dataset, first_hour))).mappings()
    ]


def _restore(connection: Connection, dataset: Dataset, first_hour: datetime, partial: list[dict]) -> None:
    """Put those rows back as they were kept, over what the recompute made of their buckets."""
    connection.execute(delete(rollups).where(_partial_buckets(dataset, first_hour)))
    if partial:
        connection.execute(insert(rollups), partial)


def _count_kept(connection: Connection, dataset: Dataset, start: datetime) -> int:
    """How many of a dataset's rollups lie in the window (hours and days from ``start``, the months holding it)."""
    in_window = ((rollups.c.grain != "month") & (rollups.c.bucket >= start)) | (
        (rollups.c.grain == "month") & (rollups.c.bucket >= month_of(start))
    )
    return connection.execute(select(func.count()).where(measures_of(dataset), in_window)).scalar()


def _kept(connection, start: datetime) -> dict[Key, Values]:
    """The rollups from ``start`` on (hours and days) and of the months holding it."""
    rows = connection.execute(
        select(rollups).where(
            ((rollups.c.grain != "month") & (rollups.c.bucket >= start))
            | ((rollups.c.grain == "month") & (rollups.c.bucket >= month_of(start)))
        )
    )
    return {
        (row.grain, as_utc(row.bucket), row.region_code, row.measure, row.dimension): (
            row.count,
            row.total,
            row.min,
            row.max,
        )
        for row in rows
        if row.count
    }


def _same(left: Values, right: Values) -> bool:
    """Equal counts, and totals and extremes equal up to floating-point rounding (sums in another order)."""
    if left[0] != right[0]:
        return False
    for a, b in zip(left[1:], right[1:], strict=True):
        if (a is None) != (b is None):
            return False
        if a is not None and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
            return False
    return True
