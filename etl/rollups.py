"""Hour, day and month rollups × village, township, county, prefecture and province, kept current for exactly
the buckets a load touched.

New rows are added to their buckets (count, sum, min and max are additive), so a steady stream into one
hour costs the same on every batch. Changed rows (a case that was closed, a corrected reading) make their
buckets be recomputed: villages, townships and counties from the raw rows, days from hours, months from
days, prefectures and provinces by combining their counties' rollups (never from a province of raw rows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from operator import itemgetter

import pandas as pd
from sqlalchemy import Connection, DateTime, and_, case, delete, func, insert, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from etl.dataset import Dataset, Measure
from etl.load import Upserted
from etl.warehouse.schema import regions, rollups

ROLLUP_KEY = tuple(column.name for column in rollups.primary_key.columns)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Days and months are the county's local ones (UTC+8), so "today" on a screen starts at local midnight.
LOCAL = timezone(timedelta(hours=8))
GRAINS = ("hour", "day", "month")


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_of(moment: datetime) -> datetime:
    """The start (in UTC) of the local day holding ``moment``."""
    local = moment.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def month_of(moment: datetime) -> datetime:
    """The start (in UTC) of the local month holding ``moment``."""
    local = moment.astimezone(LOCAL).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def month_after(month: datetime) -> datetime:
    """The start (in UTC) of the local month after the one starting at ``month``."""
    return month_of(month_of(month) + timedelta(days=32))


def _floor(times: pd.Series, grain: str) -> pd.Series:
    """Bucket starts (UTC) of aware UTC times, vectorised: the same as hour_of, day_of and month_of."""
    if grain == "hour":
        return times.dt.floor("h")
    local = times.dt.tz_convert(LOCAL).dt.floor("D")
    if grain == "month":
        local = local - pd.to_timedelta(local.dt.day - 1, unit="D")
    return local.dt.tz_convert(UTC)


def bucket_columns(dataset: Dataset) -> tuple[str, ...]:
    """The columns that place a row in its rollup buckets: its region and every measure's time column."""
    return ("region_code", *sorted({measure.time for measure in dataset.measures}))


def touched_buckets(dataset: Dataset, rows: Iterable[dict]) -> set[tuple[datetime, str]]:
    """The (hour, county code prefix) buckets that rows fall into, through any measure's time column."""
    times = {measure.time for measure in dataset.measures}
    touched = set()
    for row in rows:
        county = row["region_code"][:6]
        for column in times:
            moment = row.get(column)
            if moment is not None:
                touched.add((hour_of(moment if moment.tzinfo else moment.replace(tzinfo=UTC)), county))
    return touched


def update_rollups(connection: Connection, dataset: Dataset, upserted: Upserted) -> int:
    """Add the inserted rows to their buckets and recompute the buckets of changed rows, those they are in now
    and those they were in before the change (a moved time, a cleared closing time, another region); returns
    rows written."""
    if not dataset.measures:
        return 0
    recomputed = touched_buckets(dataset, upserted.changed) | touched_buckets(dataset, upserted.previous)
    written = add_to_rollups(connection, dataset, upserted.inserted, skip=recomputed)
    return written + recompute_rollups(connection, dataset, recomputed)


def _measure_filter(measure: Measure):
    """A SQL condition selecting the rollup rows of one measure (a template like reading.{metric} by prefix)."""
    if "{" in measure.name:
        return rollups.c.measure.startswith(measure.name.split("{")[0])
    return rollups.c.measure == measure.name


def _names(template: str, frame: pd.DataFrame):
    """The measure name of each row: a plain name, or a template with one column, like reading.{metric}."""
    if "{" not in template:
        return template
    prefix, rest = template.split("{", 1)
    column, suffix = rest.split("}", 1)
    return prefix + frame[column].astype(str) + suffix


