"""Schematic boundaries (示意边界): deterministic Voronoi cells for children without a surveyed polygon."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping

import numpy as np
import shapely
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry

from geo.coverage import match_vertices

# a cell below this share of the mean cell area gets its seed moved into the largest cell
_MIN_AREA_SHARE = 0.02
_RESEED_ROUNDS = 8


class _Frame:
    """A local frame around an area where one unit of x and of y are the same ground distance."""

    def __init__(self, area: BaseGeometry) -> None:
        min_lon, min_lat, max_lon, max_lat = area.bounds
        self.lon0, self.lat0 = (min_lon + max_lon) / 2, (min_lat + max_lat) / 2
        self.scale = math.cos(math.radians(self.lat0))

    def to_local(self, geometry: BaseGeometry) -> BaseGeometry:
        """The geometry in the frame."""
        return shapely.transform(geometry, lambda xy: (xy - (self.lon0, self.lat0)) * (self.scale, 1.0))

    def to_degrees(self, geometry: np.ndarray) -> np.ndarray:
        """Geometries of the frame back in lon/lat degrees."""
        return shapely.transform(geometry, lambda xy: xy / (self.scale, 1.0) + (self.lon0, self.lat0))


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Only the polygons of a geometry (overlays can add stray lines and points), as one geometry."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    polygons = [
        polygon
        for part in shapely.get_parts(geometry)
        for polygon in shapely.get_parts(part)
        if polygon.geom_type == "Polygon" and not polygon.is_empty
    ]
    if len(polygons) == 1:
        return polygons[0]
    return shapely.MultiPolygon(polygons) if polygons else shapely.Polygon()


def _available(parent: BaseGeometry, fixed: Mapping[str, BaseGeometry], grid: float) -> BaseGeometry:
    """The parent minus the surveyed children, on the precision grid."""
    shapes = np.array([parent, *fixed.values()], dtype=object)
    broken = ~shapely.is_valid(shapes)
    shapes[broken] = shapely.make_valid(shapes[broken])
    parent, surveyed = shapes[0], shapes[1:]
    taken = shapely.union_all(surveyed) if len(surveyed) else shapely.Polygon()
    return _polygonal(shapely.difference(_polygonal(parent), _polygonal(taken), grid_size=grid))


def _uniforms(key: str, count: int) -> list[float]:
    """Numbers in [0, 1) that depend only on the key, the same on every machine and run."""
    digest = hashlib.sha256(key.encode()).digest()
    return [int.from_bytes(digest[8 * i : 8 * i + 8], "big") / 2**64 for i in range(count)]


def _sample(triangles: list[BaseGeometry], cumulative: np.ndarray, key: str) -> tuple[float, float]:
    """A point drawn uniformly from a triangulated area, chosen by the key."""
    pick, u, v = _uniforms(key, 3)
    index = min(int(np.searchsorted(cumulative, pick * cumulative[-1], side="right")), len(triangles) - 1)
    a, b, c = np.asarray(triangles[index].exterior.coords)[:3]
    if u + v > 1:
        u, v = 1 - u, 1 - v
    return tuple(a + u * (b - a) + v * (c - a))


def _triangulation(area: BaseGeometry) -> tuple[list[BaseGeometry], np.ndarray]:
    """Triangles that tile the area, with their running total area for drawing points uniformly."""
    triangles = list(shapely.get_parts(shapely.constrained_delaunay_triangles(area)))
    return triangles, np.cumsum(shapely.area(triangles))


def _voronoi(seeds: np.ndarray, area_local: BaseGeometry) -> np.ndarray:
    """The Voronoi cell of each seed, in seed order, reaching beyond the area."""
    min_x, min_y, max_x, max_y = area_local.bounds
    margin = max(max_x - min_x, max_y - min_y)
    extent = shapely.box(min_x - margin, min_y - margin, max_x + margin, max_y + margin)
    diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=extent, ordered=True)
    return shapely.get_parts(diagram)


def _relax(seeds: np.ndarray, area_local: BaseGeometry) -> np.ndarray:
    """Seeds after one Lloyd step: each at its clipped cell's centroid, or in the cell if that is outside."""
    clipped = shapely.intersection(_voronoi(seeds, area_local), area_local)
    moved = shapely.centroid(clipped)
    outside = ~shapely.intersects(clipped, moved)
    moved[outside] = shapely.point_on_surface(clipped[outside])
    empty = shapely.is_empty(moved)
    moved[empty] = shapely.points(seeds[empty])
    moved = shapely.get_coordinates(moved)
    # GEOS refuses an ordered diagram of repeated points; degenerate cells could give two seeds one centroid
    _, first = np.unique(moved, axis=0, return_index=True)
    repeated = np.setdiff1d(np.arange(len(moved)), first)
    moved[repeated] = seeds[repeated]
    return moved


