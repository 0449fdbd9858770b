"""The parts of the workspace page drawn from a Workspace and its tables: header, region tree, controls, KPI
cards, trend chart, children compared beside their choropleth, breakdown, records with paging. Everything from
data is a component's text (never markup); every control that changes the view is a link to the view's address
or a picker whose change rewrites it (assets/explore.js)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import dash_leaflet as dl
from dash import dcc, html

from dashboard.basemap import tile_layers
from dashboard.mapview import fit_view
from dashboard.regions import children
from dashboard.workspace import queries
from dashboard.workspace.catalog import AREAS
from dashboard.workspace.context import Workspace
from dashboard.workspace.export import header_text
from dashboard.workspace.periods import EARLIEST, GRAINS, PERIODS, local_today
from dashboard.workspace.records import PAGE_SIZE, Column
from dashboard.workspace.state import CHILD_SORTS, changed, query_string, with_filter
from dashboard.workspace.tables import ESTIMATED, Sheet, card_figure, shown_number
from geo.codes import LEVEL_NAMES

PATH = "/explore"
EXPORT = "/explore/export"
RAMP = ["#e3eef9", "#b5d3ec", "#6baed6", "#2f7ebc", "#08519c"]
# The most labels the trend's time axis shows (a label every few bars beyond that).
TREND_LABELS = 16
# The 下级对比 map's least width on a desktop (.explore-compare-body in assets/explore.css): narrower beside the
# table, it goes under it.
MAP_MIN_WIDTH = 420


# Dash's dropdowns say Search, No options found and Clear selection unless told otherwise.
DROPDOWN_LABELS = {
    "search": "搜索",
    "clear_search": "清除搜索",
    "clear_selection": "清除选择",
    "no_options_found": "没有匹配的选项",
    "select_all": "全选",
    "deselect_all": "全不选",
    "selected_count": "已选 {num_selected} 项",
}


def href(ws: Workspace, **changes) -> str:
    """The address of the view with ``changes`` to its state."""
    return PATH + query_string(changed(ws.state, **changes))


def filter_href(ws: Workspace, key: str, value: str | None) -> str:
    return PATH + query_string(with_filter(ws.state, key, value))


def export_links(ws: Workspace, part: str, allowed: bool) -> html.Div:
    """导出 Excel / CSV of one table of the view (nothing for a viewer, who only looks)."""
    if not allowed:
        return html.Div()
    base = query_string(ws.state)
    links = [
        html.A(
            label,
            href=f"{EXPORT}{base}{'&' if len(base) > 1 else ''}{urlencode({'part': part, 'format': kind})}",
            className="explore-export",
            id=f"explore-export-{part}-{kind}",
        )
        for label, kind in (("导出 Excel", "xlsx"), ("导出 CSV", "csv"))
    ]
    return html.Div(links, className="explore-exports")


def header(ws: Workspace, as_of: str, who: str) -> html.Header:
    """Title, region, period, 数据截至 (printed on every page), who is looking, 打印."""
    return html.Header(
        className="explore-header",
        children=[
            html.Div(
                [
                    html.H1("领导工作台"),
                    html.Span(ws.region_label, className="explore-region", id="explore-region"),
                ],
                className="explore-title",
            ),
            html.Div(
                [
                    html.Span(f"时段：{ws.period.label}", className="explore-period", id="explore-period"),
                    html.Span(as_of, className="explore-asof", id="explore-asof"),
                    html.Span(who, className="explore-who"),
                    html.Button("打印", id="explore-print", className="explore-print", n_clicks=0),
                    dcc.Link("地图", href="/", className="explore-home"),
                ],
                className="explore-meta",
            ),
        ],
    )


def crumbs(ws: Workspace) -> html.Nav:
    """The path from the viewer's scope down to the region; nothing above the scope is offered."""
    items = []
    for index, region in enumerate(ws.path):
        if index:
            items.append(html.Span("›", className="explore-sep"))
        if index == len(ws.path) - 1:
            items.append(html.Span(region.name, className="explore-crumb-current"))
        else:
            items.append(dcc.Link(region.name, href=href(ws, region=region.code), className="explore-crumb"))
    return html.Nav(items, className="explore-crumbs", id="explore-crumbs")


