"""屏幕运行状态: every registered screen, when it was last seen, which ones are dark or show an error page, and
apart from them the browser tabs nobody registered (never an alarm; forgotten a day after they were last seen)."""

import re

import dash
from dash import html
from flask import current_app

from dashboard.auth.viewer import view_scope
from dashboard.guard import from_operations
from dashboard.panels import LOCAL
from dashboard.regions import deployment_root
from dashboard.routes import problem_of
from etl.warehouse.accounts import scope_holds
from etl.warehouse.screens import STATE_NAMES, screen_states

dash.register_page(__name__, path="/ops/screens", title="乡村大脑 · 屏幕运行状态", access="admin", ids=("screens-",))

KINDS = {"county": "县级大屏", "board": "村级电子屏", "stop": "公交站屏", "browser": "浏览器"}
ROUTE_PARTS = re.compile(r"(?<=[/?&])")  # a route may wrap after these, never inside a code or a word


def _state(screen) -> tuple[str, str]:
    """(the state as the table says it, its row class): a screen that reports in but shows an error page (an
    unknown village or stop, no such page) is 错误, with the reason the page itself gives."""
    problem = problem_of(screen.route) if screen.state == "ok" and screen.route else None
    if problem:
        return f"错误：{problem}", "screen-error"
    return STATE_NAMES[screen.state], f"screen-{screen.state.replace(' ', '-')}"


def _route(route: str | None) -> list:
    """A page's route with a break allowed after each / ? and &, so a phone's narrow column wraps it between its
    parts and never a code or a word across two lines."""
    if not route:
        return ["—"]
    parts = [html.Span(part, className="ops-route-part") for part in ROUTE_PARTS.split(route) if part]
    return [piece for part in parts for piece in (part, html.Wbr())][:-1]


def _row(screen, registered: bool) -> html.Tr:
    state, row_class = _state(screen)
    seen = screen.last_seen.astimezone(LOCAL).strftime("%m-%d %H:%M:%S") if screen.last_seen else "—"
    # Ids, kinds, times and numbers stay on one line (the table scrolls in its box); a place, a state and a
    # route may wrap, a route only between its parts.
    cells = [html.Td(screen.screen_id, className="ops-nowrap")]
    if registered:
        kind = KINDS.get(screen.kind, screen.kind or "—")
        cells += [html.Td(kind, className="ops-nowrap"), html.Td(screen.location or "—", className="ops-text")]
    cells += [
        html.Td(state, className="ops-text"),
        html.Td(seen, className="ops-nowrap"),
        html.Td(_route(screen.route), className="ops-route"),
        html.Td(str(screen.data_version) if screen.data_version is not None else "—", className="ops-nowrap"),
        html.Td(f"{screen.js_heap_mb:.0f}" if screen.js_heap_mb is not None else "—", className="ops-nowrap"),
    ]
    return html.Tr(className=row_class, children=cells)


def _table(table_id: str, header: list[str], rows: list) -> html.Div:
    """A table in a box of its own that scrolls sideways on a phone (the page itself stays the phone's width)."""
    return html.Div(
        className="ops-scroll",
        children=html.Table(id=table_id, children=[html.Tr([html.Th(h) for h in header]), *rows]),
    )


def _unregistered_part(unregistered: list, whole: bool) -> list:
    """The browser tabs nobody registered: their routes name any village, so only for an admin of everything."""
    if not whole:
        return [html.P("未登记的浏览器页面只向全域管理员显示。", className="empty")]
    tail = ["状态", "最后心跳（北京时间）", "页面", "数据版本", "内存(MB)"]
    return [
        html.H2(f"未登记的浏览器页面（{len(unregistered)} 个，不计入黑屏，最后心跳 24 小时后不再列出）"),
        _table("screens-unregistered", ["页面编号", *tail], [_row(s, False) for s in unregistered])
        if unregistered
        else html.P("无"),
    ]


def layout(**_query):
    """The screens of the admin's scope as of now, in local time (for the operations network only)."""
    if not from_operations():
        return html.Div("屏幕运行状态仅限运维网络查看。", className="empty")
    scope, engine = view_scope(), current_app.config["RURALBRAIN_ENGINE"]
    with engine.connect() as connection:
        states = screen_states(connection)
    top = deployment_root(engine, current_app.config["RURALBRAIN_SETTINGS"].root_region)
    whole = not scope or (top is not None and scope == top.code)
    # An admin of a township sees the screens registered in it, as its pages are the ones they may open.
    # (a screen registered without a region shows the whole deployment: an admin of everything sees it)
    registered = [s for s in states if s.registered and (whole or scope_holds(scope, s.region_code or ""))]
    unregistered = [s for s in states if not s.registered]
    tail = ["状态", "最后心跳（北京时间）", "页面", "数据版本", "内存(MB)"]
    return html.Div(
        className="ops",
        children=[
            html.H1("屏幕运行状态"),
            html.H2(f"登记的屏幕（{len(registered)} 块）"),
            _table("screens-table", ["屏幕", "类型", "位置", *tail], [_row(s, True) for s in registered]),
            html.P("还没有登记的屏幕：用 ruralbrain screens register 登记。") if not registered else None,
            *_unregistered_part(unregistered, whole),
        ],
    )
