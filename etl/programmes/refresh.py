"""Scores kept current: every imported programme rescored when etl watch starts and after loads (at most every
PILOT_SCORE_SECONDS per process), the previous month too while it has no scores yet, so no month is missing."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, text

from etl.database_trouble import described, unavailable
from etl.programmes.scoring import SCORING_LOCK, Scored, score_month
from etl.warehouse.pilots import first_month, month_start, month_text
from etl.warehouse.schema import pilot_scores, programmes
from etl.warehouse.settings import Settings

_last: dict[str, float] = {}  # engine URL → monotonic time of its last scoring in this process


def rescore(engine: Engine, now: datetime | None = None) -> list[Scored]:
    """Score every programme for the current month, and for the previous one if it has no scores yet; one
    transaction per programme and month."""
    now = now or datetime.now(UTC)
    current = month_text(now)
    previous = month_text(month_start(current) - timedelta(days=1))
    with engine.connect() as connection:
        ids = list(connection.execute(select(programmes.c.programme_id).order_by(programmes.c.programme_id)).scalars())
        # A programme is scored from its first month: one that starts later (imported ahead) waits.
        firsts = {programme_id: first_month(connection, programme_id) or "" for programme_id in ids}
        kept = set(
            connection.execute(
                select(pilot_scores.c.programme_id).where(pilot_scores.c.month == previous).group_by("programme_id")
            ).scalars()
        )
    done = []
    for programme_id in ids:
        for month in ([previous] if programme_id not in kept else []) + [current]:
            if month < firsts[programme_id]:
                continue
            with engine.begin() as connection:
                if _taken(connection):
                    return done  # another process (an MQTT worker's watch) is scoring right now
                done.append(score_month(connection, programme_id, month, now))
    return done


def _taken(connection) -> bool:
    """Whether another transaction holds the scoring lock (on PostgreSQL; this one takes it otherwise): a watch
    process leaves the scoring to the one already at it rather than wait."""
    if connection.dialect.name != "postgresql":
        return False
    return not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SCORING_LOCK}).scalar()


def after_run(engine: Engine, report) -> None:
    """The `etl watch` hook: rescore at the first run of the process (scores are current from the start), then
    once a run loaded rows and the interval has passed. A failure is reported and left for the next time; it
    never stops the feeds."""
    key = str(engine.url)
    if not report.counts.loaded and key in _last:
        return
    interval = Settings.load().pilot_score_seconds
    if time.monotonic() - _last.get(key, -1e9) < interval:
        return
    _last[key] = time.monotonic()
    try:
        rescore(engine)
    except Exception as error:  # noqa: BLE001 - scoring must never stop the feeds
        said = f"数据仓库暂时无法访问{described(error)}" if unavailable(error) else f"{type(error).__name__}: {error}"
        print(f"试点评分失败（下次导入后重试）：{said}", file=sys.stderr)
