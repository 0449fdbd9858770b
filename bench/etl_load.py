"""Loading readings: our loader against pandas ``DataFrame.to_sql`` on SQLite and PostgreSQL, and rollup time.

Prints rows/s for the same readings (default 1,000,000; BENCH_READINGS to change) loaded by
``etl.load.upsert_counting`` (idempotent upsert) and by ``to_sql`` with its defaults (plain inserts), their
ratio, the database's own bulk insert of the same rows into the same table (the ceiling for any loader),
and the rollup of one hour of 200,000 sensors: added to its buckets (what a load of new rows does)
and recomputed from the raw rows (what a load of changed rows does). Targets: ≥ 100k/s SQLite, ≥ 300k/s
PostgreSQL, ≥ 5× to_sql, rollup ≤ 5 s.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text

from etl.datasets import datasets
from etl.load import upsert_counting
from etl.rollups import recompute_rollups, touched_buckets, update_rollups
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import readings

POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 3, 1, tzinfo=UTC)


def make_rows(count: int, sensors: int, step: timedelta) -> list[dict]:
    """Readings of ``sensors`` devices spread over 200 villages, one per sensor per step."""
    now = datetime.now(UTC)
    villages = [f"990101{t:03d}{v:03d}" for t in range(1, 11) for v in range(1, 21)]
    return [
        {
            "device_id": f"S{i % sensors:06d}",
            "metric": "pm25",
            "value": float(i % 300),
            "region_code": villages[(i % sensors) % len(villages)],
            "event_time": START + step * (i // sensors),
            "loaded_at": now,
            "run_id": 1,
        }
        for i in range(count)
    ]


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def ours(engine, rows) -> float:
    def load():
        with engine.begin() as connection:
            for offset in range(0, len(rows), 50_000):
                upsert_counting(connection, readings, rows[offset : offset + 50_000])

    return timed(load)


def database_floor(engine) -> float:
    """Time for the database alone to bulk-insert the rows ours loaded into the same (emptied) table: SQLite
    copies them from a temporary table in C; PostgreSQL takes them back by binary COPY, already encoded.
    No loader written in Python can beat it: it bounds what the targets can ask of this machine."""
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy("COPY (SELECT * FROM readings) TO STDOUT (FORMAT BINARY)") as copy:
                encoded = b"".join(bytes(chunk) for chunk in copy)
            cursor.execute("TRUNCATE readings")
        else:
            cursor.execute("CREATE TEMPORARY TABLE floor_copy AS SELECT * FROM readings")
            cursor.execute("DELETE FROM readings")
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        start = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with cursor.copy("COPY readings FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(encoded)
        else:
            cursor.execute("INSERT INTO readings SELECT * FROM floor_copy")
        return time.perf_counter() - start


def to_sql(engine, rows) -> float:
    frame = pd.DataFrame(rows)
    return timed(lambda: frame.to_sql("readings_to_sql", engine, if_exists="append", index=False))


def postgres_engine():
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"ruralbrain_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return admin, name, make_engine(POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}")


def main() -> None:
    """Run the benchmark once and print its figures."""
    count = int(os.environ.get("BENCH_READINGS", "1000000"))
    rows = make_rows(count, sensors=10_000, step=timedelta(minutes=5))
    # The benchmark's own million rows stay out of the garbage collector's passes, for both loaders: a
    # batch the ETL loads is a few thousand rows, and the collector walking these cost ours about 20%.
    gc.freeze()
    print(f"{count:,} readings of 10,000 sensors")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        # Both loaders once first, in a database of its own: the first run in a process paid for memory
        # that the later ones reused (its column lists took twice as long), which favoured whichever ran second.
        warm = make_engine(f"sqlite:///{Path(folder) / 'warm.db'}")
        migrate(warm)
        ours(warm, rows)
        to_sql(warm, rows)
        warm.dispose()
        engine = make_engine(f"sqlite:///{Path(folder) / 'w.db'}")
        migrate(engine)
        results["sqlite"] = (ours(engine, rows), database_floor(engine), to_sql(engine, rows))
        engine.dispose()
    try:
        admin, name, engine = postgres_engine()
    except Exception as error:  # noqa: BLE001 - the benchmark still reports SQLite without a server
        print(f"PostgreSQL not reachable ({type(error).__name__}); skipped")
    else:
        migrate(engine)
        results["postgresql"] = (ours(engine, rows), database_floor(engine), to_sql(engine, rows))
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    for backend, (our_time, floor_time, their_time) in results.items():
        print(
            f"{backend:<10} ours {count / our_time:>9,.0f} rows/s   to_sql {count / their_time:>9,.0f} rows/s   "
            f"ratio {their_time / our_time:.1f}×   the database's own bulk insert {count / floor_time:>9,.0f} rows/s "
            f"(ours reaches {floor_time / our_time:.0%} of it)"
        )

    sensors = 200_000
    hour_rows = make_rows(sensors, sensors=sensors, step=timedelta(hours=1))
    dataset = datasets()["readings"]
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'w.db'}")
        migrate(engine)
        with engine.begin() as connection:
            upserted = upsert_counting(connection, readings, hour_rows)
        with engine.begin() as connection:
            added = timed(lambda: update_rollups(connection, dataset, upserted))
        with engine.begin() as connection:
            recomputed = timed(lambda: recompute_rollups(connection, dataset, touched_buckets(dataset, hour_rows)))
        print(
            f"rollup of one hour of {sensors:,} new readings (SQLite): {added:.2f} s as the ETL does it (added to "
            f"their buckets), {recomputed:.2f} s recomputed from the raw rows (target ≤ 5 s)"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
