"""Heartbeats: stored per screen, listed by `ruralbrain screens`, and a silent screen shows as dark."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from dashboard.app import create_app
from dashboard.panels import Window, panels
from dashboard.plain import compact, plain
from dashboard.warmup import warm
from etl.cli import main
from etl.demo.sample import VILLAGES, build_sample
from etl.warehouse.screens import screen_states
from etl.warehouse.settings import Settings


def test_heartbeats_and_dark_screens(tmp_path):
    var = str(tmp_path / "var")
    runner = CliRunner()
    regions = os.path.join(os.path.dirname(__file__), "..", "..", "data", "demo", "regions.csv")
    assert runner.invoke(main, ["--var-dir", var, "geo", "import", regions]).exit_code == 0
    registered = runner.invoke(
        main,
        ["--var-dir", var, "screens", "register", "board-01", "--kind", "board", "--region", "990101001001"]
        + ["--location", "村委会门口"],
    )
    assert registered.exit_code == 0, registered.output
    app = create_app(Settings.load(var_dir=var))
    client = app.server.test_client()
    answer = client.post("/api/heartbeat", json={"screen": "stop-7", "route": "/stop/7", "heap_mb": 31.5})
    assert answer.status_code == 200 and answer.json["build"] == app.server.config["RURALBRAIN_BUILD"]
    client.post("/api/heartbeat", json={"screen": "stop-7", "route": "/stop/7"})
    assert client.post("/api/heartbeat", json={"screen": "../etc"}).status_code == 400

    engine = app.server.config["RURALBRAIN_ENGINE"]
    with engine.connect() as connection:
        now = {s.screen_id: s for s in screen_states(connection)}
        later = {s.screen_id: s for s in screen_states(connection, datetime.now(UTC) + timedelta(minutes=6))}
    assert now["stop-7"].state == "ok" and not now["stop-7"].registered and now["stop-7"].js_heap_mb is None
    assert now["board-01"].state == "never seen" and now["board-01"].location == "村委会门口"
    assert later["stop-7"].state == "gone"  # an unregistered tab closed: no dark screen
    listed = runner.invoke(main, ["--var-dir", var, "screens"])
    assert "stop-7（未登记）：正常" in listed.output and "board-01 @ 村委会门口：从未上线" in listed.output
    page = client.get("/ops/screens")  # an admin's page: an anonymous visitor is sent to the login
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def _from_dash_json(node) -> list:
    """The compact form of a component tree, derived from the JSON Dash itself would send for it."""
    if node is None:
        return []
    if isinstance(node, list):
        return [item for child in node for item in _from_dash_json(child)]
    if not isinstance(node, dict):
        return [str(node)]
    props = node["props"]
    head = ".".join([node["type"].lower(), *props.get("className", "").split()])
    attributes = {key: props[key] for key in ("style", "title") if key in props}
    return [[head, *([attributes] if attributes else []), *_from_dash_json(props.get("children"))]]


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory):
    """The screens' app over the demo county with the sample facts (etl/demo/sample.py)."""
    var_dir = tmp_path_factory.mktemp("sample-var")
    return create_app(build_sample(var_dir)), var_dir


def test_panels_as_compact_nodes_say_what_their_components_say(sample_app):
    app, _var_dir = sample_app
    engine = app.server.config["RURALBRAIN_ENGINE"]
    window = Window.at(datetime.now(UTC))
    with app.server.app_context():
        for scope in ("990101000000", VILLAGES[0][:9] + "000", VILLAGES[0]):
            for panel in panels().values():
                tree = panel.render(engine, scope, window)
                assert compact(tree) == _from_dash_json(plain(tree)), (panel.name, scope)


def test_a_worker_draws_the_county_screen_once_before_serving_and_its_answers_are_the_screens(
    sample_app, tmp_path, caplog
):
    app, var_dir = sample_app
    with caplog.at_level(logging.WARNING, logger="dashboard.warmup"):
        warm(app)
        assert caplog.records == []
        # What it cached (at once, as every answer is, for workers waiting on it) is what the screen asks for:
        # the first visitor's page computes nothing new.
        cached = set(os.listdir(var_dir / "cache"))
        assert app.server.test_client().get("/screen/county").status_code == 200
        assert set(os.listdir(var_dir / "cache")) == cached
        # A warehouse not migrated yet: the worker still starts, and says why it could not draw.
        warm(create_app(Settings.load(var_dir=str(tmp_path / "bare"))))
    assert [record.getMessage() for record in caplog.records] == ["warming the county screen failed"]


def test_the_ops_page_shows_a_township_admin_only_the_screens_of_the_township(sample_app):
    """An admin of one township saw every screen of the deployment on /ops/screens (another township's board,
    its location and route), though the board's own page refused them; browser tabs nobody registered say
    which village they show in their route, so only an admin of the whole deployment sees them."""
    from sqlalchemy import create_engine

    from etl.warehouse.accounts import add_user
    from tests.dash_requests import page
    from tests.sessions import HTTPS, PASSWORD, logged_in

    app, var_dir = sample_app
    var = str(var_dir)
    runner = CliRunner()
    mine = VILLAGES[0]
    theirs = next(code for code in VILLAGES if code[:9] != mine[:9])
    for screen, village, where in (("board-mine", mine, "本镇村委会"), ("board-theirs", theirs, "邻镇村委会门口")):
        args = ["--var-dir", var, "screens", "register", screen, "--kind", "board", "--region", village]
        assert runner.invoke(main, [*args, "--location", where]).exit_code == 0
    settings = Settings.load(var_dir=var)
    engine = create_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "zhen-admin", "admin", mine[:9] + "000", password=PASSWORD)
        add_user(connection, "county-admin", "admin", "990101000000", password=PASSWORD)
    engine.dispose()
    app.server.test_client().post("/api/heartbeat", json={"screen": "tab-1", "route": f"/board/{theirs}"})

    def shown(name: str) -> str:
        answer = logged_in(app, name).post(f"{HTTPS}/_dash-update-component", json=page("/ops/screens"))
        assert answer.status_code == 200
        return str(answer.json)

    township, county = shown("zhen-admin"), shown("county-admin")
    assert "board-mine" in township and "本镇村委会" in township
    assert "board-theirs" not in township and "邻镇村委会门口" not in township
    assert "tab-1" not in township and theirs not in township
    assert [n for n in ("board-mine", "board-theirs", "邻镇村委会门口", "tab-1") if n not in county] == [], county
