"""Screens' heartbeats: each screen posts one a minute; the answer tells it the server's build and data version.

A registered screen proves itself with its token (from its address); without it a heartbeat cannot touch the
screen's row, so nobody can keep a dark wall looking alive. Unregistered screens are kept 24 h after their
last heartbeat and capped in number (UNREGISTERED_SCREENS), so nobody can grow the ops page without end.
"""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import bindparam, exists, select
from werkzeug.exceptions import BadRequest, Forbidden, TooManyRequests

from etl.warehouse.db import current_version
from etl.warehouse.schema import screen_heartbeats, screens
from etl.warehouse.screens import SCREEN_ID, forget_unregistered, token_matches, unregistered_count, upsert_for

heartbeat = Blueprint("heartbeat", __name__)
# The token travels in a screen's address; the ops page shows the address without it.
TOKEN_PARAMETER = re.compile(r"(?<=[?&])token=[^&#]*&?")
# What a heartbeat needs to know, in one round trip: the screen's token hash if it is registered, and whether
# it has beaten before (built once, like the screens' queries).
_SCREEN = bindparam("screen_id")
ADMISSION = select(
    exists().where(screens.c.screen_id == _SCREEN).label("registered"),
    select(screens.c.token_hash).where(screens.c.screen_id == _SCREEN).scalar_subquery().label("token_hash"),
    exists().where(screen_heartbeats.c.screen_id == _SCREEN).label("seen"),
)
BEAT_COLUMNS = ("screen_id", "last_seen", "route", "build", "data_version", "js_heap_mb", "beats")


@functools.cache
def beat_statement(dialect: str):
    """The upsert of a heartbeat row for a dialect: a new screen starts at one beat, a known one counts up."""
    insert = upsert_for(dialect, screen_heartbeats).values({column: bindparam(column) for column in BEAT_COLUMNS})
    updates = {column: insert.excluded[column] for column in BEAT_COLUMNS if column not in ("screen_id", "beats")}
    return insert.on_conflict_do_update(
        index_elements=["screen_id"], set_={**updates, "beats": screen_heartbeats.c.beats + 1}
    )


def build_id() -> str:
    """An id of the code being served: a deploy changes it, and screens then reload once."""
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).parent.rglob("*")):
        if path.suffix in (".py", ".js", ".css") and path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _admit(connection, screen_id: str, token, now: datetime) -> None:
    """Refuse a heartbeat for a registered screen without its token (403), or for one more unregistered screen
    once the cap is reached (429)."""
    known = connection.execute(ADMISSION, {"screen_id": screen_id}).one()
    if known.registered:
        if not token_matches(token, known.token_hash):
            raise Forbidden(description=f"屏幕 {screen_id} 已登记，心跳须携带其令牌（见 ruralbrain screens register）")
        return
    if not known.seen:
        forget_unregistered(connection, now)
        cap = current_app.config["RURALBRAIN_SETTINGS"].unregistered_screens
        if unregistered_count(connection, now) >= cap:
            raise TooManyRequests(description=f"未登记屏幕已达上限 {cap} 个：请用 ruralbrain screens register 登记")


@heartbeat.after_app_request
def version_header(response):
    """A callback's answer names the warehouse version it was computed from (X-RuralBrain-Version), which the
    screen keeps and reports with its next heartbeat: the ops page's 数据版本 is what the screen shows."""
    if request.path == "/_dash-update-component" and isinstance(g.get("warehouse_version"), int):
        response.headers["X-RuralBrain-Version"] = str(g.warehouse_version)
    return response


@heartbeat.post("/api/heartbeat")
def receive():
    """Store a screen's heartbeat; answer with the build and the warehouse version."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(description="心跳应为 JSON 对象")
    screen_id = str(data.get("screen", ""))
    if not SCREEN_ID.match(screen_id):
        raise BadRequest(description="screen 应为1-64位字母、数字、“.”、“_”或“-”")
    engine = current_app.config["RURALBRAIN_ENGINE"]
    heap = data.get("heap_mb")
    now = datetime.now(UTC)
    values = {
        "screen_id": screen_id,
        "last_seen": now,
        "route": TOKEN_PARAMETER.sub("", str(data.get("route", ""))).rstrip("?&")[:200],
        "build": str(data.get("build", ""))[:40],
        "data_version": data.get("data_version") if isinstance(data.get("data_version"), int) else None,
        "js_heap_mb": float(heap) if isinstance(heap, (int, float)) else None,
        "beats": 1,
    }
    with engine.begin() as connection:
        _admit(connection, screen_id, data.get("token") or request.headers.get("X-Screen-Token"), now)
        connection.execute(beat_statement(connection.dialect.name), values)
        version = current_version(connection)
    return jsonify(build=current_app.config["RURALBRAIN_BUILD"], data_version=version)
