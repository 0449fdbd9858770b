"""Each feed's state for `ruralbrain etl status`: its last run, counts and freshness against its cadence, in the
county's local time and in durations as people write them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from etl.datasets import datasets
from etl.feeds import Feed
from etl.runner import local_text, mark_interrupted
from etl.warehouse.db import as_utc
from etl.warehouse.schema import feed_freshness, feed_runs

STATUS_TEXT = {"running": "运行中", "ok": "成功", "failed": "失败", "interrupted": "中断"}


@dataclass(frozen=True)
class FeedState:
    """One feed as `etl status` shows it."""

    feed: str
    last_run: str  # local time of the last run's start, or 从未运行
    status: str  # 成功 / 失败 / 中断 / 运行中, or "" when it never ran
    rows_in: int | None
    loaded: int | None
    duplicates: int | None
    quarantined: int | None
    late: int | None
    newest: str | None  # local time of the newest event loaded
    lag: str | None  # how far behind live the last loading run committed
    freshness: str  # 正常 / 滞后 2天3小时 / 无数据 / 参考数据

    def row(self) -> tuple:
        """The values in the order of the status table's columns."""
        return tuple(self.__dict__.values())


HEADER = ("数据源", "最近运行", "状态", "输入", "导入", "重复", "隔离", "迟到", "最新数据", "延迟", "新鲜度")


def feed_status(engine: Engine, feeds: dict[str, Feed], now: datetime | None = None) -> list[FeedState]:
    """One state per feed. A run left "running" whose process has ended is marked interrupted first.

    Freshness is 正常, or 滞后 (how long) when the newest event is older than twice the feed's cadence;
    reference data (devices, stops, households) has no cadence and reads 参考数据. Lag is how far behind live
    the last run's last batch was when it committed (live feeds, e.g. MQTT sensors).
    """
    now = now or datetime.now(UTC)
    with engine.begin() as connection:
        mark_interrupted(connection, now=now)
    states = []
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
            if datasets()[feed.dataset].reference:
                freshness = "参考数据"
                lag = None  # a device installed years ago is not data years late (runs before this kept one)
            elif newest is None:
                freshness = "无数据"
            elif now - newest > 2 * feed.cadence:
                freshness = f"滞后 {duration_text((now - newest).total_seconds())}"
            else:
                freshness = "正常"
            counts = (run.rows_in, run.loaded, run.duplicates, run.quarantined, run.late) if run else (None,) * 5
            states.append(
                FeedState(
                    name,
                    local_text(as_utc(run.started_at)) if run else "从未运行",
                    STATUS_TEXT.get(run.status, run.status) if run else "",
                    *counts,
                    local_text(newest)[:16] if newest else None,
                    duration_text(lag),
                    freshness,
                )
            )
    return states


def duration_text(seconds: float | None) -> str | None:
    """A duration as people write it: 0.4秒, 12秒, 3分5秒, 2小时10分, 2天3小时."""
    if seconds is None:
        return None
    if seconds < 10:
        return f"{seconds:.1f}秒"
    if seconds < 60:
        return f"{seconds:.0f}秒"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}分{whole % 60}秒" if whole % 60 else f"{whole // 60}分"
    if whole < 86400:
        return f"{whole // 3600}小时{whole % 3600 // 60}分" if whole % 3600 >= 60 else f"{whole // 3600}小时"
    days, hours = whole // 86400, whole % 86400 // 3600
    return f"{days}天{hours}小时" if hours else f"{days}天"
