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


def add_admin(var_dir, name: str = "yunwei", scope: str = "990101000000") -> str:
    """An admin account of the demo county in the warehouse of ``var_dir`` (once); its name."""
    from sqlalchemy import select

    from etl.warehouse.accounts import add_user
    from etl.warehouse.db import make_engine
    from etl.warehouse.schema import users
    from etl.warehouse.settings import Settings

    engine = make_engine(Settings.load(var_dir=str(var_dir)).warehouse_url)
    try:
        with engine.begin() as connection:
            if connection.execute(select(users.c.name).where(users.c.name == name)).first() is None:
                add_user(connection, name, "admin", scope, password=PASSWORD)
    finally:
        engine.dispose()
    return name


def browser_log_in(page, base: str, name: str, next_page: str) -> None:
    """Log ``page`` in through the login form, as a person does, and wait for ``next_page``."""
    page.goto(f"{base}/login?next={next_page}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_page}*")