def tree(ws: Workspace, found: list[dict] | None) -> html.Details:
    """选择区划: a search over the viewer's scope and the tree along the path to the region (each level's
    regions, the one on the path opened)."""

    def level(parent, depth: int) -> html.Ul:
        items = []
        for region in children(ws.engine, parent.code):
            on_path = depth + 1 < len(ws.path) and ws.path[depth + 1].code == region.code
            link = dcc.Link(
                region.name,
                href=href(ws, region=region.code),
                className="explore-node" + (" explore-node-current" if region.code == ws.region.code else ""),
                id={"explore-node": region.code},
            )
            items.append(html.Li([link, level(region, depth + 1)] if on_path else [link]))
        return html.Ul(items, className="explore-level")

    root = ws.path[0]
    root_link = dcc.Link(
        root.name, href=href(ws, region=root.code), className="explore-node", id={"explore-node": root.code}
    )
    results = []
    if found is not None:
        results = [
            html.Li(
                dcc.Link(
                    [entry["name"], html.Span(f" {LEVEL_NAMES.get(entry['level'], '')} {entry['code']}")],
                    href=href(ws, region=entry["code"]),
                    className="explore-found",
                )
            )
            for entry in found
        ] or [html.Li("没有找到", className="explore-none")]
    return html.Details(
        className="explore-tree",
        open=found is not None,
        children=[
            html.Summary("选择区划"),
            dcc.Input(
                id="explore-search",
                type="search",
                placeholder="搜索区划名称，回车",
                debounce=True,
                value=ws.state.search,
                maxLength=20,
                className="explore-search",
            ),
            html.Ul(results, className="explore-results", id="explore-results"),
            html.Ul([html.Li([root_link, level(root, 0)])], className="explore-level"),
        ],
    )


def controls(ws: Workspace, dimension_options: dict[str, str]) -> html.Section:
    """Period, area and measure, trend grain, and the records' filters."""
    today = local_today(ws.now)
    periods = [
        dcc.Link(
            label,
            href=href(ws, period=key, first=None, last=None),
            className="explore-chip" + (" explore-chip-on" if ws.period.key == key else ""),
            id=f"explore-period-{key}",
        )
        for key, label in PERIODS.items()
        if key != "custom"
    ]
    custom = ws.period.key == "custom"
    periods.append(
        dcc.DatePickerRange(
            id="explore-dates",
            start_date=ws.period.current.first.isoformat() if custom else None,
            end_date=ws.period.current.last.isoformat() if custom else None,
            min_date_allowed=EARLIEST.isoformat(),
            max_date_allowed=today.isoformat(),
            # Else it opens at the earliest month allowed (2000年1月).
            initial_visible_month=(ws.period.current.first if custom else today).isoformat(),
            display_format="YYYY-MM-DD",
            start_date_placeholder_text="开始日期",
            end_date_placeholder_text="结束日期",
            first_day_of_week=1,
            month_format="YYYY年M月",
            className="explore-dates" + (" explore-chip-on" if custom else ""),
        )
    )
    areas = [key for key in AREAS if any(info.area == key for info in ws.measures)]
    area = ws.info.area if ws.info else None
    pickers = [
        dcc.Dropdown(
            id="explore-area",
            options=[{"label": AREAS[key], "value": key} for key in areas],
            value=area,
            clearable=False,
            searchable=False,
            labels=DROPDOWN_LABELS,
            className="explore-picker",
        ),
        dcc.Dropdown(
            id="explore-measure",
            options=[
                {"label": f"{info.label}（{info.unit}）" if info.unit else info.label, "value": info.name}
                for info in ws.measures
                if info.area == area
            ],
            value=ws.info.name if ws.info else None,
            clearable=False,
            labels=DROPDOWN_LABELS,
            className="explore-picker explore-picker-wide",
        ),
    ]
    filters = []
    if ws.view:
        for key, chosen in ws.view.filters.items():
            options = chosen.options
            if options is None:
                options = dimension_options if ws.info and key == ws.info.dimension else {}
            if not options and key not in ws.filters:
                continue
            filters.append(
                dcc.Dropdown(
                    id={"explore-filter": key},
                    options=[{"label": label, "value": value} for value, label in options.items()],
                    value=ws.filters.get(key),
                    placeholder=chosen.label,
                    clearable=True,
                    labels=DROPDOWN_LABELS,
                    className="explore-picker",
                )
            )
    return html.Section(
        className="explore-controls",
        children=[
            html.Div([html.Span("时段", className="explore-label"), *periods], className="explore-row"),
            html.Div([html.Span("指标", className="explore-label"), *pickers], className="explore-row"),
            html.Div([html.Span("筛选", className="explore-label"), *filters], className="explore-row")
            if filters
            else html.Div(),
            html.Div(ws.notice, className="explore-notice") if ws.notice else html.Div(),
        ],
    )


