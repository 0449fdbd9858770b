"""Each feed's state for `ruralbrain etl status`: its last run, counts and freshness against its cadence, in the
county's local time and in durations as people write them; the feeds the warehouse still keeps state of that the
feeds file no longer declares (已停用), and forgetting such a feed's state (`etl feeds retire`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, select

from etl.datasets import datasets
from etl.feed_lock import feed_lock
from etl.feeds import Feed
from etl.runner import local_text, mark_interrupted
from etl.warehouse.db import as_utc, bump_version
from etl.warehouse.schema import feed_freshness, feed_runs, feed_state

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
    freshness: str  # 正常 / 滞后 2天3小时 / 无数据 / 参考数据 / 已停用

    def row(self) -> tuple:
        """The values in the order of the status table's columns."""
        return tuple(self.__dict__.values())


HEADER = ("数据源", "最近运行", "状态", "输入", "导入", "重复", "隔离", "迟到", "最新数据", "延迟", "新鲜度")
RETIRED = "已停用"


def feed_status(engine: Engine, feeds: dict[str, Feed], now: datetime | None = None) -> list[FeedState]:
    """One state per feed. A run left "running" whose process has ended is marked interrupted first.

    Freshness is 正常, or 滞后 (how long) when the newest event is older than twice the feed's cadence;
    reference data (devices, stops, households) has no cadence and reads 参考数据. Lag is how far behind live
    the last run's last batch was when it committed (live feeds, e.g. MQTT sensors).
    """
    now = now or datetime.now(UTC)
    with engine.begin() as connection:
        mark_interrupted(connection, now=now)
    with engine.connect() as connection:
        return [_state(connection, name, feed, now) for name, feed in sorted(feeds.items())]


def retired_feeds(connection: Connection, feeds: Collection[str]) -> list[str]:
    """The feeds the warehouse keeps a state, freshness or runs of that ``feeds`` (the feeds file) no longer
    declares: a transport the county stopped, or MQTT workers beyond a lowered ``workers``."""
    kept: set[str] = set()
    for table in (feed_state, feed_freshness, feed_runs):
        kept.update(connection.execute(select(table.c.feed).distinct()).scalars())
    return sorted(kept - set(feeds))


def retired_status(engine: Engine, feeds: Collection[str], now: datetime | None = None) -> list[FeedState]:
    """One state per retired feed (see ``retired_feeds``): its last run and newest data as they were, its
    freshness 已停用, never 滞后 (nothing is expected of it any more)."""
    now = now or datetime.now(UTC)
    with engine.connect() as connection:
        return [_state(connection, name, None, now) for name in retired_feeds(connection, feeds)]


def _state(connection: Connection, name: str, feed: Feed | None, now: datetime) -> FeedState:
    """A feed's state; ``feed`` None for one the feeds file no longer declares."""
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
    if feed is None:
        freshness = RETIRED
        lag = None  # nothing runs it: how far behind it once was is not a delay now
    elif datasets()[feed.dataset].reference:
        freshness = "参考数据"
        lag = None  # a device installed years ago is not data years late (runs before this kept one)
    elif newest is None:
        freshness = "无数据"
    elif now - newest > 2 * feed.cadence:
        freshness = f"滞后 {duration_text((now - newest).total_seconds())}"
    else:
        freshness = "正常"
    counts = (run.rows_in, run.loaded, run.duplicates, run.quarantined, run.late) if run else (None,) * 5
    return FeedState(
        name,
        local_text(as_utc(run.started_at)) if run else "从未运行",
        STATUS_TEXT.get(run.status, run.status) if run else "",
        *counts,
        local_text(newest)[:16] if newest else None,
        duration_text(lag),
        freshness,
    )


@dataclass(frozen=True)
class Forgotten:
    """What ``forget_feed`` deleted of a feed."""

    runs: int  # its log of runs
    regions: int  # its freshness, one row per region it delivered for
    state: bool  # its watermark and cadence


def forget_feed(engine: Engine, name: str) -> Forgotten:
    """Delete what the warehouse keeps of a feed's deliveries (watermark and cadence, freshness per region, runs)
    while holding the feed's lock, so never under a run of it (FeedBusy: a process runs it). The rows it loaded
    and its quarantined rows stay. Bumps the version: the screens' 数据截至 are read from the freshness. The
    caller checks that the feeds file no longer declares it."""
    with feed_lock(engine, name), engine.begin() as connection:
        runs = connection.execute(delete(feed_runs).where(feed_runs.c.feed == name)).rowcount
        regions = connection.execute(delete(feed_freshness).where(feed_freshness.c.feed == name)).rowcount
        state = connection.execute(delete(feed_state).where(feed_state.c.feed == name)).rowcount
        if runs or regions or state:
            bump_version(connection)
    return Forgotten(runs, regions, bool(state))


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
