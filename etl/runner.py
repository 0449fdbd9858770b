"""A feed run: extract from the watermark, validate, quarantine, upsert, roll up, bump the version, log the run."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import itemgetter

import orjson
import psycopg
from sqlalchemy import Connection, Engine, delete, insert, select, tuple_, update

from etl.columns import cleaned_column
from etl.database_trouble import (  # noqa: F401 - WarehouseUnavailable and ROW_ERRORS are imported from here too
    ROW_ERRORS,
    UNAVAILABLE,
    WarehouseUnavailable,
    described,
    unavailable,
    unavailable_text,
    unreachable_text,
)
from etl.dataset import BEIJING, Dataset, Invalid
from etl.datasets import datasets
from etl.feed_lock import Confirm, FeedBusy, FeedLockLost, feed_lock
from etl.feeds import Feed, FeedConfigError
from etl.load import upsert_counting
from etl.quarantine import record_issues, unseen
from etl.rollups import bucket_columns, update_rollups
from etl.sources import source_columns, source_from_config
from etl.sources.base import UNCACHED_FORMULA, Batch, Record, SourceError
from etl.upsert import upsert
from etl.warehouse.db import as_utc, bump_version
from etl.warehouse.schema import devices, feed_freshness, feed_runs, feed_state, quarantine, regions
from geo.codes import CodeError, normalize_code
from geo.issues import LABELS, Issue

# A run keeps this many of its Issues for the operator's screen; every one of them is in the quarantine table.
KEPT_ISSUES = 200
# Runs kept per feed, the newest: `etl watch` writes one per poll, a sensor feed's every few seconds (about
# 17,000 a day), and only the last run and the last lag are read (etl status). Older runs are deleted as new ones
# finish; what they loaded stays.
KEPT_RUNS = 10_000
# A feed's runs in this process between trims (its first run trims: a cron's `etl run` every time): finding a
# feed's 10,000th run reads that many index entries, and `etl watch` finishes a run every few seconds.
TRIM_EVERY = 100
_untrimmed: Counter = Counter()  # feed → runs finished in this process since it was last trimmed
# Runs of this process whose end could not be logged (the warehouse was unavailable): (warehouse, run id) → (report,
# end).
_unlogged: dict[tuple[str, int], tuple] = {}
# A reading older than this is refused even on a feed's first load, where LATE_HOURS does not apply yet (it counts
# from the newest reading loaded): a device whose clock was never set reports 1970, and its readings made rollups
# in 1969/1970. A year of history still loads on a first run.
OLDEST_READING = timedelta(days=400)
RETRY_CHUNK = 500  # quarantine ids per statement when a retry marks them (SQLite's parameter limit)
# While a stop may be asked for (`etl watch`), a batch waits for another writer's lock in steps this long and sees
# whether to stop between them: SQLite's busy timeout of 30 s (and PostgreSQL's wait without end) kept a watch
# asked to stop 26 s in a flood while another process held the write lock. The batch is rolled back and tried
# again after each step, for as long as SQLite waited before (PostgreSQL: until stopped); stopped, it is not
# acknowledged and its messages come again.
LOCK_STEP_SECONDS = 0.25
SQLITE_BUSY_SECONDS = 30.0  # the busy timeout of the warehouse's SQLite connections (etl/warehouse/db.py)


HOST = socket.gethostname()


@dataclass
class RunCounts:
    """What a run did; always rows_in == loaded + duplicates + quarantined. ``skipped`` rows are not data
    (titles above a header, 合计 and 制表人 footers) and are not in rows_in."""

    rows_in: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    late: int = 0
    skipped: int = 0

    def add(self, other: RunCounts) -> None:
        """Add another batch's counts to these."""
        for name in ("rows_in", "loaded", "duplicates", "quarantined", "late", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RunReport:
    """The outcome of one run of one feed."""

    feed: str
    run_id: int
    counts: RunCounts = field(default_factory=RunCounts)
    error: str | None = None
    issues: list[Issue] = field(default_factory=list)  # the first KEPT_ISSUES; counts.quarantined has them all
    notes: list[str] = field(default_factory=list)  # what the run noticed about its files, for the operator
    version: int | None = None
    lag_seconds: float | None = None  # commit time minus the newest event of the last batch (live feeds)


@dataclass
class _Context:
    """What validating a batch needs to know besides the rows."""

    feed: Feed
    dataset: Dataset
    run_id: int
    now: datetime
    late_window: timedelta
    regions: set[str]
    device_regions: dict[str, str]
    high_water: datetime | None
    newest_in_batch: datetime | None = None
    files: dict[str, Counter] = field(default_factory=dict)  # per file: rows by outcome and issue kind
    plan: _Plan | None = None
    # Whether an issue already in the quarantine counts as a duplicate (a row read again); a retry re-quarantines.
    known_issues_are_duplicates: bool = True
    # Reads the device registry again: a run lasts (an `etl watch` MQTT run a minute) while the devices feed
    # registers new devices. Read at most once a batch, on the first reading of a device not known yet.
    read_devices: Callable[[], dict[str, str]] | None = None
    devices_reread: bool = False
    # Set for a batch of messages (not a file) loaded again after an error neither validation nor the database
    # named: each record is checked alone and a record whose processing raises is quarantined with the error.
    guarded: bool = False
    stop: threading.Event | None = None  # `etl watch`'s: set, a batch waiting for a lock gives up

    def __post_init__(self) -> None:
        self.plan = _Plan.of(self.feed, self.dataset)

    def device_region(self, device_id: str) -> str | None:
        """The region of a registered device, or None; the registry is read again once a batch on a miss."""
        region = self.device_regions.get(device_id)
        if region is None and self.read_devices is not None and not self.devices_reread:
            self.devices_reread = True
            self.device_regions = self.read_devices()
            region = self.device_regions.get(device_id)
        return region


INTERRUPTED = "进程在运行中结束（被终止或崩溃），已提交的批次保留，下次运行从断点继续"


def process_alive(host: str | None, pid: int | None) -> bool | None:
    """Whether the process that started a run still runs: True or False on this host, None elsewhere (a
    process on another host cannot be asked)."""
    if host != HOST or not pid:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def mark_interrupted(connection: Connection, feed: str | None = None, now: datetime | None = None) -> int:
    """Mark as interrupted the runs left "running" whose process has ended (of one feed, or all); the number."""
    query = select(feed_runs.c.id, feed_runs.c.host, feed_runs.c.pid).where(feed_runs.c.status == "running")
    if feed is not None:
        query = query.where(feed_runs.c.feed == feed)
    dead = [row.id for row in connection.execute(query) if process_alive(row.host, row.pid) is False]
    if dead:
        connection.execute(
            update(feed_runs)
            .where(feed_runs.c.id.in_(dead))
            .values(status="interrupted", error=INTERRUPTED, finished_at=now or datetime.now(UTC))
        )
    return len(dead)


def _start_run(engine: Engine, feed: Feed, now: datetime, stop: threading.Event | None = None) -> int:
    """The new run's id; asked to stop meanwhile, it does not wait out another writer's lock."""
    logged: list[tuple[str, int]] = []  # runs of this process logged at last: forgotten once this commits
    run_id = patiently(engine, stop, partial(_log_start, engine, feed, now, logged))
    for key in logged:
        _unlogged.pop(key, None)
    return run_id


def _log_start(engine: Engine, feed: Feed, now: datetime, logged: list, connection: Connection) -> int:
    """The run's row, "running"; the feed's runs left "running" by a process gone are marked interrupted."""
    # A run of this feed still "running" whose process is gone was killed: it committed nothing past its
    # last batch, so say so. One on another host, or without a process, is taken as ended too: this run
    # is about to do its work.
    for row in connection.execute(
        select(feed_runs.c.id, feed_runs.c.host, feed_runs.c.pid).where(
            feed_runs.c.feed == feed.name, feed_runs.c.status == "running"
        )
    ).all():
        if (str(engine.url), row.id) in _unlogged:
            _log_finish(connection, *_unlogged[(str(engine.url), row.id)])
            logged.append((str(engine.url), row.id))
        elif process_alive(row.host, row.pid) is not True:
            connection.execute(
                update(feed_runs)
                .where(feed_runs.c.id == row.id)
                .values(status="interrupted", error=INTERRUPTED, finished_at=now)
            )
    return connection.execute(
        insert(feed_runs)
        .values(
            feed=feed.name,
            started_at=now,
            status="running",
            rows_in=0,
            loaded=0,
            duplicates=0,
            quarantined=0,
            late=0,
            skipped=0,
            host=HOST,
            pid=os.getpid(),
        )
        .returning(feed_runs.c.id)
    ).scalar_one()


def _read_state(connection: Connection, feed: str) -> tuple[str | None, datetime | None]:
    """The feed's watermark and the newest event time it has loaded (its high-water mark)."""
    row = connection.execute(select(feed_state.c.watermark).where(feed_state.c.feed == feed)).first()
    high = connection.execute(
        select(feed_freshness.c.last_event_time)
        .where(feed_freshness.c.feed == feed)
        .order_by(feed_freshness.c.last_event_time.desc())
        .limit(1)
    ).scalar()
    return (row.watermark if row else None), (high.replace(tzinfo=UTC) if high and high.tzinfo is None else high)


def run_feed(
    engine: Engine,
    feed: Feed,
    *,
    late_hours: float = 48,
    now: Callable[[], datetime] | None = None,
    progress: Callable[[RunCounts, Batch], None] | None = None,
    stop: threading.Event | None = None,
) -> RunReport:
    """Run a feed from its watermark to the end of what its source has now; each batch commits on its own.
    ``stop``, once set, ends the run after the batch in progress (an MQTT flood never runs dry). Raises FeedBusy,
    without starting, while another process runs the feed."""
    with _alone(engine, feed.name) as confirm:
        return _run_source(engine, feed, late_hours=late_hours, now=now, progress=progress, stop=stop, confirm=confirm)


@contextmanager
def _alone(engine: Engine, name: str) -> Iterator[Confirm]:
    """The feed's lock for the block (etl/feed_lock.py), yielding its check before each commit; FeedBusy names the
    run that holds it."""
    with ExitStack() as held:
        try:
            confirm = held.enter_context(feed_lock(engine, name))
        except FeedBusy:
            raise FeedBusy(f"另一个进程正在运行数据源 {name}{_holder(engine, name)}，本次未运行") from None
        except Exception as error:  # PostgreSQL's lock is taken on a connection: the warehouse may not answer
            if not unavailable(error):
                raise
            raise WarehouseUnavailable(unreachable_text(error)) from None
        yield confirm


def _holder(engine: Engine, name: str) -> str:
    """（主机 …，进程 …，… 开始） of the feed's newest running run, or nothing when none is logged yet (or the
    warehouse does not answer)."""
    try:
        with engine.connect() as connection:
            row = _newest_running(connection, name)
    except Exception as error:
        if not unavailable(error):
            raise
        return ""
    if row is None:
        return ""
    return f"（主机 {row.host}，进程 {row.pid}，{local_text(as_utc(row.started_at))} 开始）"


def _newest_running(connection: Connection, name: str):
    """The feed's newest run still "running" (host, pid, started_at), or None."""
    return connection.execute(
        select(feed_runs.c.host, feed_runs.c.pid, feed_runs.c.started_at)
        .where(feed_runs.c.feed == name, feed_runs.c.status == "running")
        .order_by(feed_runs.c.id.desc())
        .limit(1)
    ).first()


def feed_source(feed: Feed):
    """The source a feed's [source] declares (connecting to nothing yet), or FeedConfigError saying what is wrong."""
    try:
        return source_from_config(
            feed.source, feed.base_dir, columns=source_columns(feed.mapping), future_tolerance=feed.future_tolerance
        )
    except (ValueError, TypeError) as error:  # a setting of its [source]: a missing variable, a bad number
        raise FeedConfigError(f"数据源 {feed.name} 的来源设置有误：{error}") from None
    except KeyError as error:
        raise FeedConfigError(f"数据源 {feed.name} 的来源设置缺少 {error}") from None


def _run_source(engine, feed, *, late_hours, now, progress, stop, confirm) -> RunReport:
    """run_feed's work, under the feed's lock."""
    source = feed_source(feed)
    try:
        return _run(
            engine, feed, source.batches, late_hours=late_hours, now=now, progress=progress, stop=stop, confirm=confirm
        )
    finally:
        close = getattr(source, "close", None)
        if close:
            close()


def retry_quarantine(engine: Engine, feed: Feed, *, late_hours: float = 48, now=None) -> RunReport:
    """Validate a feed's quarantined rows again (e.g. after the missing regions were imported) as one run."""
    # Locked before reading them: two retries at once would both keep the failing rows.
    with _alone(engine, feed.name) as confirm:
        return _retry(engine, feed, late_hours=late_hours, now=now, confirm=confirm)


def _retry(engine: Engine, feed: Feed, *, late_hours: float, now, confirm: Confirm) -> RunReport:
    """retry_quarantine's work, under the feed's lock."""
    waiting = (quarantine.c.source == feed.name, quarantine.c.retried_at.is_(None), quarantine.c.raw.is_not(None))
    with engine.connect() as connection:
        kept = connection.execute(
            select(quarantine.c.id, quarantine.c.location, quarantine.c.raw).where(*waiting)
        ).all()
    ids = [row.id for row in kept]
    records = [Record(row.location, orjson.loads(row.raw)) for row in kept]

    def mark_retried(connection: Connection, moment: datetime) -> None:
        # A row that failed again for the same reason is in the quarantine anew: its earlier copy goes, or every
        # retry would add the same rows once more. One that failed otherwise keeps its first reason (a message
        # that was no JSON object is "missing column" as a record); one that loaded keeps its entry. Both are
        # marked retried.
        again = select(quarantine.c.raw, quarantine.c.reason).where(
            quarantine.c.source == feed.name, quarantine.c.id > max(ids, default=0)
        )
        for start in range(0, len(ids), RETRY_CHUNK):
            part = quarantine.c.id.in_(ids[start : start + RETRY_CHUNK])
            connection.execute(delete(quarantine).where(part, tuple_(quarantine.c.raw, quarantine.c.reason).in_(again)))
            connection.execute(update(quarantine).where(part).values(retried_at=moment))

    batches = lambda _watermark: iter([Batch(records, [], None)] if records else [])  # noqa: E731
    return _run(
        engine,
        feed,
        batches,
        late_hours=late_hours,
        now=now,
        in_transaction=mark_retried,
        retrying=True,
        confirm=confirm,
    )


def _run(
    engine,
    feed,
    batches,
    *,
    late_hours,
    now,
    confirm: Confirm,
    progress=None,
    in_transaction=None,
    stop=None,
    retrying=False,
) -> RunReport:
    """Load each batch in its own transaction with the run's bookkeeping; a failing batch leaves no trace."""
    clock = now or (lambda: datetime.now(UTC))
    dataset = datasets()[feed.dataset]
    try:
        report = RunReport(feed.name, _start_run(engine, feed, clock(), stop))
    except Exception as error:
        if not unavailable(error):
            raise
        raise WarehouseUnavailable(unavailable_text(error)) from None  # there is no run to log it in
    try:
        _load_batches(
            engine, feed, dataset, batches, report, clock, late_hours, progress, in_transaction, stop, retrying, confirm
        )
    except (SourceError, FeedLockLost) as error:
        report.error = str(error)
    except Exception as error:
        if not unavailable(error):
            report.error = f"{type(error).__name__}: {error}"
            _finish_run(engine, report, clock(), stop)
            raise
        report.error = unavailable_text(error)
    try:
        _finish_run(engine, report, clock(), stop)
    except Exception as error:
        if not unavailable(error):
            raise
        # Still unavailable: the feed's next run in this process logs how this one ended (`etl watch` lives on;
        # another process marks it interrupted).
        _unlogged[(str(engine.url), report.run_id)] = (report, clock())
        if not report.error:
            report.notes.append(f"运行已完成，但没能记入运行日志{described(error)}；下次运行时补记")
    return report


def _device_regions(connection: Connection) -> dict[str, str]:
    """Every registered device's region code."""
    return dict(connection.execute(select(devices.c.device_id, devices.c.region_code)).all())


def _read_device_regions(engine: Engine) -> dict[str, str]:
    """The device registry as it is now, read on a connection of its own (the batch's may be writing)."""
    with engine.connect() as connection:
        return _device_regions(connection)


def _load_batches(
    engine, feed, dataset, batches, report, clock, late_hours, progress, in_transaction, stop, retrying, confirm
):
    """Every batch of the source into the warehouse, each in its own transaction; report is kept current."""
    with engine.connect() as connection:
        watermark, high_water = _read_state(connection, feed.name)
        known = set(connection.execute(select(regions.c.code)).scalars())
        device_regions = _device_regions(connection)
    context = _Context(
        feed, dataset, report.run_id, clock(), timedelta(hours=late_hours), known, device_regions, high_water
    )
    context.known_issues_are_duplicates = not retrying
    context.stop = stop
    if dataset.region_from_device:
        context.read_devices = partial(_read_device_regions, engine)
    for batch in batches(watermark):
        context.now = clock()
        context.devices_reread = False
        try:
            counts, issues, notes, total = _commit_settling(engine, context, report, batch, in_transaction, confirm)
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt | SystemExit | FeedLockLost) or unavailable(error):
                batch.on_interrupt()  # not the input's fault: it stays for the next run (MQTT redelivers it)
            else:
                batch.on_failure()  # something in this input broke the load: set it aside, the others go on
            raise
        batch.on_commit()
        if context.newest_in_batch is not None and not dataset.future and not dataset.reference:
            report.lag_seconds = max(0.0, (clock() - context.newest_in_batch).total_seconds())
        report.counts = total
        report.issues.extend(issues[: max(0, KEPT_ISSUES - len(report.issues))])
        report.notes.extend(notes)
        if progress:
            progress(report.counts, batch)
        if stop is not None and stop.is_set():
            break  # what is left stays at its source: a file goes on from its checkpoint, MQTT keeps it


