"""环比 and 同比 worked by hand from day and month buckets in memory: exact over day rollups, a month's share by days
before them (marked estimated), nothing where no rollup reaches; means, stocks and the latest snapshot."""

from datetime import date, timedelta

from pytest import approx

from dashboard.workspace.stats import Coverage, Stat, change, latest_in, span_stat, stock_at, value_of

# Day rollups from 2026-03-01 (one case a day, two on Sundays); month rollups from 2025-01.
FIRST_DAY = date(2026, 3, 1)
DAYS = {FIRST_DAY + timedelta(days=n): (1.0 + ((FIRST_DAY + timedelta(days=n)).weekday() == 6),) * 2 for n in range(40)}
MONTHS = {date(2025, month, 1): (31.0, 31.0) for month in range(1, 13)} | {
    date(2026, 1, 1): (62.0, 62.0),
    date(2026, 2, 1): (28.0, 28.0),
    date(2026, 3, 1): (sum(DAYS[day][0] for day in DAYS if day.month == 3),) * 2,  # the sum of its days
}
COVERAGE = Coverage(FIRST_DAY, date(2025, 1, 1))


def stat(first, last, strict=True):
    return span_stat(DAYS, MONTHS, COVERAGE, first, last, strict)


def test_day_rollups_answer_exactly():
    # 2026-03-02 (Mon) … 03-08 (Sun): six single days and a Sunday's two.
    assert stat(date(2026, 3, 2), date(2026, 3, 8)) == Stat(8.0, 8.0)


def test_before_the_day_rollups_a_month_counts_whole_or_by_its_share_of_days():
    assert stat(date(2025, 6, 1), date(2025, 6, 30)) == Stat(31.0, 31.0)  # a whole month: exact
    part = stat(date(2025, 6, 1), date(2025, 6, 10))  # ten of June's thirty days
    assert part.count == approx(31.0 / 3) and part.estimated
    across = stat(date(2026, 2, 27), date(2026, 3, 2))  # two of February's 28 days (28 cases), then two days
    assert across.count == 2.0 + 2 + 1 and across.estimated


def test_a_comparison_reaching_before_any_rollup_has_no_number_but_the_period_looked_at_shows_what_exists():
    assert stat(date(2024, 12, 25), date(2025, 1, 5)) is None
    found = stat(date(2024, 12, 25), date(2025, 1, 5), strict=False)
    assert found.count == approx(31.0 * 5 / 31)


def test_a_month_whose_days_before_the_first_day_rollup_are_missing_is_no_base():
    # Day rollups start on the 15th, and the month rollup holds only those days: the 1st–14th are unknown.
    days = {date(2026, 3, 15) + timedelta(days=n): (1.0, 1.0) for n in range(17)}
    months = {date(2026, 3, 1): (17.0, 17.0), date(2026, 2, 1): (28.0, 28.0)}
    coverage = Coverage(date(2026, 3, 15), date(2026, 2, 1))
    assert span_stat(days, months, coverage, date(2026, 3, 1), date(2026, 3, 20), True) is None
    # With the 1st–14th in the month rollup (a history written as months), their share counts.
    months[date(2026, 3, 1)] = (17.0 + 28.0, 17.0 + 28.0)
    found = span_stat(days, months, coverage, date(2026, 3, 8), date(2026, 3, 20), True)
    assert found.count == approx(28.0 * 7 / 14 + 6) and found.estimated


def test_means_stocks_and_snapshots():
    readings = {date(2026, 3, 1): (24.0, 24 * 30.0), date(2026, 3, 2): (12.0, 12 * 60.0)}
    assert value_of("mean", span_stat(readings, {}, Coverage(date(2026, 3, 1), None), *sorted(readings), True)) == 40
    assert value_of("mean", Stat()) is None  # no reading: no mean, not zero
    installed = {date(2026, 3, 5): (2.0, 2.0)}
    months = {date(2025, 6, 1): (10.0, 10.0), date(2026, 3, 1): (2.0, 2.0)}
    assert (
        stock_at(installed, months, date(2026, 3, 4)).count == 10
        and stock_at(installed, months, date(2026, 3, 5)).count == 12
    )
    snapshots = {date(2026, 3, 1): (3.0, 300.0), date(2026, 3, 15): (3.0, 320.0)}
    assert latest_in(snapshots, date(2026, 3, 1), date(2026, 3, 31)).total == 320
    assert latest_in(snapshots, date(2026, 4, 1), date(2026, 4, 30)) is None


def test_changes_as_shown():
    assert change(110, 100) == "+10.0%"
    assert change(90, 100) == "-10.0%"
    assert change(100, 100) == "持平"
    assert change(5, 0) == "新增" and change(0, 0) == "持平"
    assert change(5, None) is None
    assert change(83.5, 81.0, points=True) == "+2.5个百分点"


def test_a_card_writes_large_figures_in_wan_or_yi():
    """1,054,606,420.59 元 was cut off on its card at 1920 px and its unit wrapped to a line of its own."""
    from dashboard.workspace.tables import card_figure

    assert card_figure(1_054_606_420.59, None, "元") == ("10.55", "亿元")
    assert card_figure(4_049_927.42, None, "元") == ("405.0", "万元")
    assert card_figure(-2_500_000, None, "元") == ("-250.0", "万元")
    assert card_figure(999_999, None, "件") == ("999,999", "件")
    assert card_figure(None, None, "件") == ("—", "")
