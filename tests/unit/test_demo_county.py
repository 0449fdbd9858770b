"""The demo generator: deterministic, a valid code hierarchy, a plausible outline, shipped files current."""

import math
from collections import Counter

import orjson
import pytest
import shapely

from etl.demo.regions import DEMO_DIR, generate_city, generate_county, write_demo
from geo.codes import parent_of
from geo.hierarchy import read_codes_csv

CENTER = (117.35, 31.55)
RADIUS_KM = 28.0


@pytest.fixture(scope="module")
def county():
    return generate_county()


def test_same_seed_same_county_and_another_seed_differs(county):
    rows, outline = county
    again_rows, again_outline = generate_county()
    assert rows == again_rows
    assert outline.wkb == again_outline.wkb
    other_rows, other_outline = generate_county(seed=2024)
    assert [(r.name, r.households) for r in other_rows] != [(r.name, r.households) for r in rows]
    assert other_outline.wkb != outline.wkb


def test_counts_and_codes(county):
    rows, _ = county
    levels = Counter(row.level for row in rows)
    assert levels == {"county": 1, "township": 12, "village": 200}
    codes = [row.code for row in rows]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 12 and code.isdigit() and code.startswith("990101") for code in codes)
    for row in rows:
        township_part, village_part = row.code[6:9], row.code[9:]
        if row.level == "township":
            assert township_part != "000" and village_part == "000"
        if row.level == "village":
            assert township_part != "000" and village_part != "000"


def test_parents_exist_and_names_are_unique_under_each_parent(county):
    rows, _ = county
    by_code = {row.code: row for row in rows}
    for row in rows:
        if row.level == "county":
            assert row.parent_code == "990100000000"
        else:
            assert row.parent_code in by_code
            assert row.parent_code == parent_of(row.code)
    names = Counter((row.parent_code, row.name) for row in rows)
    assert max(names.values()) == 1


def test_names_read_like_townships_and_villages(county):
    rows, _ = county
    townships = [row for row in rows if row.level == "township"]
    assert all(row.name.endswith(("镇", "乡", "街道")) for row in townships)
    assert 1 <= sum(row.name.endswith("街道") for row in townships) <= 2
    assert 3 <= sum(row.name.endswith("镇") for row in townships) <= 5
    by_code = {row.code: row for row in rows}
    for row in rows:
        if row.level == "village":
            street = by_code[row.parent_code].name.endswith("街道")
            assert row.name.endswith("社区" if street else "村")


def test_villages_are_spread_unevenly(county):
    rows, _ = county
    per_township = Counter(row.parent_code for row in rows if row.level == "village")
    assert len(per_township) == 12
    assert max(per_township.values()) >= 2 * min(per_township.values())


def test_households_and_population_roll_up(county):
    rows, _ = county
    for row in rows:
        if row.level == "village":
            assert 150 <= row.households <= 1200
            assert 2.6 <= row.population / row.households <= 3.4
        else:
            children = [child for child in rows if child.parent_code == row.code]
            assert row.households == sum(child.households for child in children)
            assert row.population == sum(child.population for child in children)


def test_outline_is_a_valid_polygon_of_about_the_requested_size(county):
    _, outline = county
    assert outline.geom_type == "Polygon" and outline.is_valid
    assert 150 <= len(outline.exterior.coords) - 1 <= 300
    km_per_deg_lon = 111.32 * math.cos(math.radians(CENTER[1]))
    area_km2 = outline.area * km_per_deg_lon * 110.574
    target = math.pi * RADIUS_KM**2
    assert target / 2 <= area_km2 <= target * 2
    centroid = outline.centroid
    offset_km = math.hypot((centroid.x - CENTER[0]) * km_per_deg_lon, (centroid.y - CENTER[1]) * 110.574)
    assert offset_km < RADIUS_KM / 5


def test_shipped_files_are_what_the_generator_writes(tmp_path):
    write_demo(tmp_path)
    for name in ("regions.csv", "outline.geojson"):
        assert (DEMO_DIR / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"data/demo/{name} differs from the generator; run `python -m etl.demo.regions`"
        )


def test_shipped_files_import_cleanly():
    read = read_codes_csv(DEMO_DIR / "regions.csv")
    assert read.issues == []
    assert len(read.regions) == 213
    collection = orjson.loads((DEMO_DIR / "outline.geojson").read_bytes())
    assert "crs" not in collection
    (feature,) = collection["features"]
    assert feature["properties"] == {"code": "990101000000", "name": "示范县"}
    assert shapely.from_geojson(orjson.dumps(feature["geometry"])).is_valid


def test_city_for_the_benchmark():
    rows, outline = generate_city()
    levels = Counter(row.level for row in rows)
    assert levels["city"] == 1 and levels["county"] == 14 and levels["village"] == 3000
    assert 10 * 14 <= levels["township"] <= 14 * 14
    codes = [row.code for row in rows]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 12 and code.startswith("9902") for code in codes)
    assert all(row.name.endswith(("县", "区")) for row in rows if row.level == "county")
    city = rows[0]
    assert city.level == "city" and city.parent_code == "990000000000"
    assert city.households == sum(row.households for row in rows if row.level == "village")
    assert outline.is_valid