def _commit_settling(engine, context: _Context, report: RunReport, batch: Batch, in_transaction, confirm):
    """``_commit`` of a batch, tried again when a row is to blame: narrowing down to the rows the database refuses
    (the first try, without savepoints, is the common case), and for a batch of messages (MQTT, HTTP, SQL: not a
    file, which is set aside whole) that broke the load in a way neither validation nor the database named, record by
    record, quarantining the one that breaks it. Failing, that message came again from the broker forever, and
    blocked every message behind it."""
    high_water = context.high_water
    files = {name: Counter(tally) for name, tally in context.files.items()}
    narrow = False
    patience: float | None = None  # when waiting for another writer's lock ends
    try:
        while True:
            try:
                return _commit(engine, context, report, batch, in_transaction, confirm, narrow)
            except Exception as error:
                if _lock_wait(error) and context.stop is not None and not context.stop.is_set():
                    if patience is None:
                        patience = time.monotonic() + SQLITE_BUSY_SECONDS
                    if engine.dialect.name != "sqlite" or time.monotonic() < patience:
                        context.high_water, context.files = high_water, {n: Counter(t) for n, t in files.items()}
                        continue  # waited a step: again, unless asked to stop meanwhile
                if unavailable(error) or isinstance(error, FeedLockLost | WarehouseUnavailable):
                    raise
                if isinstance(error, ROW_ERRORS) and not narrow:
                    narrow = True
                elif batch.file is None and not context.guarded:
                    narrow = context.guarded = True
                else:
                    raise
            context.high_water, context.files = high_water, {n: Counter(t) for n, t in files.items()}
    finally:
        context.guarded = False


