"""The workspace's state as its address holds it: region, period, area, measure, grain, filters, sorting and page.
Every view is a URL (a colleague's link opens the same view; back and forward step through views); anything in
it that does not parse falls back to the default, and nothing in it reaches the page but as text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlencode

from dashboard.workspace.periods import GRAINS, PERIODS
from dashboard.workspace.records import COUNT_CAP, PAGE_SIZE

CODE = re.compile(r"^[0-9]{12}\Z")
MEASURE = re.compile(r"^[a-z0-9_.]{1,48}\Z")
KEY = re.compile(r"^[a-z_]{1,32}\Z")
PAGE = re.compile(r"^[0-9]{1,6}\Z")  # ASCII only: int() does not read every str.isdigit() digit ("²")
VALUE_LENGTH = 64
# The last page the records' count reaches: a page far beyond it was a query with a huge offset each time (2.5 s on
# 435,000 cases) that the page then showed as its last page anyway.
MOST_PAGES = COUNT_CAP // PAGE_SIZE
SORTS = ("asc", "desc")
# What the compared children can be sorted by.
CHILD_SORTS = ("name", "code", "value", "share", "previous", "last_year")
RESERVED = (
    "region",
    "period",
    "from",
    "to",
    "area",
    "measure",
    "grain",
    "sort",
    "order",
    "page",
    "csort",
    "corder",
    "q",
)
DEFAULT_PERIOD = "30d"


@dataclass(frozen=True)
class State:
    """One view of the workspace."""

    region: str = ""
    period: str = DEFAULT_PERIOD
    first: date | None = None
    last: date | None = None
    area: str = ""
    measure: str = ""
    grain: str = ""
    filters: tuple[tuple[str, str], ...] = field(default=())
    sort: str = ""
    order: str = "desc"
    page: int = 1
    csort: str = "value"
    corder: str = "desc"
    search: str = ""  # what the region search looks for

    @property
    def filter_map(self) -> dict[str, str]:
        return dict(self.filters)


def _date(text) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _one(value) -> str:
    """A query value as one string (a repeated parameter counts once)."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value or "")[:VALUE_LENGTH]


def parse(query: dict) -> State:
    """The state a query string's parameters describe; what does not parse is left at its default."""
    values = {key: _one(value) for key, value in query.items()}
    page = values.get("page", "1")
    # A filter's value is one printable line: a newline in one was copied into the export's audit entry as a forged
    # line of `audit list`, and into the file's title.
    filters = tuple(
        sorted(
            (key, value)
            for key, value in values.items()
            if key not in RESERVED and KEY.match(key) and value and value.isprintable()
        )
    )
    return State(
        region=values.get("region", "") if CODE.match(values.get("region", "")) else "",
        period=values.get("period") if values.get("period") in PERIODS else DEFAULT_PERIOD,
        first=_date(values.get("from")),
        last=_date(values.get("to")),
        area=values.get("area", "") if KEY.match(values.get("area", "")) else "",
        measure=values.get("measure", "") if MEASURE.match(values.get("measure", "")) else "",
        grain=values.get("grain") if values.get("grain") in GRAINS else "",
        filters=filters,
        sort=values.get("sort", "") if KEY.match(values.get("sort", "")) else "",
        order=values.get("order") if values.get("order") in SORTS else "desc",
        page=min(int(page), MOST_PAGES) if PAGE.match(page) and int(page) > 0 else 1,
        csort=values.get("csort") if values.get("csort") in CHILD_SORTS else "value",
        corder=values.get("corder") if values.get("corder") in SORTS else "desc",
        search=values.get("q", "").strip()[:20],
    )


def changed(state: State, **changes) -> State:
    """Another state: a new measure drops the filters and sorting of the old one's records, any change but paging
    goes back to the first page, and the region search closes."""
    if "measure" in changes and changes["measure"] != state.measure:
        changes = {"filters": (), "sort": "", "order": "desc"} | changes
    if "page" not in changes:
        changes["page"] = 1
    changes.setdefault("search", "")
    return replace(state, **changes)


def with_filter(state: State, key: str, value: str | None) -> State:
    """The state with one filter set (or cleared for None / "")."""
    filters = {k: v for k, v in state.filters if k != key}
    if value:
        filters[key] = value
    return changed(state, filters=tuple(sorted(filters.items())))


def query_string(state: State) -> str:
    """The address's query string of a state ("?…"), defaults left out, in a fixed order."""
    pairs = [
        ("region", state.region),
        ("period", state.period if state.period != DEFAULT_PERIOD else ""),
        ("from", state.first.isoformat() if state.period == "custom" and state.first else ""),
        ("to", state.last.isoformat() if state.period == "custom" and state.last else ""),
        ("area", state.area),
        ("measure", state.measure),
        ("grain", state.grain),
        *state.filters,
        ("sort", state.sort),
        ("order", state.order if state.sort and state.order != "desc" else ""),
        ("page", str(state.page) if state.page > 1 else ""),
        ("csort", state.csort if state.csort != "value" else ""),
        ("corder", state.corder if state.corder != "desc" else ""),
        ("q", state.search),
    ]
    return "?" + urlencode([(key, value) for key, value in pairs if value])
