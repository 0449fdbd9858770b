"""Screens prove who they are: `ruralbrain screens register` prints the address with the screen's token and keeps
only its hash; a heartbeat without the token cannot touch a registered screen; unregistered screens are capped
and forgotten after 24 h; request bodies are capped at 64 KB."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from dashboard.app import create_app
from etl.cli import main
from etl.demo.sample import COUNTY
from etl.warehouse.accounts import add_user
from etl.warehouse.schema import screen_heartbeats, screens
from etl.warehouse.screens import screen_states
from etl.warehouse.settings import Settings
from tests.dash_requests import page
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration
CAP = 20
DEMO_REGIONS = Path(__file__).resolve().parents[2] / "data" / "demo" / "regions.csv"


def register(var: str, *arguments: str) -> tuple[str, str]:
    """Register a screen through the CLI: (the address it printed, the token in it)."""
    result = CliRunner().invoke(main, ["--var-dir", var, "screens", "register", *arguments])
    assert result.exit_code == 0, result.output
    address = re.search(r"https?://\S+", result.output).group(0)
    return address, parse_qs(urlsplit(address).query)["token"][0]


@pytest.fixture
def screens_app(tmp_path):
    """A warehouse with wall-01 registered, and the app over it with a cap of 20 unregistered screens."""
    var = str(tmp_path / "var")
    imported = CliRunner().invoke(main, ["--var-dir", var, "geo", "import", str(DEMO_REGIONS)])
    assert imported.exit_code == 0, imported.output
    address, token = register(
        var, "wall-01", "--kind", "county", "--location", "指挥中心", "--base-url", "https://rb.example.cn"
    )
    app = create_app(Settings.load(var_dir=var, unregistered_screens=CAP))
    return app, address, token


def states(app, now=None) -> dict:
    with app.server.config["RURALBRAIN_ENGINE"].connect() as connection:
        return {state.screen_id: state for state in screen_states(connection, now)}


def test_register_prints_the_address_with_a_token_and_keeps_only_its_hash(screens_app, tmp_path):
    app, address, token = screens_app
    assert address.startswith("https://rb.example.cn/screen/county?kiosk=1&screen=wall-01&token=")
    assert len(token) >= 40
    with app.server.config["RURALBRAIN_ENGINE"].connect() as connection:
        stored = connection.execute(select(screens.c.token_hash).where(screens.c.screen_id == "wall-01")).scalar()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token.encode() not in (tmp_path / "var" / "warehouse.db").read_bytes()
    board, _ = register(str(tmp_path / "var"), "board-01", "--kind", "board", "--region", "990101001001")
    assert "/board/990101001001?screen=board-01&token=" in board
    refused = CliRunner().invoke(
        main, ["--var-dir", str(tmp_path / "var"), "screens", "register", "s", "--kind", "stop"]
    )
    assert refused.exit_code != 0 and "--stop" in refused.output


def test_a_heartbeat_without_the_token_cannot_keep_a_dark_wall_alive(screens_app, tmp_path):
    app, _address, token = screens_app
    client = app.server.test_client()
    for forged in ({"screen": "wall-01"}, {"screen": "wall-01", "token": "guess"}, {"screen": "wall-01", "token": 7}):
        answer = client.post("/api/heartbeat", json=forged)
        assert answer.status_code == 403 and "令牌" in answer.json["error"]
    assert states(app)["wall-01"].state == "never seen"  # the forged beats touched nothing
    route = f"/screen/county?kiosk=1&screen=wall-01&token={token}"
    assert client.post("/api/heartbeat", json={"screen": "wall-01", "token": token, "route": route}).status_code == 200
    assert states(app)["wall-01"].state == "ok"
    assert states(app)["wall-01"].route == "/screen/county?kiosk=1&screen=wall-01"  # the token is not shown
    # Ten minutes later the wall has gone dark; a forged beat does not bring it back.
    engine = app.server.config["RURALBRAIN_ENGINE"]
    with engine.begin() as connection:
        connection.execute(update(screen_heartbeats).values(last_seen=datetime.now(UTC) - timedelta(minutes=10)))
    assert client.post("/api/heartbeat", json={"screen": "wall-01"}).status_code == 403
    assert states(app)["wall-01"].state == "dark"
    headers = {"X-Screen-Token": token}
    assert client.post("/api/heartbeat", json={"screen": "wall-01"}, headers=headers).status_code == 200
    # Registering again issues a new token: the old one no longer works.
    _address, new = register(str(tmp_path / "var"), "wall-01", "--kind", "county")
    assert client.post("/api/heartbeat", json={"screen": "wall-01", "token": token}).status_code == 403
    assert client.post("/api/heartbeat", json={"screen": "wall-01", "token": new}).status_code == 200


def test_a_flood_of_unregistered_screens_is_capped_and_forgotten_after_a_day(screens_app):
    app, _address, _token = screens_app
    client = app.server.test_client()
    answers = [client.post("/api/heartbeat", json={"screen": f"flood-{n}"}).status_code for n in range(200)]
    assert answers == [200] * CAP + [429] * (200 - CAP)
    assert client.post("/api/heartbeat", json={"screen": "flood-3"}).status_code == 200  # known ones still beat
    assert len(states(app)) == CAP + 1  # and wall-01
    with app.server.config["RURALBRAIN_ENGINE"].begin() as connection:
        add_user(connection, "yunwei", "admin", COUNTY, password=PASSWORD)  # an admin of the demo county
    admin = logged_in(app, "yunwei")  # the ops page is an admin's
    ops = admin.post(f"{HTTPS}/_dash-update-component", json=page("/ops/screens"))
    assert ops.status_code == 200 and len(ops.get_data()) < 40_000
    # A day later the flood is forgotten (the registered wall is not), and new screens are admitted again.
    assert set(states(app, datetime.now(UTC) + timedelta(hours=25))) == {"wall-01"}
    engine = app.server.config["RURALBRAIN_ENGINE"]
    with engine.begin() as connection:
        connection.execute(update(screen_heartbeats).values(last_seen=datetime.now(UTC) - timedelta(hours=25)))
    assert client.post("/api/heartbeat", json={"screen": "board-new"}).status_code == 200
    with engine.connect() as connection:
        assert set(connection.execute(select(screen_heartbeats.c.screen_id)).scalars()) == {"board-new"}


def test_bodies_over_64_kb_are_refused_unread(screens_app):
    app, _address, token = screens_app
    client = app.server.test_client()
    huge = b'{"screen": "wall-01", "pad": "' + b"x" * (30 * 1024 * 1024) + b'"}'
    for path in ("/api/heartbeat", "/_dash-update-component"):
        answer = client.post(path, data=huge, content_type="application/json")
        assert answer.status_code == 413 and "64 KB" in answer.json["error"]
        just_over = b'{"pad": "' + b"x" * (64 * 1024) + b'"}'
        assert client.post(path, data=just_over, content_type="application/json").status_code == 413
    assert client.post("/api/heartbeat", data=b"[1, 2]", content_type="application/json").status_code == 400
    assert client.post("/api/heartbeat", json={"screen": "wall-01", "token": token}).status_code == 200


def test_the_same_on_postgresql(postgres_url, tmp_path):
    var = str(tmp_path / "var")
    result = CliRunner().invoke(
        main, ["--var-dir", var, "--warehouse-url", postgres_url, "screens", "register", "wall-pg", "--kind", "county"]
    )
    assert result.exit_code == 0, result.output
    token = parse_qs(urlsplit(re.search(r"https?://\S+", result.output).group(0)).query)["token"][0]
    app = create_app(Settings.load(var_dir=var, warehouse_url=postgres_url, unregistered_screens=2))
    client = app.server.test_client()
    assert client.post("/api/heartbeat", json={"screen": "wall-pg"}).status_code == 403
    for _ in range(2):
        assert client.post("/api/heartbeat", json={"screen": "wall-pg", "token": token}).status_code == 200
    assert [client.post("/api/heartbeat", json={"screen": f"u{n}"}).status_code for n in range(3)] == [200, 200, 429]
    found = states(app)
    assert found["wall-pg"].state == "ok" and set(found) == {"wall-pg", "u0", "u1"}
    app.server.config["RURALBRAIN_ENGINE"].dispose()


@pytest.mark.parametrize(
    "body",
    [
        {"heap_mb": 10**400},  # a float() of it overflowed: 500
        {"data_version": 10**23},  # beyond SQLite's 64-bit integer: 500
        {"heap_mb": float("nan")},  # stored as NaN
        {"heap_mb": float("inf")},
        {"heap_mb": -1},
        {"data_version": True},
        {"data_version": 1.5},
        {"heap_mb": "31"},
    ],
)
def test_a_heartbeat_with_a_number_out_of_range_is_refused_with_a_reason(screens_app, body):
    app, _address, _token = screens_app
    client = app.server.test_client()
    answer = client.post("/api/heartbeat", json={"screen": "tab-n", **body})
    assert answer.status_code == 400 and "应为" in answer.json["error"]
    assert "tab-n" not in states(app)
    fine = client.post("/api/heartbeat", json={"screen": "tab-n", "heap_mb": 31.5, "data_version": 7})
    assert fine.status_code == 200
    assert (states(app)["tab-n"].js_heap_mb, states(app)["tab-n"].data_version) == (31.5, 7)


@pytest.mark.parametrize("screen", ["tab-1\n", "wall-02\n", "城关镇大屏\n"])
def test_a_screen_id_is_checked_to_its_end(screens_app, screen):
    """`$` let a trailing newline through: a second screen that looked like the first on the ops page."""
    app, _address, _token = screens_app
    client = app.server.test_client()
    assert client.post("/api/heartbeat", json={"screen": screen}).status_code == 400
    assert client.post("/api/heartbeat", json={"screen": screen.strip()}).status_code == 200  # 城关镇大屏 is a name


def test_a_heartbeat_while_a_load_holds_the_warehouse_answers_503_soon(screens_app, tmp_path):
    """A heartbeat waited the engine's 30 s for SQLite's write lock, holding a worker, then answered 500."""
    import sqlite3

    app, _address, _token = screens_app
    client = app.server.test_client()
    holder = sqlite3.connect(tmp_path / "var" / "warehouse.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # what a long load's commit does
    try:
        answer = client.post("/api/heartbeat", json={"screen": "tab-busy"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503 and "数据仓库正忙" in answer.json["error"]
    assert answer.headers["Retry-After"] == "30"
    assert client.post("/api/heartbeat", json={"screen": "tab-busy"}).status_code == 200
    with app.server.config["RURALBRAIN_ENGINE"].connect() as connection:  # the pooled connection waits as before
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_the_build_changes_with_a_screen_profile(tmp_path):
    """A county profile's panel list decides which refreshes the server accepts: a deploy changing only a profile
    left open pages on their old build, refused (400) until the daily reload."""
    from dashboard.heartbeat import build_id

    code, profiles = tmp_path / "dashboard", tmp_path / "layouts" / "profiles"
    code.mkdir()
    profiles.mkdir(parents=True)
    (code / "app.py").write_text("x = 1\n")
    (profiles / "county-1080p.toml").write_text('panels = ["governance", "industry"]\n')
    sources = ((code, (".py", ".js", ".css")), (tmp_path / "layouts", (".py", ".toml")))
    before = build_id(sources)
    (profiles / "county-1080p.toml").write_text('panels = ["governance"]\n')
    assert build_id(sources) != before
    from dashboard.heartbeat import BUILT_FROM

    assert any(folder.name == "layouts" and ".toml" in suffixes for folder, suffixes in BUILT_FROM)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--kind", "board", "--region", "990101999999"], "区划 990101999999 不在数据仓库中"),
        (["--kind", "board", "--region", "990101001000"], "村级电子屏的区划应为村"),
        (["--kind", "county", "--region", "990199000000"], "不在数据仓库中"),
        (["--kind", "stop", "--stop", "S99"], "站点 S99 不在数据仓库中"),
    ],
)
def test_a_screen_for_a_place_the_warehouse_does_not_hold_is_not_registered(screens_app, tmp_path, arguments, reason):
    """`screens register w1 --kind board --region 990101999999` printed a token whose address opened 未找到…."""
    var = str(tmp_path / "var")
    refused = CliRunner().invoke(main, ["--var-dir", var, "screens", "register", "w1", *arguments])
    assert refused.exit_code != 0 and reason in refused.output and "token=" not in refused.output
    assert "w1" not in states(screens_app[0])


@pytest.mark.parametrize("command", [["screens"], ["audit", "list"]])
def test_a_listing_refuses_a_warehouse_that_is_not_there(tmp_path, command):
    """A mistyped VAR_DIR got a new, empty warehouse and an empty list, as if nothing were registered or audited."""
    listed = CliRunner().invoke(main, ["--var-dir", str(tmp_path / "typo"), *command])
    assert listed.exit_code != 0 and "不存在" in listed.output
    assert not (tmp_path / "typo" / "warehouse.db").exists()
