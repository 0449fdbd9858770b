"""清廉乡村 · 曝光台: the village's newest integrity cases and publicly named problems, each with its state, in the
rotation only while the village has any (dashboard/pages/board.py)."""

from dash import html

from dashboard.board_queries import village_integrity
from dashboard.slides import QUIET, Slide, dated_list, private_topics_of

CLEAN_STATUS = {"received": "已受理", "in_progress": "核查中", "closed": "已办结", "rated": "已办结"}
# A named problem is closed once corrected: villagers read whether it was put right.
EXPOSURE_STATUS = {"received": "已曝光", "in_progress": "整改中", "closed": "已整改", "rated": "已整改"}
SETTLED = ("closed", "rated")  # shown in the settled colour, the rest as still open


def _status(names: dict[str, str]):
    """A row's state in a list's own words."""
    return lambda row: names.get(row["status"], "")


def render(context):
    """The newest 清廉乡村 and 曝光台 cases of the village, as many of each as the board holds."""
    found = village_integrity(
        context.engine, context.village.code, context.holds(portrait=4, landscape=3), private_topics_of(context)
    )
    clean, exposure = found["clean"], found["exposure"]
    if not clean and not exposure:
        return [html.Div("本村暂无清廉乡村和曝光台事项", className=f"slide-empty {QUIET}")]
    parts = []
    for title, rows, names in (("清廉乡村", clean, CLEAN_STATUS), ("曝光台", exposure, EXPOSURE_STATUS)):
        if rows:
            parts += [html.H3(title, className="slide-subtitle")]
            parts.append(dated_list(rows, _status(names), SETTLED, "integrity"))
    return parts


SLIDE = Slide("integrity", "清廉乡村 · 曝光台", ("cases",), render)
