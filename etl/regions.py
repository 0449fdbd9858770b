"""Regions into the warehouse: the code hierarchy, surveyed boundaries and schematic cells for the rest."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, select, update

from etl.quarantine import record_issues
from etl.upsert import upsert
from etl.warehouse.db import bump_version
from etl.warehouse.schema import BOUNDARY_SCHEMATIC, BOUNDARY_SURVEYED, regions
from geo.boundaries import BoundariesRead, BoundaryFeature
from geo.codes import is_within, level_rank
from geo.hierarchy import HierarchyRead, read_codes_csv
from geo.issues import Issue
from geo.schematic import partition

# A feature is "outside its parent" when less than this share of its area lies inside the parent:
# boundaries from different sources are generalised differently, so edges never agree exactly.
INSIDE_PARENT_SHARE = 0.5
# Two siblings (townships of a county) whose overlap is more than this share of the smaller one get a note: edges of
# neighbours from different sources overlap a little; two drawn alike (a copied feature, a wrong code) overlap wholly.
SIBLING_OVERLAP_SHARE = 0.05
# Code files name villages by their committee (南肖村委会); boundary files by the place (南肖村).
COMMITTEE_SUFFIXES = {
    "村民委员会": "村",
    "村委会": "村",
    "社区居民委员会": "社区",
    "社区居委会": "社区",
    "居委会": "",
}


@dataclass
class LoadReport:
    """What a load did: rows written, rows left as they were, rows skipped (with why) and the version after."""

    loaded: int = 0
    unchanged: int = 0
    issues: list[Issue] = field(default_factory=list)
    version: int | None = None
    notes: list[str] = field(default_factory=list)  # what was done that a person should know (features merged)


# What the boundary checks and the schematic cells read of every region.
_SHAPES = (
    regions.c.code,
    regions.c.name,
    regions.c.level,
    regions.c.parent_code,
    regions.c.geometry,
    regions.c.boundary,
)


def known_codes(engine: Engine) -> set[str]:
    """The codes of every region already in the warehouse."""
    with engine.connect() as connection:
        return set(connection.execute(select(regions.c.code)).scalars())


def import_codes_file(engine: Engine, path: str | Path, source: str = "geo import") -> LoadReport:
    """Read a code CSV and store its regions, quarantining rejected rows."""
    return load_hierarchy(engine, read_codes_csv(path, known_codes=known_codes(engine)), source)


def load_hierarchy(engine: Engine, read: HierarchyRead, source: str) -> LoadReport:
    """Upsert regions (name, level, parent, households, population); their geometry is left as it is."""
    report = LoadReport(issues=list(read.issues))
    columns = ("code", "name", "level", "parent_code", "households", "population")
    with engine.begin() as connection:
        existing = {row[0]: tuple(row) for row in connection.execute(select(*(regions.c[c] for c in columns)))}
        now = datetime.now(UTC)
        changed = []
        for record in read.regions:
            values = tuple(getattr(record, column) for column in columns)
            if existing.get(record.code) == values:
                report.unchanged += 1
            else:
                changed.append({**dict(zip(columns, values, strict=True)), "updated_at": now})
        upsert(connection, regions, changed, ["code"])
        report.loaded = len(changed)
        report.notes.extend(_left_out(read, existing))
        if record_issues(connection, source, report.issues) or changed:
            report.version = bump_version(connection)
    return report


def _left_out(read: HierarchyRead, existing: dict[str, tuple]) -> list[str]:
    """A note naming the stored regions under a county (or higher) of the file that the file no longer lists (a
    village merged or abolished): they are kept, with their facts and accounts, and a person should know."""
    tops = [r.code for r in read.regions if level_rank(r.level) <= level_rank("county")]
    if not tops:
        return []  # a partial list (townships, villages): what it leaves out says nothing
    listed = {r.code for r in read.regions}
    gone = sorted(code for code in existing if code not in listed and any(is_within(code, top) for top in tops))
    if not gone:
        return []
    shown = "、".join(f"{existing[code][1]}（{code}）" for code in gone[:10]) + (" 等" if len(gone) > 10 else "")
    return [f"数据仓库中有 {len(gone)} 个区划不在本文件中，仍保留（撤并的村请核对其数据与账号）：{shown}"]


def plain_name(name: str) -> str:
    """A region name without its committee suffix, as boundary files write it (南肖村委会 → 南肖村)."""
    for suffix, replacement in COMMITTEE_SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + replacement
    return name


def geometry_values(geometry: BaseGeometry, boundary: str, now: datetime) -> dict:
    """The geometry columns of a region: WKB, boundary kind and a label point inside the polygon."""
    label = geometry.point_on_surface()
    return {
        "geometry": shapely.to_wkb(geometry),
        "boundary": boundary,
        "centroid_lon": label.x,
        "centroid_lat": label.y,
        "updated_at": now,
    }


def _match(feature: BoundaryFeature, table: dict, by_name: dict, parent_code: str | None):
    """The region code a feature belongs to, or (field, kind, detail) saying why none."""
    if feature.code is not None:
        if feature.code in table:
            return feature.code, None
        return None, (
            "code",
            "unknown region",
            f"{feature.code} 不在数据仓库中；请先导入区划代码",
        )
    if parent_code is None:
        return None, (
            "code",
            "no code",
            f"'{feature.name}' 没有区划代码；用 --parent 指定上级区划，可按名称匹配其下级",
        )
    codes = by_name.get((parent_code, plain_name(feature.name)), [])
    if len(codes) == 1:
        return codes[0], None
    count = f"有 {len(codes)} 个" if codes else "没有"
    detail = f"{parent_code} 下{count}名为 '{feature.name}' 的区划"
    return None, ("name", "unknown region" if not codes else "ambiguous name", detail)


def load_boundaries(engine: Engine, read: BoundariesRead, source: str, parent_code: str | None = None) -> LoadReport:
    """Store surveyed polygons for the regions they match (by code, or by name under ``parent_code``).

    Parents are placed first, so a township is checked against its county's polygon from the same file; a region's
    surveyed children stored earlier are checked against its new polygon, and siblings that overlap are noted.
    """
    report = LoadReport(issues=list(read.issues), notes=list(read.notes))
    now = datetime.now(UTC)
    with engine.begin() as connection:
        table = {row.code: row for row in connection.execute(select(*_SHAPES))}
        by_name = defaultdict(list)
        for row in table.values():
            by_name[(row.parent_code, plain_name(row.name))].append(row.code)
        # A region drawn as several features (an exclave, a county split in two) is their union: stored one by
        # one, the last overwrote the others and half of 长兴县 was lost without a word.
        parts: dict[str, list[BoundaryFeature]] = defaultdict(list)
        for feature in read.features:
            code, problem = _match(feature, table, by_name, parent_code)
            if problem:
                report.issues.append(Issue(read.file, feature.location, *problem, feature.raw))
                continue
            parts[code].append(feature)
        # Surveyed polygons as they will be after this file: the stored ones, then this file's, parents first (a
        # township listed before its county in one file was checked against the county stored before the file).
        surveyed = {
            code: shapely.from_wkb(row.geometry)
            for code, row in table.items()
            if row.geometry is not None and row.boundary == BOUNDARY_SURVEYED
        }
        placed: dict[str, BaseGeometry] = {}
        for code in sorted(parts, key=lambda c: (level_rank(table[c].level), c)):
            row = table[code]
            kept = []
            for feature in parts[code]:
                problem = _outside_parent(feature.geometry, row, surveyed.get(row.parent_code))
                if problem:
                    report.issues.append(Issue(read.file, feature.location, *problem, feature.raw))
                else:
                    kept.append(feature)
            if not kept:
                continue
            geometry = kept[0].geometry
            if len(kept) > 1:
                geometry = shapely.union_all([feature.geometry for feature in kept])
                report.notes.append(f"{'、'.join(f.location for f in kept)} 同属 {code}，已合并为一个边界")
            placed[code] = surveyed[code] = geometry
        report.notes.extend(_stray_children(placed, surveyed, table))
        report.notes.extend(_overlapping_siblings(placed, surveyed, table))
        for code, geometry in placed.items():
            values = geometry_values(geometry, BOUNDARY_SURVEYED, now)
            if table[code].geometry == values["geometry"] and table[code].boundary == BOUNDARY_SURVEYED:
                report.unchanged += 1
                continue
            connection.execute(update(regions).where(regions.c.code == code).values(**values))
            report.loaded += 1
        if record_issues(connection, source, report.issues) or report.loaded:
            report.version = bump_version(connection)
    return report


def _inside_share(child: BaseGeometry, parent: BaseGeometry) -> float:
    return child.intersection(parent).area / child.area if child.area else 1.0


def _outside_parent(geometry: BaseGeometry, row, parent: BaseGeometry | None):
    """(field, kind, detail) when the polygon lies mostly outside its parent's surveyed polygon."""
    if parent is None:
        return None
    inside = _inside_share(geometry, parent)
    if inside >= INSIDE_PARENT_SHARE:
        return None
    return (
        "geometry",
        "outside parent",
        f"{row.code} 只有 {inside:.0%} 的面积在其上级 {row.parent_code} 之内",
    )


