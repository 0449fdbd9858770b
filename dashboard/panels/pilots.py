"""试点建设: the pilot programme within the screen's scope this month (pilots.overview): pilots, item scores by
rating, milestones overdue and the funds, the same figures as /pilots and the monthly report."""

from __future__ import annotations

from dashboard.panels import Panel, bars, facts, note, number, row, stat
from dashboard.pilot_queries import newest_programme, scored_month
from etl.warehouse import pilots as reads
from etl.warehouse.pilots import SCORE_NAMES, SCORE_ORDER


def render(engine, scope, window):
    """The programme at a glance: pilots, 达标率, overdue milestones, ratings and funds."""
    scope = scope or None
    with engine.connect() as connection:
        programme = newest_programme(connection, scope)
        if programme is None:
            return [note("本区域没有试点。")]
        month = scored_month(connection, programme.programme_id, reads.month_text(window.now))
        seen = reads.overview(connection, programme.programme_id, month, scope, window.now)
    kinds, scores = seen["pilots"], seen["scores"]
    rated = sum(scores.values())
    year, number_of_month = month.split("-")
    return [
        row(
            stat("试点", number(sum(kinds.values())), "个"),
            stat("达标率", number(100 * scores["met"] / rated if rated else None, 1), "%"),
            stat("逾期里程碑", number(seen["milestones_overdue"]), "项", alarm=seen["milestones_overdue"] > 0),
        ),
        bars([(SCORE_NAMES[status], scores[status]) for status in SCORE_ORDER], "项"),
        facts(
            [
                ("数字乡镇", number(kinds.get("township", 0)), "个"),
                ("数字村庄", number(kinds.get("village", 0)), "个"),
                ("下达资金", number(seen["allocated"], 1), "万元"),
                ("已支出", number(seen["spent"], 1), "万元"),
            ]
        ),
        note(f"{year}年{int(number_of_month)}月评定 · {programme.name}"),
    ]


PANEL = Panel("pilots", "试点建设 · 本月", ("pilot_status", "pilot_funds"), render)
