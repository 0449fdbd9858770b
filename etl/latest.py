"""The latest reading of every device and metric, kept current by each load of readings."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import Connection, select, tuple_

from etl.upsert import upsert
from etl.warehouse.schema import device_latest


def update_latest(connection: Connection, rows: list[dict]) -> int:
    """Move each (device, metric) to its newest reading when the batch has a newer one; returns rows written."""
    newest: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["device_id"], row["metric"])
        if key not in newest or row["event_time"] > newest[key]["event_time"]:
            newest[key] = row
    if not newest:
        return 0
    keys = list(newest)
    existing = {}
    for start in range(0, len(keys), 500):  # bounded IN lists
        chunk = keys[start : start + 500]
        query = select(device_latest.c.device_id, device_latest.c.metric, device_latest.c.event_time).where(
            tuple_(device_latest.c.device_id, device_latest.c.metric).in_(chunk)
        )
        for device, metric, moment in connection.execute(query):
            existing[(device, metric)] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    changed = [
        {k: row[k] for k in ("device_id", "metric", "region_code", "event_time", "value")}
        for key, row in newest.items()
        if key not in existing or row["event_time"] >= existing[key]
    ]
    upsert(connection, device_latest, changed, ["device_id", "metric"])
    return len(changed)
