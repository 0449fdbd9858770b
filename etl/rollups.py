"""Hour, day and month rollups × village, township, county, prefecture and province, kept current for exactly
the buckets a load touched.

New rows are added to their buckets (count, sum, min and max are additive), so a steady stream into one
hour costs the same on every batch. Changed rows (a case that was closed, a corrected reading) make their
buckets be recomputed: villages, townships and counties from the raw rows, days from hours, months from
days, prefectures and provinces by combining their counties' rollups (never from a province of raw rows).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, literal, or_, select

from etl.dataset import Dataset, Measure
from etl.load import Upserted, naive_or_utc, sqlite_insert
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


def epoch_hour(moment: datetime) -> int:
    """Hours since 1970-01-01 00:00 UTC of a time (a naive one is UTC, as SQLite hands them back)."""
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()) // 3600


def from_epoch_hour(hour: int) -> datetime:
    """The UTC time that starts an epoch hour."""
    return datetime.fromtimestamp(hour * 3600, UTC)


def _hourly(dataset: Dataset, rows: Sequence[dict], keep=None) -> pd.DataFrame:
    """Epoch hour × own region × measure × dimension statistics (count, total, min, max) of ``rows``.

    ``keep(hour, county)`` says whether a row in that epoch hour and county is counted. A measure's condition
    is a function of a row, asked in Python; the epoch hours and the statistics are computed by pandas.
    """
    parts = []
    codes = pd.Series([row["region_code"] for row in rows], dtype=object)
    hours_of = {column: _epoch_hours([row[column] for row in rows]) for column in {m.time for m in dataset.measures}}
    for measure in dataset.measures:
        hours = hours_of[measure.time]
        chosen = hours.notna()
        if measure.where is not None:  # asked only of rows that have the measure's time, as a condition expects
            where, timed = measure.where, chosen.tolist()
            chosen &= np.fromiter(
                (has and bool(where(row)) for row, has in zip(rows, timed, strict=True)), dtype=bool, count=len(rows)
            )
        if keep is not None:
            counties = codes.str.slice(0, 6)
            chosen &= np.fromiter(
                (c and keep(int(h), k) for h, k, c in zip(hours.fillna(-1).tolist(), counties, chosen, strict=True)),
                dtype=bool,
                count=len(rows),
            )
        if not chosen.any():
            continue
        picked = np.flatnonzero(chosen.to_numpy())
        picked_rows = [rows[i] for i in picked] if "{" in measure.name or measure.dimension or measure.value else ()
        nan = float("nan")
        column = {
            "bucket": hours.to_numpy()[picked].astype("int64"),
            "code": codes.to_numpy()[picked],
            "measure": _names(measure.name, picked_rows),
            "dimension": [_text(row[measure.dimension]) for row in picked_rows] if measure.dimension else "",
            "v": [nan if row[measure.value] is None else float(row[measure.value]) for row in picked_rows]
            if measure.value
            else 1.0,
        }
        stats = pd.DataFrame(column).groupby(["bucket", "code", "measure", "dimension"], sort=False)["v"]
        stats = stats.agg(["count", "sum", "min", "max"]).rename(columns={"sum": "total"}).reset_index()
        if not measure.value:
            stats["min"] = stats["max"] = nan
        parts.append(stats)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _epoch_hours(moments: list) -> pd.Series:
    """The epoch hour of each time (float, NaN where there is none), as ``epoch_hour`` gives it: in one pandas
    call when they are all UTC or naive (a naive time is UTC, as SQLite hands them back), else one by one."""
    if naive_or_utc(moments):
        with contextlib.suppress(TypeError, ValueError):  # naive and UTC moments together: one by one
            seconds = pd.DatetimeIndex(moments).as_unit("s")
            return pd.Series(np.where(seconds.isna(), np.nan, seconds.asi8 // 3600), dtype=float)
    return pd.Series([np.nan if moment is None else epoch_hour(moment) for moment in moments], dtype=float)


def _text(value) -> str:
    return "" if value is None else str(value)


def _names(template: str, rows: Sequence[dict]):
    """The measure name of each row: a plain name, or a template with one column, like reading.{metric}."""
    if "{" not in template:
        return template
    prefix, rest = template.split("{", 1)
    column, suffix = rest.split("}", 1)
    return [f"{prefix}{row[column]}{suffix}" for row in rows]


def _local_day(hours: pd.Series) -> pd.Series:
    """The local (UTC+8) day number of epoch hours."""
    return (hours + 8) // 24


def _bucket_hours(hours: pd.Series, grain: str) -> pd.Series:
    """Epoch hours moved to the start of their hour, local day or local month."""
    if grain == "hour":
        return hours
    days = _local_day(hours)
    if grain == "day":
        return days * 24 - 8
    starts = {day: _month_start_day(day) * 24 - 8 for day in days.unique()}
    return days.map(starts)


def _month_start_day(day: int) -> int:
    """The local day number of the first day of the month holding a local day number."""
    date = datetime.fromtimestamp(int(day) * 86400, UTC)
    return int(day) - (date.day - 1)


def _ancestors(code: str, upper: set[str]) -> list[str]:
    """The region and the regions above it that have rollups: township, county, and known prefecture/province."""
    codes = [code]
    if code[9:] != "000":
        codes.append(code[:9] + "000")
    if code[6:] != "000000":
        codes.append(code[:6] + "000000")
    codes += [c for c in (code[:4] + "0" * 8, code[:2] + "0" * 10) if c in upper and c not in codes]
    return codes


# Below this many statistics rows a plain Python loop beats pandas' group-by (an MQTT batch: 13 against 34 ms).
SMALL = 2000


def _rolled(stats: pd.DataFrame, grain: str, upper: set[str]) -> list[tuple]:
    """Rollup rows (ROLLUP_KEY, then count, total, min, max) of one grain at every level, in key order, from
    own-region hourly statistics: each row counted in its region and every region above it that has rollups."""
    return _rolled_grains(stats, (grain,), upper)[grain]


GROUP = ["bucket", "region", "measure", "dimension"]
COMBINED = {"count": "sum", "total": "sum", "low": "min", "high": "max"}


def _rolled_grains(stats: pd.DataFrame, grains: Iterable[str], upper: set[str]) -> dict[str, list[tuple]]:
    """``_rolled`` for several grains at once: the regions above each row are found once, and each coarser grain
    combines the finer one's (far fewer) rows instead of the statistics again."""
    wanted = set(grains)
    if len(stats) < SMALL:
        return {grain: _rolled_small(stats, grain, upper) for grain in wanted}
    ancestors = {code: _ancestors(code, upper) for code in stats["code"].unique()}
    frame = stats.rename(columns={"min": "low", "max": "high"})
    frame = frame.assign(region=frame["code"].map(ancestors)).explode("region")
    found, combined = {}, frame
    for grain in GRAINS[: max(GRAINS.index(g) for g in wanted) + 1]:
        combined = combined.assign(bucket=_bucket_hours(combined["bucket"], grain))
        # sorted by the group keys: the rows come out in key order
        combined = combined.groupby(GROUP)[list(COMBINED)].agg(COMBINED).reset_index()
        if grain in wanted:
            found[grain] = _tuples(combined, grain)
    return found


