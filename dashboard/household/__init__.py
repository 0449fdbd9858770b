"""一户一码: the household's phone pages (/h/<token>), registered on the app with their upload cap."""

from __future__ import annotations

from flask import Flask

from dashboard import guard
from dashboard.household.routes import household
from dashboard.household.uploads import CASE_BODY


def install(server: Flask) -> None:
    """The household's routes; the 诉求 form's body may carry a photo (its own cap, not the screens' 64 KB)."""
    guard.UPLOAD_ROUTES["/h/<token>/cases"] = CASE_BODY
    server.register_blueprint(household)
