"""党务公开: the party branch's notices and this month's 三会一课 and other activities."""

from dash import html

from dashboard.board_queries import notices
from dashboard.panels import count, number
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
    """This month's activities by kind (三会一课) and the newest party-affairs notices."""
    start, end = calendar_month(context.window)
    totals = measure_totals(context.engine, context.village.code, [MEASURE], start, end)
    items = notices(context.engine, context.village.code, ["party_affairs"], limit=3)
    return [
        html.H3("本月三会一课", className="slide-subtitle"),
        numbers(*(big_number(name, number(count(totals, MEASURE, kind)), "次") for kind, name in KINDS.items())),
        notice_list(items, {"party_affairs": "党务"}) if items else empty("暂无党务公开"),
    ]


SLIDE = Slide("party_affairs", "党务公开", ("disclosures", "party_activities"), render)
