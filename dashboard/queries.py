"""Read queries for the screens: rollups only, for a scope (a region) and a time window, cached by version.

Each statement is built once, at import, with named parameters: building a select and its cache key anew
cost more than PostgreSQL's answer (a county's environment totals: 1.25 → 0.51 ms a query).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Integer, Select, bindparam, func, select

from dashboard.board_queries import FEED_FRESHNESS
from dashboard.cache import versioned
from dashboard.privacy import private_topic, scrub
from etl.warehouse.db import as_utc
from etl.warehouse.schema import cases, device_latest, devices, feed_freshness, regions, rollups
from geo.codes import level_of, scope_range

_MEASURES = bindparam("measures", expanding=True)
_IN_WINDOW = (rollups.c.bucket >= bindparam("start"), rollups.c.bucket < bindparam("end"))
_IN_SCOPE = (bindparam("low"), bindparam("high"))  # scope_range(scope): the region and everything below it
_LIMIT = bindparam("limit", type_=Integer)

MEASURE_TOTALS = (
    select(rollups.c.measure, rollups.c.dimension, func.sum(rollups.c.count), func.sum(rollups.c.total))
    .where(
        rollups.c.grain == "day",
        rollups.c.region_code == bindparam("scope"),
        rollups.c.measure.in_(_MEASURES),
        *_IN_WINDOW,
    )
    .group_by(rollups.c.measure, rollups.c.dimension)
)


def _in_scope(scope: str) -> dict[str, str]:
    """The low and high parameters of a region's code range."""
    low, high = scope_range(scope)
    return {"low": low, "high": high}


@versioned
def measure_totals(engine: Engine, scope: str, measures: list[str], start: datetime, end: datetime) -> dict:
    """{measure: {dimension: {"count", "total"}}} summed over day buckets in [start, end) for the region."""
    result: dict = {measure: {} for measure in measures}
    parameters = {"scope": scope, "measures": measures, "start": start, "end": end}
    with engine.connect() as connection:
        for measure, dimension, count, total in connection.execute(MEASURE_TOTALS, parameters):
            result[measure][dimension] = {"count": int(count), "total": float(total)}
    return result


MEASURE_SERIES = (
    select(
        rollups.c.bucket,
        func.sum(rollups.c.count),
        func.sum(rollups.c.total),
        func.min(rollups.c.min),
        func.max(rollups.c.max),
    )
    .where(
        rollups.c.grain == bindparam("grain"),
        rollups.c.region_code == bindparam("scope"),
        rollups.c.measure == bindparam("measure"),
        *_IN_WINDOW,
    )
    .group_by(rollups.c.bucket)
    .order_by(rollups.c.bucket)
)


@versioned
def measure_series(
    engine: Engine, scope: str, measure: str, start: datetime, end: datetime, grain: str = "day"
) -> list[dict]:
    """[{"bucket", "count", "total", "min", "max"}] per bucket of a measure (all dimensions together)."""
    parameters = {"grain": grain, "scope": scope, "measure": measure, "start": start, "end": end}
    with engine.connect() as connection:
        return [
            {"bucket": bucket.isoformat(), "count": int(n), "total": float(total), "min": low, "max": high}
            for bucket, n, total, low, high in connection.execute(MEASURE_SERIES, parameters)
        ]


CHILDREN_VALUES = (
    select(rollups.c.measure, regions.c.code, regions.c.name, func.sum(rollups.c.count), func.sum(rollups.c.total))
    .join(rollups, rollups.c.region_code == regions.c.code)
    .where(
        regions.c.parent_code == bindparam("parent"),
        rollups.c.grain == "day",
        rollups.c.measure.in_(_MEASURES),
        *_IN_WINDOW,
    )
    .group_by(rollups.c.measure, regions.c.code, regions.c.name)
)


@versioned
def children_values(engine: Engine, parent: str, measures: list[str], start: datetime, end: datetime) -> dict:
    """{measure: {child code: {"name", "count", "total"}}} for each child of a region, in one query (the map's
    themes; one query per measure cost a round trip and a cache entry each)."""
    result: dict = {measure: {} for measure in measures}
    parameters = {"parent": parent, "measures": measures, "start": start, "end": end}
    with engine.connect() as connection:
        for measure, code, name, n, total in connection.execute(CHILDREN_VALUES, parameters):
            result[measure][code] = {"name": name, "count": int(n), "total": float(total)}
    return result


