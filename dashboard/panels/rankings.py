"""村庄排行: the villages of the scope ranked by points earned and by cases closed (last 30 days)."""

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
    points = village_ranking(engine, scope, "points.earned", window.month_start, window.tomorrow)
    closed = village_ranking(engine, scope, "cases.closed", window.month_start, window.tomorrow)
    return [
        html.Div(className="rankings", children=[_ranking("积分", points, "分"), _ranking("办结诉求", closed, "件")])
    ]


PANEL = Panel("rankings", "村庄排行 · 近30天", ("points_ledger", "cases"), render)
