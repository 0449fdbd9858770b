"""Field parsing as county exports write values, and the loader's fast SQLite datetime format."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from etl.dataset import Invalid, number, text, timestamp, whole
from etl.load import sqlite_datetime
from etl.warehouse.schema import cases


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2026年11月3日", datetime(2026, 11, 2, 16, 0)),
        ("2026年11月3日 14:30", datetime(2026, 11, 3, 6, 30)),
        ("2026年11月3日14时30分", datetime(2026, 11, 3, 6, 30)),
        ("2026.11.03", datetime(2026, 11, 2, 16, 0)),
        ("2026.11.3 14:30:05", datetime(2026, 11, 3, 6, 30, 5)),
        ("2026/11/3 8:05", datetime(2026, 11, 3, 0, 5)),
        ("2026-11-03T14:30:00+08:00", datetime(2026, 11, 3, 6, 30)),
        ("2026-11-03T06:30:00Z", datetime(2026, 11, 3, 6, 30)),
        ("46329.5", datetime(2026, 11, 3, 4, 0)),  # an Excel day number: 2026-11-03 12:00 local
        (46329, datetime(2026, 11, 2, 16, 0)),
        (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20)),  # epoch seconds stay epoch seconds
        (1_700_000_000_000, datetime(2023, 11, 14, 22, 13, 20)),  # and milliseconds
    ],
)
def test_timestamps_in_the_forms_counties_write(written, utc):
    assert timestamp().clean(written) == utc.replace(tzinfo=UTC)


@pytest.mark.parametrize("written", ["2026年13月3日", "2026.02.30", "下周一", "0001-01-01 00:00"])
def test_impossible_dates_are_invalid_not_crashes(written):
    with pytest.raises(Invalid):
        timestamp().clean(written)


@pytest.mark.parametrize("marker", ["—", "——", "-", "/", "／", "无", "N/A", "  ", ""])
def test_empty_markers_are_empty_in_optional_fields_and_missing_in_required_ones(marker):
    assert whole().clean(marker) is None and number().clean(marker) is None and text().clean(marker) is None
    with pytest.raises(Invalid, match="必填但为空"):
        text(required=True).clean(marker)


def test_sqlite_datetime_is_what_sqlalchemy_would_store():
    engine = create_engine("sqlite://")
    stored = cases.c.event_time.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
    rng = random.Random(7)
    for _ in range(5000):
        moment = datetime(1, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(0, 10**11), microseconds=rng.randrange(0, 10**6)
        )
        assert sqlite_datetime(moment) == stored(moment)
    assert sqlite_datetime(None) is None
