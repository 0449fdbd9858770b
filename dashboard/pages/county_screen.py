"""县级大屏: the county command-center screen on a fixed design canvas, scaled to any wall, drillable.

The page arrives with its content (dcc.Store ``screen-content``); a refresh replaces that one Store, and
assets/ruralbrain.js draws panels, 数据截至, ticker and counters from it in the browser. Drill-down and
theme rotation run in the browser too, so a click costs one request: the page of the new scope.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from flask import current_app

from dashboard import validate
from dashboard.basemap import display_crs, tile_layers
from dashboard.county_content import content_for, panel_lists, payload
from dashboard.county_scope import scope_for
from dashboard.geometry import load_manifest
from dashboard.kiosk import canvas, error_screen, seconds, version_marker
from dashboard.mapview import fit_view
from dashboard.panels import panels
from dashboard.privacy import private_topics, scrub
from dashboard.regions import root_region
from etl.warehouse.labels import DEVICE_KINDS
from geo.crs import wgs84_to_gcj02
from layouts.profiles import profile_for

dash.register_page(__name__, path="/screen/county", title="乡村大脑 · 县级大屏", access="screen", ids=("screen-",))


def _context():
    config = current_app.config
    return config["RURALBRAIN_SETTINGS"], config["RURALBRAIN_ENGINE"]


def _place(panel) -> dict:
    return {"left": panel.x, "top": panel.y, "width": panel.width, "height": panel.height}


def _breadcrumb(path: list, kept: str) -> list:
    """县 › 镇 › 村 with links back up (each keeping the screen's other parameters)."""
    items = []
    for index, (code, name) in enumerate(path):
        if index:
            items.append(html.Span("›", className="crumb-sep"))
        if index == len(path) - 1:
            items.append(html.Span(name, className="crumb crumb-current"))
        else:
            href = f"/screen/county?region={code}" + (f"&{kept}" if kept else "")
            items.append(dcc.Link(name, href=href, className="crumb"))
    return items


def problem(**_query) -> str | None:
    """Why the county screen cannot be shown (a warehouse without regions), or None: the page draws it, and the ops
    page lists a screen showing it as 错误."""
    settings, engine = _context()
    return (
        None if root_region(engine, settings.root_region) else "数据仓库中还没有区划：请先导入区划（ruralbrain demo）"
    )


def layout(
    region: str | None = None,
    profile: str = "",
    kiosk: str = "",
    rotate: str = "",
    idle: str = "",
    refresh: str = "",
    **query,
):
    """The screen for ``?region=&profile=&kiosk=1[&rotate=s&idle=s&refresh=s]``, with its content."""
    settings, engine = _context()
    scope = scope_for(settings, engine, region, profile)
    if scope is None:
        return error_screen(profile_for("county", profile), "screen", "screen-canvas", "县级大屏", problem())
    chosen, frame, names, now, content = scope.profile, scope.frame, scope.names, scope.now, scope.content
    # A drill or a breadcrumb link keeps every parameter but the region (profile, kiosk, screen, periods).
    given = {"profile": profile, "kiosk": kiosk, "rotate": rotate, "idle": idle, "refresh": refresh, **query}
    kept = urlencode({key: value for key, value in given.items() if value})
    sections = []
    for place in chosen.panels:
        if place.name == "kpis":
            sections.append(_title(place, frame, kept))
        elif place.name == "map":
            sections.append(_map(place, frame, content.data["themes"][0], scope.devices, settings, kiosk))
        elif place.name == "ticker":
            sections.append(html.Div(id="ticker", className="ticker", style=_place(place)))
        elif place.name in panels():
            sections.append(_panel(place))
    return html.Div(
        className="screen" + (" kiosk" if kiosk else ""),
        # The scripts draw a content only into the page it was made for (not into the one a drill replaces).
        **{"data-key": content.data["key"]},
        children=[
            canvas(chosen, "screen-canvas", sections),
            version_marker("screen", content.version),
            dcc.Store(id="screen-scope", data={"scope": frame["selected"], "shown": frame["shown"], "names": names}),
            dcc.Store(id="screen-content", data=payload(content, now)),
            # The digest of the content on screen (kept by assets/ruralbrain.js), sent with each refresh.
            dcc.Store(id="screen-shown", data=content.digest),
            dcc.Store(id="screen-theme", data=0),
            dcc.Interval(id="screen-refresh", interval=seconds(refresh, chosen.refresh_seconds) * 1000),
            dcc.Interval(
                id="screen-rotate", interval=seconds(rotate, chosen.rotate_seconds) * 1000, disabled=not kiosk
            ),
            dcc.Store(id="screen-idle", data=seconds(idle, chosen.idle_seconds)),
        ],
    )


def _title(place, frame: dict, kept: str) -> html.Header:
    """The title bar: the county's name, the breadcrumb, today's counters and the overall data state."""
    return html.Header(
        id="panel-kpis",
        className="screen-title",
        style=_place(place),
        children=[
            # The county's name is the breadcrumb's first link: once in the title bar, not twice.
            html.H1("乡村大脑"),
            html.Nav(_breadcrumb(frame["path"], kept), id="breadcrumb", className="breadcrumb"),
            # Drawn by assets/ruralbrain.js from the content.
            html.Div(id="screen-kpis", className="kpi-strip"),
            html.Div(id="screen-state", className="screen-state"),
        ],
    )


def _panel(place) -> html.Section:
    """A panel's frame; assets/ruralbrain.js draws its body and 数据截至 from the content."""
    panel = panels()[place.name]
    return html.Section(
        id=f"panel-{panel.name}",
        className="panel",
        style=_place(place),
        children=[html.H2(panel.title), html.Div(className="panel-body"), html.Div(className="panel-asof")],
    )


def _map(place, frame: dict, first: dict, devices: list | None, settings, kiosk: str) -> html.Section:
    """The drillable choropleth of the shown region's children, with the village's devices at village level."""
    bounds = load_manifest(Path(settings.geo_dir)).get("bounds", {}).get(frame["shown"]) or [73, 18, 135, 54]
    center, zoom = fit_view(bounds, place.width, place.height)
    selected = frame["selected"] if frame["selected"] != frame["shown"] else None
    return html.Section(
        className="panel panel-map",
        style=_place(place),
        children=[
            html.Div(id="map-theme", className="map-theme"),  # the legend, drawn by assets/ruralbrain.js
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
                        url=f"/geo/children/{frame['shown']}.geojson",
                        style={"variable": "ruralbrain.choroplethStyle"},
                        # Names each region; a click drills the screen into it (assets/ruralbrain.js).
                        onEachFeature={"variable": "ruralbrain.drillRegion"},
                        # No clickData or hoverData for Dash: nothing listens, and each cost a round of its
                        # callback machinery on every click and every region the pointer crossed.
                        disableDefaultEventHandlers=True,
                        hoverStyle={"variable": "ruralbrain.hoverStyle"},
                        # The first theme's colours come with the page: dash-leaflet ignores a hideout
                        # change that arrives while it is still fetching the geometry.
                        hideout={
                            "selected": selected,
                            "values": first["values"],
                            "max": first["max"],
                            "ramp": first["ramp"],
                        },
                    ),
                    # At village level: the village's devices, coloured by status, in a pane above the regions
                    # (whose geometry arrives later and was drawn over them: no device could be hovered).
                    dl.Pane(
                        name="devices",
                        style={"zIndex": 450},
                        children=dl.GeoJSON(
                            id="screen-devices",
                            data=_device_points(devices, display_crs(settings)) if devices is not None else None,
                            pointToLayer={"variable": "ruralbrain.devicePoint"},
                            # Its own tooltips, as text: dash-leaflet's default binds properties.tooltip with
                            # Leaflet's bindTooltip(string), which writes the string as HTML.
                            onEachFeature={"variable": "ruralbrain.deviceTooltip"},
                        ),
                    ),
                ],
            ),
            html.Div("虚线为示意边界" if frame["schematic"] else "", className="map-note"),
        ],
    )


