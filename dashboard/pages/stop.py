"""公交站屏: the next buses at a stop, the weather and rotating policy publicity, in very large type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html
from flask import current_app

from dashboard import validate
from dashboard.board_queries import feed_freshness, forecast, next_buses, publicity_items
from dashboard.cache import warehouse_version
from dashboard.freshness import freshness_label
from dashboard.kiosk import canvas, error_screen, seconds, version_marker
from dashboard.panels import number
from geo.codes import is_within
from layouts.profiles import profile_for

dash.register_page(
    __name__, path_template="/stop/<stop_id>", title="乡村大脑 · 公交站屏", access="screen", ids=("stop-",)
)

BODY_CHARS = 48  # publicity text is cut to what fits in very large type


def _context():
    config = current_app.config
    return config["RURALBRAIN_SETTINGS"], config["RURALBRAIN_ENGINE"]


def _known_stop(stop_id: str) -> dict | None:
    """The stop (name, region) when it is in the warehouse and within the deployment's root, else None."""
    settings, engine = _context()
    known = validate.known_stop(engine, stop_id)
    if known is None or not known["region_code"]:
        return known
    root = validate.root_of(engine, settings.root_region)
    return known if root is None or is_within(known["region_code"], root.code) else None


def _arrivals(buses: list[dict]) -> list:
    """One row per expected bus: route, where it goes, minutes away."""
    if not buses:
        return [html.Div("暂无到站预报", className="stop-empty")]
    return [
        html.Div(
            className="bus",
            children=[
                html.Span(bus["route"], className="bus-route"),
                html.Span(f"开往 {bus['direction'].split('—')[-1]}", className="bus-direction"),
                html.Span(
                    "即将进站" if bus["minutes"] <= 1 else f"{bus['minutes']}分钟",
                    className="bus-minutes" + (" soon" if bus["minutes"] <= 1 else ""),
                ),
            ],
        )
        for bus in buses
    ]


def _weather(hours: list[dict]) -> list:
    """The coming hour's weather, and the range of the next twelve hours."""
    if not hours:
        return [html.Div("暂无天气预报", className="stop-empty")]
    temperatures = [h["temperature"] for h in hours if h["temperature"] is not None]
    return [
        html.Div(hours[0]["condition"] or "—", className="weather-now"),
        html.Div(
            f"{number(min(temperatures))}~{number(max(temperatures))}°C" if temperatures else "—",
            className="weather-range",
        ),
    ]


def _publicity(items: list[dict]) -> list:
    """Each item as one rotating card (the first shown until the browser rotates)."""
    if not items:
        return [html.Div("文明乘车 平安出行", className="stop-item active", id={"stop-item": 0})]
    return [
        html.Div(
            id={"stop-item": index},
            className="stop-item active" if index == 0 else "stop-item",
            children=[
                html.H3(item["title"]),
                html.P(item["body"][:BODY_CHARS] + ("…" if len(item["body"] or "") > BODY_CHARS else ""))
                if item["body"]
                else None,
            ],
        )
        for index, item in enumerate(items)
    ]


# How many arrivals a screen lists: rows of very large type, fewer on a landscape panel.
ROWS = {"landscape": 5, "portrait": 5}


def _content(stop_id: str, region: str | None, orientation: str) -> tuple[list, list, list, str, str]:
    """(arrivals, weather, publicity, 数据截至, its class) as of now."""
    _settings, engine = _context()
    now = datetime.now(UTC)
    minute = now.replace(second=0, microsecond=0)
    hour = now.replace(minute=0, second=0, microsecond=0)
    buses = next_buses(engine, stop_id, minute, limit=ROWS[orientation])
    hours = forecast(engine, region, hour, hour + timedelta(hours=12))["hours"] if region else []
    items = publicity_items(engine, region, minute) if region else []
    label, stale = freshness_label(("bus_arrivals",), feed_freshness(engine), now)
    label_class = "stop-asof stale" if stale else "stop-asof"
    return _arrivals(buses), _weather(hours), _publicity(items), label, label_class


