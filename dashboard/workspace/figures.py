"""The numbers of the workspace for a list of regions and measures over named spans: from the rollups, by each
measure's way of forming its number (count, sum, mean, stock, latest), exact where day rollups reach and by a
month's share before them (stats.py). Measures that read the same buckets are read together: an area's cards
cost a statement or two per span, not two per card."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection

from dashboard.workspace import reads
from dashboard.workspace.catalog import MeasureInfo
from dashboard.workspace.periods import Span, local_midnight, month_start, next_month
from dashboard.workspace.stats import Coverage, Stat, latest_in, span_stat, stock_at, value_of

Buckets = dict[tuple[str, str], dict[date, tuple[float, float]]]  # (region, measure) → {local date: pair}


@dataclass(frozen=True)
class Ask:
    """One measure asked for: its catalog entry, coverage and the dimension it is limited to (None: all)."""

    info: MeasureInfo
    coverage: Coverage
    dimension: str | None = None

    @property
    def reading(self) -> tuple:
        """What decides which buckets the measure's number is read from: asks alike are read together."""
        kind = self.info.aggregate if self.info.aggregate in ("stock", "latest") else "span"
        return (kind, self.coverage, self.dimension)


def _value(info: MeasureInfo, stat: Stat | None) -> tuple[float | None, bool]:
    value = value_of(info.aggregate, stat)
    return (None if value is None else value * info.scale), bool(stat and stat.estimated)


def _day_exact(ask: Ask, span: Span) -> bool:
    """Whether day rollups hold the whole span, so one summing query answers it."""
    first_day = ask.coverage.first_day
    return ask.info.aggregate in ("count", "sum", "mean") and first_day is not None and span.first >= first_day


def _grouped(asks: Iterable[Ask], key) -> dict:
    found: dict = {}
    for ask in asks:
        found.setdefault(key(ask), []).append(ask)
    return found


def span_values(
    connection: Connection, asks: list[Ask], region_codes: list[str], span: Span, strict: bool
) -> dict[tuple[str, str], tuple[float | None, bool]]:
    """{(region, measure): (value, estimated)} of each asked measure over a span, for each region."""
    found: dict[tuple[str, str], tuple[float | None, bool]] = {}
    exact = [ask for ask in asks if _day_exact(ask, span)]
    for dimension, group in _grouped(exact, lambda ask: ask.dimension).items():
        names = [ask.info.name for ask in group]
        sums = {
            (region, measure): Stat(float(count or 0), float(total or 0))
            for region, measure, count, total in reads.rows(
                connection, "day", "total", region_codes, names, span.start, span.end, dimension
            )
        }
        for ask in group:
            for region in region_codes:
                found[(region, ask.info.name)] = _value(ask.info, sums.get((region, ask.info.name), Stat()))
    rest = [ask for ask in asks if not _day_exact(ask, span)]
    for group in _grouped(rest, lambda ask: ask.reading).values():
        days, months = fetch(connection, group, region_codes, span.first, span.last)
        for ask in group:
            for region in region_codes:
                key = (region, ask.info.name)
                stat = stat_of(ask, days.get(key, {}), months.get(key, {}), span.first, span.last, strict)
                found[key] = _value(ask.info, stat)
    return found


def _series(
    connection, asks: list[Ask], region_codes, grain: str, first: date, last: date, split: bool = False
) -> Buckets:
    """{(region, measure): {local date: (count, total)}} of the asked measures' buckets of a grain between two
    local days (all asks share their dimension); with ``split``, {(region, dimension): …} of one measure."""
    found = reads.rows(
        connection,
        grain,
        "both" if split else "bucket",
        region_codes,
        [ask.info.name for ask in asks],
        local_midnight(first),
        local_midnight(last + timedelta(days=1)),
        asks[0].dimension,
    )
    if split:  # (region, measure, dimension, bucket, …) → the dimension in the measure's place
        found = ((region, dimension, bucket, count, total) for region, _, dimension, bucket, count, total in found)
    return reads.by_bucket(found)


def fetch(
    connection, asks: list[Ask], region_codes, first: date, last: date, split: bool = False
) -> tuple[Buckets, Buckets]:
    """(day buckets, month buckets) a span's numbers are formed from, for asks alike (Ask.reading), in at most
    two statements: the days from coverage on (to the end of the month they start in, whose month rollup holds
    the days before them) and the months before. ``split``: one measure's buckets by dimension."""
    ask = asks[0]
    series = functools.partial(_series, split=split)
    first_day, first_month = ask.coverage.first_day, ask.coverage.first_month
    aggregate = ask.info.aggregate
    if aggregate == "stock":
        months_first = first_month or month_start(last)
        months = series(connection, asks, region_codes, "month", months_first, month_start(last) - timedelta(days=1))
        days = series(connection, asks, region_codes, "day", min(month_start(first), month_start(last)), last)
        return days, months
    days_from = max(first, first_day) if first_day else None
    days_to = last
    if first_day is not None and first < first_day:
        days_to = max(last, next_month(first_day) - timedelta(days=1))
    days = series(connection, asks, region_codes, "day", days_from, days_to) if days_from else {}
    months = {}
    if aggregate != "latest" and first_month is not None and (first_day is None or first < first_day):
        months_to = (first_day if first_day else last + timedelta(days=1)) - timedelta(days=1)
        months = series(connection, asks, region_codes, "month", max(month_start(first), first_month), months_to)
    return days, months


def stat_of(ask: Ask, days, months, first: date, last: date, strict: bool) -> Stat | None:
    """A measure's rows over local days ``first`` … ``last`` from its buckets in memory."""
    if ask.info.aggregate == "stock":
        covered = [d for d in (ask.coverage.first_day, ask.coverage.first_month) if d is not None]
        # A stock read before its rollups start is unknown (as a span is), not an empty count.
        return stock_at(days, months, last) if covered and last >= min(covered) else None
    if ask.info.aggregate == "latest":
        return latest_in(days, first, last)
    return span_stat(days, months, ask.coverage, first, last, strict)


def values_over(
    connection: Connection, asks: list[Ask], region_codes: list[str], spans: dict[str, tuple[Span | None, bool]]
) -> dict[tuple[str, str], dict[str, tuple[float | None, bool] | None]]:
    """{(region, measure): {span name: (value, estimated) or None}} for named spans ((span, strict) each)."""
    found: dict[tuple[str, str], dict] = {(region, ask.info.name): {} for region in region_codes for ask in asks}
    for key, (span, strict) in spans.items():
        values = span_values(connection, asks, region_codes, span, strict) if span else {}
        for pair, entry in found.items():
            entry[key] = values.get(pair)
    return found


def points(ask: Ask, days, months, spans: Iterable[tuple[date, date]], strict: bool) -> list:
    """(value, estimated) at each of a trend's spans, from one region's buckets in memory."""
    return [_value(ask.info, stat_of(ask, days, months, first, last, strict)) for first, last in spans]