def _cells(seeds: np.ndarray, area: BaseGeometry, frame: _Frame, grid: float) -> np.ndarray:
    """The seeds' cells in degrees, clipped to the area on the grid, gap-free, in one piece where possible."""
    cells = frame.to_degrees(_voronoi(seeds, frame.to_local(area)))
    cells = np.array([_polygonal(cell) for cell in shapely.intersection(cells, area, grid_size=grid)])
    # each cell is snap-rounded on its own, which can drop a sliver no neighbour picked up
    gaps = _polygonal(shapely.difference(area, shapely.union_all(cells, grid_size=grid), grid_size=grid))
    _give_away(cells, list(shapely.get_parts(gaps)), None, grid)
    _gather_detached(cells, grid)
    return cells


def _reseed(seeds: np.ndarray, cells: np.ndarray, codes: list[str], frame: _Frame, round_: int) -> bool:
    """Move the seeds of empty or tiny cells into the largest cell; False when none needed moving."""
    areas = shapely.area(cells)
    small = np.flatnonzero(areas < _MIN_AREA_SHARE * areas.mean())
    if len(small):
        largest = _triangulation(frame.to_local(cells[int(np.argmax(areas))]))
        for index in small:
            seeds[index] = _sample(*largest, f"{codes[index]}|reseed {round_}")
    return len(small) > 0


def _shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    return shapely.length(shapely.intersection(a.boundary, b.boundary))


def _give_away(
    cells: np.ndarray,
    pieces: list[BaseGeometry],
    owner: int | None,
    grid: float,
) -> list[BaseGeometry]:
    """Add each piece to the other cell that borders it most; the pieces no other cell borders come back."""
    unplaced = []
    for piece in pieces:
        tree = shapely.STRtree(cells)
        neighbours = [int(n) for n in tree.query(piece, predicate="intersects") if n != owner]
        lengths = [_shared_length(piece, cells[n]) for n in neighbours]
        if not lengths or max(lengths) <= 0:
            unplaced.append(piece)
            continue
        taker = neighbours[int(np.argmax(lengths))]
        cells[taker] = _polygonal(shapely.union(cells[taker], piece, grid_size=grid))
    return unplaced


def _gather_detached(cells: np.ndarray, grid: float) -> None:
    """Hand each detached piece of a cell to the neighbour bordering it most, so cells stay in one piece."""
    for index in range(len(cells)):
        parts = sorted(shapely.get_parts(cells[index]), key=lambda part: part.area, reverse=True)
        if len(parts) < 2:
            continue
        # a piece no other cell borders is an island of the parent: it stays with the cell that reached it
        kept = [parts[0], *_give_away(cells, parts[1:], index, grid)]
        cells[index] = kept[0] if len(kept) == 1 else shapely.union_all(kept, grid_size=grid)


def _describe(parent: BaseGeometry, codes: list[str]) -> str:
    shown = "、".join(codes[:3]) + (f" 等 {len(codes)} 个区划" if len(codes) > 3 else "")
    bounds = ", ".join(f"{value:.7f}" for value in parent.bounds) if not parent.is_empty else "空"
    return f"{shown} 的上级区划（范围 {bounds}）"


def partition(
    parent: BaseGeometry,
    child_codes: Iterable[str],
    fixed: Mapping[str, BaseGeometry] | None = None,
    *,
    iterations: int = 4,
    grid: float = 1e-7,
) -> dict[str, BaseGeometry]:
    """One schematic cell per child without a surveyed polygon, tiling the parent minus the surveyed ones.

    Seeds come from a hash of each child's code and the parent's bounds, so the cells are the same on every
    run and for any order of ``child_codes``; cells share identical vertices on the ``grid`` (degrees).
    """
    fixed = dict(fixed or {})
    codes = sorted(set(child_codes) - set(fixed))
    if not codes:
        return {}
    area = _available(parent, fixed, grid)
    if area.is_empty:
        why = "已测绘的下级区划覆盖了它的全部面积" if fixed else f"它在 {grid} 度的网格上面积为零"
        raise ValueError(f"没有剩余面积可划分示意边界：{_describe(parent, codes)}；{why}")
    if len(codes) == 1:
        return {codes[0]: area}

    frame = _Frame(area)
    area_local = frame.to_local(area)
    triangulation = _triangulation(area_local)
    bounds = ",".join(f"{value:.7f}" for value in parent.bounds)
    seeds = np.array([_sample(*triangulation, f"{code}|{bounds}") for code in codes])
    for _ in range(iterations):
        seeds = _relax(seeds, area_local)
    cells = _cells(seeds, area, frame, grid)
    for round_ in range(_RESEED_ROUNDS):
        if not _reseed(seeds, cells, codes, frame, round_):
            break
        seeds = _relax(seeds, area_local)
        cells = _cells(seeds, area, frame, grid)
    if any(cell.is_empty for cell in cells):
        raise ValueError(f"{_describe(parent, codes)}太小，无法在 {grid} 度的网格上划出 {len(codes)} 个示意边界")

    result = dict(zip(codes, cells, strict=True))
    if not shapely.coverage_is_valid(cells):
        result = match_vertices(result, grid=grid)
    return result
