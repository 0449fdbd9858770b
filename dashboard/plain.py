"""Dash components as the plain JSON-ready dicts Dash would send, so a cached screen is served without
walking a component tree again on every refresh (plotly's serializer walks objects, not plain dicts)."""

from __future__ import annotations

from dash.development.base_component import Component


def plain(value):
    """The JSON form of a component tree, or of any list or dict holding components."""
    if isinstance(value, Component):
        data = value.to_plotly_json()
        return {**data, "props": plain(data["props"])}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
