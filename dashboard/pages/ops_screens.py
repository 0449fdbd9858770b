"""屏幕运行状态: every screen, when it was last seen, and which ones are dark."""

import dash
from dash import html
from flask import current_app

from dashboard.guard import from_operations
from etl.warehouse.screens import STATE_NAMES, screen_states

dash.register_page(__name__, path="/ops/screens", title="乡村大脑 · 屏幕运行状态", access="admin", ids=("screens-",))


def layout(**_query):
    """A table of screens as of now (for the operations network only)."""
    if not from_operations():
        return html.Div("屏幕运行状态仅限运维网络查看。", className="empty")
    with current_app.config["RURALBRAIN_ENGINE"].connect() as connection:
        states = screen_states(connection)
    header = ["屏幕", "类型", "位置", "状态", "最后心跳", "页面", "数据版本", "内存(MB)"]
    rows = [
        html.Tr(
            className=f"screen-{s.state.replace(' ', '-')}",
            children=[
                html.Td(s.screen_id + ("" if s.registered else "（未登记）")),
                html.Td(s.kind or "—"),
                html.Td(s.location or "—"),
                html.Td(STATE_NAMES[s.state]),
                html.Td(s.last_seen.strftime("%m-%d %H:%M:%S") if s.last_seen else "—"),
                html.Td(s.route or "—"),
                html.Td(s.data_version if s.data_version is not None else "—"),
                html.Td(f"{s.js_heap_mb:.0f}" if s.js_heap_mb is not None else "—"),
            ],
        )
        for s in states
    ]
    return html.Div(
        className="ops",
        children=[
            html.H1("屏幕运行状态"),
            html.Table(id="screens-table", children=[html.Tr([html.Th(h) for h in header]), *rows]),
        ],
    )
