"""What every `ruralbrain` command shares: the warehouse engine, the deployment's feeds, a child process's
environment, and a run described in one line."""

from __future__ import annotations

import os
from pathlib import Path

import click

from etl.warehouse.settings import Settings


def engine(settings: Settings, *, existing: bool = False):
    """The warehouse's engine, migrated to the newest schema. ``existing``: a ClickException for a warehouse that
    is not there yet, for commands that only look at one (a mistyped VAR_DIR must not get a new empty one)."""
    from etl.warehouse.db import MigrationRefused, has_schema, make_engine, masked_url, migrate, warehouse_file

    path = warehouse_file(settings.warehouse_url)
    if existing and path is not None and not path.exists():  # before make_engine, which creates the file
        raise click.ClickException(f"数据仓库 {path} 不存在（VAR_DIR 或 WAREHOUSE_URL 写错了？）；{CREATE_WAREHOUSE}")
    warehouse = make_engine(settings.warehouse_url)
    if existing and path is None and not has_schema(warehouse):
        warehouse.dispose()
        shown = masked_url(settings.warehouse_url)
        raise click.ClickException(f"数据仓库 {shown} 还没有任何数据表（WAREHOUSE_URL 写错了？）；{CREATE_WAREHOUSE}")
    try:
        migrate(warehouse)
    except MigrationRefused as refused:  # the county's data decides: no traceback, what to do
        warehouse.dispose()
        raise click.ClickException(f"数据仓库无法升级到最新结构：{refused}") from None
    return warehouse


CREATE_WAREHOUSE = (
    "新建数据仓库请用 ruralbrain demo（示范县）、ruralbrain geo import 区划代码.csv（本县区划）"
    "或 ruralbrain migrate（空的数据仓库）"
)


def feeds(settings: Settings) -> dict:
    """The deployment's feeds (FEEDS_FILE, default the demo's), or a ClickException naming what is wrong."""
    from etl.demo.build import DEMO_DIR
    from etl.feeds import FeedConfigError, load_feeds

    path = Path(settings.feeds_file) if settings.feeds_file else DEMO_DIR / "feeds.toml"
    try:
        return load_feeds(path, {"var_dir": settings.var_dir, "sim_port": str(settings.sim_port)})
    except FeedConfigError as error:
        raise click.ClickException(str(error)) from None


def pick(all_feeds: dict, names: tuple[str, ...]) -> list:
    """The named feeds (all when none is named); a ClickException for a name that is not a feed."""
    unknown = [name for name in names if name not in all_feeds]
    if unknown:
        raise click.ClickException(f"没有这些数据源：{'、'.join(unknown)}；已有：{'、'.join(sorted(all_feeds))}")
    return [all_feeds[name] for name in names] if names else list(all_feeds.values())


def describe(report) -> str:
    """A run in one line: rows in = loaded + duplicates + quarantined, and what was passed over or failed."""
    c = report.counts
    counted = f"导入 {c.loaded} + 重复 {c.duplicates} + 隔离 {c.quarantined}（迟到 {c.late}）"
    line = f"{report.feed}：输入 {c.rows_in} 行 = {counted}"
    if c.skipped:
        line += f"，另有 {c.skipped} 行标题/合计/签名未导入"
    return line + (f"；错误：{report.error}" if report.error else "")


def environment(settings: Settings) -> dict[str, str]:
    """This process's environment with every setting in it, for a child process of the same deployment."""
    chosen = {name.upper(): str(value) for name, value in settings.__dict__.items() if value is not None}
    return {**os.environ, **chosen}
