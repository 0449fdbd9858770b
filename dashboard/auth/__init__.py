"""Who is looking: logins (local and OpenID Connect), the access every route and callback needs, the viewer's
scope that binds every query and cache key, and user management for admins."""

from __future__ import annotations

import dash

from dashboard.auth import access, admin, login, oidc
from etl.warehouse.settings import Settings


def install(app: dash.Dash, settings: Settings) -> None:
    """Sessions and the login routes, single sign-on when configured, user management, then the access check
    before every request."""
    login.install(app.server, settings)
    oidc.install(app.server, settings)
    admin.install(app.server)
    access.install(app.server)
