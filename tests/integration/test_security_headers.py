"""The app sends its security headers itself (tests and hosts without nginx included): a CSP, nosniff, no
referrer, no framing except kiosk pages for a configured player; and gunicorn shows no version."""

from __future__ import annotations

import re
import urllib.request

import pytest

from dashboard.app import create_app
from etl.demo.build import build_demo
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.settings import Settings
from tests.browser.conftest import serve
from tests.dash_requests import callback, page
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration
COUNTY = "990101000000"
PLAYER = "https://player.example.cn"


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    var = tmp_path_factory.mktemp("headers-var")
    build_demo(Settings.load(var_dir=str(var)), echo=lambda _line: None)
    return var


def _responses(client):
    ping = callback(
        "ping-text.title",
        {"id": "ping-text", "property": "title"},
        [{"id": "ping-interval", "property": "n_intervals", "value": 1}],
    )
    return {
        "page": client.get("/screen/county"),
        "ops": client.get("/ops/screens"),
        "callback": client.post("/_dash-update-component", json=ping),
        "bad callback": client.post("/_dash-update-component", json={"output": "x"}),
        "asset": client.get("/assets/base.css"),
        "bundle": client.get("/_dash-component-suites/dash/dcc/dash_core_components.js"),
        "geometry": client.get(f"/geo/children/{COUNTY}.geojson"),
        "missing geometry": client.get("/geo/children/990101999999.geojson"),
        "heartbeat": client.post("/api/heartbeat", json={"screen": "headers-test"}),
        "too large": client.post("/api/heartbeat", data=b"x" * 70_000, content_type="application/json"),
        "health": client.get("/readyz"),
    }


def test_every_page_carries_the_policy_and_every_response_nosniff(var_dir):
    app = create_app(Settings.load(var_dir=str(var_dir)))
    for name, response in _responses(app.server.test_client()).items():
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert "Server" not in headers, name
        if response.mimetype != "text/html":
            continue  # not a document: a policy would weigh on every refresh and protect nothing
        assert "script-src 'self' 'sha256-" in headers.get("Content-Security-Policy", ""), name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["X-Frame-Options"] == "DENY", name
    html = [name for name, response in _responses(app.server.test_client()).items() if response.mimetype == "text/html"]
    assert html == ["page", "ops"]  # a missing file's 404 is JSON in Chinese, as every error (not Flask's page)


def test_only_kiosk_pages_may_be_framed_and_only_by_the_configured_player(var_dir):
    tiles = "https://{s}.tiles.example.cn/{z}/{x}/{y}.png"
    app = create_app(Settings.load(var_dir=str(var_dir), frame_ancestors=PLAYER, tile_url=tiles))
    client = app.server.test_client()
    for path in ("/screen/county?kiosk=1", "/board/990101001001", "/stop/S01"):
        headers = client.get(path).headers
        assert f"frame-ancestors {PLAYER}" in headers["Content-Security-Policy"] and "X-Frame-Options" not in headers
    for path in ("/", "/ops/screens", "/ping"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"
    policy = client.get("/").headers["Content-Security-Policy"]
    assert re.search(r"img-src 'self' data: https://\*\.tiles\.example\.cn(;|$)", policy)  # the basemap's server


def test_gunicorn_answers_with_the_headers_and_no_version(var_dir):
    process, base = serve(var_dir, workers=1)
    try:
        with urllib.request.urlopen(base + "/screen/county") as response:
            assert "script-src 'self' 'sha256-" in response.headers["Content-Security-Policy"]
            assert not re.search(r"\d", response.headers.get("Server", ""))
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_ops_page_and_readyz_answer_only_the_operations_network(var_dir):
    settings = Settings.load(var_dir=str(var_dir))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "yunwei", "admin", COUNTY, password=PASSWORD)
    engine.dispose()
    client = logged_in(create_app(settings), "yunwei")  # the ops page is an admin's
    outside = {"X-RuralBrain-Ops": "0"}  # what nginx sets for an address outside the operations network
    assert client.get(f"{HTTPS}/readyz", headers=outside).status_code == 403
    refused = client.post(f"{HTTPS}/_dash-update-component", json=page("/ops/screens"), headers=outside)
    assert "仅限运维网络" in str(refused.json) and "screens-table" not in str(refused.json)  # drawn via callbacks
    for inside in ({"X-RuralBrain-Ops": "1"}, {}):  # from the operations network, or on the host itself
        assert client.get(f"{HTTPS}/readyz", headers=inside).status_code == 200
        shown = client.post(f"{HTTPS}/_dash-update-component", json=page("/ops/screens"), headers=inside)
        assert "screens-table" in str(shown.json)


def test_errors_of_any_kind_answer_in_chinese_never_with_an_english_page(var_dir):
    # A POST to a GET-only route was an English 500 (the access check knew no route for it), and a missing
    # export werkzeug's English "Not Found" page.
    app = create_app(Settings.load(var_dir=str(var_dir)))
    client = app.server.test_client()
    wrong_method = client.post("/healthz")
    assert wrong_method.status_code == 405 and wrong_method.json == {"error": "不支持此请求方式"}
    assert wrong_method.headers["Allow"]  # which methods it takes
    # A browser (a clerk's form after the session expired, a household's phone) gets a page, not JSON.
    browser = client.post("/healthz", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 405 and browser.mimetype == "text/html"
    assert "不支持此请求方式" in browser.get_data(as_text=True) and 'lang="zh-CN"' in browser.get_data(as_text=True)
    with make_engine(f"sqlite:///{var_dir / 'warehouse.db'}").begin() as connection:
        add_user(connection, "errors-county", "county", COUNTY, password=PASSWORD)
    leader = logged_in(app, "errors-county")
    missing = leader.get(f"{HTTPS}/explore/export?region={COUNTY}&part=nothing&format=csv")
    assert missing.status_code in (400, 404) and "error" in missing.json
    assert re.search(r"[\u4e00-\u9fff]", missing.json["error"]), missing.json
    assert "Not Found" not in missing.get_data(as_text=True)
    # What the address carries is shown as text on the browser's page, never as markup.
    hostile = leader.get(
        f"{HTTPS}/explore/export?region=<script>alert(1)</script>&part=records&format=csv",
        headers={"Accept": "text/html"},
    )
    page_text = hostile.get_data(as_text=True)
    assert hostile.status_code in (400, 403, 404) and hostile.mimetype == "text/html", page_text[:300]
    assert "<script>alert" not in page_text


def test_a_redirect_says_where_it_goes_in_chinese(var_dir):
    """werkzeug's redirect body is an English "Redirecting..." page (lang=en), shown by curl and slow links."""
    client = create_app(Settings.load(var_dir=str(var_dir))).server.test_client()
    answer = client.get("/admin/users?x=<b>")  # an admin's page: to the login, the address kept as next
    assert answer.status_code == 302
    body = answer.get_data(as_text=True)
    assert "正在跳转" in body and 'lang="zh-CN"' in body and "Redirecting" not in body
    assert "<b>" not in body and "/login" in body


def test_the_icon_is_kept_by_browsers_and_pages_are_not(var_dir):
    # Uncached, Chromium fetched the icon again at every drill (a history push), beside the drill's own request.
    client = create_app(Settings.load(var_dir=str(var_dir))).server.test_client()
    icon = client.get("/_favicon.ico?v=1")
    assert icon.status_code == 200 and icon.mimetype == "image/x-icon"
    assert icon.cache_control.max_age >= 3600 and icon.cache_control.public
    assert client.get("/screen/county").cache_control.max_age is None
