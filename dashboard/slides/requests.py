"""诉求办理: this month's requests received and closed, satisfaction, and the newest few (no reporter shown)."""

from datetime import datetime

from dash import html

from dashboard.panels import LOCAL, average, count, number
from dashboard.queries import latest_cases, measure_totals
from dashboard.slides import Slide, big_number, calendar_month, numbers, private_topics_of

STATUS = {"received": "已受理", "in_progress": "处置中", "closed": "已办结", "rated": "已评价"}


def render(context):
    """The month's counts from the rollups and the newest cases of the village (as many as the board holds)."""
    start, end = calendar_month(context.window)
    code = context.village.code
    totals = measure_totals(context.engine, code, ["cases.received", "cases.closed", "cases.satisfaction"], start, end)
    satisfaction = average(totals, "cases.satisfaction")
    return [
        numbers(
            big_number("本月受理", number(count(totals, "cases.received")), "件"),
            big_number("本月办结", number(count(totals, "cases.closed")), "件"),
            big_number("满意度", number(satisfaction, 1), "/5"),
        ),
        html.Ul(
            className="case-list",
            children=[
                html.Li(
                    [
                        html.Span(_day(case["time"]), className="case-date"),
                        html.Span(case["title"], className="case-title"),
                        html.Span(STATUS.get(case["status"], ""), className=f"case-status {case['status']}"),
                    ]
                )
                for case in latest_cases(
                    context.engine, code, limit=context.holds(8, 5), private=private_topics_of(context)
                )
            ],
        ),
    ]


def _day(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(LOCAL):%m-%d}"


SLIDE = Slide("requests", "诉求办理", ("cases",), render)
