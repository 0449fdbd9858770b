"""村务公开: the village's newest notices of village and government affairs (村务、政务公开)."""

from dash import html

from dashboard.board_queries import notices
from dashboard.slides import Slide, day_label, empty

TAGS = {"village_affairs": "村务", "government_affairs": "政务"}
# The start of a notice's text a board may show; the board's layout shows as many whole lines of it as fit. More
# than the most lines any slide has room for (one notice upright: about 18 lines of 20 characters), so the layout,
# not this cut, decides where a text ends.
EXCERPT = 480


def render(context):
    """The newest notices (four on a board of either orientation), each with its date, title and text."""
    items = notices(context.engine, context.village.code, list(TAGS), limit=context.holds(portrait=4, landscape=4))
    if not items:
        return [empty("暂无村务公开")]
    return [notice_list(items, TAGS, fit=True)]


def notice_list(items: list[dict], tags: dict[str, str], fit: bool = False) -> html.Div:
    """Notices as villagers read them on a board: date and tag, title, the first lines of the text; with ``fit``
    the notices share the slide's height (upright) or fill their cells (across), and each text shows as many lines
    as its room holds (board.css)."""
    return html.Div(
        className=f"notices notices-{len(items)}" + (" notices-fit" if fit else ""),
        children=[
            html.Article(
                className="notice",
                children=[
                    html.Div([html.Span(tags.get(item["kind"], ""), className="tag"), day_label(item["time"])]),
                    html.H3(item["title"]),
                    *_text(item["body"], fit),
                ],
            )
            for item in items
        ],
    )


def _text(body: str, fit: bool) -> list:
    """A notice's text; with ``fit`` twice: hidden and whole, giving the notice its natural height, and shown,
    clamped to the whole lines of the height the notice gets (a clamp cannot follow a height; a container query
    can)."""
    if not body:
        return []
    text = _excerpt(body)
    if not fit:
        return [html.P(text)]
    return [
        html.P(text, className="notice-ghost", **{"aria-hidden": "true"}),
        html.Div(html.P(text), className="notice-fit"),
    ]


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


SLIDE = Slide("village_affairs", "村务公开", ("disclosures",), render)
