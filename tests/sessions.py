"""Logged-in Flask test clients: a session over HTTPS (the session cookie is Secure) and a form's CSRF token."""

from __future__ import annotations

import re

HTTPS = "https://localhost"
PASSWORD = "a password long enough"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, address: str = "/login") -> str:
    """The CSRF token of the form at ``address``."""
    return CSRF.search(client.get(f"{HTTPS}{address}").get_data(as_text=True))[1]


def logged_in(app, name: str, password: str = PASSWORD):
    """A test client of the Dash app with ``name``'s session."""
    client = app.server.test_client()
    answer = client.post(f"{HTTPS}/login", data={"name": name, "password": password, "csrf_token": csrf_of(client)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client
