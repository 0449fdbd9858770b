"""The data behind each part of the workspace as a table (header, unit, typed cells): the KPI cards, the trend,
the children compared, the breakdown and the records. The page draws these tables and the exports write them,
so a downloaded file holds exactly the numbers on screen."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from dashboard.workspace import queries
from dashboard.workspace.catalog import MeasureInfo, measure_info
from dashboard.workspace.context import Workspace
from dashboard.workspace.masking import masker
from dashboard.workspace.periods import GRAINS
from dashboard.workspace.records import Column, converter, records_of
from dashboard.workspace.stats import change
from etl.warehouse.labels import value_label

NO_PREVIOUS, NO_LAST_YEAR, YEARLY = "无上期数据", "无去年同期数据", "—（年度看同比）"
ESTIMATED = "按月折算"
NO_DATA = "无数据"  # the period lies before the measure's data: nothing known, which 0 would misstate


@dataclass(frozen=True)
class Sheet:
    """One table of the workspace: what it is called, its columns and its rows of typed cells."""

    key: str
    name: str
    columns: tuple[Column, ...]
    rows: object  # a list, or for the records an iterator over the whole result
    note: str = ""


def number(value: float | None, info: MeasureInfo) -> float | None:
    """A measure's value as exported: rounded to two decimals more than shown (counts stay whole)."""
    if value is None:
        return None
    return round(value) if info.digits == 0 and float(value).is_integer() else round(value, info.digits + 2)


def shown_number(value: float | None, info: MeasureInfo | None = None, digits: int | None = None) -> str:
    """A value as the page shows it (thousands separated, the measure's decimals)."""
    if value is None:
        return "—"
    places = digits if digits is not None else (info.digits if info else 0)
    return f"{value:,.{places}f}"


# A card has room for about ten characters at its size: larger figures are written in 万 or 亿 (as Chinese reports
# write them), the exact figure in the card's tooltip and the exports.
CARD_SCALES = ((1e8, "亿", 2), (1e6, "万", 1))


def card_figure(value: float | None, info: MeasureInfo | None = None, unit: str = "") -> tuple[str, str]:
    """(the figure, its unit) as a KPI card shows them: 1,054,606,420.59 元 → ("10.55", "亿元")."""
    if value is None:
        return "—", ""
    for scale, name, places in CARD_SCALES:
        if abs(value) >= scale:
            divisor = 1e4 if name == "万" else scale
            return f"{value / divisor:,.{places}f}", f"{name}{unit}"
    return shown_number(value, info), unit


def _value(entry) -> float | None:
    return entry["value"] if entry else None


def _estimated(*entries) -> str:
    return ESTIMATED if any(entry and entry.get("estimated") for entry in entries) else ""


def comparisons(info: MeasureInfo, entry: dict, yearly: bool) -> tuple[str, str]:
    """(环比, 同比) of a KPI or child entry as shown."""
    points = info.unit == "%"
    current = _value(entry["current"])
    previous = YEARLY if yearly else (change(current, _value(entry["previous"]), points) or NO_PREVIOUS)
    last_year = change(current, _value(entry["last_year"]), points) or NO_LAST_YEAR
    return previous, last_year


def kpi_sheet(ws: Workspace) -> Sheet:
    """The KPI cards of the chosen measure's area: this period, the one before, a year earlier, and changes."""
    infos = ws.area_measures
    found = queries.kpis(ws.engine, ws.region.code, [info.name for info in infos], ws.spans, ws.dimensions)
    yearly = ws.period.previous is None
    rows = []
    for info, entry in zip(infos, found, strict=True):
        previous, last_year = comparisons(info, entry, yearly)
        rows.append(
            [
                info.label,
                info.unit,
                number(_value(entry["current"]), info),
                number(_value(entry["previous"]), info),
                previous,
                number(_value(entry["last_year"]), info),
                last_year,
                "；".join(
                    filter(
                        None,
                        [
                            NO_DATA if entry["current"] is None else "",
                            _estimated(entry["current"], entry["previous"], entry["last_year"]),
                            _limit(ws, info),
                        ],
                    )
                ),
            ]
        )
    columns = (
        Column("label", "指标", width=18),
        Column("unit", "单位", width=8),
        Column("current", "本期", "number", width=14),
        Column("previous", "上期", "number", width=14),
        Column("previous_change", "环比", width=16),
        Column("last_year", "去年同期", "number", width=14),
        Column("last_year_change", "同比", width=16),
        Column("note", "说明", width=20),
    )
    return Sheet("kpi", "指标概览", columns, rows)


def _limit(ws: Workspace, info: MeasureInfo) -> str:
    """'类别：请求' when a filter limits this measure to one of its dimension's values."""
    value = ws.dimensions.get(info.name)
    if not value or not ws.view or info.per_part:
        return ""  # a measure shown by part names its part in its label
    return f"{info.dimension_label}：{value_label(info.table, info.dimension, value)}"


def trend_label(first: date, last: date, grain: str) -> str:
    """A trend point's name: 2026-12-07, 12-01～12-07 (a week), 2026-11 (a month)."""
    if grain == "day":
        return f"{first:%Y-%m-%d}"
    if grain == "month":
        return f"{first:%Y-%m}"
    return f"{first:%m-%d}～{last:%m-%d}"


