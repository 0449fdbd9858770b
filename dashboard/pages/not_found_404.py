"""页面不存在: what any address that is no page shows (Dash draws the page named not_found_404 there), answered
with HTTP status 404 so that monitoring, nginx and crawlers see the error too."""

import dash
from dash import dcc, html
from flask import request

from dashboard.routes import page_of

dash.register_page(__name__, path="/404", title="乡村大脑 · 页面不存在", access="public", ids=())

# Dash answers every address with its index page and draws the page in the browser: the status is set here.
INDEX_RULES = ("/", "/<path:path>")


def not_found_status(response):
    """An index page answered for an address that is no page: status 404 (the page itself says why)."""
    rule = request.url_rule.rule if request.url_rule else None
    index = rule in INDEX_RULES and response.status_code == 200 and response.mimetype == "text/html"
    if index and page_of(request.path)[0] is None:
        response.status_code = 404
    return response


# This module runs while its app is made (Dash imports its pages then): the hook goes on that app's server.
dash.get_app().server.after_request(not_found_status)


def layout(**_query):
    """The 404 page in Chinese, with the addresses people usually want."""
    return html.Main(
        className="not-found",
        children=[
            html.H1("页面不存在（404）"),
            html.P("这个地址不是乡村大脑的页面。请检查地址是否输入正确，或从下面的入口进入。"),
            html.Nav(
                [
                    dcc.Link("县级大屏", href="/screen/county"),
                    dcc.Link("下钻地图", href="/"),
                    dcc.Link("服务检查", href="/ping"),
                ]
            ),
        ],
    )
