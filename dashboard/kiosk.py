"""Pieces every kiosk route shares: the scaled design canvas of a profile and periods taken from the URL."""

from __future__ import annotations

import math

from dash import html

from layouts.profiles import Profile


def canvas(profile: Profile, class_name: str, children: list) -> html.Div:
    """The profile's fixed design canvas; assets/ruralbrain.js zooms it to the window (letterbox)."""
    return html.Div(
        id="screen-canvas",
        className=class_name,
        style={"width": profile.width, "height": profile.height},
        **{"data-width": profile.width, "data-height": profile.height, "data-min-font": profile.min_font_px},
        children=children,
    )


def seconds(given: str, default: float) -> float:
    """A period from the URL (to check a screen's rotation or refresh quickly), else the profile's; kept
    between 0.2 s and a day (nan, inf and the like fall back to the profile's)."""
    try:
        value = float(given) if given else default
    except (TypeError, ValueError):
        return default
    return min(max(0.2, value), 86400.0) if math.isfinite(value) else default
