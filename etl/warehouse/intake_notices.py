"""村务/财务/党务公开 a village office publishes (title, body, attachments; a finance line's 收支, 金额, 所属期间); the
office_notices feed carries them into the warehouse's disclosures, which the village board and household pages
show."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, insert, select

from etl.warehouse.intake import (
    FULL_WIDTH_DIGITS,
    IntakeError,
    Limits,
    admit,
    checked_choice,
    checked_text,
    new_id,
    refuse_if_limited,
    resent,
    stamp,
    writing,
)
from etl.warehouse.intake_files import Upload, store
from etl.warehouse.schema import intake_files, intake_notices
from etl.warehouse.text import clean_text

KINDS = {"village_affairs": "村务公开", "finance": "财务公开", "party_affairs": "党务公开"}
DIRECTIONS = {"income": "收入", "expense": "支出"}
PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z")
# Yuan as a clerk writes them: digits, commas only between groups of three (12,000.50), at most two decimals (fen).
# float() read far more (1_000, 1e3, Arabic-Indic digits, -0) and took "1,5" for 15.
AMOUNT = re.compile(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?\Z")
# What a phone's Chinese keyboard types in its full-width mode: digits, comma, point.
FULL_WIDTH_AMOUNT = str.maketrans("０１２３４５６７８９，．", "0123456789,.")
LARGEST_AMOUNT = Decimal(10) ** 11
BODY_LONGEST = 5000
MOST_ATTACHMENTS = 5


def _finance(form: dict) -> dict:
    """A finance line's direction, amount and period: all three or none."""
    given = [form.get("direction"), form.get("amount"), form.get("period")]
    if not any((value or "").strip() for value in given):
        return {"direction": None, "amount": None, "period": None}
    direction = checked_choice(form.get("direction"), DIRECTIONS, "收支")
    # Pasted from a chat, a number carries zero-width characters nobody sees: they are not part of it.
    written = clean_text(form.get("amount") or "").strip().translate(FULL_WIDTH_AMOUNT)
    if not AMOUNT.match(written):
        raise IntakeError("金额应为不带符号的数字（元），最多两位小数，如 12000 或 12,000.50")
    amount = Decimal(written.replace(",", ""))
    if amount >= LARGEST_AMOUNT:
        raise IntakeError("金额应在 0 到 1000 亿元之间")
    period = clean_text(form.get("period") or "").strip().translate(FULL_WIDTH_DIGITS)
    if not PERIOD.match(period):
        raise IntakeError("所属期间应写成 2026-12 这样的年月")
    return {"direction": direction, "amount": float(amount), "period": period}


def publish(
    engine: Engine,
    village: str,
    form: dict,
    attachments: list[Upload] | Callable[[], list[Upload]],
    *,
    uploads_dir: str,
    author: str,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> str:
    """Publish a notice of a village from the office's form; its id. With ``limits``, it counts against the
    village office's hour (Limited beyond it)."""
    kind = checked_choice(form.get("kind"), KINDS, "公开类别")
    title = checked_text(form.get("title"), "标题", 200)
    body = checked_text(form.get("body"), "正文", BODY_LONGEST, required=False) or None
    finance = _finance(form) if kind == "finance" else {"direction": None, "amount": None, "period": None}
    same = {"region_code": village, "kind": kind, "title": title, "body": body, **finance}
    if callable(attachments):  # decoded only for a form that is right and an hour that would take it
        if limits:
            with engine.connect() as connection:
                if not _sent_just_now(connection, same):  # a resend is answered whatever the hour's count
                    refuse_if_limited(connection, None, None, limits, office=village)
        attachments = attachments()
    if len(attachments) > MOST_ATTACHMENTS:
        raise IntakeError(f"附件最多 {MOST_ATTACHMENTS} 个")
    with writing(engine, now) as (connection, at):
        earlier = resent(connection, intake_notices, at, "published_at", **same)
        if earlier and _same_files(connection, earlier, attachments):
            return earlier  # sent twice: published once, its attachments stored once
        if limits:
            admit(connection, at, None, None, limits, office=village)
        notice_id = new_id("GK", at)
        connection.execute(
            insert(intake_notices).values(
                notice_id=notice_id,
                region_code=village,
                kind=kind,
                title=title,
                body=body,
                published_at=at,
                author=author,
                updated_at=at,
                **finance,
            )
        )
        for upload in attachments:
            store(connection, uploads_dir, upload, "notice", notice_id, village, at)
    return notice_id


def _sent_just_now(connection: Connection, same: dict) -> bool:
    """Whether a notice of this text was published within RESENT_WITHIN (this may be its resend)."""
    return resent(connection, intake_notices, stamp(datetime.now(UTC)), "published_at", **same) is not None


def _same_files(connection: Connection, notice_id: str, attachments: list[Upload]) -> bool:
    """Whether a notice was stored with these attachments (by name and size): the same text with other photos is
    another notice, not a resend (its files were dropped and the clerk told it was published)."""
    stored = connection.execute(
        select(intake_files.c.name, intake_files.c.size).where(
            intake_files.c.owner == "notice", intake_files.c.owner_id == notice_id
        )
    ).all()
    return sorted((name, size) for name, size in stored) == sorted((u.name, len(u.data)) for u in attachments)


def village_notices(connection: Connection, village: str, limit: int = 50) -> list[dict]:
    """The notices a village office published, newest first."""
    query = (
        select(intake_notices)
        .where(intake_notices.c.region_code == village)
        .order_by(intake_notices.c.published_at.desc())
        .limit(limit)
    )
    return [dict(row) for row in connection.execute(query).mappings()]
