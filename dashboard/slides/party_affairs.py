"""党务公开: the party branch's notices and its 三会一课 and other activities this month and this year."""

from datetime import UTC

from dash import html

from dashboard.board_queries import notices
from dashboard.panels import LOCAL, count, number
from dashboard.queries import measure_totals
from dashboard.slides import Slide, big_number, calendar_month, empty, numbers
from dashboard.slides.village_affairs import notice_list

MEASURE = "party.activities"
KINDS = {
    "branch_meeting": "支部党员大会",
    "committee_meeting": "支委会",
    "group_meeting": "党小组会",
    "party_lecture": "党课",
}


def render(context):
    """This month's activities by kind (三会一课) with this year's under each, and the newest party-affairs notices."""
    engine, code = context.engine, context.village.code
    start, end = calendar_month(context.window)
    year = start.astimezone(LOCAL).replace(month=1).astimezone(UTC)  # 本年: since 1 January, local
    month = measure_totals(engine, code, [MEASURE], start, end)
    so_far = measure_totals(engine, code, [MEASURE], year, end)
    items = notices(engine, code, ["party_affairs"], limit=2)
    return [
        html.H3("本月三会一课", className="slide-subtitle"),
        numbers(
            *(
                big_number(
                    name,
                    number(count(month, MEASURE, kind)),
                    "次",
                    detail=f"本年 {number(count(so_far, MEASURE, kind))} 次",
                )
                for kind, name in KINDS.items()
            )
        ),
        notice_list(items, {"party_affairs": "党务"}) if items else empty("暂无党务公开"),
    ]


SLIDE = Slide("party_affairs", "党务公开", ("disclosures", "party_activities"), render)
