"""Schematic cells: one per child, tiling the parent without overlaps, deterministic, around surveyed ones."""

import math
import random

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box

from geo.schematic import partition

# a county-sized outline with slanted edges, its vertices on the 1e-6 degree grid of typical boundary files
COUNTY = Polygon(
    [
        (119.512345, 30.801234),
        (119.803456, 30.752345),
        (120.012345, 30.912345),
        (119.961234, 31.187654),
        (119.702345, 31.223456),
        (119.583456, 31.052345),
        (119.551234, 30.961234),
    ]
)
# a U whose arms are split by a narrow slit: plain Voronoi cells reach across the slit into the other arm
U_SHAPE = Polygon(
    [
        (120.0, 30.0),
        (120.2, 30.0),
        (120.2, 30.3),
        (120.102, 30.3),
        (120.102, 30.05),
        (120.098, 30.05),
        (120.098, 30.3),
        (120.0, 30.3),
    ]
)


def codes(count, prefix="330522001"):
    return [f"{prefix}{i:03d}" for i in range(1, count + 1)]


def assert_partition(parent, cells, fixed=None, grid=1e-7):
    """Every cell a non-empty valid polygon; cells and fixed cover the parent and do not overlap.

    Cells are snapped to the grid, so where they meet a slanted surveyed edge they may cross it by
    less than a grid step: overlaps are bounded by the surveyed perimeter times the grid.
    """
    fixed = fixed or {}
    geoms = list(cells.values())
    for code, cell in cells.items():
        assert cell.geom_type in ("Polygon", "MultiPolygon"), code
        assert not cell.is_empty and cell.is_valid and cell.area > 0, code
    assert shapely.coverage_is_valid(np.array(geoms))
    everything = geoms + list(fixed.values())
    covered = shapely.union_all(everything)
    assert shapely.symmetric_difference(covered, parent).area / parent.area < 1e-6
    # areas add up to the parent's only when nothing overlaps
    assert abs(sum(g.area for g in everything) - parent.area) / parent.area < 1e-6
    tree = shapely.STRtree(everything)
    pairs = [(i, j) for i, j in tree.query(everything, predicate="intersects").T if i < j]
    overlap = sum(shapely.intersection(everything[i], everything[j]).area for i, j in pairs)
    assert overlap <= sum(polygon.length for polygon in fixed.values()) * grid + 1e-12 * parent.area


def wkb(cells):
    return {code: shapely.to_wkb(cell) for code, cell in cells.items()}


def test_one_cell_per_child_tiling_the_parent():
    children = codes(12)
    cells = partition(COUNTY, children)
    assert list(cells) == sorted(children)
    assert_partition(COUNTY, cells)


def test_same_cells_on_rerun_and_for_any_child_order():
    children = codes(25)
    first = partition(COUNTY, children)
    shuffled = children[:]
    random.Random(4).shuffle(shuffled)
    assert wkb(partition(COUNTY, children)) == wkb(first)
    assert wkb(partition(COUNTY, shuffled)) == wkb(first)
    assert wkb(partition(COUNTY, children + children[:3])) == wkb(first)  # repeated codes count once


def test_seeds_depend_on_the_codes():
    assert wkb(partition(COUNTY, codes(6))) != wkb(partition(COUNTY, codes(6, prefix="330522002")))


def test_cells_are_no_larger_than_needed():
    cells = partition(COUNTY, codes(30))
    areas = np.array([cell.area for cell in cells.values()])
    # Lloyd relaxation evens the cells out; raw hashed seeds leave some cells many times larger than others
    assert areas.max() / areas.min() < 6


def test_surveyed_children_are_cut_out():
    fixed = {
        "330522001001": box(119.6, 30.85, 119.7, 30.95),
        "330522001002": Polygon([(119.803456, 30.752345), (120.012345, 30.912345), (119.9, 30.9)]),
    }
    children = codes(10)
    cells = partition(COUNTY, children, fixed)
    assert sorted(cells) == sorted(set(children) - set(fixed))
    assert_partition(COUNTY, cells, fixed)
    surveyed = shapely.union_all(list(fixed.values()))
    for cell in cells.values():
        assert shapely.intersection(cell, surveyed).area <= surveyed.length * 1e-7


