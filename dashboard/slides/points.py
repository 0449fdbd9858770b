"""积分榜: households of the village by points balance (文明诚信, 垃圾分类, 志愿服务 …), names masked."""

from dash import html

from dashboard.board_queries import household_points
from dashboard.panels import number, total
from dashboard.queries import measure_totals
from dashboard.slides import Slide, big_number, calendar_month, empty, numbers


def render(context):
    """The ten households with the most points, and the points the village earned this month."""
    ranking = household_points(context.engine, context.village.code, limit=10)
    if not ranking:
        return [empty("暂无积分记录")]
    start, end = calendar_month(context.window)
    earned = measure_totals(context.engine, context.village.code, ["points.earned"], start, end)
    gained = sum(v["total"] for key, v in earned["points.earned"].items() if key != "redemption")
    return [
        numbers(
            big_number("本月全村获得积分", number(gained), "分"),
            big_number("本月兑换", number(abs(total(earned, "points.earned", "redemption"))), "分"),
        ),
        html.Ol(
            className="ranking-board",
            children=[
                html.Li([html.Span(entry["name"]), html.Span(f"{number(entry['points'])}分", className="points")])
                for entry in ranking
            ],
        ),
    ]


SLIDE = Slide("points", "积分榜", ("points_ledger",), render)
