"""MQTT sustained ingest with QoS 1 into PostgreSQL: messages per second through the ETL's MQTT feed (parse,
validate, COPY upsert, rollups, acknowledgement after commit) against a bare paho subscriber that only counts
and acks, draining the same backlog from the same broker in one run; and that nothing is lost or doubled.

The ETL shares paho's MQTT v5 property tables between packets (etl.sources.paho_properties); the baseline is
paho as shipped, and the same bare subscriber runs again with the shared tables.
Target: ≥ 20,000 messages/s, zero loss. The broker is a Mosquitto of the benchmark's own (unbounded queue,
so the backlog waits in the subscriber's persistent session). BENCH_MQTT_MESSAGES sets the backlog size,
BENCH_MQTT_WORKERS the workers of the shared-subscription run (default 2).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import create_engine, func, insert, select, text

from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.sources import paho_properties
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import devices, readings, regions
from tests.mosquitto import Broker
from tests.mqtt_county import sensors_feed
from tests.shared_fixtures import POSTGRES_ADMIN_URL

COUNTY, DEVICES, BATCH = "980101000000", 1000, 10000
WORKERS = int(os.environ.get("BENCH_MQTT_WORKERS", "2"))


def _session(port: int, client_id: str, topic: str, *, receive_maximum: int = 65535) -> paho.Client:
    """A connected MQTT v5 client with a persistent session subscribed to ``topic``/# at QoS 1."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    subscribed = threading.Event()
    client.on_connect = lambda c, *_: c.subscribe(f"{topic}/#", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    properties.ReceiveMaximum = receive_maximum
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
    client.loop_start()
    if not subscribed.wait(10):
        raise RuntimeError("no subscription")
    return client


def _publish(port: int, topic: str, count: int, start: datetime) -> float:
    """Publish ``count`` readings with QoS 1 (each confirmed by the broker); returns messages/s."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-publisher-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    began = time.perf_counter()
    pending = []
    for number in range(count):
        device = f"S{number % DEVICES:04d}"
        moment = start + timedelta(seconds=number // DEVICES)
        payload = f'{{"device":"{device}","metric":"pm25","value":{number % 90},"time":"{moment.isoformat()}"}}'
        pending.append(client.publish(f"{topic}/{device}", payload, qos=1))
        if len(pending) == 20000:  # message ids wrap at 65,535: settle a window before the next
            for info in pending:
                info.wait_for_publish(timeout=60)
            pending = []
    for info in pending:
        info.wait_for_publish(timeout=60)
    rate = count / (time.perf_counter() - began)
    client.disconnect()
    client.loop_stop()
    return rate


def _backlog(port: int, client_id: str, topic: str, count: int, start: datetime) -> float:
    """Create the subscriber's session, disconnect it, and queue ``count`` messages for it on the broker."""
    client = _session(port, client_id, topic)
    client.disconnect()
    client.loop_stop()
    return _publish(port, topic, count, start)


def _bare_paho(port: int, client_id: str, topic: str, count: int) -> float:
    """Messages/s of a subscriber that only counts and acks (paho's automatic ack) the backlog."""
    received = 0
    done = threading.Event()

    def on_message(_client, _userdata, _message):
        nonlocal received
        received += 1
        if received == count:
            done.set()

    began = time.perf_counter()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.on_message = on_message
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    properties.ReceiveMaximum = BATCH
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
    client.loop_start()
    if not done.wait(600):
        raise RuntimeError(f"bare subscriber got {received} of {count}")
    rate = count / (time.perf_counter() - began)
    client.disconnect()
    client.loop_stop()
    return rate


def _warehouse(url: str) -> None:
    """A county with ten villages and DEVICES air sensors, so every reading is valid."""
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    villages = [f"980101001{index:03d}" for index in range(1, 11)]
    with engine.begin() as connection:
        connection.execute(
            insert(regions),
            [
                {"code": COUNTY, "name": "基准县", "level": "county", "parent_code": None, "updated_at": now},
                {
                    "code": "980101001000",
                    "name": "基准镇",
                    "level": "township",
                    "parent_code": COUNTY,
                    "updated_at": now,
                },
            ]
            + [
                {"code": code, "name": f"第{i}村", "level": "village", "parent_code": "980101001000", "updated_at": now}
                for i, code in enumerate(villages, 1)
            ],
        )
        connection.execute(
            insert(devices),
            [
                {
                    "device_id": f"S{n:04d}",
                    "kind": "air",
                    "name": f"S{n}",
                    "region_code": villages[n % 10],
                    "event_time": now - timedelta(days=30),
                    "loaded_at": now,
                }
                for n in range(DEVICES)
            ],
        )
    engine.dispose()


def _worker(url: str, feeds_file: str, name: str, go, done) -> None:
    """One MQTT worker's run in a process of its own, as `etl watch` starts them, once ``go`` is set."""
    engine = make_engine(url)
    feed = load_feeds(Path(feeds_file))[name]
    go.wait()
    report = run_feed(engine, feed)
    done.put((report.counts.loaded, report.counts.duplicates, time.perf_counter()))
    engine.dispose()


def _workers(port: int, folder: Path, url: str, count: int, start: datetime) -> tuple[float, int, int]:
    """(messages/s, loaded, duplicates) of the feed with WORKERS workers on a shared subscription, each in a
    process of its own, draining a backlog of ``count`` messages that the broker spread between them."""
    for number in range(1, WORKERS + 1):
        client = _session(port, f"bench-etlw-{number}", "$share/sensors/etlw")
        client.disconnect()
        client.loop_stop()
    _publish(port, "etlw", count, start)
    feeds_file = folder / "workers.toml"
    feeds_file.write_text(
        sensors_feed(port, "bench-etlw", "etlw", idle_seconds=3, batch_size=BATCH, workers=WORKERS, run_seconds=3600)
    )
    context = multiprocessing.get_context("spawn")
    go, done = context.Event(), context.Queue()
    names = [f"sensors@{number}" for number in range(1, WORKERS + 1)]
    processes = [context.Process(target=_worker, args=(url, str(feeds_file), n, go, done)) for n in names]
    for process in processes:
        process.start()
    time.sleep(5)  # the workers import and connect to the warehouse before the clock starts
    began = time.perf_counter()
    go.set()
    results = [done.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    elapsed = max(finished for _, _, finished in results) - began - 3  # less the idle wait that ends a run
    return count / elapsed, sum(r[0] for r in results), sum(r[1] for r in results)


def main() -> None:
    """Both subscribers drain an equal backlog from the benchmark's own broker; the ETL's rows are counted."""
    count = int(os.environ.get("BENCH_MQTT_MESSAGES", "200000"))
    name = f"ruralbrain_bench_mqtt_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with tempfile.TemporaryDirectory() as folder:
        broker = Broker(Path(folder))
        broker.start()
        try:
            _warehouse(url)
            start = datetime.now(UTC) - timedelta(seconds=count // DEVICES + 60)
            published = _backlog(broker.port, "bench-bare", "bare", count, start)
            with paho_properties.stock():
                bare = _bare_paho(broker.port, "bench-bare", "bare", count)
            _backlog(broker.port, "bench-bare-shared", "shared", count, start)
            shared = _bare_paho(broker.port, "bench-bare-shared", "shared", count)
            _backlog(broker.port, "bench-etl", "etl", count, start)
            feeds_file = Path(folder) / "feeds.toml"
            feeds_file.write_text(
                sensors_feed(broker.port, "bench-etl", "etl", idle_seconds=3, batch_size=BATCH, run_seconds=3600)
            )
            engine = make_engine(url)
            began = time.perf_counter()
            report = run_feed(engine, load_feeds(feeds_file)["sensors"])
            # The source waits idle_seconds for more before it ends the run: not part of the ingest.
            ours = count / (time.perf_counter() - began - 3)
            with engine.connect() as connection:
                stored = connection.execute(select(func.count()).select_from(readings)).scalar()
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}_w"'))
            _warehouse(url + "_w")
            spread, spread_loaded, spread_duplicates = _workers(broker.port, Path(folder), url + "_w", count, start)
        finally:
            broker.stop()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}_w" WITH (FORCE)'))
            admin.dispose()
    counts = report.counts
    lost = count - stored
    print(
        f"backlog of {count:,} QoS 1 messages (published at {published:,.0f}/s): ETL feed into PostgreSQL "
        f"{ours:,.0f} msg/s vs bare paho subscriber {bare:,.0f} msg/s → {ours / bare:.2f}× "
        f"(target ≥ 20,000 msg/s); the bare subscriber with the ETL's shared property tables {shared:,.0f} msg/s; "
        f"rows in {counts.rows_in:,}, loaded {counts.loaded:,}, "
        f"duplicates {counts.duplicates:,}, quarantined {counts.quarantined:,}; stored {stored:,}, lost {lost:,}"
    )
    print(
        f"the same backlog through the feed with {WORKERS} workers on a shared subscription, a process each: "
        f"{spread:,.0f} msg/s ({spread / bare:.2f}× the bare subscriber); loaded {spread_loaded:,}, duplicates "
        f"{spread_duplicates:,}, lost {count - spread_loaded:,}"
    )
    print(
        json.dumps(
            {
                "etl_msg_s": round(ours),
                "bare_msg_s": round(bare),
                "bare_shared_tables_msg_s": round(shared),
                "ratio": round(ours / bare, 2),
                "lost": lost,
                "workers_msg_s": round(spread),
                "workers_lost": count - spread_loaded,
                "duplicates": counts.duplicates,
            }
        )
    )


if __name__ == "__main__":
    main()
