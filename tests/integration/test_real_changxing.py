"""Real data: 长兴县's 2023 codes and its DataV (GCJ-02) outline give every township and village a cell."""

import shapely
from sqlalchemy import select

from etl.geo_build import build_geometry
from etl.regions import fill_schematic, import_codes_file, load_boundaries
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import regions
from geo.boundaries import read_boundaries
from geo.crs import to_canonical


def test_changxing_codes_and_outline_give_every_region_a_cell_and_a_drill_path(real_data, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    codes = import_codes_file(engine, real_data / "admin_codes_330522.csv")
    assert codes.issues == [] and codes.loaded == 294
    outline_file = real_data / "changxing_330522_outline.geojson"
    read = read_boundaries(outline_file, crs="gcj02")
    assert load_boundaries(engine, read, source="test").loaded == 1
    fill_schematic(engine)

    with engine.connect() as connection:
        rows = {row.code: row for row in connection.execute(select(regions))}
    county = shapely.from_wkb(rows["330522000000"].geometry)
    gcj_outline = read_boundaries(outline_file, crs="wgs84").features[0].geometry  # the file's own numbers
    assert county.equals_exact(to_canonical(gcj_outline, "gcj02"), 1e-9)
    townships = [r for r in rows.values() if r.level == "township"]
    villages = [r for r in rows.values() if r.level == "village"]
    assert (len(townships), len(villages)) == (15, 278)
    for row in townships + villages:
        cell = shapely.from_wkb(row.geometry)
        assert row.boundary == "schematic" and not cell.is_empty and cell.is_valid
        assert county.buffer(1e-6).contains(cell), row.code
        assert cell.contains(shapely.Point(row.centroid_lon, row.centroid_lat))
    for village in villages:  # the drill path county → township → village, both in codes and in space
        township = rows[village.parent_code]
        assert township.level == "township" and township.parent_code == "330522000000"
        assert shapely.from_wkb(township.geometry).buffer(1e-6).contains(shapely.from_wkb(village.geometry))

    report = build_geometry(engine, tmp_path / "geo")
    assert set(report.level_bytes) == {"county", "township", "village"}
    for township in townships:
        assert (tmp_path / "geo" / "children" / f"{township.code}.geojson").exists()
    engine.dispose()
