"""CRS handling: GCJ-02 against published reference points, CGCS2000, EPSG codes and unknown names."""

import warnings

import numpy as np
import prcoords
import pytest
import shapely
from pyproj import CRS, Geod
from shapely.geometry import Point, box

from geo.crs import CRS_NAMES, crs_name_for, from_canonical, gcj02_to_wgs84, to_canonical, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")

# (WGS-84 lon, lat) -> (GCJ-02 lon, lat) pairs published with other implementations:
# Shanghai, Shenzhen and Beijing from the tests of googollee/eviltransform (python/test.py and
# go/transform_test.go),
# Tiananmen from the example output of wandergis/coordtransform (test/app.js, wgs84togcj02).
REFERENCE = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
]


def metres(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_wgs84_to_gcj02_matches_published_points(wgs, gcj):
    assert metres(wgs84_to_gcj02(*wgs), gcj) < 1.0
    assert metres(wgs, gcj) > 100  # the shift is hundreds of metres, so the check above means something


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_gcj02_to_wgs84_matches_published_points(wgs, gcj):
    assert metres(gcj02_to_wgs84(*gcj), wgs) < 1.0


def test_round_trip_gcj_wgs_gcj_is_within_a_centimetre():
    lon, lat = np.meshgrid(np.linspace(73.5, 135.0, 40), np.linspace(18.0, 53.5, 40))
    back_lon, back_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    distances = GEOD.inv(lon.ravel(), lat.ravel(), back_lon.ravel(), back_lat.ravel())[2]
    assert distances.max() < 0.01


def test_vectorised_formulas_equal_prcoords():
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(73.5, 135.0, 500), rng.uniform(18.0, 53.5, 500)
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    wgs_lon, wgs_lat = gcj02_to_wgs84(lon, lat)
    for i in range(len(lon)):
        forward = prcoords.wgs_gcj(prcoords.Coords(lat=lat[i], lon=lon[i]))
        inverse = prcoords.gcj_wgs_bored(prcoords.Coords(lat=lat[i], lon=lon[i]))
        assert (gcj_lon[i], gcj_lat[i]) == pytest.approx((forward.lon, forward.lat), abs=1e-12)
        assert (wgs_lon[i], wgs_lat[i]) == pytest.approx((inverse.lon, inverse.lat), abs=1e-12)


def test_scalars_in_scalars_out_and_arrays_keep_their_shape():
    lon, lat = wgs84_to_gcj02(120.0, 30.0)
    assert isinstance(lon, float) and isinstance(lat, float)
    grid = np.full((3, 4), 120.0), np.full((3, 4), 30.0)
    assert gcj02_to_wgs84(*grid)[0].shape == (3, 4)


def test_points_outside_china_are_unchanged():
    lon = np.array([2.3522, -74.006, 151.2093, 30.0])  # Paris, New York, Sydney, Kyiv-ish
    lat = np.array([48.8566, 40.7128, -33.8688, 50.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "non-Chinese coords" warnings leak from prcoords
        assert np.array_equal(np.column_stack(wgs84_to_gcj02(lon, lat)), np.column_stack([lon, lat]))
        assert np.array_equal(np.column_stack(gcj02_to_wgs84(lon, lat)), np.column_stack([lon, lat]))


def test_geometries_convert_both_ways():
    county = box(119.5, 30.8, 120.0, 31.2)
    wgs = to_canonical(county, "gcj02")
    assert wgs.is_valid and not wgs.equals_exact(county, 1e-4)
    assert from_canonical(wgs, "gcj02").equals_exact(county, 1e-7)
    assert to_canonical(county, "wgs84") is county
    assert from_canonical(county, "wgs84") is county


def test_cgcs2000_is_within_a_metre_of_wgs84():
    point = Point(119.9, 31.0)
    converted = to_canonical(point, "cgcs2000")
    assert metres((point.x, point.y), (converted.x, converted.y)) < 1.0
    assert from_canonical(converted, "cgcs2000").equals_exact(point, 1e-9)


def test_projected_epsg_crs_is_converted_through_pyproj():
    # CGCS2000 / 3-degree Gauss-Kruger zone 40 (central meridian 120E), eastings carry the zone number
    square = box(40_490_000, 3_430_000, 40_500_000, 3_440_000)
    wgs = to_canonical(square, "epsg:4528")
    assert 119.8 < wgs.bounds[0] < wgs.bounds[2] < 120.01 and 30.9 < wgs.bounds[1] < 31.1
    assert from_canonical(wgs, "EPSG:4528").equals_exact(square, 1e-3)
    with pytest.raises(ValueError, match="EPSG:4528"):
        to_canonical(box(0, 0, 1, 1), "epsg:4528")


def test_unknown_crs_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="bd09.*wgs84、gcj02、cgcs2000"):
        to_canonical(Point(120, 30), "bd09")
    with pytest.raises(ValueError, match="wgs84、gcj02、cgcs2000"):
        from_canonical(Point(120, 30), "mars")
    assert CRS_NAMES == ("wgs84", "gcj02", "cgcs2000")


@pytest.mark.parametrize(
    ("declared", "name"),
    [
        (None, None),
        (CRS.from_epsg(4326), "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("OGC:CRS84", "wgs84"),
        (CRS.from_epsg(4490), "cgcs2000"),
        (CRS.from_epsg(4528), "epsg:4528"),
        ("EPSG:3857", "epsg:3857"),
    ],
)
def test_crs_name_for_declared_crs(declared, name):
    assert crs_name_for(declared) == name


def test_every_name_crs_name_for_gives_is_accepted():
    point = Point(120.0, 30.0)
    for declared in ("EPSG:4326", "EPSG:4490", "EPSG:3857"):
        converted = from_canonical(point, crs_name_for(declared))
        assert shapely.equals_exact(to_canonical(converted, crs_name_for(declared)), point, 1e-9)
