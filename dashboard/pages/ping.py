"""服务检查: a minimal page with one trivial callback, to check a screen's path to the server (and to benchmark)."""

import dash
from dash import Input, Output, callback, dcc, html

dash.register_page(__name__, path="/ping", title="乡村大脑 · 服务检查", access="public", ids=("ping-",))

layout = html.Div(
    className="empty",
    children=[html.Div("服务正常", id="ping-text"), dcc.Interval(id="ping-interval", interval=60_000)],
)


@callback(Output("ping-text", "title"), Input("ping-interval", "n_intervals"))
def ping(count):
    """The number of checks so far: the cheapest callback the server can answer."""
    return str(count or 0)
