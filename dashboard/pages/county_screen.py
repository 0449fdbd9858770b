"""县级大屏: the county command-center screen on a fixed design canvas, scaled to any wall, drillable."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html, no_update
from flask import current_app

from dashboard.basemap import display_crs, tile_layers
from dashboard.cache import versioned
from dashboard.devices import alarms_now, devices_now
from dashboard.freshness import freshness_label
from dashboard.geometry import load_manifest
from dashboard.kiosk import canvas, seconds
from dashboard.mapview import fit_view
from dashboard.panels import LOCAL, Window, panels
from dashboard.plain import plain
from dashboard.queries import children_values, freshness, latest_cases, measure_totals
from dashboard.regions import ancestors, children, get_region, root_region
from etl.warehouse.db import as_utc
from geo.codes import CodeError, normalize_code
from geo.crs import wgs84_to_gcj02
from layouts.profiles import profile_for

dash.register_page(__name__, path="/screen/county", title="乡村大脑 · 县级大屏")

# The map's themes (rotated in kiosk mode): a headline measure per area, over the last 30 days.
THEMES = [
    {"key": "cases.received", "label": "治理 · 受理事件", "unit": "件", "value": "count"},
    {"key": "ecommerce.sales", "label": "产业 · 电商销售额", "unit": "元", "value": "total"},
    {"key": "livelihood.events", "label": "民生 · 服务场次", "unit": "场", "value": "count"},
    {"key": "waste.tonnage", "label": "人居环境 · 垃圾清运", "unit": "吨", "value": "total"},
    {"key": "security.incidents", "label": "安全 · 治安事件", "unit": "起", "value": "count"},
]
CATEGORY_NAMES = {"conflict": "矛盾", "dispute": "纠纷", "request": "请求", "appeal": "诉求"}
STATUS_NAMES = {"received": "受理", "in_progress": "处置中", "closed": "办结", "rated": "已评价"}


def _context():
    config = current_app.config
    return config["RURALBRAIN_SETTINGS"], config["RURALBRAIN_ENGINE"]


def _place(panel) -> dict:
    return {"left": panel.x, "top": panel.y, "width": panel.width, "height": panel.height}


def _scope(engine, settings, region: str | None):
    """(root, selected, shown): the selected region and the region whose children the map shows."""
    root = root_region(engine, settings.root_region)
    try:
        selected = get_region(engine, normalize_code(region)) if region else root
    except CodeError:
        selected = None
    selected = selected if selected and ancestors(engine, selected.code, root.code) else root
    shown = selected if children(engine, selected.code) else get_region(engine, selected.parent_code) or selected
    return root, selected, shown


def _breadcrumb(path, kiosk: str) -> list:
    items = []
    for index, region in enumerate(path):
        if index:
            items.append(html.Span("›", className="crumb-sep"))
        href = f"/screen/county?region={region.code}" + ("&kiosk=1" if kiosk else "")
        last = index == len(path) - 1
        items.append(
            html.Span(region.name, className="crumb crumb-current")
            if last
            else dcc.Link(region.name, href=href, className="crumb")
        )
    return items


def layout(region: str | None = None, profile: str = "", kiosk: str = "", rotate: str = "", idle: str = "", **_query):
    """The screen for ``?region=&profile=&kiosk=1[&rotate=s&idle=s]``; numbers arrive through the refresh callback."""
    settings, engine = _context()
    chosen = profile_for("county", profile)
    if root_region(engine, settings.root_region) is None:
        return html.Div("数据仓库中还没有区划。请先运行 ruralbrain demo。", className="empty")
    root, selected, shown = _scope(engine, settings, region)
    bounds = load_manifest(Path(settings.geo_dir)).get("bounds", {}).get(shown.code) or [73, 18, 135, 54]
    map_panel = next(p for p in chosen.panels if p.name == "map")
    first_theme, first_legend = _theme(engine, shown.code, 0)
    center, zoom = fit_view(bounds, map_panel.width, map_panel.height)
    sections = []
    for place in chosen.panels:
        if place.name == "kpis":
            sections.append(
                html.Header(
                    id="panel-kpis",
                    className="screen-title",
                    style=_place(place),
                    children=[
                        html.H1(f"乡村大脑 · {root.name}"),
                        html.Nav(
                            _breadcrumb(ancestors(engine, selected.code, root.code), kiosk),
                            id="breadcrumb",
                            className="breadcrumb",
                        ),
                        html.Div(id="screen-kpis", className="kpi-strip"),
                        html.Div(id="screen-state", className="screen-state"),
                    ],
                )
            )
        elif place.name == "map":
            sections.append(
                html.Section(
                    className="panel panel-map",
                    style=_place(place),
                    children=[
                        html.Div(first_legend, id="map-theme", className="map-theme"),
                        dl.Map(
                            id="screen-map",
                            center=center,
                            zoom=zoom,
                            zoomSnap=0.1,
                            viewport={"center": center, "zoom": zoom},
                            attributionControl=False,
                            zoomControl=not kiosk,
                            className="screen-map",
                            children=[
                                *tile_layers(settings),
                                dl.GeoJSON(
                                    id="screen-geojson",
                                    url=f"/geo/children/{shown.code}.geojson",
                                    style={"variable": "ruralbrain.choroplethStyle"},
                                    onEachFeature={"variable": "ruralbrain.labelRegion"},
                                    hoverStyle={"variable": "ruralbrain.hoverStyle"},
                                    # The first theme's colours come with the page: dash-leaflet ignores a
                                    # hideout change that arrives while it is still fetching the geometry.
                                    hideout={
                                        "selected": selected.code if selected.code != shown.code else None,
                                        **first_theme,
                                    },
                                ),
                                # At village level: the village's devices, coloured by status.
                                dl.GeoJSON(
                                    id="screen-devices",
                                    data=_device_points(engine, selected, display_crs(settings))
                                    if selected.level == "village"
                                    else None,
                                    pointToLayer={"variable": "ruralbrain.devicePoint"},
                                ),
                            ],
                        ),
                        html.Div(
                            "虚线为示意边界"
                            if any(k.boundary == "schematic" for k in children(engine, shown.code))
                            else "",
                            className="map-note",
                        ),
                    ],
                )
            )
        elif place.name == "ticker":
            sections.append(html.Div(id="ticker", className="ticker", style=_place(place)))
        elif place.name in panels():
            panel = panels()[place.name]
            sections.append(
                html.Section(
                    id=f"panel-{panel.name}",
                    className="panel",
                    style=_place(place),
                    children=[
                        html.H2(panel.title),
                        html.Div(id={"panel": panel.name, "part": "body"}, className="panel-body"),
                        html.Div(id={"panel": panel.name, "part": "asof"}, className="panel-asof"),
                    ],
                )
            )
    return html.Div(
        className="screen" + (" kiosk" if kiosk else ""),
        children=[
            canvas(chosen, "screen-canvas", sections),
            dcc.Store(id="screen-scope", data={"scope": selected.code, "shown": shown.code, "profile": chosen.name}),
            dcc.Store(id="screen-theme", data=0),
            dcc.Interval(id="screen-refresh", interval=chosen.refresh_seconds * 1000),
            dcc.Interval(
                id="screen-rotate", interval=seconds(rotate, chosen.rotate_seconds) * 1000, disabled=not kiosk
            ),
            dcc.Store(id="screen-idle", data=seconds(idle, chosen.idle_seconds)),
            dcc.Location(id="screen-location", refresh="callback-nav"),
        ],
    )


@versioned
def _rendered(engine, name: str, scope: str, today: str) -> list:
    """A panel's content for a scope and local day, cached until the next load changes the warehouse."""
    return panels()[name].render(engine, scope, Window.at(datetime.now(UTC)))


