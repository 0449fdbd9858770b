"""领导工作台 (/explore): any measure of the datasets, any region within the viewer's scope, any period, down to the
records and out to Excel. The address holds the whole view (dashboard/workspace/state.py): links and pickers
only change it, and the page is drawn from it, so a link opens the same view for a colleague (within their own
scope: a region outside it is refused, 403) and back and forward step through views."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html
from flask import current_app

from dashboard.auth.viewer import view_scope, viewer
from dashboard.geometry import load_manifest
from dashboard.workspace import download, queries, sections
from dashboard.workspace.context import as_of, open_workspace
from dashboard.workspace.state import parse
from dashboard.workspace.tables import breakdown_sheet, compare_sheet, kpi_sheet, trend_sheet

dash.register_page(__name__, path="/explore", title="乡村大脑 · 领导工作台", access="login", ids=("explore-",))
download.install(dash.get_app().server)  # the page's exports: /explore/export (dashboard/auth/access.py: ROUTES)

ROLES = {"admin": "管理员", "county": "县级", "township": "乡镇", "village": "村级", "viewer": "只读"}


def layout(**query) -> html.Div:
    """The view the address describes."""
    settings, engine = current_app.config["RURALBRAIN_SETTINGS"], current_app.config["RURALBRAIN_ENGINE"]
    ws = open_workspace(engine, settings, parse(query))
    if ws is None:
        return html.Div("数据仓库中还没有区划。请先运行 ruralbrain demo 或 ruralbrain geo import。", className="empty")
    who = viewer()
    allowed = download.may_export()
    person = f"{who.name}（{ROLES.get(who.role, who.role)}）" if who else ""
    found = queries.search_regions(engine, view_scope() or ws.root.code, ws.state.search) if ws.state.search else None
    parts = [
        sections.header(ws, as_of(ws), person),
        sections.crumbs(ws),
        html.Div(
            className="explore-body",
            children=[
                sections.tree(ws, found),
                html.Main(className="explore-main", children=_views(ws, allowed)),
            ],
        ),
        html.Footer(
            f"乡村大脑 · 领导工作台 · {ws.region_label} · {ws.period.label} · {as_of(ws)}",
            className="explore-print-footer",
        ),
        dcc.Location(id="explore-location", refresh="callback-nav"),
    ]
    return html.Div(parts, className="explore")


def _views(ws, allowed: bool) -> list:
    """KPI cards, trend, children compared, breakdown and records of the chosen measure."""
    if ws.info is None:
        return [sections.controls(ws, {}), html.Div("此区划暂无数据。", className="explore-empty")]
    parts = breakdown_sheet(ws)
    options = {row[1]: row[0] for row in parts.rows}
    found = queries.records_page(
        ws.engine,
        ws.region.code,
        ws.info.name,
        ws.spans["current"],
        ws.filters,
        ws.state.sort,
        ws.state.order == "desc",
        ws.state.page,
        ws.now,
        ws.masking,
        list(ws.topics),
    )
    bounds = load_manifest(Path(ws.settings.geo_dir)).get("bounds", {}).get(ws.region.code)
    return [
        sections.controls(ws, options),
        sections.kpi_cards(ws, kpi_sheet(ws), allowed),
        sections.trend(ws, trend_sheet(ws), allowed),
        sections.compare(ws, compare_sheet(ws), allowed, bounds),
        sections.breakdown(ws, parts, allowed),
        sections.records(ws, found, allowed),
    ]


# Pickers rewrite the address in the browser (assets/explore.js); the page router then draws the new view.
clientside_callback(
    ClientsideFunction("explore", "navigate"),
    Output("explore-location", "search"),
    Input("explore-area", "value"),
    Input("explore-measure", "value"),
    Input({"explore-filter": ALL}, "value"),
    Input("explore-dates", "start_date"),
    Input("explore-dates", "end_date"),
    Input("explore-search", "value"),
    State("explore-location", "search"),
    prevent_initial_call=True,
)
