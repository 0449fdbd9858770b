"""Per-level map geometry: vertices matched across separately partitioned parents, simplification, GeoJSON."""

import json
import time

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geo.coverage import feature_collection, match_vertices, simplify_level
from geo.schematic import partition

# two townships sharing a slanted border, so grid-rounded crossing points lie off the border on either side
WEST = Polygon([(119.9, 30.0), (120.012345, 30.0), (120.034567, 30.123456), (119.9, 30.11)])
EAST = Polygon([(120.012345, 30.0), (120.15, 30.01), (120.14, 30.13), (120.034567, 30.123456)])


def villages():
    """Both townships' villages, each township partitioned on its own."""
    cells = partition(WEST, [f"330522001{i:03d}" for i in range(1, 16)])
    cells.update(partition(EAST, [f"330522002{i:03d}" for i in range(1, 16)]))
    return cells


def as_array(cells):
    return np.array(list(cells.values()))


def wiggly_county(vertices=4000):
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    radius = 0.25 * (1 + 0.1 * np.sin(17 * angles) + 0.03 * np.sin(331 * angles))
    return shapely.set_precision(
        Polygon(np.column_stack([120 + radius * np.cos(angles), 30 + radius * np.sin(angles)])), 1e-6
    )


def test_match_vertices_turns_separately_partitioned_neighbours_into_a_coverage():
    cells = villages()
    assert shapely.coverage_is_valid(as_array(partition(WEST, ["a", "b", "c"])))
    assert not shapely.coverage_is_valid(as_array(cells))  # the border is split at different points per side
    matched = match_vertices(cells)
    assert list(matched) == list(cells)
    assert shapely.coverage_is_valid(as_array(matched))
    for code, cell in matched.items():
        assert cell.is_valid and not cell.is_empty
        # inserted vertices lie within 1.5 grid steps of the edge they join
        assert cell.area == pytest.approx(cells[code].area, abs=cell.length * 1.5e-7)
        assert shapely.get_num_coordinates(cell) >= shapely.get_num_coordinates(cells[code])


def test_match_vertices_leaves_a_valid_coverage_alone():
    cells = partition(WEST, [f"v{i}" for i in range(10)])
    matched = match_vertices(cells)
    assert {code: shapely.to_wkb(cell) for code, cell in matched.items()} == {
        code: shapely.to_wkb(cell) for code, cell in cells.items()
    }
    assert match_vertices({}) == {}


def test_match_vertices_is_fast_for_three_thousand_cells():
    townships = partition(wiggly_county(), [f"t{i:03d}" for i in range(100)])
    cells = {}
    for code, township in townships.items():
        cells.update(partition(township, [f"{code}-{j:02d}" for j in range(30)]))
    assert len(cells) == 3000 and not shapely.coverage_is_valid(as_array(cells))
    started = time.perf_counter()
    matched = match_vertices(cells)
    assert time.perf_counter() - started < 3.0
    assert shapely.coverage_is_valid(as_array(matched))


def test_simplify_level_keeps_the_coverage_and_every_cell():
    cells = match_vertices(partition(wiggly_county(), [f"t{i:02d}" for i in range(20)]))
    simplified = simplify_level(cells, 0.002)
    assert list(simplified) == list(cells)
    geoms = as_array(simplified)
    assert shapely.coverage_is_valid(geoms)
    assert not shapely.is_empty(geoms).any() and shapely.is_valid(geoms).all()
    before = shapely.get_num_coordinates(as_array(cells)).sum()
    after = shapely.get_num_coordinates(geoms).sum()
    assert after < before / 4
    # no gaps: the simplified cells still add up to their union
    assert shapely.area(geoms).sum() == pytest.approx(shapely.union_all(geoms).area, rel=1e-9)


def test_simplify_level_with_a_huge_tolerance_keeps_every_cell_a_polygon():
    cells = match_vertices(villages())
    cells["island"] = Point(121, 31).buffer(0.001)
    simplified = simplify_level(cells, 5.0)
    geoms = as_array(simplified)
    assert not shapely.is_empty(geoms).any() and shapely.is_valid(geoms).all()
    assert set(shapely.get_type_id(geoms)) <= {3, 6}
    assert shapely.coverage_is_valid(geoms)


def test_simplify_level_with_zero_tolerance_changes_nothing():
    cells = villages()
    assert simplify_level(cells, 0) == cells
    assert simplify_level({}, 0.01) == {}


def test_feature_collection_rounds_coordinates_and_keeps_properties():
    left = Polygon([(120.1234567, 30.0), (120.5, 30.0), (120.5, 30.7654321), (120.1234567, 30.7654321)])
    right = Polygon([(120.5, 30.0), (120.9, 30.0), (120.9, 30.7654321), (120.5, 30.7654321)])
    features = [
        {"geometry": left, "properties": {"code": "330522001000", "name": "雉城街道", "households": 1200}},
        {"geometry": right, "properties": {"code": "330522002000", "name": "画溪街道", "households": None}},
    ]
    data = feature_collection(features, precision=6)
    assert isinstance(data, bytes)
    collection = json.loads(data)
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"] for f in collection["features"]] == [f["properties"] for f in features]
    shapes = [shapely.geometry.shape(f["geometry"]) for f in collection["features"]]
    assert shapes[0].equals_exact(left, 1e-6) and shapes[1].equals_exact(right, 1e-6)
    coords = np.concatenate([shapely.get_coordinates(shape) for shape in shapes])
    assert np.array_equal(coords, np.round(coords, 6))
    assert [120.123457, 30.765432] in collection["features"][0]["geometry"]["coordinates"][0]
    # the shared edge is written with the same numbers on both sides
    assert shapely.coverage_is_valid(np.array(shapes))


def test_feature_collection_precision_and_empty_input():
    square = box(120.123456, 30.1, 120.2, 30.2)
    data = json.loads(feature_collection([{"geometry": square, "properties": {}}], precision=3))
    assert [120.123, 30.1] in data["features"][0]["geometry"]["coordinates"][0]
    assert json.loads(feature_collection([])) == {"type": "FeatureCollection", "features": []}
