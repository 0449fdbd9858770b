"""积分榜: the households of the village by points earned in the last 30 days (文明诚信, 垃圾分类, 志愿服务 …), names
masked."""

from dash import html

from dashboard.panels import number
from dashboard.ranking_queries import household_points
from dashboard.slides import Slide, big_number, empty, numbers


def render(context):
    """The village's points of the last 30 days and the households that earned the most, from one ledger query:
    the total is the sum of every household's line, and each household has one line (its masked name and the end
    of its household code, since masked names collide)."""
    window = context.window
    points = household_points(context.engine, context.village.code, window.month_start, window.tomorrow)
    earners = [household for household in points["households"] if household["earned"] > 0]
    if not points["households"]:
        return [empty("近30天暂无积分记录")]
    shown = earners[: context.holds(portrait=12, landscape=10)]
    return [
        numbers(
            big_number("近30天全村获得积分", number(points["earned"]), "分"),
            big_number("近30天兑换积分", number(points["redeemed"]), "分"),
            big_number("获得积分户数", number(len(earners)), "户"),
        ),
        html.H3(
            f"近30天获得积分排行（前{len(shown)}户）" if len(shown) < len(earners) else "近30天获得积分排行",
            className="slide-subtitle",
        ),
        html.Ol(
            className="ranking-board",
            children=[
                html.Li(
                    [
                        html.Span(entry["name"], className="household"),
                        html.Span(f"尾号{entry['tail']}", className="household-tail"),
                        html.Span(f"{number(entry['earned'])}分", className="points"),
                    ]
                )
                for entry in shown
            ],
        ),
    ]


SLIDE = Slide("points", "积分榜", ("points_ledger",), render)
