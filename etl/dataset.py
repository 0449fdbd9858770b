"""What a dataset is: its fact table, the typed fields a feed must deliver, and the measures rolled up from it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cached_property
from typing import Any

from sqlalchemy import Integer, String, Table


class Invalid(ValueError):
    """A value that does not fit its field; the message says why."""


class SentNumber(float):
    """A number a device wrote that is no finite float (NaN, Infinity, 1e400), keeping how it was written: not
    an empty cell (a plain float NaN, which pandas makes of one), and kept in the quarantine as that text."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> SentNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    # Equal only to the same text: a memo of values already seen (etl/runner.py) would otherwise answer for
    # 1e400 what it found for Infinity, each an infinite float.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, SentNumber) and other.text == self.text

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((SentNumber, self.text))


# What a value of a JSON message is called in a reason (bool before int: a bool is an int in Python).
VALUE_KINDS = ((bool, "真假值"), ((int, float), "数字"), (str, "文本"), (list, "列表"), (dict, "对象"))


def kind_of_value(value: Any) -> str:
    """A JSON value's kind as an operator reads it: 数字, 文本, 列表, 对象, 真假值 or 空值."""
    if value is None:
        return "空值"
    return next((name for kinds, name in VALUE_KINDS if isinstance(value, kinds)), "其他值")


def shown(raw: Any, limit: int = 60) -> str:
    """A raw value as a reason quotes it: a JSON true as true, at most ``limit`` characters."""
    text = "true" if raw is True else "false" if raw is False else str(raw)
    return text if len(text) <= limit else f"{text[:limit]}…（共 {len(text)} 个字符）"


# What Python's own errors say (in English) as a reason says it, by a phrase in them.
ERRORS_IN_CHINESE = (
    ("out of range", "超出可表示的范围"),
    ("too large", "超出可表示的范围"),
    ("overflow", "超出可表示的范围"),
    ("nan", "不是有限的数字"),
    ("infinity", "不是有限的数字"),
)


def in_chinese(error: BaseException) -> str:
    """A Python error raised while parsing a value, said in Chinese."""
    message = str(error).lower()
    return next((chinese for phrase, chinese in ERRORS_IN_CHINESE if phrase in message), "格式无法识别")


# What office exports write in an empty optional cell: read as empty, not as a value that fails to parse.
EMPTY_MARKERS = frozenset({"—", "——", "-", "--", "－", "/", "／", "无", "N/A", "n/a"})


@dataclass(frozen=True)
class Field:
    """One warehouse column a feed delivers: how to parse it, whether it is required, its allowed range."""

    parse: Callable[[Any], Any]
    required: bool = False
    low: float | None = None
    high: float | None = None
    codes: tuple[str, ...] = ()  # a choice's warehouse values (what the screens and the workspace label)

    @property
    def is_text(self) -> bool:
        """Whether the field is plain text (only stripped), not a value parsed from text."""
        return self.parse is _text

    def clean(self, raw: Any) -> Any:
        """The parsed value, or None when absent; Invalid when it does not parse or is out of range."""
        if raw is None or (raw.__class__ is float and math.isnan(raw)):
            raw = ""
        if raw.__class__ is str:
            stripped = raw.strip()
            if not stripped or stripped in EMPTY_MARKERS:
                if self.required:
                    raise Invalid(f"必填但为空（'{stripped}'）" if stripped else "必填但为空")
                return None
            if self.parse is _text:
                return stripped  # text needs nothing more: the common case, kept short
        try:
            value = self.parse(raw)
        except Invalid:
            raise
        except (ValueError, OverflowError, OSError, TypeError) as error:  # e.g. a date a zone shift takes out of range
            raise Invalid(f"'{shown(raw)}' 无法读取（{in_chinese(error)}）") from None
        if self.low is not None and value < self.low:
            raise Invalid(f"{value} 小于下限 {self.low}")
        if self.high is not None and value > self.high:
            raise Invalid(f"{value} 大于上限 {self.high}")
        return value


def _text(raw: Any) -> str:
    return str(raw).strip()


def _number(raw: Any) -> float:
    if isinstance(raw, bool):  # JSON true is no reading of 1
        raise Invalid(f"{shown(raw)} 是真假值，不是数字")
    if isinstance(raw, (dict, list)):
        raise Invalid(f"'{shown(raw)}' 是{kind_of_value(raw)}，不是数字")
    try:
        value = float(str(raw).strip().replace(",", "")) if not isinstance(raw, (int, float)) else float(raw)
    except ValueError:
        raise Invalid(f"'{shown(raw)}' 不是数字") from None
    except OverflowError:  # an integer past what a float holds
        raise Invalid(f"'{shown(raw)}' 超出可表示的数字范围") from None
    if math.isnan(value) or (math.isinf(value) and "inf" in str(raw).lower()):
        raise Invalid(f"'{shown(raw)}' 不是有限的数字")
    if math.isinf(value):  # written as digits: 1e400, 400 nines
        raise Invalid(f"'{shown(raw)}' 超出可表示的数字范围")
    return value


def _whole(raw: Any) -> int:
    value = _number(raw)
    if value != int(value):
        raise Invalid(f"'{raw}' 不是整数")
    return int(value)


TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
EIGHT_HOURS = timedelta(hours=8)
# 2026年11月3日, 2026年11月3日 14:30, 2026.11.03, 2026.11.3 14:30:05, 2026年11月3日14时30分 …
LOCAL_DATE = re.compile(
    r"^(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*日?"
    r"(?:\s*T?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*分?(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?)?$"
)
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included); an unformatted date cell is that count.
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_SERIALS = (1, 2958466)  # 1900-01-01 … 9999-12-31
# Epoch seconds a time may be: 0001-01-01 … 9999-12-31 (beyond them fromtimestamp raises OverflowError, OSError or
# ValueError depending on the platform; 1e20 raised OSError, which failed the batch and stopped an MQTT feed).
EPOCH_SECONDS = (-62135596800, 253402300799)


def _time(raw: Any) -> datetime:
    """A UTC timestamp from ISO 8601, common export formats and Chinese ones (UTC+8 when no zone is given),
    an Excel day number, or epoch seconds (milliseconds)."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, bool):
        raise Invalid(f"{shown(raw)} 是真假值，不是日期时间")
    elif isinstance(raw, (dict, list)):
        raise Invalid(f"'{shown(raw)}' 是{kind_of_value(raw)}，不是日期时间")
    elif isinstance(raw, (int, float)):
        value = _from_number(_float(raw), raw)
    else:
        text = str(raw).strip()
        value = _from_text(text)
        if value is None:
            try:
                number = float(text)
            except ValueError:
                raise Invalid(f"'{shown(text)}' 不是日期时间") from None
            value = _from_number(number, text)
    if value.tzinfo is None:  # county exports write local time without a zone: UTC+8
        return (value - EIGHT_HOURS).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _from_text(text: str) -> datetime | None:
    """A date and time written as ISO 8601, a common export format or a Chinese one; None if none fits."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    match = LOCAL_DATE.match(text)
    if match:
        parts = [int(part) if part else 0 for part in match.groups()]
        try:
            return datetime(*parts)
        except ValueError:
            raise Invalid(f"'{text}' 不是有效的日期") from None
    return None


def _float(raw: int | float) -> float:
    """A number as a float; infinity for an integer past what a float holds (a time, then, out of range)."""
    try:
        return float(raw)
    except OverflowError:
        return math.inf if raw > 0 else -math.inf


def _from_number(number: float, raw: Any) -> datetime:
    """An Excel day number (local time) or epoch seconds or milliseconds (UTC); Invalid (时间无效) for a number
    no time is: NaN, infinite, or before year 1 or after 9999 as either."""
    if EXCEL_SERIALS[0] <= number < EXCEL_SERIALS[1]:
        return EXCEL_EPOCH + timedelta(days=number)
    seconds = number / 1000 if number > 1e11 else number
    if not math.isfinite(number):
        raise Invalid(f"'{shown(raw)}' 时间无效（不是有限的数字）")
    if not EPOCH_SECONDS[0] <= seconds <= EPOCH_SECONDS[1]:
        raise Invalid(f"'{shown(raw)}' 时间无效（作为纪元秒数或毫秒数超出 0001–9999 年）")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):  # a platform whose range is narrower
        raise Invalid(f"'{shown(raw)}' 时间无效（超出本系统能表示的时间）") from None


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

    labels = "、".join(values) if values else "、".join(sorted(set(values.values())))

    def parse(raw: Any) -> str:
        key = str(raw).strip()
        if key not in allowed:
            raise Invalid(f"'{key}' 不是可选值之一（{labels}）")
        return allowed[key]

    return Field(parse, required, codes=tuple(dict.fromkeys(values.values())))


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
    # Reference data (devices, stops, households) changes when it changes: it has no cadence, is never stale.
    reference: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        """The natural key: the primary key of the fact table."""
        return tuple(column.name for column in self.table.primary_key.columns)

    @cached_property
    def storable(self) -> dict[str, Callable[[Any], tuple[str, str] | None]]:
        """Per field, a check that its parsed value fits the column as declared, the same on SQLite (which
        would store anything) and PostgreSQL (which would fail the whole batch): lengths, 32-bit integers,
        no NUL characters in text. A check returns (kind, detail) for a value that does not fit."""
        checks = {}
        for name in self.fields:
            column = self.table.c.get(name)
            if column is None:
                continue
            if isinstance(column.type, String):
                checks[name] = _text_check(column.type.length)
            elif isinstance(column.type, Integer):
                checks[name] = _integer_check
        return checks


INT32 = 2**31 - 1


class _TextCheck:
    """Whether a text value fits a column of ``length`` characters (None: any length) and holds no NUL."""

    def __init__(self, length: int | None) -> None:
        self.length = length

    def __call__(self, value: Any) -> tuple[str, str] | None:
        if not isinstance(value, str):
            return None
        if "\x00" in value:
            return "invalid value", "含有 NUL 字符（\\x00），数据库无法保存"
        if self.length is not None and len(value) > self.length:
            return "too long", f"长 {len(value)} 个字符，超过 {self.length} 个字符"
        return None

    def all_fit(self, values) -> bool:
        """Whether every one of many text values fits (one C-level pass each for length and NUL)."""
        values = list(values)
        if not values:
            return True
        if self.length is not None and max(map(len, values)) > self.length:
            return False
        return "\x00" not in "".join(values)


def _text_check(length: int | None) -> Callable[[Any], tuple[str, str] | None]:
    return _TextCheck(length)


def _integer_check(value: Any) -> tuple[str, str] | None:
    if isinstance(value, int) and not -INT32 - 1 <= value <= INT32:
        return "invalid value", f"{value} 超出整数范围（±{INT32}）"
    return None
