"""民主议事 (matters, meetings and their outcomes) and 民主监督 (questions and the office's replies) a village office
records; the office_deliberations and office_supervision feeds carry them into the warehouse's datasets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update

from etl.warehouse.intake import (
    IntakeError,
    Limits,
    NotFound,
    admit,
    checked_choice,
    checked_text,
    checked_whole,
    new_id,
    resent,
    writing,
)
from etl.warehouse.schema import intake_deliberations, intake_supervision

FORMS = {"online": "线上议事", "assembly": "村民会议", "representatives": "村民代表会议"}
MATTER_STATUSES = {"consulting": "征求意见", "voting": "表决中", "decided": "已表决", "published": "已公示"}
SUBJECTS = {
    "village_affairs": "村务",
    "finance": "财务",
    "projects": "工程项目",
    "benefits": "惠民资金",
    "other": "其他",
}
SOURCES = {"villager": "村民", "committee": "村务监督委员会"}
ITEM_STATUSES = {"received": "已受理", "in_progress": "办理中", "replied": "已答复"}


def _count(value: str | None, what: str) -> int | None:
    """A count of people or votes from the form, or None when empty."""
    return checked_whole(value, what, 0, 100000)


def _matter_values(form: dict) -> dict:
    values = {
        "title": checked_text(form.get("title"), "议题", 200),
        "form": checked_choice(form.get("form"), FORMS, "议事形式"),
        "status": checked_choice(form.get("status"), MATTER_STATUSES, "状态"),
        "participants": _count(form.get("participants"), "参与人数"),
        "votes_for": _count(form.get("votes_for"), "赞成票"),
        "votes_against": _count(form.get("votes_against"), "反对票"),
        "outcome": checked_text(form.get("outcome"), "结果", 2000, required=False) or None,
    }
    if values["status"] in ("decided", "published") and not values["outcome"]:
        raise IntakeError("已表决或已公示的议题请填写结果")
    cast = (values["votes_for"] or 0) + (values["votes_against"] or 0)
    if values["participants"] is not None and cast > values["participants"]:
        raise IntakeError(f"赞成票与反对票合计 {cast} 票，超过参与人数 {values['participants']} 人")
    return values


def save_matter(
    engine: Engine,
    village: str,
    form: dict,
    *,
    author: str,
    matter_id: str | None = None,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> str:
    """Record a 民主议事 matter, or update one of the village (its outcome once decided); its id. With ``limits``,
    it counts against the village office's hour."""
    values = _matter_values(form)
    with writing(engine, now) as (connection, at):
        if limits:
            admit(connection, at, None, None, limits, office=village)
        if matter_id:
            current = _owned(connection, intake_deliberations, intake_deliberations.c.matter_id, matter_id, village)
            decided = current["decided_at"] or (at if values["status"] in ("decided", "published") else None)
            connection.execute(
                update(intake_deliberations)
                .where(intake_deliberations.c.matter_id == matter_id)
                .values(**values, decided_at=decided, author=author, updated_at=at)
            )
            return matter_id
        if earlier := resent(connection, intake_deliberations, at, "started_at", region_code=village, **values):
            return earlier  # sent twice: one matter
        matter_id = new_id("YS", at)
        decided = at if values["status"] in ("decided", "published") else None
        connection.execute(
            insert(intake_deliberations).values(
                matter_id=matter_id,
                region_code=village,
                started_at=at,
                decided_at=decided,
                author=author,
                updated_at=at,
                **values,
            )
        )
    return matter_id


def save_item(
    engine: Engine,
    village: str,
    form: dict,
    *,
    author: str,
    item_id: str | None = None,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> str:
    """Record a 民主监督 item, or reply to one of the village; its id. With ``limits``, it counts against the
    village office's hour."""
    status = checked_choice(form.get("status"), ITEM_STATUSES, "状态")
    reply = checked_text(form.get("reply"), "答复", 2000, required=status == "replied") or None
    with writing(engine, now) as (connection, at):
        if limits:
            admit(connection, at, None, None, limits, office=village)
        if item_id:
            current = _owned(connection, intake_supervision, intake_supervision.c.item_id, item_id, village)
            replied = current["replied_at"] or (at if status == "replied" else None)
            connection.execute(
                update(intake_supervision)
                .where(intake_supervision.c.item_id == item_id)
                .values(status=status, reply=reply, replied_at=replied, author=author, updated_at=at)
            )
            return item_id
        raised = {
            "region_code": village,
            "subject": checked_choice(form.get("subject"), SUBJECTS, "监督事项"),
            "source": checked_choice(form.get("source"), SOURCES, "提出方"),
            "title": checked_text(form.get("title"), "内容", 200),
            "status": status,
            "reply": reply,
        }
        if earlier := resent(connection, intake_supervision, at, "raised_at", **raised):
            return earlier  # sent twice: one item
        item_id = new_id("JD", at)
        connection.execute(
            insert(intake_supervision).values(
                item_id=item_id,
                **raised,
                raised_at=at,
                replied_at=at if status == "replied" else None,
                author=author,
                updated_at=at,
            )
        )
    return item_id


def _owned(connection: Connection, table, key, value: str, village: str) -> dict:
    row = connection.execute(select(table).where(key == value)).mappings().first()
    if row is None or row["region_code"] != village:
        raise NotFound(f"本村没有编号为 {value} 的记录")
    return dict(row)


def matters(connection: Connection, village: str, limit: int = 50) -> list[dict]:
    """A village's 民主议事 matters, newest first."""
    query = (
        select(intake_deliberations)
        .where(intake_deliberations.c.region_code == village)
        .order_by(intake_deliberations.c.started_at.desc())
        .limit(limit)
    )
    return [dict(row) for row in connection.execute(query).mappings()]


def items(connection: Connection, village: str, limit: int = 50) -> list[dict]:
    """A village's 民主监督 items, newest first."""
    query = (
        select(intake_supervision)
        .where(intake_supervision.c.region_code == village)
        .order_by(intake_supervision.c.raised_at.desc())
        .limit(limit)
    )
    return [dict(row) for row in connection.execute(query).mappings()]
