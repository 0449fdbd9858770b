"""Health endpoints for load balancers and monitoring: /healthz (the process answers), /readyz (it can serve)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Forbidden

from dashboard.cache import cache
from dashboard.guard import from_operations
from etl.warehouse.db import as_utc, current_version, migrations_current
from etl.warehouse.schema import feed_freshness, feed_state, regions

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    """200 while the process can answer at all."""
    return jsonify(status="ok")


def _freshness(connection, now: datetime) -> dict:
    """How many feeds are fresh, stale (older than twice their cadence) or without data."""
    newest: dict[str, datetime] = {}
    for feed, moment in connection.execute(select(feed_freshness.c.feed, feed_freshness.c.last_event_time)):
        moment = as_utc(moment)
        newest[feed] = max(moment, newest.get(feed, moment))
    summary = {"fresh": 0, "stale": 0, "no data": 0}
    for feed, cadence in connection.execute(select(feed_state.c.feed, feed_state.c.cadence_seconds)):
        if feed not in newest:
            summary["no data"] += 1
        elif now - newest[feed] > timedelta(seconds=2 * (cadence or 3600)):
            summary["stale"] += 1
        else:
            summary["fresh"] += 1
    return summary


def _regions(connection, configured_root: str) -> str:
    """ "ok" when the warehouse holds the region the screens open on, else why not (in Chinese): every screen would
    show its error screen."""
    if configured_root:
        found = connection.execute(select(regions.c.code).where(regions.c.code == configured_root)).first()
        return "ok" if found else f"数据仓库中没有配置的根区划 {configured_root}：请导入区划或检查 ROOT_REGION"
    found = connection.execute(select(regions.c.code).limit(1)).first()
    return "ok" if found else "数据仓库中还没有区划：请先导入区划（ruralbrain geo import）"


@health.get("/readyz")
def readyz():
    """200 when the warehouse answers at the newest schema and holds the screens' regions, and the cache works; 503
    with the reasons otherwise (for the operations network only: it tells the feeds' state)."""
    if not from_operations():
        raise Forbidden(description="仅限运维网络访问")
    engine = current_app.config["RURALBRAIN_ENGINE"]
    checks: dict[str, object] = {}
    ready = True
    try:
        with engine.connect() as connection:
            checks["warehouse_version"] = current_version(connection)
            checks["feeds"] = _freshness(connection, datetime.now(UTC))
            checks["regions"] = _regions(connection, current_app.config["RURALBRAIN_SETTINGS"].root_region)
        checks["migrations_current"] = migrations_current(engine)
        ready = ready and checks["migrations_current"] and checks["regions"] == "ok"
    except SQLAlchemyError as error:
        checks["warehouse"] = f"unreachable: {type(error).__name__}"
        ready = False
    try:
        cache.set("readyz", "1", timeout=10)
        checks["cache"] = "ok" if cache.get("readyz") == "1" else "not storing"
        # A Redis in trouble fails soft (a miss, computed at once: dashboard/rediscache.py); say why here.
        trouble = getattr(cache.cache, "trouble", None)
        if checks["cache"] != "ok" and trouble:
            checks["cache"] = f"unreachable: {trouble}"
    except Exception as error:  # noqa: BLE001 - any cache backend failure means not ready
        checks["cache"] = f"unreachable: {type(error).__name__}"
    ready = ready and checks["cache"] == "ok"
    return jsonify(status="ready" if ready else "unready", **checks), 200 if ready else 503
