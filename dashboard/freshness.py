"""数据截至 labels: how current the data behind a panel or slide is, and whether it counts as stale."""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.panels import LOCAL

# Reference datasets (etl/datasets: Dataset.reference) change when the world changes, not on a cadence: they are
# never stale. The dashboard may not import the ETL's registry; a test keeps this set equal to it.
REFERENCE = frozenset({"devices", "bus_stops", "households", "publicity", "labour_profiles", "catalogue"})


def _newest(feed: dict) -> datetime:
    """The newest moment a dataset's feeds vouch for: its newest event, or the load time for data about the future
    (forecasts, expected arrivals), whose event times lie ahead."""
    return min(feed["last_event_time"], feed["last_loaded_at"])


def _ago(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours >= 48:
        return f"已过 {hours / 24:.0f} 天"
    return f"已过 {hours:.0f} 小时" if hours >= 1 else f"已过 {age.total_seconds() / 60:.0f} 分钟"


def freshness_label(datasets, fresh: dict, now: datetime) -> tuple[str, bool]:
    """("数据截至 …", stale?) from what the feeds behind ``datasets`` delivered (``fresh``: board_queries.
    feed_freshness, over every region, so a village where nothing happened lately is not late). Stale when a feed
    of some live dataset has delivered nothing for twice its cadence: the label then names that dataset's time
    and how long ago it was. Reference data never makes a panel stale."""
    live = [fresh[name] for name in datasets if name not in REFERENCE and name in fresh]
    if not live:
        if any(name not in REFERENCE for name in datasets):
            return "暂无数据", True
        return "", False
    late = [f for f in live if now - _newest(f) > timedelta(seconds=2 * (f["cadence_seconds"] or 3600))]
    if late:
        oldest = min(_newest(f) for f in late)
        return f"数据截至 {oldest.astimezone(LOCAL):%m-%d %H:%M}（{_ago(now - oldest)}）", True
    return f"数据截至 {max(_newest(f) for f in live).astimezone(LOCAL):%m-%d %H:%M}", False