def _tuples(combined: pd.DataFrame, grain: str) -> list[tuple]:
    """The rollup rows of a combined frame of one grain."""
    starts = {hour: from_epoch_hour(hour) for hour in combined["bucket"].unique().tolist()}
    lows = combined["low"].astype(object).where(combined["low"].notna(), None).tolist()
    highs = combined["high"].astype(object).where(combined["high"].notna(), None).tolist()
    return list(
        zip(
            [grain] * len(combined),
            [starts[hour] for hour in combined["bucket"].tolist()],
            combined["region"].tolist(),
            combined["measure"].tolist(),
            combined["dimension"].tolist(),
            combined["count"].astype(int).tolist(),
            combined["total"].astype(float).tolist(),
            lows,
            highs,
            strict=True,
        )
    )


def _rolled_small(stats: pd.DataFrame, grain: str, upper: set[str]) -> list[tuple]:
    """What _rolled gives, by a loop over the rows (a few hundred statistics of a live batch)."""
    buckets = _bucket_hours(stats["bucket"], grain).tolist()
    lows = stats["min"].astype(object).where(stats["min"].notna(), None).tolist()
    highs = stats["max"].astype(object).where(stats["max"].notna(), None).tolist()
    columns = (buckets, stats["code"].tolist(), stats["measure"].tolist(), stats["dimension"].tolist())
    combined: dict[tuple, list] = {}
    ancestors: dict[str, list[str]] = {}
    for bucket, code, name, dimension, count, total, low, high in zip(
        *columns, stats["count"].tolist(), stats["total"].tolist(), lows, highs, strict=True
    ):
        regions = ancestors.get(code) or ancestors.setdefault(code, _ancestors(code, upper))
        for region in regions:
            current = combined.get((bucket, region, name, dimension))
            if current is None:
                combined[(bucket, region, name, dimension)] = [int(count), float(total), low, high]
                continue
            current[0] += int(count)
            current[1] += float(total)
            if low is not None:
                current[2] = low if current[2] is None else min(current[2], low)
                current[3] = high if current[3] is None else max(current[3], high)
    starts = {bucket: from_epoch_hour(bucket) for bucket in set(buckets)}
    return [
        (grain, starts[bucket], region, name, dimension, count, total, low, high)
        for (bucket, region, name, dimension), (count, total, low, high) in sorted(combined.items())
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
    skipped = {(epoch_hour(hour), county) for hour, county in skip}
    keep = (lambda hour, county: (hour, county) not in skipped) if skipped else None
    stats = _hourly(dataset, rows, keep)
    if stats.empty:
        return 0
    upper = _known_upper(connection, set(stats["code"].str.slice(0, 6)))
    # In key order (grains in name order, each sorted), so that loads adding to the same buckets at once (MQTT
    # workers) lock them in one order and wait for each other instead of deadlocking.
    rolled = _rolled_grains(stats, GRAINS, upper)
    values = [row for grain in sorted(GRAINS) for row in rolled[grain]]
    _write(connection, values, add=True)
    return len(values)


COLUMNS = ("grain", "bucket", "region_code", "measure", "dimension", "count", "total", "min", "max")
# Adding to a bucket that exists: counts and totals add up, extremes widen.
ADD = (
    "ON CONFLICT (grain, bucket, region_code, measure, dimension) DO UPDATE SET "
    "count = rollups.count + excluded.count, total = rollups.total + excluded.total, "
    "min = CASE WHEN rollups.min IS NULL OR excluded.min < rollups.min THEN excluded.min ELSE rollups.min END, "
    "max = CASE WHEN rollups.max IS NULL OR excluded.max > rollups.max THEN excluded.max ELSE rollups.max END"
)


def _write(connection: Connection, values: list[tuple], add: bool) -> None:
    """Insert rollup rows (tuples in COLUMNS order) through the driver, adding to existing buckets if ``add``:
    SQLAlchemy's per-row parameter handling cost more than the database's work for a big file's rollups."""
    if not values:
        return
    dialect = connection.dialect
    marker = "?" if dialect.name == "sqlite" else "%s"
    quote = dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO rollups ({', '.join(quote(c) for c in COLUMNS)}) VALUES ({', '.join([marker] * len(COLUMNS))})"
    )
    if add:
        statement += " " + ADD.replace("count", quote("count"))
    cursor = connection.connection.driver_connection.cursor()
    try:
        if dialect.name == "sqlite":
            # Many rows per statement, as the loader inserts facts: a big file's 200,000 hourly buckets cost
            # 3.9 s one statement each.
            convert = rollups.c.bucket.type.dialect_impl(dialect).bind_processor(dialect)
            starts = {bucket: convert(bucket) for bucket in {value[1] for value in values}}
            columns = dict(zip(COLUMNS, map(list, zip(*values, strict=True)), strict=True))
            columns["bucket"] = [starts[bucket] for bucket in columns["bucket"]]
            conflict = ADD.replace("count", quote("count")) if add else ""
            sqlite_insert(cursor, quote, "rollups", columns, conflict)
        else:
            cursor.executemany(statement, values)
    finally:
        cursor.close()


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
        wanted = {epoch_hour(hour) for hour in hours}
        raw = connection.execute(query).mappings().all()
        stats = _hourly(dataset, raw, lambda hour, _county, wanted=wanted: hour in wanted)
        hourly = _rolled(stats, "hour", set()) if not stats.empty else []
        connection.execute(
            delete(rollups).where(rollups.c.grain == "hour", rollups.c.bucket.in_(sorted(hours)), scope, measures)
        )
        _write(connection, hourly, add=False)
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
