"""The registry of village-board slides: every module here that defines SLIDE; a new slide is one new file.

A board profile (layouts/profiles/board-*.toml) lists which slides it rotates and in what order.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from dash import html
from sqlalchemy import Engine

from dashboard.panels import LOCAL, Window
from dashboard.privacy import private_topics
from dashboard.regions import Region
from etl.warehouse.settings import Settings

QUIET = "slide-quiet"  # the class of a body with nothing to show now: rotation skips its slide (pages/board.py)


@dataclass(frozen=True)
class Context:
    """What a slide renders from: the warehouse, the board's village, the time windows, the settings, and the
    board's orientation (a portrait board holds more items than a landscape one)."""

    engine: Engine
    village: Region
    window: Window
    settings: Settings
    orientation: str = "portrait"

    def minute(self) -> datetime:
        """Now, floored to a minute that starts at this village's own second: the boards' minute-keyed answers
        expire at sixty different seconds, so no minute boundary makes every board's next refresh recompute."""
        offset = timedelta(seconds=zlib.crc32(self.village.code.encode()) % 60)
        return (self.window.now - offset).replace(second=0, microsecond=0) + offset

    def holds(self, portrait: int, landscape: int) -> int:
        """How many items of a list the board's slide holds: ``portrait`` or ``landscape``."""
        return portrait if self.orientation == "portrait" else landscape


@dataclass(frozen=True)
class Slide:
    """A slide: its title, the datasets its content comes from (for 数据截至), and how it renders."""

    name: str
    title: str
    datasets: tuple[str, ...]
    render: Callable[[Context], list]


@cache
def slides() -> dict[str, Slide]:
    """Every slide by name, discovered from the modules of this package."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        slide = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SLIDE", None)
        if slide is not None:
            found[slide.name] = slide
    return found


def private_topics_of(context: Context) -> tuple[str, ...]:
    """The case topics (低保, 救助, 信访 …) this deployment shows by topic only (SENSITIVE_CATEGORIES)."""
    return private_topics(context.settings.sensitive_categories)


def big_number(label: str, value: str, unit: str = "", alarm: bool = False, detail: str = "") -> html.Div:
    """A labelled number sized for reading across a village square, with a line of ``detail`` under it."""
    return html.Div(
        className="big-number" + (" alarm" if alarm else ""),
        children=[
            html.Div(label, className="big-label"),
            html.Div([value, html.Span(unit, className="big-unit")]),
            html.Div(detail, className="big-detail") if detail else None,
        ],
    )


def numbers(*children) -> html.Div:
    """Big numbers side by side (they wrap on a portrait board)."""
    return html.Div(className="big-numbers", children=list(children))


def empty(text: str) -> html.Div:
    """What a slide says when there is nothing to show yet."""
    return html.Div(text, className="slide-empty")


def day_label(moment) -> str:
    """A date as villagers read it: 11月24日."""
    local = moment.astimezone(LOCAL)
    return f"{local.month}月{local.day}日"


def short_day(moment) -> str:
    """The local day of a warehouse time (a datetime, or its ISO text from the cache) as 11-24."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return f"{moment.astimezone(LOCAL):%m-%d}" if moment else ""


def dated_list(rows: list[dict], status_of: Callable[[dict], str], settled: tuple[str, ...], kind: str) -> html.Ul:
    """One line per row: its day, its title and its state (in the settled colour once ``settled``, else as open)."""
    return html.Ul(
        className=f"case-list {kind}-list",
        children=[
            html.Li(
                [
                    html.Span(short_day(row["time"]), className="case-date"),
                    html.Span(row["title"], className="case-title"),
                    html.Span(
                        status_of(row),
                        className="case-status" + ("" if row["status"] in settled else " in_progress"),
                    ),
                ]
            )
            for row in rows
        ],
    )


def calendar_month(window: Window) -> tuple:
    """[start, end) of the current local calendar month, as UTC bucket starts (boards report by month)."""
    return window.calendar_month, window.tomorrow
