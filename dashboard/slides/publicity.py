"""政策宣传: policy publicity from the content feed (the village's own and the township's and county's)."""

from dash import html

from dashboard.board_queries import publicity_items
from dashboard.slides import Slide, day_label, empty


def render(context):
    """The newest items valid now (as many as the board holds), title and text."""
    items = publicity_items(context.engine, context.village.code, context.minute(), limit=context.holds(3, 2))
    if not items:
        return [empty("暂无政策宣传")]
    return [
        html.Div(
            className=f"publicity-list publicity-{len(items)}",
            children=[
                html.Article(
                    className="publicity",
                    children=[
                        html.H3(item["title"]),
                        html.P(item["body"] or ""),
                        html.Div(day_label(item["time"]), className="publicity-date"),
                    ],
                )
                for item in items
            ],
        )
    ]


SLIDE = Slide("publicity", "政策宣传", ("publicity",), render)
