"""民生: teleconsultations, online classes, trainings and culture events with their participants."""

from dashboard.panels import Panel, bars, count, number, row, stat, total
from dashboard.queries import measure_totals

KINDS = {
    "teleconsultation": "远程会诊",
    "online_class": "线上课堂",
    "training": "技能培训",
    "culture_event": "文化活动",
}


def render(engine, scope, window):
    """Livelihood services of the last 30 days."""
    totals = measure_totals(
        engine, scope, ["livelihood.events", "livelihood.participants"], window.month_start, window.tomorrow
    )
    return [
        row(
            stat("服务场次", number(count(totals, "livelihood.events")), "场"),
            stat("参与", number(total(totals, "livelihood.participants")), "人次"),
        ),
        bars([(label, count(totals, "livelihood.events", key)) for key, label in KINDS.items()], "场"),
    ]


PANEL = Panel("livelihood", "民生数字化 · 近30天", ("livelihood",), render)
