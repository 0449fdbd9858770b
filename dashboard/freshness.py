"""数据截至 labels: how old a panel's or slide's newest data is, and whether it counts as stale."""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.panels import LOCAL
from etl.warehouse.db import as_utc


def freshness_label(datasets, fresh: dict, now: datetime) -> tuple[str, bool]:
    """("数据截至 …", stale?) from the newest data of the datasets; stale past twice the feeds' cadence."""
    known = [fresh[d] for d in datasets if d in fresh]
    if not known:
        return "暂无数据", True
    # Forecasts and timetables lie in the future: for them the load time says how current they are.
    newest = max(min(as_utc(f["last_event_time"]), as_utc(f["last_loaded_at"])) for f in known)
    cadence = max((f["cadence_seconds"] or 3600) for f in known)
    age = now - newest
    label = f"数据截至 {newest.astimezone(LOCAL):%m-%d %H:%M}"
    stale = age > timedelta(seconds=2 * cadence)
    if stale:
        hours = age.total_seconds() / 3600
        label += f"（已过 {hours:.0f} 小时）" if hours >= 1 else f"（已过 {age.total_seconds() / 60:.0f} 分钟）"
    return label, stale


def feed_label(datasets, health: dict, now: datetime) -> tuple[str, bool]:
    """("数据截至 …", stale?) from when the datasets' feeds last loaded: a village's data can be complete and
    current even when nothing new happened there for days, so a board goes stale only when a feed stops."""
    known = [health[d] for d in datasets if d in health]
    if len(known) < len(datasets):
        return "暂无数据", True
    oldest = min(as_utc(h["last_success_at"]) for h in known)
    stale = any(
        now - as_utc(h["last_success_at"]) > timedelta(seconds=2 * (h["cadence_seconds"] or 3600)) for h in known
    )
    label = f"数据截至 {oldest.astimezone(LOCAL):%m-%d %H:%M}"
    if stale:
        hours = (now - oldest).total_seconds() / 3600
        label += (
            f"（已过 {hours:.0f} 小时）" if hours >= 1 else f"（已过 {(now - oldest).total_seconds() / 60:.0f} 分钟）"
        )
    return label, stale
