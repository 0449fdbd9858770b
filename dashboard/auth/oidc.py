"""Single sign-on where a province has one: OpenID Connect through Authlib. The ID token's claims give the
region code (the scope) and the role (settings name the claims); the account is created or brought up to date
from them, never one of the local accounts of the same name."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Blueprint, Flask, abort, current_app, redirect, request, session, url_for

from dashboard.auth.html import error, page
from dashboard.auth.login import _safe_next, start_session
from dashboard.auth.viewer import address
from etl.warehouse.accounts import NAME, AccountError, add_user, change_user, get_user, record

oidc = Blueprint("oidc", __name__)
PROVIDER = "province"


def _client():
    """This app's OIDC client, or 404 when single sign-on is not configured."""
    oauth = current_app.extensions.get("ruralbrain_oauth")
    client = oauth.create_client(PROVIDER) if oauth else None
    if client is None:
        abort(404)
    return client


def _refused(why: str, name: str | None = None):
    with current_app.config["RURALBRAIN_ENGINE"].begin() as connection:
        record(connection, "login_failed", name, address(), f"统一身份认证：{why}")
    return page("统一身份认证", error(f"无法登录：{why}")), 403


@oidc.get("/auth/oidc/login")
def start():
    """Send the browser to the provider (state and nonce kept in the session by Authlib)."""
    client = _client()
    session["oidc_next"] = _safe_next(request.args.get("next"))
    return client.authorize_redirect(url_for("oidc.finish", _external=True))


@oidc.get("/auth/oidc/callback")
def finish():
    """The provider sends the browser back: check the ID token, map its claims to an account, log in."""
    client = _client()
    settings = current_app.config["RURALBRAIN_SETTINGS"]
    try:
        token = client.authorize_access_token()
    except OAuthError as problem:
        return _refused(f"认证服务器的回应无效（{problem.error}）")
    claims = token.get("userinfo") or {}
    name = str(claims.get("preferred_username") or claims.get("sub") or "")
    if not NAME.match(name):
        name = f"oidc-{claims.get('sub', '')}"[:64]
    role = str(claims.get(settings.oidc_role_claim) or "viewer")
    scope = str(claims.get(settings.oidc_region_claim) or "")
    display = str(claims.get("name") or name)[:100]
    target = session.pop("oidc_next", "/")
    try:
        with current_app.config["RURALBRAIN_ENGINE"].begin() as connection:
            existing = get_user(connection, name)
            if existing is not None and existing.source != "oidc":
                raise AccountError(f"本地账号 {name} 已存在，不能经统一身份认证登录")
            if existing is None:
                user = add_user(connection, name, role, scope, display_name=display, source="oidc", actor="oidc")
            else:
                user = change_user(connection, name, role=role, scope=scope, display_name=display, actor="oidc")
            if not user.enabled:
                raise AccountError("账号已停用")
            record(connection, "login", name, address(), f"统一身份认证登录（{settings.oidc_issuer}）")
    except AccountError as problem:
        return _refused(str(problem), name)
    start_session(user)
    return redirect(target)


def install(server: Flask, settings) -> None:
    """The routes; the provider only when OIDC_ISSUER is set (its discovery document names its endpoints)."""
    server.register_blueprint(oidc)
    if not settings.oidc_issuer:
        return
    oauth = OAuth(server)
    server.extensions["ruralbrain_oauth"] = oauth
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile"},
    )
