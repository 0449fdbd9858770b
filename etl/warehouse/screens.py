"""What the screen tables mean: each screen's state from its registration and its last heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from etl.warehouse.schema import screen_heartbeats, screens

# A screen that has not sent a heartbeat (one a minute) for this long is dark.
DARK_AFTER = timedelta(minutes=5)


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
    state: str  # ok | dark | never seen


def screen_states(connection: Connection, now: datetime | None = None) -> list[ScreenState]:
    """Every registered screen and every screen that sent a heartbeat (unregistered ones included)."""
    now = now or datetime.now(UTC)
    registered = {row.screen_id: row for row in connection.execute(select(screens))}
    beats = {row.screen_id: row for row in connection.execute(select(screen_heartbeats))}
    states = []
    for screen_id in sorted(registered.keys() | beats.keys()):
        known, beat = registered.get(screen_id), beats.get(screen_id)
        seen = (
            beat.last_seen.replace(tzinfo=UTC)
            if beat and beat.last_seen.tzinfo is None
            else (beat.last_seen if beat else None)
        )
        state = "never seen" if seen is None else ("dark" if now - seen > DARK_AFTER else "ok")
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
            )
        )
    return states
