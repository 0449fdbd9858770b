"""What the sources that keep their own values as a watermark (HTTP, SQL) share: how far past now it may move, which
of those values are moments, and which query parameters of a source's address hold secrets."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from etl.dataset import BEIJING

# How far past now the watermark may go: the feeds' default future_tolerance. A value dated later (a clock ahead, a
# typo, a placeholder like 2099-01-01) does not carry the watermark with it, or everything written before that date
# would be skipped for good; it is read again on each run (a duplicate) until its time has come.
FUTURE_SLACK = timedelta(minutes=10)
# Query parameters shown as *** wherever an address is shown or stored (password=, api_key=, access_token=, sign= …).
SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|key|sign|auth|ticket|credential|session", re.IGNORECASE)
# A date written as text, its month, day and hour with or without a leading zero ("2099-1-1 8:00:00" too): a
# typo'd date read as plain text was compared as text, outranked every real time and became the watermark.
_TIMESTAMP_TEXT = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:([ T])(\d{1,2})(\D.*)?)?$")
_LOOKS_LIKE_TIME = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}(\D|$)")


def moment_of(value: Any) -> datetime | None:
    """A watermark value as a UTC time, if it is one: a datetime or date, or a time written as text (a zoneless one
    is Beijing's). Numbers never are: an id, a version (2024121101) or 20241211093000 cannot be told from epoch
    seconds or milliseconds, and holding those back would stop the feed they belong to."""
    if isinstance(value, str):
        match = _TIMESTAMP_TEXT.match(value.strip())
        if not match:
            return None
        year, month, day, separator, hour, rest = match.groups()
        written = f"{year}-{int(month):02d}-{int(day):02d}"
        if separator:
            written += f"T{int(hour):02d}{rest or ''}"
        try:
            value = datetime.fromisoformat(written)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=BEIJING)).astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=BEIJING).astimezone(UTC)
    return None


def kind_of(value: Any) -> str | None:
    """What a watermark value is: "time", "number" or "text"; None for one that can be no watermark (empty, a
    true/false, NaN or an infinity, 1e400, a date that does not exist, a list or an object)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, date):
        return "time"
    if isinstance(value, int | float | Decimal):
        return "number" if _number(value) is not None else None
    if not isinstance(value, str) or not value.strip():
        return None
    if moment_of(value) is not None:
        return "time"
    if _LOOKS_LIKE_TIME.match(value.strip()):
        return None  # 2026-02-30, 2099-13-45: a time that cannot be
    try:
        number = float(value)
    except ValueError:
        return "text"
    return "number" if math.isfinite(number) else None  # "inf", "nan", "1e400"


def _number(value: Any) -> Decimal | None:
    """A finite number as a Decimal (exact for ids past a float's 2**53), else None."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


KIND_NAMES = {"time": "时间", "number": "数字", "text": "文本"}


@dataclass
class Mark:
    """A source's watermark as it moves through one run: only by a later value of the same kind as the watermark
    (a time by a time, a number by a number), and a time never past ``horizon``. A row whose value is of another
    kind, or none (NaN, 2099-13-45), does not move it: such a row is quarantined by the runner, and as the
    watermark it hid every record written after it, for good."""

    value: Any
    horizon: datetime
    kind: str | None = None

    def __post_init__(self) -> None:
        self.kind = kind_of(self.value)
        if self.kind is None:
            self.value = None  # nothing, or a stored value that can be none: the first usable value decides

    def settle(self, values: list[Any]) -> None:
        """Before the first watermark: its kind from the first values, a time before a number before text (the
        one id or 20261208 among times does not make the times unusable)."""
        if self.kind is None:
            kinds = {kind_of(value) for value in values}
            self.kind = next((kind for kind in ("time", "number", "text") if kind in kinds), None)

    def refusal(self, value: Any) -> str | None:
        """Why a value cannot move the watermark (None when it can, or when it is empty)."""
        if value is None or value == "":
            return None
        kind = kind_of(value)
        if kind is None:
            return "不能作为水位（不是时间，也不是有限的数字）"
        if self.kind is not None and kind != self.kind:
            return f"是{KIND_NAMES[kind]}，而水位是{KIND_NAMES[self.kind]}"
        if kind == "time" and moment_of(value) > self.horizon:
            return "晚于现在"
        return None

    def offer(self, value: Any) -> str | None:
        """Move to a value later than the watermark; the reason when the value cannot be one."""
        if value is None or value == "":
            return None
        if why := self.refusal(value):
            return why
        if self.kind is None:
            self.kind = kind_of(value)
        if self.value is None or self.later(value, self.value):
            self.value = value
        return None

    def later(self, value: Any, current: Any) -> bool:
        """Whether one usable value of the watermark's kind comes after another."""
        if self.kind == "time":
            return moment_of(value) > moment_of(current)
        if self.kind == "number":
            return _number(value) > _number(current)
        return str(value) > str(current)
