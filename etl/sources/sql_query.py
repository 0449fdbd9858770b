"""SQL transport: rows of a SELECT newer than the watermark, fetched in chunks, one batch per chunk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from etl.sources.base import Batch, Record, SourceError

TYPE = "sql"


@dataclass
class SqlQuery:
    """A SELECT with a ``:since`` parameter, on any database SQLAlchemy reaches.

    The query is wrapped as ``SELECT * FROM (query) ORDER BY since_column`` so each chunk's watermark
    covers every row before it. Write the filter as ``since_column >= :since``: rows that share the
    boundary value are then read again (counted as duplicates by the upsert) instead of being missed.
    """

    url: str
    query: str
    since_column: str
    initial_since: str = "1970-01-01"
    batch_size: int = 5000

    @classmethod
    def from_config(cls, config: dict[str, Any], base_dir: Path | None = None) -> SqlQuery:
        """A SQL source from a feed's ``[source]``; ``url_env`` names an environment variable with the URL."""
        options = {key: value for key, value in config.items() if key in cls.__dataclass_fields__}
        if "url_env" in config:
            options["url"] = os.environ.get(config["url_env"], "")
            if not options["url"]:
                raise ValueError(f"SQL 数据源：环境变量 {config['url_env']} 未设置")
        return cls(**options)

    @property
    def name(self) -> str:
        """The source as it may appear in logs: its URL with the password masked."""
        try:
            return f"SQL 数据源 {make_url(self.url).render_as_string(hide_password=True)}"
        except ArgumentError:
            return "SQL 数据源（无法解析的 URL）"

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        """One batch per ``batch_size`` rows; the watermark is the largest since_column value so far."""
        try:
            engine = create_engine(self.url)
        except ArgumentError:
            # Its message quotes the URL, password and all.
            raise SourceError(f"{self.name}：不是可用的数据库 URL") from None
        except ImportError as error:
            raise SourceError(f"{self.name}：缺少数据库驱动（{error}）") from None
        newest: Any = watermark
        number = 0
        quoted = engine.dialect.identifier_preparer.quote(self.since_column)
        ordered = text(f"SELECT * FROM ({self.query}) AS source_rows ORDER BY {quoted}")
        try:
            with engine.connect() as connection:
                rows = connection.execution_options(stream_results=True).execute(
                    ordered, {"since": watermark if watermark is not None else self.initial_since}
                )
                while chunk := rows.fetchmany(self.batch_size):
                    records = []
                    for row in chunk:
                        number += 1
                        data = dict(row._mapping)
                        newest = _later(newest, data.get(self.since_column))
                        records.append(Record(f"SQL 第 {number} 行", data))
                    yield Batch(records, [], newest)
        except SQLAlchemyError as error:
            raise SourceError(f"{self.name}：{_first_line(error)}") from None
        finally:
            engine.dispose()

    def close(self) -> None:
        """Nothing to release: each run opens and disposes of its own engine."""


def _later(current: str | None, value: Any) -> str | None:
    """The watermark after a row: rows come in since_column order, so its value unless it is NULL."""
    # str() keeps a datetime's space separator, which PostgreSQL parses and SQLite's stored text compares with.
    return current if value is None else str(value)


def _first_line(error: SQLAlchemyError) -> str:
    """The driver's own message, without SQLAlchemy's statement dump and help link."""
    message = str(getattr(error, "orig", None) or error)
    return message.strip().splitlines()[0] if message.strip() else type(error).__name__


SOURCE = SqlQuery
