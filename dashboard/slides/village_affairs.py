"""村务公开: the village's newest notices of village and government affairs (村务、政务公开)."""

from dash import html

from dashboard.board_queries import notices
from dashboard.slides import Slide, day_label, empty

TAGS = {"village_affairs": "村务", "government_affairs": "政务"}
# The start of a notice's text a board may show; the board's layout shows as many whole lines of it as fit.
EXCERPT = 240


def render(context):
    """The newest notices (four on a board of either orientation), each with its date, title and text."""
    items = notices(context.engine, context.village.code, list(TAGS), limit=context.holds(portrait=4, landscape=4))
    if not items:
        return [empty("暂无村务公开")]
    return [notice_list(items, TAGS)]


def notice_list(items: list[dict], tags: dict[str, str]) -> html.Div:
    """Notices as villagers read them on a board: date and tag, title, the first lines of the text."""
    return html.Div(
        className=f"notices notices-{len(items)}",
        children=[
            html.Article(
                className="notice",
                children=[
                    html.Div([html.Span(tags.get(item["kind"], ""), className="tag"), day_label(item["time"])]),
                    html.H3(item["title"]),
                    html.P(_excerpt(item["body"])) if item["body"] else None,
                ],
            )
            for item in items
        ],
    )


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


SLIDE = Slide("village_affairs", "村务公开", ("disclosures",), render)
