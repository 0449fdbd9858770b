"""诉求 submitted by households through their code, and their lifecycle in the village office: 受理 → 处置中 → 办结 →
评价, escalation to the township; every step an event the household sees. The qr_cases feed carries them into the
warehouse's cases (channel qr_code), where screens, rollups and alerts treat them like any other case."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from etl.warehouse.household_tokens import Household
from etl.warehouse.intake import (
    FULL_WIDTH_DIGITS,
    RESENT_WITHIN,
    IntakeError,
    Limits,
    NotFound,
    admit,
    checked_choice,
    checked_text,
    moment,
    new_id,
    refuse_if_limited,
    stamp,
    writing,
)
from etl.warehouse.intake import (
    earlier as find_earlier,
)
from etl.warehouse.intake_files import Upload, store
from etl.warehouse.schema import intake_case_events, intake_cases
from etl.warehouse.text import clean_text

# The household's 类别 → (what it reads, the cases dataset's category). Public screens show the 类别's name as the
# case's title, never the household's own words (they may name a neighbour).
TOPICS = {
    "environment": ("环境卫生", "request"),
    "roads": ("道路交通", "request"),
    "utilities": ("水电设施", "request"),
    "neighbours": ("邻里纠纷", "dispute"),
    "conflict": ("矛盾调解", "conflict"),
    "assistance": ("困难帮扶", "appeal"),
    "policy": ("政策咨询", "request"),
    "suggestion": ("意见建议", "appeal"),
    "other": ("其他诉求", "request"),
}
STATUS_NAMES = {"received": "已受理", "in_progress": "处置中", "closed": "已办结", "rated": "已评价"}
EVENT_NAMES = {
    "submitted": "提交诉求",
    "accepted": "村里已受理",
    "updated": "处置进展",
    "escalated": "已上报乡镇",
    "closed": "已办结",
    "rated": "已评价",
}
ESCALATION_NAMES = {"village": "村", "township": "乡镇", "county": "县"}
# The time a village has for a 诉求 (the county's 基层治理 rule of three working days, kept as 72 hours): past it,
# the overdue_case alert rule opens an alert like for any other case.
DUE_AFTER = timedelta(hours=72)
OPEN = ("received", "in_progress")
TEXT_LONGEST = 500
NOTE_LONGEST = 500
PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})\Z")
KEY = re.compile(r"^[0-9a-f]{32}\Z")


def checked_key(key: str | None) -> str:
    """A form's idempotency key (32 hex digits, made when the form was drawn), or IntakeError."""
    if not isinstance(key, str) or not KEY.match(key):
        raise IntakeError("表单已失效，请刷新页面后重新提交")
    return key


def checked_phone(phone: str | None) -> str | None:
    """An optional callback number: a mobile (11 digits) or a landline with its area code."""
    phone = re.sub(r"[\s-]", "", clean_text(phone or "")).translate(FULL_WIDTH_DIGITS)  # pasted marks dropped
    if not phone:
        return None
    if not PHONE.match(phone):
        raise IntakeError("回电号码应为 11 位手机号或带区号的固定电话")
    return phone


