"""Read functions for the lists the indicators' screens show within a scope: 清廉乡村 and 曝光台 cases (never with
their reporters), 民主议事 and 民主监督 records, and the latest values of a kind of device (气象站, 养殖舍)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from etl.warehouse.db import as_utc
from etl.warehouse.schema import cases, deliberations, device_latest, devices, supervision_items
from geo.codes import scope_range

# What a public list may show of a case: no reporter name or phone (they are stored for masking only).
CASE_COLUMNS = (
    cases.c.case_id,
    cases.c.region_code,
    cases.c.event_time,
    cases.c.category,
    cases.c.title,
    cases.c.status,
    cases.c.closed_at,
)


def _rows(connection: Connection, query) -> list[dict]:
    rows = []
    for row in connection.execute(query).mappings():
        rows.append({key: as_utc(value) if isinstance(value, datetime) else value for key, value in row.items()})
    return rows


def module_cases(connection: Connection, scope: str, module: str, limit: int = 20) -> list[dict]:
    """The newest cases of a module within a scope (clean_village: 清廉乡村, exposure: 曝光台), newest first."""
    query = (
        select(*CASE_COLUMNS)
        .where(cases.c.module == module, cases.c.region_code.between(*scope_range(scope)))
        .order_by(cases.c.event_time.desc())
        .limit(limit)
    )
    return _rows(connection, query)


def clean_village(connection: Connection, scope: str, limit: int = 20) -> list[dict]:
    """清廉乡村: the newest integrity cases and disclosures within a scope."""
    return module_cases(connection, scope, "clean_village", limit)


def exposure_board(connection: Connection, scope: str, limit: int = 20) -> list[dict]:
    """曝光台: the newest publicly named problems within a scope, with their status (closed once corrected)."""
    return module_cases(connection, scope, "exposure", limit)


def recent_deliberations(connection: Connection, scope: str, limit: int = 20) -> list[dict]:
    """民主议事: the newest matters put to villagers within a scope, with turnout, votes and outcome."""
    query = (
        select(deliberations)
        .where(deliberations.c.region_code.between(*scope_range(scope)))
        .order_by(deliberations.c.event_time.desc())
        .limit(limit)
    )
    return [{k: v for k, v in row.items() if k not in ("loaded_at", "run_id")} for row in _rows(connection, query)]


def recent_supervision(connection: Connection, scope: str, limit: int = 20) -> list[dict]:
    """民主监督: the newest questions on village affairs within a scope and whether they were answered."""
    query = (
        select(supervision_items)
        .where(supervision_items.c.region_code.between(*scope_range(scope)))
        .order_by(supervision_items.c.event_time.desc())
        .limit(limit)
    )
    return [{k: v for k, v in row.items() if k not in ("loaded_at", "run_id")} for row in _rows(connection, query)]


def latest_of_kind(connection: Connection, scope: str, kind: str) -> dict[str, dict]:
    """{device: {"name", "region_code", "values": {metric: (value, time)}}} of one kind of device within a scope
    (weather: 气象站, livestock_house: 养殖舍), from the latest readings the ETL keeps."""
    low, high = scope_range(scope)
    query = (
        select(devices.c.device_id, devices.c.name, devices.c.region_code, device_latest.c.metric)
        .add_columns(device_latest.c.value, device_latest.c.event_time)
        .select_from(devices.join(device_latest, device_latest.c.device_id == devices.c.device_id))
        .where(devices.c.kind == kind, devices.c.region_code.between(low, high))
        .order_by(devices.c.device_id, device_latest.c.metric)
    )
    found: dict[str, dict] = {}
    for device_id, name, region, metric, value, moment in connection.execute(query):
        entry = found.setdefault(device_id, {"name": name, "region_code": region, "values": {}})
        entry["values"][metric] = (value, as_utc(moment))
    return found