def _change_line(label: str, text: str) -> html.Div:
    sign = "up" if text.startswith("+") or text == "新增" else "down" if text.startswith("-") else "flat"
    return html.Div([html.Span(label), html.B(text, className=f"explore-change-{sign}")], className="explore-change")


def kpi_cards(ws: Workspace, sheet: Sheet, allowed: bool) -> html.Section:
    """A card per measure of the area: this period's number with 环比 and 同比; a card opens its measure."""
    cards = []
    for info, row in zip(ws.area_measures, sheet.rows, strict=True):
        _label, unit, current, _previous, previous_change, _last_year, last_year_change, note = row
        figure, figure_unit = card_figure(current, info, unit)
        cards.append(
            dcc.Link(
                className="explore-card" + (" explore-card-on" if info.name == ws.info.name else ""),
                href=href(ws, measure=info.name),
                id={"explore-card": info.name},
                children=[
                    html.Div(info.label, className="explore-card-label"),
                    html.Div(
                        [figure, html.Span(figure_unit, className="explore-unit") if current is not None else None],
                        className="explore-card-value",
                        title=f"{shown_number(current, info)} {unit}" if current is not None else None,
                    ),
                    _change_line("环比", previous_change),
                    _change_line("同比", last_year_change),
                    html.Div(note, className="explore-card-note") if note else None,
                ],
            )
        )
    title = f"指标概览 · {ws.info.area_label} · {ws.period.name}"
    bar = html.Div([html.H2(title), export_links(ws, "kpi", allowed)], className="explore-bar explore-kpi-bar")
    return html.Section([bar, html.Div(cards, className="explore-cards", id="explore-cards")], id="explore-kpi")


def panel(title: str, ws: Workspace, part: str, allowed: bool, body: list, extra=None) -> html.Section:
    """A titled part of the page with its export links."""
    return html.Section(
        className=f"explore-panel explore-{part}",
        id=f"explore-{part}",
        children=[
            html.Div([html.H2(title), extra or html.Div(), export_links(ws, part, allowed)], className="explore-bar"),
            *body,
        ],
    )


def trend(ws: Workspace, sheet: Sheet, allowed: bool) -> html.Section:
    """The chosen measure at each day, week or month, with last year's line where rollups hold it."""
    info = ws.info
    labels = [row[0] for row in sheet.rows]
    values = [row[3] for row in sheet.rows]
    old = [row[4] for row in sheet.rows]
    series = [
        {
            "type": "bar" if info.additive else "scatter",
            "mode": "lines+markers",
            "x": labels,
            "y": values,
            "name": "本期",
            "marker": {"color": "#2f7ebc"},
        }
    ]
    if any(value is not None for value in old):
        series.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": labels,
                "y": old,
                "name": "去年同期",
                "line": {"dash": "dot", "color": "#9a9a9a"},
                "marker": {"color": "#9a9a9a"},
            }
        )
    figure = {
        "data": series,
        "layout": {
            "height": 300,
            "margin": {"l": 56, "r": 16, "t": 12, "b": 56},
            # A label at most every few bars: Plotly drew all of a range's 105 weeks, a wall of labels turned on end.
            "xaxis": {"type": "category", "automargin": True, "nticks": TREND_LABELS},
            # Whole numbers with separators (2,000,000), never Plotly's SI suffixes (2M), which a leader does not read.
            "yaxis": {
                "title": {"text": info.unit},
                "rangemode": "tozero",
                "separatethousands": True,
                "exponentformat": "none",
            },
            "legend": {"orientation": "h", "y": -0.25},
            "font": {"family": "Noto Sans CJK SC, sans-serif", "size": 12},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
        },
    }
    grains = html.Div(
        [
            dcc.Link(
                label,
                href=href(ws, grain=key),
                className="explore-chip" + (" explore-chip-on" if ws.grain == key else ""),
                id=f"explore-grain-{key}",
            )
            for key, label in GRAINS.items()
        ],
        className="explore-grains",
    )
    note = [html.Div(f"标有{ESTIMATED}的数值由月度汇总按天数折算", className="explore-note")]
    body = [
        dcc.Graph(
            id="explore-trend-graph",
            figure=figure,
            config={"displayModeBar": False, "responsive": True},
            style={"height": "300px"},
        ),
        html.Details([html.Summary("数据表"), table(sheet.columns, sheet.rows, ws, "trend")], className="explore-data"),
    ]
    if any(row[5] for row in sheet.rows):
        body += note
    return panel(f"趋势 · {info.label}", ws, "trend", allowed, body, grains)


