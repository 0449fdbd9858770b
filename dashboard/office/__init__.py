"""The village office (/office): clerks publish, record and handle their village's cases; registered on the app
with the attachment cap of the notices form."""

from __future__ import annotations

from flask import Flask

from dashboard import guard
from dashboard.household.uploads import NOTICE_BODY
from dashboard.office.routes import office


def install(server: Flask) -> None:
    """The office's routes; the notices form may carry attachments (its own cap, not the screens' 64 KB)."""
    guard.UPLOAD_ROUTES["/office/notices"] = NOTICE_BODY
    server.register_blueprint(office)
