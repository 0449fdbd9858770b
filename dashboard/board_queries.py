"""Read queries for village boards and bus-stop screens (notices, finance lines, points, forecasts, buses) and
the feeds' freshness every screen labels its panels with.

These read a handful of rows of one village or stop (lists, not aggregates), so they go to the fact tables
directly; every number that is an aggregate still comes from the rollups (dashboard.queries). Results are
cached by warehouse version like every screen query; callers pass times rounded to the minute.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Engine, and_, func, or_, select

from dashboard.cache import versioned
from dashboard.privacy import private_topic, scrub
from etl.warehouse.db import as_utc
from etl.warehouse.schema import (
    bus_arrivals,
    bus_stops,
    disclosures,
    feed_freshness,
    feed_state,
    publicity,
)
from etl.warehouse.schema import weather_forecasts as forecasts
from etl.warehouse.village_records import clean_village, exposure_board, recent_deliberations, recent_supervision
from geo.codes import parent_of

PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z")


def lineage(code: str) -> list[str]:
    """The region and every region above it, nearest first (a village's notices may come from its county)."""
    codes = [code]
    while (parent := parent_of(codes[-1])) is not None:
        codes.append(parent)
    return codes


@versioned
def notices(engine: Engine, village: str, kinds: list[str], limit: int = 4) -> list[dict]:
    """The newest disclosures of some kinds (village_affairs, party_affairs, …) for a village, phones scrubbed."""
    query = (
        select(disclosures.c.event_time, disclosures.c.kind, disclosures.c.title, disclosures.c.body)
        .where(disclosures.c.region_code == village, disclosures.c.kind.in_(kinds))
        .order_by(disclosures.c.event_time.desc(), disclosures.c.disclosure_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [
            {"time": as_utc(moment), "kind": kind, "title": scrub(title), "body": scrub(body)}
            for moment, kind, title, body in connection.execute(query)
        ]


@versioned
def finance_lines(engine: Engine, village: str, year: str) -> list[dict]:
    """A village's finance disclosure lines of one year (period YYYY-MM), by period and title, titles scrubbed."""
    query = (
        select(disclosures.c.period, disclosures.c.title, disclosures.c.direction, disclosures.c.amount)
        .where(
            disclosures.c.region_code == village,
            disclosures.c.kind == "finance",
            disclosures.c.amount.is_not(None),
            disclosures.c.period.startswith(f"{year}-"),
        )
        .order_by(disclosures.c.period, disclosures.c.direction.desc(), disclosures.c.title)
    )
    with engine.connect() as connection:
        return [
            {"period": period, "title": scrub(title), "direction": direction, "amount": amount}
            for period, title, direction, amount in connection.execute(query)
            if PERIOD.match(period or "")  # a line whose month cannot be read is not shown under a wrong one
        ]


@versioned
def forecast(engine: Engine, region: str, start: datetime, end: datetime) -> dict:
    """The weather forecast for [start, end) of the nearest region (the village, else its township, …) that
    has one: {"region": code, "hours": [{"time", "condition", "temperature", "precipitation"}]}."""
    codes = lineage(region)
    query = (
        select(
            forecasts.c.region_code,
            forecasts.c.event_time,
            forecasts.c.condition,
            forecasts.c.temperature,
            forecasts.c.precipitation,
        )
        .where(forecasts.c.region_code.in_(codes), forecasts.c.event_time >= start, forecasts.c.event_time < end)
        .order_by(forecasts.c.event_time)
    )
    by_region: dict[str, list[dict]] = {}
    with engine.connect() as connection:
        for code, moment, condition, temperature, precipitation in connection.execute(query):
            by_region.setdefault(code, []).append(
                {
                    "time": as_utc(moment),
                    "condition": scrub(condition),
                    "temperature": temperature,
                    "precipitation": precipitation,
                }
            )
    nearest = next((code for code in codes if code in by_region), None)
    return {"region": nearest, "hours": by_region.get(nearest, [])}


@versioned
def publicity_items(engine: Engine, region: str, now: datetime, limit: int = 6) -> list[dict]:
    """Policy publicity valid now for a region: its own items and those of every region above it, newest first."""
    query = (
        select(publicity.c.event_time, publicity.c.title, publicity.c.body)
        .where(
            publicity.c.region_code.in_(lineage(region)),
            publicity.c.event_time <= now,
            or_(publicity.c.valid_until.is_(None), publicity.c.valid_until > now),
        )
        .order_by(publicity.c.event_time.desc(), publicity.c.item_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [
            {"time": as_utc(moment), "title": scrub(title), "body": scrub(body)}
            for moment, title, body in connection.execute(query)
        ]


def stop(engine: Engine, stop_id: str) -> dict | None:
    """A bus stop's name and region, or None when the stop is not in the warehouse (not in the shared cache: ids
    come from browsers; dashboard/validate.known_stop remembers it per process)."""
    query = select(bus_stops.c.name, bus_stops.c.region_code).where(bus_stops.c.stop_id == stop_id)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return {"stop_id": stop_id, "name": scrub(row.name), "region_code": row.region_code} if row else None


@versioned
def next_buses(engine: Engine, stop_id: str, now: datetime, limit: int = 6) -> list[dict]:
    """The next expected arrivals at a stop from the feed's newest snapshot: route, direction, minutes away.

    Each poll of the bus company's API re-predicts every arrival, so only the rows of the newest observation
    count; an older prediction for the same bus would show it twice.
    """
    with engine.connect() as connection:
        newest = connection.execute(
            select(func.max(bus_arrivals.c.observed_at)).where(bus_arrivals.c.stop_id == stop_id)
        ).scalar()
        snapshot = bus_arrivals.c.observed_at == newest if newest is not None else bus_arrivals.c.observed_at.is_(None)
        query = (
            select(bus_arrivals.c.route, bus_arrivals.c.direction, bus_arrivals.c.event_time)
            .where(and_(bus_arrivals.c.stop_id == stop_id, snapshot, bus_arrivals.c.event_time >= now))
            .order_by(bus_arrivals.c.event_time, bus_arrivals.c.route)
            .limit(limit)
        )
        rows = list(connection.execute(query))
    return [
        {
            "route": scrub(route),
            "direction": scrub(direction),
            "expected": as_utc(moment),
            "minutes": max(0, int((as_utc(moment) - now).total_seconds() // 60)),
        }
        for route, direction, moment in rows
    ]


# Per dataset, the newest data any of its feeds delivered (over every region: a quiet village is not late data)
# and the slowest of their cadences.
FEED_FRESHNESS = (
    select(
        feed_state.c.dataset,
        func.max(feed_freshness.c.last_event_time),
        func.max(feed_freshness.c.last_loaded_at),
        func.max(feed_state.c.cadence_seconds),
    )
    .join(feed_state, feed_state.c.feed == feed_freshness.c.feed)
    .group_by(feed_state.c.dataset)
)


@versioned
def feed_freshness(engine: Engine) -> dict[str, dict]:
    """{dataset: {"last_event_time", "last_loaded_at", "cadence_seconds"}}: the newest event its feeds delivered
    and when they loaded it, whichever region it was about."""
    with engine.connect() as connection:
        return {
            dataset: {"last_event_time": as_utc(event), "last_loaded_at": as_utc(loaded), "cadence_seconds": cadence}
            for dataset, event, loaded, cadence in connection.execute(FEED_FRESHNESS)
            if dataset and event
        }


@versioned
def village_democracy(engine: Engine, village: str, limit: int) -> dict:
    """A village's newest 民主议事 matters and 民主监督 questions (``limit`` of each), their texts with phone and
    ID numbers masked: {"matters": [{"time", "title", "status", "votes_for", "votes_against"}], "questions":
    [{"time", "title", "status"}]}."""
    with engine.connect() as connection:
        matters = recent_deliberations(connection, village, limit)
        questions = recent_supervision(connection, village, limit)
    return {
        "matters": [
            {
                "time": matter["event_time"],
                "title": scrub(matter["title"]),
                "status": matter["status"],
                "votes_for": matter["votes_for"],
                "votes_against": matter["votes_against"],
            }
            for matter in matters
        ],
        "questions": [
            {"time": question["event_time"], "title": scrub(question["title"]), "status": question["status"]}
            for question in questions
        ],
    }


@versioned
def village_integrity(engine: Engine, village: str, limit: int, private: tuple[str, ...] = ()) -> dict:
    """A village's newest 清廉乡村 and 曝光台 cases (``limit`` of each), never with their reporters, titles with phone
    and ID numbers masked and a case about a ``private`` topic (低保, 信访 …) titled by its topic only:
    {"clean": [{"time", "title", "status"}], "exposure": [{"time", "title", "status"}]}."""
    with engine.connect() as connection:
        found = {
            "clean": clean_village(connection, village, limit),
            "exposure": exposure_board(connection, village, limit),
        }
    return {
        part: [
            {"time": case["event_time"], "title": _public_title(case["title"], private), "status": case["status"]}
            for case in cases
        ]
        for part, cases in found.items()
    }


def _public_title(title: str | None, private: tuple[str, ...]) -> str:
    """A case's title as a public board may show it (the ticker's rule: dashboard/queries.latest_cases)."""
    topic = private_topic((title,), private)
    return f"{topic}事项" if topic else scrub(title)
