"""`ruralbrain etl watch`: loads files as they are dropped and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from etl.feed_lock import FeedBusy, feed_lock
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


def _watching(tmp_path):
    """A county with one village and a file feed polled every 0.2 s; (var folder, `etl watch` process)."""
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
    return var, subprocess.Popen([*ruralbrain, "etl", "watch"], env=env, stdout=subprocess.PIPE, text=True)


def _drop(var: Path, name: str, rows: str) -> None:
    """A visits file put in place at once, as an upload tool renames it when done."""
    drop = var / "drops" / "visits" / name
    drop.with_suffix(".tmp").write_text(f"编号,村代码,日期,游客人数\n{rows}", encoding="gbk")
    drop.with_suffix(".tmp").rename(drop)


def _wait_for(engine, count: int) -> int:
    """The visits loaded, once there are ``count`` of them or 30 s have passed."""
    deadline = time.monotonic() + 30
    loaded = 0
    while time.monotonic() < deadline and loaded < count:
        with engine.connect() as connection:
            loaded = connection.execute(select(func.count()).select_from(tourism)).scalar()
        time.sleep(0.1)
    return loaded


def _stopped(watcher) -> str:
    """SIGTERM, then what the watch printed."""
    watcher.send_signal(signal.SIGTERM)
    output, _ = watcher.communicate(timeout=20)
    return output


DAY = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")


def test_watch_loads_dropped_files_and_stops_on_sigterm(tmp_path):
    var, watcher = _watching(tmp_path)
    try:
        _drop(var, "v.csv", f"T1,990199001001,{DAY},120\n")
        engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
        assert _wait_for(engine, 1) == 1
        output = _stopped(watcher)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0
    assert "visits：输入 1 行 = 导入 1" in output and output.rstrip().endswith("已停止")
    assert Path(var / "drops" / "visits" / "processed" / "v.csv").exists()
    with engine.connect() as connection:
        assert set(connection.execute(select(feed_runs.c.status)).scalars()) == {"ok"}
    engine.dispose()


def test_watch_prints_the_runs_that_changed_something_not_every_poll_that_found_only_duplicates(tmp_path):
    # A SQL feed reads its boundary row again on every poll (counted as a duplicate): printing those runs put a
    # line on the operator's terminal every few seconds, for ever. Here a re-sent file stands in for it.
    var, watcher = _watching(tmp_path)
    try:
        engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
        _drop(var, "a.csv", f"T1,990199001001,{DAY},120\n")
        assert _wait_for(engine, 1) == 1
        _drop(var, "b.csv", f"T1,990199001001,{DAY},120\n")  # the same row again: nothing new
        deadline = time.monotonic() + 30
        while (var / "drops" / "visits" / "b.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        _drop(var, "c.csv", f"T2,990199001001,{DAY},80\nT3,990199009009,{DAY},5\n")  # one new, one bad
        assert _wait_for(engine, 2) == 2
        output = _stopped(watcher)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    with engine.connect() as connection:
        runs = connection.execute(select(feed_runs.c.loaded, feed_runs.c.duplicates)).all()
    engine.dispose()
    assert (0, 1) in runs  # the duplicates-only run happened, and was logged in feed_runs
    lines = [line.split("，延迟")[0] for line in output.splitlines() if line.startswith("visits：")]
    assert lines == [
        "visits：输入 1 行 = 导入 1 + 重复 0 + 隔离 0（迟到 0）",
        "visits：输入 2 行 = 导入 1 + 重复 0 + 隔离 1（迟到 0）",
    ], output


def test_watch_sweeps_what_killed_uploads_left(tmp_path):
    uploads = tmp_path / "var" / "uploads"
    uploads.mkdir(parents=True)
    left = [uploads / f".{'a' * 32}.jpg.part", uploads / f"{'b' * 32}.jpg"]  # half-written; stored, never committed
    for path in left:
        path.write_bytes(b"0" * 16)
        os.utime(path, (time.time() - 7200, time.time() - 7200))
    var, watcher = _watching(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while any(path.exists() for path in left) and time.monotonic() < deadline:
            time.sleep(0.1)
        output = _stopped(watcher)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert not any(path.exists() for path in left)
    assert "上传目录：删除了 2 个中断的上传留下的文件" in output


def test_watch_waits_for_a_feed_another_process_runs_and_says_so_once(tmp_path):
    var, watcher = _watching(tmp_path)
    engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(watcher.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        held = None
        while held is None and time.monotonic() < deadline:  # the watch's own first run may hold it a moment
            try:
                held = feed_lock(engine, "visits")
                held.__enter__()
            except FeedBusy:
                held = None
                time.sleep(0.05)
        assert held is not None
        _drop(var, "v.csv", f"T1,990199001001,{DAY},120\n")
        deadline = time.monotonic() + 60  # the watch's turns come every 0.2 s once it is up, however slow its start
        while not any("另一个进程正在运行数据源 visits" in line for line in said) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # five turns more: it says so once
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(tourism)).scalar() == 0
        assert (var / "drops" / "visits" / "v.csv").exists()
        held.__exit__(None, None, None)
        assert _wait_for(engine, 1) == 1
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=20)
        reader.join(timeout=10)
        output = "".join(said)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    engine.dispose()
    assert output.count("另一个进程正在运行数据源 visits") == 1, output
