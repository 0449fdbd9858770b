"""Each feed's state for `ruralbrain etl status`: its last run, counts and freshness against its cadence."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from etl.feeds import Feed
from etl.warehouse.db import as_utc
from etl.warehouse.schema import feed_freshness, feed_runs


def feed_status(engine: Engine, feeds: dict[str, Feed], now: datetime | None = None) -> list[tuple]:
    """One row per feed: name, last run start, status, in, loaded, duplicates, quarantined, late, newest, lag,
    freshness.

    Freshness is "fresh", or "stale (age)" when the newest event is older than twice the feed's cadence. Lag is
    how far behind live the last run's last batch was when it committed (live feeds, e.g. MQTT sensors).
    """
    now = now or datetime.now(UTC)
    rows = []
    with engine.connect() as connection:
        for name, feed in sorted(feeds.items()):
            run = connection.execute(
                select(feed_runs).where(feed_runs.c.feed == name).order_by(feed_runs.c.id.desc()).limit(1)
            ).first()
            # The lag of the last run that loaded something: an idle run has nothing to be behind on.
            lag = connection.execute(
                select(feed_runs.c.lag_seconds)
                .where(feed_runs.c.feed == name, feed_runs.c.lag_seconds.is_not(None))
                .order_by(feed_runs.c.id.desc())
                .limit(1)
            ).scalar()
            newest = as_utc(
                connection.execute(
                    select(func.max(feed_freshness.c.last_event_time)).where(feed_freshness.c.feed == name)
                ).scalar()
            )
            if newest is None:
                freshness = "no data"
            elif now - newest > 2 * feed.cadence:
                freshness = f"stale ({str(now - newest).split('.')[0]})"
            else:
                freshness = "fresh"
            if run is None:
                rows.append((name, "never", "", None, None, None, None, None, None, None, freshness))
                continue
            rows.append(
                (
                    name,
                    as_utc(run.started_at).strftime("%Y-%m-%d %H:%M:%S"),
                    run.status,
                    run.rows_in,
                    run.loaded,
                    run.duplicates,
                    run.quarantined,
                    run.late,
                    newest.strftime("%Y-%m-%d %H:%M") if newest else None,
                    lag_text(lag),
                    freshness,
                )
            )
    return rows


def lag_text(seconds: float | None) -> str | None:
    """A lag as people read it: 0.4s, 12s, 3m05s, 2h10m."""
    if seconds is None:
        return None
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
