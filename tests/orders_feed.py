"""The orders feed the HTTP and SQL source tests run: one village's warehouse, the feed's mapping, a feed of a
source config."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from etl.feeds import Feed
from etl.regions import load_hierarchy
from etl.warehouse.db import make_engine, migrate
from geo.hierarchy import HierarchyRead, RegionRecord

COUNTY, TOWN, VILLAGE = "990199000000", "990199001000", "990199001001"
MAPPING = {
    "order_id": "order_no",
    "region_code": "village_code",
    "event_time": "paid_at",
    "product": "product",
    "quantity": "qty",
    "amount": "amount",
}


def orders_feed(tmp_path: Path, config: dict, name: str = "shop") -> Feed:
    """A feed of the orders dataset reading ``config``'s source with MAPPING."""
    return Feed(
        name=name,
        dataset="orders",
        source=config,
        mapping=MAPPING,
        cadence=timedelta(hours=1),
        schedule=timedelta(hours=1),
        base_dir=tmp_path,
    )


def village_warehouse(tmp_path: Path) -> Engine:
    """A migrated SQLite warehouse holding the one village the orders name."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    records = [
        RegionRecord(COUNTY, "测试县", "county", "990100000000"),
        RegionRecord(TOWN, "东镇", "township", COUNTY),
        RegionRecord(VILLAGE, "甲村", "village", TOWN),
    ]
    load_hierarchy(engine, HierarchyRead(records, []), source="test")
    return engine