def _lock_wait(error: BaseException) -> bool:
    """Whether an error is a wait for another writer's lock cut short (SQLite busy, PostgreSQL's lock_timeout)."""
    original = getattr(error, "orig", None) or error
    if isinstance(original, sqlite3.OperationalError):
        return "locked" in str(original)
    return isinstance(original, psycopg.errors.LockNotAvailable)


@contextmanager
def _writing(engine: Engine, stop: threading.Event | None) -> Iterator[Connection]:
    """``engine.begin()``; while a stop may be asked for, a wait for another writer's lock ends after
    LOCK_STEP_SECONDS with the database's error (SQLite busy, PostgreSQL's lock_timeout), for the caller to try again
    or give up."""
    if stop is None:
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # outside the transaction, on the driver's connection: PRAGMA begins none
            connection.connection.driver_connection.execute(f"PRAGMA busy_timeout = {int(LOCK_STEP_SECONDS * 1000)}")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(LOCK_STEP_SECONDS * 1000)}ms'")
                yield connection
        finally:
            if sqlite:
                with suppress(Exception):  # a connection gone is not returned to the pool anyway
                    busy = int(SQLITE_BUSY_SECONDS * 1000)
                    connection.connection.driver_connection.execute(f"PRAGMA busy_timeout = {busy}")


