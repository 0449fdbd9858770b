"""`ruralbrain etl …`: run the feeds, watch them, see their state, look at and retry what they quarantined, verify
the rollups against the raw rows, and forget the state of feeds the feeds file no longer declares."""

from __future__ import annotations

import gc
import sys
import time

import click

from etl.cli_context import describe, engine, environment, feeds, pick
from etl.warehouse.settings import Settings

# Young objects collected every 100,000 allocations instead of 700: a load makes and frees a dict per row, and
# each collection walked them (a 300,000-row file: 15.1/14.9 s → 13.7/13.7 s). Rows are freed by reference
# counting; what a collection is for (cycles) a load hardly makes.
LOAD_GC_THRESHOLD = 100_000


@click.group("etl")
def COMMAND() -> None:  # noqa: N802 - the name the command registry looks for
    """数据源（Feeds）：运行、查看状态、查看并重试隔离的行、核对汇总、清除已停用数据源的状态。"""
    gc.set_threshold(LOAD_GC_THRESHOLD, *gc.get_threshold()[1:])


class Progress:
    """Progress of a run as its batches commit. On a terminal one line redrawn in place: rows, rows/s and,
    where the source knows how far it is (files), a bar with the share done and the time left; in a log, a
    plain line per batch."""

    def __init__(self, name: str, terminal: bool | None = None):
        self.name, self.started, self.batches = name, time.monotonic(), 0
        self.terminal = sys.stderr.isatty() if terminal is None else terminal

    def __call__(self, counts, batch) -> None:
        self.batches += 1
        elapsed = max(time.monotonic() - self.started, 1e-6)
        line = f"{self.name}：{counts.rows_in:,} 行 · {self.batches} 批 · {counts.rows_in / elapsed:,.0f} 行/秒"
        if batch.progress:
            done, total = batch.progress
            share = min(done / total, 1.0)
            left = elapsed * (1 - share) / share if share > 0 else None
            eta = f" · 剩余约 {_clock(left)}" if left is not None and share < 1 else ""
            bar = "█" * int(share * 20) + "░" * (20 - int(share * 20))
            line = f"{line} · {bar} {share:5.1%}{eta}" if self.terminal else f"{line} · {share:.0%}{eta}"
        if self.terminal:
            click.echo(f"\r  {line}\033[K", err=True, nl=False)
        else:
            click.echo(f"  · {line}", err=True)

    def done(self) -> None:
        if self.terminal and self.batches:
            click.echo("", err=True)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


@COMMAND.command("run")
@click.argument("names", nargs=-1)
@click.option("--strict", is_flag=True, help="有行被隔离或文件失败时以状态 1 退出。")
@click.pass_obj
def run(settings: Settings, names: tuple[str, ...], strict: bool) -> None:
    """运行数据源（不指定则全部），从各自的水位线继续；有失败则以状态 1 退出。"""
    from etl.feed_lock import FeedBusy
    from etl.feeds import FeedConfigError
    from etl.runner import WarehouseUnavailable, feed_source, run_feed

    chosen = pick(feeds(settings), names)
    try:
        warehouse = loading_warehouse(settings)
    except click.ClickException:
        for feed in chosen:  # what is wrong with a feed's own settings is said too: both need fixing
            try:
                feed_source(feed)
            except FeedConfigError as error:
                click.echo(f"{feed.name}：未运行：{error}", err=True)
        raise
    failed = quarantined = False
    for feed in chosen:
        progress = Progress(feed.name)
        try:
            report = run_feed(warehouse, feed, late_hours=settings.late_hours, progress=progress)
        except FeedConfigError as error:  # this feed cannot run; the others still do
            progress.done()
            click.echo(f"{feed.name}：未运行：{error}", err=True)
            failed = True
            continue
        except FeedBusy as busy:  # not a failure: the other process is loading it (a cron overlapping a watch)
            progress.done()
            click.echo(f"{feed.name}：{busy}", err=True)
            continue
        except WarehouseUnavailable as error:  # before the run could start
            progress.done()
            click.echo(f"{feed.name}：未运行：{error}", err=True)
            failed = True
            continue
        progress.done()
        for note in report.notes:
            click.echo(f"  注意：{note}", err=True)
        for issue in report.issues[:20]:
            click.echo(f"  隔离：{issue}", err=True)
        if report.counts.quarantined > 20:
            more = report.counts.quarantined - 20
            click.echo(f"  … 另有 {more} 行被隔离（ruralbrain etl quarantine list --feed {feed.name}）", err=True)
        click.echo(describe(report))
        failed = failed or bool(report.error)
        quarantined = quarantined or bool(report.counts.quarantined)
    if failed or (strict and quarantined):
        sys.exit(1)


