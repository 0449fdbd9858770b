"""The same warehouse code on the real PostgreSQL: migrate a fresh database and round-trip a hierarchy."""

import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import select

from etl.regions import fill_schematic, load_boundaries, load_hierarchy
from etl.warehouse.db import bump_version, current_version, make_engine, migrate, migrations_current, read_version
from etl.warehouse.schema import quarantine, regions
from geo.boundaries import BoundariesRead, BoundaryFeature
from geo.hierarchy import HierarchyRead, RegionRecord
from geo.issues import Issue

pytestmark = pytest.mark.integration


def test_migrate_and_round_trip_hierarchy_with_geometry(postgres_url):
    engine = make_engine(postgres_url)
    migrate(engine)
    assert migrations_current(engine)
    records = [
        RegionRecord("990101000000", "示范县", "county", "990100000000", 3000, 9000),
        RegionRecord("990101001000", "青石镇", "township", "990101000000", 2000, 6000),
        RegionRecord("990101002000", "柳河乡", "township", "990101000000", 1000, 3000),
        RegionRecord("990101001001", "王家村", "village", "990101001000", 2000, 6000),
    ]
    bad = Issue("codes.csv", "第 9 行", "code", "bad code", "代码 '99x' 含非数字字符 'x'", {"code": "99x"})
    report = load_hierarchy(engine, HierarchyRead(records, [bad]), source="test")
    assert (report.loaded, len(report.issues)) == (4, 1)
    outline = box(117.0, 31.0, 117.5, 31.5)
    feature = BoundaryFeature("第 1 个要素", "990101000000", "示范县", outline, {})
    load_boundaries(engine, BoundariesRead([feature], [], "wgs84", "outline.geojson"), source="test")
    fill_schematic(engine)

    with engine.connect() as connection:
        rows = {row.code: row for row in connection.execute(select(regions))}
        kept = connection.execute(select(quarantine.c.location, quarantine.c.field, quarantine.c.raw)).one()
        version = current_version(connection)
    assert rows["990101001001"].parent_code == "990101001000"
    assert rows["990101001000"].households == 2000
    assert shapely.from_wkb(rows["990101000000"].geometry).equals(outline)
    assert rows["990101000000"].boundary == "surveyed"
    towns = [shapely.from_wkb(rows[c].geometry) for c in ("990101001000", "990101002000")]
    assert abs(shapely.union_all(towns).area - outline.area) < 1e-9
    assert shapely.from_wkb(rows["990101001001"].geometry).equals(towns[0])  # an only child fills its parent
    assert {rows[c].boundary for c in ("990101001000", "990101002000", "990101001001")} == {"schematic"}
    assert tuple(kept[:2]) == ("codes.csv，第 9 行", "code") and "99x" in kept.raw
    assert version == 3  # hierarchy, boundary and schematic cells: three committed writes
    engine.dispose()


def test_screens_read_of_the_version_follows_every_commit(postgres_url):
    """On PostgreSQL too the driver-level read the screens use sees committed bumps only, and leaves no
    transaction open on the pooled connection (the next read sees the next commit)."""
    loader = make_engine(postgres_url)
    migrate(loader)
    screens = make_engine(postgres_url, autocommit=True)
    before = read_version(screens)
    with loader.begin() as connection:
        bump_version(connection)
        assert read_version(screens) == before
    assert read_version(screens) == before + 1
    with loader.begin() as connection:
        bump_version(connection)
    assert read_version(screens) == read_version(loader) == before + 2
    screens.dispose()
    loader.dispose()