def _processing_error(name: str, error: Exception) -> str:
    """The detail of a record whose processing raised an error no check names."""
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return f"{name}：处理时出错（{type(error).__name__}: {first}），这一条已隔离，其余照常导入"


# What an operator should look at when every row of a file was rejected, by the most common reason.
LIKELY_CAUSE = {
    "missing column": "映射的列名与文件表头不一致（列被改名？表头行不对？）",
    "unknown region": "区划代码列不对，或这些村还没有导入（ruralbrain geo import）",
    "bad region code": "区划代码列不对（映射到了别的列？）",
    "invalid value": "列的内容与映射的字段不符（映射错位？工作表不对？）",
    "unknown device": "设备还没有登记（设备台账的源）",
    "future time": "时间列不对，或文件的时区不是北京时间",
    "too late": "文件太旧，超出 LATE_HOURS 允许的迟到时间",
    "header not found": "表头不对、工作表不对或映射不对",
    "unreadable": "文件损坏，或不是它的扩展名所说的格式（在表格软件里另存为 CSV 或 XLSX 再放入）",
}
# Rows rejected for formulas without a saved value are invalid values too, but their header, sheet and mapping are
# right: the file was written by a program and never calculated. Counted apart, with what to do about it.
UNCACHED_KIND = "uncached formula"
FORMULA_ADVICE = (
    "文件由程序生成，其中的公式未在 Excel 中计算过、没有保存的结果（不是表头、工作表或映射的问题）："
    "请在 Excel 或 WPS 中打开并保存后再放入"
)


