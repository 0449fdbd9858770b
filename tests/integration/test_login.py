"""Logins as a user meets them: the login page, lockout, CSRF, idle timeout, a disabled account, user management
by an admin, kiosks behind PUBLIC_SCREENS=false with a screen's token, single sign-on against a local OpenID
provider this test runs, and an audit entry for each."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from dashboard.app import create_app
from dashboard.auth import access as access_cache
from dashboard.auth.access import forget_screen
from dashboard.auth.login import forget
from etl.demo.sample import BOARD_VILLAGE, COUNTY, TOWNSHIP, VILLAGES, build_sample
from etl.warehouse.accounts import add_user, audit_entries, change_user, end_sessions, get_user
from etl.warehouse.db import make_engine
from etl.warehouse.screens import register
from etl.warehouse.settings import Settings
from tests.browser.conftest import free_port
from tests.dash_requests import page
from tests.integration.test_callback_validation import board, county

pytestmark = pytest.mark.integration
HTTPS = "https://localhost"
PASSWORD = "a password long enough"


@pytest.fixture(scope="module")
def county_var(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("login-var")
    settings = build_sample(var_dir)
    with make_engine(settings.warehouse_url).begin() as connection:
        add_user(connection, "admin", "admin", COUNTY, password=PASSWORD)
        add_user(connection, "zhen", "township", TOWNSHIP, password=PASSWORD)
        add_user(connection, "cun", "village", BOARD_VILLAGE, password=PASSWORD)
    return var_dir


def served(var_dir, **settings):
    """The app over the sample county and its warehouse engine."""
    config = Settings.load(var_dir=str(var_dir), **settings)
    return create_app(config), make_engine(config.warehouse_url)


def csrf_token(client, address: str = "/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"{HTTPS}{address}").get_data(as_text=True))[1]


def log_in(client, name: str, password: str = PASSWORD, address: str = "10.0.0.1"):
    data = {"name": name, "password": password, "csrf_token": csrf_token(client), "next": "/"}
    return client.post(f"{HTTPS}/login", data=data, environ_base={"REMOTE_ADDR": address})


def events(engine, name: str) -> list[str]:
    with engine.connect() as connection:
        return [entry.event for entry in audit_entries(connection, user=name, limit=500)]


def test_a_login_starts_a_safe_session_and_the_login_page_speaks_chinese(county_var):
    app, engine = served(county_var)
    client = app.server.test_client()
    form = client.get(f"{HTTPS}/login?next=/ops/screens")
    assert (
        form.status_code == 200
        and "用户名" in form.get_data(as_text=True)
        and "csrf_token" in form.get_data(as_text=True)
    )
    answer = log_in(client, "zhen")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert client.get(f"{HTTPS}/").status_code == 200
    assert client.get(f"{HTTPS}/ops/screens").status_code == 403  # a township cadre is no admin
    logout = client.post(f"{HTTPS}/logout", data={"csrf_token": csrf_token(client, "/login")})
    assert logout.status_code == 302
    assert client.get(f"{HTTPS}/ops/screens").headers["Location"].startswith("/login?next=/ops/screens")
    assert events(engine, "zhen")[:3] == ["logout", "forbidden", "login"]  # the refused admin page is audited too


def test_forms_without_their_csrf_token_are_refused(county_var):
    app, _ = served(county_var)
    client = app.server.test_client()
    refused = client.post(f"{HTTPS}/login", data={"name": "zhen", "password": PASSWORD})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    log_in(client, "admin")
    forged = client.post(f"{HTTPS}/admin/users/zhen", data={"action": "disable"})
    assert forged.status_code == 400


def test_five_failures_lock_the_account_and_the_address(county_var):
    app, engine = served(county_var)
    client = app.server.test_client()
    for _ in range(5):
        wrong = log_in(client, "cun", "not the password", address="10.0.0.50")
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    locked = log_in(client, "cun", address="10.0.0.51")  # the right password, from elsewhere: still locked
    assert locked.status_code == 401 and "15 分钟" in locked.get_data(as_text=True)
    other = log_in(client, "zhen", address="10.0.0.50")  # another account from the address that failed 5 times
    assert other.status_code == 401
    assert events(engine, "cun").count("login_failed") == 6


def test_an_idle_session_ends_and_a_timed_refresh_does_not_keep_it_alive(county_var):
    app, _ = served(county_var, idle_minutes=30)
    client = app.server.test_client()
    log_in(client, "zhen")
    with client.session_transaction(base_url=HTTPS) as session:
        session["seen"] = time.time() - 20 * 60
    # A refresh fired by a timer (n_intervals) is not the user doing something: it does not renew the session.
    refresh = client.post(f"{HTTPS}/_dash-update-component", json=county(scope=TOWNSHIP, shown=TOWNSHIP))
    assert refresh.status_code == 200
    with client.session_transaction(base_url=HTTPS) as session:
        assert time.time() - session["seen"] > 19 * 60
        session["seen"] = time.time() - 31 * 60
    answer = client.get(f"{HTTPS}/ops/screens")
    assert answer.status_code == 302 and "expired=1" in answer.headers["Location"]
    assert "长时间未操作" in client.get(f"{HTTPS}{answer.headers['Location']}").get_data(as_text=True)


def test_an_admin_manages_users_and_a_disabled_account_is_out_at_once(county_var):
    app, engine = served(county_var)
    with engine.begin() as connection:
        add_user(connection, "clerk", "village", BOARD_VILLAGE, password=PASSWORD)
    admin, clerk = app.server.test_client(), app.server.test_client()
    log_in(admin, "admin")
    assert log_in(clerk, "clerk", address="10.0.0.9").status_code == 302
    page = admin.get(f"{HTTPS}/admin/users")
    assert page.status_code == 200 and "用户管理" in page.get_data(as_text=True)
    token = csrf_token(admin, "/admin/users")
    made = admin.post(
        f"{HTTPS}/admin/users",
        data={"name": "cun2", "role": "village", "scope": VILLAGES[1], "password": PASSWORD, "csrf_token": token},
    )
    assert made.status_code == 302
    bad = admin.post(
        f"{HTTPS}/admin/users",
        data={"name": "x9", "role": "township", "scope": VILLAGES[1], "password": PASSWORD, "csrf_token": token},
    )
    assert bad.status_code == 400 and "乡镇级用户的范围" in bad.get_data(as_text=True)
    assert clerk.get(f"{HTTPS}/ops/screens").status_code == 403  # logged in, and no admin
    admin.post(f"{HTTPS}/admin/users/clerk", data={"action": "disable", "csrf_token": token})
    with engine.connect() as connection:
        assert get_user(connection, "clerk").enabled is False and get_user(connection, "cun2").scope == VILLAGES[1]
    assert clerk.get(f"{HTTPS}/ops/screens").status_code == 302  # the session is no longer anyone
    assert "停用" in log_in(clerk, "clerk", address="10.0.0.9").get_data(as_text=True)
    assert "user_changed" in events(engine, "admin")


def test_logout_a_new_password_or_disabling_ends_every_session_of_the_account(county_var):
    # The session is a signed cookie: one copied before a logout, a password reset or an incident's disable, reset and
    # enable went on working (exporting the county's records) as if nothing had happened.
    app, engine = served(county_var)
    with engine.begin() as connection:
        add_user(connection, "leader", "county", COUNTY, password=PASSWORD)

    def stolen_session(name: str):
        victim = app.server.test_client()
        assert log_in(victim, name, address="10.0.0.21").status_code == 302
        thief = app.server.test_client()
        thief.set_cookie("ruralbrain_session", victim.get_cookie("ruralbrain_session").value, domain="localhost")
        assert thief.get(f"{HTTPS}/explore").status_code == 200
        return victim, thief

    victim, thief = stolen_session("leader")
    assert victim.post(f"{HTTPS}/logout", data={"csrf_token": csrf_token(victim)}).status_code == 302
    assert thief.get(f"{HTTPS}/explore/export?part=kpi&format=csv").status_code == 302  # to the login page
    for change in ({"password": "another password long enough"}, {"enabled": False}):
        _victim, thief = stolen_session("leader")
        with engine.begin() as connection:
            change_user(connection, "leader", **change, actor="admin")
            change_user(connection, "leader", password=PASSWORD, enabled=True, actor="admin")
        forget("leader")  # what another worker does within RELOAD_SECONDS
        assert thief.get(f"{HTTPS}/explore").status_code == 302, change
    assert log_in(app.server.test_client(), "leader", address="10.0.0.22").status_code == 302  # a new login works
    engine.dispose()


def test_a_flood_of_refused_regions_writes_a_bounded_audit(county_var):
    # One session asking for region after region wrote an audit row each (500 in a second), kept a year.
    app, engine = served(county_var)
    cadre = app.server.test_client()
    log_in(cadre, "zhen", address="10.0.0.31")
    with engine.connect() as connection:
        before = len(audit_entries(connection, user="zhen", limit=10_000))
    others = [code for code in VILLAGES if not code.startswith(TOWNSHIP[:9])][:1] * 40
    flood = {"REMOTE_ADDR": "10.0.0.31"}  # its own address: the cap counts per user and address, refusals of any kind
    answers = {cadre.get(f"{HTTPS}/geo/regions/{code}.geojson", environ_base=flood).status_code for code in others}
    assert answers == {403}
    with engine.connect() as connection:
        refused = [e for e in audit_entries(connection, user="zhen", limit=10_000)[: -before or None]]
    assert sum(entry.event == "scope_violation" for entry in refused) == 20
    engine.dispose()


def test_a_worker_remembering_the_account_from_before_a_new_login_lets_it_in(county_var):
    # Another worker that had read the account in the half minute before a logout and a new login (its copy of the
    # epoch older than the new session's) sent the fresh, legitimate session to the login page.
    import time

    from dashboard.auth import login as accounts_cache

    app, engine = served(county_var)
    with engine.begin() as connection:
        add_user(connection, "leader2", "county", COUNTY, password=PASSWORD)
        end_sessions(connection, "leader2")  # an earlier logout: the account is at epoch 1
    client = app.server.test_client()
    assert log_in(client, "leader2", address="10.0.0.41").status_code == 302
    with engine.connect() as connection:
        current = get_user(connection, "leader2")
    stale = replace(current, session_epoch=current.session_epoch - 1)
    accounts_cache._accounts["leader2"] = (time.monotonic(), stale)  # what the other worker remembers
    assert client.get(f"{HTTPS}/explore").status_code == 200
    engine.dispose()


def test_kiosks_need_a_login_or_a_screens_token_when_screens_are_not_public(county_var):
    app, engine = served(county_var, public_screens="false")
    with engine.begin() as connection:
        token = register(connection, "hall-01", "county", region_code=TOWNSHIP)
    anonymous = app.server.test_client()
    assert anonymous.get(f"{HTTPS}/screen/county").status_code == 302
    assert anonymous.post(f"{HTTPS}/_dash-update-component", json=county()).status_code == 401
    wrong = anonymous.get(f"{HTTPS}/screen/county?screen=hall-01&token=guess")
    assert wrong.status_code == 302
    kiosk = app.server.test_client()
    assert kiosk.get(f"{HTTPS}/screen/county?kiosk=1&screen=hall-01&token={token}").status_code == 200
    # Its refreshes carry the session the address opened: the screen's region, and nothing beside it.
    assert kiosk.post(f"{HTTPS}/_dash-update-component", json=county(scope=TOWNSHIP, shown=TOWNSHIP)).status_code == 200
    other = VILLAGES[2][:9] + "000"
    assert kiosk.post(f"{HTTPS}/_dash-update-component", json=county(scope=other, shown=other)).status_code == 403
    refused = kiosk.post(f"{HTTPS}/_dash-update-component", json=board(VILLAGES[2]))
    assert refused.status_code == 403 and refused.get_json()["error"].startswith(f"无权查看区划 {VILLAGES[2]}")
    # Registering the screen again replaces a leaked token: a session the old one opened ends with it (it went on
    # opening the screens, with the old region, on its cookie alone).
    with engine.begin() as connection:
        register(connection, "hall-01", "county", region_code=other)
    forget_screen("hall-01")  # what another worker does within RELOAD_SECONDS
    assert kiosk.get(f"{HTTPS}/screen/county").status_code == 302
    assert kiosk.post(f"{HTTPS}/_dash-update-component", json=county(scope=TOWNSHIP, shown=TOWNSHIP)).status_code == 401
    # The screen opened with its new token while this worker still remembers the old one: it is let in (it was
    # sent to the login page, its cookie cleared, and froze on stale data until the nightly reload).
    with engine.begin() as connection:
        renewed = register(connection, "hall-01", "county", region_code=TOWNSHIP)
    assert kiosk.get(f"{HTTPS}/screen/county?screen=hall-01&token={renewed}").status_code == 200
    remembered = access_cache._screens["hall-01"]
    access_cache._screens["hall-01"] = (remembered[0], ("an older token's hash", remembered[1][1]))
    assert kiosk.get(f"{HTTPS}/screen/county").status_code == 200
    engine.dispose()


class Provider:
    """A small OpenID provider: discovery, an authorization endpoint that approves at once, a token endpoint
    that signs an ID token (RS256) with the claims the test chose, and its keys."""

    def __init__(self, claims: dict):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test"})
        self.claims, self.codes = claims, {}
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, data, status=200):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/.well-known/openid-configuration":
                    self._json(provider.discovery())
                elif parts.path == "/jwks":
                    self._json({"keys": [provider.key.as_dict(private=False)]})
                elif parts.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    code = uuid.uuid4().hex
                    provider.codes[code] = query
                    self.send_response(302)
                    back = urlencode({"code": code, "state": query["state"]})
                    self.send_header("Location", f"{query['redirect_uri']}?{back}")
                    self.end_headers()
                else:
                    self._json({}, 404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                asked = provider.codes.pop(form.get("code"), None)
                if asked is None:
                    self._json({"error": "invalid_grant"}, 400)
                    return
                now = int(time.time())
                claims = {"iss": provider.issuer, "aud": asked["client_id"], "iat": now, "exp": now + 300}
                claims |= {"nonce": asked.get("nonce"), **provider.claims}
                token = jwt.encode({"alg": "RS256", "kid": "test"}, claims, provider.key)
                self._json({"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": token})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def stop(self) -> None:
        self.server.shutdown()


def sso(app, claims_provider: Provider):
    """Go through the provider as a browser would; the app's last answer."""
    client = app.server.test_client()
    start = client.get(f"{HTTPS}/auth/oidc/login?next=/")
    assert start.status_code == 302 and start.headers["Location"].startswith(claims_provider.issuer)
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    return client, client.get(back.headers["Location"])