def _cell(value, column: Column, ws: Workspace) -> str:
    if column.kind == "number":
        if column.unit == "%" and column.key == "share":
            return "—" if value is None else f"{value:.1f}%"
        return shown_number(value, ws.info)
    if column.kind == "date" and isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def table(columns, rows, ws: Workspace, part: str, sort_links=None, first_links=None, cell=None) -> html.Div:
    """A table in a scrolling box (phones scroll it sideways, not the page); ``cell`` shows a value (default:
    by its column's kind)."""
    cell = cell or _cell
    head = []
    for column in columns:
        text = header_text(column)
        link = sort_links(column) if sort_links else None
        head.append(html.Th(dcc.Link(text, href=link) if link else text, className=f"explore-th-{column.kind}"))
    body = []
    for row in rows:
        cells = []
        for index, (value, column) in enumerate(zip(row, columns, strict=True)):
            text = cell(value, column, ws)
            if index == 0 and first_links:
                cells.append(html.Td(dcc.Link(text, href=first_links(row)), className=f"explore-td-{column.kind}"))
            else:
                cells.append(html.Td(text, className=f"explore-td-{column.kind}"))
        body.append(html.Tr(cells))
    return html.Div(
        html.Table(
            [html.Thead(html.Tr(head)), html.Tbody(body)], className="explore-table", id=f"explore-table-{part}"
        ),
        className="explore-scroll",
    )


def _sorted_header(ws: Workspace, key: str, current: str, order: str, state_key: str, order_key: str):
    """The address sorting by ``key`` (a second click turns the order around)."""
    flip = "asc" if current == key and order == "desc" else "desc"
    return href(ws, **{state_key: key, order_key: flip})


def compare(ws: Workspace, sheet: Sheet, allowed: bool, bounds) -> html.Section:
    """The children side by side in a sortable table beside their choropleth of the same measure."""
    info = ws.info
    if not sheet.rows:
        return panel("下级对比", ws, "compare", False, [html.Div("村级区划没有下级区划。", className="explore-empty")])

    def sort_link(column: Column):
        if column.key not in CHILD_SORTS:
            return None
        return _sorted_header(ws, column.key, ws.state.csort, ws.state.corder, "csort", "corder")

    values = {row[1]: row[2] for row in sheet.rows if row[2] is not None}
    top = max(values.values(), default=0)
    # Fitted to the narrowest map a desktop gives it: the outline shows whole at any width beside or under the table.
    center, zoom = fit_view(bounds or [73, 18, 135, 54], width=MAP_MIN_WIDTH, height=420)
    geo = dl.GeoJSON(
        id="explore-geojson",
        url=f"/geo/children/{ws.region.code}.geojson",
        style={"variable": "ruralbrain.exploreStyle"},
        onEachFeature={"variable": "ruralbrain.exploreRegion"},
        hideout={"values": values, "max": top, "ramp": RAMP},
    )
    legend = html.Div(
        [
            html.Span(f"{info.label}（{info.unit}）" if info.unit else info.label),
            html.Span("低", className="explore-legend-end"),
            *[html.I(className="explore-swatch", style={"background": colour}) for colour in RAMP],
            html.Span(f"高 {shown_number(top, info)}", className="explore-legend-end"),
        ],
        className="explore-legend",
    )
    region_map = html.Div(
        [
            dl.Map(
                id="explore-map",
                center=center,
                zoom=zoom,
                zoomSnap=0.1,
                attributionControl=False,
                className="explore-map",
                children=[*tile_layers(ws.settings), geo],
            ),
            legend,
        ],
        className="explore-map-box",
    )
    body = [
        html.Div(
            [
                table(
                    sheet.columns,
                    sheet.rows,
                    ws,
                    "compare",
                    sort_links=sort_link,
                    first_links=lambda row: href(ws, region=row[1]),
                ),
                region_map,
            ],
            className="explore-compare-body",
        )
    ]
    level = LEVEL_NAMES.get(ws.region.level, "")
    return panel(f"下级对比 · {ws.region.name}（{level}）各下级", ws, "compare", allowed, body)