KIND_NAMES = {
    "bin": "垃圾桶",
    "sewage_plant": "污水处理站",
    "air": "空气监测",
    "weather": "气象站",
    "soil": "土壤墒情",
    "greenhouse": "大棚",
    "camera": "摄像头",
}
STATUS_COLOURS = {"ok": "#3ddc84", "alarm": "#ff5252", "silent": "#8a8f98"}


def _device_points(engine, village, crs: str) -> dict:
    """The village's devices as GeoJSON points around its label point (in the map's CRS), with status and a
    tooltip."""
    devices = devices_now(engine, village.code, datetime.now(UTC))
    features = []
    for index, device in enumerate(devices):
        angle = 2 * math.pi * index / max(len(devices), 1)
        # Devices without surveyed coordinates stand in a small ring around the village's label point.
        lon = device["lon"] + 0.004 * math.cos(angle) if device["lon"] is not None else None
        lat = device["lat"] + 0.003 * math.sin(angle) if device["lat"] is not None else None
        if lon is None or lat is None:
            continue
        if crs == "gcj02":
            lon, lat = (float(v) for v in wgs84_to_gcj02(lon, lat))
        state = "、".join(device["alarms"]) or {"ok": "正常", "silent": "无信号"}.get(device["status"], "")
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "colour": STATUS_COLOURS[device["status"]],
                    "status": device["status"],
                    "tooltip": f"{KIND_NAMES.get(device['kind'], device['kind'])} {device['device_id']}：{state}",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@callback(
    Output({"panel": ALL, "part": "body"}, "children"),
    Output({"panel": ALL, "part": "asof"}, "children"),
    Output({"panel": ALL, "part": "asof"}, "className"),
    Output("ticker", "children"),
    Output("screen-state", "children"),
    Output("screen-kpis", "children"),
    Input("screen-refresh", "n_intervals"),
    State("screen-scope", "data"),
    State({"panel": ALL, "part": "body"}, "id"),
)
def refresh(_tick, scope, ids):
    """Every panel's numbers, 数据截至 and staleness, the ticker and the overall state, for the scope."""
    _settings, engine = _context()
    now = datetime.now(UTC)
    names = tuple(identity["panel"] for identity in ids)
    content = _screen_content(engine, scope["scope"], names, f"{now.astimezone(LOCAL):%Y-%m-%d %H:%M}")
    state = "数据正常" if not content["stale"] else f"{content['stale']} 个板块数据滞后"
    return (
        content["bodies"],
        content["labels"],
        content["classes"],
        content["ticker"],
        [html.Span(state), html.Span(f"更新于 {now.astimezone(LOCAL):%H:%M:%S}", className="updated")],
        content["kpis"],
    )