def _named(row) -> str:
    return f"{row.name}（{row.code}）"


def _stray_children(placed: dict, surveyed: dict, table: dict) -> list[str]:
    """Notes on surveyed children stored before that lie mostly outside their parent's new polygon: imported
    before the parent, they were never checked (which of the two is wrong only a person can say; both are kept)."""
    notes = []
    for row in table.values():
        if row.parent_code not in placed or row.code in placed or row.code not in surveyed:
            continue
        inside = _inside_share(surveyed[row.code], placed[row.parent_code])
        if inside < INSIDE_PARENT_SHARE:
            parent = table[row.parent_code]
            notes.append(
                f"已导入的 {_named(row)}的边界只有 {inside:.0%} 的面积在 {_named(parent)}的新边界之内：请核对两者"
            )
    return notes


def _overlapping_siblings(placed: dict, surveyed: dict, table: dict) -> list[str]:
    """Notes on pairs of surveyed siblings, one of them from this file, whose overlap is more than
    SIBLING_OVERLAP_SHARE of the smaller one: two townships drawn alike (a copied feature, a wrong code)."""
    notes = []
    families = defaultdict(list)
    for code in surveyed:
        families[table[code].parent_code].append(code)
    for codes in families.values():
        if not any(code in placed for code in codes) or len(codes) < 2:
            continue
        codes.sort()
        shapes = [surveyed[code] for code in codes]
        tree = shapely.STRtree(shapes)
        for first, second in zip(*tree.query(shapes, predicate="intersects"), strict=True):
            if first >= second or (codes[first] not in placed and codes[second] not in placed):
                continue
            a, b = shapes[first], shapes[second]
            smaller = min(a.area, b.area)
            share = a.intersection(b).area / smaller if smaller else 0.0
            if share > SIBLING_OVERLAP_SHARE:
                notes.append(
                    f"{_named(table[codes[first]])}与 {_named(table[codes[second]])}的边界重叠，"
                    f"重叠部分占较小者面积的 {share:.0%}：请核对是否画错或代码填错"
                )
    return notes


