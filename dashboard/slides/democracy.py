"""民主议事 · 民主监督: the village's newest matters put to villagers (with the vote) and questions on village
affairs (answered or not), in the rotation only while the village has any (dashboard/pages/board.py)."""

from datetime import datetime

from dash import html

from dashboard.board_queries import village_democracy
from dashboard.panels import LOCAL, number
from dashboard.slides import QUIET, Slide

MATTER_STATUS = {"consulting": "协商中", "voting": "表决中", "decided": "已表决", "published": "已公示"}
QUESTION_STATUS = {"received": "已受理", "in_progress": "办理中", "replied": "已答复"}
ANSWERED = ("decided", "published", "replied")  # shown in the settled colour, the rest as still open


def _day(moment) -> str:
    """The local day of a warehouse time (a datetime, or its ISO text from the cache)."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return f"{moment.astimezone(LOCAL):%m-%d}" if moment else ""


def _votes(matter: dict) -> str:
    """赞成 n 反对 m once voted, else nothing."""
    if matter["votes_for"] is None or matter["status"] not in ("decided", "published"):
        return MATTER_STATUS.get(matter["status"], "")
    return f"赞成{number(matter['votes_for'])} 反对{number(matter['votes_against'] or 0)}"


def _items(rows: list[dict], status_of) -> html.Ul:
    """One line per row: its day, its title and its state."""
    return html.Ul(
        className="case-list democracy-list",
        children=[
            html.Li(
                [
                    html.Span(_day(row["time"]), className="case-date"),
                    html.Span(row["title"], className="case-title"),
                    html.Span(
                        status_of(row),
                        className="case-status" + ("" if row["status"] in ANSWERED else " in_progress"),
                    ),
                ]
            )
            for row in rows
        ],
    )


def render(context):
    """The newest matters and questions of the village, as many of each as the board holds."""
    found = village_democracy(context.engine, context.village.code, context.holds(portrait=4, landscape=3))
    matters, questions = found["matters"], found["questions"]
    if not matters and not questions:
        return [html.Div("本村暂无民主议事和民主监督事项", className=f"slide-empty {QUIET}")]
    parts = []
    if matters:
        parts += [html.H3("民主议事", className="slide-subtitle"), _items(matters, _votes)]
    if questions:
        parts += [
            html.H3("民主监督", className="slide-subtitle"),
            _items(questions, lambda row: QUESTION_STATUS.get(row["status"], "")),
        ]
    return parts


SLIDE = Slide("democracy", "民主议事 · 民主监督", ("deliberations", "supervision"), render)