def _aware(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with the given datetime columns as aware UTC (SQLite hands them back without a zone)."""
    converted = {c: pd.to_datetime(frame[c], utc=True) for c in columns if c in frame.columns}
    return frame.assign(**converted) if converted else frame


def _hourly(dataset: Dataset, frame: pd.DataFrame, keep=None) -> pd.DataFrame:
    """Hour × own region × measure × dimension statistics (count, total, min, max) of the rows of ``frame``.

    ``keep(hours, counties)``, given each row's hour and county, returns a boolean mask of the rows to include.
    """
    parts = []
    for measure in dataset.measures:
        part = frame[frame[measure.time].notna()] if not frame.empty else frame
        if measure.where is not None and not part.empty:
            records = part.astype(object).where(part.notna(), None).to_dict("records")  # NaN/NaT as None
            part = part[[bool(measure.where(r)) for r in records]]
        if part.empty:
            continue
        hours = _floor(part[measure.time], "hour")
        if keep is not None:
            mask = keep(hours, part["region_code"].str.slice(0, 6))
            part, hours = part[mask], hours[mask]
            if part.empty:
                continue
        base = pd.DataFrame(
            {
                "bucket": hours,
                "code": part["region_code"],
                "measure": _names(measure.name, part),
                "dimension": part[measure.dimension].fillna("").astype(str) if measure.dimension else "",
                "v": part[measure.value].astype(float) if measure.value else 1.0,
            }
        )
        stats = base.groupby(["bucket", "code", "measure", "dimension"])["v"].agg(["count", "sum", "min", "max"])
        stats = stats.rename(columns={"sum": "total"}).reset_index()
        if not measure.value:
            stats["min"] = stats["max"] = float("nan")
        parts.append(stats)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _ancestors(code: str, upper: set[str]) -> list[str]:
    """The region and the regions above it that have rollups: township, county, and known prefecture/province."""
    codes = [code]
    if code[9:] != "000":
        codes.append(code[:9] + "000")
    if code[6:] != "000000":
        codes.append(code[:6] + "000000")
    codes += [c for c in (code[:4] + "0" * 8, code[:2] + "0" * 10) if c in upper and c not in codes]
    return codes


def _rolled(stats: pd.DataFrame, grain: str, upper: set[str]) -> list[dict]:
    """Rollup rows of one grain at every level from own-region hourly statistics (a small frame: plain Python
    beats a pandas group-by of a few hundred rows)."""
    buckets = _floor(stats["bucket"], grain) if grain != "hour" else stats["bucket"]
    lows = stats["min"].astype(object).where(stats["min"].notna(), None)
    highs = stats["max"].astype(object).where(stats["max"].notna(), None)
    combined: dict[tuple, list] = {}
    columns = (
        buckets,
        stats["code"],
        stats["measure"],
        stats["dimension"],
        stats["count"],
        stats["total"],
        lows,
        highs,
    )
    for bucket, code, name, dimension, count, total, low, high in zip(*columns, strict=True):
        start = bucket.to_pydatetime()
        for region in _ancestors(code, upper):
            current = combined.get((start, region, name, dimension))
            if current is None:
                combined[(start, region, name, dimension)] = [int(count), float(total), low, high]
                continue
            current[0] += int(count)
            current[1] += float(total)
            if low is not None:
                current[2] = low if current[2] is None else min(current[2], low)
                current[3] = high if current[3] is None else max(current[3], high)
    return [
        {
            "grain": grain,
            "bucket": start,
            "region_code": region,
            "measure": name,
            "dimension": dimension,
            "count": count,
            "total": total,
            "min": None if low is None else float(low),
            "max": None if high is None else float(high),
        }
        for (start, region, name, dimension), (count, total, low, high) in combined.items()
    ]


def _known_upper(connection: Connection, counties: Iterable[str]) -> set[str]:
    """The prefecture and province codes above these counties that are regions of the warehouse."""
    wanted = {c for county in counties for c in (county[:4] + "0" * 8, county[:2] + "0" * 10)}
    wanted -= {county + "000000" for county in counties}
    if not wanted:
        return set()
    return set(connection.execute(select(regions.c.code).where(regions.c.code.in_(wanted))).scalars())


def add_to_rollups(connection: Connection, dataset: Dataset, rows: list[dict], skip=frozenset()) -> int:
    """Add new rows to their hour, day and month buckets at every level, except buckets in ``skip``
    ((hour, county) pairs being recomputed anyway); returns rollup rows written."""
    if not rows or not dataset.measures:
        return 0
    frame = _aware(pd.DataFrame(rows), {m.time for m in dataset.measures})
    keep = None
    if skip:
        skipped = {(pd.Timestamp(hour), county) for hour, county in skip}
        keep = lambda hours, counties: [  # noqa: E731
            (hour, county) not in skipped for hour, county in zip(hours, counties, strict=True)
        ]
    stats = _hourly(dataset, frame, keep)
    if stats.empty:
        return 0
    upper = _known_upper(connection, set(stats["code"].str.slice(0, 6)))
    values = [row for grain in GRAINS for row in _rolled(stats, grain, upper)]
    # In key order, so that loads adding to the same buckets at once (MQTT workers) lock them in one order
    # and wait for each other instead of deadlocking.
    values.sort(key=itemgetter(*ROLLUP_KEY))
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[connection.dialect.name]
    statement = dialect.insert(rollups)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY),
        set_={
            "count": rollups.c.count + new["count"],
            "total": rollups.c.total + new.total,
            "min": case((or_(rollups.c.min.is_(None), new.min < rollups.c.min), new.min), else_=rollups.c.min),
            "max": case((or_(rollups.c.max.is_(None), new.max > rollups.c.max), new.max), else_=rollups.c.max),
        },
    )
    connection.execute(statement, values)
    return len(values)


def _runs(hours: set[datetime]) -> list[tuple[datetime, datetime]]:
    """Contiguous [start, end) ranges covering the given hours, so raw rows are read only where needed."""
    ranges: list[list[datetime]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + HOUR
        else:
            ranges.append([hour, hour + HOUR])
    return [(start, end) for start, end in ranges]


def recompute_rollups(connection: Connection, dataset: Dataset, touched: set[tuple[datetime, str]]) -> int:
    """Recompute the touched (hour, county) buckets from raw rows, their days from hours and months from days."""
    if not dataset.measures or not touched:
        return 0
    table = dataset.table
    by_county: dict[str, set[datetime]] = defaultdict(set)
    for hour, county in touched:
        by_county[county].add(hour)
    measures = or_(*(_measure_filter(m) for m in dataset.measures))
    time_columns = {m.time for m in dataset.measures}
    written = 0
    for county, hours in by_county.items():
        scope = rollups.c.region_code.startswith(county)
        windows = [and_(table.c[c] >= start, table.c[c] < end) for start, end in _runs(hours) for c in time_columns]
        query = select(table).where(table.c.region_code.startswith(county), or_(*windows))
        frame = pd.DataFrame(list(connection.execute(query).mappings()))
        datetimes = {c.name for c in table.columns if isinstance(c.type, DateTime)}
        stats = _hourly(dataset, _aware(frame, datetimes)) if not frame.empty else pd.DataFrame()
        if not stats.empty:
            stats = stats[stats["bucket"].isin([pd.Timestamp(h) for h in hours])]
        hourly = _rolled(stats, "hour", set()) if not stats.empty else []
        connection.execute(
            delete(rollups).where(rollups.c.grain == "hour", rollups.c.bucket.in_(sorted(hours)), scope, measures)
        )
        if hourly:
            connection.execute(insert(rollups), hourly)
        days = {day_of(h) for h in hours}
        written += len(hourly) + _combine_buckets(connection, "hour", "day", days, scope, measures)
        written += _combine_buckets(connection, "day", "month", {month_of(d) for d in days}, scope, measures)
    for upper, hours in _upper_levels(connection, by_county).items():
        days = {day_of(h) for h in hours}
        written += _combine_counties(connection, upper, "hour", sorted(hours), measures)
        written += _combine_counties(connection, upper, "day", sorted(days), measures)
        written += _combine_counties(connection, upper, "month", sorted({month_of(d) for d in days}), measures)
    return written


def _upper_levels(connection: Connection, by_county: dict[str, set[datetime]]) -> dict[str, set[datetime]]:
    """The touched hours of each prefecture and province above the touched counties that is a known region."""
    known = _known_upper(connection, by_county)
    wanted: dict[str, set[datetime]] = defaultdict(set)
    for county, hours in by_county.items():
        for code in (county[:4] + "0" * 8, county[:2] + "0" * 10):
            if code in known:
                wanted[code] |= hours
    return wanted


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


def _combine_buckets(connection: Connection, finer: str, coarser: str, starts: set[datetime], scope, measures) -> int:
    """Recompute coarser buckets (days, months) by combining their finer ones (exact for count, sum, min, max)."""
    span = (lambda start: start + DAY) if coarser == "day" else month_after
    written = 0
    for start in sorted(starts):
        finer_rows = connection.execute(
            select(rollups).where(
                rollups.c.grain == finer, rollups.c.bucket >= start, rollups.c.bucket < span(start), scope, measures
            )
        ).mappings()
        combined: dict[tuple, dict] = {}
        for row in finer_rows:
            key = (row["region_code"], row["measure"], row["dimension"])
            current = combined.get(key)
            if current is None:
                combined[key] = {**row, "grain": coarser, "bucket": start}
                continue
            current["count"] += row["count"]
            current["total"] += row["total"]
            if row["min"] is not None:
                current["min"] = row["min"] if current["min"] is None else min(current["min"], row["min"])
                current["max"] = row["max"] if current["max"] is None else max(current["max"], row["max"])
        connection.execute(
            delete(rollups).where(rollups.c.grain == coarser, rollups.c.bucket == start, scope, measures)
        )
        if combined:
            connection.execute(insert(rollups), list(combined.values()))
        written += len(combined)
    return written
