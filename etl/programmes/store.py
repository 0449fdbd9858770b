"""A programme written into the warehouse (programme, pilots resolved to regions, milestones, items with their
rules), replacing what an earlier import of it wrote; its scores' history stays."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert

from etl.programmes.catalogue import Programme
from etl.programmes.resolve import resolve_pilots
from etl.warehouse.db import bump_version
from etl.warehouse.schema import programme_items, programme_milestones, programme_pilots, programmes


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


def import_programme(connection: Connection, programme: Programme, now: datetime | None = None) -> Imported:
    """Write the programme in the caller's transaction and bump the warehouse version."""
    now = now or datetime.now(UTC)
    resolved = resolve_pilots(connection, programme)
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