def submit(
    engine: Engine,
    household: Household,
    form: dict,
    *,
    photo: Upload | Callable[[], Upload | None] | None,
    uploads_dir: str,
    address: str | None,
    limits: Limits,
    now: datetime | None = None,
) -> tuple[str, bool]:
    """Record a household's 诉求 from its form (topic, text, phone, key): (case id, whether it is new). The same
    form sent twice (a double tap, a resend) gives the first one's case and makes nothing new. A ``photo`` given
    as a function is decoded only once the form is right and the hour's writes would take it."""
    topic = checked_choice(form.get("topic"), TOPICS, "诉求类别")
    text = checked_text(form.get("text"), "诉求内容", TEXT_LONGEST, shortest=5)
    phone = checked_phone(form.get("phone"))
    key = checked_key(form.get("key"))
    if callable(photo):
        with engine.connect() as connection:  # a resend of what was taken is its case, whatever the hour's count
            if earlier := find_earlier(connection, intake_cases, household.code, key):
                return earlier, False
            refuse_if_limited(connection, household.code, address, limits)
        photo = photo()
    with writing(engine, now) as (connection, at):
        earlier = find_earlier(connection, intake_cases, household.code, key)
        if earlier:
            return earlier, False
        admit(connection, at, household.code, address, limits)
        case_id = new_id("QR", at)
        name, category = TOPICS[topic]
        connection.execute(
            insert(intake_cases).values(
                case_id=case_id,
                household_code=household.code,
                region_code=household.village,
                topic=topic,
                category=category,
                title=name,
                text=text,
                callback_phone=phone,
                status="received",
                escalation="village",
                created_at=at,
                due_at=stamp(moment(at) + DUE_AFTER),
                idempotency_key=key,
                address=address,
                updated_at=at,
            )
        )
        _event(connection, case_id, at, "submitted", None, None)
        if photo is not None:
            store(connection, uploads_dir, photo, "case", case_id, household.village, at)
    return case_id, True


def _event(connection: Connection, case_id: str, at: str, kind: str, actor: str | None, note: str | None) -> None:
    connection.execute(insert(intake_case_events).values(case_id=case_id, at=at, kind=kind, actor=actor, note=note))


def get_case(connection: Connection, case_id: str) -> dict | None:
    """One case with its household and region, or None."""
    row = connection.execute(select(intake_cases).where(intake_cases.c.case_id == case_id)).mappings().first()
    return dict(row) if row else None


def events(connection: Connection, case_id: str) -> list[dict]:
    """A case's events, oldest first."""
    query = select(intake_case_events).where(intake_case_events.c.case_id == case_id).order_by(intake_case_events.c.id)
    return [dict(row) for row in connection.execute(query).mappings()]


_HOUSEHOLD_CASES = (
    select(intake_cases.c.case_id, intake_cases.c.created_at, intake_cases.c.title, intake_cases.c.status)
    .where(intake_cases.c.household_code == bindparam("household"))
    .order_by(intake_cases.c.created_at.desc())
    .limit(bindparam("limit"))
)


def household_cases(connection: Connection, household_code: str, limit: int = 20) -> list[dict]:
    """A household's newest cases (id, time, title, status)."""
    rows = connection.execute(_HOUSEHOLD_CASES, {"household": household_code, "limit": limit}).mappings()
    return [dict(row) for row in rows]


def village_cases(connection: Connection, village: str, statuses: tuple[str, ...] = OPEN, limit: int = 100) -> list:
    """A village's cases of some statuses, the oldest open first (the office works through them in order)."""
    query = (
        select(intake_cases)
        .where(intake_cases.c.region_code == village, intake_cases.c.status.in_(statuses))
        .order_by(intake_cases.c.due_at, intake_cases.c.created_at)
        .limit(limit)
    )
    return [dict(row) for row in connection.execute(query).mappings()]


# action → (the statuses it applies to, the status after, the event, whether a note is needed)
ACTIONS = {
    "accept": (("received",), "in_progress", "accepted", False),
    "update": (OPEN, "in_progress", "updated", True),
    "close": (OPEN, "closed", "closed", True),
    "escalate": (OPEN, "in_progress", "escalated", True),
}
ACTION_NAMES = {"accept": "受理", "update": "记录进展", "close": "办结", "escalate": "上报乡镇"}
UPWARD = {"village": "township", "township": "county"}
LEVELS = ("village", "township", "county")


def _resent_step(connection: Connection, case_id: str, at: str, kind: str, actor: str, note: str | None) -> bool:
    """Whether the case's latest step is this same one, taken within RESENT_WITHIN before ``at`` (a double tap on
    记录进展, a reload of the page that answered it)."""
    events_of_case = select(intake_case_events).where(intake_case_events.c.case_id == case_id)
    latest = connection.execute(events_of_case.order_by(intake_case_events.c.id.desc()).limit(1)).first()
    return (
        latest is not None
        and (latest.kind, latest.actor, latest.note) == (kind, actor, note)
        and latest.at >= stamp(moment(at) - RESENT_WITHIN)
    )


