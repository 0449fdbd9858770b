"""村庄排行: the villages of the scope ranked by points earned and by cases closed this month."""

from dash import html

from dashboard.panels import Panel, number
from dashboard.queries import village_ranking


def _ranking(title: str, rows: list[dict], unit: str) -> html.Div:
    return html.Div(
        className="ranking",
        children=[
            html.H3(title),
            html.Ol([html.Li([html.Span(row["name"]), html.Span(f"{number(row['total'])}{unit}")]) for row in rows])
            if rows
            else html.Div("暂无数据", className="ranking-empty"),
        ],
    )


def render(engine, scope, window):
    """Top villages by points and by closed cases."""
    points = village_ranking(engine, scope, "points.earned", window.calendar_month)
    closed = village_ranking(engine, scope, "cases.closed", window.calendar_month)
    return [
        html.Div(className="rankings", children=[_ranking("积分", points, "分"), _ranking("办结诉求", closed, "件")])
    ]


PANEL = Panel("rankings", "村庄排行 · 本月", ("points_ledger", "cases"), render)
