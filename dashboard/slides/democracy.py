"""民主议事 · 民主监督: the village's newest matters put to villagers (with the vote) and questions on village
affairs (answered or not), in the rotation only while the village has any (dashboard/pages/board.py)."""

from dash import html

from dashboard.board_queries import village_democracy
from dashboard.panels import number
from dashboard.slides import QUIET, Slide, dated_list

MATTER_STATUS = {"consulting": "协商中", "voting": "表决中", "decided": "已表决", "published": "已公示"}
QUESTION_STATUS = {"received": "已受理", "in_progress": "办理中", "replied": "已答复"}
ANSWERED = ("decided", "published", "replied")  # shown in the settled colour, the rest as still open


def _votes(matter: dict) -> str:
    """赞成 n 反对 m once voted, else nothing."""
    if matter["votes_for"] is None or matter["status"] not in ("decided", "published"):
        return MATTER_STATUS.get(matter["status"], "")
    return f"赞成{number(matter['votes_for'])} 反对{number(matter['votes_against'] or 0)}"


def render(context):
    """The newest matters and questions of the village, as many of each as the board holds."""
    found = village_democracy(context.engine, context.village.code, context.holds(portrait=4, landscape=3))
    matters, questions = found["matters"], found["questions"]
    if not matters and not questions:
        return [html.Div("本村暂无民主议事和民主监督事项", className=f"slide-empty {QUIET}")]
    parts = []
    if matters:
        parts += [html.H3("民主议事", className="slide-subtitle"), dated_list(matters, _votes, ANSWERED, "democracy")]
    if questions:
        parts += [
            html.H3("民主监督", className="slide-subtitle"),
            dated_list(questions, lambda row: QUESTION_STATUS.get(row["status"], ""), ANSWERED, "democracy"),
        ]
    return parts


SLIDE = Slide("democracy", "民主议事 · 民主监督", ("deliberations", "supervision"), render)
