"""换积分: a household asks to redeem points for an item of its village's catalogue, the office confirms (the points
then reach the ledger through the qr_redemptions feed) or declines; the office edits the catalogue, which reaches
the catalogue dataset through the office_catalogue feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, exists, func, insert, select, update

from etl.warehouse.household_tokens import Household
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
from etl.warehouse.intake import (
    earlier as find_earlier,
)
from etl.warehouse.intake_cases import checked_key
from etl.warehouse.schema import catalogue_items, households, intake_catalogue, intake_redemptions, points_ledger
from geo.codes import parent_of

STATUS_NAMES = {"requested": "待确认", "confirmed": "已兑换", "rejected": "未通过"}
ITEM_STATUSES = {"on": "上架", "off": "下架"}
# Asked for or confirmed, and not yet in the ledger: spent already as far as the balance goes.
_PENDING = intake_redemptions.c.status.in_(("requested", "confirmed")) & ~exists().where(
    points_ledger.c.entry_id == intake_redemptions.c.redemption_id
)


def lineage(code: str) -> list[str]:
    """The region and every region above it (a county's catalogue item is offered in each of its villages)."""
    codes = [code]
    while (parent := parent_of(codes[-1])) is not None:
        codes.append(parent)
    return codes


# The statements of a household's page, built once (it is the hot path).
_OFFERED = (
    select(catalogue_items.c.item_id, catalogue_items.c.name, catalogue_items.c.points, catalogue_items.c.note)
    .where(catalogue_items.c.region_code.in_(bindparam("codes", expanding=True)), catalogue_items.c.status == "on")
    .order_by(catalogue_items.c.points, catalogue_items.c.item_id)
)
_EARNED = select(func.coalesce(func.sum(points_ledger.c.points), 0)).where(
    points_ledger.c.household_code == bindparam("household")
)
_HELD = select(func.coalesce(func.sum(intake_redemptions.c.points), 0)).where(
    intake_redemptions.c.household_code == bindparam("household"), _PENDING
)
_ASKED = (
    select(intake_redemptions)
    .where(intake_redemptions.c.household_code == bindparam("household"))
    .order_by(intake_redemptions.c.requested_at.desc())
    .limit(bindparam("limit"))
)


# The office's edits not yet carried into catalogue_items by the office_catalogue feed (it runs every 30 s): an item
# taken off or repriced must not be redeemed meanwhile as the warehouse still has it.
_EDITED = select(
    intake_catalogue.c.item_id,
    intake_catalogue.c.name,
    intake_catalogue.c.points,
    intake_catalogue.c.note,
    intake_catalogue.c.status,
).where(intake_catalogue.c.region_code.in_(bindparam("codes", expanding=True)))


def offered(connection: Connection, village: str) -> list[dict]:
    """The catalogue items on offer in a village (its own and those of the regions above it) with the office's latest
    edits over the warehouse's, cheapest first."""
    codes = {"codes": lineage(village)}
    items = {row["item_id"]: dict(row) for row in connection.execute(_OFFERED, codes).mappings()}
    for row in connection.execute(_EDITED, codes).mappings():
        edit = dict(row)
        if edit.pop("status") == "on":
            items[edit["item_id"]] = edit
        else:
            items.pop(edit["item_id"], None)
    return sorted(items.values(), key=lambda item: (item["points"], item["item_id"]))


def balance(connection: Connection, household_code: str) -> int:
    """A household's points: its ledger's total, less what it has asked to redeem that the ledger has not yet."""
    earned = connection.execute(_EARNED, {"household": household_code}).scalar_one()
    pending = connection.execute(_HELD, {"household": household_code}).scalar_one()
    return int(earned) - int(pending)


def request(
    engine: Engine,
    household: Household,
    form: dict,
    *,
    address: str | None,
    limits: Limits,
    now: datetime | None = None,
) -> tuple[str, bool]:
    """A household's request to redeem an item (form: item, key): (its id, whether it is new). The points are held
    from the balance at once; the same form sent twice makes one request."""
    key = checked_key(form.get("key"))
    with writing(engine, now) as (connection, at):
        earlier = find_earlier(connection, intake_redemptions, household.code, key)
        if earlier:
            return earlier, False
        item = next(
            (item for item in offered(connection, household.village) if item["item_id"] == form.get("item")), None
        )
        if item is None:
            raise IntakeError("这件物品已不在本村兑换目录中")
        have = balance(connection, household.code)
        if have < item["points"]:
            raise IntakeError(f"积分不足：兑换“{item['name']}”需要 {item['points']} 分，本户现有 {have} 分")
        admit(connection, at, household.code, address, limits)
        redemption_id = record(connection, at, household, item, key, address)
    return redemption_id, True


def record(connection: Connection, at: str, household: Household, item: dict, key: str, address: str | None) -> str:
    """Write a redemption request (checked already) inside ``writing``; its id."""
    redemption_id = new_id("DH", at)
    connection.execute(
        insert(intake_redemptions).values(
            redemption_id=redemption_id,
            household_code=household.code,
            region_code=household.village,
            item_id=item["item_id"],
            item_name=item["name"],
            points=item["points"],
            status="requested",
            requested_at=at,
            idempotency_key=key,
            address=address,
            updated_at=at,
        )
    )
    return redemption_id


def decide(
    engine: Engine,
    village: str,
    redemption_id: str,
    confirm: bool,
    note: str | None,
    *,
    actor: str,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> None:
    """The office confirms a request of its village (the goods were handed over) or declines it (with a reason).
    With ``limits``, it counts against the village office's hour."""
    note = checked_text(note, "理由", 200, required=not confirm) or None
    if confirm and note:
        # A reason belongs to a refusal: a confirmation carrying one is a decline sent the wrong way (Enter pressed in
        # the reason box), and a confirmation cannot be undone.
        raise IntakeError("确认兑换不需要填写理由；不通过请在“不通过”一栏填写理由后提交")
    with writing(engine, now) as (connection, at):
        if limits:
            admit(connection, at, None, None, limits, office=village)
        row = connection.execute(
            select(intake_redemptions).where(intake_redemptions.c.redemption_id == redemption_id)
        ).first()
        if row is None or row.region_code != village:
            raise NotFound(f"本村没有兑换申请 {redemption_id}")
        if row.status != "requested":
            raise IntakeError(f"此申请{STATUS_NAMES[row.status]}，不能再处理")
        connection.execute(
            update(intake_redemptions)
            .where(intake_redemptions.c.redemption_id == redemption_id)
            .values(
                status="confirmed" if confirm else "rejected", decided_at=at, decided_by=actor, note=note, updated_at=at
            )
        )


def household_redemptions(connection: Connection, household_code: str, limit: int = 10) -> list[dict]:
    """A household's newest redemption requests."""
    return [dict(row) for row in connection.execute(_ASKED, {"household": household_code, "limit": limit}).mappings()]


def waiting(connection: Connection, village: str) -> list[dict]:
    """A village's requests waiting for the office, oldest first, each with its household's 组, 门牌 and head (for
    masking): the clerk hands the goods to that household."""
    query = (
        select(intake_redemptions, households.c.village_group, households.c.door_plate, households.c.head_name)
        .outerjoin(households, households.c.household_code == intake_redemptions.c.household_code)
        .where(intake_redemptions.c.region_code == village, intake_redemptions.c.status == "requested")
        .order_by(intake_redemptions.c.requested_at)
    )
    return [dict(row) for row in connection.execute(query).mappings()]


def save_item(
    engine: Engine, village: str, form: dict, *, author: str, now: datetime | None = None, limits: Limits | None = None
) -> str:
    """Add an item to the village's catalogue, or change one of its own (form: item_id to change one, name, points,
    note, status); its id. The change reaches the catalogue dataset through the office_catalogue feed. With
    ``limits``, it counts against the village office's hour."""
    name = checked_text(form.get("name"), "物品名称", 100)
    points = checked_whole(form.get("points"), "所需积分", 1, 100000)
    if points is None:
        raise IntakeError("所需积分应为 1 到 100000 的整数")
    values = {
        "name": name,
        "points": points,
        "note": checked_text(form.get("note"), "说明", 200, required=False) or None,
        "status": checked_choice(form.get("status") or "on", ITEM_STATUSES, "状态"),
    }
    item_id = (form.get("item_id") or "").strip()
    with writing(engine, now) as (connection, at):
        if limits:
            admit(connection, at, None, None, limits, office=village)
        if item_id:
            owner = (
                connection.execute(
                    select(catalogue_items.c.region_code).where(catalogue_items.c.item_id == item_id)
                ).scalar()
                or connection.execute(
                    select(intake_catalogue.c.region_code).where(intake_catalogue.c.item_id == item_id)
                ).scalar()
            )
            if owner != village:
                raise NotFound(f"本村目录中没有编号为 {item_id} 的物品")
            since = connection.execute(
                select(intake_catalogue.c.since).where(intake_catalogue.c.item_id == item_id)
            ).scalar()
            connection.execute(intake_catalogue.delete().where(intake_catalogue.c.item_id == item_id))
        elif earlier := resent(connection, intake_catalogue, at, "updated_at", region_code=village, **values):
            return earlier  # sent twice: one item
        else:
            item_id, since = new_id("WP", at), None
        connection.execute(
            insert(intake_catalogue).values(
                item_id=item_id,
                region_code=village,
                since=since or at,
                author=author,
                updated_at=at,
                **values,
            )
        )
    return item_id


def village_items(connection: Connection, village: str) -> list[dict]:
    """Every item of the village's own catalogue as the warehouse has it, with the office's newer edits over it."""
    c = catalogue_items.c
    rows = {
        row["item_id"]: dict(row)
        for row in connection.execute(
            select(c.item_id, c.name, c.points, c.note, c.status).where(c.region_code == village)
        ).mappings()
    }
    for row in connection.execute(select(intake_catalogue).where(intake_catalogue.c.region_code == village)).mappings():
        rows[row["item_id"]] = {key: row[key] for key in ("item_id", "name", "points", "note", "status")}
    return sorted(rows.values(), key=lambda item: (item["status"] != "on", item["points"], item["item_id"]))