def _file_summary(context: _Context, batch: Batch, counts: RunCounts, issues: list[Issue]) -> list[str]:
    """Once a file's last batch is in: if none of its rows loaded, a note saying what is probably wrong."""
    if batch.file is None:
        return []
    tally = context.files.setdefault(batch.file, Counter())
    tally["kept"] += counts.loaded + counts.duplicates
    tally["quarantined"] += counts.quarantined
    tally.update(f"kind:{_summary_kind(issue)}" for issue in issues)
    if not batch.ends_file:
        return []
    context.files.pop(batch.file)
    if tally["kept"] or not tally["quarantined"]:
        return []
    kind, count = max(((k[5:], n) for k, n in tally.items() if k.startswith("kind:")), key=lambda kn: kn[1])
    if kind == UNCACHED_KIND:
        reason, advice = f"{UNCACHED_FORMULA} [invalid value]", FORMULA_ADVICE
    else:
        cause = LIKELY_CAUSE.get(kind)
        advice = f"可能是{cause}" if cause else "请查看隔离记录（ruralbrain etl quarantine list）"
        reason = f"{LABELS.get(kind, kind)} [{kind}]"
    return [f"{batch.file} 的 {tally['quarantined']} 行全部被隔离，{count} 行的原因是 {reason}：{advice}"]


def _summary_kind(issue: Issue) -> str:
    """The kind an issue counts as in a file's note: its own, or UNCACHED_KIND for a formula without a saved value."""
    if issue.kind == "invalid value" and issue.detail.startswith(UNCACHED_FORMULA):
        return UNCACHED_KIND
    return issue.kind


def _commit(engine, context: _Context, report: RunReport, batch: Batch, in_transaction, confirm, narrow=False):
    """Load one batch with the run's bookkeeping in one transaction, if the run still holds the feed's lock when
    it commits: (counts, issues, notes, run total)."""
    with _writing(engine, context.stop) as connection:
        counts, issues = _load_batch(connection, context, batch, narrow)
        notes = [*batch.notes, *_file_summary(context, batch, counts, issues)]
        if in_transaction:
            in_transaction(connection, context.now)
        _save_state(connection, context.feed, batch.watermark, context.now)
        total = RunCounts(**vars(report.counts))
        total.add(counts)
        # The run row carries what has committed so far, so a killed run still tells the truth.
        connection.execute(
            update(feed_runs)
            .where(feed_runs.c.id == report.run_id)
            .values(**vars(total), notes="\n".join([*report.notes, *notes]) or None)
        )
        report.version = bump_version(connection)
        confirm(connection)  # last: another run that took the lock meanwhile must not see this batch commit
    return counts, issues, notes, total


def _finish_run(engine: Engine, report: RunReport, now: datetime, stop: threading.Event | None = None) -> None:
    """Log how the run ended; asked to stop, without waiting out another writer's lock (the run is then logged by
    this process's next run of the feed, or marked interrupted by another process's)."""

    def finish(connection: Connection) -> None:
        _log_finish(connection, report, now)
        if _untrimmed[report.feed] % TRIM_EVERY == 0:
            _trim_runs(connection, report.feed)

    patiently(engine, stop, finish)
    _untrimmed[report.feed] += 1


def patiently(engine: Engine, stop: threading.Event | None, work: Callable[[Connection], object]):
    """``work`` in a transaction of its own, its wait for another writer's lock in steps that see ``stop``: tried
    again after each until stopped (on SQLite for as long as its busy timeout waited)."""
    patience = None
    while True:
        try:
            with _writing(engine, stop) as connection:
                return work(connection)
        except Exception as error:
            if not (_lock_wait(error) and stop is not None and not stop.is_set()):
                raise
            patience = patience or time.monotonic() + SQLITE_BUSY_SECONDS
            if engine.dialect.name == "sqlite" and time.monotonic() >= patience:
                raise


def _log_finish(connection: Connection, report: RunReport, now: datetime) -> None:
    """The run's row says how it ended."""
    connection.execute(
        update(feed_runs)
        .where(feed_runs.c.id == report.run_id)
        .values(
            finished_at=now,
            status="failed" if report.error else "ok",
            error=report.error,
            lag_seconds=report.lag_seconds,
            notes="\n".join(report.notes) or None,
            **vars(report.counts),
        )
    )


def _trim_runs(connection: Connection, feed: str) -> None:
    """Delete the feed's finished runs older than its KEPT_RUNS newest."""
    oldest_kept = connection.execute(
        select(feed_runs.c.id)
        .where(feed_runs.c.feed == feed)
        .order_by(feed_runs.c.id.desc())
        .offset(KEPT_RUNS - 1)
        .limit(1)
    ).scalar()
    if oldest_kept is not None:
        connection.execute(
            delete(feed_runs).where(
                feed_runs.c.feed == feed, feed_runs.c.id < oldest_kept, feed_runs.c.status != "running"
            )
        )


