"""What a household's page reads from the warehouse: its points entries and its village's notices (phones and ID
numbers in them masked, as on the public boards)."""

from __future__ import annotations

from sqlalchemy import Connection, select

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


def points_entries(connection: Connection, household_code: str, limit: int = 8) -> list[dict]:
    """A household's newest points entries."""
    c = points_ledger.c
    query = (
        select(c.event_time, c.source, c.points)
        .where(c.household_code == household_code)
        .order_by(c.event_time.desc(), c.entry_id)
        .limit(limit)
    )
    return [
        {"time": as_utc(moment), "source": SOURCE_NAMES.get(source, source), "points": points}
        for moment, source, points in connection.execute(query)
    ]


def village_notices(connection: Connection, village: str, limit: int = 12) -> list[dict]:
    """A village's newest 村务/财务/党务/政务 disclosures."""
    c = disclosures.c
    query = (
        select(c.disclosure_id, c.event_time, c.kind, c.title, c.body, c.direction, c.amount, c.period)
        .where(c.region_code == village)
        .order_by(c.event_time.desc(), c.disclosure_id)
        .limit(limit)
    )
    return [
        {
            "id": row.disclosure_id,
            "time": as_utc(row.event_time),
            "kind": NOTICE_KINDS.get(row.kind, row.kind),
            "title": scrub(row.title),
            "body": scrub(row.body),
            "amount": row.amount,
            "direction": {"income": "收入", "expense": "支出"}.get(row.direction or "", ""),
            "period": row.period,
        }
        for row in connection.execute(query)
    ]
