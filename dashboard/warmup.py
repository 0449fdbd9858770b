"""A new worker draws the county screen once before it serves, so its first drill costs what later ones do.

Each worker compiles every query the first time it runs it (SQLAlchemy caches the compiled SQL per process)
and runs the screen's code paths for the first time: some 25 ms on the first drill a worker answers, and
gunicorn starts new workers now and then (max_requests). The answers it computes go to the shared cache like any
request's (keyed by version and scope: the root's county screen as an anonymous wall sees it), so the first wall
to ask finds them.
"""

from __future__ import annotations

import logging

import dash
import plotly.io.json

from dashboard.cache import store_pending


def warm(app: dash.Dash) -> None:
    """Render the root's county screen once in this process; a failure (no warehouse yet) is only logged."""
    # The page as Dash registered it: importing its module again here would register it twice.
    page = next(page for page in dash.page_registry.values() if page["path"] == "/screen/county")
    try:
        with app.server.test_request_context("/screen/county"):
            plotly.io.json.to_json_plotly(page["layout"]())
            store_pending()
    except Exception:  # noqa: BLE001 - a screen that cannot be drawn yet is reported by its own requests
        logging.getLogger(__name__).warning("warming the county screen failed", exc_info=True)
