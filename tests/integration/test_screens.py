"""Heartbeats: stored per screen, listed by `ruralbrain screens`, and a silent screen shows as dark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from dashboard.app import create_app
from etl.cli import main
from etl.warehouse.screens import screen_states
from etl.warehouse.settings import Settings


def test_heartbeats_and_dark_screens(tmp_path):
    var = str(tmp_path / "var")
    runner = CliRunner()
    registered = runner.invoke(
        main, ["--var-dir", var, "screens", "register", "board-01", "--kind", "board", "--location", "村委会门口"]
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
    assert later["stop-7"].state == "dark"
    listed = runner.invoke(main, ["--var-dir", var, "screens"])
    assert "stop-7 (unknown): ok" in listed.output and "board-01 @ 村委会门口: never seen" in listed.output
    page = client.get("/ops/screens")
    assert page.status_code == 200
