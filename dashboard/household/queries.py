"""What a household's page reads from the warehouse: its points entries and its village's notices (phones and ID
numbers in them masked, as on the public boards)."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from dashboard.privacy import scrub
from etl.warehouse.db import as_utc
from etl.warehouse.schema import disclosures, points_ledger

SOURCE_NAMES = {
    "civility": "文明诚信",
    "waste_sorting": "垃圾分类",
    "platform_use": "平台使用",
    "volunteer": "志愿服务",
    "redemption": "积分兑换",
}
NOTICE_KINDS = {"village_affairs": "村务", "finance": "财务", "party_affairs": "党务", "government_affairs": "政务"}


# Built once with named parameters: a household's page is the hot path.
_ENTRIES = (
    select(points_ledger.c.event_time, points_ledger.c.source, points_ledger.c.points)
    .where(points_ledger.c.household_code == bindparam("household"))
    .order_by(points_ledger.c.event_time.desc(), points_ledger.c.entry_id)
    .limit(bindparam("limit"))
)
_NOTICES = (
    select(
        disclosures.c.disclosure_id,
        disclosures.c.event_time,
        disclosures.c.kind,
        disclosures.c.title,
        disclosures.c.body,
        disclosures.c.direction,
        disclosures.c.amount,
        disclosures.c.period,
    )
    .where(disclosures.c.region_code == bindparam("village"))
    .order_by(disclosures.c.event_time.desc(), disclosures.c.disclosure_id)
    .limit(bindparam("limit"))
)
DIRECTIONS = {"income": "收入", "expense": "支出"}


def points_entries(connection: Connection, household_code: str, limit: int = 8) -> list[dict]:
    """A household's newest points entries."""
    return [
        {"time": as_utc(moment), "source": SOURCE_NAMES.get(source, source), "points": points}
        for moment, source, points in connection.execute(_ENTRIES, {"household": household_code, "limit": limit})
    ]


def village_notices(connection: Connection, village: str, limit: int = 12) -> list[dict]:
    """A village's newest 村务/财务/党务/政务 disclosures."""
    return [
        {
            "id": row.disclosure_id,
            "time": as_utc(row.event_time),
            "kind": NOTICE_KINDS.get(row.kind, row.kind),
            "title": scrub(row.title),
            "body": scrub(row.body),
            "amount": row.amount,
            "direction": DIRECTIONS.get(row.direction or "", ""),
            "period": row.period,
        }
        for row in connection.execute(_NOTICES, {"village": village, "limit": limit})
    ]