def _save_state(connection: Connection, feed: Feed, watermark: str | None, now: datetime) -> None:
    values = {
        "feed": feed.name,
        "dataset": feed.dataset,
        "last_success_at": now,
        "cadence_seconds": int(feed.cadence.total_seconds()),
    }
    if watermark is not None:
        values["watermark"] = watermark
    upsert(connection, feed_state, [values], ["feed"])


def _missing_columns(feed: Feed, records: list[Record]) -> dict[str, str]:
    """Mapped source columns that no record of the batch has (renamed or missing in this export)."""
    # Asked per column of the first record that has it: a file's records all carry its header's columns, so this
    # looks at one record, where collecting every record's columns cost a second on a 300,000-row file.
    return {
        target: source
        for target, source in feed.mapping.items()
        if not source.startswith(("=", "topic:")) and not any(source in record.data for record in records)
    }


@dataclass(frozen=True)
class _Plan:
    """A feed's mapping and its dataset's checks laid out once per run, for the loop over every row: the
    (field, source column) pairs, constants ("=综合"), MQTT topic parts ("topic:2"), and per field where its raw
    value comes from, how to clean it, how to check it fits its column, the source column an error names, and
    a memo of values already seen (categories, codes, statuses, numbers repeat row after row)."""

    columns: tuple[tuple[str, str], ...]
    constants: tuple[tuple[str, str], ...]
    topic_parts: tuple[tuple[str, int], ...]
    checks: tuple[tuple[str, str | None, object, Callable, Callable | None, str, dict | None], ...]

    @classmethod
    def of(cls, feed: Feed, dataset: Dataset) -> _Plan:
        """The plan of a feed filling a dataset."""
        items = feed.mapping.items()
        columns = tuple((t, s) for t, s in items if not s.startswith(("=", "topic:")))
        constants = tuple((t, s[1:]) for t, s in items if s.startswith("="))
        topic_parts = tuple((t, int(s.split(":", 1)[1])) for t, s in items if s.startswith("topic:"))
        sources, fixed = dict(columns), dict(constants)
        checks = []
        for name, spec in dataset.fields.items():
            # Read straight from the record when a column feeds the field and nothing can stand in for it.
            direct = name in sources and not (name == "region_code" and dataset.region_from_device)
            memo = None if spec.is_text else {}  # text is only stripped: nothing to remember
            column = sources[name] if direct else None
            label = feed.mapping.get(name, name)
            checks.append((name, column, fixed.get(name), spec.clean, dataset.storable.get(name), label, memo))
        return cls(columns, constants, topic_parts, tuple(checks))


MEMO_LIMIT = 50_000  # distinct raw values a field remembers before it starts over


def _cleaned(clean: Callable, fits: Callable | None, memo: dict | None, raw):
    """(value, problem) of a raw value, remembered: (value, None), (value, (kind, detail)) when it does not
    fit its column, or the Invalid it raised (raised again)."""
    if memo is not None and raw.__class__ is not str:
        memo = None  # True == 1 == 1.0 as keys, yet each cleans its own way; repeats worth remembering are text
    if memo is not None:
        try:
            found = memo.get(raw)
        except TypeError:  # an unhashable value (a JSON list): not remembered
            found, memo = None, None
        if found is not None:
            if isinstance(found, Invalid):
                raise found
            return found
    try:
        value = clean(raw)
    except Invalid as error:
        if memo is not None and len(memo) < MEMO_LIMIT:
            memo[raw] = error
        raise
    result = (value, fits(value) if fits is not None and value is not None else None)
    if memo is not None:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[raw] = result
    return result


def _mapped(plan: _Plan, record: Record) -> dict:
    """The record's values under warehouse field names, per the feed's mapping."""
    data = record.data
    values = {target: data.get(source) for target, source in plan.columns}
    for target, constant in plan.constants:
        values[target] = constant
    for target, index in plan.topic_parts:
        parts = str(data.get("_topic", "")).split("/")
        # "topic:-1" counts from the end: a topic shorter than that has no such part, as one shorter than "topic:3".
        values[target] = parts[index] if -len(parts) <= index < len(parts) else None
    return values


def topic_part(index: int) -> str:
    """A topic part as an operator counts it: 第 1 段 ("topic:0"), 最后一段 ("topic:-1"), 倒数第 2 段 ("topic:-2")."""
    if index >= 0:
        return f"第 {index + 1} 段"
    return "最后一段" if index == -1 else f"倒数第 {-index} 段"


