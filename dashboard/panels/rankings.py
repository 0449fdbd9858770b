"""村庄排行: the villages of the scope ranked by points earned and by cases closed over the last 30 days."""

from dash import html

from dashboard.panels import Panel, number
from dashboard.ranking_queries import REDEMPTION, villages_ranked
from geo.codes import level_of, parent_of


def _ranking(title: str, rows: list[dict], unit: str, marked: str) -> html.Div:
    return html.Div(
        className="ranking",
        children=[
            html.H3(title),
            html.Ol(
                [
                    html.Li(
                        className="ranking-marked" if row["code"] == marked else "ranking-row",
                        children=html.Span(
                            [
                                html.Span(row["name"], className="ranking-name"),
                                html.Span(f"{number(row['total'])}{unit}", className="ranking-total"),
                            ]
                        ),
                    )
                    for row in rows
                ]
            )
            if rows
            else html.Div("暂无数据", className="ranking-empty"),
        ],
    )


def render(engine, scope, window):
    """Top villages by points earned (redemptions are spending, not a lower score) and by cases closed in the last
    30 days; a village is ranked among its township's villages, and marked."""
    among = parent_of(scope) if level_of(scope) == "village" else scope
    span = (window.month_start, window.tomorrow)
    points = villages_ranked(engine, among, "points.earned", *span, excluded=(REDEMPTION,))
    closed = villages_ranked(engine, among, "cases.closed", *span)
    return [
        html.Div(
            className="rankings",
            children=[_ranking("获得积分", points, "分", scope), _ranking("办结诉求", closed, "件", scope)],
        )
    ]


PANEL = Panel("rankings", "村庄排行 · 近30天", ("points_ledger", "cases"), render)