def _without_outline(rows, shapes: dict, children: dict) -> list[str]:
    """Why the regions under a top region got no schematic boundaries: the top one has no boundary to divide."""
    codes = {row.code for row in rows}
    tops = [row for row in rows if row.parent_code not in codes and children.get(row.code)]
    return [
        f"{top.name}（{top.code}）没有边界，未生成其下区划的示意边界："
        "先导入它的边界（ruralbrain geo import 边界.geojson），再按需导入乡镇、村的边界"
        for top in tops
        if top.code not in shapes and any(kid not in shapes for kid in children[top.code])
    ]


def fill_schematic(engine: Engine) -> LoadReport:
    """Give every region without a surveyed polygon a schematic cell of its parent, top-down; stable on rerun."""
    report = LoadReport()
    now = datetime.now(UTC)
    with engine.begin() as connection:
        rows = connection.execute(select(*_SHAPES)).all()
        shapes = {r.code: shapely.from_wkb(r.geometry) for r in rows if r.boundary == BOUNDARY_SURVEYED}
        old = {r.code: r.geometry for r in rows if r.boundary == BOUNDARY_SCHEMATIC}
        children = defaultdict(list)
        for row in rows:
            children[row.parent_code].append(row.code)
        cells: dict[str, BaseGeometry] = {}
        for row in sorted(rows, key=lambda r: level_rank(r.level)):
            kids = children.get(row.code)
            parent_shape = shapes.get(row.code)
            if not kids or parent_shape is None:
                continue
            fixed = {code: shapes[code] for code in kids if code in shapes}
            if len(fixed) == len(kids):
                continue
            try:
                new = partition(parent_shape, kids, fixed)
            except (ValueError, GEOSException) as error:
                # GEOS fails on absurd coordinates (a polygon stored before they were refused): name the region
                why = str(error) if isinstance(error, ValueError) else f"几何运算失败（GEOS：{error}）"
                raise ValueError(f"{row.name}（{row.code}）：{why}；请检查并重新导入它的边界") from error
            cells.update(new)
            shapes.update(new)
        for code, cell in cells.items():
            values = geometry_values(cell, BOUNDARY_SCHEMATIC, now)
            if old.pop(code, None) == values["geometry"]:
                report.unchanged += 1
                continue
            connection.execute(update(regions).where(regions.c.code == code).values(**values))
            report.loaded += 1
        report.notes.extend(_without_outline(rows, shapes, children))
        for code in old:  # schematic cells whose region has since got a surveyed polygon elsewhere
            connection.execute(
                update(regions)
                .where(regions.c.code == code)
                .values(geometry=None, boundary=None, centroid_lon=None, centroid_lat=None, updated_at=now)
            )
            report.loaded += 1
        if report.loaded:
            report.version = bump_version(connection)
    return report