def test_a_trailing_slash_or_swapped_router_inputs_need_what_the_page_needs(county_var):
    # Dash's router strips slashes and takes its inputs by position; the guard compared the path as given and read the
    # input labelled pathname. /explore/ opened the county's workspace without a login, /ops/screens/ to a township.
    app, engine = served(county_var, public_screens="false")
    anonymous = app.server.test_client()
    for address in ("/explore", "/explore/"):
        assert anonymous.get(f"{HTTPS}{address}").status_code == 302, address  # to the login page
    for address in ("/explore", "/explore/", "//explore//"):
        assert anonymous.post(f"{HTTPS}/_dash-update-component", json=page(address, "?period=7d")).status_code == 401
    swapped = page("/explore", "?period=7d")
    swapped["inputs"] = [dict(swapped["inputs"][0], property="search"), dict(swapped["inputs"][1], property="pathname")]
    swapped["inputs"][0]["value"], swapped["inputs"][1]["value"] = "/explore", "?period=7d"
    assert anonymous.post(f"{HTTPS}/_dash-update-component", json=swapped).status_code == 400
    township = app.server.test_client()
    log_in(township, "zhen")
    for address in ("/ops/screens", "/ops/screens/"):
        assert township.post(f"{HTTPS}/_dash-update-component", json=page(address)).status_code == 403, address
    assert township.post(f"{HTTPS}/_dash-update-component", json=page("/explore/")).status_code == 200
    engine.dispose()


