"""The records behind a number: a view per fact table, with filters, sorting and paging, personal fields masked
(dashboard/workspace/masking.py). A module here declaring VIEW gives a table more than its own columns (cases:
the overdue flag; devices: the latest reading); any other fact table gets a view of its columns, labelled by
etl/warehouse/labels.py. A new dataset's records thus need no new code, only labels."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import DateTime, Float, Integer, Numeric, Table, and_, func, literal, select
from sqlalchemy.sql import ColumnElement, FromClause

from etl.warehouse.labels import PERSONAL, UNITS, column_label, values_of
from etl.warehouse.schema import metadata, regions
from geo.codes import scope_range

PAGE_SIZE = 20
UTC_TO_LOCAL = timedelta(hours=8)  # the county's local time (LOCAL)
# Book-keeping columns of every fact: not what a leader reads.
HIDDEN = ("loaded_at", "run_id", "region_code")


@dataclass(frozen=True)
class Column:
    """One column of a records table: its key in the select, header, how a value is shown, export width."""

    key: str
    label: str
    kind: str = "text"  # text | title | name | phone | time | number | label | flag | code | plain | date
    unit: str = ""
    width: int = 14
    sortable: bool = True
    coded: tuple[str, str] | None = None  # (table, column) whose labels name its values


@dataclass(frozen=True)
class Filter:
    """A filter a leader can set: its label, the values offered (None: the measure's dimension values), and the
    condition a value makes."""

    key: str
    label: str
    options: dict[str, str] | None
    condition: Callable[[str, datetime], ColumnElement]


@dataclass(frozen=True)
class View:
    """The records of one fact table as the workspace lists and exports them."""

    name: str
    table: Table
    columns: tuple[Column, ...]
    selected: tuple[ColumnElement, ...]  # each column's expression, labelled by its key
    source: FromClause  # the table with the joins the columns need
    region: ColumnElement
    filters: dict[str, Filter]
    default_sort: str
    tiebreak: tuple[ColumnElement, ...]
    default_descending: bool = True
    time_mode: str = "range"  # range: rows in the period; until: rows up to its end (devices); none
    related: tuple[str, ...] = ()  # keys of texts a title's private topic may be named in
    derive: Callable[[dict, datetime], dict] | None = None  # computed columns (a case's overdue flag)
    sort_columns: dict[str, ColumnElement] = field(default_factory=dict)
    count_source: FromClause | None = None  # what counting needs joined (default: the table alone)


def equals(column: ColumnElement) -> Callable[[str, datetime], ColumnElement]:
    """The condition 'column = value'."""
    return lambda value, _now: column == value


def region_columns() -> tuple[tuple[Column, ...], tuple[ColumnElement, ...]]:
    """The region's name and code, as every records table shows them."""
    columns = (
        Column("region_name", "区划名称", "plain", width=14),
        Column("region_code", "区划代码", "code", width=14),
    )
    return columns, (regions.c.name.label("region_name"),)


def _kind(table: str, column) -> str:
    if (table, column.name) in PERSONAL:
        return "phone" if "phone" in column.name else "name"
    if values_of(table, column.name):
        return "label"
    if isinstance(column.type, DateTime):
        return "time"
    if isinstance(column.type, (Integer, Float, Numeric)):
        return "number"
    return "title" if column.name in ("title", "body") else "text"


def generic_view(table: Table, dimension: str | None = None) -> View:
    """A view of a fact table's own columns (its region by name and code), filtered by its coded columns and the
    measure's dimension."""
    name = table.name
    shown = [column for column in table.columns if column.name not in HIDDEN]
    region_cols, region_selected = region_columns()
    columns = []
    for column in shown:
        kind = _kind(name, column)
        columns.append(
            Column(
                column.name,
                column_label(name, column.name),
                kind,
                UNITS.get((name, column.name), ""),
                width=18 if kind == "time" else 30 if kind == "title" else 12,
                sortable=kind not in ("name", "phone"),
                coded=(name, column.name) if kind == "label" else None,
            )
        )
    first = [column for column in columns if column.key != "event_time"][:1]
    rest = [column for column in columns if column not in first]
    ordered = (*first, *region_cols, *rest)
    filters = {
        column.name: Filter(
            column.name, column_label(name, column.name), values_of(name, column.name) or None, equals(column)
        )
        for column in shown
        if values_of(name, column.name) or column.name == dimension
    }
    return View(
        name=name,
        table=table,
        columns=ordered,
        selected=(
            *(table.c[column.key].label(column.key) for column in first),
            *region_selected,
            table.c.region_code.label("region_code"),
            *(table.c[column.key].label(column.key) for column in rest),
        ),
        source=table.join(regions, regions.c.code == table.c.region_code),
        region=table.c.region_code,
        filters=filters,
        default_sort="event_time",
        tiebreak=tuple(table.primary_key.columns),
    )


@cache
def declared() -> dict[str, Callable[[], View]]:
    """The views modules of this package declare (VIEW: a function building the view), by table name."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        view = getattr(importlib.import_module(f"{__name__}.{module.name}"), "VIEW", None)
        if view is not None:
            found[module.name] = view
    return found


@cache
def view_named(name: str, dimension: str | None = None) -> View | None:
    """The records view of a fact table (declared or generic), or None when the warehouse has no such table."""
    if name in declared():
        return declared()[name]()
    table = metadata.tables.get(name)
    if table is None or "region_code" not in table.c or "event_time" not in table.c:
        return None
    return generic_view(table, dimension)


def conditions(view: View, scope: str, time_column: str | None, start, end, filters: dict, now) -> list:
    """The WHERE of a view's records: the scope's code range, the period, the filters set."""
    low, high = scope_range(scope)
    found = [view.region.between(low, high)]
    if time_column and view.time_mode != "none":
        column = view.table.c[time_column]
        found.append(column < end)
        if view.time_mode == "range":
            found.append(column >= start)
    for key, value in filters.items():
        if key in view.filters:
            found.append(view.filters[key].condition(value, now))
    return found


def sort_expression(view: View, sort: str):
    """The expression a column sorts by (its key, unless a view names another)."""
    if sort in view.sort_columns:
        return view.sort_columns[sort]
    if sort == "region_name":
        return regions.c.name
    if sort == "region_code":
        return view.region
    return view.table.c.get(sort)


def statement(view: View, where: list, sort: str, descending: bool):
    """The ordered SELECT of a view's records (no paging)."""
    chosen = next((c for c in view.columns if c.key == sort and c.sortable), None)
    expression = sort_expression(view, sort) if chosen else None
    if expression is None:
        expression = sort_expression(view, view.default_sort)
        descending = view.default_descending
    order = [expression.desc() if descending else expression.asc()]
    order += [key.desc() if descending else key.asc() for key in view.tiebreak]
    return select(*view.selected).select_from(view.source).where(and_(*where)).order_by(*order)


# Counting more records than this is not worth its time on a page (a province's year of cases): the page says
# 10,000 条以上, pages through the first of them, and the export holds them all.
COUNT_CAP = 10000


def count_statement(view: View, where: list):
    """How many records a view's conditions select, up to COUNT_CAP + 1 (the regions' names are not joined)."""
    source = view.count_source if view.count_source is not None else view.table
    chosen = select(literal(1)).select_from(source).where(and_(*where)).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(chosen)


def local_time(moment: datetime | None) -> datetime | None:
    """A warehouse time (UTC; naive from SQLite) as the local (UTC+8, no daylight saving) time of day, naive."""
    if moment is None:
        return None
    utc = moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
    return utc + UTC_TO_LOCAL


def converter(view: View, mask, now: datetime) -> Callable:
    """row → a record's cells as exported: local times, labels for coded values, personal fields and free text
    masked (mask: dashboard/workspace/masking.py); built once per table and export, as it runs for every row."""
    steps = []
    for column in view.columns:
        kind = column.kind
        if kind == "time":
            steps.append((column.key, local_time))
        elif kind == "label":
            labels = values_of(*column.coded)
            steps.append((column.key, lambda value, labels=labels: "" if value is None else labels.get(value, value)))
        elif kind in ("name", "phone", "text"):
            steps.append((column.key, lambda value, kind=kind: mask(kind, value)))
        elif kind == "title":
            steps.append((column.key, None))  # masked with the row's related texts (a private topic's module)
        else:
            steps.append((column.key, False))
    related = [(key, values_of(view.name, key)) for key in view.related]

    fields: list[tuple] = []  # the statement's column names, taken from its first row

    def convert(row) -> list:
        if not fields:
            fields.append(tuple(row._fields))
        values = dict(zip(fields[0], row, strict=True))
        if view.derive:
            values = view.derive(values, now)
        cells = []
        for key, step in steps:
            value = values.get(key)
            if step is None:
                value = mask("title", value, tuple(labels.get(values.get(k), "") for k, labels in related))
            elif step is not False:
                value = step(value)
            cells.append(value)
        return cells

    return convert


def shown(value, column: Column) -> str:
    """A cell as the page shows it."""
    if value is None or value == "":
        return "—" if column.kind in ("time", "number", "flag") else ""
    if column.kind == "time":
        return value.strftime("%Y-%m-%d %H:%M")
    if column.kind == "number":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return str(value)


def records_of(info, scope: str, start, end, filters: dict, sort: str, descending: bool, now: datetime):
    """(view, ordered SELECT, COUNT) of the records behind a measure (catalog entry ``info``) in a scope and
    period, or None when the measure has no records view. The measure's own limits (a metric) are added to the
    filters; its time column places a record in the period."""
    view = view_named(info.record_view, info.dimension)
    if view is None:
        return None
    time_column = info.time if info.record_view == info.table and info.time in view.table.c else "event_time"
    where = conditions(view, scope, time_column, start, end, {**filters, **dict(info.record_filter)}, now)
    return view, statement(view, where, sort, descending), count_statement(view, where)