def loading_warehouse(settings: Settings):
    """The warehouse `etl run` and `etl watch` load into: a ClickException naming it when it does not exist or holds
    no regions. A mistyped VAR_DIR made `etl watch` create an empty warehouse, take over the sensors' MQTT session and
    acknowledge the readings queued for the real one into it, every one quarantined as from an unknown device."""
    from sqlalchemy import select

    from etl.cli_context import CREATE_WAREHOUSE
    from etl.warehouse.db import masked_url, warehouse_file
    from etl.warehouse.schema import regions

    warehouse = engine(settings, existing=True)
    with warehouse.connect() as connection:
        some = connection.execute(select(regions.c.code).limit(1)).first()
    if some is None:
        warehouse.dispose()
        shown = warehouse_file(settings.warehouse_url) or masked_url(settings.warehouse_url)
        raise click.ClickException(
            f"数据仓库 {shown} 中没有任何区划（VAR_DIR 或 WAREHOUSE_URL 写错了？）：数据源的每一行都要落到区划上，"
            f"导入不了任何数据，本次未运行，也没有从来源（MQTT 代理、投递目录）取走任何数据；{CREATE_WAREHOUSE}"
        )
    return warehouse


@COMMAND.command("status")
@click.pass_obj
def status(settings: Settings) -> None:
    """每个数据源：最近一次运行、各项计数、数据是否按期送达（本地时间）；数据源文件中已没有的另列为已停用。"""
    from etl.status import HEADER, feed_status, retired_status

    declared, warehouse = feeds(settings), engine(settings, existing=True)
    rows = [state.row() for state in feed_status(warehouse, declared)]
    retired = [state.row() for state in retired_status(warehouse, declared)]
    table = [HEADER] + [tuple("" if v is None else str(v) for v in row) for row in rows + retired]
    widths = [max(_width(row[i]) for row in table) for i in range(len(HEADER))]
    for number, row in enumerate(table):
        if retired and number == len(rows) + 1:
            click.echo(
                "已停用（数据源文件中已没有，数据仓库仍保留其状态，不再算作滞后；"
                "确认不再使用后可用 ruralbrain etl feeds retire 名称 清除）："
            )
        click.echo(
            "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _width(text: str) -> int:
    """Columns a text takes on a terminal: a Chinese character takes two."""
    return sum(2 if ord(character) > 0x2E7F else 1 for character in text)


@COMMAND.group("feeds")
def feeds_group() -> None:
    """数据源文件中已删除的数据源（已停用）：清除它们留在数据仓库中的状态。"""


@feeds_group.command("retire")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def feeds_retire(settings: Settings, names: tuple[str, ...]) -> None:
    """清除已停用数据源（数据源文件中已没有）的水位线、新鲜度和运行记录；它导入的数据和隔离的行保留。"""
    from etl.feed_lock import FeedBusy
    from etl.status import forget_feed, retired_feeds

    declared, warehouse = feeds(settings), engine(settings, existing=True)
    with warehouse.connect() as connection:
        retired = retired_feeds(connection, declared)
    refused = False
    for name in names:
        if name in declared:
            click.echo(f"{name}：仍在数据源文件中，未清除（先从数据源文件中删除它，再重启 etl watch）", err=True)
            refused = True
        elif name not in retired:
            listed = "、".join(retired) or "无"
            click.echo(f"{name}：数据仓库中没有这个数据源的状态（已停用的数据源：{listed}）", err=True)
            refused = True
        else:
            try:
                gone = forget_feed(warehouse, name)
            except FeedBusy:
                click.echo(
                    f"{name}：有进程正在运行这个数据源（用旧数据源文件启动的 etl watch？），未清除；重启它后再试",
                    err=True,
                )
                refused = True
                continue
            retired.remove(name)
            state = "水位线、" if gone.state else ""
            click.echo(
                f"{name}：已清除其状态（{state}{gone.regions} 个区划的新鲜度、{gone.runs} 条运行记录）；"
                "它导入的数据和隔离的行保留"
            )
    if refused:
        sys.exit(1)


@COMMAND.group("quarantine")
def quarantine_group() -> None:
    """数据源未能导入的行，连同原因一起保存。"""


@quarantine_group.command("list")
@click.option("--feed", help="只看这个数据源（或导入来源）。")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="最多列出的隔离行数（最新的在前）。"
)
@click.pass_obj
def quarantine_list(settings: Settings, feed: str | None, limit: int) -> None:
    """最近被隔离的行：来自哪里、哪个字段、什么原因。"""
    from sqlalchemy import select

    from etl.runner import local_text
    from etl.warehouse.db import as_utc
    from etl.warehouse.schema import quarantine

    query = select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
    if feed:
        query = query.where(quarantine.c.source == feed)
    with engine(settings, existing=True).connect() as connection:
        listed = connection.execute(query).all()
        everywhere = select(quarantine.c.source).distinct()
        sources = [] if listed or not feed else list(connection.execute(everywhere).scalars())
    for row in listed:
        retried = "（已重试）" if row.retried_at else ""
        field = f"，字段「{row.field}」" if row.field else ""
        when = local_text(as_utc(row.created_at))
        click.echo(f"{row.source}：{row.location}{field}：{row.reason}{retried} [{when}]")
    if listed:
        return
    if not feed:
        click.echo("没有被隔离的行")
        return
    declared = feeds(settings)
    if feed in declared:
        click.echo(f"数据源 {feed} 没有被隔离的行")
        return
    # A mistyped name listed nothing, as if its feed had loaded everything.
    others = "、".join(sources) or "无"
    raise click.ClickException(
        f"没有这个数据源，也没有来自它的隔离行：{feed}（数据源：{'、'.join(sorted(declared))}；有隔离行的来源：{others}）"
    )


