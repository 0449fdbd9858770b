"""A test county whose sensors report over MQTT: the sensors feed as TOML, and for `etl watch` tests the
county's regions and registered devices loaded through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, select

from etl.warehouse.schema import feed_runs

DEVICES_FEED = """
[feeds.devices]
dataset = "devices"
cadence = "1d"
schedule = "1h"
source = { type = "file", settle_seconds = 0, path = "{var_dir}/drops/devices" }
mapping = { device_id = "id", kind = "kind", region_code = "village", event_time = "installed" }
"""
SENSORS_FEED = """
[feeds.sensors]
dataset = "readings"
cadence = "1m"
schedule = "{schedule}"
mapping = {{ device_id = "device", metric = "metric", event_time = "time", value = "value" }}
[feeds.sensors.source]
type = "mqtt"
host = "127.0.0.1"
port = {port}
client_id = "{client_id}"
topics = ["{topic}/#"]
idle_seconds = {idle_seconds}
batch_size = {batch_size}
workers = {workers}
run_seconds = {run_seconds}
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
    return SENSORS_FEED.format(
        run_seconds=run_seconds,
        port=port,
        client_id=client_id,
        topic=topic,
        idle_seconds=idle_seconds,
        batch_size=batch_size,
        workers=workers,
        schedule=schedule,
    )


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