def test_single_sign_on_takes_the_region_and_role_from_the_id_token(county_var, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test provider speaks plain HTTP on loopback
    claims = {"sub": "u-1001", "preferred_username": "wang.zhen", "name": "王镇长", "region_code": TOWNSHIP}
    provider = Provider({**claims, "role": "township"})
    try:
        app, engine = served(county_var, oidc_issuer=provider.issuer, oidc_client_id="rb", oidc_client_secret="s")
        client, answer = sso(app, provider)
        assert answer.status_code == 302 and answer.headers["Location"] == "/", answer.get_data(as_text=True)
        with engine.connect() as connection:
            user = get_user(connection, "wang.zhen")
        assert (user.role, user.scope, user.source, user.display_name) == ("township", TOWNSHIP, "oidc", "王镇长")
        assert client.get(f"{HTTPS}/?region={TOWNSHIP}").status_code == 200
        assert client.get(f"{HTTPS}/?region={COUNTY}").status_code == 403
        assert "login" in events(engine, "wang.zhen")
        provider.claims = {**claims, "sub": "u-3", "preferred_username": "zhen", "role": "township"}  # a local name
        _, clash = sso(app, provider)
        assert clash.status_code == 403 and "本地账号 zhen 已存在" in clash.get_data(as_text=True)
        provider.claims = {**claims, "sub": "u-2", "preferred_username": "li", "region_code": "990101999999"}
        _, unknown = sso(app, provider)
        assert unknown.status_code == 403 and "不是数据仓库中的区划" in unknown.get_data(as_text=True)
    finally:
        provider.stop()
