"""One view of /pilots resolved from its address and the viewer: the programme (default: the newest), the month
(default: the latest scored), the scope (the viewer's, or a region within it), and what the warehouse holds for
them. The page and the exports both start from it, so a file holds what the page shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import Engine

from dashboard.auth.viewer import forbid, require_within, sees, view_scope
from etl.warehouse import pilots as reads
from etl.warehouse.pilots import LOCAL

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z")
CODE = re.compile(r"^[0-9]{12}\Z")


@dataclass(frozen=True)
class PilotsView:
    """Everything /pilots draws, read once."""

    programme: reads.ProgrammeInfo
    programmes: list[reads.ProgrammeInfo]
    month: str
    months: list[str]
    scope: str | None  # the region code the view is limited to (None: the whole deployment)
    pilots: list[reads.Pilot]
    milestones: list[reads.Milestone]
    states: dict[str, dict[str, reads.MilestoneState]]
    funds: dict[str, reads.Funds]
    items: list[reads.Item]
    scores: dict[str, dict[str, reads.Score]]
    now: datetime
    notice: str | None = None  # why the month asked for is not the one shown (outside the programme's months)

    def allocated(self, pilot: reads.Pilot) -> float:
        """A pilot's allocation: as reported, else the programme's amount per pilot (as the monthly report)."""
        reported = self.funds.get(pilot.pilot_id)
        if reported is not None and reported.allocated is not None:
            return reported.allocated
        return self.programme.funds_per_pilot or 0.0

    def level_items(self, level: str) -> list[reads.Item]:
        """The items of one level, in catalogue order."""
        return [item for item in self.items if item.level == level]

    @property
    def as_of(self) -> datetime | None:
        """The moment the month's scores read their evidence at."""
        moments = [score.as_of for per in self.scores.values() for score in per.values()]
        return max(moments) if moments else None

    def address(self, **changes) -> str:
        """This view's address with some parameters changed (None removes one)."""
        params = {"programme": self.programme.programme_id, "month": self.month}
        if self.scope and self.scope != (view_scope() or None):
            params["region"] = self.scope
        params.update(changes)
        return "/pilots?" + urlencode({key: value for key, value in params.items() if value is not None})


def month_label(month: str) -> str:
    """2026-03 → 2026年3月."""
    year, number = month.split("-")
    return f"{year}年{int(number)}月"


def local_time(moment: datetime | None) -> str:
    """A moment in Beijing time, to the minute; — when unknown."""
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if moment else "—"


def scope_of(region: str | None) -> str | None:
    """The scope the view reads: a region asked for (403 outside the viewer's scope) or the viewer's own."""
    if region and CODE.match(region):
        return require_within(region)
    return view_scope() or None


def open_view(engine: Engine, query: dict, now: datetime | None = None) -> PilotsView | None:
    """The view the address describes, or None when no programme has been imported."""
    now = now or datetime.now(UTC)
    scope = scope_of(query.get("region"))
    with engine.connect() as connection:
        listed = reads.list_programmes(connection)
        if not listed:
            return None
        programme = next((p for p in listed if p.programme_id == query.get("programme")), newest(listed))
        pid = programme.programme_id
        months = reads.score_months(connection, pid)
        first, current = reads.first_month(connection, pid), reads.month_text(now)
        shown = [m for m in months if (first is None or m >= first) and m <= current]
        month = shown[-1] if shown else current
        asked, notice = query.get("month") or "", None
        if MONTH.match(asked):
            notice = month_refusal(asked, first, current, pid)
            month = month if notice else asked
        return PilotsView(
            programme=programme,
            programmes=listed,
            month=month,
            months=sorted({*shown, month}),  # the month viewed is a chip though unscored (2026-11 showed only 12月)
            scope=scope,
            pilots=reads.pilots(connection, pid, scope),
            milestones=reads.milestones(connection, pid),
            states=reads.milestone_states(connection, pid, month, scope, now),
            funds=reads.funds(connection, pid, month, scope),
            items=reads.items(connection, pid),
            scores=reads.scores(connection, pid, month, scope),
            now=now,
            notice=notice,
        )


def month_refusal(month: str, first: str | None, current: str, programme_id: str) -> str | None:
    """Why a month (YYYY-MM) is not one of the programme's, in Chinese; None when it is. The months run from the
    programme's first (its earliest milestone's) to the current local one, as `ruralbrain report` keeps them: a
    later month has nothing yet, an earlier one nothing at all, and 9999-12 overflowed the month's end."""
    if month > current:
        return f"{month_label(month)}（{month}）还没有到（本月是 {current}，北京时间），方案 {programme_id} 没有这个月"
    if first is not None and month < first:
        return f"{month_label(month)}（{month}）早于方案 {programme_id} 的第一个月 {first}，没有这个月的数据"
    return None


def pilot_in_view(engine: Engine, view: PilotsView, pilot_id: str) -> reads.Pilot | None:
    """The pilot a drill asks for: None when the programme has none of that id; 403 (audited) when it is tracked
    outside the viewer's scope, or under no region while the viewer sees only part of the deployment."""
    with engine.connect() as connection:
        every = reads.pilots(connection, view.programme.programme_id)
    pilot = next((p for p in every if p.pilot_id == pilot_id), None)
    if pilot is None:
        if CODE.match(pilot_id):
            require_within(pilot_id, "试点")  # another township's code named as a pilot: refused like its region
        return None
    if pilot.region_code is None:
        if view_scope():
            forbid(pilot_id, "试点")
        return pilot
    if not sees(pilot.region_code):
        forbid(pilot.region_code, "试点")
    return pilot


def pilot_region(engine: Engine, query: dict) -> list[str]:
    """The region an address's ?pilot= names, for the access guard's 403 before the page draws: the pilot's region,
    or the code itself when the id looks like a region code and names no pilot (an address naming another
    township's code is refused, pilot or not)."""
    pilot_id = query.get("pilot")
    if not pilot_id:
        return []
    with engine.connect() as connection:
        listed = reads.list_programmes(connection)
        programme = next((p for p in listed if p.programme_id == query.get("programme")), newest(listed))
        found = (
            [p for p in reads.pilots(connection, programme.programme_id) if p.pilot_id == pilot_id] if listed else []
        )
    if found:
        return [found[0].region_code] if found[0].region_code else []
    return [pilot_id] if CODE.match(pilot_id) else []


def newest(listed: list[reads.ProgrammeInfo]) -> reads.ProgrammeInfo | None:
    """The programme imported last (the default one)."""
    return max(listed, key=lambda p: (p.imported_at, p.programme_id), default=None)
