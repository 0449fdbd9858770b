"""`ruralbrain etl watch`: loads files as they are dropped and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from etl.warehouse.db import make_engine
from etl.warehouse.schema import feed_runs, tourism

FEEDS = """
[feeds.visits]
dataset = "tourism"
cadence = "1d"
schedule = "0.2s"
[feeds.visits.source]
type = "file"
settle_seconds = 0
path = "{var_dir}/drops/visits"
[feeds.visits.mapping]
record_id = "编号"
region_code = "村代码"
event_time = "日期"
visitors = "游客人数"
"""


def test_watch_loads_dropped_files_and_stops_on_sigterm(tmp_path):
    var = tmp_path / "var"
    (var / "drops" / "visits").mkdir(parents=True)
    (tmp_path / "feeds.toml").write_text(FEEDS, encoding="utf-8")
    (tmp_path / "codes.csv").write_text(
        "code,name\n990199,测试县\n990199001,东镇\n990199001001,甲村\n", encoding="utf-8"
    )
    ruralbrain = [sys.executable, "-m", "etl.cli", "--var-dir", str(var)]
    env = {**os.environ, "FEEDS_FILE": str(tmp_path / "feeds.toml")}
    subprocess.run(
        [*ruralbrain, "geo", "import", str(tmp_path / "codes.csv")], env=env, check=True, capture_output=True
    )
    watcher = subprocess.Popen([*ruralbrain, "etl", "watch"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
        drop = var / "drops" / "visits" / "v.csv"
        drop.with_suffix(".tmp").write_text(f"编号,村代码,日期,游客人数\nT1,990199001001,{day},120\n", encoding="gbk")
        drop.with_suffix(".tmp").rename(drop)
        engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
        deadline = time.monotonic() + 30
        loaded = 0
        while time.monotonic() < deadline and not loaded:
            with engine.connect() as connection:
                loaded = connection.execute(select(func.count()).select_from(tourism)).scalar()
            time.sleep(0.1)
        assert loaded == 1
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=20)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0
    assert "visits：输入 1 行 = 导入 1" in output and output.rstrip().endswith("已停止")
    assert Path(var / "drops" / "visits" / "processed" / "v.csv").exists()
    with engine.connect() as connection:
        assert set(connection.execute(select(feed_runs.c.status)).scalars()) == {"ok"}
    engine.dispose()
