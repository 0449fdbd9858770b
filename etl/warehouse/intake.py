"""The intake store's discipline (the operational write side): a write takes the intake clock first, so writers
commit one at a time and in the order of their updated_at; rate limits counted in the database; ids; times as text."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Connection, Engine, case, delete, func, insert, select, update

from etl.warehouse.intake_files import WRITTEN, discard_written
from etl.warehouse.schema import intake_clock, intake_hits
from etl.warehouse.text import clean_text

LOCAL = timezone(timedelta(hours=8), "Asia/Shanghai")
# A limit counts the writes of the last hour (a household's, an address's).
LIMIT_WINDOW = timedelta(hours=1)


class IntakeError(ValueError):
    """A write that cannot be done; the message says why in Chinese, ``status`` is the HTTP status it means."""

    status = 400


class NotFound(IntakeError):
    """The thing named does not exist (or is not the caller's)."""

    status = 404


class Limited(IntakeError):
    """A rate limit is reached."""

    status = 429


@dataclass(frozen=True)
class Limits:
    """How many writes an hour a household, an address and a village office may make (HOUSEHOLD_WRITES_PER_HOUR,
    ADDRESS_…, OFFICE_…)."""

    household: int = 30
    address: int = 300
    office: int = 60


def stamp(moment: datetime) -> str:
    """A time as the intake keeps it: ISO 8601 in UTC, fixed width, with its zone (sorts as it reads)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def moment(text: str | None) -> datetime | None:
    """An intake time back as an aware datetime (None stays None)."""
    return datetime.fromisoformat(text) if text else None


def local_text(text: str | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """An intake time as people read it here (UTC+8); "" for none."""
    return moment(text).astimezone(LOCAL).strftime(pattern) if text else ""


def new_id(prefix: str, at: str) -> str:
    """An id people can read out on the phone: prefix, local date, 8 random hex digits (QR20261209-1A2B3C4D)."""
    return f"{prefix}{moment(at).astimezone(LOCAL):%Y%m%d}-{secrets.token_hex(4).upper()}"


@contextmanager
def writing(engine: Engine, now: datetime | None = None) -> Iterator[tuple[Connection, str]]:
    """A transaction on the intake, with its updated_at. The clock row is written first: the transaction holds it
    until it commits, so no other intake write runs meanwhile (SQLite's write lock, PostgreSQL's row lock), and the
    time handed out never goes back (a host whose clock lags gets the last time plus a microsecond). ``engine``
    must make transactions (not the screens' autocommit engine)."""
    wanted = stamp(now or datetime.now(UTC))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Take the write lock at once: a deferred transaction would read a snapshot first and, when another
            # writer commits meanwhile, fail at its first write instead of waiting (SQLITE_BUSY_SNAPSHOT).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            clock = intake_clock.c.at
            connection.execute(
                update(intake_clock)
                .where(intake_clock.c.id == 1)
                .values(at=case((clock < wanted, wanted), else_=clock))
            )
            at = connection.execute(select(clock).where(intake_clock.c.id == 1)).scalar_one()
            if at != wanted:
                at = stamp(moment(at) + timedelta(microseconds=1))
                connection.execute(update(intake_clock).where(intake_clock.c.id == 1).values(at=at))
            connection.info.pop(WRITTEN, None)  # a pooled connection: nothing of an earlier transaction
            yield connection, at
        except BaseException:
            connection.rollback()
            discard_written(connection, keep=False)  # its files go with the rows it did not write
            raise
        try:
            connection.commit()
        except BaseException:
            discard_written(connection, keep=False)
            raise
        discard_written(connection, keep=True)


def admit(
    connection: Connection,
    at: str,
    household: str | None,
    address: str | None,
    limits: Limits,
    office: str | None = None,
) -> None:
    """Count one write of a household, from an address, or of a village's office (its code); Limited (nothing
    counted) when any has had its hour's writes. Inside ``writing``: the counts are exact across workers and hosts."""
    since = stamp(moment(at) - LIMIT_WINDOW)
    connection.execute(delete(intake_hits).where(intake_hits.c.at < since))  # the table holds one hour
    subjects = _refused_if_limited(connection, at, household, address, limits, office)
    if subjects:
        connection.execute(insert(intake_hits), [{"subject": subject, "at": at} for subject in subjects])


def refuse_if_limited(
    connection: Connection, household: str | None, address: str | None, limits: Limits, office: str | None = None
) -> None:
    """Limited when a write would be refused for its hour's count, counting nothing: asked before costly work (a
    photo's decoding) that a refused write must not cost. ``admit`` asks again as it counts."""
    _refused_if_limited(connection, stamp(datetime.now(UTC)), household, address, limits, office)


def _refused_if_limited(connection, at: str, household, address, limits: Limits, office) -> list[str]:
    """Limited when any of the write's subjects has had its hour's writes; else the subjects."""
    since = stamp(moment(at) - LIMIT_WINDOW)
    subjects = {}
    if household:
        subjects[f"h:{household}"] = (limits.household, f"本户一小时内已提交 {limits.household} 次，请稍后再试")
    if address:
        subjects[f"a:{address}"[:80]] = (limits.address, "同一网络一小时内提交过多，请稍后再试")
    if office:
        subjects[f"o:{office}"] = (limits.office, f"本村一小时内已发布或登记 {limits.office} 次，请稍后再试")
    for subject, (limit, message) in subjects.items():
        count = connection.execute(
            select(func.count())
            .select_from(intake_hits)
            .where(intake_hits.c.subject == subject, intake_hits.c.at >= since)
        ).scalar_one()
        if count >= limit:
            raise Limited(message)
    return list(subjects)


# An office form sent again this soon with the same values is the same record (a double tap on a slow link, a reload
# of the page that answered the POST), not a second one.
RESENT_WITHIN = timedelta(minutes=10)


def resent(connection: Connection, table, at: str, written: str, **same) -> str | None:
    """The key of the row of ``table`` written (its ``written`` time) within RESENT_WITHIN before ``at`` with these
    same values, or None."""
    since = stamp(moment(at) - RESENT_WITHIN)
    equal = [table.c[name].is_(None) if value is None else table.c[name] == value for name, value in same.items()]
    key = table.primary_key.columns[0]
    return connection.execute(
        select(key).where(table.c[written] >= since, *equal).order_by(table.c[written].desc()).limit(1)
    ).scalar()


def earlier(connection: Connection, table, household: str, key: str) -> str | None:
    """The id of what a household already sent with this form's idempotency key (a double tap), or None."""
    key_column = next(iter(table.primary_key.columns))
    return connection.execute(
        select(key_column).where(table.c.household_code == household, table.c.idempotency_key == key)
    ).scalar()


def checked_text(value: str | None, what: str, longest: int, *, required: bool = True, shortest: int = 1) -> str:
    """Text from a form, without control or invisible format characters (line breaks kept), stripped and within its
    lengths, or IntakeError naming the field."""
    value = clean_text(value or "").strip()
    if not value:
        if required:
            raise IntakeError(f"请填写{what}")
        return ""
    if len(value) < shortest:
        raise IntakeError(f"{what}至少 {shortest} 个字")
    if len(value) > longest:
        raise IntakeError(f"{what}最多 {longest} 个字（现有 {len(value)} 个）")
    return value


# Full-width digits are what a phone's Chinese keyboard types in its full-width mode; other digits str.isdigit()
# knows ("²", "①", "٣") are not numbers int() reads.
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def checked_whole(value: str | None, what: str, lowest: int, highest: int) -> int | None:
    """A whole number from a form (ASCII or full-width digits) within its range, None when empty, or IntakeError."""
    value = clean_text(value or "").strip().translate(FULL_WIDTH_DIGITS)  # a pasted number's zero-width marks
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not lowest <= int(value) <= highest:
        raise IntakeError(f"{what}应为 {lowest} 到 {highest} 的整数")
    return int(value)


def checked_choice(value: str | None, choices: dict, what: str) -> str:
    """One of a form's choices (its key), or IntakeError naming the field."""
    if value not in choices:
        raise IntakeError(f"请选择{what}")
    return value