def problem(stop_id: str | None = None, **_query) -> str | None:
    """Why the screen of this address cannot be shown (a malformed or unknown stop id), or None: the page draws
    it, and the ops page lists a screen showing it as 错误."""
    if not stop_id or not validate.STOP_ID.match(stop_id):
        return "站点编号无效"
    return None if _known_stop(stop_id) else f"未找到站点编号 {stop_id} 的站点"


def layout(stop_id: str | None = None, profile: str = "stop-landscape", rotate: str = "", refresh: str = "", **_q):
    """The screen of a stop for ``?profile=…[&rotate=s&refresh=s]``; no controls, nothing to touch."""
    chosen = profile_for("stop", profile)
    reason = problem(stop_id)
    if reason:
        return error_screen(chosen, "board stop", "board-canvas stop-canvas", "公交站屏", reason)
    known = _known_stop(stop_id)
    arrivals, weather, items, label, label_class = _content(stop_id, known["region_code"], chosen.orientation)
    return html.Div(
        className=f"board stop kiosk {chosen.orientation}",
        children=[
            canvas(
                chosen,
                "board-canvas stop-canvas",
                [
                    html.Header(
                        className="stop-header",
                        children=[
                            html.H1(known["name"]),
                            html.Div(id="stop-clock", className="stop-clock"),
                        ],
                    ),
                    html.Main(
                        className="stop-main",
                        children=[
                            html.Section(
                                className="stop-buses",
                                children=[
                                    html.H2("即将到站"),
                                    html.Div(arrivals, id="stop-arrivals"),
                                    html.Div(label, id="stop-asof", className=label_class),
                                ],
                            ),
                            html.Aside(
                                className="stop-side",
                                children=[
                                    html.Div(weather, id="stop-weather", className="stop-weather"),
                                    html.Div(items, id="stop-publicity", className="stop-publicity"),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
            version_marker("stop", warehouse_version(_context()[1])),
            dcc.Store(id="stop-scope", data={"stop_id": stop_id, "profile": chosen.name}),
            dcc.Interval(id="stop-refresh", interval=seconds(refresh, chosen.refresh_seconds) * 1000),
            dcc.Interval(id="stop-rotate", interval=seconds(rotate, chosen.rotate_seconds) * 1000),
            dcc.Interval(id="stop-tick", interval=10_000),
        ],
    )


@callback(
    Output("stop-arrivals", "children"),
    Output("stop-weather", "children"),
    Output("stop-publicity", "children"),
    Output("stop-asof", "children"),
    Output("stop-asof", "className"),
    Input("stop-refresh", "n_intervals"),
    State("stop-scope", "data"),
    prevent_initial_call=True,
)
def refresh(_tick, scope):
    """The stop's arrivals, weather and publicity as of now; only the stop id is taken from the browser (its
    region is the warehouse's), and an unknown or malformed one is refused with 400."""
    stop_id = validate.stop_id(validate.mapping(scope, ("stop_id",), "stop-scope")["stop_id"])
    known = _known_stop(stop_id)
    if known is None:
        validate.refuse(f"未找到站点 {stop_id}")
    profile = scope.get("profile")
    return _content(
        stop_id, known["region_code"], profile_for("stop", profile if isinstance(profile, str) else None).orientation
    )


# Publicity rotates in the browser, one card at a time.
clientside_callback(
    """
    function(n, ids) {
        var state = window.ruralbrainStop || (window.ruralbrainStop = { index: 0, rotations: 0 });
        if (n) { state.index = (state.index + 1) % ids.length; state.rotations += 1; }
        var shown = state.index % ids.length;
        return ids.map(function (_, i) { return i === shown ? "stop-item active" : "stop-item"; });
    }
    """,
    Output({"stop-item": ALL}, "className"),
    Input("stop-rotate", "n_intervals"),
    State({"stop-item": ALL}, "id"),
)

clientside_callback(
    """
    function(n) {
        return new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit",
                                                        minute: "2-digit", hour12: false });
    }
    """,
    Output("stop-clock", "children"),
    Input("stop-tick", "n_intervals"),
)
