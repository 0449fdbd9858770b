"""Map geometry files per level and per parent, simplified with shared edges kept, rebuilt only when stale."""

from __future__ import annotations

import os
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import orjson
import shapely
from sqlalchemy import Engine, func, select

from etl.warehouse.db import current_version
from etl.warehouse.schema import regions
from geo.codes import level_rank
from geo.coverage import feature_collection, match_vertices, simplify_level

# Simplify so that the error stays under about half a pixel when a parent fills a 1,000-pixel-wide map.
PIXELS_PER_VIEW = 2000


@dataclass
class BuildReport:
    """What a build wrote: the version it reflects, and the raw size of each level's file."""

    version: int
    built: bool
    level_bytes: dict[str, int]
    tolerances: dict[str, float]


def _write(path: Path, data: bytes) -> None:
    """Write a file atomically, so a screen never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def read_manifest(geo_dir: str | Path) -> dict | None:
    """The manifest of the last build, or None when nothing was built yet."""
    path = Path(geo_dir) / "manifest.json"
    return orjson.loads(path.read_bytes()) if path.exists() else None


def build_geometry(engine: Engine, geo_dir: str | Path, force: bool = False) -> BuildReport:
    """Write ``levels/<level>``, ``children/<parent>`` and ``regions/<code>`` GeoJSON and ``manifest.json``."""
    geo_dir = Path(geo_dir)
    with engine.connect() as connection:
        version = current_version(connection)
        # Map files depend on regions only: fact loads bump the warehouse version but change no boundary.
        count, newest = connection.execute(select(func.count(), func.max(regions.c.updated_at))).one()
        stamp = f"{count}:{newest}"
        manifest = read_manifest(geo_dir)
        if manifest and manifest.get("regions_stamp") == stamp and not force:
            return BuildReport(manifest["warehouse_version"], False, manifest["level_bytes"], manifest["tolerances"])
        rows = connection.execute(
            select(
                regions.c.code,
                regions.c.name,
                regions.c.level,
                regions.c.parent_code,
                regions.c.boundary,
                regions.c.geometry,
            ).where(regions.c.geometry.is_not(None))
        ).all()

    shapes = {row.code: shapely.from_wkb(row.geometry) for row in rows}
    by_level = defaultdict(dict)
    for row in rows:
        by_level[row.level][row.code] = shapes[row.code]
    info = {row.code: row for row in rows}
    level_bytes, tolerances = {}, {}
    roots = [row.code for row in rows if row.parent_code not in shapes]
    for level, cells in sorted(by_level.items(), key=lambda item: level_rank(item[0])):
        tolerances[level] = _tolerance(cells, info, shapes)
        simplified = simplify_level(match_vertices(cells), tolerances[level])
        features = {code: _feature(info[code], geometry) for code, geometry in simplified.items()}
        data = feature_collection(list(features.values()))
        level_bytes[level] = len(data)
        _write(geo_dir / "levels" / f"{level}.geojson", data)
        siblings = defaultdict(list)
        for code, feature in features.items():
            siblings[info[code].parent_code].append(feature)
            _write(geo_dir / "regions" / f"{code}.geojson", feature_collection([feature]))
        for parent, group in siblings.items():
            if parent:
                _write(geo_dir / "children" / f"{parent}.geojson", feature_collection(group))
    bounds = {code: [round(v, 6) for v in shape.bounds] for code, shape in shapes.items()}
    roots.sort(key=lambda code: (level_rank(info[code].level), code))
    manifest = {
        "warehouse_version": version,
        "regions_stamp": stamp,
        "root": roots[0] if roots else None,
        "roots": roots,
        "bounds": bounds,
        "level_bytes": level_bytes,
        "tolerances": tolerances,
    }
    _write(geo_dir / "manifest.json", orjson.dumps(manifest))
    return BuildReport(version, True, level_bytes, tolerances)


def _tolerance(cells: dict, info: dict, shapes: dict) -> float:
    """Half a pixel of a typical parent view (or of the level's own extent for the top level), in degrees."""
    parents = {info[code].parent_code for code in cells} & shapes.keys()
    extents = [
        max(shapes[p].bounds[2] - shapes[p].bounds[0], shapes[p].bounds[3] - shapes[p].bounds[1]) for p in parents
    ]
    if not extents:
        minx, miny, maxx, maxy = shapely.total_bounds(list(cells.values()))
        extents = [max(maxx - minx, maxy - miny)]
    return float(statistics.median(extents)) / PIXELS_PER_VIEW


def _feature(row, geometry) -> dict:
    label = geometry.point_on_surface()
    return {
        "geometry": geometry,
        "properties": {
            "code": row.code,
            "name": row.name,
            "level": row.level,
            "parent_code": row.parent_code,
            "boundary": row.boundary,
            "label": [round(label.x, 6), round(label.y, 6)],
        },
    }
