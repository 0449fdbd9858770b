"""What every `ruralbrain` command shares: the warehouse engine, the deployment's feeds, a child process's
environment, and a run described in one line."""

from __future__ import annotations

import os
from pathlib import Path

import click

from etl.warehouse.settings import Settings


def engine(settings: Settings):
    """The warehouse's engine, migrated to the newest schema."""
    from etl.warehouse.db import make_engine, migrate

    warehouse = make_engine(settings.warehouse_url)
    migrate(warehouse)
    return warehouse


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
