"""The loader on the real SQLite and PostgreSQL: new time spans are appended, overlapping ones merged, and a
load that races another one for the same keys still says truthfully which rows it wrote."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from etl.load import upsert_counting
from etl.warehouse.schema import readings

START = datetime(2026, 3, 1, tzinfo=UTC)
LOADED = datetime(2026, 3, 2, tzinfo=UTC)


def reading(device: str, minutes: int, value: float) -> dict:
    return {
        "device_id": device,
        "metric": "pm25",
        "value": value,
        "region_code": "990199001001",
        "event_time": START + timedelta(minutes=minutes),
        "loaded_at": LOADED,
        "run_id": 1,
    }


def stored(engine) -> dict[tuple[str, int], float]:
    with engine.connect() as connection:
        rows = connection.execute(select(readings.c.device_id, readings.c.event_time, readings.c.value)).all()
    return {
        (device, round((moment.replace(tzinfo=UTC) - START).total_seconds() / 60)): value
        for device, moment, value in rows
    }


def test_later_batches_are_appended_and_overlapping_ones_merged(engine):
    first = [reading(device, minutes, 1.0) for device in ("A", "B") for minutes in (0, 5, 10)]
    later = [reading(device, minutes, 2.0) for device in ("A", "B") for minutes in (15, 20)]
    # Overlaps the first batch in time: one row the same, one corrected, one new device at a stored moment.
    overlapping = [reading("A", 5, 1.0), reading("B", 5, 9.0), reading("C", 5, 3.0)]
    with engine.begin() as connection:
        assert len(upsert_counting(connection, readings, first).inserted) == 6
    with engine.begin() as connection:
        appended = upsert_counting(connection, readings, later)
    with engine.begin() as connection:
        merged = upsert_counting(connection, readings, overlapping)

    assert (len(appended.inserted), appended.changed) == (4, [])
    assert [row["device_id"] for row in merged.inserted] == ["C"]
    assert [(row["device_id"], row["value"]) for row in merged.changed] == [("B", 9.0)]
    expected = {(r["device_id"], (r["event_time"] - START) // timedelta(minutes=1)): r["value"] for r in first + later}
    expected[("B", 5)] = 9.0
    expected[("C", 5)] = 3.0
    assert stored(engine) == expected


def test_batches_longer_than_one_statement_arrive_whole(engine):
    """SQLite takes at most 999 parameters per statement, so a long batch is sent in several: 1,000 rows of
    five varying columns (run id and load time bound once) make 5 full statements of 199 rows and a shorter
    last one; the merge stages 501 rows of six in statements of 166 and one of 3."""
    devices = [f"D{n:03d}" for n in range(500)]
    first = [reading(device, minutes, float(n)) for n, device in enumerate(devices) for minutes in (0, 5)]
    corrected = [
        reading(device, 5, -float(n)) if n % 2 else reading(device, 5, float(n)) for n, device in enumerate(devices)
    ]
    with engine.begin() as connection:
        appended = upsert_counting(connection, readings, first)
    with engine.begin() as connection:
        merged = upsert_counting(connection, readings, corrected + [reading("NEW", 10, 7.0)])

    assert len(appended.inserted) == 1000
    assert ([row["device_id"] for row in merged.inserted], len(merged.changed)) == (["NEW"], 250)
    expected = {(device, 0): float(n) for n, device in enumerate(devices)}
    expected |= {(device, 5): -float(n) if n % 2 else float(n) for n, device in enumerate(devices)}
    expected[("NEW", 10)] = 7.0
    assert stored(engine) == expected


def test_bookkeeping_stored_per_row_whether_one_value_or_several(engine):
    """SQLite binds a run id or load time shared by the whole batch once per statement; rows of a batch
    that carry different ones keep their own."""
    shared = [reading(f"D{n}", 0, 1.0) for n in range(300)]
    mixed = [
        reading(f"D{n}", 5, 1.0) | {"run_id": n % 3, "loaded_at": LOADED + timedelta(seconds=n)} for n in range(300)
    ]
    with engine.begin() as connection:
        upsert_counting(connection, readings, shared)
        upsert_counting(connection, readings, mixed)
    with engine.connect() as connection:
        rows = connection.execute(
            select(readings.c.device_id, readings.c.event_time, readings.c.run_id, readings.c.loaded_at)
        )
        stored = {(d, t.replace(tzinfo=UTC)): (run, loaded.replace(tzinfo=UTC)) for d, t, run, loaded in rows}
    assert len(stored) == 600
    assert all(stored[(f"D{n}", START)] == (1, LOADED) for n in range(300))
    later = START + timedelta(minutes=5)
    assert all(stored[(f"D{n}", later)] == (n % 3, LOADED + timedelta(seconds=n)) for n in range(300))


def wait_until_blocked(engine) -> None:
    """Until our load waits for the other one's lock: PostgreSQL shows it; SQLite cannot, so give it time."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.5)
        return
    with engine.connect() as watcher:
        for _ in range(200):
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar()
            if waiting:
                return
            time.sleep(0.05)


def test_a_load_racing_another_for_the_same_keys_still_tells_which_rows_it_wrote(engine):
    """The other load's rows are not committed when ours starts: ours must wait for it, then see its rows as
    there (PostgreSQL: the append hits their keys and falls back to the merge; SQLite: ours takes the write
    lock before it looks at the span)."""
    with engine.begin() as connection:  # an earlier load (on PostgreSQL it made the month's partition)
        upsert_counting(connection, readings, [reading("A", 60, 1.0)])
    theirs = [reading("A", 0, 1.0), reading("A", 5, 1.0)]
    ours = [reading("A", 5, 1.0), reading("B", 5, 2.0)]
    other = engine.connect()
    other_transaction = other.begin()
    upsert_counting(other, readings, theirs)  # holds its keys (SQLite: the write lock), uncommitted
    result = {}

    def load() -> None:
        with engine.begin() as connection:
            result["upserted"] = upsert_counting(connection, readings, ours)

    loader = threading.Thread(target=load)
    loader.start()
    wait_until_blocked(engine)
    other_transaction.commit()
    other.close()
    loader.join(timeout=30)

    upserted = result["upserted"]
    assert [row["device_id"] for row in upserted.inserted] == ["B"]
    assert upserted.changed == []
    assert stored(engine) == {("A", 0): 1.0, ("A", 5): 1.0, ("B", 5): 2.0, ("A", 60): 1.0}
