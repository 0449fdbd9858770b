"""Hour and day rollups × village, township, county, prefecture and province, recomputed for exactly the
buckets a load touched: villages, townships and counties from the raw rows, prefectures and provinces by
combining their counties' rollups (a province total never re-reads a province of raw rows)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import Connection, DateTime, and_, delete, func, insert, literal, or_, select

from etl.dataset import Dataset, Measure
from etl.warehouse.schema import regions, rollups

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Days are the county's local days (UTC+8), so "today" on a screen starts at local midnight.
LOCAL = timezone(timedelta(hours=8))


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_of(moment: datetime) -> datetime:
    """The start (in UTC) of the local day holding ``moment``."""
    local = moment.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def touched_buckets(dataset: Dataset, rows: Iterable[dict]) -> set[tuple[datetime, str]]:
    """The (hour, county code prefix) buckets that rows fall into, through any measure's time column."""
    times = {measure.time for measure in dataset.measures}
    touched = set()
    for row in rows:
        county = row["region_code"][:6]
        for column in times:
            if row.get(column) is not None:
                touched.add((hour_of(row[column]), county))
    return touched


def _measure_filter(measure: Measure):
    """A SQL condition selecting the rollup rows of one measure (a template like reading.{metric} by prefix)."""
    if "{" in measure.name:
        return rollups.c.measure.startswith(measure.name.split("{")[0])
    return rollups.c.measure == measure.name


def _ancestors(code: str) -> list[str]:
    """The village, its township and its county (as 12-digit codes), or fewer for a higher-level code."""
    codes = [code]
    if code[9:] != "000":
        codes.append(code[:9] + "000")
    if code[6:] != "000000":
        codes.append(code[:6] + "000000")
    return codes


def _names(template: str, frame: pd.DataFrame):
    """The measure name of each row: a plain name, or a template with one column, like reading.{metric}."""
    if "{" not in template:
        return template
    prefix, rest = template.split("{", 1)
    column, suffix = rest.split("}", 1)
    return prefix + frame[column].astype(str) + suffix


