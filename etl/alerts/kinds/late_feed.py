"""Rule kind "late_feed": a feed whose newest event is older than ``factor`` times its cadence (as `etl status`
reads 滞后); reference data (devices, stops, households) is never late. A delivery clears it. A feed the feeds file
no longer declares (已停用: the county stopped that transport) is never late either, and its open alert is
resolved saying so."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select

from etl.alerts.errors import AlertConfigError
from etl.alerts.kinds import Observation, Seen
from etl.alerts.owner import common_region
from etl.datasets import datasets as all_datasets
from etl.runner import local_text
from etl.status import duration_text
from etl.warehouse.db import as_utc
from etl.warehouse.labels import dataset_name
from etl.warehouse.schema import feed_freshness, feed_state

KIND = "late_feed"
SCOPED_BY = "feed"
KEYS = ("factor", "feeds")


@dataclass(frozen=True)
class Params:
    """How many cadences behind is late, and which feeds (empty: every feed)."""

    factor: float
    feeds: tuple[str, ...]


def parse(entry: dict, where: str) -> Params:
    """The rule's factor and feeds, checked."""
    factor = entry.get("factor", 2)
    # nan and inf are TOML floats: nan <= 0 is false, and a rule at nan or inf cycles behind never fires.
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < math.inf:
        raise AlertConfigError(f"{where}.factor：'{factor}' 不是有限的正数")
    feeds = entry.get("feeds", [])
    return Params(float(factor), tuple([feeds] if isinstance(feeds, str) else feeds))


def feed_words(feed: str, dataset: str) -> str:
    """A feed as an operator reads it: what it carries, its id (as `etl status` names it) in brackets."""
    return f"{dataset_name(dataset)}数据源（{feed}）"


def datasets(params: Params) -> None:
    """A load of any feed touches it (its own feed's delivery)."""
    return None


def observe(connection, params: Params, now, live: list, scope) -> Observation:
    """The feeds that are late, and the live alerts whose feed is not late any more."""
    fresh = feed_freshness.c
    newest = (
        select(
            fresh.feed,
            func.max(fresh.last_event_time).label("newest"),
            func.min(fresh.region_code).label("low"),
            func.max(fresh.region_code).label("high"),
        )
        .group_by(fresh.feed)
        .subquery()
    )
    query = select(feed_state.c.feed, feed_state.c.dataset, feed_state.c.cadence_seconds, newest).join(
        newest, newest.c.feed == feed_state.c.feed
    )
    if scope.feed is not None:
        query = query.where(feed_state.c.feed == scope.feed)
    if params.feeds:
        query = query.where(feed_state.c.feed.in_(params.feeds))
    live_subjects = {alert.subject for alert in live}
    known = all_datasets()
    seen = Observation()
    for alert in live:
        feed = alert.subject.removeprefix("feed:")
        if scope.feeds is not None and feed not in scope.feeds:
            seen.cleared[alert.subject] = f"数据源 {feed} 已停用（不在数据源文件中）"
    for feed, dataset, cadence, _feed, last, low, high in connection.execute(query):
        if scope.feeds is not None and feed not in scope.feeds:
            continue  # retired: nothing is expected of it any more
        if dataset not in known or known[dataset].reference or not cadence or last is None:
            continue
        behind = (now - as_utc(last)).total_seconds()
        subject = f"feed:{feed}"
        if behind > params.factor * cadence:
            # 每 takes its duration without a space (应每1天送达一次): spaced, it read as a gap (应每 1天 送达).
            detail = (
                f"{feed_words(feed, dataset)}最新数据 {local_text(as_utc(last))}，滞后 {duration_text(behind)}"
                f"（应每{duration_text(cadence)}送达一次）"
            )
            seen.firing[subject] = Seen(common_region(low, high), None, detail)
        elif subject in live_subjects:
            seen.cleared[subject] = f"{feed_words(feed, dataset)}已恢复送达（最新 {local_text(as_utc(last))}）"
    return seen
