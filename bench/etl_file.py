"""A county's big cases export through `ruralbrain etl run`, against pandas ``read_csv`` + ``to_sql``.

Generates a GBK CSV with Chinese headers (default 1,500,000 rows, about 200 MB; BENCH_FILE_ROWS to change),
then loads it on SQLite twice, each in a process of its own so its peak memory (max RSS) is its own:

- ours: the feed run a county's file drop gets (streamed in batches, every row validated, quarantined rows
  kept, rollups kept, the run logged);
- baseline: ``pandas.read_csv`` of the whole file and ``DataFrame.to_sql`` into a table of the same database
  engine (no validation, no rollups).

Prints rows/s, seconds and peak RSS of each and their ratios. Targets (issue "ETL that stays right", with
ISSUE-NOTES): peak RSS ≤ 500 MB; no slower than the pandas path while validating every row.

A third line is the database's floor under ours: the rows our run stored (cases and their rollups) inserted again by
SQLite alone, into empty tables of the warehouse's own schema (its indexes), in our batch size, many rows per
statement and nothing else (no parsing, no validation, no Python per row; only the inserts and commits are timed).
No loader keeping those tables can be faster than that; its ratio to pandas says how much room is left.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROWS = int(os.environ.get("BENCH_FILE_ROWS", "1500000"))
HEADER = [
    "事件编号",
    "村代码",
    "受理时间",
    "类别",
    "模块",
    "渠道",
    "标题",
    "上报人",
    "联系电话",
    "状态",
    "办结时间",
    "办理期限",
    "满意度",
]
FEEDS = """
[feeds.cases]
dataset = "cases"
cadence = "1d"
[feeds.cases.source]
type = "file"
path = "{var_dir}/drops/cases"
settle_seconds = 0
[feeds.cases.mapping]
case_id = "事件编号"
region_code = "村代码"
event_time = "受理时间"
category = "类别"
module = "模块"
channel = "渠道"
title = "标题"
reporter_name = "上报人"
reporter_phone = "联系电话"
status = "状态"
closed_at = "办结时间"
due_at = "办理期限"
satisfaction = "满意度"
"""
TITLES = ["邻里纠纷调解", "土地界址争议", "路灯损坏报修", "垃圾清运不及时"]
TITLES += ["申请困难帮扶", "河道漂浮物", "农田灌溉用水", "宅基地审批咨询"]
NAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
STATUS = ["受理", "处置中", "办结", "评价"]
PANDAS = """
import sys, time, pandas as pd
from sqlalchemy import create_engine
start = time.perf_counter()
frame = pd.read_csv(sys.argv[1], encoding="gb18030", dtype=str, keep_default_na=False)
frame.to_sql("cases_raw", create_engine(sys.argv[2]), if_exists="replace", index=False)
print(len(frame), time.perf_counter() - start)
"""
FLOOR = """
import sqlite3, sys, time
source = sqlite3.connect(sys.argv[1])
target = sqlite3.connect(sys.argv[2], isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "wal_autocheckpoint=16384"):
    target.execute("PRAGMA " + pragma)  # the warehouse's own (etl/warehouse/db.py)
