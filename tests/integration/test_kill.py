"""A load killed with SIGKILL mid-run leaves no half batch; the rerun resumes and ends with exact counts."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.schema import feed_runs, readings, rollups
from tests.integration.test_partitions import VILLAGE, one_village_warehouse

FEEDS = """
[feeds.sensors]
dataset = "readings"
cadence = "5m"
[feeds.sensors.source]
type = "file"
settle_seconds = 0
path = "drops"
[feeds.sensors.mapping]
device_id = "device"
region_code = "village"
metric = "metric"
event_time = "time"
value = "value"
"""
FILES, DEVICES, STEPS = 8, 500, 24  # 8 files × 12,000 readings

RUN = """
import sys
from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.db import make_engine
engine = make_engine(sys.argv[1])
run_feed(engine, load_feeds(sys.argv[2])["sensors"], late_hours=10000)
"""


def test_sigkill_mid_run_then_rerun_gives_exact_counts(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = one_village_warehouse(url)
    (tmp_path / "feeds.toml").write_text(FEEDS, encoding="utf-8")
    (tmp_path / "drops").mkdir()
    start = datetime.now(UTC) - timedelta(days=10)
    for number in range(FILES):
        with open(tmp_path / "drops" / f"s{number:02d}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["device", "village", "metric", "time", "value"])
            for step in range(STEPS):
                moment = (start + timedelta(hours=number * STEPS + step)).isoformat()
                writer.writerows([f"D{d}", VILLAGE, "pm25", moment, d % 300] for d in range(DEVICES))
        os.utime(tmp_path / "drops" / f"s{number:02d}.csv", (1_000_000 + number, 1_000_000 + number))

    process = subprocess.Popen([sys.executable, "-c", RUN, url, str(tmp_path / "feeds.toml")])
    deadline = time.monotonic() + 60
    committed = 0
    while time.monotonic() < deadline and process.poll() is None:
        with engine.connect() as connection:
            committed = connection.execute(select(func.coalesce(func.sum(feed_runs.c.loaded), 0))).scalar()
        if committed > 0:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < committed < FILES * DEVICES * STEPS, "the kill should land after the first batch and before the last"

    report = run_feed(engine, load_feeds(tmp_path / "feeds.toml")["sensors"], late_hours=10000)
    total = FILES * DEVICES * STEPS
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(readings)).scalar()
        runs = connection.execute(select(feed_runs).order_by(feed_runs.c.id)).all()
        hourly = connection.execute(
            select(func.sum(rollups.c.count)).where(
                rollups.c.grain == "hour", rollups.c.region_code == "990199000000", rollups.c.measure == "reading.pm25"
            )
        ).scalar()
    assert stored == total and hourly == total
    assert runs[0].status == "interrupted" and "进程在运行中结束" in runs[0].error
    assert sum(run.loaded for run in runs) == total  # every committed row counted once, none lost
    assert sum(run.rows_in for run in runs) == sum(run.loaded + run.duplicates + run.quarantined for run in runs)
    assert report.error is None and not any((tmp_path / "drops").glob("*.csv"))
    assert len(list((tmp_path / "drops" / "processed").glob("*.csv"))) == FILES
    engine.dispose()