def breakdown(ws: Workspace, sheet: Sheet, allowed: bool) -> html.Section:
    """The chosen measure by its dimension: a bar per part, a part opens its records."""
    info = ws.info
    if not info.dimension:
        return panel("分项构成", ws, "breakdown", False, [html.Div("此指标不分项。", className="explore-empty")])
    top = max((row[2] or 0 for row in sheet.rows), default=0)
    filterable = bool(ws.view and info.dimension in ws.view.filters)
    items = []
    for label, code, value, share, _note in sheet.rows:
        width = f"{(value or 0) / top * 100:.1f}%" if top else "0%"
        name = dcc.Link(label, href=filter_href(ws, info.dimension, code)) if filterable else label
        items.append(
            html.Div(
                [
                    html.Span(name, className="explore-part-name"),
                    html.Span(html.I(style={"width": width}), className="explore-part-bar"),
                    html.Span(shown_number(value, info), className="explore-part-value"),
                    html.Span("—" if share is None else f"{share:.1f}%", className="explore-part-share"),
                ],
                className="explore-part",
            )
        )
    body = [html.Div(items or [html.Div("本期没有数据。", className="explore-empty")], className="explore-parts")]
    # The parts' codes (conflict, income …) are for the export's readers; on the page each part has its name.
    shown = [index for index, column in enumerate(sheet.columns) if column.key != "dimension"]
    columns = [sheet.columns[index] for index in shown]
    body.append(table(columns, [[row[index] for index in shown] for row in sheet.rows], ws, "breakdown"))
    return panel(f"分项构成 · 按{info.dimension_label}", ws, "breakdown", allowed, body)


def records_from(ws: Workspace) -> str:
    """'（明细自 2026-10-20 起）' when the period starts before the records behind the measure: earlier months are
    kept as rollups only, and 本年's 7,523 件 beside 共 1,063 条 read as records lost."""
    info = ws.info
    if info.record_view != info.table or info.aggregate not in ("count", "sum", "mean"):
        return ""  # not records placed in the period by a time of their own (devices, a stock, a snapshot)
    first_day = queries.coverage(ws.engine, info.name)[0]
    if first_day is None or ws.period.current.first >= date.fromisoformat(first_day):
        return ""
    return f"（明细自 {first_day} 起）"


def records(ws: Workspace, found: dict, allowed: bool) -> html.Section:
    """The records behind the number: filtered, sorted and paged as the address says."""
    view = ws.view
    if view is None:
        return panel("明细", ws, "records", False, [html.Div("此指标暂无明细。", className="explore-empty")])
    state = ws.state

    def sort_link(column: Column):
        if not column.sortable:
            return None
        return _sorted_header(ws, column.key, state.sort or view.default_sort, state.order, "sort", "order")

    total = found["total"]
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(state.page, pages)
    pager = [
        dcc.Link("上一页", href=href(ws, page=page - 1), className="explore-page", id="explore-previous")
        if page > 1
        else html.Span("上一页", className="explore-page-off"),
        html.Span(
            f"第 {page} / {pages} 页，共 {total:,} 条{'以上（导出可得全部）' if found.get('more') else ''}"
            + records_from(ws),
            className="explore-count",
            id="explore-count",
        ),
        dcc.Link("下一页", href=href(ws, page=page + 1), className="explore-page", id="explore-next")
        if page < pages
        else html.Span("下一页", className="explore-page-off"),
    ]
    scope = "" if not ws.filter_label else f"（{ws.filter_label}）"
    shown_rows = table(view.columns, found["rows"], ws, "records", sort_links=sort_link, cell=lambda text, *_: text)
    body = [shown_rows, html.Div(pager, className="explore-pager")]
    return panel(f"明细{scope}", ws, "records", allowed, body)
