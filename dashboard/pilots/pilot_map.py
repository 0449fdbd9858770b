"""The map of /pilots: the scope's regions drawn from the geometry routes (no tile service unless one is
configured), and a circle per pilot at its region, coloured by its score (达标 1, 部分达标 0.5 of its items)."""

from __future__ import annotations

from pathlib import Path

import dash_leaflet as dl
from dash import html

from dashboard.basemap import tile_layers
from dashboard.geometry import load_manifest
from dashboard.mapview import fit_view
from dashboard.pilots.view import PilotsView
from etl.warehouse.pilot_reports.acceptance import POINTS

# The score bands a pilot's circle is coloured by: colour, label, lowest share of points.
BANDS = (("#2e9d57", "≥80%", 0.8), ("#e0a21b", "50%–80%", 0.5), ("#d64545", "<50%", 0.0))
UNSCORED = ("#8a96a3", "未评分")


def points_share(view: PilotsView, pilot_id: str) -> float | None:
    """A pilot's points over its items this month (None when it has no scores)."""
    found = view.scores.get(pilot_id, {})
    return sum(POINTS[score.status] for score in found.values()) / len(found) if found else None


def colour(value: float | None) -> str:
    """The band colour of a share of points."""
    if value is None:
        return UNSCORED[0]
    return next(band[0] for band in BANDS if value >= band[2])


def _map_region(view: PilotsView) -> str:
    code = view.scope or view.programme.region_code
    return code.ljust(12, "0")


def pilot_map(view: PilotsView, settings) -> html.Section:
    """The map with the pilots, and its legend."""
    folder = Path(settings.geo_dir)
    bounds_of = load_manifest(folder).get("bounds", {})
    region = _map_region(view)
    bounds = bounds_of.get(region) or [73, 18, 135, 54]
    center, zoom = fit_view(bounds, width=900, height=460)
    kind = "children" if (folder / "children" / f"{region}.geojson").is_file() else "regions"
    markers = []
    for pilot in view.pilots:
        box = bounds_of.get(pilot.region_code or "")
        if not box:
            continue  # a pilot under no region (or a region without geometry) is listed, not drawn
        value = points_share(view, pilot.pilot_id)
        text = f"{pilot.name}：" + ("未评分" if value is None else f"得分率 {100 * value:.0f}%")
        markers.append(
            dl.CircleMarker(
                center=[(box[1] + box[3]) / 2, (box[0] + box[2]) / 2],
                radius=11 if pilot.kind == "township" else 7,
                color="#ffffff",
                weight=2,
                fillColor=colour(value),
                fillOpacity=0.95,
                children=[dl.Tooltip(text)],
            )
        )
    legend = [
        html.Span([html.I(className="pilots-swatch", style={"background": c}), label])
        for c, label, _ in (*BANDS, (*UNSCORED, 0))
    ]
    return html.Section(
        id="pilots-map-panel",
        className="pilots-panel pilots-map-panel",
        children=[
            html.Div(
                [
                    html.H2("试点分布"),
                    html.Span(
                        "圆点颜色：本月参考指标得分率（达标1分、部分达标0.5分）；大圆点为数字乡镇",
                        className="pilots-note",
                    ),
                ],
                className="pilots-bar",
            ),
            dl.Map(
                id="pilots-map",
                center=center,
                zoom=zoom,
                zoomSnap=0.1,
                attributionControl=False,
                className="pilots-map",
                children=[
                    *tile_layers(settings),
                    dl.GeoJSON(
                        url=f"/geo/{kind}/{region}.geojson",
                        style={"variable": "ruralbrain.regionStyle"},
                        onEachFeature={"variable": "ruralbrain.labelRegion"},
                        id="pilots-regions",
                    ),
                    # A pane above the regions': their geometry arrives after the circles and would cover them.
                    dl.Pane(markers, name="pilots", id="pilots-markers", style={"zIndex": 450}),
                ],
            ),
            html.Div(legend, className="pilots-legend"),
        ],
    )
