"""Screens' heartbeats: each screen posts one a minute; the answer tells it the server's build and data version."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.dialects import postgresql, sqlite

from etl.warehouse.db import current_version
from etl.warehouse.schema import screen_heartbeats

heartbeat = Blueprint("heartbeat", __name__)
SCREEN_ID = re.compile(r"^[\w.-]{1,64}$")


def build_id() -> str:
    """An id of the code being served: a deploy changes it, and screens then reload once."""
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).parent.rglob("*")):
        if path.suffix in (".py", ".js", ".css") and path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@heartbeat.post("/api/heartbeat")
def receive():
    """Store a screen's heartbeat; answer with the build and the warehouse version."""
    data = request.get_json(silent=True) or {}
    screen_id = str(data.get("screen", ""))
    if not SCREEN_ID.match(screen_id):
        return jsonify(error="screen must be 1-64 letters, digits, '.', '_' or '-'"), 400
    engine = current_app.config["RURALBRAIN_ENGINE"]
    heap = data.get("heap_mb")
    values = {
        "screen_id": screen_id,
        "last_seen": datetime.now(UTC),
        "route": str(data.get("route", ""))[:200],
        "build": str(data.get("build", ""))[:40],
        "data_version": data.get("data_version") if isinstance(data.get("data_version"), int) else None,
        "js_heap_mb": float(heap) if isinstance(heap, (int, float)) else None,
        "beats": 1,
    }
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[engine.dialect.name](screen_heartbeats)
    updates = {k: insert.excluded[k] for k in values if k not in ("screen_id", "beats")}
    updates["beats"] = screen_heartbeats.c.beats + 1
    with engine.begin() as connection:
        connection.execute(insert.values(**values).on_conflict_do_update(index_elements=["screen_id"], set_=updates))
        version = current_version(connection)
    return jsonify(build=current_app.config["RURALBRAIN_BUILD"], data_version=version)
