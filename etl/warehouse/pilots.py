"""Read functions of the pilot programme for the screens and the reports: programmes, their pilots (within a
scope), milestones and each pilot's status per milestone, funds, items and monthly scores with evidence."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Connection, and_, func, select

from etl.warehouse.db import as_utc
from etl.warehouse.schema import (
    pilot_funds,
    pilot_scores,
    pilot_status,
    programme_items,
    programme_milestones,
    programme_pilots,
    programmes,
)
from geo.codes import scope_range

LOCAL = timezone(timedelta(hours=8))
SCORE_NAMES = {"met": "达标", "partly": "部分达标", "unmet": "未达标", "no_data": "无数据"}
SCORE_ORDER = ("met", "partly", "unmet", "no_data")
MILESTONE_NAMES = {
    "done": "已完成",
    "in_progress": "进行中",
    "not_started": "未开始",
    "delayed": "滞后",
    "unreported": "未填报",
}
KIND_NAMES = {"township": "数字乡镇", "village": "数字村庄"}
RESOLUTION_NAMES = {"code": "按代码", "name": "按名称", "ancestor": "按上级区划", "unresolved": "未对应区划"}


@dataclass(frozen=True)
class ProgrammeInfo:
    """A programme as imported."""

    programme_id: str
    name: str
    document: str | None
    issuer: str | None
    region_code: str
    funds_per_pilot: float | None
    imported_at: datetime


@dataclass(frozen=True)
class Pilot:
    """A pilot and the region it is tracked under (None: not among the deployment's regions)."""

    pilot_id: str
    position: int
    kind: str
    name: str
    county: str
    code: str | None
    region_code: str | None
    resolution: str
    note: str | None


@dataclass(frozen=True)
class Milestone:
    """A step of the programme."""

    milestone_id: str
    position: int
    name: str
    month: str
    due_at: datetime
    text: str | None


@dataclass(frozen=True)
class Item:
    """A reference indicator with the rules it is scored by (as declared)."""

    item_id: str
    position: int
    level: str
    area: str
    number: int
    name: str
    text: str
    rules: dict


@dataclass(frozen=True)
class Score:
    """A pilot's score on an item for a month, with the evidence read for it."""

    status: str
    evidence: list[dict]
    as_of: datetime
    computed_at: datetime


@dataclass(frozen=True)
class MilestoneState:
    """A pilot's latest reported status of a milestone up to a month, and whether it is overdue then."""

    status: str  # done | in_progress | not_started | delayed | unreported
    period: str | None
    overdue: bool
    note: str | None = None


@dataclass(frozen=True)
class Funds:
    """A pilot's funds as last reported up to a month (万元, cumulative)."""

    allocated: float | None
    disbursed: float
    spent: float
    period: str


def month_start(month: str) -> datetime:
    """The start (UTC) of a local month written YYYY-MM."""
    year, number = map(int, month.split("-"))
    return datetime(year, number, 1, tzinfo=LOCAL).astimezone(UTC)


def month_end(month: str) -> datetime:
    """The start (UTC) of the local month after a month written YYYY-MM."""
    year, number = map(int, month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1, tzinfo=LOCAL).astimezone(UTC)


def month_text(moment: datetime) -> str:
    """The local month (YYYY-MM) of a moment."""
    return moment.astimezone(LOCAL).strftime("%Y-%m")


def _within(column, scope: str | None):
    return True if scope is None else column.between(*scope_range(scope))


def _of_listed_pilots(column, programme_id: str, scope: str | None):
    """A condition: ``column`` names a pilot of the programme whose own region lies in ``scope``. Reports are read
    by the pilot they name, never by the region their row carries: a form filed under the county's code hid a
    township's progress from its leader, one under a neighbour's code showed its money to the neighbour, and a
    mistyped 试点编号 was summed into the totals."""
    listed = select(programme_pilots.c.pilot_id).where(
        programme_pilots.c.programme_id == programme_id, _within(programme_pilots.c.region_code, scope)
    )
    return column.in_(listed)


def list_programmes(connection: Connection) -> list[ProgrammeInfo]:
    """Every imported programme, by id."""
    rows = connection.execute(select(programmes).order_by(programmes.c.programme_id)).all()
    return [
        ProgrammeInfo(
            r.programme_id, r.name, r.document, r.issuer, r.region_code, r.funds_per_pilot, as_utc(r.imported_at)
        )
        for r in rows
    ]


def get_programme(connection: Connection, programme_id: str) -> ProgrammeInfo | None:
    """One programme, or None."""
    return next((p for p in list_programmes(connection) if p.programme_id == programme_id), None)


def pilots(connection: Connection, programme_id: str, scope: str | None = None) -> list[Pilot]:
    """The programme's pilots in list order; with a scope, those tracked within it."""
    query = (
        select(programme_pilots)
        .where(programme_pilots.c.programme_id == programme_id, _within(programme_pilots.c.region_code, scope))
        .order_by(programme_pilots.c.position)
    )
    return [
        Pilot(r.pilot_id, r.position, r.kind, r.name, r.county, r.code, r.region_code, r.resolution, r.note)
        for r in connection.execute(query)
    ]


def milestones(connection: Connection, programme_id: str) -> list[Milestone]:
    """The programme's milestones in order."""
    query = (
        select(programme_milestones)
        .where(programme_milestones.c.programme_id == programme_id)
        .order_by(programme_milestones.c.position)
    )
    return [
        Milestone(r.milestone_id, r.position, r.name, r.month, as_utc(r.due_at), r.text)
        for r in connection.execute(query)
    ]


def items(connection: Connection, programme_id: str, level: str | None = None) -> list[Item]:
    """The programme's reference indicators in catalogue order (one level's, if given)."""
    query = select(programme_items).where(programme_items.c.programme_id == programme_id)
    if level:
        query = query.where(programme_items.c.level == level)
    return [
        Item(r.item_id, r.position, r.level, r.area, r.number, r.name, r.text, json.loads(r.rules))
        for r in connection.execute(query.order_by(programme_items.c.position))
    ]


def milestone_states(
    connection: Connection, programme_id: str, month: str, scope: str | None = None, now: datetime | None = None
) -> dict[str, dict[str, MilestoneState]]:
    """{pilot: {milestone: state}}: each pilot's latest report of each milestone up to ``month`` (a report
    names a milestone by its id or its name); overdue when it is not done and its due day has passed by the
    end of the month (or by now, in the current month)."""
    steps = milestones(connection, programme_id)
    by_name = {m.milestone_id: m for m in steps} | {m.name: m for m in steps}
    cut = min(month_end(month), now or datetime.now(UTC))
    listed = pilots(connection, programme_id, scope)
    query = (
        select(pilot_status.c.pilot_id, pilot_status.c.milestone, pilot_status.c.period, pilot_status.c.status)
        .add_columns(pilot_status.c.note)
        .where(
            pilot_status.c.programme_id == programme_id,
            pilot_status.c.period <= month,
            _of_listed_pilots(pilot_status.c.pilot_id, programme_id, scope),
        )
        .order_by(pilot_status.c.period)
    )
    latest: dict[tuple[str, str], tuple[str, str, str | None]] = {}
    for pilot_id, milestone, period, status, note in connection.execute(query):
        step = by_name.get(milestone)
        if step is not None:
            latest[(pilot_id, step.milestone_id)] = (status, period, note)
    states = {}
    for pilot in listed:
        states[pilot.pilot_id] = {}
        for step in steps:
            status, period, note = latest.get((pilot.pilot_id, step.milestone_id), ("unreported", None, None))
            overdue = status != "done" and step.due_at < cut
            states[pilot.pilot_id][step.milestone_id] = MilestoneState(status, period, overdue, note)
    return states


def funds(connection: Connection, programme_id: str, month: str, scope: str | None = None) -> dict[str, Funds]:
    """{pilot: funds as last reported up to ``month``}, of the programme's pilots in ``scope``."""
    query = (
        select(pilot_funds)
        .where(
            pilot_funds.c.programme_id == programme_id,
            pilot_funds.c.period <= month,
            _of_listed_pilots(pilot_funds.c.pilot_id, programme_id, scope),
        )
        .order_by(pilot_funds.c.period)
    )
    return {r.pilot_id: Funds(r.allocated, r.disbursed, r.spent, r.period) for r in connection.execute(query)}


def scores(
    connection: Connection, programme_id: str, month: str, scope: str | None = None
) -> dict[str, dict[str, Score]]:
    """{pilot: {item: score}} of a month."""
    query = select(pilot_scores).where(
        pilot_scores.c.programme_id == programme_id,
        pilot_scores.c.month == month,
        _of_listed_pilots(pilot_scores.c.pilot_id, programme_id, scope),  # not a pilot since removed from the list
    )
    found: dict[str, dict[str, Score]] = {}
    for r in connection.execute(query):
        score = Score(r.status, json.loads(r.evidence), as_utc(r.as_of), as_utc(r.computed_at))
        found.setdefault(r.pilot_id, {})[r.item_id] = score
    return found


def first_month(connection: Connection, programme_id: str) -> str | None:
    """The programme's first month (its earliest milestone's, YYYY-MM), or None when it has none."""
    query = select(func.min(programme_milestones.c.month)).where(programme_milestones.c.programme_id == programme_id)
    return connection.execute(query).scalar()


def score_months(connection: Connection, programme_id: str) -> list[str]:
    """The months that have scores, oldest first."""
    query = (
        select(pilot_scores.c.month)
        .where(pilot_scores.c.programme_id == programme_id)
        .group_by(pilot_scores.c.month)
        .order_by(pilot_scores.c.month)
    )
    return list(connection.execute(query).scalars())


def pilot_trend(connection: Connection, programme_id: str, pilot_id: str) -> list[tuple[str, Counter]]:
    """[(month, {status: items})] of one pilot, oldest first: its progress month by month."""
    query = (
        select(pilot_scores.c.month, pilot_scores.c.status, func.count())
        .where(pilot_scores.c.programme_id == programme_id, pilot_scores.c.pilot_id == pilot_id)
        .group_by(pilot_scores.c.month, pilot_scores.c.status)
        .order_by(pilot_scores.c.month)
    )
    trend: dict[str, Counter] = {}
    for month, status, count in connection.execute(query):
        trend.setdefault(month, Counter())[status] = count
    return list(trend.items())


def unmatched_reports(connection: Connection, programme_id: str) -> list[tuple[str, str, str, str]]:
    """Status and funds reports that name no pilot of the programme, or a milestone it does not have: (what,
    pilot, milestone, period), so that a misspelt report is seen rather than silently left out."""
    known = {p.pilot_id for p in pilots(connection, programme_id)}
    steps = {m.milestone_id for m in milestones(connection, programme_id)} | {
        m.name for m in milestones(connection, programme_id)
    }
    found = []
    status_rows = select(pilot_status.c.pilot_id, pilot_status.c.milestone, pilot_status.c.period).where(
        pilot_status.c.programme_id == programme_id
    )
    for pilot_id, milestone, period in connection.execute(status_rows):
        if pilot_id not in known or milestone not in steps:
            found.append(("进度", pilot_id, milestone, period))
    funds_rows = select(pilot_funds.c.pilot_id, pilot_funds.c.period).where(pilot_funds.c.programme_id == programme_id)
    found += [("资金", p, "", period) for p, period in connection.execute(funds_rows) if p not in known]
    return sorted(found)


def overview(
    connection: Connection, programme_id: str, month: str, scope: str | None = None, now: datetime | None = None
) -> dict:
    """The programme at a glance within a scope, for a screen's panel: pilots by kind, item scores by status,
    milestones done and overdue, funds summed (万元; the same figures as the monthly report's)."""
    listed = pilots(connection, programme_id, scope)
    states = milestone_states(connection, programme_id, month, scope, now)
    money = funds(connection, programme_id, month, scope)
    programme = get_programme(connection, programme_id)
    default = (programme.funds_per_pilot if programme else None) or 0.0
    counted = Counter(
        score.status
        for per_pilot in scores(connection, programme_id, month, scope).values()
        for score in per_pilot.values()
    )
    flat = [state for per_pilot in states.values() for state in per_pilot.values()]
    return {
        "pilots": Counter(p.kind for p in listed),
        "scores": {status: counted.get(status, 0) for status in SCORE_ORDER},
        "milestones_done": sum(state.status == "done" for state in flat),
        "milestones_overdue": sum(state.overdue for state in flat),
        "overdue_pilots": sorted({p for p, per in states.items() if any(s.overdue for s in per.values())}),
        # a pilot whose allocation was not reported has the programme's amount per pilot
        "allocated": sum(
            money[p.pilot_id].allocated if p.pilot_id in money and money[p.pilot_id].allocated is not None else default
            for p in listed
        ),
        "disbursed": sum(f.disbursed for f in money.values()),
        "spent": sum(f.spent for f in money.values()),
    }


def latest_scored(connection: Connection, programme_id: str, pilot_id: str) -> str | None:
    """The newest month a pilot has scores for, or None."""
    query = select(func.max(pilot_scores.c.month)).where(
        and_(pilot_scores.c.programme_id == programme_id, pilot_scores.c.pilot_id == pilot_id)
    )
    return connection.execute(query).scalar()
