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
from etl.warehouse.schema import cases, feed_runs, quarantine, readings, rollups
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


CASES_FEEDS = """
[feeds.cases]
dataset = "cases"
cadence = "1h"
[feeds.cases.source]
type = "file"
path = "drops"
settle_seconds = 0
batch_rows = 500
[feeds.cases.mapping]
case_id = "编号"
region_code = "村代码"
event_time = "受理时间"
category = "类别"
module = "=综合"
status = "状态"
"""
RUN_CASES = RUN.replace('["sensors"]', '["cases"]')


def test_sigkill_mid_file_resumes_after_the_last_committed_batch(tmp_path):
    """One big file streamed in batches, killed half-way: the rerun goes on from the checkpoint, so no row is
    loaded or quarantined twice, and the file moves only once all of it is in."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = one_village_warehouse(url)
    (tmp_path / "feeds.toml").write_text(CASES_FEEDS, encoding="utf-8")
    (tmp_path / "drops").mkdir()
    total, bad = 40_000, 0
    with open(tmp_path / "drops" / "big.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "村代码", "受理时间", "类别", "状态"])
        for number in range(total):
            broken = number % 997 == 0  # a bad category now and then, to be quarantined exactly once
            bad += broken
            writer.writerow([f"K{number}", VILLAGE, "2026-03-01 08:00", "投诉" if broken else "请求", "受理"])
    process = subprocess.Popen([sys.executable, "-c", RUN_CASES, url, str(tmp_path / "feeds.toml")])
    deadline = time.monotonic() + 60
    committed = 0
    while time.monotonic() < deadline and process.poll() is None:
        with engine.connect() as connection:
            committed = connection.execute(select(func.coalesce(func.sum(feed_runs.c.loaded), 0))).scalar()
        if committed > 2000:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < committed < total - bad, "the kill should land after the first batches and before the last"
    assert (tmp_path / "drops" / "big.csv").exists()  # half read: not moved

    report = run_feed(engine, load_feeds(tmp_path / "feeds.toml")["cases"])
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(cases)).scalar()
        kept = connection.execute(select(func.count()).select_from(quarantine)).scalar()
        runs = connection.execute(select(feed_runs).order_by(feed_runs.c.id)).all()
    assert report.error is None and stored == total - bad and kept == bad
    assert sum(run.loaded for run in runs) == total - bad and sum(run.duplicates for run in runs) == 0
    assert sum(run.quarantined for run in runs) == bad
    assert not (tmp_path / "drops" / "big.csv").exists() and (tmp_path / "drops" / "processed" / "big.csv").exists()