def local_text(moment: datetime) -> str:
    """A time as the county reads it: local (UTC+8), to the second."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _described(feed: Feed, record: Record) -> str:
    """Where a record came from; for an MQTT message, also the device and time it reports (a topic alone is
    shared by many devices' messages)."""
    if not record.location.startswith("MQTT") or "，设备 " in record.location or "，时间 " in record.location:
        return record.location  # not MQTT, or described already (a retried row)
    values = _mapped(_Plan.of(feed, datasets()[feed.dataset]), record)
    parts = [record.location]
    if values.get("device_id"):
        parts.append(f"设备 {values['device_id']}")
    if values.get("event_time"):
        parts.append(f"时间 {values['event_time']}")
    return "，".join(parts)


def _validate(context: _Context, record: Record) -> tuple[dict | None, tuple[str, str, str] | None, bool]:
    """(row, None, late) for a valid record, or (None, (field, kind, detail), False) saying why not."""
    dataset = context.dataset
    mapping = context.feed.mapping
    plan = context.plan
    # The values of fields no column feeds straight (MQTT topic parts, a region from the device registry).
    values = _mapped(plan, record) if plan.topic_parts or dataset.region_from_device else {}
    for target, index in plan.topic_parts:
        field = dataset.fields.get(target)
        needed = target == "device_id" or field is None or field.required  # an optional part may be missing
        if needed and not values.get(target):  # a message published to a topic too short ("county/air", not …/D1)
            what = "设备编号" if target == "device_id" else f"字段 {target}"
            detail = f"主题缺少{what}（{topic_part(index)}）：{record.data.get('_topic', '')}"
            return None, (mapping.get(target, target), "missing field", detail), False
    if dataset.region_from_device and not values.get("region_code"):
        values["region_code"] = context.device_region(str(values.get("device_id", "")).strip())
        if values["region_code"] is None:
            detail = f"设备 '{values.get('device_id')}' 没有登记"
            return None, (mapping.get("device_id", "device_id"), "unknown device", detail), False
    row = {}
    data = record.data
    for name, column, constant, clean, fits, source, memo in context.plan.checks:
        raw = data.get(column) if column is not None else constant if constant is not None else values.get(name)
        try:
            row[name], problem = _cleaned(clean, fits, memo, raw)
        except Invalid as error:
            return None, (source, "invalid value", f"{name}：{error}"), False
        if problem:
            return None, (source, *problem), False
    return _checked(context, row)


def _validate_guarded(context: _Context, record: Record) -> tuple[dict | None, tuple[str, str, str] | None, bool]:
    """``_validate``, with an error no check names (a bug, a value no cleaning foresaw) the record's own issue."""
    try:
        return _validate(context, record)
    except Exception as error:  # noqa: BLE001 - one record must not block the messages behind it
        if unavailable(error):
            raise
        return None, ("", "unreadable", _processing_error("这条记录", error)), False


# From this many records on, a batch's fields are cleaned a column at a time (etl/columns.py).
COLUMNWISE = 64


def _validate_all(context: _Context, records: list[Record]) -> list[tuple[dict | None, tuple | None, bool]]:
    """``_validate`` of every record, in order; the fields cleaned a column at a time when the feed's columns
    feed them straight (a file or a query; not MQTT topic parts or regions from the device registry)."""
    plan, dataset = context.plan, context.dataset
    if context.guarded:
        return [_validate_guarded(context, record) for record in records]
    if plan.topic_parts or dataset.region_from_device or len(records) < COLUMNWISE:
        return [_validate(context, record) for record in records]
    datas = [record.data for record in records]
    count = len(records)
    names, columns, failed = [], [], {}
    for name, column, constant, clean, fits, source, memo in plan.checks:
        raws = [data.get(column) for data in datas] if column is not None else [constant] * count
        done = cleaned_column(dataset.fields[name], fits, raws)
        if done is None:  # values that cannot be told apart: one by one
            done = _cleaned_one_by_one(clean, fits, memo, raws)
        values, problems = done
        for position, problem in problems.items():
            if position not in failed:
                failed[position] = (
                    (source, "invalid value", f"{name}：{problem}")
                    if isinstance(problem, Invalid)
                    else (source, *problem)
                )
        names.append(name)
        columns.append(values)
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    return [
        (None, failed[position], False) if position in failed else _checked(context, row)
        for position, row in enumerate(rows)
    ]


def _cleaned_one_by_one(clean, fits, memo, raws: list) -> tuple[list, dict]:
    """What ``cleaned_column`` gives, value by value."""
    values, problems = [], {}
    for position, raw in enumerate(raws):
        try:
            value, problem = _cleaned(clean, fits, memo, raw)
        except Invalid as error:
            value, problem = None, error
        values.append(value)
        if problem:
            problems[position] = problem
    return values, problems


def _checked(context: _Context, row: dict) -> tuple[dict | None, tuple[str, str, str] | None, bool]:
    """(row, None, late) for a row whose fields cleaned, or (None, (field, kind, detail), False) when its region,
    time or the dataset's checks across fields refuse it."""
    dataset = context.dataset
    mapping = context.feed.mapping
    if row["region_code"] not in context.regions:  # a known code is a valid one: normalise only the others
        try:
            row["region_code"] = normalize_code(row["region_code"])
        except CodeError as error:
            return None, (mapping.get("region_code", "region_code"), "bad region code", str(error)), False
    if row["region_code"] not in context.regions:
        detail = f"{row['region_code']} 不在数据仓库的区划中"
        return None, (mapping.get("region_code", "region_code"), "unknown region", detail), False
    if not dataset.future and row["event_time"] > context.now + context.feed.future_tolerance:
        detail = f"{local_text(row['event_time'])} 晚于现在（{local_text(context.now)}）"
        return None, (mapping.get("event_time", "event_time"), "future time", detail), False
    if dataset.time_series and row["event_time"] < context.now - OLDEST_READING:
        detail = (
            f"{local_text(row['event_time'])} 早于 {OLDEST_READING.days} 天前（{local_text(context.now)} 之前"
            f" {OLDEST_READING.days} 天），设备时钟可能没有设置，不导入"
        )
        return None, (mapping.get("event_time", "event_time"), "out of range", detail), False
    late = False
    if dataset.time_series and context.high_water is not None and row["event_time"] < context.high_water:
        if row["event_time"] < context.high_water - context.late_window:
            hours = context.late_window.total_seconds() / 3600
            detail = f"{local_text(row['event_time'])} 比已导入的数据早 {hours:g} 小时以上（LATE_HOURS）"
            return None, (mapping.get("event_time", "event_time"), "too late", detail), False
        late = True
    for check in dataset.checks:
        problem = check(row)
        if problem:
            return None, problem, False
    return row, None, late


def _load_batch(
    connection: Connection, context: _Context, batch: Batch, narrow: bool = False
) -> tuple[RunCounts, list[Issue]]:
    """Validate, upsert and roll up one batch inside the caller's transaction; ``narrow``: in savepoints that
    find the rows the database refuses."""
    counts = RunCounts(rows_in=len(batch.records) + len(batch.issues), skipped=batch.passed)
    issues = list(batch.issues)
    missing = _missing_columns(context.feed, batch.records)
    unique: dict[tuple, tuple[dict, Record]] = {}
    if missing:
        detail = "、".join(f"'{source}'（{target}）" for target, source in missing.items())
        for record in batch.records:
            columns = "、".join(sorted(record.data))
            issues.append(
                Issue(
                    record.location,
                    "",
                    next(iter(missing.values())),
                    "missing column",
                    f"没有列 {detail}；现有的列：{columns}",
                    record.data,
                )
            )
    stamp = {"loaded_at": context.now, "run_id": context.run_id}
    identity_of = itemgetter(*context.dataset.key)  # one key column: the value itself, else a tuple
    for (row, problem, late), record in zip(
        [] if missing else _validate_all(context, batch.records), batch.records, strict=False
    ):
        if problem:
            issues.append(Issue(_described(context.feed, record), "", *problem, record.data))
            continue
        counts.late += late
        row |= stamp
        identity = identity_of(row)
        if identity in unique:
            counts.duplicates += 1  # the same row twice in one batch, e.g. an MQTT redelivery
        unique[identity] = (row, record)
    rows = [row for row, _ in unique.values()]
    context.newest_in_batch = max((row["event_time"] for row in rows), default=None)
    if narrow:
        written, refused = _store_narrowing(connection, context, list(unique.values()))
    else:
        written, refused = _store(connection, context, rows), []
    counts.loaded = written
    counts.duplicates += len(rows) - len(refused) - written
    issues.extend(refused)
    fresh = unseen(connection, context.feed.name, issues) if context.known_issues_are_duplicates else issues
    counts.duplicates += len(issues) - len(fresh)  # quarantined before, read again
    counts.quarantined = record_issues(connection, context.feed.name, fresh, run_id=context.run_id)
    return counts, fresh


def _store(connection: Connection, context: _Context, rows: list[dict]) -> int:
    """Upsert rows, keep their rollups, latest values and freshness; the rows written."""
    upserted = upsert_counting(connection, context.dataset.table, rows, bucket_columns(context.dataset))
    update_rollups(connection, context.dataset, upserted)
    if context.dataset.after_load:
        context.dataset.after_load(connection, rows)
    _update_freshness(connection, context, rows)
    return upserted.written


def _store_narrowing(
    connection: Connection, context: _Context, entries: list[tuple[dict, Record]]
) -> tuple[int, list[Issue]]:
    """Store the rows; when the database refuses the lot, halve it until the rows it refuses are alone, and
    quarantine just those (each half in a savepoint, so what was refused leaves no trace). (written, refused)."""
    if not entries:
        return 0, []
    try:
        with connection.begin_nested():
            return _store(connection, context, [row for row, _ in entries]), []
    except Exception as error:
        if not isinstance(error, ROW_ERRORS) and (not context.guarded or unavailable(error)):
            raise
        if len(entries) == 1 and not isinstance(error, ROW_ERRORS):
            record = entries[0][1]
            return 0, [Issue(record.location, "", None, "unreadable", _processing_error("这一行", error), record.data)]
        if len(entries) == 1:
            record = entries[0][1]
            message = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
            detail = f"数据库拒绝了这一行：{type(getattr(error, 'orig', None) or error).__name__}: {message}"
            return 0, [Issue(record.location, "", None, "refused by database", detail, record.data)]
    middle = len(entries) // 2
    first = _store_narrowing(connection, context, entries[:middle])
    second = _store_narrowing(connection, context, entries[middle:])
    return first[0] + second[0], first[1] + second[1]


def _update_freshness(connection: Connection, context: _Context, rows: list[dict]) -> None:
    """Per region, the newest event time of this feed and when it was loaded."""
    newest: dict[str, datetime] = {}
    for row in rows:
        code = row["region_code"]
        if code not in newest or row["event_time"] > newest[code]:
            newest[code] = row["event_time"]
    if not newest:
        return
    existing = dict(
        connection.execute(
            select(feed_freshness.c.region_code, feed_freshness.c.last_event_time).where(
                feed_freshness.c.feed == context.feed.name, feed_freshness.c.region_code.in_(list(newest))
            )
        ).all()
    )
    values = []
    for code, moment in newest.items():
        before = existing.get(code)
        if before is not None and before.tzinfo is None:
            before = before.replace(tzinfo=UTC)
        latest = max(moment, before) if before else moment
        values.append(
            {"feed": context.feed.name, "region_code": code, "last_event_time": latest, "last_loaded_at": context.now}
        )
        if context.high_water is None or latest > context.high_water:
            context.high_water = latest
    upsert(connection, feed_freshness, values, ["feed", "region_code"])
