"""The workspace's periods as a leader reads them: which local days each covers, the period before it (环比) and
the same days a year earlier (同比), and the points of its trend."""

from datetime import UTC, date, datetime

import pytest

from dashboard.workspace.periods import Span, buckets, local_midnight, local_today, resolve, year_before

TODAY = date(2026, 3, 31)


def days(span: Span | None) -> tuple | None:
    return (span.first, span.last) if span else None


@pytest.mark.parametrize(
    ("key", "current", "previous", "last_year"),
    [
        ("today", (TODAY, TODAY), (date(2026, 3, 30),) * 2, (date(2025, 3, 31),) * 2),
        (
            "7d",
            (date(2026, 3, 25), TODAY),
            (date(2026, 3, 18), date(2026, 3, 24)),
            (date(2025, 3, 25), date(2025, 3, 31)),
        ),
        (
            "30d",
            (date(2026, 3, 2), TODAY),
            (date(2026, 1, 31), date(2026, 3, 1)),
            (date(2025, 3, 2), date(2025, 3, 31)),
        ),
        # The 31 days of March against February's first days: February has 28, so all of it.
        (
            "month",
            (date(2026, 3, 1), TODAY),
            (date(2026, 2, 1), date(2026, 2, 28)),
            (date(2025, 3, 1), date(2025, 3, 31)),
        ),
        (
            "quarter",
            (date(2026, 1, 1), TODAY),
            (date(2025, 10, 1), date(2025, 12, 29)),
            (date(2025, 1, 1), date(2025, 3, 31)),
        ),
        ("year", (date(2026, 1, 1), TODAY), None, (date(2025, 1, 1), date(2025, 3, 31))),
    ],
)
def test_each_period_and_its_comparisons(key, current, previous, last_year):
    period = resolve(key, TODAY)
    assert days(period.current) == current
    assert days(period.previous) == previous
    assert days(period.last_year) == last_year


def test_a_custom_range_and_what_is_refused():
    period = resolve("custom", TODAY, date(2026, 1, 10), date(2026, 1, 19))
    assert days(period.previous) == (date(2025, 12, 31), date(2026, 1, 9))
    assert period.label == "自定义（2026-01-10 至 2026-01-19）"
    for first, last in [(None, None), (date(2026, 2, 1), date(2026, 1, 1)), (date(1999, 1, 1), date(1999, 2, 1))]:
        with pytest.raises(ValueError):
            resolve("custom", TODAY, first, last)
    with pytest.raises(ValueError):
        resolve("custom", TODAY, date(2020, 1, 1), date(2026, 1, 1))  # longer than three years
    # After today: a range ending on 9999-12-31 overflowed into a server error on the page and the export.
    for first, last in [(date(2026, 3, 1), date(2026, 4, 1)), (date(9999, 12, 25), date(9999, 12, 31))]:
        with pytest.raises(ValueError, match="结束日期不能晚于今天"):
            resolve("custom", TODAY, first, last)


def test_leap_days_and_local_midnight():
    assert year_before(date(2028, 2, 29)) == date(2027, 2, 28)
    assert local_midnight(date(2026, 3, 1)) == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert local_today(datetime(2026, 2, 28, 16, 30, tzinfo=UTC)) == date(2026, 3, 1)  # 00:30 in Beijing


def test_trend_points_by_day_week_and_month():
    span = Span(date(2026, 2, 25), date(2026, 3, 10))
    assert len(buckets(span, "day")) == 14
    weeks = buckets(span, "week")  # Monday-started, clipped to the span
    assert weeks[0] == (date(2026, 2, 25), date(2026, 3, 1)) and weeks[-1] == (date(2026, 3, 9), date(2026, 3, 10))
    assert buckets(span, "month") == [(date(2026, 2, 25), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 10))]


@pytest.mark.parametrize(
    ("first", "grain"),
    [(date(2026, 3, 1), "day"), (date(2026, 1, 1), "week"), (date(2025, 4, 1), "month"), (date(2023, 4, 1), "month")],
)
def test_a_custom_range_opens_at_the_grain_of_a_named_period_its_length(first, grain):
    assert resolve("custom", TODAY, first, TODAY).grain == grain


def test_a_trend_by_day_is_refused_past_a_year_and_drawn_by_week():
    three_years = resolve("custom", TODAY, date(2023, 4, 1), TODAY)
    grain, notice = three_years.grain_for("day")
    assert grain == "week" and "已改为按周" in notice
    assert three_years.grain_for("month") == ("month", "")
    assert three_years.grain_for(None) == ("month", "")
    year = resolve("year", TODAY)
    assert year.grain_for("day") == ("day", "")  # 90 days of this year, a point each
    assert len(buckets(three_years.current, grain)) < 160
