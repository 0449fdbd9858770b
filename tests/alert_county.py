"""A small county for alert tests and benchmarks: two townships and three villages, a clock the test moves, and
readings, cases and alerts files written straight into a fresh warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from etl.alerts.config import load_alerts
from etl.latest import update_latest
from etl.regions import load_hierarchy
from etl.rollups import day_of
from etl.upsert import upsert
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import alerts, cases, devices, rollups
from geo.hierarchy import HierarchyRead, RegionRecord

COUNTY, TOWN_A, TOWN_B = "990199000000", "990199001000", "990199002000"
VILLAGE_A1, VILLAGE_A2, VILLAGE_B1 = "990199001001", "990199001002", "990199002001"
REGIONS = [
    RegionRecord(COUNTY, "测试县", "county", "990100000000"),
    RegionRecord(TOWN_A, "东镇", "township", COUNTY),
    RegionRecord(TOWN_B, "西镇", "township", COUNTY),
    RegionRecord(VILLAGE_A1, "甲村", "village", TOWN_A),
    RegionRecord(VILLAGE_A2, "乙村", "village", TOWN_A),
    RegionRecord(VILLAGE_B1, "丙村", "village", TOWN_B),
]
START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 local
# A sewage plant's COD over its limit opens an alert, back under the clear level resolves it (add severity and the
# rest after it).
COD_RULE = """
[rules.cod]
name = "污水COD超标"
kind = "reading"
metric = "cod"
fire = "> 60"
clear = "<= 55"
"""
# An AQI rule without hold time and a webhook whose address is in the environment variable {hook}; the sweep
# runs once an hour, so what arrives within seconds was evaluated right after its batch.
AIR_RULE = """
[evaluation]
sweep = "1h"
[rules.air]
name = "空气重度污染"
kind = "reading"
metric = "aqi"
fire = "> 150"
clear = "<= 140"
severity = "major"

[channels.hook]
type = "webhook"
url_env = "{hook}"
"""


class Clock:
    """A clock a test moves by hand; callable like the evaluator's clock."""

    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def county_engine(url: str):
    """A migrated warehouse with the county's regions."""
    engine = make_engine(url)
    migrate(engine)
    load_hierarchy(engine, HierarchyRead(REGIONS, []), source="test")
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def county(request, tmp_path):
    """The county's warehouse on SQLite, then on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = county_engine(url)
    yield engine
    engine.dispose()


def reading(engine, device: str, metric: str, value: float, at: datetime, region: str = VILLAGE_A1) -> None:
    """A device's latest reading of a metric, as a load of readings leaves it (the device registered too)."""
    with engine.begin() as connection:
        row = {"device_id": device, "kind": "sewage_plant", "region_code": region, "event_time": at, "loaded_at": at}
        upsert(connection, devices, [row], ["device_id"])
        update_latest(
            connection,
            [{"device_id": device, "metric": metric, "region_code": region, "event_time": at, "value": value}],
        )


def case(engine, case_id: str, due: datetime, status: str = "in_progress", region: str = VILLAGE_A1) -> None:
    """A case with a due time and a status, as a load of cases leaves it."""
    row = {
        "case_id": case_id,
        "category": "appeal",
        "module": "general",
        "status": status,
        "due_at": due,
        "region_code": region,
        "event_time": due - timedelta(days=3),
        "loaded_at": due - timedelta(days=3),
    }
    with engine.begin() as connection:
        upsert(connection, cases, [row], ["case_id"])


def alerts_file(folder: Path, text: str, environment: dict | None = None):
    """An alerts file written into ``folder``, loaded."""
    path = folder / "alerts.toml"
    path.write_text(text, encoding="utf-8")
    return load_alerts(path, environment or {})


def day_count(engine, region: str, measure: str, dimension: str, count: int, at: datetime) -> None:
    """A region's count of a measure on the local day of ``at``, as the rollups keep it."""
    row = {"grain": "day", "bucket": day_of(at), "region_code": region, "measure": measure, "dimension": dimension}
    with engine.begin() as connection:
        connection.execute(insert(rollups).values(**row, count=count, total=count))


def open_alert(
    connection, village: str, name: str, severity: str = "major", status: str = "open", detail: str | None = None
) -> int:
    """An alert of a village's sewage sensor (COD over 60), opened ten minutes ago, written straight into the
    warehouse; its id."""
    now = datetime.now(UTC)
    return connection.execute(
        insert(alerts)
        .values(
            rule_id=f"test-{name}-{village}",
            subject=f"device:{name}:cod",
            region_code=village,
            name=name,
            severity=severity,
            status=status,
            level="village",
            owner_code=village,
            value=75.0,
            detail=detail or f"设备 {name} COD 75（告警条件 > 60）",
            since=now - timedelta(minutes=20),
            opened_at=now - timedelta(minutes=10),
            level_since=now - timedelta(minutes=10),
            updated_at=now,
        )
        .returning(alerts.c.id)
    ).scalar_one()
