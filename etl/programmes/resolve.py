"""Pilots resolved to the regions the deployment imported: by the code the list gives, else by their names under
the county, else to the nearest region above them that is known (景区, a name the codes do not have)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, select

from etl.programmes.catalogue import PilotEntry, Programme
from etl.warehouse.schema import regions
from geo.codes import scope_range

# How code lists write a village's committee; the programme writes the village: 南肖村委会 is 南肖村.
SUFFIXES = (
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", ""),
    ("居委会", ""),
)
LEVEL_NAMES = {"county": "县", "township": "乡镇", "village": "村"}


def normalized(name: str) -> str:
    """A name without spaces (代 县) and with a committee suffix read as the place it serves."""
    name = re.sub(r"\s+", "", name or "")
    for suffix, place in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + place
    return name


@dataclass(frozen=True)
class Resolved:
    """Where a pilot is tracked: a region code (None when nothing was found), how, and why in Chinese."""

    region_code: str | None
    resolution: str  # code | name | ancestor | unresolved
    note: str


@dataclass(frozen=True)
class _Region:
    code: str
    name: str
    level: str
    parent: str | None


def resolve_pilots(connection: Connection, programme: Programme) -> dict[str, Resolved]:
    """Every pilot's region among the regions under the programme's region."""
    low, high = scope_range(programme.region)
    rows = connection.execute(
        select(regions.c.code, regions.c.name, regions.c.level, regions.c.parent_code).where(
            regions.c.code.between(low, high)
        )
    ).all()
    known = {row.code: _Region(row.code, row.name, row.level, row.parent_code) for row in rows}
    children: dict[str, list[_Region]] = {}
    for region in known.values():
        children.setdefault(region.parent or "", []).append(region)
    return {pilot.pilot_id: _resolve(pilot, known, children) for pilot in programme.pilots}


def _child(children: dict[str, list[_Region]], parent: str, level: str, name: str) -> _Region | None:
    wanted = normalized(name)
    matches = [r for r in children.get(parent, []) if r.level == level and normalized(r.name) == wanted]
    return matches[0] if len(matches) == 1 else None


def _county(pilot: PilotEntry, known: dict[str, _Region], children, trust_code: bool = True) -> _Region | None:
    """The pilot's county: by the code's (unless not trusted) or the hint's first six digits, else by its name."""
    for hint in (pilot.code if trust_code else None, pilot.within):
        if hint and hint[:6] + "000000" in known:
            return known[hint[:6] + "000000"]
    wanted = normalized(pilot.county)
    matches = [r for r in known.values() if r.level == "county" and normalized(r.name) == wanted]
    return matches[0] if len(matches) == 1 else None


def _resolve(pilot: PilotEntry, known: dict[str, _Region], children) -> Resolved:
    wrong_code = ""
    if pilot.code and pilot.code in known:
        region = known[pilot.code]
        differs = normalized(region.name) != normalized(pilot.village if pilot.kind == "village" else pilot.township)
        county = known.get(pilot.code[:6] + "000000")
        named = _county(pilot, known, children, trust_code=False) if pilot.within is None else None
        if differs and county is not None and named is not None and named.code != county.code:
            # The code is a place of another county the list names (and of another name): a mistyped code. It was
            # taken as it was, the pilot scored on that place's data and shown in that county's reports. (A county
            # the codes spell otherwise, 五台山景区 for 五台山风景名胜区, names none: its codes stand.)
            wrong_code = f"名单的代码 {pilot.code} 是{county.name}{region.name}，与名单不符，未按代码对应"
        else:
            notes = [f"区划名称为“{region.name}”" if differs else ""]
            parent = known.get(region.parent or "")
            if pilot.kind == "village" and parent is not None and normalized(parent.name) != normalized(pilot.township):
                notes.append(f"区划中属于{parent.name}（名单写作{pilot.township}）")
            return Resolved(region.code, "code", _joined(*notes, pilot.note))
    found = _county(pilot, known, children, trust_code=not wrong_code)
    if found is None:
        return Resolved(None, "unresolved", _joined(wrong_code, f"已导入的区划中没有{pilot.county}", pilot.note))
    steps = [("township", pilot.township)] + ([("village", pilot.village)] if pilot.kind == "village" else [])
    hinted = pilot.within if pilot.within and pilot.within in known else None
    for level, name in steps:
        below = _child(children, found.code, level, name)
        if below is None and hinted and known[hinted].level == level:
            below = known[hinted]  # the list's hint stands for a level whose name the codes spell otherwise
        if below is None:
            missing = name
            note = f"名单中的“{missing}”在已导入的区划中没有对应单位，按上级区划 {found.name}（{found.code}）统计"
            return Resolved(found.code, "ancestor", _joined(wrong_code, note, pilot.note))
        found = below
    return Resolved(found.code, "name", _joined(wrong_code, "按名称对应", pilot.note))


def _joined(*notes: str) -> str:
    return "；".join(note for note in notes if note)
