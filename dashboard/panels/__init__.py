"""The registry of screen panels: every module here that defines PANEL; a new panel is one new file."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache

from dash import html
from sqlalchemy import Engine

LOCAL = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Window:
    """The time windows panels report on, in UTC bucket starts of local days."""

    now: datetime
    today: datetime
    month_start: datetime  # the first of the last 30 local days
    tomorrow: datetime
    calendar_month: datetime  # the start of this local month: its month rollups (the villages' 月度 rankings)

    @classmethod
    def at(cls, now: datetime) -> Window:
        """Today, the last 30 local days and this local month as of ``now``."""
        local = now.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
        today = local.astimezone(UTC)
        month = local.replace(day=1).astimezone(UTC)
        return cls(now, today, today - timedelta(days=29), today + timedelta(days=1), month)


@dataclass(frozen=True)
class Panel:
    """A panel: its title, the datasets its numbers come from (for 数据截至), and how it renders a scope."""

    name: str
    title: str
    datasets: tuple[str, ...]
    render: Callable[[Engine, str, Window], list]


@cache
def panels() -> dict[str, Panel]:
    """Every panel by name, discovered from the modules of this package."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        panel = getattr(importlib.import_module(f"{__name__}.{module.name}"), "PANEL", None)
        if panel is not None:
            found[panel.name] = panel
    return found


def stat(label: str, value: str, unit: str = "", alarm: bool = False) -> html.Div:
    """One labelled number, large enough to read across a command center."""
    return html.Div(
        className="stat" + (" stat-alarm" if alarm else ""),
        children=[
            html.Div(label, className="stat-label"),
            html.Div([value, html.Span(unit, className="stat-unit")], className="stat-value"),
        ],
    )


def facts(items: list[tuple[str, str, str]]) -> html.Div:
    """Secondary numbers as label-value lines, two to a line: (label, value, unit) each."""
    return html.Div(
        className="facts",
        children=[
            html.Div(
                className="fact",
                children=[
                    html.Span(label, className="fact-label"),
                    html.Span([value, html.Span(unit, className="stat-unit")], className="fact-value"),
                ],
            )
            for label, value, unit in items
        ],
    )


def note(text: str) -> html.Div:
    """A line saying where some numbers come from (a region above the one shown)."""
    return html.Div(text, className="panel-note")


def bars(items: list[tuple[str, float]], unit: str = "") -> html.Div:
    """A small horizontal bar chart in plain HTML (no chart library on refresh paths)."""
    top = max((value for _, value in items), default=0) or 1
    return html.Div(
        className="bars",
        children=[
            html.Div(
                className="bar-row",
                children=[
                    html.Span(label, className="bar-label"),
                    html.Span(
                        className="bar-track",
                        children=html.Span(className="bar", style={"width": f"{100 * value / top:.0f}%"}),
                    ),
                    html.Span(f"{number(value)}{unit}", className="bar-value"),
                ],
            )
            for label, value in items
        ],
    )


def spark(values: list[float], label: str, first: str = "", last: str = "") -> html.Div:
    """A trend as a strip of thin columns in plain HTML, one per bucket, scaled to the largest, with the dates of
    the first and last bucket under it."""
    top = max(values, default=0) or 1
    return html.Div(
        className="spark",
        title=label,
        children=[
            html.Span(label, className="spark-label"),
            html.Div(
                className="spark-columns",
                children=[html.Span(style={"height": f"{100 * value / top:.0f}%"}) for value in values],
            ),
            html.Div(className="spark-dates", children=[html.Span(first), html.Span(last)]),
        ],
    )


def number(value: float | None, digits: int = 0) -> str:
    """A number as screens print it: thousands separators, — when unknown, and from a million on in 万 (亿 from a
    hundred million), as Chinese screens write large numbers: 1,234,567 is 123.5万, so it fits where 999,999 does."""
    if value is None:
        return "—"
    if abs(value) >= 99_995_000:
        return f"{value / 1e8:,.2f}亿"
    if abs(value) >= 9_999_500:
        return f"{value / 1e4:,.0f}万"
    if abs(value) >= 1_000_000:
        return f"{value / 1e4:,.1f}万"
    return f"{value:,.{digits}f}"


def count(totals: dict, measure: str, dimension: str | None = None) -> int:
    """How many rows a measure counted (one dimension, or all)."""
    values = totals.get(measure, {})
    if dimension is not None:
        return values.get(dimension, {}).get("count", 0)
    return sum(v["count"] for v in values.values())


def total(totals: dict, measure: str, dimension: str | None = None) -> float:
    """The sum of a measure's values (one dimension, or all)."""
    values = totals.get(measure, {})
    if dimension is not None:
        return values.get(dimension, {}).get("total", 0.0)
    return sum(v["total"] for v in values.values())


def average(totals: dict, measure: str) -> float | None:
    """The mean of a measure's values, or None without data."""
    n = count(totals, measure)
    return total(totals, measure) / n if n else None


def row(*children) -> html.Div:
    """Stats side by side (at most three: a row of a panel holds three seven-digit numbers)."""
    return html.Div(className=f"stat-row stat-row-{len(children)}", children=list(children))
