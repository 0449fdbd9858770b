"""Read queries that rank: the villages of a scope by a measure's total over a span of days (points earned:
redemptions left out, since spending points is not doing worse), and a village's households by points earned
over a span, with the village's totals from the same query so that a board's list and its total agree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Integer, bindparam, case, func, select

from dashboard.cache import versioned
from dashboard.privacy import mask_name
from etl.warehouse.schema import households, points_ledger, regions, rollups
from geo.codes import scope_range

# Redemptions are ledger entries too (negative points): earning and spending are told apart by the source.
REDEMPTION = "redemption"

_TOTAL = func.sum(rollups.c.total)
# Reads the measure's day buckets of the span by the (grain, measure, bucket, region) index, villages' own rows.
_TOP = (
    select(rollups.c.region_code, _TOTAL.label("total"))
    .where(
        rollups.c.grain == "day",
        rollups.c.measure == bindparam("measure"),
        rollups.c.bucket >= bindparam("start"),
        rollups.c.bucket < bindparam("end"),
        rollups.c.dimension.not_in(bindparam("excluded", expanding=True)),
        rollups.c.region_code.between(bindparam("low"), bindparam("high")),
        func.substr(rollups.c.region_code, 10, 3) != "000",
    )
    .group_by(rollups.c.region_code)
    .order_by(_TOTAL.desc(), rollups.c.region_code)
    .limit(bindparam("limit", type_=Integer))
    .subquery()
)
VILLAGES_RANKED = (
    select(_TOP.c.region_code, regions.c.name, _TOP.c.total)
    .join(regions, regions.c.code == _TOP.c.region_code)
    .order_by(_TOP.c.total.desc(), _TOP.c.region_code)
)


@versioned
def villages_ranked(
    engine: Engine, scope: str, measure: str, start: datetime, end: datetime, limit: int = 5, excluded: tuple = ()
) -> list[dict]:
    """The villages in a scope with the largest totals of a measure over the day buckets in [start, end), leaving
    out the ``excluded`` dimensions: [{"code", "name", "total"}], only villages with a positive total."""
    low, high = scope_range(scope)
    parameters = {"measure": measure, "start": start, "end": end, "excluded": list(excluded)}
    with engine.connect() as connection:
        return [
            {"code": code, "name": name, "total": float(total)}
            for code, name, total in connection.execute(
                VILLAGES_RANKED, parameters | {"low": low, "high": high, "limit": limit}
            )
            if total > 0
        ]


_SPENT = points_ledger.c.source == REDEMPTION
_HOUSEHOLD_EARNED = func.sum(case((_SPENT, 0), else_=points_ledger.c.points))
HOUSEHOLD_POINTS = (
    select(
        points_ledger.c.household_code,
        households.c.head_name,
        _HOUSEHOLD_EARNED.label("earned"),
        func.sum(case((_SPENT, -points_ledger.c.points), else_=0)).label("redeemed"),
    )
    .join(households, households.c.household_code == points_ledger.c.household_code, isouter=True)
    .where(
        points_ledger.c.region_code == bindparam("village"),
        points_ledger.c.event_time >= bindparam("start"),
        points_ledger.c.event_time < bindparam("end"),
    )
    .group_by(points_ledger.c.household_code, households.c.head_name)
    .order_by(_HOUSEHOLD_EARNED.desc(), points_ledger.c.household_code)
)


def household_label(code: str, name: str | None) -> dict:
    """How a board names a household: the head's masked name and the end of the household code, because masked
    names collide (王建国 and 王振国 are both 王*国)."""
    return {"name": mask_name(name) if name else "住户", "tail": code[-4:]}


@versioned
def household_points(engine: Engine, village: str, start: datetime, end: datetime) -> dict:
    """A village's points in [start, end) from its ledger rows: every household that has any, most earned first
    ({"household", "name", "tail", "earned", "redeemed"}), and the village's totals of the same rows
    ({"earned", "redeemed"}), so a board's total is the sum of its list."""
    parameters = {"village": village, "start": start, "end": end}
    with engine.connect() as connection:
        rows = [
            {"household": code, **household_label(code, name), "earned": int(earned), "redeemed": int(redeemed)}
            for code, name, earned, redeemed in connection.execute(HOUSEHOLD_POINTS, parameters)
        ]
    return {
        "households": rows,
        "earned": sum(row["earned"] for row in rows),
        "redeemed": sum(row["redeemed"] for row in rows),
    }
