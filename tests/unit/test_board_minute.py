"""Boards' minute-keyed answers expire at each village's own second, not all at one minute boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.panels import Window
from dashboard.regions import Region
from dashboard.slides import Context

NOW = datetime(2026, 12, 6, 11, 59, 30, 500000, tzinfo=UTC)
CODES = [f"990101{township:03d}{village:03d}" for township in range(1, 5) for village in range(201, 251)]


def minute_of(code: str, now: datetime) -> datetime:
    village = Region(code, "村", "village", code[:9] + "000", None, None, None)
    return Context(None, village, Window.at(now), None).minute()


def test_each_village_keeps_a_minute_of_its_own():
    starts = {code: minute_of(code, NOW) for code in CODES}
    assert all(NOW - timedelta(seconds=60) < start <= NOW for start in starts.values())
    assert len({start.second for start in starts.values()}) >= 40  # 200 villages over the sixty seconds
    for code, start in starts.items():
        # The same minute for the whole of it, a new one exactly sixty seconds on.
        assert minute_of(code, start) == start and minute_of(code, start + timedelta(seconds=59.9)) == start
        assert minute_of(code, start + timedelta(seconds=60)) == start + timedelta(seconds=60)
        assert minute_of(code, start - timedelta(microseconds=1)) == start - timedelta(seconds=60)


def test_a_minute_boundary_renews_few_villages_at_once():
    # Across the county's boundary at 12:00:00 only the villages whose own second is 0 get a new key.
    boundary = NOW.replace(second=0, microsecond=0) + timedelta(minutes=1)
    renewed = [
        code for code in CODES if minute_of(code, boundary - timedelta(seconds=0.5)) != minute_of(code, boundary)
    ]
    assert len(renewed) < len(CODES) / 10
