"""The orders feed the HTTP and SQL source tests run: one village's warehouse, the feed's mapping, a feed of a
source config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

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


def orders_feed(tmp_path: Path, config: dict, name: str = "shop", **settings) -> Feed:
    """A feed of the orders dataset reading ``config``'s source with MAPPING (``settings``: more of the feed's, such
    as future_tolerance)."""
    return Feed(
        name=name,
        dataset="orders",
        source=config,
        mapping=MAPPING,
        cadence=timedelta(hours=1),
        schedule=timedelta(hours=1),
        base_dir=tmp_path,
        **settings,
    )


def village_warehouse(tmp_path: Path, url: str | None = None) -> Engine:
    """A migrated warehouse holding the one village the orders name: at ``url``, or a SQLite file in ``tmp_path``."""
    engine = make_engine(url or f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    records = [
        RegionRecord(COUNTY, "测试县", "county", "990100000000"),
        RegionRecord(TOWN, "东镇", "township", COUNTY),
        RegionRecord(VILLAGE, "甲村", "village", TOWN),
    ]
    load_hierarchy(engine, HierarchyRead(records, []), source="test")
    return engine


def make_orders_table(url: str, rows: list[tuple[str, str]], paid: str | None = None) -> None:
    """A source database's ``src`` table of orders with (order_no, updated_at) ``rows`` (see add_orders);
    updated_at is timestamptz on PostgreSQL, text on SQLite."""
    engine = create_engine(url)
    kind = "timestamptz" if url.startswith("postgresql") else "text"
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE src (order_no text, village_code text, paid_at text, product text, qty int,"
                f" amount numeric, updated_at {kind})"
            )
        )
    engine.dispose()
    add_orders(url, rows, paid)


def add_orders(url: str, rows: list[tuple[str, str]], paid: str | None = None) -> None:
    """More (order_no, updated_at) rows in ``src``: one 小米 for 10 each, paid at ``paid`` (default 30 hours ago)."""
    paid = paid or (datetime.now(UTC) - timedelta(hours=30)).isoformat(sep=" ", timespec="seconds")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO src VALUES (:no, :village, :paid, '小米', 1, 10, :at)"),
            [{"no": no, "village": VILLAGE, "paid": paid, "at": at} for no, at in rows],
        )
    engine.dispose()
