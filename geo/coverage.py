"""Map geometry for one level: matched shared edges, topology-preserving simplification and GeoJSON bytes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

# a vertex rounded to the grid lies up to grid * sqrt(2) / 2 off the line it was computed on, and so do the
# vertices of the neighbour's edge along that line: a vertex can lie 1.41 grid steps off the edge it is on
_REACH = 1.5
_SIMPLIFY_HALVINGS = 12


def _with_points(geometry: BaseGeometry, points: np.ndarray, reach: float) -> BaseGeometry:
    """The polygon(s) with each point inserted into its nearest edge within reach; no vertex moves."""
    polygons = shapely.get_parts(geometry)
    ring_counts = [1 + shapely.get_num_interior_rings(polygon) for polygon in polygons]
    rings = [shapely.get_coordinates(ring) for polygon in polygons for ring in shapely.get_rings(polygon)]
    sizes = np.array([len(ring) - 1 for ring in rings])
    first_segment = np.concatenate([[0], np.cumsum(sizes)])
    starts = np.concatenate([ring[:-1] for ring in rings])
    ends = np.concatenate([ring[1:] for ring in rings])
    segments = shapely.linestrings(np.stack([starts, ends], axis=1))
    point_geoms = shapely.points(points)
    which_point, which_segment = shapely.STRtree(segments).query_nearest(
        point_geoms, max_distance=reach, all_matches=False
    )
    along = shapely.line_locate_point(segments[which_segment], point_geoms[which_point])
    ring_of = np.searchsorted(first_segment, which_segment, side="right") - 1
    for ring in np.unique(ring_of):
        mine = ring_of == ring
        local = which_segment[mine] - first_segment[ring]
        order = np.lexsort((along[mine], local))
        rings[ring] = np.insert(rings[ring], local[order] + 1, points[which_point[mine]][order], axis=0)
    rebuilt, index = [], 0
    for count in ring_counts:
        rebuilt.append(shapely.Polygon(rings[index], rings[index + 1 : index + count]))
        index += count
    return rebuilt[0] if geometry.geom_type == "Polygon" else shapely.MultiPolygon(rebuilt)


def _on_grid(geoms: np.ndarray, grid: float) -> np.ndarray:
    """The geometries with every vertex rounded to the grid, as they were where that keeps them valid."""
    # rounding vertex by vertex keeps each ring's start and order: cells on the grid come back as given
    rounded = shapely.remove_repeated_points(shapely.set_precision(geoms, grid, mode="pointwise"))
    broken = ~shapely.is_valid(rounded)
    rounded[broken] = shapely.set_precision(geoms[broken], grid)
    return rounded


def match_vertices(cells: Mapping[str, BaseGeometry], grid: float = 1e-7) -> dict[str, BaseGeometry]:
    """The cells on the grid, each with the neighbours' vertices lying on its edges, so edges are shared."""
    codes = list(cells)
    if not codes:
        return {}
    geoms = _on_grid(np.array([cells[code] for code in codes], dtype=object), grid)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    unique, point_id = np.unique(coords, axis=0, return_inverse=True)
    point_id = point_id.ravel()
    reach = _REACH * grid
    # a vertex near the boundary of a cell that is not one of the cell's own vertices is missing from it
    near_cell, near_point = shapely.STRtree(shapely.points(unique)).query(
        shapely.boundary(geoms), predicate="dwithin", distance=reach
    )
    own = np.unique(owner.astype(np.int64) * len(unique) + point_id)
    missing = ~np.isin(near_cell.astype(np.int64) * len(unique) + near_point, own)
    near_cell, near_point = near_cell[missing], near_point[missing]
    order = np.argsort(near_cell, kind="stable")
    near_cell, near_point = near_cell[order], near_point[order]
    cells_to_fix, starts = np.unique(near_cell, return_index=True)
    for cell, points in zip(cells_to_fix, np.split(near_point, starts)[1:], strict=True):
        if geoms[cell].geom_type in ("Polygon", "MultiPolygon"):
            geoms[cell] = _with_points(geoms[cell], unique[points], reach)
    return dict(zip(codes, geoms, strict=True))


def _usable(simplified: np.ndarray) -> bool:
    """Whether every simplified cell is a non-empty valid polygon."""
    kinds = shapely.get_type_id(simplified)
    polygonal = np.isin(kinds, (3, 6))  # Polygon, MultiPolygon
    return bool(np.all(polygonal & ~shapely.is_empty(simplified) & shapely.is_valid(simplified)))


def simplify_level(cells: Mapping[str, BaseGeometry], tolerance: float) -> dict[str, BaseGeometry]:
    """The cells simplified together (shared edges stay shared); tolerance shrinks until no cell breaks."""
    codes = list(cells)
    geoms = np.array([cells[code] for code in codes], dtype=object)
    if not codes or tolerance <= 0:
        return dict(zip(codes, geoms, strict=True))
    was_coverage = bool(shapely.coverage_is_valid(geoms))
    for _ in range(_SIMPLIFY_HALVINGS):
        simplified = shapely.coverage_simplify(geoms, tolerance)
        if _usable(simplified) and (not was_coverage or shapely.coverage_is_valid(simplified)):
            return dict(zip(codes, simplified, strict=True))
        tolerance /= 2  # one tolerance for the whole level, so neighbours are drawn with the same detail
    return dict(zip(codes, geoms, strict=True))


def feature_collection(features: list[dict], precision: int = 6) -> bytes:
    """GeoJSON FeatureCollection bytes, coordinates rounded to ``precision`` decimals."""
    geoms = np.array([feature["geometry"] for feature in features], dtype=object)
    # np.round maps equal floats to equal floats, so vertices shared by neighbours stay shared
    texts = shapely.to_geojson(shapely.transform(geoms, lambda xy: np.round(xy, precision)))
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                **({"id": feature["id"]} if "id" in feature else {}),
                "properties": feature.get("properties") or {},
                "geometry": orjson.Fragment(text) if text is not None else None,
            }
            for feature, text in zip(features, texts, strict=True)
        ],
    }
    return orjson.dumps(collection, option=orjson.OPT_SERIALIZE_NUMPY)
