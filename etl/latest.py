"""The latest reading of every device and metric, kept current by each load of readings."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from etl.warehouse.schema import device_latest

COLUMNS = ("device_id", "metric", "region_code", "event_time", "value")


def update_latest(connection: Connection, rows: list[dict]) -> int:
    """Move each (device, metric) to its newest reading when the batch has a newer one; returns rows written."""
    newest: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["device_id"], row["metric"])
        if key not in newest or row["event_time"] > newest[key]["event_time"]:
            newest[key] = row
    if not newest:
        return 0
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[connection.dialect.name]
    statement = insert(device_latest)
    # One statement decides in the database whether the batch's reading is the newer one: no read first.
    statement = statement.on_conflict_do_update(
        index_elements=["device_id", "metric"],
        set_={column: statement.excluded[column] for column in COLUMNS[2:]},
        where=statement.excluded.event_time >= device_latest.c.event_time,
    )
    # In key order: concurrent loads (MQTT workers) then lock devices in one order and never deadlock.
    values = [{column: newest[key][column] for column in COLUMNS} for key in sorted(newest)]
    return connection.execute(statement, values).rowcount
