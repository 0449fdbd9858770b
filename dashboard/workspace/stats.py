"""A measure's number over a span of local days from its day and month rollups held in memory, with 环比 and 同比.

Day rollups give exact numbers from the first day the warehouse holds (``Coverage.first_day``). Before that only
month rollups may exist (the demo keeps 30 days of detail and twelve months before them): a whole month is
exact, a part of one is its share of the month by days (marked estimated, shown as 按月折算). A comparison
span reaching before any rollup has no number: the card says 无去年同期数据 / 无上期数据.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dashboard.workspace.periods import month_start, next_month

Pair = tuple[float, float]  # (count, total) of some rollup rows


@dataclass(frozen=True)
class Coverage:
    """The first local day with a day rollup and the first month with a month rollup of a measure (anywhere)."""

    first_day: date | None
    first_month: date | None


@dataclass(frozen=True)
class Stat:
    """Count and total of a span's rows; ``estimated`` when a part came from a month's share."""

    count: float = 0.0
    total: float = 0.0
    estimated: bool = False

    def __add__(self, other: Stat) -> Stat:
        return Stat(self.count + other.count, self.total + other.total, self.estimated or other.estimated)

    def share(self, fraction: float) -> Stat:
        return Stat(self.count * fraction, self.total * fraction, self.estimated or fraction != 1)


def _sum(pairs) -> Stat:
    count = total = 0.0
    for pair in pairs:
        count += pair[0]
        total += pair[1]
    return Stat(count, total)


def days_between(days: dict[date, Pair], first: date, last: date) -> Stat:
    """The day rows from ``first`` to ``last`` (both included)."""
    return _sum(pair for day, pair in days.items() if first <= day <= last)


def span_stat(
    days: dict[date, Pair], months: dict[date, Pair], coverage: Coverage, first: date, last: date, strict: bool
) -> Stat | None:
    """The rows of local days ``first`` … ``last``. ``strict`` (a comparison): None unless rollups cover the whole
    span; otherwise (the period looked at) the part that rollups cover."""
    fd, fm = coverage.first_day, coverage.first_month
    if fd is None and fm is None:
        return None
    if last < min(d for d in (fd, fm) if d is not None):
        return None  # wholly before any rollup: unknown, not nothing (2001-01 showed 0 件 and every category at 0)
    if fd is not None and first >= fd:
        return days_between(days, first, last)
    stat = days_between(days, fd, last) if fd is not None and last >= fd else Stat()
    cut = min(last, fd - timedelta(days=1)) if fd is not None else last
    if fm is None or first < fm:
        if strict:
            return None
        if fm is None:
            return stat
        first = fm
    month = month_start(first)
    while month <= cut:
        following = next_month(month)
        low, high = max(first, month), min(cut, following - timedelta(days=1))
        row = months.get(month, (0.0, 0.0))
        if fd is not None and month <= fd < following:
            # The month day rollups start in: what its month rollup holds beyond those days is the days before.
            covered = days_between(days, fd, following - timedelta(days=1))
            rest = Stat(row[0] - covered.count, row[1] - covered.total)
            uncovered = (fd - month).days
            if rest.count <= 0:
                if strict:
                    return None
            else:
                stat = stat + rest.share(((high - low).days + 1) / uncovered)
        else:
            stat = stat + Stat(*row).share(((high - low).days + 1) / (following - month).days)
        month = following
    return stat


def stock_at(days: dict[date, Pair], months: dict[date, Pair], last: date) -> Stat:
    """Everything counted up to the end of local day ``last``: whole months before its month, then its days."""
    start = month_start(last)
    return _sum(pair for month, pair in months.items() if month < start) + days_between(days, start, last)


def latest_in(days: dict[date, Pair], first: date, last: date) -> Stat | None:
    """The newest day's rows within the span (a snapshot measure), or None when no day has any."""
    chosen = [day for day in days if first <= day <= last]
    return Stat(*days[max(chosen)]) if chosen else None


def value_of(aggregate: str, stat: Stat | None) -> float | None:
    """The number a measure shows for its rows: their count, their total, or the mean value."""
    if stat is None:
        return None
    if aggregate == "count":
        return stat.count
    if aggregate == "mean":
        return stat.total / stat.count if stat.count else None
    return stat.total


def change(current: float | None, base: float | None, points: bool = False) -> str | None:
    """The change from ``base`` to ``current`` as shown (+12.3%, -5.0%, 持平, or 个百分点 for a share); None when
    there is no base to compare with."""
    if base is None or current is None:
        return None
    if points:
        delta = current - base
        return "持平" if abs(delta) < 0.05 else f"{delta:+.1f}个百分点"
    if base == 0:
        return "持平" if current == 0 else "新增"
    ratio = (current - base) / abs(base) * 100
    return "持平" if abs(ratio) < 0.05 else f"{ratio:+.1f}%"
