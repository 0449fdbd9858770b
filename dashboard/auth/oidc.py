"""Single sign-on where a province has one: OpenID Connect through Authlib. The ID token's claims give the
region code (the scope) and the role (settings name the claims); the account is the person's issuer and subject,
created (named by preferred_username) or brought up to date from them, never a local account nor another person's."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Blueprint, Flask, abort, current_app, redirect, request, session, url_for

from dashboard.auth.html import error, page
from dashboard.auth.login import _safe_next, start_session
from dashboard.auth.viewer import address
from etl.warehouse.accounts import NAME, AccountError, record, sso_account

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
    """The page of a refused single sign-on (403), audited as a failed login."""
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
    # The account is the person's (issuer, subject); preferred_username only names a new one.
    issuer, preferred = str(claims.get("iss") or settings.oidc_issuer), str(claims.get("preferred_username") or "")
    target = session.pop("oidc_next", "/")
    try:
        with current_app.config["RURALBRAIN_ENGINE"].begin() as connection:
            user = sso_account(
                connection,
                issuer,
                str(claims.get("sub") or ""),
                preferred,
                role=str(claims.get(settings.oidc_role_claim) or "viewer"),
                scope=str(claims.get(settings.oidc_region_claim) or ""),
                display_name=str(claims.get("name") or ""),
                address=address(),
            )
            record(connection, "login", user.name, address(), f"统一身份认证登录（{issuer}）")
    except AccountError as problem:
        return _refused(str(problem), preferred if NAME.match(preferred) else None)
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
