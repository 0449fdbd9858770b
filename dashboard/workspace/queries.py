"""The workspace's queries, cached by warehouse version and viewer scope (dashboard/cache.py): the measures a
region has, KPI cards with 环比 and 同比, the trend, the children compared, the breakdown by dimension. Region
arguments are named ``scope`` (the region looked at) or ``parent`` (whose children are compared), so a region
outside the viewer's scope is refused before anything is read. Answers are plain JSON-able values."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, func, select

from dashboard.cache import scope_checked, versioned
from dashboard.workspace import reads
from dashboard.workspace.catalog import measure_info
from dashboard.workspace.figures import Ask, fetch, points, span_values, stat_of, values_over
from dashboard.workspace.masking import masker
from dashboard.workspace.periods import Span, buckets, year_before
from dashboard.workspace.records import COUNT_CAP, PAGE_SIZE, converter, records_of, shown
from dashboard.workspace.stats import Coverage, Stat, value_of
from etl.warehouse.labels import value_label
from etl.warehouse.schema import metadata, regions
from geo.codes import scope_range


def _span(pair) -> Span | None:
    return Span(date.fromisoformat(pair[0]), date.fromisoformat(pair[1])) if pair else None


@versioned
def measures_in(engine: Engine, scope: str) -> list[str]:
    """The measures a region has month rollups of (every measure of the datasets that reached it)."""
    with reads.reading(engine) as connection:
        return sorted(connection.execute(reads.MEASURES_OF, {"scope": scope}).scalars())


@versioned
def coverage(engine: Engine, measure: str) -> list[str | None]:
    """[first day, first month] (ISO) the warehouse holds day and month rollups of a measure from."""
    with reads.reading(engine) as connection:
        found = reads.coverage_of(connection, measure)
    return [day.isoformat() if day else None for day in (found.first_day, found.first_month)]


def _ask(engine: Engine, name: str, dimension: str | None) -> Ask:
    first_day, first_month = (date.fromisoformat(day) if day else None for day in coverage(engine, name))
    return Ask(measure_info(name), Coverage(first_day, first_month), dimension)


def _spans(spans: dict) -> dict[str, tuple[Span | None, bool]]:
    """The named spans of a period as figures.values_over takes them: the current one as far as rollups go,
    the comparisons only when rollups hold them whole."""
    return {
        "current": (_span(spans["current"]), False),
        "previous": (_span(spans.get("previous")), True),
        "last_year": (_span(spans["last_year"]), True),
    }


def _entry(values: dict) -> dict:
    return {
        key: (None if found is None or found[0] is None else {"value": found[0], "estimated": found[1]})
        for key, found in values.items()
    }


@versioned
def kpis(engine: Engine, scope: str, measures: list[str], spans: dict, dimensions: dict) -> list[dict]:
    """[{measure, current, previous, last_year}] for each measure (each {value, estimated} or None), limited to
    ``dimensions[measure]`` where given."""
    asks = [_ask(engine, name, dimensions.get(name)) for name in measures]
    with reads.reading(engine) as connection:
        found = values_over(connection, asks, [scope], _spans(spans))
    return [{"measure": name} | _entry(found[(scope, name)]) for name in measures]


@versioned
def children_of(engine: Engine, parent: str) -> list[dict]:
    """[{code, name, level}] of a region's children."""
    with reads.reading(engine) as connection:
        return [
            {"code": code, "name": name, "level": level}
            for code, name, level in connection.execute(reads.CHILDREN, {"parent": parent})
        ]


@versioned
def compare(engine: Engine, parent: str, measure: str, spans: dict, dimension: str | None) -> list[dict]:
    """[{code, name, current, previous, last_year}] of each child of a region: the children compared."""
    kids = children_of(engine, parent)
    if not kids:
        return []
    ask = _ask(engine, measure, dimension)
    codes = [kid["code"] for kid in kids]
    with reads.reading(engine) as connection:
        found = values_over(connection, [ask], codes, _spans(spans))
    return [kid | _entry(found[(kid["code"], measure)]) for kid in kids]


@versioned
def trend(engine: Engine, scope: str, measure: str, span: list[str], grain: str, dimension: str | None) -> list[dict]:
    """[{first, last, value, estimated, last_year}] for each day, week or month of a span, with the same days a
    year earlier (None where rollups do not hold them)."""
    ask = _ask(engine, measure, dimension)
    current = _span(span)
    spans = buckets(current, grain)
    with reads.reading(engine) as connection:
        days, months = fetch(connection, [ask], [scope], current.first, current.last)
        before = Span(year_before(current.first), year_before(current.last))
        old_days, old_months = fetch(connection, [ask], [scope], before.first, before.last)
    key = (scope, measure)
    now = points(ask, days.get(key, {}), months.get(key, {}), spans, strict=True)
    shifted = [(year_before(first), year_before(last)) for first, last in spans]
    then = points(ask, old_days.get(key, {}), old_months.get(key, {}), shifted, strict=True)
    return [
        {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "value": value,
            "estimated": estimated,
            "last_year": old,
        }
        for (first, last), (value, estimated), (old, _) in zip(spans, now, then, strict=True)
    ]


