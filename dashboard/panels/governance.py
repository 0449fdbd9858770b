"""治理: cases received and closed, on-time closure, satisfaction, by category; mediation, petitions, party work."""

from dashboard.panels import Panel, average, bars, count, facts, number, row, stat
from dashboard.queries import measure_totals

CATEGORIES = {"conflict": "矛盾", "dispute": "纠纷", "request": "请求", "appeal": "诉求"}
MEASURES = [
    "cases.received",
    "cases.closed",
    "cases.closed_on_time",
    "cases.satisfaction",
    "cases.received_by_module",
    "party.activities",
]


def render(engine, scope, window):
    """The governance numbers of the last 30 days."""
    totals = measure_totals(engine, scope, MEASURES, window.month_start, window.tomorrow)
    received, closed = count(totals, "cases.received"), count(totals, "cases.closed")
    on_time = count(totals, "cases.closed_on_time")
    satisfaction = average(totals, "cases.satisfaction")
    return [
        row(
            stat("受理", number(received), "件"),
            stat("办结", number(closed), "件"),
            stat("按期办结率", number(100 * on_time / closed if closed else None, 1), "%"),
        ),
        bars([(label, count(totals, "cases.received", key)) for key, label in CATEGORIES.items()], "件"),
        facts(
            [
                ("满意度", number(satisfaction, 2), "/5"),
                ("线上矛调", number(count(totals, "cases.received_by_module", "online_mediation")), "件"),
                ("信访投诉", number(count(totals, "cases.received_by_module", "petition")), "件"),
                ("曝光台", number(count(totals, "cases.received_by_module", "exposure")), "件"),
                ("党建活动", number(count(totals, "party.activities")), "次"),
                ("清廉乡村", number(count(totals, "cases.received_by_module", "clean_village")), "件"),
            ]
        ),
    ]


PANEL = Panel("governance", "治理数字化 · 近30天", ("cases", "party_activities"), render)
