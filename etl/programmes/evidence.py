"""The number behind an evidence rule for many regions at once: one query per rule (and one to tell 0 from no
data) over the rollups, a dataset's rows or the registered screens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, distinct, func, or_, select

from etl.datasets import datasets
from etl.programmes.rules import Rule
from etl.rollups import month_of
from etl.warehouse.db import as_utc
from etl.warehouse.schema import bus_stops, regions, rollups, screen_heartbeats, screens
from geo.codes import scope_range

STOP_ROUTE = re.compile(r"^/stop/([^/?#]+)")


@dataclass(frozen=True)
class Reading:
    """A rule's number for one region: None when there is nothing to compute; ``has_data`` tells an empty
    window of a measure the region reports (0) from a measure nothing ever delivered for it (无数据)."""

    value: float | None
    has_data: bool


def read_rule(
    connection: Connection, rule: Rule, codes: Sequence[str], as_of: datetime, villages: dict[str, int]
) -> dict[str, Reading]:
    """The rule's reading for each region code (a pilot's region: its own rollups, or everything below it)."""
    if not codes:
        return {}
    if rule.source == "measure":
        found = _from_rollups(connection, rule, codes, as_of)
    elif rule.source == "facts":
        found = _from_facts(connection, rule, codes, as_of)
    else:
        found = _from_screens(connection, rule, codes, as_of)
    if rule.per == "village":
        found = {
            code: Reading(None if r.value is None else r.value / max(1, villages.get(code, 1)), r.has_data)
            for code, r in found.items()
        }
    return found


def _sums(connection: Connection, names, dimensions, codes, grain, first, last) -> dict[str, tuple[int, float, int]]:
    """Per region: (sum of counts, sum of totals, buckets with rows) of measures over a bucket range."""
    query = (
        select(
            rollups.c.region_code,
            func.sum(rollups.c.count),
            func.sum(rollups.c.total),
            func.count(distinct(rollups.c.bucket)),
        )
        .where(
            rollups.c.grain == grain,
            rollups.c.measure.in_(names),
            rollups.c.region_code.in_(codes),
            rollups.c.bucket <= last,
        )
        .group_by(rollups.c.region_code)
    )
    if first is not None:
        query = query.where(rollups.c.bucket >= first)
    if dimensions:
        query = query.where(rollups.c.dimension.in_(dimensions))
    return {
        code: (int(n or 0), float(total or 0), int(buckets)) for code, n, total, buckets in connection.execute(query)
    }


def _measured(connection: Connection, names, codes, as_of: datetime) -> set[str]:
    """The regions with any month rollup of these measures up to ``as_of``: a source delivers them."""
    query = (
        select(rollups.c.region_code)
        .where(
            rollups.c.grain == "month",
            rollups.c.measure.in_(names),
            rollups.c.region_code.in_(codes),
            rollups.c.bucket <= month_of(as_of),
        )
        .group_by(rollups.c.region_code)
    )
    return set(connection.execute(query).scalars())


def _from_rollups(connection: Connection, rule: Rule, codes, as_of: datetime) -> dict[str, Reading]:
    grain, first, last = rule.window.rollup_range(as_of, days=rule.aggregate == "days")
    sums = _sums(connection, rule.measures, rule.dimensions, codes, grain, first, last)
    if rule.aggregate == "ratio":
        below = _sums(connection, rule.of, rule.of_dimensions, codes, grain, first, last)
        measured = _measured(connection, rule.of, codes, as_of)
    else:
        measured = _measured(connection, rule.measures, codes, as_of)
    found = {}
    for code in codes:
        if code not in measured:
            found[code] = Reading(None, False)
            continue
        count, total, buckets = sums.get(code, (0, 0.0, 0))
        if rule.aggregate == "count":
            value = float(count)
        elif rule.aggregate == "total":
            value = total
        elif rule.aggregate == "days":
            value = float(buckets)
        elif rule.aggregate == "mean":
            value = total / count if count else None
        else:
            denominator = below.get(code, (0, 0.0, 0))[0]
            value = count / denominator if denominator else None
        found[code] = Reading(value, True)
    return found


def _in_scopes(column, codes):
    """A condition: the column's region lies within any of these regions (code ranges use an index)."""
    return or_(*(column.between(*scope_range(code)) for code in sorted(set(codes))))


def _fold(codes, per_region: dict[str, float]) -> dict[str, float]:
    """Each scope's sum of the per-region figures that lie within it (scopes may nest: a township and one of
    its villages are both pilots)."""
    ranges = {code: scope_range(code) for code in codes}
    folded = dict.fromkeys(codes, 0.0)
    for region, value in per_region.items():
        for code, (low, high) in ranges.items():
            if low <= region <= high:
                folded[code] += value
    return folded


def _from_facts(connection: Connection, rule: Rule, codes, as_of: datetime) -> dict[str, Reading]:
    table = datasets()[rule.facts].table
    start, end = rule.window.time_range(as_of)
    figure = func.sum(table.c[rule.value]) if rule.aggregate == "total" else func.count()
    query = select(table.c.region_code, figure).where(_in_scopes(table.c.region_code, codes), table.c.event_time <= end)
    if start is not None:
        query = query.where(table.c.event_time >= start)
    for name, values in rule.where:
        column = table.c[name]
        query = query.where(column.is_not(None) if "*" in values else column.in_(values))
    rows = {region: float(value or 0) for region, value in connection.execute(query.group_by(table.c.region_code))}
    present = select(table.c.region_code).where(_in_scopes(table.c.region_code, codes), table.c.event_time <= end)
    reporting = _fold(codes, dict.fromkeys(connection.execute(present.group_by(table.c.region_code)).scalars(), 1.0))
    values = _fold(codes, rows)
    return {code: Reading(values[code], True) if reporting[code] else Reading(None, False) for code in codes}


def _from_screens(connection: Connection, rule: Rule, codes, as_of: datetime) -> dict[str, Reading]:
    """Registered screens of the kind in each region that beat within ``fresh`` of ``as_of`` (a screen seen
    since counts: heartbeats keep only the last one). A stop screen without a region stands where its stop
    does (the stop in its route)."""
    query = (
        select(screens.c.region_code, screen_heartbeats.c.last_seen, screen_heartbeats.c.route)
        .select_from(screens.outerjoin(screen_heartbeats, screen_heartbeats.c.screen_id == screens.c.screen_id))
        .where(screens.c.kind == rule.screens, or_(screens.c.registered_at.is_(None), screens.c.registered_at <= as_of))
    )
    rows = connection.execute(query).all()
    stops = dict(connection.execute(select(bus_stops.c.stop_id, bus_stops.c.region_code)).all()) if rows else {}
    per_region: dict[str, float] = {}
    for region, last_seen, route in rows:
        if region is None and route:
            match = STOP_ROUTE.match(route)
            region = stops.get(match.group(1)) if match else None
        seen = as_utc(last_seen)
        if region is not None and seen is not None and seen >= as_of - rule.fresh:
            per_region[region] = per_region.get(region, 0.0) + 1
    return {code: Reading(value, True) for code, value in _fold(codes, per_region).items()}


def villages_in(connection: Connection, codes: Sequence[str]) -> dict[str, int]:
    """How many villages each region holds (a village holds itself), for per-village rules."""
    if not codes:
        return {}
    query = select(regions.c.code).where(regions.c.level == "village", _in_scopes(regions.c.code, codes))
    counted = _fold(codes, dict.fromkeys(connection.execute(query).scalars(), 1.0))
    return {code: max(1, int(count)) for code, count in counted.items()}