CHILDREN_DIMENSION_VALUES = (
    select(regions.c.code, regions.c.name, func.sum(rollups.c.count), func.sum(rollups.c.total))
    .join(rollups, rollups.c.region_code == regions.c.code)
    .where(
        regions.c.parent_code == bindparam("parent"),
        rollups.c.grain == "day",
        rollups.c.measure == bindparam("measure"),
        rollups.c.dimension.in_(bindparam("dimensions", expanding=True)),
        *_IN_WINDOW,
    )
    .group_by(regions.c.code, regions.c.name)
)


@versioned
def children_dimension_values(
    engine: Engine, parent: str, measure: str, dimensions: tuple[str, ...], start: datetime, end: datetime
) -> dict:
    """{child code: {"name", "count", "total"}} of a measure's rows of some of its dimensions only, for each child of
    a region (a map theme whose measure mixes what may not be added up: people served and monitoring points)."""
    parameters = {"parent": parent, "measure": measure, "dimensions": list(dimensions), "start": start, "end": end}
    with engine.connect() as connection:
        return {
            code: {"name": name, "count": int(n), "total": float(total)}
            for code, name, n, total in connection.execute(CHILDREN_DIMENSION_VALUES, parameters)
        }


# The same as the boards' (dashboard/board_queries.py), for the data of a region and below it.
FRESHNESS = FEED_FRESHNESS.where(feed_freshness.c.region_code.between(*_IN_SCOPE))


@versioned
def freshness(engine: Engine, scope: str) -> dict[str, dict]:
    """{dataset: {"last_event_time", "last_loaded_at", "cadence_seconds"}} for data in the region and below it."""
    with engine.connect() as connection:
        return {
            dataset: {"last_event_time": event, "last_loaded_at": loaded, "cadence_seconds": cadence}
            for dataset, event, loaded, cadence in connection.execute(FRESHNESS, _in_scope(scope))
        }


# The reporter is never selected: a public screen showing who reported a case identifies people in a village.
LATEST_CASES = (
    select(cases.c.event_time, cases.c.category, cases.c.status, cases.c.title, cases.c.module, regions.c.name)
    .join(regions, regions.c.code == cases.c.region_code)
    .where(cases.c.region_code.between(*_IN_SCOPE))
    .order_by(cases.c.event_time.desc())
    .limit(_LIMIT)
)


# The modules' names as the cases feed writes them, so that a private topic (信访 …) in a module's name is seen.
MODULE_NAMES = {
    "general": "综合",
    "online_mediation": "线上矛调",
    "petition": "信访投诉",
    "exposure": "曝光台",
    "clean_village": "清廉乡村",
}


@versioned
def latest_cases(engine: Engine, scope: str, limit: int = 12, private: tuple[str, ...] = ()) -> list[dict]:
    """The newest cases in the region, for the ticker: no reporter, phones and IDs masked, and a case about a
    private topic (``private``: 低保, 救助, 信访 …) shown by its topic only (低保事项), never by its title."""
    found = []
    with engine.connect() as connection:
        for moment, category, status, title, module, village in connection.execute(
            LATEST_CASES, _in_scope(scope) | {"limit": limit}
        ):
            topic = private_topic((title, MODULE_NAMES.get(module, module)), private)
            found.append(
                {
                    "time": moment.isoformat(),
                    "category": category,
                    "status": status,
                    "title": f"{topic}事项" if topic else scrub(title),
                    "village": village,
                }
            )
    return found


