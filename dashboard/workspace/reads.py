"""The rollup reads of the workspace: statements built once per shape (grain, grouping, with or without a
dimension), with bound parameters, over regions named in a list (a scope, or its children)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache

from sqlalchemy import Connection, Engine, bindparam, func, select, text

from dashboard.workspace.periods import LOCAL
from dashboard.workspace.stats import Coverage, Pair
from etl.warehouse.db import as_utc
from etl.warehouse.schema import regions, rollups

# What a statement groups by besides the region and measure: nothing (a span's totals), the bucket (a series),
# the dimension (a breakdown) or both.
GROUPS = {
    "total": (),
    "bucket": (rollups.c.bucket,),
    "dimension": (rollups.c.dimension,),
    "both": (rollups.c.dimension, rollups.c.bucket),
}


@cache
def statement(grain: str, group: str, by_dimension: bool):
    """SELECT region, measure, [dimension, bucket,] sum(count), sum(total) of some measures and regions over a
    range of buckets of one grain, optionally of one dimension."""
    extra = GROUPS[group]
    conditions = [
        rollups.c.region_code.in_(bindparam("regions", expanding=True)),
        rollups.c.grain == grain,
        rollups.c.measure.in_(bindparam("measures", expanding=True)),
        rollups.c.bucket >= bindparam("start"),
        rollups.c.bucket < bindparam("end"),
    ]
    if by_dimension:
        conditions.append(rollups.c.dimension == bindparam("dimension"))
    keys = (rollups.c.region_code, rollups.c.measure, *extra)
    return select(*keys, func.sum(rollups.c.count), func.sum(rollups.c.total)).where(*conditions).group_by(*keys)


FIRST_BUCKET = {
    grain: select(func.min(rollups.c.bucket)).where(rollups.c.grain == grain, rollups.c.measure == bindparam("measure"))
    for grain in ("day", "month")
}
MEASURES_OF = (
    select(rollups.c.measure)
    .where(rollups.c.region_code == bindparam("scope"), rollups.c.grain == "month")
    .group_by(rollups.c.measure)
)
CHILDREN = (
    select(regions.c.code, regions.c.name, regions.c.level)
    .where(regions.c.parent_code == bindparam("parent"))
    .order_by(regions.c.code)
)


# psycopg prepares a statement from its fifth run, and PostgreSQL may then plan it once for any values: a plan for
# "some region range, some days" read a province's 300,000 cases and sorted them for a page of 20 (0.9 s), where
# the plan for the values at hand walks the time index backwards (1 ms). The same holds for a township's buckets
# against a province's. The workspace's statements are planned with their values (as etl/programmes/scoring.py's).
CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for the workspace's reads: on PostgreSQL in a transaction whose statements are planned with
    their values (a server-side cursor, streaming an export, needs the transaction too)."""
    with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            yield connection
            return
        connection.execution_options(isolation_level="READ COMMITTED")  # the screens' engine autocommits
        with connection.begin():
            connection.execute(CUSTOM_PLANS)
            yield connection


def local_day(bucket) -> date:
    """The local date a day or month bucket (its UTC start) stands for."""
    return as_utc(bucket).astimezone(LOCAL).date()


def coverage_of(connection: Connection, measure: str) -> Coverage:
    """The first day and month rollups of a measure: two probes of an index led by grain and measure."""
    found = [connection.execute(FIRST_BUCKET[grain], {"measure": measure}).scalar() for grain in ("day", "month")]
    return Coverage(*(local_day(bucket) if bucket is not None else None for bucket in found))


def rows(
    connection: Connection,
    grain: str,
    group: str,
    region_codes: list[str],
    measures: list[str],
    start: datetime,
    end: datetime,
    dimension: str | None = None,
):
    """The grouped sums as (region, measure, *group keys, count, total) tuples."""
    parameters = {"regions": region_codes, "measures": measures, "start": start, "end": end}
    if dimension is not None:
        parameters["dimension"] = dimension
    yield from connection.execute(statement(grain, group, dimension is not None), parameters)


def by_bucket(found) -> dict[tuple[str, str], dict[date, Pair]]:
    """{(region, measure): {local date: (count, total)}} from rows grouped by bucket."""
    series: dict[tuple[str, str], dict[date, Pair]] = {}
    for region, measure, bucket, count, total in found:
        series.setdefault((region, measure), {})[local_day(bucket)] = (float(count or 0), float(total or 0))
    return series
