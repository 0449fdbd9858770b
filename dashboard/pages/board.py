"""村级电子屏: a village e-board in kiosk mode, rotating its profile's slides, readable from 3 m."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import orjson
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html
from flask import current_app
from plotly.io.json import to_json_plotly

from dashboard import validate
from dashboard.auth.viewer import view_scope
from dashboard.board_queries import feed_freshness
from dashboard.cache import version_mark, warehouse_version
from dashboard.freshness import freshness_label
from dashboard.kiosk import canvas, error_screen, seconds, version_marker
from dashboard.panels import Window
from dashboard.recent import Recent
from dashboard.regions import Region, ancestors, get_region, root_region
from dashboard.slides import Context, slides
from geo.codes import CodeError, is_within, normalize_code
from layouts.profiles import profile_for

dash.register_page(
    __name__, path_template="/board/<village>", title="乡村大脑 · 村级电子屏", access="screen", ids=("board-", "part")
)


# The boards' latest refresh answers, by village, slides, orientation, viewer scope, version and the village's minute.
_answers = Recent(512)


def _context():
    config = current_app.config
    return config["RURALBRAIN_SETTINGS"], config["RURALBRAIN_ENGINE"]


def _village(settings, engine, code: str | None) -> Region | None:
    """The village of a board's address, when it is one within the deployment's root."""
    try:
        region = get_region(engine, normalize_code(code)) if code else None
    except CodeError:
        return None
    root = validate.root_of(engine, settings.root_region)
    if region is None or region.level != "village" or (root and not is_within(region.code, root.code)):
        return None
    return region


def _slide_content(context: Context, name: str, fresh: dict) -> tuple[list, str, str]:
    """(body, 数据截至 label, its class) of one slide."""
    slide = slides()[name]
    body = slide.render(context)
    label, stale = freshness_label(slide.datasets, fresh, context.window.now)
    return body, label, "slide-asof stale" if stale else "slide-asof"


def problem(village: str | None = None, **_query) -> str | None:
    """Why the board of this address cannot be shown (no such village within the deployment), or None: the page
    draws it, and the ops page lists a screen showing it as 错误."""
    settings, engine = _context()
    return None if _village(settings, engine, village) else f"未找到区划代码 {village} 的村"


def layout(
    village: str | None = None,
    profile: str = "board-portrait",
    rotate: str = "",
    refresh: str = "",
    idle: str = "",
    **_q,
):
    """The board of ``village`` for ``?profile=board-portrait|board-landscape[&rotate=s&refresh=s&idle=s]``."""
    settings, engine = _context()
    chosen = profile_for("board", profile)
    region = _village(settings, engine, village)
    if region is None:
        return error_screen(chosen, "board", "board-canvas", "村级电子屏", problem(village))
    root = root_region(engine, settings.root_region)
    path = ancestors(engine, region.code, root.code) if root else [region]
    now = datetime.now(UTC)
    version = warehouse_version(engine)
    context = Context(engine, region, Window.at(now), settings, chosen.orientation)
    fresh = feed_freshness(engine)
    names = [name for name in chosen.slides if name in slides()]
    sections = []
    for index, name in enumerate(names):
        body, label, label_class = _slide_content(context, name, fresh)
        sections.append(
            html.Section(
                id={"slide": name, "part": "frame"},
                className="slide active" if index == 0 else "slide",
                children=[
                    html.Div(
                        className="slide-head",
                        children=[
                            html.H2(slides()[name].title, className="slide-title"),
                            html.Div(label, id={"slide": name, "part": "asof"}, className=label_class),
                        ],
                    ),
                    html.Div(body, id={"slide": name, "part": "body"}, className=f"slide-body slide-{name}"),
                ],
            )
        )
    return html.Div(
        className=f"board kiosk {chosen.orientation}",
        children=[
            canvas(
                chosen,
                "board-canvas",
                children=[
                    html.Header(
                        className="board-header",
                        children=[
                            html.H1(region.name),
                            html.Div(" · ".join(r.name for r in path[:-1]), className="board-where"),
                            html.Div(id="board-clock", className="board-clock"),
                        ],
                    ),
                    html.Main(sections, className="board-stage"),
                    html.Footer(
                        className="board-footer",
                        children=[
                            html.Div(
                                [
                                    html.Span(id={"slide": name, "part": "dot"}, className="dot on" if not i else "dot")
                                    for i, name in enumerate(names)
                                ],
                                className="dots",
                            ),
                            html.Span("乡村大脑", className="brand"),
                        ],
                    ),
                ],
            ),
            version_marker("board", version),
            dcc.Store(id="board-scope", data={"village": region.code, "profile": chosen.name}),
            dcc.Store(id="board-idle", data=seconds(idle, chosen.idle_seconds)),
            dcc.Interval(id="board-rotate", interval=seconds(rotate, chosen.rotate_seconds) * 1000),
            dcc.Interval(id="board-refresh", interval=seconds(refresh, chosen.refresh_seconds) * 1000),
            dcc.Interval(id="board-tick", interval=10_000),
        ],
    )


@callback(
    Output({"slide": ALL, "part": "body"}, "children"),
    Output({"slide": ALL, "part": "asof"}, "children"),
    Output({"slide": ALL, "part": "asof"}, "className"),
    Input("board-refresh", "n_intervals"),
    State("board-scope", "data"),
    State({"slide": ALL, "part": "body"}, "id"),
    prevent_initial_call=True,
)
def refresh(_tick, scope, ids):
    """Every slide's content and 数据截至 for the board's village, from the warehouse as it is now. What the
    browser sends is checked first (400 with the reason): a village within the root, known slides."""
    settings, engine = _context()
    region = validate.region_in_root(
        engine, settings.root_region, validate.mapping(scope, ("village",), "board-scope")["village"], "village"
    )
    if region.level != "village":
        validate.refuse(f"village {region.code} 不是村级区划")
    if not isinstance(ids, list) or not all(isinstance(i, dict) and i.get("part") == "body" for i in ids):
        validate.refuse("幻灯片编号格式不正确")
    names = validate.names([identity.get("slide") for identity in ids], slides(), "slide")
    profile = scope.get("profile")
    orientation = profile_for("board", profile if isinstance(profile, str) else None).orientation
    context = Context(engine, region, Window.at(datetime.now(UTC)), settings, orientation)

    def render() -> tuple[list, list, list]:
        fresh = feed_freshness(engine)
        contents = [_slide_content(context, name, fresh) for name in names]
        # As plain JSON values, encoded once: Dash's encoder walks a component tree in Python on every answer.
        outputs = [[c[0] for c in contents], [c[1] for c in contents], [c[2] for c in contents]]
        return orjson.loads(to_json_plotly(outputs))

    # The same answer for every board of a village (and viewer scope) until the next load or its next minute.
    key = (engine, version_mark(engine), view_scope(), region.code, names, orientation, context.minute())
    return _answers.get(key, render)


# Rotation runs in the browser (no request): the next slide every period, paused while someone touches the
# board and for the profile's idle time after. A slide whose body is quiet (.slide-quiet: 告警提示 while the
# village has no open alert) is passed over, and its dot hidden, until a refresh gives it something to show.
clientside_callback(
    """
    function(n, ids, idleSeconds) {
        var count = ids.length;
        var state = window.ruralbrainBoard || (window.ruralbrainBoard = { index: 0, rotations: 0 });
        if (Date.now() - (window.ruralbrainLastTouch || 0) < idleSeconds * 1000) {
            return [window.dash_clientside.no_update, window.dash_clientside.no_update];
        }
        var frames = document.querySelectorAll(".board-stage > .slide");
        var quiet = function (i) { return !!(frames[i] && frames[i].querySelector(".slide-quiet")); };
        var next = n ? (state.index + 1) % count : state.index;
        for (var k = 0; k < count && quiet(next); k++) { next = (next + 1) % count; }
        if (n) { state.rotations += 1; }
        state.index = next;
        return [
            ids.map(function (_, i) { return i === state.index ? "slide active" : "slide"; }),
            ids.map(function (_, i) { return i === state.index ? "dot on" : (quiet(i) ? "dot quiet" : "dot"); }),
        ];
    }
    """,
    Output({"slide": ALL, "part": "frame"}, "className"),
    Output({"slide": ALL, "part": "dot"}, "className"),
    Input("board-rotate", "n_intervals"),
    State({"slide": ALL, "part": "frame"}, "id"),
    State("board-idle", "data"),
)

# The clock in the corner, in the county's time (UTC+8) whatever the board's own clock zone is.
clientside_callback(
    """
    function(n) {
        var options = { timeZone: "Asia/Shanghai", month: "long", day: "numeric", weekday: "short",
                        hour: "2-digit", minute: "2-digit", hour12: false };
        return new Date().toLocaleString("zh-CN", options);
    }
    """,
    Output("board-clock", "children"),
    Input("board-tick", "n_intervals"),
)
