"""Read queries for the screens: rollups only, for a scope (a region) and a time window, cached by version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Select, func, select

from dashboard.alarms import breaks_a_rule
from dashboard.cache import versioned
from dashboard.privacy import mask_name, scrub
from etl.warehouse.db import as_utc
from etl.warehouse.schema import cases, device_latest, devices, feed_freshness, feed_state, regions, rollups
from geo.codes import level_of, scope_range


@versioned
def measure_totals(engine: Engine, scope: str, measures: list[str], start: datetime, end: datetime) -> dict:
    """{measure: {dimension: {"count", "total"}}} summed over day buckets in [start, end) for the region."""
    query = (
        select(rollups.c.measure, rollups.c.dimension, func.sum(rollups.c.count), func.sum(rollups.c.total))
        .where(
            rollups.c.grain == "day",
            rollups.c.region_code == scope,
            rollups.c.measure.in_(measures),
            rollups.c.bucket >= start,
            rollups.c.bucket < end,
        )
        .group_by(rollups.c.measure, rollups.c.dimension)
    )
    result: dict = {measure: {} for measure in measures}
    with engine.connect() as connection:
        for measure, dimension, count, total in connection.execute(query):
            result[measure][dimension] = {"count": int(count), "total": float(total)}
    return result


@versioned
def measure_series(
    engine: Engine, scope: str, measure: str, start: datetime, end: datetime, grain: str = "day"
) -> list[dict]:
    """[{"bucket", "count", "total", "min", "max"}] per bucket of a measure (all dimensions together)."""
    query = (
        select(
            rollups.c.bucket,
            func.sum(rollups.c.count),
            func.sum(rollups.c.total),
            func.min(rollups.c.min),
            func.max(rollups.c.max),
        )
        .where(
            rollups.c.grain == grain,
            rollups.c.region_code == scope,
            rollups.c.measure == measure,
            rollups.c.bucket >= start,
            rollups.c.bucket < end,
        )
        .group_by(rollups.c.bucket)
        .order_by(rollups.c.bucket)
    )
    with engine.connect() as connection:
        return [
            {"bucket": bucket.isoformat(), "count": int(n), "total": float(total), "min": low, "max": high}
            for bucket, n, total, low, high in connection.execute(query)
        ]


@versioned
def children_values(engine: Engine, parent: str, measures: list[str], start: datetime, end: datetime) -> dict:
    """{measure: {child code: {"name", "count", "total"}}} for each child of a region, in one query (the map's
    themes; one query per measure cost a round trip and a cache entry each)."""
    query = (
        select(rollups.c.measure, regions.c.code, regions.c.name, func.sum(rollups.c.count), func.sum(rollups.c.total))
        .join(rollups, rollups.c.region_code == regions.c.code)
        .where(
            regions.c.parent_code == parent,
            rollups.c.grain == "day",
            rollups.c.measure.in_(measures),
            rollups.c.bucket >= start,
            rollups.c.bucket < end,
        )
        .group_by(rollups.c.measure, regions.c.code, regions.c.name)
    )
    result: dict = {measure: {} for measure in measures}
    with engine.connect() as connection:
        for measure, code, name, n, total in connection.execute(query):
            result[measure][code] = {"name": name, "count": int(n), "total": float(total)}
    return result


@versioned
def freshness(engine: Engine, scope: str) -> dict[str, dict]:
    """{dataset: {"last_event_time", "last_loaded_at", "cadence_seconds"}} for data in the region and below it."""
    query = (
        select(
            feed_state.c.dataset,
            func.max(feed_freshness.c.last_event_time),
            func.max(feed_freshness.c.last_loaded_at),
            func.max(feed_state.c.cadence_seconds),
        )
        .join(feed_state, feed_state.c.feed == feed_freshness.c.feed)
        .where(feed_freshness.c.region_code.between(*scope_range(scope)))
        .group_by(feed_state.c.dataset)
    )
    with engine.connect() as connection:
        return {
            dataset: {"last_event_time": event, "last_loaded_at": loaded, "cadence_seconds": cadence}
            for dataset, event, loaded, cadence in connection.execute(query)
        }


@versioned
def latest_cases(engine: Engine, scope: str, limit: int = 12) -> list[dict]:
    """The newest cases in the region, for the ticker: already masked (names 张*明, phones 138****1234)."""
    query = (
        select(
            cases.c.event_time, cases.c.category, cases.c.status, cases.c.title, cases.c.reporter_name, regions.c.name
        )
        .join(regions, regions.c.code == cases.c.region_code)
        .where(cases.c.region_code.between(*scope_range(scope)))
        .order_by(cases.c.event_time.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [
            {
                "time": moment.isoformat(),
                "category": category,
                "status": status,
                "title": scrub(title),
                "reporter": mask_name(reporter),
                "village": village,
            }
            for moment, category, status, title, reporter, village in connection.execute(query)
        ]


@versioned
def village_ranking(engine: Engine, scope: str, measure: str, month: datetime, limit: int = 5) -> list[dict]:
    """The villages in a scope with the largest totals of a measure in a local month (its month rollup):
    [{"code", "name", "count", "total"}]."""
    total = func.sum(rollups.c.total)
    chosen = (rollups.c.grain == "month", rollups.c.measure == measure, rollups.c.bucket == month)
    if level_of(scope) in ("province", "city"):
        # Thousands of villages: one pass over the measure's month bucket, names for the winners only.
        top = (
            select(rollups.c.region_code, func.sum(rollups.c.count).label("count"), total.label("total"))
            .where(
                *chosen,
                rollups.c.region_code.between(*scope_range(scope)),
                func.substr(rollups.c.region_code, 10, 3) != "000",  # villages' own rows, not their ancestors'
            )
            .group_by(rollups.c.region_code)
            .order_by(total.desc(), rollups.c.region_code)
            .limit(limit)
            .subquery()
        )
        query = (
            select(top.c.region_code, regions.c.name, top.c.count, top.c.total)
            .join(regions, regions.c.code == top.c.region_code)
            .order_by(top.c.total.desc(), top.c.region_code)
        )
    else:
        # A county's few hundred villages: one index probe per village beats a pass over every region.
        query = (
            select(regions.c.code, regions.c.name, func.sum(rollups.c.count), total)
            .join(rollups, rollups.c.region_code == regions.c.code)
            .where(regions.c.level == "village", regions.c.code.between(*scope_range(scope)), *chosen)
            .group_by(regions.c.code, regions.c.name)
            .order_by(total.desc(), regions.c.code)
            .limit(limit)
        )
    with engine.connect() as connection:
        return [
            {"code": code, "name": name, "count": int(n), "total": float(total)}
            for code, name, n, total in connection.execute(query)
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


def _grouped_devices(engine: Engine, query: Select) -> list[dict]:
    """One dict per device with its latest {metric: (time, value)}."""
    found: dict[str, dict] = {}
    with engine.connect() as connection:
        for device, kind, village, name, lon, lat, metric, moment, value in connection.execute(query):
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
    village; larger scopes use device_kinds and alarm_devices, which stay small at province scale)."""
    return _grouped_devices(engine, _device_rows(devices.c.region_code.between(*scope_range(scope))))


@versioned
def alarm_devices(engine: Engine, scope: str) -> list[dict]:
    """The devices in the region whose latest reading of some metric breaks an alarm rule, shaped like
    devices_in (all their metrics, so the caller can tell a silent device from an alarming one)."""
    flagged = (
        select(device_latest.c.device_id)
        .where(
            device_latest.c.region_code.between(*scope_range(scope)),
            breaks_a_rule(device_latest.c.metric, device_latest.c.value),
        )
        .distinct()
    )
    return _grouped_devices(engine, _device_rows(devices.c.device_id.in_(flagged)))


@versioned
def device_kinds(engine: Engine, scope: str) -> dict[str, int]:
    """{kind: number of devices} installed in the region, from the devices.installed month rollups: a few rows
    per kind at any scope, where counting a province's devices would read every one of them."""
    query = (
        select(rollups.c.dimension, func.sum(rollups.c.count))
        .where(rollups.c.grain == "month", rollups.c.region_code == scope, rollups.c.measure == "devices.installed")
        .group_by(rollups.c.dimension)
    )
    with engine.connect() as connection:
        return {kind: int(n) for kind, n in connection.execute(query) if n}