STATUS_COLOURS = {"ok": "#3ddc84", "alarm": "#ff5252", "silent": "#8a8f98"}


def _device_points(devices: list, crs: str) -> dict:
    """The village's devices as GeoJSON points around its label point (in the map's CRS), with status and a
    label (scrubbed text, drawn as text by assets/ruralbrain.js)."""
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
        kind = DEVICE_KINDS.get(device["kind"], device["kind"])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},  # 0.1 m
                "properties": {
                    "colour": STATUS_COLOURS[device["status"]],
                    "status": device["status"],
                    "label": scrub(f"{kind} {device['device_id']}：{state}"),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@callback(
    Output("screen-content", "data"),
    Input("screen-refresh", "n_intervals"),
    State("screen-scope", "data"),
    State("screen-shown", "data"),
    prevent_initial_call=True,  # the page came with its content
)
def refresh(_tick, scope, shown):
    """The scope's content now (or that it is the one on screen): one output, cached per scope, version
    and minute, drawn by the browser. What the browser sends is checked first (400 with the reason): a scope
    at or below the deployment's root, the region the map shows (it or its parent), the panels of a profile."""
    settings, engine = _context()
    scope = validate.mapping(scope, ("scope", "shown", "names"), "screen-scope")
    selected = validate.region_in_root(engine, settings.root_region, scope["scope"], "scope")
    drawn = validate.region_in_root(engine, settings.root_region, scope["shown"], "shown")
    if drawn.code not in (selected.code, selected.parent_code):
        validate.refuse("shown 应为 scope 本身或其上级区划")
    names = validate.names(scope["names"], panels(), "names")
    if names not in panel_lists():
        validate.refuse("names 应为某个屏幕配置的板块列表")
    shown = validate.digest(shown)
    now = datetime.now(UTC)
    private = private_topics(settings.sensitive_categories)
    content = content_for(engine, selected.code, drawn.code, names, now, private)
    return payload(content, now, shown)


# The browser draws every content it gets (panels, 数据截至 and staleness, ticker, counters, legend) and
# colours the map by the current theme: a rotation needs no request.
clientside_callback(
    ClientsideFunction(namespace="ruralbrain", function_name="showContent"),
    Output("screen-geojson", "hideout"),
    Input("screen-content", "data"),
    Input("screen-theme", "data"),
    State("screen-geojson", "hideout"),
)

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
