"""What the screen tables mean: registration with a token (only its hash kept), each screen's state from its
last heartbeat, and the rule for unregistered screens (kept 24 h after their last heartbeat, capped in number)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from etl.warehouse.schema import bus_stops, regions, screen_heartbeats, screens

# A registered screen that has not sent a heartbeat (one a minute) for this long is dark; an unregistered one (a
# browser tab someone opened) has merely gone: closing a tab is no alarm.
DARK_AFTER = timedelta(minutes=5)
# An unregistered screen is forgotten this long after its last heartbeat.
UNREGISTERED_KEPT = timedelta(hours=24)
# Letters of any script (a county names its screens 城关镇大屏), digits, "." "_" "-", to the very end (\Z: "$" let a
# trailing newline through, a second screen that looked like the first).
SCREEN_ID = re.compile(r"^[\w.-]{1,64}\Z")
STATE_NAMES = {"ok": "正常", "dark": "黑屏/离线", "never seen": "从未上线", "gone": "已离开"}


def new_token() -> str:
    """A screen's token: 32 random bytes, URL-safe (it travels in the screen's address)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the warehouse keeps of a token. A token is random and long, so a plain SHA-256 is as good as a slow
    password hash here, and a heartbeat checks it in microseconds."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: object, stored: str | None) -> bool:
    """Whether a token sent by a screen is the one whose hash is stored (compared in constant time)."""
    return bool(isinstance(token, str) and token and stored and hmac.compare_digest(token_hash(token), stored))


def upsert_for(dialect: str, table):
    """The dialect's (sqlite, postgresql) INSERT … ON CONFLICT for ``table``."""
    return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect](table)


def register(connection: Connection, screen_id: str, kind: str, **details) -> str:
    """Register (or register again) a screen with a new token; returns the token, which is stored only as its hash.
    ``details``: region_code, stop_id, profile, location. A region or stop the warehouse does not hold is refused:
    the screen would open an error screen (未找到…) with a token that looked fine."""
    if not SCREEN_ID.match(screen_id):
        raise ValueError(f"屏幕编号 '{screen_id}' 应为1-64位字母、数字、“.”、“_”或“-”")
    unknown = unknown_place(connection, kind, details.get("region_code"), details.get("stop_id"))
    if unknown:
        raise ValueError(unknown)
    token = new_token()
    row = {
        "screen_id": screen_id,
        "kind": kind,
        "region_code": details.get("region_code"),
        "profile": details.get("profile"),
        "location": details.get("location"),
        "registered_at": datetime.now(UTC),
        "token_hash": token_hash(token),
    }
    insert = upsert_for(connection.dialect.name, screens).values(**row)
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=["screen_id"], set_={key: insert.excluded[key] for key in row if key != "screen_id"}
        )
    )
    return token


def unknown_place(connection: Connection, kind: str, region_code: str | None, stop_id: str | None) -> str | None:
    """Why a screen's region or stop cannot be shown (not in the warehouse; a board's region is no village), or None."""
    if region_code:
        level = connection.execute(select(regions.c.level).where(regions.c.code == region_code)).scalar()
        if level is None:
            return f"区划 {region_code} 不在数据仓库中（先用 ruralbrain geo import 导入区划）"
        if kind == "board" and level != "village":
            return f"村级电子屏的区划应为村（{region_code} 是 {level}）"
    if (
        stop_id
        and connection.execute(select(bus_stops.c.stop_id).where(bus_stops.c.stop_id == stop_id)).first() is None
    ):
        return f"站点 {stop_id} 不在数据仓库中（先由公交站点数据源导入）"
    return None


# Heartbeat rows of screens that are not registered.
_UNREGISTERED = screen_heartbeats.c.screen_id.not_in(select(screens.c.screen_id))


def forget_unregistered(connection: Connection, now: datetime) -> int:
    """Delete the heartbeats of unregistered screens last seen more than 24 h ago; how many."""
    old = screen_heartbeats.c.last_seen < now - UNREGISTERED_KEPT
    return connection.execute(delete(screen_heartbeats).where(_UNREGISTERED, old)).rowcount


def unregistered_count(connection: Connection, now: datetime) -> int:
    """How many unregistered screens were seen within the last 24 h."""
    recent = screen_heartbeats.c.last_seen >= now - UNREGISTERED_KEPT
    return connection.execute(
        select(func.count()).select_from(screen_heartbeats).where(_UNREGISTERED, recent)
    ).scalar_one()


@dataclass(frozen=True)
class ScreenState:
    """One screen as the ops page and `ruralbrain screens` show it."""

    screen_id: str
    kind: str | None
    location: str | None
    registered: bool
    last_seen: datetime | None
    route: str | None
    build: str | None
    data_version: int | None
    js_heap_mb: float | None
    state: str  # ok | dark | never seen (registered screens) | ok | gone (unregistered ones)
    region_code: str | None = None  # where a registered screen hangs (as registered)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def screen_states(connection: Connection, now: datetime | None = None) -> list[ScreenState]:
    """Every registered screen, and every unregistered one seen within the last 24 h (never dark: gone)."""
    now = now or datetime.now(UTC)
    registered = {row.screen_id: row for row in connection.execute(select(screens))}
    beats = {row.screen_id: row for row in connection.execute(select(screen_heartbeats))}
    states = []
    for screen_id in sorted(registered.keys() | beats.keys()):
        known, beat = registered.get(screen_id), beats.get(screen_id)
        seen = _aware(beat.last_seen) if beat else None
        if known is None and now - seen > UNREGISTERED_KEPT:
            continue
        silent = "dark" if known is not None else "gone"
        state = "never seen" if seen is None else (silent if now - seen > DARK_AFTER else "ok")
        states.append(
            ScreenState(
                screen_id,
                known.kind if known else None,
                known.location if known else None,
                known is not None,
                seen,
                beat.route if beat else None,
                beat.build if beat else None,
                beat.data_version if beat else None,
                beat.js_heap_mb if beat else None,
                state,
                known.region_code if known else None,
            )
        )
    return states