@versioned
def _screen_content(engine, scope: str, names: tuple[str, ...], minute: str) -> dict:
    """What a refresh shows for a scope, as plain JSON: the same for every screen on that scope until the
    next load or the next minute (ages and alarms are minute-grained), so a wall of screens costs one render."""
    now = datetime.now(UTC)
    window = Window.at(now)
    fresh = freshness(engine, scope)
    bodies, labels, classes = [], [], []
    stale_count = 0
    for name in names:
        panel = panels()[name]
        bodies.append(_rendered(engine, panel.name, scope, window.today.isoformat()))
        label, stale = freshness_label(panel.datasets, fresh, now)
        stale_count += stale
        labels.append(label)
        classes.append("panel-asof stale" if stale else "panel-asof")
    alarms = [
        html.Span(f"⚠ {device['village_name']} {name}", className="ticker-item ticker-alarm")
        for device in alarms_now(engine, scope, now)
        for name in device["alarms"]
    ]
    ticker = alarms + [
        html.Span(
            f"{as_utc(c['time']).astimezone(LOCAL):%m-%d %H:%M} "
            f"{c['village']} {CATEGORY_NAMES.get(c['category'], '')}·{STATUS_NAMES.get(c['status'], '')} "
            f"{c['title']} {c['reporter']}",
            className="ticker-item",
        )
        for c in latest_cases(engine, scope)
    ]
    return {
        "bodies": plain(bodies),
        "labels": labels,
        "classes": classes,
        "stale": stale_count,
        "ticker": plain(html.Div(ticker, className="ticker-track")),
        "kpis": plain(_kpis(engine, scope, window)),
    }


KPIS = [
    ("今日受理", "cases.received", "count", "件"),
    ("今日办结", "cases.closed", "count", "件"),
    ("今日游客", "tourism.visitors", "total", "人次"),
    ("今日清运", "waste.tonnage", "total", "吨"),
]


def _kpis(engine, scope: str, window) -> list:
    """Today's headline counters for the title bar."""
    totals = measure_totals(engine, scope, [key for _, key, _, _ in KPIS], window.today, window.tomorrow)
    items = []
    for label, key, field, unit in KPIS:
        value = sum(v[field] for v in totals[key].values())
        items.append(html.Span([label, html.B(f"{value:,.0f}"), unit]))
    return items


@callback(
    Output("screen-geojson", "hideout"),
    Output("map-theme", "children"),
    Input("screen-theme", "data"),
    Input("screen-refresh", "n_intervals"),
    State("screen-scope", "data"),
    State("screen-geojson", "hideout"),
    prevent_initial_call=True,
)
def choropleth(theme_index, _tick, scope, hideout):
    """The current theme's headline number per child region, for the map's colours and the legend."""
    _settings, engine = _context()
    values, legend = _theme(engine, scope["shown"], theme_index)
    return {**(hideout or {}), **values}, legend


def _theme(engine, shown: str, theme_index: int | None) -> tuple[dict, list]:
    """({"values", "max"}, legend) of a theme for the children of ``shown``."""
    window = Window.at(datetime.now(UTC))
    theme = THEMES[(theme_index or 0) % len(THEMES)]
    values = children_values(engine, shown, theme["key"], window.month_start, window.tomorrow)
    numbers = {code: v[theme["value"]] for code, v in values.items()}
    top = max(numbers.values(), default=0)
    legend = [
        html.Span(theme["label"], className="theme-label"),
        html.Span(f"最高 {top:,.0f}{theme['unit']}" if numbers else "暂无数据", className="theme-max"),
    ]
    return {"values": numbers, "max": top}, legend


@callback(
    Output("screen-location", "search"),
    Input("screen-geojson", "clickData"),
    State("screen-location", "search"),
    prevent_initial_call=True,
)
def drill(feature, search):
    """Clicking a region drills the whole screen into it; the URL carries the selection (bookmarkable)."""
    if not feature:
        return no_update
    kiosk = "&kiosk=1" if search and "kiosk=1" in search else ""
    target = f"?region={feature['properties']['code']}{kiosk}"
    return target if target != search else no_update


# Kiosk rotation runs in the browser: a touch pauses it, and it resumes after the profile's idle time.
clientside_callback(
    """
    function(n, theme, idleSeconds) {
        var last = window.ruralbrainLastTouch || 0;
        if (Date.now() - last < idleSeconds * 1000) { return window.dash_clientside.no_update; }
        return (theme || 0) + 1;
    }
    """,
    Output("screen-theme", "data"),
    Input("screen-rotate", "n_intervals"),
    State("screen-theme", "data"),
    State("screen-idle", "data"),
    prevent_initial_call=True,
)
