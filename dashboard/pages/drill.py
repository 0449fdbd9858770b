"""区划下钻: the county map drilled to a township and a village, with a breadcrumb back (no tile service)."""

from __future__ import annotations

from pathlib import Path

import dash
import dash_leaflet as dl
from dash import Input, Output, State, callback, dcc, html, no_update
from flask import current_app

from dashboard import validate
from dashboard.auth.viewer import require_within, sees
from dashboard.basemap import tile_layers
from dashboard.geometry import load_manifest
from dashboard.mapview import fit_view
from dashboard.regions import ancestors, children, get_region, root_region
from geo.codes import CodeError, normalize_code

dash.register_page(__name__, path="/", title="乡村大脑 · 区划下钻", access="screen", ids=("drill-",))


def _context():
    config = current_app.config
    return config["RURALBRAIN_SETTINGS"], config["RURALBRAIN_ENGINE"]


def _breadcrumb(path) -> list:
    items = []
    for index, region in enumerate(path):
        if index:
            items.append(html.Span("›", className="crumb-sep"))
        last = index == len(path) - 1
        items.append(
            html.Span(region.name, className="crumb crumb-current")
            if last
            else dcc.Link(region.name, href=f"/?region={region.code}", className="crumb")
        )
    return items


def _info(region) -> list:
    if region is None:
        return []
    lines = [html.H3(region.name), html.Div(f"区划代码 {region.code}", className="info-code")]
    if region.households is not None:
        lines.append(html.Div(f"户数 {region.households:,}"))
    if region.population is not None:
        lines.append(html.Div(f"人口 {region.population:,}"))
    if region.boundary == "schematic":
        lines.append(html.Div("示意边界", className="schematic-note"))
    return lines


def layout(region: str | None = None, **_query) -> html.Div:
    """The drill-down for ``?region=<code>``: the map of its children (a village shows its siblings)."""
    settings, engine = _context()
    root = root_region(engine, settings.root_region)
    if root is None:
        return html.Div("数据仓库中还没有区划。请先运行 ruralbrain demo 或 ruralbrain geo import。", className="empty")
    try:
        selected = get_region(engine, normalize_code(region)) if region else root
    except CodeError:
        selected = None
    selected = selected or root
    require_within(selected.code)  # another township's code in the address: 403, audited
    path = ancestors(engine, selected.code, root.code) or [root]
    # A village is a leaf: show its township's villages with the village highlighted, when the viewer may see
    # them; a village clerk sees their village alone.
    shown = selected
    if not children(engine, selected.code) and selected.parent_code and sees(selected.parent_code):
        shown = get_region(engine, selected.parent_code) or selected
    manifest = load_manifest(Path(settings.geo_dir))
    bounds = manifest.get("bounds", {}).get(shown.code) or [73, 18, 135, 54]
    center, zoom = fit_view(bounds)
    kids = children(engine, shown.code)
    schematic = any(kid.boundary == "schematic" for kid in kids)
    return html.Div(
        className="drill",
        children=[
            html.Header(
                className="drill-header",
                children=[
                    html.H1("乡村大脑"),  # the county leads the breadcrumb: named once
                    html.Nav(_breadcrumb(path), id="breadcrumb", className="breadcrumb"),
                    dcc.Link("领导工作台", href=f"/explore?region={selected.code}", className="crumb"),
                ],
            ),
            dl.Map(
                id="region-map",
                center=center,
                zoom=zoom,
                zoomSnap=0.1,
                viewport={"center": center, "zoom": zoom},
                attributionControl=False,
                className="region-map",
                children=[
                    *tile_layers(settings),
                    dl.GeoJSON(
                        id="region-geojson",
                        url=f"/geo/{'children' if kids else 'regions'}/{shown.code}.geojson",
                        style={"variable": "ruralbrain.regionStyle"},
                        onEachFeature={"variable": "ruralbrain.labelRegion"},
                        hoverStyle={"variable": "ruralbrain.hoverStyle"},
                        hideout={"selected": selected.code if selected.code != shown.code else None},
                    ),
                ],
            ),
            html.Aside(_info(selected) if selected.level == "village" else [], id="region-info", className="info"),
            html.Div(
                f"{shown.name}：{len(kids)}个下级区划" + ("；虚线为示意边界" if schematic else ""),
                id="map-legend",
                className="legend",
            ),
            dcc.Location(id="drill-location", refresh="callback-nav"),
        ],
    )


@callback(
    Output("drill-location", "search"),
    Input("region-geojson", "clickData"),
    State("drill-location", "search"),
    prevent_initial_call=True,
)
def drill(feature, search):
    """Clicking a region drills into it (a village is selected instead): the URL carries the selection."""
    if not feature:
        return no_update
    properties = validate.mapping(feature, ("properties",), "clickData")["properties"]
    code = validate.mapping(properties, ("code",), "clickData.properties")["code"]
    if not isinstance(code, str) or not validate.CODE.match(code):
        validate.refuse("clickData 的区划代码应为12位数字")
    require_within(code)
    target = f"?region={code}"
    return target if target != search else no_update