def test_every_child_surveyed_gives_no_cells():
    fixed = {"330522001001": COUNTY}
    assert partition(COUNTY, ["330522001001"], fixed) == {}


def test_no_area_left_names_the_parent():
    fixed = {"330522001001": COUNTY.buffer(0.01)}
    with pytest.raises(ValueError, match=r"没有剩余面积可划分示意边界：330522001002.*119\.5"):
        partition(COUNTY, ["330522001001", "330522001002"], fixed)
    with pytest.raises(ValueError, match="没有剩余面积可划分示意边界"):
        partition(box(120, 30, 120 + 1e-9, 30 + 1e-9), codes(2))


def test_concave_parent_keeps_cells_in_one_piece():
    cells = partition(U_SHAPE, codes(9))
    assert_partition(U_SHAPE, cells)
    assert all(cell.geom_type == "Polygon" for cell in cells.values())


def test_multipolygon_parent():
    parent = MultiPolygon([box(120.0, 30.0, 120.2, 30.2), box(120.3, 30.0, 120.35, 30.05)])
    cells = partition(parent, codes(8))
    assert_partition(parent, cells)
    for part in parent.geoms:  # both islands are given out
        given = sum(shapely.intersection(cell, part).area for cell in cells.values())
        assert given == pytest.approx(part.area)


def test_one_child_gets_the_whole_area():
    cells = partition(COUNTY, ["330522001001"])
    assert list(cells) == ["330522001001"] and cells["330522001001"].equals(COUNTY)
    fixed = {"330522001001": box(119.6, 30.85, 119.7, 30.95)}
    cells = partition(COUNTY, ["330522001001", "330522001002"], fixed)
    assert cells["330522001002"].equals(COUNTY.difference(fixed["330522001001"]))


def test_no_children_give_no_cells():
    assert partition(COUNTY, []) == {}


def test_three_hundred_children():
    children = codes(300)
    cells = partition(COUNTY, children)
    assert len(cells) == 300
    assert_partition(COUNTY, cells)


def test_children_in_slivers_between_surveyed_polygons_still_get_cells():
    parent = box(120.0, 30.0, 120.1, 30.1)
    # surveyed teeth leave 20 corridors two metres wide below an open strip along the top
    fixed = {f"f{i:02d}": box(120 + i * 0.005 + 2e-5, 30.0, 120 + (i + 1) * 0.005, 30.09) for i in range(20)}
    cells = partition(parent, codes(25), fixed)
    assert len(cells) == 25
    assert_partition(parent, cells, fixed)
    areas = np.array([cell.area for cell in cells.values()])
    assert areas.min() > 0.02 * areas.mean()  # nobody is left with a speck of a corridor


def test_a_tiny_parent_still_gives_every_child_a_cell():
    parent = box(120.0, 30.0, 120.000001, 30.000001)  # ten grid steps across
    cells = partition(parent, codes(30))
    assert len(cells) == 30
    assert_partition(parent, cells)


def test_cells_are_not_stretched_at_high_latitude():
    lat = 52.5  # Mohe, Heilongjiang: a degree of longitude is 0.61 of a degree of latitude
    parent = box(122.0, lat, 122.0 + 0.2 / math.cos(math.radians(lat)), lat + 0.2)  # square on the ground
    geod = Geod(ellps="WGS84")
    ratios = []
    for cell in partition(parent, codes(40)).values():
        west, south, east, north = cell.bounds
        width = geod.inv(west, (south + north) / 2, east, (south + north) / 2)[2]
        height = geod.inv(west, south, west, north)[2]
        ratios.append(width / height)
    assert 0.8 < float(np.median(ratios)) < 1.25


def test_neighbouring_cells_share_identical_vertices_on_the_grid():
    cells = partition(COUNTY, codes(15), grid=1e-7)
    coords = shapely.get_coordinates(np.array(list(cells.values())))
    assert np.allclose(coords, np.round(coords / 1e-7) * 1e-7, rtol=0, atol=1e-12)
    assert shapely.coverage_is_valid(np.array(list(cells.values())))
