"""What the sources that keep their own values as a watermark (HTTP, SQL) share: how far past now it may move, which
of those values are moments, and which query parameters of a source's address hold secrets."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from etl.dataset import BEIJING

# How far past now the watermark may go: the feeds' default future_tolerance. A value dated later (a clock ahead, a
# typo, a placeholder like 2099-01-01) does not carry the watermark with it, or everything written before that date
# would be skipped for good; it is read again on each run (a duplicate) until its time has come.
FUTURE_SLACK = timedelta(minutes=10)
# Query parameters shown as *** wherever an address is shown or stored (password=, api_key=, access_token=, sign= …).
SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|key|sign|auth|ticket|credential|session", re.IGNORECASE)
_TIMESTAMP_TEXT = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}([ T]|$)")


def moment_of(value: Any) -> datetime | None:
    """A watermark value as a UTC time, if it is one: a datetime or date, or a time written as text (a zoneless one
    is Beijing's). Numbers never are: an id, a version (2024121101) or 20241211093000 cannot be told from epoch
    seconds or milliseconds, and holding those back would stop the feed they belong to."""
    if isinstance(value, str) and _TIMESTAMP_TEXT.match(value.strip()):
        try:
            value = datetime.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=BEIJING)).astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=BEIJING).astimezone(UTC)
    return None
