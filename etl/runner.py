"""A feed run: extract from the watermark, validate, quarantine, upsert, roll up, bump the version, log the run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from etl.dataset import Dataset, Invalid
from etl.datasets import datasets
from etl.feeds import Feed
from etl.load import upsert_counting
from etl.quarantine import record_issues
from etl.rollups import bucket_columns, update_rollups
from etl.sources import source_from_config
from etl.sources.base import Batch, Record, SourceError
from etl.upsert import upsert
from etl.warehouse.db import bump_version
from etl.warehouse.schema import devices, feed_freshness, feed_runs, feed_state, quarantine, regions
from geo.codes import CodeError, normalize_code
from geo.issues import Issue


@dataclass
class RunCounts:
    """What a run did; always rows_in == loaded + duplicates + quarantined."""

    rows_in: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    late: int = 0

    def add(self, other: RunCounts) -> None:
        """Add another batch's counts to these."""
        for name in ("rows_in", "loaded", "duplicates", "quarantined", "late"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RunReport:
    """The outcome of one run of one feed."""

    feed: str
    run_id: int
    counts: RunCounts = field(default_factory=RunCounts)
    error: str | None = None
    issues: list[Issue] = field(default_factory=list)
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


def _start_run(engine: Engine, feed: Feed, now: datetime) -> int:
    with engine.begin() as connection:
        # A run still "running" was killed: it committed nothing past its last batch, so say so.
        connection.execute(
            update(feed_runs)
            .where(feed_runs.c.feed == feed.name, feed_runs.c.status == "running")
            .values(status="failed", error="interrupted (the process ended mid-run)", finished_at=now)
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
    progress: Callable[[RunCounts], None] | None = None,
) -> RunReport:
    """Run a feed from its watermark to the end of what its source has now; each batch commits on its own."""
    source = source_from_config(feed.source, feed.base_dir)
    try:
        return _run(engine, feed, source.batches, late_hours=late_hours, now=now, progress=progress)
    finally:
        close = getattr(source, "close", None)
        if close:
            close()


def retry_quarantine(engine: Engine, feed: Feed, *, late_hours: float = 48, now=None) -> RunReport:
    """Validate a feed's quarantined rows again (e.g. after the missing regions were imported) as one run."""
    with engine.connect() as connection:
        kept = connection.execute(
            select(quarantine.c.id, quarantine.c.location, quarantine.c.raw).where(
                quarantine.c.source == feed.name, quarantine.c.retried_at.is_(None), quarantine.c.raw.is_not(None)
            )
        ).all()
    ids = [row.id for row in kept]
    records = [Record(row.location, orjson.loads(row.raw)) for row in kept]

    def mark_retried(connection: Connection, moment: datetime) -> None:
        connection.execute(update(quarantine).where(quarantine.c.id.in_(ids)).values(retried_at=moment))

    batches = lambda _watermark: iter([Batch(records, [], None)] if records else [])  # noqa: E731
    return _run(engine, feed, batches, late_hours=late_hours, now=now, in_transaction=mark_retried)


def _run(engine, feed, batches, *, late_hours, now, progress=None, in_transaction=None) -> RunReport:
    """Load each batch in its own transaction with the run's bookkeeping; a failing batch leaves no trace."""
    clock = now or (lambda: datetime.now(UTC))
    dataset = datasets()[feed.dataset]
    report = RunReport(feed.name, _start_run(engine, feed, clock()))
    with engine.connect() as connection:
        watermark, high_water = _read_state(connection, feed.name)
        known = set(connection.execute(select(regions.c.code)).scalars())
        device_regions = dict(connection.execute(select(devices.c.device_id, devices.c.region_code)).all())
    context = _Context(
        feed, dataset, report.run_id, clock(), timedelta(hours=late_hours), known, device_regions, high_water
    )
    try:
        for batch in batches(watermark):
            context.now = clock()
            try:
                with engine.begin() as connection:
                    counts, issues = _load_batch(connection, context, batch)
                    if in_transaction:
                        in_transaction(connection, context.now)
                    _save_state(connection, feed, batch.watermark, context.now)
                    total = RunCounts(**vars(report.counts))
                    total.add(counts)
                    # The run row carries what has committed so far, so a killed run still tells the truth.
                    connection.execute(update(feed_runs).where(feed_runs.c.id == report.run_id).values(**vars(total)))
                    report.version = bump_version(connection)
            except BaseException:
                batch.on_failure()
                raise
            batch.on_commit()
            if context.newest_in_batch is not None and not dataset.future:
                report.lag_seconds = max(0.0, (clock() - context.newest_in_batch).total_seconds())
            report.counts = total
            report.issues.extend(issues)
            if progress:
                progress(report.counts)
    except SourceError as error:
        report.error = str(error)
    except Exception as error:
        report.error = f"{type(error).__name__}: {error}"
        _finish_run(engine, report, clock())
        raise
    _finish_run(engine, report, clock())
    return report


def _finish_run(engine: Engine, report: RunReport, now: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(feed_runs)
            .where(feed_runs.c.id == report.run_id)
            .values(
                finished_at=now,
                status="failed" if report.error else "ok",
                error=report.error,
                lag_seconds=report.lag_seconds,
                **vars(report.counts),
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
    present = set().union(*(record.data.keys() for record in records)) if records else set()
    return {
        target: source
        for target, source in feed.mapping.items()
        if not source.startswith(("=", "topic:")) and source not in present
    }


def _mapped(feed: Feed, record: Record) -> dict:
    """The record's values under warehouse field names, per the feed's mapping."""
    values = {}
    for target, source in feed.mapping.items():
        if source.startswith("="):
            values[target] = source[1:]
        elif source.startswith("topic:"):
            parts = str(record.data.get("_topic", "")).split("/")
            index = int(source.split(":", 1)[1])
            values[target] = parts[index] if index < len(parts) else None
        else:
            values[target] = record.data.get(source)
    return values


def _validate(context: _Context, record: Record) -> tuple[dict | None, tuple[str, str, str] | None, bool]:
    """(row, None, late) for a valid record, or (None, (field, kind, detail), False) saying why not."""
    dataset = context.dataset
    values = _mapped(context.feed, record)
    if dataset.region_from_device and not values.get("region_code"):
        values["region_code"] = context.device_regions.get(str(values.get("device_id", "")).strip())
        if values["region_code"] is None:
            return None, ("device_id", "unknown device", f"device '{values.get('device_id')}' is not registered"), False
    row = {}
    for name, spec in dataset.fields.items():
        try:
            row[name] = spec.clean(values.get(name))
        except Invalid as error:
            return None, (context.feed.mapping.get(name, name), "invalid value", f"{name}: {error}"), False
    if row["region_code"] not in context.regions:  # a known code is a valid one: normalise only the others
        try:
            row["region_code"] = normalize_code(row["region_code"])
        except CodeError as error:
            return None, (context.feed.mapping.get("region_code", "region_code"), "bad region code", str(error)), False
    if row["region_code"] not in context.regions:
        return None, ("region_code", "unknown region", f"{row['region_code']} is not in the warehouse"), False
    if not dataset.future and row["event_time"] > context.now + context.feed.future_tolerance:
        return None, ("event_time", "future time", f"{row['event_time'].isoformat()} is ahead of now"), False
    late = False
    if dataset.time_series and context.high_water is not None and row["event_time"] < context.high_water:
        if row["event_time"] < context.high_water - context.late_window:
            detail = f"{row['event_time'].isoformat()} is more than {context.late_window} before data already loaded"
            return None, ("event_time", "too late", detail), False
        late = True
    for check in dataset.checks:
        problem = check(row)
        if problem:
            return None, problem, False
    return row, None, late


def _load_batch(connection: Connection, context: _Context, batch: Batch) -> tuple[RunCounts, list[Issue]]:
    """Validate, upsert and roll up one batch inside the caller's transaction."""
    counts = RunCounts(rows_in=len(batch.records) + len(batch.issues))
    issues = list(batch.issues)
    missing = _missing_columns(context.feed, batch.records)
    unique: dict[tuple, dict] = {}
    key = context.dataset.key
    for record in batch.records:
        if missing:
            detail = ", ".join(f"'{source}' (for {target})" for target, source in missing.items())
            issues.append(
                Issue(
                    record.location,
                    "",
                    next(iter(missing.values())),
                    "missing column",
                    f"no column {detail}; columns are {sorted(record.data)}",
                    record.data,
                )
            )
            continue
        row, problem, late = _validate(context, record)
        if problem:
            issues.append(Issue(record.location, "", *problem, record.data))
            continue
        counts.late += late
        row.update(loaded_at=context.now, run_id=context.run_id)
        identity = tuple(row[k] for k in key)
        if identity in unique:
            counts.duplicates += 1  # the same row twice in one batch, e.g. an MQTT redelivery
        unique[identity] = row
    rows = list(unique.values())
    context.newest_in_batch = max((row["event_time"] for row in rows), default=None)
    upserted = upsert_counting(connection, context.dataset.table, rows, bucket_columns(context.dataset))
    counts.loaded = upserted.written
    counts.duplicates += len(rows) - counts.loaded
    counts.quarantined = record_issues(connection, context.feed.name, issues, run_id=context.run_id)
    update_rollups(connection, context.dataset, upserted)
    if context.dataset.after_load:
        context.dataset.after_load(connection, rows)
    _update_freshness(connection, context, rows)
    return counts, issues


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