spent = 0.0
for table in ("cases", "rollups"):
    for (sql,) in source.execute("SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL", (table,)):
        target.execute(sql)
    rows = source.execute(f"SELECT * FROM {table} ORDER BY rowid")
    width = len(rows.description)
    per = 999 // width
    values = "(" + ", ".join("?" * width) + ")"
    many = f"INSERT INTO {table} VALUES " + ", ".join([values] * per)
    while batch := rows.fetchmany(20000):
        flat = [[v for row in batch[i : i + per] for v in row] for i in range(0, len(batch), per)]
        started = time.perf_counter()
        target.execute("BEGIN IMMEDIATE")
        target.executemany(many, [f for f in flat if len(f) == per * width])
        for rest in (f for f in flat if len(f) < per * width):
            target.execute(f"INSERT INTO {table} VALUES " + ", ".join([values] * (len(rest) // width)), rest)
        target.execute("COMMIT")
        spent += time.perf_counter() - started
print(spent)
"""


def villages() -> list[str]:
    """The synthetic county's 200 villages (990101 TTT VVV)."""
    return [f"990101{t:03d}{v:03d}" for t in range(1, 11) for v in range(1, 21)]


def write_export(path: Path, rows: int) -> int:
    """A GBK cases export with Chinese headers and a few bad rows, as a county's system writes it; its size."""
    rng = random.Random(2026)
    codes = villages()
    start = datetime(2026, 1, 1)
    with open(path, "w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            received = start + timedelta(minutes=i * 0.05)
            status = STATUS[i % 4]
            closed = received + timedelta(hours=rng.randint(1, 200)) if status in ("办结", "评价") else None
            writer.writerow(
                [
                    f"AJ{i:09d}",
                    codes[i % 200] if i % 1000 else "990101999999",  # one in a thousand: an unknown village
                    received.strftime("%Y-%m-%d %H:%M:%S"),
                    "矛盾纠纷请求诉求"[2 * (i % 4) : 2 * (i % 4) + 2],
                    "综合",
                    "二维码" if i % 3 else "网格员",
                    TITLES[i % len(TITLES)] + f"（{i % 97}号）",
                    rng.choice(NAMES) + rng.choice(NAMES) + rng.choice(NAMES),
                    f"13{rng.randint(100000000, 999999999)}",
                    status,
                    closed.strftime("%Y-%m-%d %H:%M:%S") if closed else "",
                    (received + timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S"),
                    str(rng.randint(1, 5)) if status == "评价" else "",
                ]
            )
    return path.stat().st_size


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of a child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0,):
        raise SystemExit(f"{command[2:5]} failed: {output[-2000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, output


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        var = root / "var"
        drops = var / "drops" / "cases"
        drops.mkdir(parents=True)
        export = root / "cases_export.csv"
        size = write_export(export, ROWS)
        (root / "feeds.toml").write_text(FEEDS, encoding="utf-8")
        codes = root / "codes.csv"
        lines = ["code,name", "990101,基准县"]
        lines += [f"990101{t:03d},镇{t}" for t in range(1, 11)] + [f"{c},村{c[-5:]}" for c in villages()]
        codes.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {**os.environ, "VAR_DIR": str(var), "FEEDS_FILE": str(root / "feeds.toml")}
        cli = [sys.executable, "-m", "etl.cli"]
        subprocess.run([*cli, "geo", "import", str(codes)], env=env, check=True, capture_output=True)
        print(f"file: {ROWS:,} rows, {size / 1e6:.0f} MB, GBK, Chinese headers")

        os.link(export, drops / export.name)
        ours_s, ours_mb, output = measured([*cli, "etl", "run", "cases"], env)
        summary = next((line for line in output.splitlines() if line.startswith("cases")), output[-300:])
        pandas_s, pandas_mb, _ = measured(
            [sys.executable, "-c", PANDAS, str(export), f"sqlite:///{root / 'pandas.db'}"], env
        )
        _, _, floor_output = measured(
            [sys.executable, "-c", FLOOR, str(var / "warehouse.db"), str(root / "floor.db")], env
        )
        floor_s = float(floor_output.split()[-1])
        for label, seconds, peak in (("ours (etl run, SQLite)", ours_s, ours_mb), ("pandas", pandas_s, pandas_mb)):
            print(f"{label:<24} {ROWS / seconds:>9,.0f} rows/s  {seconds:6.1f} s  peak {peak:6.0f} MB")
        print(f"  {summary}")
        print(f"ratio: {pandas_s / ours_s:.2f}× the pandas path's speed (≥ 1); peak RSS {ours_mb:.0f} MB (≤ 500)")
        print(
            f"floor: SQLite alone inserting what ours stored (cases and rollups, the warehouse's indexes) "
            f"{floor_s:.1f} s = {floor_s / pandas_s:.2f}× pandas' whole path, {floor_s / ours_s:.2f} of ours"
        )


if __name__ == "__main__":
    main()