def act(
    engine: Engine,
    case_id: str,
    action: str,
    note: str | None,
    actor: str,
    now: datetime | None = None,
    limits: Limits | None = None,
    *,
    role: str = "village",
) -> dict:
    """A clerk's step on a case (accept, update, close, escalate) with its note; the case after it. The caller has
    checked that the case lies within the clerk's scope; ``role`` is the actor's level (village, township): each
    escalates only a case at its own level. With ``limits``, it counts against the hour of the office of the case's
    village. The same step sent again at once is the first one."""
    if action not in ACTIONS:
        raise IntakeError("未知的操作")
    statuses, after, kind, needs_note = ACTIONS[action]
    note = checked_text(note, "说明", NOTE_LONGEST, required=needs_note) or None
    with writing(engine, now) as (connection, at):
        current = get_case(connection, case_id)
        if current is None:
            raise NotFound(f"诉求 {case_id} 不存在")
        if _resent_step(connection, case_id, at, kind, actor, note):
            return current  # sent twice: one step
        if limits:
            admit(connection, at, None, None, limits, office=current["region_code"])
        if current["status"] not in statuses:
            raise IntakeError(f"此诉求{STATUS_NAMES[current['status']]}，不能{ACTION_NAMES[action]}")
        level = current["escalation"] or "village"
        if action != "escalate" and LEVELS.index(level) > LEVELS.index(role if role in LEVELS else "village"):
            # Passed up, the case is the higher level's: the village closed it under the township's hands, and the
            # household was told 已办结 by the office that had passed it on.
            raise IntakeError(f"此诉求已上报{ESCALATION_NAMES[level]}，由{ESCALATION_NAMES[level]}办理")
        values = {"status": after, "updated_at": at}
        if current["handled_at"] is None:
            values["handled_at"] = at
        if action == "close":
            values["closed_at"] = at
        if action == "escalate":
            if current["escalation"] not in UPWARD:
                raise IntakeError("此诉求已在县级办理，不能再上报")
            if current["escalation"] != role:
                # A village passes a case to its township, which alone decides whether the county takes it; a case
                # sent past the township would leave every queue (the township lists its level only).
                raise IntakeError(
                    f"此诉求已上报{ESCALATION_NAMES[current['escalation']]}，"
                    f"{ESCALATION_NAMES.get(role, role)}级账号不能再上报"
                )
            values["escalation"] = UPWARD[current["escalation"]]
        connection.execute(update(intake_cases).where(intake_cases.c.case_id == case_id).values(**values))
        _event(connection, case_id, at, kind, actor, note)
        return {**current, **values}


def rate(
    engine: Engine,
    household: Household,
    case_id: str,
    score: str | None,
    *,
    address: str | None,
    limits: Limits,
    now: datetime | None = None,
) -> None:
    """A household's rating (1–5) of its closed case; once."""
    if score not in {"1", "2", "3", "4", "5"}:
        raise IntakeError("请选择 1 到 5 分")
    with writing(engine, now) as (connection, at):
        current = get_case(connection, case_id)
        if current is None or current["household_code"] != household.code:
            raise NotFound("没有这条诉求")
        if current["status"] == "rated":
            raise IntakeError("这条诉求已经评价过了")
        if current["status"] != "closed":
            raise IntakeError("诉求办结后才能评价")
        admit(connection, at, household.code, address, limits)
        connection.execute(
            update(intake_cases)
            .where(intake_cases.c.case_id == case_id)
            .values(status="rated", rated_at=at, satisfaction=int(score), updated_at=at)
        )
        _event(connection, case_id, at, "rated", None, f"{score} 分")
