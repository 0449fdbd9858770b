"""A cases feed over a drop folder, as a county's export names its columns (编号, 村代码, 受理时间, 类别, 状态)."""

from __future__ import annotations

from pathlib import Path

from etl.feeds import Feed, load_feeds

FEEDS = """
[feeds.cases]
dataset = "cases"
cadence = "1h"
[feeds.cases.source]
type = "file"
path = "{drops}"
settle_seconds = 0
batch_rows = {batch_rows}
[feeds.cases.mapping]
case_id = "编号"
region_code = "村代码"
event_time = "受理时间"
category = "类别"
module = "=综合"
status = "状态"
"""
HEADER = "编号,村代码,受理时间,类别,状态"


def cases_feeds_file(folder: Path, batch_rows: int = 20000) -> Path:
    """feeds.toml in ``folder`` declaring the cases feed over ``folder``/drops (made here)."""
    drops = folder / "drops"
    drops.mkdir(exist_ok=True)
    path = folder / "feeds.toml"
    path.write_text(FEEDS.format(drops=drops, batch_rows=batch_rows), encoding="utf-8")
    return path


def cases_feed(folder: Path, batch_rows: int = 20000) -> Feed:
    """The cases feed of ``cases_feeds_file``."""
    return load_feeds(cases_feeds_file(folder, batch_rows))["cases"]
