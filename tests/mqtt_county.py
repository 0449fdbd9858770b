"""A test county whose sensors report over MQTT: the sensors feed as TOML, its readings published and its broker
session forgotten, and for `etl watch` tests the county's regions and registered devices loaded through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, insert, select

from etl.warehouse.schema import devices, feed_runs

DEVICES_FEED = """
[feeds.devices]
dataset = "devices"
cadence = "1d"
schedule = "1h"
source = { type = "file", settle_seconds = 0, path = "{var_dir}/drops/devices" }
mapping = { device_id = "id", kind = "kind", region_code = "village", event_time = "installed" }
"""
VILLAGES = ("990199001001", "990199001002")  # 甲村 and 乙村 of 东镇, 测试县


def sensors_feed(
    port: int,
    client_id: str,
    topic: str,
    *,
    idle_seconds: float,
    batch_size: int,
    workers: int = 1,
    schedule="1m",
    run_seconds: float = 60,
) -> str:
    """The [feeds.sensors] TOML of air readings (device, metric, time, value) under ``topic``/# at QoS 1."""
    return mqtt_feed(
        port,
        client_id,
        topic,
        schedule=schedule,
        idle_seconds=idle_seconds,
        batch_size=batch_size,
        workers=workers,
        run_seconds=run_seconds,
    )


def mqtt_feed(
    port: int,
    client_id: str,
    topic: str,
    *,
    host: str = "127.0.0.1",
    device_id: str = "device",
    metric: str = "metric",
    cadence: str = "1m",
    schedule: str | None = None,
    **source: object,
) -> str:
    """The [feeds.sensors] TOML of readings (``device_id``, ``metric``, time, value) over MQTT under ``topic``/#."""
    settings = {"host": host, "port": port, "client_id": client_id, "topics": [f"{topic}/#"], **source}
    lines = [
        "[feeds.sensors]",
        'dataset = "readings"',
        f"cadence = {json.dumps(cadence)}",
        *([f"schedule = {json.dumps(schedule)}"] if schedule is not None else []),
        f"mapping = {{ device_id = {json.dumps(device_id)}, metric = {json.dumps(metric)}, "
        'event_time = "time", value = "value" }',
        "[feeds.sensors.source]",
        'type = "mqtt"',
        *(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in settings.items()),
    ]
    return "\n" + "\n".join(lines) + "\n"


def watch_county(folder: Path, sensors: str, devices: dict[str, str], warehouse_url: str | None = None):
    """A deployment under ``folder`` with the county's regions and ``devices`` ({device: village}) loaded
    through the devices feed, and ``sensors`` (a sensors_feed) beside it: (the CLI to run, its environment)."""
    var = folder / "var"
    (var / "drops" / "devices").mkdir(parents=True)
    rows = "".join(f"{device},空气监测,{village},2025-01-01\n" for device, village in devices.items())
    (var / "drops" / "devices" / "d.csv").write_text("id,kind,village,installed\n" + rows, encoding="utf-8")
    (folder / "feeds.toml").write_text(DEVICES_FEED + sensors, encoding="utf-8")
    villages = "".join(f"{code},{name}\n" for code, name in zip(VILLAGES, ("甲村", "乙村"), strict=True))
    (folder / "codes.csv").write_text(f"code,name\n990199,测试县\n990199001,东镇\n{villages}", encoding="utf-8")
    ruralbrain = [sys.executable, "-m", "etl.cli", "--var-dir", str(var)]
    env = {**os.environ, "FEEDS_FILE": str(folder / "feeds.toml")}
    if warehouse_url:
        env["WAREHOUSE_URL"] = warehouse_url
    for command in (["migrate"], ["geo", "import", str(folder / "codes.csv")], ["etl", "run", "devices"]):
        subprocess.run([*ruralbrain, *command], env=env, check=True, capture_output=True)
    return ruralbrain, env


def wait_for_sessions(engine: Engine, feeds: set[str], timeout: float = 60) -> None:
    """Wait until each of ``feeds`` has finished a run that went well: its source then connected and the broker
    confirmed its subscription, so its persistent session holds whatever is published from now on. A run merely
    started is not enough: `etl watch` starting on a loaded machine took 15 s to subscribe."""
    deadline, done = time.monotonic() + timeout, set()
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            finished = select(feed_runs.c.feed).where(feed_runs.c.status == "ok", feed_runs.c.finished_at.is_not(None))
            done = set(connection.execute(finished.distinct()).scalars())
        if feeds <= done:
            return
        time.sleep(0.2)
    raise AssertionError(f"no subscription within {timeout} s: runs that went well: {sorted(done)}")


def publish_all(host: str, port: int, messages: Iterable[tuple[str, bytes | str]]) -> None:
    """Publish (topic, payload) pairs at QoS 1 and wait until the broker has each."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:10]}")
    client.connect(host, port)
    client.loop_start()
    try:
        for info in [client.publish(topic, payload, qos=1) for topic, payload in messages]:
            info.wait_for_publish(timeout=30)
    finally:
        client.loop_stop()
        client.disconnect()


def forget_session(host: str, port: int, client_id: str) -> None:
    """Have the broker forget ``client_id``'s persistent session (a clean start whose session expires at once)."""
    forget = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    forget.connect(host, port, clean_start=True, properties=properties)
    forget.loop_start()
    forget.disconnect()
    forget.loop_stop()


def register_device(engine: Engine, device_id: str, region_code: str) -> None:
    """Register ``device_id`` as an air sensor of ``region_code``, installed on 2025-01-01 (UTC)."""
    with engine.begin() as connection:
        connection.execute(
            insert(devices).values(
                device_id=device_id,
                kind="air",
                region_code=region_code,
                event_time=datetime(2025, 1, 1, tzinfo=UTC),
                loaded_at=datetime.now(UTC),
            )
        )
