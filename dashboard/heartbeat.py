"""Screens' heartbeats: each screen posts one a minute; the answer tells it the server's build and data version.

A registered screen proves itself with its token (from its address); without it a heartbeat cannot touch the
screen's row, so nobody can keep a dark wall looking alive. Unregistered screens are kept 24 h after their
last heartbeat and capped in number (UNREGISTERED_SCREENS), so nobody can grow the ops page without end.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import BadRequest, Forbidden, ServiceUnavailable, TooManyRequests

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
# How long a heartbeat waits for SQLite's write lock (a big load's commit holds it): the engine's 30 s held a
# worker and then answered 500, and the screen showed 连接中断 though it was fine.
HEARTBEAT_WAIT_MS = 2000
# A heartbeat's numbers as a browser can report them: a JS heap in MB, a warehouse version (a 64-bit integer).
LARGEST_HEAP_MB = 1_000_000
LARGEST_VERSION = 2**63 - 1


@functools.cache
def beat_statement(dialect: str):
    """The upsert of a heartbeat row for a dialect: a new screen starts at one beat, a known one counts up."""
    insert = upsert_for(dialect, screen_heartbeats).values({column: bindparam(column) for column in BEAT_COLUMNS})
    updates = {column: insert.excluded[column] for column in BEAT_COLUMNS if column not in ("screen_id", "beats")}
    return insert.on_conflict_do_update(
        index_elements=["screen_id"], set_={**updates, "beats": screen_heartbeats.c.beats + 1}
    )


# What a screen's page is made of: the dashboard's code, scripts and styles, and the screen profiles (a profile's
# panels decide which refreshes the server accepts, so an open page must reload when they change).
BUILT_FROM = (
    (Path(__file__).parent, (".py", ".js", ".css")),
    (Path(__file__).resolve().parents[1] / "layouts", (".py", ".toml")),
)


def build_id(sources: tuple = BUILT_FROM) -> str:
    """An id of the code being served: a deploy changes it, and screens then reload once."""
    digest = hashlib.sha1()
    for folder, suffixes in sources:
        for path in sorted(folder.rglob("*")):
            if path.suffix in suffixes and path.is_file():
                digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
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


def _number(data: dict, key: str, highest: float, whole: bool = False) -> float | int | None:
    """A heartbeat's number at ``key`` (None when absent), or 400: a huge one overflowed the database (500), NaN
    and infinity were stored."""
    value = data.get(key)
    if value is None:
        return None
    kind = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not 0 <= value <= highest:
        raise BadRequest(description=f"{key} 应为 0 到 {highest} 之间的{'整数' if whole else '数'}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest(description=f"{key} 应为有限的数")
    return value if whole else float(value)


@contextmanager
def _short_waits(connection) -> Iterator[None]:
    """On SQLite, the heartbeat's statements wait HEARTBEAT_WAIT_MS for the write lock, then the engine's wait
    again (the pooled connection goes back as it came)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    usual = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {HEARTBEAT_WAIT_MS}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(usual)}")


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
    heap = _number(data, "heap_mb", LARGEST_HEAP_MB)
    data_version = _number(data, "data_version", LARGEST_VERSION, whole=True)
    now = datetime.now(UTC)
    values = {
        "screen_id": screen_id,
        "last_seen": now,
        "route": TOKEN_PARAMETER.sub("", str(data.get("route", ""))).rstrip("?&")[:200],
        "build": str(data.get("build", ""))[:40],
        "data_version": data_version,
        "js_heap_mb": heap,
        "beats": 1,
    }
    try:
        with engine.begin() as connection, _short_waits(connection):
            _admit(connection, screen_id, data.get("token") or request.headers.get("X-Screen-Token"), now)
            connection.execute(beat_statement(connection.dialect.name), values)
            version = current_version(connection)
    except OperationalError as error:  # locked by a long commit, or the database unreachable: not the screen's fault
        raise ServiceUnavailable(description="数据仓库正忙或暂时无法访问，心跳稍后再报", retry_after=30) from error
    return jsonify(build=current_app.config["RURALBRAIN_BUILD"], data_version=version)