@quarantine_group.command("retry")
@click.argument("names", nargs=-1)
@click.pass_obj
def quarantine_retry(settings: Settings, names: tuple[str, ...]) -> None:
    """重新校验数据源被隔离的行，例如导入了缺少的区划之后。"""
    from etl.feed_lock import FeedBusy
    from etl.runner import WarehouseUnavailable, retry_quarantine

    warehouse = engine(settings, existing=True)
    undone = False
    for feed in pick(feeds(settings), names):
        try:
            report = retry_quarantine(warehouse, feed, late_hours=settings.late_hours)
        except (FeedBusy, WarehouseUnavailable) as error:
            click.echo(f"{feed.name}：{error}；请稍后再重试", err=True)
            undone = True
            continue
        click.echo(describe(report))
        undone = undone or bool(report.error)  # stopped part-way (its lock lost, the warehouse gone): rolled back
    if undone:
        sys.exit(1)  # the operator asked for a retry that did not happen


@COMMAND.command("verify")
@click.option(
    "--days", default=7, show_default=True, type=click.IntRange(1, 1000), help="核对最近几天（本地日，1–1000）的汇总。"
)
@click.option("--repair", is_flag=True, help="用从原始行重算的汇总替换不一致的汇总。")
@click.pass_obj
def verify(settings: Settings, days: int, repair: bool) -> None:
    """从原始行重算最近几天的汇总，与现有汇总逐条比较；--repair 修复差异。有差异且未修复时以状态 1 退出。"""
    from etl.runner import local_text
    from etl.verify import verify_rollups

    found = verify_rollups(engine(settings, existing=True), days=days, repair=repair)
    click.echo(f"核对 {local_text(found.start)} 至 {local_text(found.end)} 的汇总：{found.compared} 条")
    if found.history_until:
        firsts = "、".join(f"{name} 自 {local_text(first)}" for name, first in sorted(found.history_until.items()))
        click.echo(
            "  原始明细开始之前的汇总是没有明细的历史（导入的统计、示范数据的往年），不核对；有这种历史时，明细开始"
            f"那一天的日汇总也不核对（它的小时汇总照常核对）：{firsts}"
        )
    for name, count in sorted(found.without_rows.items()):
        click.echo(f"  {name} 没有任何原始行，它在窗口内的 {count} 条汇总无从重算，未核对（只有历史，或原始行已删除）")
    for difference in found.differences[:50]:
        grain, bucket, region, measure, dimension = difference.key
        kept, again = difference.kept, difference.recomputed
        click.echo(
            f"  {grain} {local_text(bucket)} {region} {measure}{'/' + dimension if dimension else ''}："
            f"现有 {kept[0]} 条、合计 {kept[1]:g}，重算 {again[0]} 条、合计 {again[1]:g}"
        )
    if len(found.differences) > 50:
        click.echo(f"  … 另有 {len(found.differences) - 50} 处差异")
    if not found.differences:
        click.echo("汇总与原始行一致")
    elif found.repaired:
        click.echo(f"已修复 {len(found.differences)} 处差异")
    else:
        click.echo(f"发现 {len(found.differences)} 处差异（加 --repair 修复）")
        sys.exit(1)


