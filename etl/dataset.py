"""What a dataset is: its fact table, the typed fields a feed must deliver, and the measures rolled up from it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Table


class Invalid(ValueError):
    """A value that does not fit its field; the message says why."""


@dataclass(frozen=True)
class Field:
    """One warehouse column a feed delivers: how to parse it, whether it is required, its allowed range."""

    parse: Callable[[Any], Any]
    required: bool = False
    low: float | None = None
    high: float | None = None

    def clean(self, raw: Any) -> Any:
        """The parsed value, or None when absent; Invalid when it does not parse or is out of range."""
        if raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, float) and math.isnan(raw)):
            if self.required:
                raise Invalid("required but empty")
            return None
        value = self.parse(raw)
        if self.low is not None and value < self.low:
            raise Invalid(f"{value} is below {self.low}")
        if self.high is not None and value > self.high:
            raise Invalid(f"{value} is above {self.high}")
        return value


def _text(raw: Any) -> str:
    return str(raw).strip()


def _number(raw: Any) -> float:
    try:
        value = float(str(raw).strip().replace(",", "")) if not isinstance(raw, (int, float)) else float(raw)
    except ValueError:
        raise Invalid(f"'{raw}' is not a number") from None
    if math.isnan(value) or math.isinf(value):
        raise Invalid(f"'{raw}' is not a finite number")
    return value


def _whole(raw: Any) -> int:
    value = _number(raw)
    if value != int(value):
        raise Invalid(f"'{raw}' is not a whole number")
    return int(value)


TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def _time(raw: Any) -> datetime:
    """A UTC timestamp from ISO 8601, common export formats (UTC+8 when no zone is given) or epoch seconds."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return datetime.fromtimestamp(raw / 1000 if raw > 1e11 else raw, UTC)
    else:
        text = str(raw).strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            value = None
            for pattern in TIME_FORMATS:
                try:
                    value = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
            if value is None:
                raise Invalid(f"'{text}' is not a date and time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=BEIJING)  # county exports write local time without a zone
    return value.astimezone(UTC)


def text(required: bool = False) -> Field:
    """A text field (stored as given, never interpreted as HTML)."""
    return Field(_text, required)


def number(required: bool = False, low: float | None = None, high: float | None = None) -> Field:
    """A finite number, optionally within [low, high]."""
    return Field(_number, required, low, high)


def whole(required: bool = False, low: float | None = 0, high: float | None = None) -> Field:
    """A whole number, by default ≥ 0."""
    return Field(_whole, required, low, high)


def timestamp(required: bool = False) -> Field:
    """A date and time, stored in UTC."""
    return Field(_time, required)


def choice(values: Mapping[str, str], required: bool = False) -> Field:
    """One of a fixed set: the warehouse value, or a label (often Chinese) that maps to it."""
    allowed = {**{v: v for v in values.values()}, **values}

    def parse(raw: Any) -> str:
        key = str(raw).strip()
        if key not in allowed:
            raise Invalid(f"'{key}' is not one of {', '.join(sorted(set(values.values())))}")
        return allowed[key]

    return Field(parse, required)


@dataclass(frozen=True)
class Measure:
    """A rolled-up number: count (no value column) or count/sum/min/max of a column, per time bucket and region.

    ``time`` is the column that places a row in a bucket (event_time unless, e.g., closed_at);
    ``dimension`` splits the measure (e.g. by category); ``where`` keeps only some rows.
    The name may contain "{dimension}" style placeholders of columns, e.g. "reading.{metric}".
    """

    name: str
    value: str | None = None
    dimension: str | None = None
    time: str = "event_time"
    where: Callable[[dict], bool] | None = None


@dataclass(frozen=True)
class Dataset:
    """A kind of fact: its table, the fields a feed maps onto, its natural key, and its rolled-up measures."""

    name: str
    table: Table
    fields: dict[str, Field]
    measures: tuple[Measure, ...] = field(default=())
    # Checks across fields of a parsed row: each returns (field, kind, detail) for a bad row, else None.
    checks: tuple[Callable[[dict], tuple[str, str, str] | None], ...] = field(default=())
    # Readings of a device take their region from the device registry when the source does not give one.
    region_from_device: bool = False
    # Time series accept rows older than what was already loaded only within the late window (LATE_HOURS).
    time_series: bool = False
    # Forecasts and expected arrivals are about the future: their event time may lie ahead of now.
    future: bool = False
    # Kept current with each batch inside its transaction (e.g. the latest reading of every device).
    after_load: Callable[[Any, list[dict]], object] | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """The natural key: the primary key of the fact table."""
        return tuple(column.name for column in self.table.primary_key.columns)
