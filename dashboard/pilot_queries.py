"""What the county screen reads of the pilot programme: the newest programme with pilots in a scope, the month it
shows (this month once scored, else the latest scored), and each child region's points share for the map."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select

from dashboard.cache import versioned
from etl.warehouse import pilots as reads
from etl.warehouse.pilot_reports.acceptance import POINTS
from etl.warehouse.schema import regions
from geo.codes import is_within


def newest_programme(connection: Connection, scope: str | None) -> reads.ProgrammeInfo | None:
    """The newest programme with pilots in the scope."""
    listed = sorted(reads.list_programmes(connection), key=lambda p: (p.imported_at, p.programme_id), reverse=True)
    return next((p for p in listed if reads.pilots(connection, p.programme_id, scope)), None)


def scored_month(connection: Connection, programme_id: str, current: str) -> str:
    """``current`` (YYYY-MM) when it is scored, else the latest scored month."""
    months = reads.score_months(connection, programme_id)
    return current if current in months or not months else months[-1]


@versioned
def children_pilot_shares(engine: Engine, parent: str, current: str) -> dict[str, dict]:
    """{child code: {"name", "share", "pilots"}} for each child region of ``parent`` holding scored pilots of the
    newest programme there: the points share (达标 1, 部分达标 0.5, as /pilots and the score sheet count) of its
    pilots' items in the month shown, in per cent."""
    with engine.connect() as connection:
        programme = newest_programme(connection, parent)
        if programme is None:
            return {}
        month = scored_month(connection, programme.programme_id, current)
        located = {p.pilot_id: p.region_code for p in reads.pilots(connection, programme.programme_id, parent)}
        scored = reads.scores(connection, programme.programme_id, month, parent)
        children = select(regions.c.code, regions.c.name).where(regions.c.parent_code == parent)
        names = {code: name for code, name in connection.execute(children)}
    found: dict[str, dict] = {}
    for pilot_id, items in scored.items():
        region = located.get(pilot_id)
        child = next((code for code in names if region and is_within(region, code)), None)
        if child is None or not items:
            continue
        entry = found.setdefault(child, {"name": names[child], "points": 0.0, "items": 0, "pilots": 0})
        entry["points"] += sum(POINTS[score.status] for score in items.values())
        entry["items"] += len(items)
        entry["pilots"] += 1
    return {
        code: {"name": entry["name"], "share": 100 * entry["points"] / entry["items"], "pilots": entry["pilots"]}
        for code, entry in found.items()
    }
