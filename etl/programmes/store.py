"""A programme written into the warehouse (programme, pilots resolved to regions, milestones, items with their
rules), replacing what an earlier import of it wrote; its scores' history stays."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, insert, select

from etl.programmes.catalogue import Programme, ProgrammeError
from etl.programmes.resolve import Resolved, resolve_pilots
from etl.warehouse.db import bump_version
from etl.warehouse.schema import (
    pilot_funds,
    pilot_scores,
    pilot_status,
    programme_items,
    programme_milestones,
    programme_pilots,
    programmes,
    regions,
)


@dataclass(frozen=True)
class Imported:
    """What an import wrote: pilots by how they resolved, and the ones that did not (with why)."""

    programme_id: str
    pilots: int
    resolutions: Counter
    unresolved: list[tuple[str, str]]  # (pilot name, note)
    ancestors: list[tuple[str, str]]
    milestones: int
    items: int


def import_programme(
    connection: Connection, programme: Programme, now: datetime | None = None, force: bool = False
) -> Imported:
    """Write the programme in the caller's transaction and bump the warehouse version; ProgrammeError when two
    pilots of a kind stand for one place, or (unless ``force``) when pilots imported before would be dropped."""
    now = now or datetime.now(UTC)
    resolved = resolve_pilots(connection, programme)
    _one_pilot_a_place(connection, programme, resolved)
    if not force:
        _nothing_orphaned(connection, programme)
    for table in (programme_items, programme_milestones, programme_pilots, programmes):
        connection.execute(delete(table).where(table.c.programme_id == programme.programme_id))
    connection.execute(
        insert(programmes).values(
            programme_id=programme.programme_id,
            name=programme.name,
            document=programme.document or None,
            issuer=programme.issuer or None,
            region_code=programme.region,
            funds_per_pilot=programme.funds_per_pilot,
            digest=programme.digest,
            imported_at=now,
        )
    )
    connection.execute(
        insert(programme_pilots),
        [
            {
                "programme_id": programme.programme_id,
                "pilot_id": pilot.pilot_id,
                "position": position,
                "kind": pilot.kind,
                "name": pilot.name,
                "county": pilot.county.replace(" ", ""),
                "code": pilot.code,
                "region_code": resolved[pilot.pilot_id].region_code,
                "resolution": resolved[pilot.pilot_id].resolution,
                "note": resolved[pilot.pilot_id].note or None,
            }
            for position, pilot in enumerate(programme.pilots, start=1)
        ],
    )
    connection.execute(
        insert(programme_milestones),
        [
            {
                "programme_id": programme.programme_id,
                "milestone_id": milestone.milestone_id,
                "position": position,
                "name": milestone.name,
                "month": milestone.month,
                "due_at": milestone.due_at,
                "text": milestone.text or None,
            }
            for position, milestone in enumerate(programme.milestones, start=1)
        ],
    )
    connection.execute(
        insert(programme_items),
        [
            {
                "programme_id": programme.programme_id,
                "item_id": item.item_id,
                "position": position,
                "level": item.level,
                "area": item.area,
                "number": item.number,
                "name": item.name,
                "text": item.text,
                "rules": json.dumps(item.declared(), ensure_ascii=False),
            }
            for position, item in enumerate(programme.items, start=1)
        ],
    )
    bump_version(connection)
    by_name = {pilot.pilot_id: pilot.name for pilot in programme.pilots}

    def listed(kind: str) -> list[tuple[str, str]]:
        return [(by_name[key], found.note) for key, found in resolved.items() if found.resolution == kind]

    return Imported(
        programme.programme_id,
        len(programme.pilots),
        Counter(found.resolution for found in resolved.values()),
        listed("unresolved"),
        listed("ancestor"),
        len(programme.milestones),
        len(programme.items),
    )


def _one_pilot_a_place(connection: Connection, programme: Programme, resolved: dict[str, Resolved]) -> None:
    """ProgrammeError naming both entries when two pilots of one kind resolved to one region of their own level:
    one place listed by its code and again by its names was scored twice and its money counted twice. (Pilots
    the codes lack, tracked under the unit above, may share it.)"""
    codes = sorted({found.region_code for found in resolved.values() if found.region_code})
    names = dict(connection.execute(select(regions.c.code, regions.c.name).where(regions.c.code.in_(codes))).all())
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for number, pilot in enumerate(programme.pilots, start=1):
        found = resolved[pilot.pilot_id]
        if found.resolution not in ("code", "name"):
            continue
        entry = f"第 {number} 个试点（{pilot.county}{pilot.name}，编号 {pilot.pilot_id}）"
        key = (pilot.kind, found.region_code)
        if key in seen:
            first, earlier = seen[key]
            region = f"{names.get(found.region_code, '')}（{found.region_code}）"
            raise ProgrammeError(
                f"{programme.pilots_file} {entry}与第 {first} 个试点（{earlier}）都对应区划 {region}："
                "同一地方只能列一次"
            )
        seen[key] = (number, f"{pilot.county}{pilot.name}，编号 {pilot.pilot_id}")


def _nothing_orphaned(connection: Connection, programme: Programme) -> None:
    """ProgrammeError when pilots the warehouse holds for this programme id are not in the new list: their scores,
    progress and funds reports would belong to no pilot (a corrected code is a new id, the pilot's history stays
    under the old one; a programme imported under another's id replaces all its pilots)."""
    key = programme.programme_id
    old = connection.execute(
        select(programme_pilots.c.pilot_id, programme_pilots.c.county, programme_pilots.c.name)
        .where(programme_pilots.c.programme_id == key)
        .order_by(programme_pilots.c.position)
    ).all()
    new = {pilot.pilot_id for pilot in programme.pilots}
    gone = [row for row in old if row.pilot_id not in new]
    if not gone:
        return
    by_name = {(pilot.county.replace(" ", ""), pilot.name): pilot.pilot_id for pilot in programme.pilots}
    ids = [row.pilot_id for row in gone]
    counts = {}
    for label, table in (("评分", pilot_scores), ("进度", pilot_status), ("资金", pilot_funds)):
        query = (
            select(table.c.pilot_id, func.count())
            .where(table.c.programme_id == key, table.c.pilot_id.in_(ids))
            .group_by(table.c.pilot_id)
        )
        counts[label] = dict(connection.execute(query).all())
    lines = []
    for row in gone[:20]:
        renamed = by_name.get((row.county, row.name))
        now_as = f"，新名单中编号为 {renamed}" if renamed else "，新名单中没有"
        rows = "，".join(f"{label} {per.get(row.pilot_id, 0)} 条" for label, per in counts.items())
        lines.append(f"  {row.county}{row.name}（编号 {row.pilot_id}{now_as}）：{rows}")
    if len(gone) > 20:
        lines.append(f"  ……另有 {len(gone) - 20} 个")
    named = connection.execute(select(programmes.c.name).where(programmes.c.programme_id == key)).scalar()
    other = f"已导入的方案 {key} 是“{named}”，新方案是“{programme.name}”；" if named != programme.name else ""
    raise ProgrammeError(
        f"{other}已导入的方案 {key} 中有 {len(gone)} 个试点不在新名单里，重新导入后它们的评分、进度和资金记录将不属于"
        "任何试点：\n" + "\n".join(lines) + "\n确认要这样做（如更正代码后编号改变）请加 --force；"
        "保留历史请在新名单中用 id 写明原编号"
    )
