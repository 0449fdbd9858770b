"""The county screen's drill, asked ahead: a click on a region sends this request at once, and the server computes
the new scope's frame and content while the browser is still preparing the page's own request (some 30–50 ms of
Dash's callback machinery and a frame of painting); that request then finds them in the shared cache."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from dashboard.county_scope import scope_for

drill_ahead = Blueprint("drill_ahead", __name__)
PATH = "/screen/county/ahead"


@drill_ahead.route(PATH)
def ahead():
    """204 once the scope of ``?region=&profile=`` is computed as the page would (the same viewer, so the same
    cache keys); a region outside the viewer's scope was refused before (403, dashboard/auth/access.py)."""
    config = current_app.config
    scope_for(config["RURALBRAIN_SETTINGS"], config["RURALBRAIN_ENGINE"], _first("region"), _first("profile") or "")
    return "", 204, {"Cache-Control": "no-store"}


def _first(name: str) -> str | None:
    """A query parameter at its first value (as the pages read a repeated one), at most 64 characters."""
    value = request.args.get(name)
    return value[:64] if value is not None else None