def _runs(hours: set[datetime]) -> list[tuple[datetime, datetime]]:
    """Contiguous [start, end) ranges covering the given hours, so raw rows are read only where needed."""
    ranges: list[list[datetime]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + HOUR
        else:
            ranges.append([hour, hour + HOUR])
    return [(start, end) for start, end in ranges]


def _aggregate(dataset: Dataset, frame: pd.DataFrame, hours: set[datetime]) -> list[dict]:
    """Rollup rows (grain hour) of every measure for rows of ``frame`` in the given hours, at every level."""
    out = []
    for measure in dataset.measures:
        if frame.empty:
            continue
        part = frame[frame[measure.time].notna()]
        if measure.where is not None and not part.empty:
            part = part[[bool(measure.where(r)) for r in part.to_dict("records")]]
        if part.empty:
            continue
        bucket = part[measure.time].map(hour_of)
        part = part.assign(_bucket=bucket)[bucket.isin(hours)]
        if part.empty:
            continue
        names = _names(measure.name, part)
        dimension = part[measure.dimension].fillna("").astype(str) if measure.dimension else ""
        value = part[measure.value].astype(float) if measure.value else 1.0
        base = pd.DataFrame(
            {
                "bucket": part["_bucket"],
                "code": part["region_code"],
                "measure": names,
                "dimension": dimension,
                "v": value,
            }
        )
        levels = base.assign(code=base["code"].map(_ancestors)).explode("code")
        grouped = levels.groupby(["bucket", "code", "measure", "dimension"])["v"].agg(["count", "sum", "min", "max"])
        for (bucket_start, code, name, dim), stats in grouped.iterrows():
            out.append(
                {
                    "grain": "hour",
                    "bucket": bucket_start,
                    "region_code": code,
                    "measure": name,
                    "dimension": dim,
                    "count": int(stats["count"]),
                    "total": float(stats["sum"]),
                    "min": float(stats["min"]) if measure.value else None,
                    "max": float(stats["max"]) if measure.value else None,
                }
            )
    return out


def update_rollups(connection: Connection, dataset: Dataset, touched: set[tuple[datetime, str]]) -> int:
    """Recompute the touched hour buckets from raw rows and their days from the hours; returns rows written."""
    if not dataset.measures or not touched:
        return 0
    table = dataset.table
    by_county: dict[str, set[datetime]] = defaultdict(set)
    for hour, county in touched:
        by_county[county].add(hour)
    measures = or_(*(_measure_filter(m) for m in dataset.measures))
    written = 0
    for county, hours in by_county.items():
        scope = rollups.c.region_code.startswith(county)
        time_columns = {m.time for m in dataset.measures}
        windows = [and_(table.c[c] >= start, table.c[c] < end) for start, end in _runs(hours) for c in time_columns]
        query = select(table).where(table.c.region_code.startswith(county), or_(*windows))
        frame = pd.DataFrame(list(connection.execute(query).mappings()))
        # SQLite hands datetimes back without a zone: make every datetime column aware (UTC) before comparing.
        datetimes = {c.name for c in table.columns if isinstance(c.type, DateTime)} & set(frame.columns)
        for column in datetimes:
            frame[column] = pd.to_datetime(frame[column], utc=True).astype(object).where(frame[column].notna(), None)
        hourly = _aggregate(dataset, frame, hours)
        connection.execute(
            delete(rollups).where(rollups.c.grain == "hour", rollups.c.bucket.in_(sorted(hours)), scope, measures)
        )
        if hourly:
            connection.execute(insert(rollups), hourly)
        written += len(hourly) + _update_days(connection, {day_of(h) for h in hours}, scope, measures)
    for upper, hours in _upper_levels(connection, by_county).items():
        written += _combine_counties(connection, upper, "hour", sorted(hours), measures)
        written += _combine_counties(connection, upper, "day", sorted({day_of(h) for h in hours}), measures)
    return written


def _upper_levels(connection: Connection, by_county: dict[str, set[datetime]]) -> dict[str, set[datetime]]:
    """The touched hours of each prefecture and province above the touched counties that is a known region."""
    wanted: dict[str, set[datetime]] = defaultdict(set)
    for county, hours in by_county.items():
        for code in (county[:4] + "0" * 8, county[:2] + "0" * 10):
            if code != county + "000000":
                wanted[code] |= hours
    if not wanted:
        return {}
    known = set(connection.execute(select(regions.c.code).where(regions.c.code.in_(wanted))).scalars())
    return {code: hours for code, hours in wanted.items() if code in known}


def _combine_counties(connection: Connection, upper: str, grain: str, buckets: list[datetime], measures) -> int:
    """Recompute a prefecture's or province's buckets as the combination of its counties' rows."""
    prefix = upper[:4] if upper[4:6] != "00" else upper[:2]
    counties = and_(
        rollups.c.region_code.like(prefix + "%000000"),
        func.substr(rollups.c.region_code, 5, 2) != "00",  # counties, not the prefectures themselves
    )
    chosen = and_(rollups.c.grain == grain, rollups.c.bucket.in_(buckets), measures)
    connection.execute(delete(rollups).where(chosen, rollups.c.region_code == upper))
    combined = (
        select(
            literal(grain),
            rollups.c.bucket,
            literal(upper),
            rollups.c.measure,
            rollups.c.dimension,
            func.sum(rollups.c.count),
            func.sum(rollups.c.total),
            func.min(rollups.c.min),
            func.max(rollups.c.max),
        )
        .where(chosen, counties)
        .group_by(rollups.c.bucket, rollups.c.measure, rollups.c.dimension)
    )
    columns = ["grain", "bucket", "region_code", "measure", "dimension", "count", "total", "min", "max"]
    return connection.execute(insert(rollups).from_select(columns, combined)).rowcount


def _update_days(connection: Connection, days: set[datetime], scope, measures) -> int:
    """Recompute day buckets by combining their hour buckets (exact for count, sum, min and max)."""
    written = 0
    for day in sorted(days):
        hour_rows = connection.execute(
            select(rollups).where(
                rollups.c.grain == "hour", rollups.c.bucket >= day, rollups.c.bucket < day + DAY, scope, measures
            )
        ).mappings()
        combined: dict[tuple, dict] = {}
        for row in hour_rows:
            key = (row["region_code"], row["measure"], row["dimension"])
            current = combined.get(key)
            if current is None:
                combined[key] = {**row, "grain": "day", "bucket": day}
                continue
            current["count"] += row["count"]
            current["total"] += row["total"]
            if row["min"] is not None:
                current["min"] = min(current["min"], row["min"])
                current["max"] = max(current["max"], row["max"])
        connection.execute(delete(rollups).where(rollups.c.grain == "day", rollups.c.bucket == day, scope, measures))
        if combined:
            connection.execute(insert(rollups), list(combined.values()))
        written += len(combined)
    return written
