"""SQL transport: rows of a SELECT newer than the watermark, fetched in chunks, one batch per chunk."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from etl.dataset import BEIJING
from etl.sources.base import Batch, Record, SourceError
from etl.sources.watermark import FUTURE_SLACK, SECRET_PARAMETER, Mark, moment_of

TYPE = "sql"

_QUERY_PARAMETER = re.compile(r"([?&;])([^=&;#]*)=([^&;#]*)")
# Up to the last @ before the host: a password may hold an unescaped @ ("etl:S3cret@Pa55@host").
_USER_PASSWORD = re.compile(r"^([\w+.-]+://[^:/@]*:)[^/?#]*@")
# A query value that holds a password of its own (odbc_connect=DRIVER=…;PWD=…).
_INNER_PASSWORD = re.compile(r"(pwd|password|passwd)\s*(=|%3D)", re.IGNORECASE)


@dataclass
class SqlQuery:
    """A SELECT with a ``:since`` parameter, on any database SQLAlchemy reaches.

    The query is wrapped as ``SELECT * FROM (query) ORDER BY since_column`` so each chunk's watermark
    covers every row before it. Write the filter as ``since_column >= :since``: rows that share the
    boundary value are then read again (counted as duplicates by the upsert) instead of being missed.
    """

    url: str = field(repr=False)
    query: str
    since_column: str
    initial_since: str = "1970-01-01"
    batch_size: int = 5000
    # Connecting, and each statement (each chunk's fetch): PostgreSQL's connect_timeout and statement_timeout,
    # SQLite's busy timeout. A locked table or a silent server fails the run instead of holding it (and etl watch)
    # for ever.
    timeout_seconds: float = 60
    future_tolerance: timedelta = FUTURE_SLACK  # the feed's: how far past now the watermark may move

    def __post_init__(self) -> None:
        timeout = self.timeout_seconds
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
            raise ValueError(f"SQL 数据源：timeout_seconds 应为正数，而不是 {timeout!r}")

    @classmethod
    def from_config(
        cls, config: dict[str, Any], base_dir: Path | None = None, future_tolerance: timedelta = FUTURE_SLACK
    ) -> SqlQuery:
        """A SQL source from a feed's ``[source]``; ``url_env`` names an environment variable with the URL."""
        options = {key: value for key, value in config.items() if key in cls.__dataclass_fields__}
        options["future_tolerance"] = future_tolerance  # a setting of the feed, not of its [source]
        if "url_env" in config:
            options["url"] = os.environ.get(config["url_env"], "")
            if not options["url"]:
                raise ValueError(f"SQL 数据源：环境变量 {config['url_env']} 未设置")
        return cls(**options)

    @property
    def name(self) -> str:
        """The source as it may appear in logs: its URL with the password and secret query parameters masked."""
        return f"SQL 数据源 {masked_url(self.url)}"

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        """One batch per ``batch_size`` rows; the watermark is the largest since_column value so far, never later
        than now + the feed's future_tolerance. The batches come one chunk behind the fetch, so the last one can say
        how many rows were dated in the future."""
        engine = self._engine()
        number = 0
        ceiling = datetime.now(UTC) + self.future_tolerance
        mark = Mark(watermark, ceiling)
        future, latest = 0, ceiling  # rows past the ceiling and the latest of them
        refused: list[tuple[int, Any, str]] = []  # rows whose value cannot be the watermark: (row, value, why)
        pending: Batch | None = None
        try:
            quoted = engine.dialect.identifier_preparer.quote(self.since_column)
            ordered = text(f"SELECT * FROM ({self.query}) AS source_rows ORDER BY {quoted}")
            try:
                connection = engine.connect()
            except (SQLAlchemyError, ValueError, TypeError, OSError) as error:
                raise SourceError(f"{self.name}：无法连接数据库（{self._reason(error)}）") from None
            try:
                rows = connection.execution_options(stream_results=True).execute(
                    ordered, {"since": watermark if watermark is not None else self.initial_since}
                )
                while chunk := rows.fetchmany(self.batch_size):
                    records = []
                    mark.settle([row._mapping.get(self.since_column) for row in chunk])
                    for row in chunk:
                        number += 1
                        data = dict(row._mapping)
                        value = data.get(self.since_column)
                        why = mark.refusal(value)
                        if why == "晚于现在":
                            future, latest = future + 1, max(latest, moment_of(value))
                        elif why:
                            refused.append((number, value, why))
                        elif not future:  # rows come in since_column order: none after a future one moves it
                            mark.offer(value)
                        records.append(Record(f"SQL 第 {number} 行", data))
                    if pending is not None:
                        yield pending
                    # str() keeps a datetime's space separator, which PostgreSQL parses and SQLite's stored text
                    # compares with.
                    pending = Batch(records, [], None if mark.value is None else str(mark.value))
            except SQLAlchemyError as error:
                raise SourceError(f"{self.name}：{self._reason(error)}") from None
            finally:
                connection.close()
            if pending is not None:
                if future:
                    shown = latest.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
                    pending.notes.append(
                        f"源表中有 {future} 行的 {self.since_column} 晚于现在（最晚 {shown}，北京时间），"
                        "水位未越过现在：这些行每次运行都会再读一遍（计为重复），直到它们的时间到来"
                    )
                if refused:
                    row, value, why = refused[0]
                    pending.notes.append(
                        f"源表中有 {len(refused)} 行的 {self.since_column} 不能作为水位（如第 {row} 行的 "
                        f"{str(value)[:80]!r}，{why}），水位没有因它们移动"
                    )
                yield pending
        finally:
            engine.dispose()

    def _engine(self):
        """The source's engine with its timeouts; any URL or driver failure is a SourceError naming the source."""
        try:
            url = make_url(self.url)
            connect_args: dict[str, Any] = {}
            if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
                milliseconds = max(1, round(self.timeout_seconds * 1000))
                given = url.query.get("options") or ()
                given = [given] if isinstance(given, str) else list(given)
                options = " ".join([*given, f"-c statement_timeout={milliseconds}"])
                connect_args = {"connect_timeout": max(2, math.ceil(self.timeout_seconds)), "options": options}
            elif url.get_backend_name() == "sqlite":
                connect_args = {"timeout": self.timeout_seconds}
            engine = create_engine(url, connect_args=connect_args)
            if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
                event.listen(engine, "connect", _out_of_range_as_text)
            return engine
        except ImportError as error:
            raise SourceError(f"{self.name}：缺少数据库驱动（{self._scrub(str(error))}）") from None
        except (ArgumentError, ValueError, TypeError) as error:
            # Its message may quote the URL, password and all.
            raise SourceError(f"{self.name}：不是可用的数据库 URL（{self._scrub(str(error))}）") from None

    def _reason(self, error: Exception) -> str:
        """Why a connection or statement failed, in Chinese where it is a timeout; secrets masked."""
        orig = getattr(error, "orig", None) or error
        sqlstate = getattr(orig, "sqlstate", None)
        message = _first_line(error)
        if sqlstate == "57014" and "statement timeout" in str(orig):
            return f"查询超过 {self.timeout_seconds:g} 秒未完成（表可能被锁住），已中止（timeout_seconds）"
        if "timeout expired" in message or "timed out" in message:
            return f"{self.timeout_seconds:g} 秒内没能连上数据库（timeout_seconds）：{self._scrub(message)}"
        if "database is locked" in message:
            return f"数据库被锁住，等了 {self.timeout_seconds:g} 秒仍未放开（timeout_seconds）"
        return self._scrub(message)

    def _scrub(self, message: str) -> str:
        """A message with every secret of the URL (its password, secret query values) replaced by ***."""
        for secret in sorted(_secrets(self.url), key=len, reverse=True):
            message = message.replace(secret, "***")
        return message

    def close(self) -> None:
        """Nothing to release: each run opens and disposes of its own engine."""