@versioned
def breakdown(engine: Engine, scope: str, measure: str, span: list[str]) -> list[dict]:
    """[{dimension, label, value, estimated}] of a measure over a span split by its dimension, largest first."""
    info = measure_info(measure)
    ask = _ask(engine, measure, None)
    current = _span(span)
    with reads.reading(engine) as connection:
        if (
            ask.info.aggregate in ("count", "sum", "mean")
            and ask.coverage.first_day
            and current.first >= (ask.coverage.first_day)
        ):
            found = reads.rows(connection, "day", "dimension", [scope], [measure], current.start, current.end)
            stats = {dimension: (float(count or 0), float(total or 0)) for _, _, dimension, count, total in found}
            values = {dimension: (value_of(info.aggregate, Stat(*pair)), False) for dimension, pair in stats.items()}
        else:
            values = _spread_by_dimension(connection, ask, scope, current)
    entries = [
        {
            "dimension": dimension,
            "label": value_label(info.table, info.dimension, dimension) if info.dimension else "全部",
            "value": None if value is None else value * info.scale,
            "estimated": estimated,
        }
        for dimension, (value, estimated) in values.items()
    ]
    return sorted(entries, key=lambda entry: (-(entry["value"] or 0), entry["dimension"]))


def _spread_by_dimension(connection, ask: Ask, scope: str, span: Span) -> dict:
    """{dimension: (value, estimated)} when the span needs month rollups, a stock or the latest day: the
    measure's buckets split by dimension, read in at most two statements."""
    days, months = fetch(connection, [ask], [scope], span.first, span.last, split=True)
    found = {}
    for _, dimension in sorted(set(days) | set(months)):
        key = (scope, dimension)
        stat = stat_of(ask, days.get(key, {}), months.get(key, {}), span.first, span.last, strict=False)
        value = value_of(ask.info.aggregate, stat)
        if value is not None:
            found[dimension] = (value, bool(stat and stat.estimated))
    return found


@versioned
def part_units(engine: Engine, scope: str, measure: str) -> dict[str, str]:
    """{part: unit} of a measure whose parts carry their own unit (farm.output: 苹果 公斤, 生猪 头), within a region;
    a part written in several units is shown with the one most of its rows use."""
    info = measure_info(measure)
    if not info.part_unit or not info.dimension:
        return {}
    table = metadata.tables[info.table]
    part, unit = table.c[info.dimension], table.c[info.part_unit]
    query = (
        select(part, unit, func.count())
        .where(table.c.region_code.between(*scope_range(scope)))
        .group_by(part, unit)
        .order_by(func.count())
    )
    with reads.reading(engine) as connection:
        return {name: shown or "" for name, shown, _ in connection.execute(query)}


SEARCH_LIMIT = 20


@scope_checked
def search_regions(engine: Engine, scope: str, text: str) -> list[dict]:
    """Regions within a scope whose name holds ``text`` (at most 20, upper levels first)."""
    low, high = scope_range(scope)
    query = (
        select(regions.c.code, regions.c.name, regions.c.level)
        .where(regions.c.code.between(low, high), regions.c.name.contains(text, autoescape=True))
        .order_by(regions.c.code)
        .limit(200)
    )
    with reads.reading(engine) as connection:
        found = [{"code": code, "name": name, "level": level} for code, name, level in connection.execute(query)]
    order = ("province", "city", "county", "township", "village")
    return sorted(found, key=lambda entry: (order.index(entry["level"]), entry["code"]))[:SEARCH_LIMIT]


@versioned
def records_page(
    engine: Engine,
    scope: str,
    measure: str,
    span: list[str],
    filters: dict,
    sort: str,
    descending: bool,
    page: int,
    now: datetime,
    masking: str,
    topics: list[str],
) -> dict:
    """{"total", "rows", "page"} of one page of the records behind a measure (the last page when asked past it),
    cells as the page shows them (masked for ``masking``, which is in the cache key with everything else: a village
    cadre's open page is never served to a leader of the same village)."""
    current = _span(span)
    found = records_of(measure_info(measure), scope, current.start, current.end, filters, sort, descending, now)
    if found is None:
        return {"total": 0, "rows": []}
    view, ordered_rows, counted = found
    convert = converter(view, masker(masking, tuple(topics)), now)
    info = measure_info(measure)
    with reads.reading(engine) as connection:
        total = _counted_by_rollups(engine, connection, info, scope, current, filters)
        if total is None:
            total = connection.execute(counted).scalar() or 0
        # A page past the end (an old link, a hand-typed address) is the last one: its offset read nothing, and the
        # pager said 第 9 / 9 页 over an empty table.
        page = max(1, min(page, -(-min(int(total), COUNT_CAP) // PAGE_SIZE)))
        chosen = connection.execute(ordered_rows.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
        rows = [
            [shown(cell, column) for cell, column in zip(convert(row), view.columns, strict=True)] for row in chosen
        ]
    return {"total": min(int(total), COUNT_CAP), "more": total > COUNT_CAP, "rows": rows, "page": page}


def _counted_by_rollups(engine: Engine, connection, info, scope: str, span: Span, filters: dict) -> int | None:
    """How many records a count measure's number stands for, from its rollups (the measure counts exactly the
    records behind it: same rows, same time column), when no filter beyond its dimension is set and day rollups
    hold the span; else None (the records are counted)."""
    if info.aggregate != "count" or info.record_view != info.table or set(filters) - {info.dimension}:
        return None
    ask = _ask(engine, info.name, filters.get(info.dimension) if info.dimension else None)
    if not ask.coverage.first_day or span.first < ask.coverage.first_day:
        return None
    value, _ = span_values(connection, [ask], [scope], span, strict=True)[(scope, info.name)]
    return round(value or 0)
