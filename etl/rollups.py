"""Hour, day and month rollups × village, township, county, prefecture and province, kept current for exactly
the buckets a load touched.

New rows are added to their buckets (count, sum, min and max are additive), so a steady stream into one
hour costs the same on every batch. Changed rows (a case that was closed, a corrected reading) make their
buckets be recomputed: villages, townships and counties from the raw rows, days from hours, months from
days, prefectures and provinces by combining their counties' rollups (never from a province of raw rows).
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from operator import itemgetter

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, literal, or_, select

from etl.dataset import Dataset, Measure
from etl.load import Upserted, naive_or_utc, sqlite_insert
from etl.warehouse.schema import regions, rollups

ROLLUP_KEY = tuple(column.name for column in rollups.primary_key.columns)
# A rollup row's values, in the order the writer takes them.
COLUMNS = ("grain", "bucket", "region_code", "measure", "dimension", "count", "total", "min", "max")

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


def measures_of(dataset: Dataset):
    """A SQL condition selecting the rollup rows of a dataset's measures."""
    return or_(*(_measure_filter(m) for m in dataset.measures))


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
    is a function of a row, asked in Python; the rest is numpy: every measure's rows are gathered, then grouped
    at once (``_grouped``).
    """
    codes, code_labels = _sorted_codes([row["region_code"] for row in rows])
    hours_of = {column: _epoch_hours([row[column] for row in rows]) for column in {m.time for m in dataset.measures}}
    regions = code_labels[codes].tolist() if keep is not None else None
    gathered: dict[str, list] = defaultdict(list)
    for measure in dataset.measures:
        hours = hours_of[measure.time].to_numpy()
        picked = _picked(measure, rows, hours, keep, regions)
        if not len(picked):
            continue
        wanted = "{" in measure.name or measure.dimension or measure.value
        picked_rows = [rows[i] for i in picked.tolist()] if wanted else ()
        names = _names(measure.name, picked_rows)
        gathered["bucket"].append(hours[picked].astype(np.int64))
        gathered["code"].append(codes[picked])
        gathered["measure"].append(np.array([names] * len(picked) if isinstance(names, str) else names, dtype=object))
        dimensions = _dimensions(picked_rows, measure.dimension) if measure.dimension else [""] * len(picked)
        gathered["dimension"].append(np.array(dimensions, dtype=object))
        if measure.value:
            value = measure.value
            numbers = np.array([np.nan if row[value] is None else float(row[value]) for row in picked_rows])
            gathered["v"].append(numbers)
            gathered["extreme"].append(numbers)
        else:  # a count: each row is 1, and it has no extremes
            gathered["v"].append(np.ones(len(picked)))
            gathered["extreme"].append(np.full(len(picked), np.nan))
    if not gathered:
        return pd.DataFrame()
    column = {name: np.concatenate(parts) for name, parts in gathered.items()}
    keys = [
        _sorted_codes(column["bucket"]),
        (column["code"], code_labels),
        _sorted_codes(column["measure"]),
        _sorted_codes(column["dimension"]),
    ]
    frame = pd.DataFrame({"v": column["v"], "low": column["extreme"], "high": column["extreme"]})
    # "count" counts the values that are there: a reading without a value is not counted.
    grouped, found = _grouped(
        keys, frame, count=("v", "count"), total=("v", "sum"), min=("low", "min"), max=("high", "max")
    )
    names = ("bucket", "code", "measure", "dimension")
    labelled = {name: labels[codes] for name, (codes, labels) in zip(names, found, strict=True)}
    labelled["bucket"] = labelled["bucket"].astype(np.int64)
    return pd.DataFrame(
        {**labelled, **{name: grouped[name].to_numpy() for name in ("count", "total", "min", "max")}}
    ).astype({"count": np.int64, "total": float, "min": float, "max": float})


def _picked(measure: Measure, rows: Sequence[dict], hours: np.ndarray, keep, regions) -> np.ndarray:
    """The positions of the rows a measure counts: those with its time (epoch ``hours``, NaN for none), meeting
    its condition, and kept by ``keep(hour, county)`` if given (``regions``: the rows' region codes)."""
    chosen = ~np.isnan(hours)
    if measure.where is not None:  # asked only of rows that have the measure's time, as a condition expects
        timed = np.flatnonzero(chosen)
        where = measure.where
        chosen[timed] = np.fromiter((bool(where(rows[i])) for i in timed.tolist()), dtype=bool, count=len(timed))
    if keep is not None:
        hour_list = np.nan_to_num(hours, nan=-1).tolist()
        chosen &= np.fromiter(
            (c and keep(int(h), k[:6]) for h, k, c in zip(hour_list, regions, chosen.tolist(), strict=True)),
            dtype=bool,
            count=len(rows),
        )
    return np.flatnonzero(chosen)


def _grouped(keys: list[tuple[np.ndarray, np.ndarray]], frame: pd.DataFrame, **how) -> tuple[pd.DataFrame, list]:
    """``frame`` grouped by several keys, each given as codes numbered in its labels' sorted order, and
    aggregated as ``how`` says (pandas' named aggregation); with each key's codes per group. The codes are packed
    into one integer, each in its own base, so grouping by all keys and ordering by them is one integer sort
    (far cheaper than grouping by four object columns)."""
    if math.prod(len(labels) for _codes, labels in keys) >= 2**63:  # a batch's distinct values: never near
        raise ValueError("汇总键的组合超出 64 位整数 [rollup keys overflow]")
    packed = np.zeros(len(frame), dtype=np.int64)
    for codes, labels in keys:
        packed = packed * len(labels) + codes
    grouped = frame.groupby(packed, sort=True).agg(**how)
    packed = grouped.index.to_numpy(dtype=np.int64)
    found = []
    for _codes, labels in reversed(keys):
        found.append((packed % len(labels), labels))
        packed = packed // len(labels)
    return grouped, found[::-1]


def _dimensions(rows: Sequence[dict], column: str) -> list[str]:
    """The dimension of each row as text ('' for none)."""
    values = list(map(itemgetter(column), rows))
    return values if set(map(type, values)) <= {str} else [_text(value) for value in values]


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
    return list(zip(*_rolled_grains(stats, (grain,), upper)[grain].values(), strict=True))


def _sorted_codes(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of values numbered in the values' sorted order (codes sort as the values do), and the
    distinct values."""
    codes, labels = pd.factorize(
        values if isinstance(values, np.ndarray) else np.array(values, dtype=object), sort=True
    )
    return codes.astype(np.int64), np.asarray(labels)


def _rolled_grains(stats: pd.DataFrame, grains: Iterable[str], upper: set[str]) -> dict[str, dict[str, list]]:
    """``_rolled`` for several grains at once, column by column (COLUMNS), as the writer takes them: the regions
    above each row are found once, and each coarser grain combines the finer one's (far fewer) rows instead of
    the statistics again."""
    wanted = set(grains)
    if len(stats) < SMALL:
        return {grain: _as_columns(_rolled_small(stats, grain, upper)) for grain in wanted}
    own, own_labels = _sorted_codes(stats["code"].to_numpy(dtype=object))
    regions, region_labels = _lineages(own, own_labels, upper)
    depth = len(regions) // len(stats)
    present = regions >= 0
    picked = np.repeat(np.arange(len(stats)), depth)[present]
    measures, measure_labels = _sorted_codes(stats["measure"].to_numpy(dtype=object))
    dimensions, dimension_labels = _sorted_codes(stats["dimension"].to_numpy(dtype=object))
    keys = [
        (stats["bucket"].to_numpy(dtype=np.int64)[picked], None),
        (regions[present], region_labels),
        (measures[picked], measure_labels),
        (dimensions[picked], dimension_labels),
    ]
    frame = pd.DataFrame({name: stats[column].to_numpy(dtype=float)[picked] for name, column in SUMMED.items()})
    found = {}
    for grain in GRAINS[: max(GRAINS.index(g) for g in wanted) + 1]:
        keys[0] = _sorted_codes(_bucket_hours(pd.Series(keys[0][0]), grain).to_numpy(dtype=np.int64))
        frame, keys = _grouped(keys, frame, **{name: (name, how) for name, how in COMBINED.items()})
        keys[0] = (keys[0][1][keys[0][0]].astype(np.int64), None)  # the buckets themselves, for the next grain
        if grain in wanted:
            found[grain] = _columns_of(grain, keys, frame)
    return found


# The statistics' columns as the combined frame names them, and how each combines.
SUMMED = {"count": "count", "total": "total", "low": "min", "high": "max"}
COMBINED = {"count": "sum", "total": "sum", "low": "min", "high": "max"}


def _lineages(own: np.ndarray, own_labels: np.ndarray, upper: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's region and the regions above it (``_ancestors``), as codes of the sorted regions laid out
    ``depth`` per row (the longest lineage; -1 pads the shorter ones), and the regions."""
    lineages = [_ancestors(code, upper) for code in own_labels.tolist()]
    region_labels = np.array(sorted({region for lineage in lineages for region in lineage}), dtype=object)
    number = {region: n for n, region in enumerate(region_labels.tolist())}
    table = np.full((len(lineages), max(map(len, lineages))), -1, dtype=np.int64)
    for row, lineage in enumerate(lineages):
        table[row, : len(lineage)] = [number[region] for region in lineage]
    return table[own].ravel(), region_labels


def _columns_of(grain: str, keys: list, frame: pd.DataFrame) -> dict[str, list]:
    """The rollup rows of one grain, column by column (COLUMNS), from its grouped keys and values."""
    (buckets, _), *labelled = keys
    regions, measures, dimensions = (labels[codes].tolist() for codes, labels in labelled)
    starts = {hour: from_epoch_hour(hour) for hour in np.unique(buckets).tolist()}
    lows, highs = (frame[name].to_numpy(dtype=float) for name in ("low", "high"))
    return dict(
        zip(
            COLUMNS,
            (
                [grain] * len(buckets),
                [starts[hour] for hour in buckets.tolist()],
                regions,
                measures,
                dimensions,
                frame["count"].to_numpy().astype(np.int64).tolist(),
                frame["total"].to_numpy(dtype=float).tolist(),
                np.where(np.isnan(lows), None, lows).tolist(),
                np.where(np.isnan(highs), None, highs).tolist(),
            ),
            strict=True,
        )
    )


def _as_columns(rows: list[tuple]) -> dict[str, list]:
    """Rollup rows (tuples in COLUMNS order) column by column."""
    return {name: [row[n] for row in rows] for n, name in enumerate(COLUMNS)}


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
    columns = {name: [value for grain in sorted(GRAINS) for value in rolled[grain][name]] for name in COLUMNS}
    _write(connection, columns, add=True)
    return len(columns["grain"])


# Adding to a bucket that exists: counts and totals add up, extremes widen.
ADD = (
    "ON CONFLICT (grain, bucket, region_code, measure, dimension) DO UPDATE SET "
    "count = rollups.count + excluded.count, total = rollups.total + excluded.total, "
    "min = CASE WHEN rollups.min IS NULL OR excluded.min < rollups.min THEN excluded.min ELSE rollups.min END, "
    "max = CASE WHEN rollups.max IS NULL OR excluded.max > rollups.max THEN excluded.max ELSE rollups.max END"
)


def _write(connection: Connection, columns: dict[str, list], add: bool) -> None:
    """Insert rollup rows (given column by column, COLUMNS) through the driver, adding to existing buckets if
    ``add``: SQLAlchemy's per-row parameter handling cost more than the database's work for a big file's rollups."""
    if not columns["grain"]:
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
            starts = {bucket: convert(bucket) for bucket in set(columns["bucket"])}
            stored = {**columns, "bucket": [starts[bucket] for bucket in columns["bucket"]]}
            conflict = ADD.replace("count", quote("count")) if add else ""
            sqlite_insert(cursor, quote, "rollups", stored, conflict)
        else:
            cursor.executemany(statement, list(zip(*(columns[name] for name in COLUMNS), strict=True)))
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
    measures = measures_of(dataset)
    time_columns = {m.time for m in dataset.measures}
    written = 0
    for county, hours in by_county.items():
        scope = rollups.c.region_code.startswith(county)
        windows = [and_(table.c[c] >= start, table.c[c] < end) for start, end in _runs(hours) for c in time_columns]
        query = select(table).where(table.c.region_code.startswith(county), or_(*windows))
        wanted = {epoch_hour(hour) for hour in hours}
        raw = connection.execute(query).mappings().all()
        stats = _hourly(dataset, raw, lambda hour, _county, wanted=wanted: hour in wanted)
        hourly = _rolled_grains(stats, ("hour",), set())["hour"] if not stats.empty else _as_columns([])
        connection.execute(
            delete(rollups).where(rollups.c.grain == "hour", rollups.c.bucket.in_(sorted(hours)), scope, measures)
        )
        _write(connection, hourly, add=False)
        days = {day_of(h) for h in hours}
        written += len(hourly["grain"]) + _combine_buckets(connection, "hour", "day", days, scope, measures)
        written += _combine_buckets(connection, "day", "month", {month_of(d) for d in days}, scope, measures)
    for upper, hours in _upper_levels(connection, by_county).items():
        days = {day_of(h) for h in hours}
        written += _combine_counties(connection, upper, "hour", sorted(hours), measures)
        written += _combine_counties(connection, upper, "day", sorted(days), measures)
        written += _combine_counties(connection, upper, "month", sorted({month_of(d) for d in days}), measures)
    return written


def months_from_days(connection: Connection, dataset: Dataset, months: set[datetime], counties: set[str]) -> None:
    """Recompute these months of a dataset's measures from their days, in the counties (by code prefix) and the
    prefectures and provinces above them."""
    measures = measures_of(dataset)
    for county in sorted(counties):
        _combine_buckets(connection, "day", "month", months, rollups.c.region_code.startswith(county), measures)
    for upper in _upper_levels(connection, {county: set() for county in counties}):
        _combine_counties(connection, upper, "month", sorted(months), measures)


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