_RANKING_TOTAL = func.sum(rollups.c.total)
_RANKED = (
    rollups.c.grain == "month",
    rollups.c.measure == bindparam("measure"),
    rollups.c.bucket == bindparam("month"),
)
# Thousands of villages (a province or city): one pass over the measure's month bucket, names for the winners.
_TOP_VILLAGES = (
    select(rollups.c.region_code, func.sum(rollups.c.count).label("count"), _RANKING_TOTAL.label("total"))
    .where(
        *_RANKED,
        rollups.c.region_code.between(*_IN_SCOPE),
        func.substr(rollups.c.region_code, 10, 3) != "000",  # villages' own rows, not their ancestors'
    )
    .group_by(rollups.c.region_code)
    .order_by(_RANKING_TOTAL.desc(), rollups.c.region_code)
    .limit(_LIMIT)
    .subquery()
)
RANKING_WIDE = (
    select(_TOP_VILLAGES.c.region_code, regions.c.name, _TOP_VILLAGES.c.count, _TOP_VILLAGES.c.total)
    .join(regions, regions.c.code == _TOP_VILLAGES.c.region_code)
    .order_by(_TOP_VILLAGES.c.total.desc(), _TOP_VILLAGES.c.region_code)
)
# A county's few hundred villages: one index probe per village beats a pass over every region.
RANKING_NARROW = (
    select(regions.c.code, regions.c.name, func.sum(rollups.c.count), _RANKING_TOTAL)
    .join(rollups, rollups.c.region_code == regions.c.code)
    .where(regions.c.level == "village", regions.c.code.between(*_IN_SCOPE), *_RANKED)
    .group_by(regions.c.code, regions.c.name)
    .order_by(_RANKING_TOTAL.desc(), regions.c.code)
    .limit(_LIMIT)
)


@versioned
def village_ranking(engine: Engine, scope: str, measure: str, month: datetime, limit: int = 5) -> list[dict]:
    """The villages in a scope with the largest totals of a measure in a local month (its month rollup):
    [{"code", "name", "count", "total"}]."""
    query = RANKING_WIDE if level_of(scope) in ("province", "city") else RANKING_NARROW
    parameters = _in_scope(scope) | {"measure": measure, "month": month, "limit": limit}
    with engine.connect() as connection:
        return [
            {"code": code, "name": name, "count": int(n), "total": float(total)}
            for code, name, n, total in connection.execute(query, parameters)
        ]


def _device_rows(where) -> Select:
    """Devices (kind, village, label point) with one row per latest metric, for the devices ``where`` picks."""
    return (
        select(
            devices.c.device_id,
            devices.c.kind,
            devices.c.region_code,
            regions.c.name,
            regions.c.centroid_lon,
            regions.c.centroid_lat,
            device_latest.c.metric,
            device_latest.c.event_time,
            device_latest.c.value,
        )
        .join(regions, regions.c.code == devices.c.region_code)
        .join(device_latest, device_latest.c.device_id == devices.c.device_id, isouter=True)
        .where(where)
        .order_by(devices.c.device_id)
    )


DEVICES_IN = _device_rows(devices.c.region_code.between(*_IN_SCOPE))


def _grouped_devices(engine: Engine, query: Select, parameters: dict) -> list[dict]:
    """One dict per device with its latest {metric: (time, value)}."""
    found: dict[str, dict] = {}
    with engine.connect() as connection:
        for device, kind, village, name, lon, lat, metric, moment, value in connection.execute(query, parameters):
            entry = found.setdefault(
                device,
                {
                    "device_id": device,
                    "kind": kind,
                    "village": village,
                    "village_name": name,
                    "lon": lon,
                    "lat": lat,
                    "latest": {},
                },
            )
            if metric is not None:
                entry["latest"][metric] = (as_utc(moment), value)
    return list(found.values())


@versioned
def devices_in(engine: Engine, scope: str) -> list[dict]:
    """Every device in the region with its kind, village, label point and latest value per metric (map of a
    village; larger scopes use device_kinds and the open alerts, which stay small at province scale)."""
    return _grouped_devices(engine, DEVICES_IN, _in_scope(scope))


DEVICE_KINDS = (
    select(rollups.c.dimension, func.sum(rollups.c.count))
    .where(
        rollups.c.grain == "month",
        rollups.c.region_code == bindparam("scope"),
        rollups.c.measure == "devices.installed",
    )
    .group_by(rollups.c.dimension)
)


@versioned
def device_kinds(engine: Engine, scope: str) -> dict[str, int]:
    """{kind: number of devices} installed in the region, from the devices.installed month rollups: a few rows
    per kind at any scope, where counting a province's devices would read every one of them."""
    with engine.connect() as connection:
        return {kind: int(n) for kind, n in connection.execute(DEVICE_KINDS, {"scope": scope}) if n}