def masked_url(url: str) -> str:
    """A database URL fit to show: its password and the values of secret-looking query parameters as ***."""
    # As text, not through make_url: SQLAlchemy ends the password at its first @ and showed the rest as the host.
    shown = _USER_PASSWORD.sub(r"\1***@", str(url))
    base, mark, query = shown.partition("?")
    masked = _QUERY_PARAMETER.sub(lambda m: f"{m[1]}{m[2]}=***" if _secret(m[2], m[3]) else m[0], "&" + query)
    return base + mark + masked[1:]


def _secret(name: str, value: str) -> bool:
    """Whether a query parameter's value is a secret: by its name, or by a password inside it."""
    return bool(SECRET_PARAMETER.search(name) or _INNER_PASSWORD.search(value))


def _secrets(url: str) -> set[str]:
    """The password and secret query values of a URL, raw and as the URL writes them."""
    found = set()
    match = _USER_PASSWORD.match(str(url))
    if match:
        password = str(url)[len(match[1]) : match.end() - 1]
        found.update([password, *password.split("@")])  # a driver names what follows an @ as the host
    query = "&" + str(url).partition("?")[2]
    found.update(m[3] for m in _QUERY_PARAMETER.finditer(query) if _secret(m[2], m[3]))
    try:
        parsed = make_url(url)
        found.add(parsed.password or "")
        for key, value in parsed.query.items():
            if SECRET_PARAMETER.search(key):
                found.update([value] if isinstance(value, str) else value)
    except (ArgumentError, ValueError, TypeError):
        pass
    return {secret for secret in found if len(secret) >= 3}


def _out_of_range_as_text(dbapi_connection, _record) -> None:
    """Dates and timestamps Python cannot hold (PostgreSQL's 'infinity', a year past 9999) read as their text: as
    datetimes they failed the whole chunk, every run, in English; as text the runner quarantines just that row,
    naming it and its field, and the watermark passes them by."""
    from psycopg.types.datetime import DateLoader, TimestampLoader, TimestamptzLoader

    for name, base in (("date", DateLoader), ("timestamp", TimestampLoader), ("timestamptz", TimestamptzLoader)):
        dbapi_connection.adapters.register_loader(name, _lenient(base))


def _lenient(base: type) -> type:
    class Lenient(base):
        def load(self, data):
            try:
                return super().load(data)
            except Exception:  # noqa: BLE001 - psycopg's DataError, or Python's own range errors
                return bytes(data).decode("utf-8", "replace")

    return Lenient


def _first_line(error: SQLAlchemyError) -> str:
    """The driver's own message, without SQLAlchemy's statement dump and help link."""
    message = str(getattr(error, "orig", None) or error)
    return message.strip().splitlines()[0] if message.strip() else type(error).__name__


SOURCE = SqlQuery