def trend_sheet(ws: Workspace) -> Sheet:
    """The chosen measure at each day, week or month of the period, beside the same days a year earlier."""
    info = ws.info
    found = queries.trend(ws.engine, ws.region.code, info.name, ws.spans["current"], ws.grain, ws.dimension)
    rows = []
    for point in found:
        first, last = date.fromisoformat(point["first"]), date.fromisoformat(point["last"])
        rows.append(
            [
                trend_label(first, last, ws.grain),
                first,
                last,
                number(point["value"], info),
                number(point["last_year"], info),
                ESTIMATED if point["estimated"] else "",
            ]
        )
    columns = (
        Column("bucket", GRAINS[ws.grain], width=14),
        Column("first", "起始日期", "date", width=12),
        Column("last", "结束日期", "date", width=12),
        Column("value", info.label, "number", info.unit, width=14),
        Column("last_year", "去年同期", "number", info.unit, width=14),
        Column("note", "说明", width=12),
    )
    return Sheet("trend", "趋势", columns, rows)


CHILD_KEYS = {"name": 0, "code": 1, "value": 2, "share": 3, "previous": 4, "last_year": 6}


def compare_sheet(ws: Workspace) -> Sheet:
    """The children of the region side by side: value, share of their sum, 环比 and 同比; sorted as asked."""
    info = ws.info
    found = queries.compare(ws.engine, ws.region.code, info.name, ws.spans, ws.dimension)
    whole = sum(_value(entry["current"]) or 0 for entry in found) if info.additive else 0
    yearly = ws.period.previous is None
    rows = []
    for entry in found:
        current = _value(entry["current"])
        previous, last_year = comparisons(info, entry, yearly)
        share = round(current / whole * 100, 1) if whole and current is not None else None
        rows.append(
            [
                entry["name"],
                entry["code"],
                number(current, info),
                share,
                number(_value(entry["previous"]), info),
                previous,
                number(_value(entry["last_year"]), info),
                last_year,
            ]
        )
    position = CHILD_KEYS[ws.state.csort]
    present = [row for row in rows if row[position] is not None]
    missing = [row for row in rows if row[position] is None]
    present.sort(key=lambda row: (row[position], row[1]), reverse=ws.state.corder == "desc")
    columns = (
        Column("name", "区划名称", width=16),
        Column("code", "区划代码", "code", width=14),
        Column("value", info.label, "number", info.unit, width=14),
        Column("share", "占比", "number", "%", width=8),
        Column("previous", "上期", "number", info.unit, width=14),
        Column("previous_change", "环比", width=16),
        Column("last_year", "去年同期", "number", info.unit, width=14),
        Column("last_year_change", "同比", width=16),
    )
    return Sheet("compare", "下级对比", columns, present + missing)


def breakdown_sheet(ws: Workspace) -> Sheet:
    """The chosen measure split by its dimension, largest first, with each part's share."""
    info = measure_info(ws.info.name)  # every part, under the measure's own name and unit
    found = queries.breakdown(ws.engine, ws.region.code, info.name, ws.spans["current"])
    whole = sum(entry["value"] or 0 for entry in found) if info.additive else 0
    units = queries.part_units(ws.engine, ws.region.code, info.name)
    rows = [
        [
            f"{entry['label']}（{units[entry['dimension']]}）" if units.get(entry["dimension"]) else entry["label"],
            entry["dimension"],
            number(entry["value"], info),
            round(entry["value"] / whole * 100, 1) if whole and entry["value"] is not None else None,
            ESTIMATED if entry["estimated"] else "",
        ]
        for entry in found
    ]
    columns = (
        Column("label", info.dimension_label or "分项", width=16),
        Column("dimension", "代码", width=16),
        Column("value", info.label, "number", info.unit, width=14),
        Column("share", "占比", "number", "%", width=8),
        Column("note", "说明", width=12),
    )
    return Sheet("breakdown", "分项构成", columns, rows)


def record_rows(ws: Workspace, connection: Connection) -> Iterator[list]:
    """Every record behind the chosen measure (filtered and sorted as on the page), streamed from the database
    a batch at a time, cells typed and masked."""
    found = _records(ws)
    if found is None:
        return
    view, ordered_rows, _ = found
    convert = converter(view, masker(ws.masking, ws.topics), ws.now)
    streamed = connection.execution_options(stream_results=True, yield_per=2000).execute(ordered_rows)
    for row in streamed:
        yield convert(row)


def _records(ws: Workspace):
    state = ws.state
    current = ws.period.current
    return records_of(
        ws.info, ws.region.code, current.start, current.end, ws.filters, state.sort, state.order == "desc", ws.now
    )


def records_sheet(ws: Workspace, connection: Connection) -> Sheet:
    """The records behind the chosen measure, to be streamed."""
    columns = ws.view.columns if ws.view else ()
    return Sheet("records", "明细", columns, record_rows(ws, connection))


SHEETS = {"kpi": kpi_sheet, "trend": trend_sheet, "compare": compare_sheet, "breakdown": breakdown_sheet}
SHEET_NAMES = {"kpi": "指标概览", "trend": "趋势", "compare": "下级对比", "breakdown": "分项构成", "records": "明细"}
