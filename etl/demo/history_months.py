"""The demo's year before its detail, as rollups only: month rollups for the twelve months before the month the
simulated detail starts in (and back to the January of the year before, so a whole last year is there), and day
rollups for that month's days before the detail (so the month stays the sum of its days, as the ETL keeps it).
The numbers follow each village's own detail (its mean per day of each measure and dimension) with a seasonal
swing and noise, so the workspace's 同比 and the year's trend have something to show; no raw rows exist for
them, as in a deployment that keeps only recent detail.

Reference data (devices installed, people registered) has no history: it is counted once, when it is listed.
Running it again adds nothing: a measure with months before its detail already has its history.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from etl.datasets import datasets
from etl.rollups import LOCAL, _ancestors, _as_columns, _known_upper, _write, day_of, month_of
from etl.warehouse.db import as_utc, bump_version
from etl.warehouse.schema import rollups

MONTHS = 12
DAY = timedelta(days=1)


def _kinds() -> tuple[dict[str, bool], set[str], dict[str, str]]:
    """({measure name or template prefix: counted (no value column)}, measures of reference data, {measure name or
    template prefix: its dataset})."""
    counted, reference, dataset_of = {}, set(), {}
    for dataset in datasets().values():
        for measure in dataset.measures:
            name = measure.name.split("{")[0]
            counted[name] = measure.value is None
            dataset_of[name] = dataset.name
            if dataset.reference:
                reference.add(name)
    return counted, reference, dataset_of


def _detail_starts(connection) -> dict[str, datetime]:
    """The local day each dataset's raw rows begin on: its history ends the day before, for every one of its
    measures (a measure timed otherwise, cases rated, may have nothing on the first days of detail, and that
    nothing is the truth: `etl verify` recomputes every hour from the first raw row on)."""
    found = {}
    for dataset in datasets().values():
        first = connection.execute(select(func.min(dataset.table.c.event_time))).scalar() if dataset.measures else None
        if first is not None:
            found[dataset.name] = day_of(as_utc(first))
    return found


def _named(name: str, table: dict | set):
    """The entry of a measure name in a table keyed by names and template prefixes (reading.)."""
    if name in table:
        return table[name] if isinstance(table, dict) else name
    prefix = next((key for key in table if key.endswith(".") and name.startswith(key)), None)
    return (table[prefix] if isinstance(table, dict) else prefix) if prefix else None


def _months_before(month: datetime, count: int) -> list[datetime]:
    """The UTC starts of the ``count`` local months before the one starting at ``month``, oldest first."""
    found, current = [], month
    for _ in range(count):
        current = month_of(current - DAY)
        found.append(current)
    return list(reversed(found))


def _months_back(month: datetime, at_least: int) -> int:
    """How many months before ``month`` the history covers: at least ``at_least``, and back to the January of
    the year before, so that this year's 同比 has the whole of last year to compare with."""
    local = month.astimezone(LOCAL)
    return max(at_least, 12 + local.month - 1)


def _days_in(month: datetime) -> int:
    following = month_of(month + timedelta(days=32))
    return round((following - month) / DAY)


def add_history(engine: Engine, now: datetime | None = None, months: int = MONTHS, seed: int = 20) -> str:
    """Write the history; returns a line saying what was written (Chinese, for the demo's progress)."""
    now = now or datetime.now(UTC)
    today = day_of(now)
    counted, reference, dataset_of = _kinds()
    with engine.begin() as connection:
        detail_starts = _detail_starts(connection)
        village_rows = connection.execute(
            select(
                rollups.c.region_code,
                rollups.c.measure,
                rollups.c.dimension,
                rollups.c.count,
                rollups.c.total,
                rollups.c.min,
                rollups.c.max,
            ).where(
                rollups.c.grain == "day",
                rollups.c.bucket < today,
                func.substr(rollups.c.region_code, 10, 3) != "000",
            )
        ).all()
        starts: dict[str, datetime] = {}
        profiles: dict[tuple, list] = defaultdict(lambda: [0, 0.0, None, None])
        for region, measure, dimension, count, total, low, high in village_rows:
            if _named(measure, counted) is None or _named(measure, reference):
                continue
            start = detail_starts.get(_named(measure, dataset_of))
            if start is None:
                continue
            starts[measure] = start
            profile = profiles[(region, measure, dimension)]
            profile[0] += count
            profile[1] += total
            if low is not None:
                profile[2] = low if profile[2] is None else min(profile[2], low)
                profile[3] = high if profile[3] is None else max(profile[3], high)
        if not starts:
            return "历史月度汇总：没有可参照的明细，未生成"
        firsts = dict(
            connection.execute(
                select(rollups.c.measure, func.min(rollups.c.bucket))
                .where(rollups.c.grain == "month", rollups.c.measure.in_(list(starts)))
                .group_by(rollups.c.measure)
            ).all()
        )
        # A measure with months before its first day already has its history (this ran before).
        done = {measure for measure, first in firsts.items() if as_utc(first) < month_of(starts[measure])}
        profiles = {key: profile for key, profile in profiles.items() if key[1] not in done}
        if not profiles:
            return "历史月度汇总：已存在，未重复生成"
        upper = _known_upper(connection, {region[:6] for region, *_ in profiles})
        combined: dict[tuple, list] = {}
        rng = random.Random(seed)
        for (region, measure, dimension), (count, total, low, high) in sorted(profiles.items()):
            first = starts[measure]
            detail_days = max(1, round((today - first) / DAY))
            per_day, mean = count / detail_days, (total / count if count else 0.0)
            is_count = _named(measure, counted)
            month = month_of(first)
            buckets = [("day", month + DAY * n, 1.0) for n in range(round((first - month) / DAY))]
            for start in _months_before(month, _months_back(month, months)):
                local = start.astimezone(LOCAL)
                season = 1 + 0.15 * math.sin(2 * math.pi * local.month / 12)
                buckets.append(("month", start, _days_in(start) * season))
            for grain, start, days in buckets:
                # Rounded up or down at random by the fraction: a village's one case in ten days stays one in ten.
                expected = per_day * days * rng.uniform(0.75, 1.25)
                made = math.floor(expected) + (rng.random() < expected % 1)
                if made <= 0:
                    continue
                made_total = float(made) if is_count else made * mean * rng.uniform(0.9, 1.1)
                grains = [grain, "month"] if grain == "day" else [grain]
                for written in grains:
                    bucket = start if written == grain else month
                    for code in _ancestors(region, upper):
                        key = (written, bucket, code, measure, dimension)
                        entry = combined.setdefault(key, [0, 0.0, None, None])
                        entry[0] += made
                        entry[1] += made_total
                        if not is_count and low is not None:
                            entry[2] = low if entry[2] is None else min(entry[2], low)
                            entry[3] = high if entry[3] is None else max(entry[3], high)
        values = [(*key, *entry) for key, entry in sorted(combined.items())]
        _write(connection, _as_columns(values), add=True)
        bump_version(connection)
    first_month = min(start for grain, start, *_ in values if grain == "month").astimezone(LOCAL)
    return f"历史月度汇总：{len(values):,} 行（{first_month:%Y-%m} 起，及明细首月之前的日汇总），供同比与全年趋势"
