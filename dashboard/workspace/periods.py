"""The periods a leader picks (今天 … 本年, a custom range) as local days (UTC+8), with the period before it
(环比) and the same days a year earlier (同比)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

LOCAL = timezone(timedelta(hours=8))
PERIODS = {
    "today": "今天",
    "7d": "近7天",
    "30d": "近30天",
    "month": "本月",
    "quarter": "本季度",
    "year": "本年",
    "custom": "自定义",
}
# The grain a period's trend opens at: a point a day up to a month, a week for a quarter, a month for a year.
DEFAULT_GRAIN = {"quarter": "week", "year": "month"}
GRAINS = {"day": "日", "week": "周", "month": "月"}
# A custom range longer than this is refused: three years of day buckets bound every query.
LONGEST_DAYS = 3 * 366
# The most days a trend draws a point each for.
DAY_POINTS = 366
EARLIEST = date(2000, 1, 1)


def local_midnight(day: date) -> datetime:
    """The UTC instant a local day starts at: the bucket start of its day rollup."""
    return datetime.combine(day, time(), LOCAL).astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    """Today's local date."""
    return (now or datetime.now(UTC)).astimezone(LOCAL).date()


def year_before(day: date) -> date:
    """The same date a year earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after the one holding ``day``."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Span:
    """Local days ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """The UTC instant after the last day (exclusive)."""
        return local_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m-%d}" if self.first == self.last else f"{self.first:%Y-%m-%d} 至 {self.last:%Y-%m-%d}"


@dataclass(frozen=True)
class Period:
    """What a leader looks at: the current span, the one before it (None for a year: 年度只比同比), a year earlier."""

    key: str
    current: Span
    previous: Span | None
    last_year: Span

    @property
    def name(self) -> str:
        return PERIODS[self.key]

    @property
    def label(self) -> str:
        return f"{self.name}（{self.current.label}）"

    @property
    def grain(self) -> str:
        """The grain its trend opens at; a custom range by its length, as the named periods of that length."""
        if self.key != "custom":
            return DEFAULT_GRAIN.get(self.key, "day")
        days = self.current.days
        return "day" if days <= 62 else "week" if days <= 183 else "month"

    def grain_for(self, asked: str | None) -> tuple[str, str]:
        """The grain its trend is drawn at when ``asked`` for one, and a notice when that one is refused: a point a day
        over three years was a thousand bars nobody could read."""
        if asked == "day" and self.current.days > DAY_POINTS:
            return "week", f"按日最多 {DAY_POINTS} 天，已改为按周"
        return asked or self.grain, ""


def _shifted(span: Span) -> Span:
    """The span of the same length just before ``span``."""
    return Span(span.first - timedelta(days=span.days), span.first - timedelta(days=1))


def _same_offset(start: date, days: int, limit: date) -> Span:
    """``days`` days from ``start``, ending at ``limit`` at the latest (a 31st has no 31st in a 30-day month)."""
    return Span(start, min(start + timedelta(days=days - 1), limit))


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def resolve(key: str, today: date, first: date | None = None, last: date | None = None) -> Period:
    """The period ``key`` as of local ``today`` (a custom one from ``first`` to ``last``); ValueError when a custom
    range is missing, reversed, ends after today, starts before 2000 or is longer than three years."""
    if key == "today":
        current = Span(today, today)
    elif key in ("7d", "30d"):
        current = Span(today - timedelta(days=int(key[:-1]) - 1), today)
    elif key == "month":
        current = Span(month_start(today), today)
        start = month_start(current.first - timedelta(days=1))
        previous = _same_offset(start, current.days, current.first - timedelta(days=1))
        return Period(key, current, previous, _year_earlier(current))
    elif key == "quarter":
        current = Span(_quarter_start(today), today)
        start = _quarter_start(current.first - timedelta(days=1))
        previous = _same_offset(start, current.days, current.first - timedelta(days=1))
        return Period(key, current, previous, _year_earlier(current))
    elif key == "year":
        current = Span(date(today.year, 1, 1), today)
        return Period(key, current, None, _year_earlier(current))
    elif key == "custom":
        if first is None or last is None:
            raise ValueError("自定义时段需要开始和结束日期")
        if last < first:
            raise ValueError("结束日期早于开始日期")
        if last > today:  # nothing to show there (and 9999-12-31's next midnight overflows)
            raise ValueError("结束日期不能晚于今天")
        if first < EARLIEST or (last - first).days + 1 > LONGEST_DAYS:
            raise ValueError("自定义时段最长三年，且不早于 2000 年")
        current = Span(first, last)
    else:
        raise ValueError(f"未知时段 {key}")
    return Period(key, current, _shifted(current), _year_earlier(current))


def _year_earlier(span: Span) -> Span:
    return Span(year_before(span.first), year_before(span.last))


def buckets(span: Span, grain: str) -> list[tuple[date, date]]:
    """The trend's points over a span: (first, last) local days of each day, Monday-started week or month,
    clipped to the span."""
    found = []
    day = span.first
    while day <= span.last:
        if grain == "day":
            end = day
        elif grain == "week":
            end = day + timedelta(days=6 - day.weekday())
        else:
            end = next_month(day) - timedelta(days=1)
        end = min(end, span.last)
        found.append((day, end))
        day = end + timedelta(days=1)
    return found
