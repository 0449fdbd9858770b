"""清廉乡村 · 曝光台: the village's newest integrity cases and publicly named problems, each with its state, in the
rotation only while the village has any (dashboard/pages/board.py)."""

from datetime import datetime

from dash import html

from dashboard.board_queries import village_integrity
from dashboard.panels import LOCAL
from dashboard.slides import QUIET, Slide, private_topics_of

CLEAN_STATUS = {"received": "已受理", "in_progress": "核查中", "closed": "已办结", "rated": "已办结"}
# A named problem is closed once corrected: villagers read whether it was put right.
EXPOSURE_STATUS = {"received": "已曝光", "in_progress": "整改中", "closed": "已整改", "rated": "已整改"}
SETTLED = ("closed", "rated")  # shown in the settled colour, the rest as still open


def _day(moment) -> str:
    """The local day of a warehouse time (a datetime, or its ISO text from the cache)."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return f"{moment.astimezone(LOCAL):%m-%d}" if moment else ""


def _items(rows: list[dict], names: dict[str, str]) -> html.Ul:
    """One line per case: its day, its title and its state."""
    return html.Ul(
        className="case-list integrity-list",
        children=[
            html.Li(
                [
                    html.Span(_day(row["time"]), className="case-date"),
                    html.Span(row["title"], className="case-title"),
                    html.Span(
                        names.get(row["status"], ""),
                        className="case-status" + ("" if row["status"] in SETTLED else " in_progress"),
                    ),
                ]
            )
            for row in rows
        ],
    )


def render(context):
    """The newest 清廉乡村 and 曝光台 cases of the village, as many of each as the board holds."""
    found = village_integrity(
        context.engine, context.village.code, context.holds(portrait=4, landscape=3), private_topics_of(context)
    )
    clean, exposure = found["clean"], found["exposure"]
    if not clean and not exposure:
        return [html.Div("本村暂无清廉乡村和曝光台事项", className=f"slide-empty {QUIET}")]
    parts = []
    if clean:
        parts += [html.H3("清廉乡村", className="slide-subtitle"), _items(clean, CLEAN_STATUS)]
    if exposure:
        parts += [html.H3("曝光台", className="slide-subtitle"), _items(exposure, EXPOSURE_STATUS)]
    return parts


SLIDE = Slide("integrity", "清廉乡村 · 曝光台", ("cases",), render)
