"""The numbers of the workspace for a list of regions and measures over named spans: from the rollups, by each
measure's way of forming its number (count, sum, mean, stock, latest), exact where day rollups reach and by a
month's share before them (stats.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection

from dashboard.workspace import reads
from dashboard.workspace.catalog import MeasureInfo
from dashboard.workspace.periods import Span, local_midnight, month_start, next_month
from dashboard.workspace.stats import Coverage, Stat, latest_in, span_stat, stock_at, value_of


@dataclass(frozen=True)
class Ask:
    """One measure asked for: its catalog entry, coverage and the dimension it is limited to (None: all)."""

    info: MeasureInfo
    coverage: Coverage
    dimension: str | None = None


def _value(info: MeasureInfo, stat: Stat | None) -> tuple[float | None, bool]:
    value = value_of(info.aggregate, stat)
    return (None if value is None else value * info.scale), bool(stat and stat.estimated)


def _day_exact(ask: Ask, span: Span) -> bool:
    """Whether day rollups hold the whole span, so one summing query answers it."""
    first_day = ask.coverage.first_day
    return ask.info.aggregate in ("count", "sum", "mean") and first_day is not None and span.first >= first_day


def span_values(
    connection: Connection, asks: list[Ask], region_codes: list[str], span: Span, strict: bool
) -> dict[tuple[str, str], tuple[float | None, bool]]:
    """{(region, measure): (value, estimated)} of each asked measure over a span, for each region."""
    found: dict[tuple[str, str], tuple[float | None, bool]] = {}
    # Measures the day rollups answer alone go in one statement per dimension asked (most of an area's cards).
    exact: dict[str | None, list[Ask]] = {}
    for ask in asks:
        if _day_exact(ask, span):
            exact.setdefault(ask.dimension, []).append(ask)
    for dimension, group in exact.items():
        infos = {ask.info.name: ask.info for ask in group}
        sums = {
            (region, measure): Stat(float(count or 0), float(total or 0))
            for region, measure, count, total in reads.rows(
                connection, "day", "total", region_codes, list(infos), span.start, span.end, dimension
            )
        }
        for name, info in infos.items():
            for region in region_codes:
                found[(region, name)] = _value(info, sums.get((region, name), Stat()))
    for ask in asks:
        if not _day_exact(ask, span):
            for region, stat in _spread(connection, ask, region_codes, span, strict).items():
                found[(region, ask.info.name)] = _value(ask.info, stat)
    return found


def _series(connection, ask: Ask, region_codes, grain: str, first: date, last: date):
    """{region: {local date: (count, total)}} of one measure's buckets of a grain between two local days."""
    found = reads.rows(
        connection,
        grain,
        "bucket",
        region_codes,
        [ask.info.name],
        local_midnight(first),
        local_midnight(last + timedelta(days=1)),
        ask.dimension,
    )
    series = reads.by_bucket(found)
    return {region: series.get((region, ask.info.name), {}) for region in region_codes}


def fetch(connection, ask: Ask, region_codes, first: date, last: date):
    """({region: day buckets}, {region: month buckets}) a span's number is formed from, read in at most two
    statements: the days from coverage on (to the end of the month they start in, whose month rollup holds the
    days before them) and the months before."""
    first_day, first_month = ask.coverage.first_day, ask.coverage.first_month
    aggregate = ask.info.aggregate
    if aggregate == "stock":
        months_first = first_month or month_start(last)
        months = _series(connection, ask, region_codes, "month", months_first, month_start(last) - timedelta(days=1))
        days = _series(connection, ask, region_codes, "day", min(month_start(first), month_start(last)), last)
        return days, months
    days_from = max(first, first_day) if first_day else None
    days_to = last
    if first_day is not None and first < first_day:
        days_to = max(last, next_month(first_day) - timedelta(days=1))
    days = _series(connection, ask, region_codes, "day", days_from, days_to) if days_from else {}
    months = {}
    if aggregate != "latest" and first_month is not None and (first_day is None or first < first_day):
        months_to = (first_day if first_day else last + timedelta(days=1)) - timedelta(days=1)
        months = _series(connection, ask, region_codes, "month", max(month_start(first), first_month), months_to)
    return days, months


def _spread(connection, ask: Ask, region_codes, span: Span, strict: bool) -> dict[str, Stat | None]:
    days, months = fetch(connection, ask, region_codes, span.first, span.last)
    return {
        region: stat_of(ask, days.get(region, {}), months.get(region, {}), span.first, span.last, strict)
        for region in region_codes
    }


def stat_of(ask: Ask, days, months, first: date, last: date, strict: bool) -> Stat | None:
    """A measure's rows over local days ``first`` … ``last`` from its buckets in memory."""
    if ask.info.aggregate == "stock":
        return stock_at(days, months, last)
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
    found = []
    for first, last in spans:
        stat = stat_of(ask, days, months, first, last, strict)
        found.append(_value(ask.info, stat))
    return found
