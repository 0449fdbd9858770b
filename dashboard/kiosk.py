"""Pieces every kiosk route shares: the scaled design canvas of a profile and periods taken from the URL."""

from __future__ import annotations

import math

from dash import html
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cache import warehouse_version
from layouts.profiles import Profile


def canvas(profile: Profile, class_name: str, children: list) -> html.Div:
    """The profile's fixed design canvas (design pixels), which assets/ruralbrain.js zooms to the window
    (letterbox): a 4K profile's 1920×1080 design fills a 3840×2160 window at ×2."""
    return html.Div(
        id="screen-canvas",
        className=f"{class_name} profile-{profile.name}",
        style={"width": profile.design_width, "height": profile.design_height},
        **{
            "data-width": profile.design_width,
            "data-height": profile.design_height,
            "data-scale": profile.scale,
            "data-min-font": profile.min_font_px,
        },
        children=children,
    )


def version_marker(prefix: str, version: int | None) -> html.Div:
    """A hidden element holding the warehouse version a kiosk page shows (each callback's answer updates it, see
    dashboard/heartbeat.py), which the screen's heartbeat reports (assets/keeper.js) and the ops page lists."""
    return html.Div(id=f"{prefix}-version", className="data-version", hidden=True, **{"data-version": version})


def seconds(given: str, default: float) -> float:
    """A period from the URL (to check a screen's rotation or refresh quickly), else the profile's; kept
    between 0.2 s and a day (nan, inf and the like fall back to the profile's)."""
    try:
        value = float(given) if given else default
    except (TypeError, ValueError):
        return default
    return min(max(0.2, value), 86400.0) if math.isfinite(value) else default


def _drawn_version() -> int | None:
    """The warehouse version now, or None when the warehouse cannot be read (the screen then tries again as soon as
    the heartbeat reads one)."""
    try:
        return warehouse_version(current_app.config["RURALBRAIN_ENGINE"])
    except SQLAlchemyError:
        return None


def error_screen(profile: Profile, wrapper: str, class_name: str, title: str, reason: str) -> html.Div:
    """What a kiosk page shows instead of its content when its address is wrong (an unknown village or stop):
    the profile's canvas with the reason in the screen's largest type, so whoever stands before it can read it
    and the ops page (which reads the same reason) lists the screen as 错误; with the warehouse version it was drawn
    at, so assets/keeper.js draws it again once the warehouse has changed (the regions imported, the village added)."""
    return html.Div(
        className=f"{wrapper} kiosk {profile.orientation} screen-error",
        children=[
            version_marker("error", _drawn_version()),
            canvas(
                profile,
                f"{class_name} error-canvas",
                [
                    html.Header(html.H1(title), className="error-header"),
                    html.Main(
                        className="error-main",
                        children=[
                            html.Div("⚠", className="error-sign"),
                            html.P(reason, className="error-reason"),
                            html.P("请检查屏幕地址，或联系县级平台运维人员。", className="error-help"),
                        ],
                    ),
                ],
            ),
        ],
    )
