"""The shared shapes of every transport: a raw Record, a Batch to load as one transaction, and SourceError."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from geo.issues import Issue

__all__ = ["Batch", "Issue", "Record", "Source", "SourceError"]


# How the detail of a row rejected for a formula without a saved value begins (etl/sources/tables.py): the runner
# tells such rows from other invalid values, as the fix is not in the mapping but in opening and saving the file.
UNCACHED_FORMULA = "公式没有计算结果"


def _nothing() -> None:
    """A callback with nothing to do."""


@dataclass
class Record:
    """One raw item as the source gave it, with where it came from for error messages."""

    location: str  # "cases_0301.csv，第 12 行", "MQTT 主题 env/bin/0012，设备 B-12", "HTTP 第 3 页第 7 项"
    data: dict[str, Any]  # keyed by the source's own column names / JSON keys; mapping happens later


@dataclass
class Batch:
    """Records and source-level rejects that are loaded in one transaction, with what to do afterwards."""

    records: list[Record]
    issues: list[Issue]
    watermark: str | None  # stored by the runner only when this batch commits
    on_commit: Callable[[], None] = field(default=_nothing)  # e.g. move the file to processed/, ack MQTT
    on_failure: Callable[[], None] = field(default=_nothing)  # e.g. move the file to failed/, let MQTT redeliver
    # When the load stopped for a reason not of this input (the database locked or gone, Ctrl-C): a file stays
    # where it is, MQTT redelivers.
    on_interrupt: Callable[[], None] = field(default=_nothing)
    passed: int = 0  # rows that are not data (titles, 合计 and 制表人 footers): counted, not loaded
    notes: list[str] = field(default_factory=list)  # what the source noticed (where a header was found, …)
    file: str | None = None  # the file the batch came from, for a file's own summary
    ends_file: bool = False  # the last batch of that file
    progress: tuple[int, int] | None = None  # (bytes read, bytes in all) where the source knows, for an ETA


class SourceError(Exception):
    """The whole source cannot be read now (unreachable, timed out, answered garbage); the message names it."""


class Source(Protocol):
    """A transport that yields batches newer than a watermark; each source class also has ``close()``."""

    def batches(self, watermark: str | None) -> Iterator[Batch]: ...