@COMMAND.command("watch")
@click.argument("names", nargs=-1)
@click.pass_obj
def watch(settings: Settings, names: tuple[str, ...]) -> None:
    """按各自的周期运行数据源（MQTT 数据源取完代理中的消息），直到 SIGTERM 或 Ctrl-C。"""
    import signal
    import subprocess
    import threading

    from etl.alerts.errors import AlertConfigError
    from etl.alerts.service import configured
    from etl.feeds import worker_number
    from etl.status import duration_text
    from etl.warehouse.accounts import AUDIT_LEAST_DAYS
    from etl.watch import watch as watch_feeds

    if settings.audit_keep_days < AUDIT_LEAST_DAYS:
        raise click.ClickException(f"AUDIT_KEEP_DAYS 至少为 {AUDIT_LEAST_DAYS}（审计日志至少保存六个月）")
    try:  # read before anything starts: a mistake in the alerts file is named, not a traceback
        configured(settings)
    except AlertConfigError as error:
        raise click.ClickException(f"告警配置有误：{error}") from None
    warehouse = loading_warehouse(settings)  # before any feed takes its MQTT session or files
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    declared = feeds(settings)
    chosen = pick(declared, names)
    # Unless feeds were named, every MQTT worker after a feed's first gets a process of its own: one process
    # is bound by paho and the GIL, so workers in one would only take turns. They stop when this one does.
    spread = [] if names else [feed for feed in chosen if worker_number(feed.name) > 1]
    chosen = [feed for feed in chosen if feed not in spread]
    command = [sys.executable, "-m", "etl.cli", "etl", "watch"]
    children = [subprocess.Popen([*command, feed.name], env=environment(settings)) for feed in spread]
    others = f"（另有 {len(children)} 个 MQTT 工作进程）" if children else ""
    click.echo(f"正在运行 {len(chosen)} 个数据源{others}；SIGTERM 或 Ctrl-C 在当前批次完成后停止")

    def report(result) -> None:
        # A poll that found only rows already loaded (a SQL feed reads its boundary row again each time) is
        # logged in feed_runs, not printed: the terminal shows what changed.
        counts = result.counts
        if counts.loaded or counts.quarantined or counts.skipped or result.error or result.notes:
            lag = f"，延迟 {duration_text(result.lag_seconds)}" if result.lag_seconds is not None else ""
            click.echo(describe(result) + lag)

    def error(feed, problem) -> None:
        from etl.feeds import FeedConfigError
        from etl.runner import WarehouseUnavailable

        said = problem if isinstance(problem, FeedConfigError | WarehouseUnavailable) else None  # already Chinese
        click.echo(f"{feed.name}：运行失败：{said or f'{type(problem).__name__}: {problem}'}", err=True)

    try:
        watch_feeds(
            warehouse,
            chosen,
            stop,
            late_hours=settings.late_hours,
            on_report=report,
            on_error=error,
            audit_keep_days=settings.audit_keep_days,
            uploads_dir=settings.uploads_dir,
            declared=set(declared),  # every feed of the file, not only those this process runs
        )
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()  # its batch in flight is rolled back and comes again from the broker
    click.echo("已停止")
