"""The shared shapes of every transport: a raw Record, a Batch to load as one transaction, and SourceError."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from geo.issues import Issue

__all__ = ["Batch", "Issue", "Record", "Source", "SourceError"]


def _nothing() -> None:
    """A callback with nothing to do."""


@dataclass
class Record:
    """One raw item as the source gave it, with where it came from for error messages."""

    location: str  # "cases_0301.csv, row 12", "mqtt env/bin/0012, message 345", "http page 3, item 7"
    data: dict[str, Any]  # keyed by the source's own column names / JSON keys; mapping happens later


@dataclass
class Batch:
    """Records and source-level rejects that are loaded in one transaction, with what to do afterwards."""

    records: list[Record]
    issues: list[Issue]
    watermark: str | None  # stored by the runner only when this batch commits
    on_commit: Callable[[], None] = field(default=_nothing)  # e.g. move the file to processed/, ack MQTT
    on_failure: Callable[[], None] = field(default=_nothing)  # e.g. move the file to failed/, let MQTT redeliver


class SourceError(Exception):
    """The whole source cannot be read now (unreachable, timed out, answered garbage); the message names it."""


class Source(Protocol):
    """A transport that yields batches newer than a watermark; each source class also has ``close()``."""

    def batches(self, watermark: str | None) -> Iterator[Batch]: ...
