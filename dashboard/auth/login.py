"""The login: a Chinese login page with a CSRF-protected form, Flask-Login sessions (HttpOnly, SameSite, Secure
cookies; a new session at each login), logout, and the account behind a session reloaded from the warehouse at
most every half minute (a disabled account or a changed scope takes effect by then, at once in the process that
changed it)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import flask_login
from flask import Blueprint, Flask, current_app, redirect, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from dashboard.auth.html import Markup, error, hidden_csrf, page
from dashboard.auth.viewer import address
from etl.warehouse.accounts import User, authenticate, end_sessions, get_user, record

login = Blueprint("login", __name__)
csrf = CSRFProtect()
manager = flask_login.LoginManager()
RELOAD_SECONDS = 30
_accounts: dict[str, tuple[float, User | None]] = {}
_lock = threading.Lock()


class SessionUser(flask_login.UserMixin):
    """The account of a session, as Flask-Login wants it."""

    def __init__(self, user: User):
        self.name, self.role, self.scope, self.display_name = user.name, user.role, user.scope, user.display_name

    def get_id(self) -> str:
        return self.name


def account(name: str) -> User | None:
    """The account of a name, read from the warehouse at most every RELOAD_SECONDS per process."""
    now = time.monotonic()
    with _lock:
        found = _accounts.get(name)
    if found and now - found[0] < RELOAD_SECONDS:
        return found[1]
    with current_app.config["RURALBRAIN_ENGINE"].connect() as connection:
        user = get_user(connection, name)
    with _lock:
        _accounts[name] = (now, user)
    return user


def forget(name: str) -> None:
    """Drop what this process remembers of an account (it was just changed here)."""
    with _lock:
        _accounts.pop(name, None)


@manager.user_loader
def _load(name: str) -> SessionUser | None:
    user = account(name)
    if user is not None and user.enabled and session.get("epoch") != user.session_epoch:
        # This worker's copy may be older than the session (a logout and a new login on another worker a moment
        # ago): ask the warehouse before sending a fresh login back to the login page.
        forget(name)
        user = account(name)
    if user is None or not user.enabled or session.get("epoch") != user.session_epoch:
        return None  # gone, disabled, or its sessions were ended (a logout, a new password) since this one began
    return SessionUser(user)


def _safe_next(target: str | None) -> str:
    """Where to go after the login: a path of this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def _form(message: str = "", name: str = "", target: str = "/") -> str:
    settings = current_app.config["RURALBRAIN_SETTINGS"]
    sso = (
        Markup('<p><a class="button" href="/auth/oidc/login?next={}">统一身份认证登录</a></p>').format(target)
        if settings.oidc_issuer
        else ""
    )
    body = Markup(
        '<div class="card"><h1>乡村大脑 · 登录</h1>{}'
        '<form method="post" action="/login">{}'
        '<input type="hidden" name="next" value="{}">'
        '<label for="name">用户名</label><input id="name" name="name" value="{}" autocomplete="username" required>'
        '<label for="password">密码</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit">登录</button></form>{}</div>'
    ).format(error(message), hidden_csrf(generate_csrf()), target, name, sso)
    return page("乡村大脑 · 登录", body)


@login.get("/login")
def login_page():
    """The login form (a note when the last login ended by idling)."""
    message = "长时间未操作，已自动退出，请重新登录" if request.args.get("expired") else ""
    return _form(message, target=_safe_next(request.args.get("next")))


@login.post("/login")
def login_submit():
    """Check the name and password (lockout and audit in etl.warehouse.accounts); a new session on success."""
    csrf.protect()
    name, target = request.form.get("name", "")[:64], _safe_next(request.form.get("next"))
    # Its own short transactions: the lockout's reserve and settle steps, with Argon2 between them outside both.
    user, why = authenticate(current_app.config["RURALBRAIN_ENGINE"], name, request.form.get("password", ""), address())
    if user is None:
        return _form(why, name, target), 401
    start_session(user)
    return redirect(target)


def start_session(user: User) -> None:
    """Log a user in on a fresh session (no value of the anonymous one survives: no session fixation)."""
    session.clear()
    forget(user.name)
    flask_login.login_user(SessionUser(user))
    session["seen"] = datetime.now(UTC).timestamp()
    session["epoch"] = user.session_epoch


@login.post("/logout")
def logout():
    """End the session, and every other of the account (a copied cookie included); audited."""
    csrf.protect()
    user = flask_login.current_user
    if user.is_authenticated:
        with current_app.config["RURALBRAIN_ENGINE"].begin() as connection:
            end_sessions(connection, user.name)
            record(connection, "logout", user.name, address(), "退出登录")
        forget(user.name)
    flask_login.logout_user()
    session.clear()
    return redirect("/login")


def install(server: Flask, settings) -> None:
    """Sessions, CSRF for the forms (callbacks are JSON and rely on the SameSite cookie), the login routes."""
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # Lax, not Strict: the OIDC provider's redirect back must carry it
        SESSION_COOKIE_SECURE=settings.flag(settings.cookie_secure),
        SESSION_COOKIE_NAME="ruralbrain_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in each form's handler; Dash's JSON callbacks have no form
        WTF_CSRF_TIME_LIMIT=None,  # the session's idle timeout bounds it
        # Pages send no referrer (Referrer-Policy: no-referrer), so the token alone is checked over HTTPS too.
        WTF_CSRF_SSL_STRICT=False,
    )
    csrf.init_app(server)
    manager.init_app(server)
    manager.login_view = None  # the access guard redirects, with the page asked for

    @server.errorhandler(CSRFError)
    def _csrf_refused(problem: CSRFError):
        return page("请求已过期", error("表单已过期或来源不明（CSRF 校验失败），请返回重新提交。")), 400

    server.register_blueprint(login)
