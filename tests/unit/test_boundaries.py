"""Boundary files: formats, CRS handling, matching to regions, and every kind of bad feature reported and kept."""

import json

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import func, select

from etl.regions import fill_schematic, import_codes_file, load_boundaries
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import quarantine, regions
from geo.boundaries import read_boundaries
from geo.crs import to_canonical

CODES = "code,name\n330522,长兴县\n330522001,雉城街道\n330522002,画溪街道\n330522001001,南门社区居委会\n"
COUNTY = box(119.5, 30.8, 120.0, 31.2)


def feature(geometry, **properties):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_geojson(path, features, crs=None):
    collection = {"type": "FeatureCollection", "features": features}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    (tmp_path / "codes.csv").write_text(CODES, encoding="utf-8")
    import_codes_file(engine, tmp_path / "codes.csv")
    yield engine
    engine.dispose()


def test_geojson_without_crs_needs_one(tmp_path):
    path = write_geojson(tmp_path / "a.geojson", [feature(mapping(COUNTY), adcode=330522, name="长兴县")])
    read = read_boundaries(path)
    assert read.features == []
    assert read.issues[0].kind == "unknown CRS"
    assert read.issues[0].detail == "文件没有声明坐标系；请加 --crs wgs84|gcj02|cgcs2000（DataV/阿里云的文件是 GCJ-02）"
    read = read_boundaries(path, crs="gcj02")
    assert [f.code for f in read.features] == ["330522000000"]
    # GCJ-02 is offset from WGS-84 by a few hundred metres; the stored polygon is WGS-84.
    assert read.features[0].geometry.equals_exact(to_canonical(COUNTY, "gcj02"), 1e-9)
    assert not read.features[0].geometry.equals_exact(COUNTY, 1e-4)


def test_declared_crs_is_used(tmp_path):
    path = write_geojson(
        tmp_path / "a.geojson", [feature(mapping(COUNTY), code="330522")], crs="urn:ogc:def:crs:OGC:1.3:CRS84"
    )
    assert read_boundaries(path).crs == "wgs84"
    assert read_boundaries(path).features[0].geometry.equals_exact(COUNTY, 1e-9)


def test_an_explicit_gcj02_wins_over_a_declared_longitude_latitude_crs(tmp_path):
    # A DataV (GCJ-02) file re-saved by QGIS or ogr2ogr declares CRS84: the declaration had won over --crs gcj02 and
    # every boundary was stored some 500 m off. GCJ-02 has no EPSG code, so no file can declare it.
    path = write_geojson(
        tmp_path / "a.geojson", [feature(mapping(COUNTY), code="330522")], crs="urn:ogc:def:crs:OGC:1.3:CRS84"
    )
    read = read_boundaries(path, crs="gcj02")
    assert read.crs == "gcj02" and read.notes == ["a.geojson 声明的坐标系是 wgs84，按 --crs gcj02 读取"]
    assert read.features[0].geometry.equals_exact(to_canonical(COUNTY, "gcj02"), 1e-9)


def test_features_of_one_region_are_stored_as_their_union(engine, tmp_path):
    # 长兴县 split in two features under one adcode: the second overwrote the first and half the county was lost.
    west, east = box(119.5, 30.8, 119.75, 31.2), box(119.75, 30.8, 120.0, 31.2)
    path = write_geojson(
        tmp_path / "split.geojson", [feature(mapping(west), adcode=330522), feature(mapping(east), adcode=330522)]
    )
    report = load_boundaries(engine, read_boundaries(path, crs="wgs84"), source="test")
    assert report.loaded == 1 and report.issues == []
    assert report.notes == ["第 1 个要素、第 2 个要素 同属 330522000000，已合并为一个边界"]
    with engine.connect() as connection:
        stored = connection.execute(select(regions.c.geometry).where(regions.c.code == "330522000000")).scalar()
    assert shapely.from_wkb(stored).area == pytest.approx(COUNTY.area, rel=1e-6)


@pytest.mark.parametrize(("suffix", "driver"), [(".shp", "ESRI Shapefile"), (".gpkg", "GPKG")])
def test_shapefile_and_geopackage_with_declared_cgcs2000(tmp_path, suffix, driver):
    frame = gpd.GeoDataFrame({"XZQDM": ["330522001"], "XZQMC": ["雉城街道"]}, geometry=[box(119.5, 30.8, 119.7, 31.0)])
    path = tmp_path / f"towns{suffix}"
    frame.set_crs(4490).to_file(path, driver=driver)
    read = read_boundaries(path)
    assert read.crs == "cgcs2000"
    assert [(f.code, f.name) for f in read.features] == [("330522001000", "雉城街道")]


def test_unusable_declared_crs_and_unconvertible_coordinates_are_issues_not_crashes(tmp_path):
    local = "+proj=tmerc +lat_0=0 +lon_0=120.3 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    gpd.GeoDataFrame({"code": ["330522"]}, geometry=[box(0, 0, 1000, 1000)]).set_crs(local).to_file(tmp_path / "a.shp")
    read = read_boundaries(tmp_path / "a.shp")
    assert read.features == [] and [(i.location, i.kind) for i in read.issues] == [("", "unknown CRS")]
    assert "没有 EPSG 编号" in read.issues[0].detail
    # EPSG:4528's eastings carry the zone number: (0, 0) to (1, 1) lies outside the projection
    gpd.GeoDataFrame({"code": ["330522"]}, geometry=[box(0, 0, 1, 1)]).set_crs(4528).to_file(tmp_path / "b.gpkg")
    read = read_boundaries(tmp_path / "b.gpkg")
    assert read.features == [] and [(i.location, i.kind) for i in read.issues] == [("第 1 个要素", "invalid geometry")]
    assert "坐标无法从 EPSG:4528 转换到 EPSG:4326" in read.issues[0].detail


def test_bad_features_are_reported_with_feature_and_field(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    features = [
        feature(mapping(COUNTY), adcode=330522, name="长兴县"),  # 1: fine
        feature(mapping(COUNTY), note="x"),  # 2: no code, no name
        feature(None, adcode=330522001, name="雉城街道"),  # 3: no geometry
        feature(bowtie, adcode=330522002, name="画溪街道"),  # 4: self-intersecting
        feature({"type": "Point", "coordinates": [119.6, 31.0]}, adcode=330522001001),  # 5: not a polygon
        feature(mapping(COUNTY), adcode="33x522"),  # 6: bad code
    ]
    read = read_boundaries(write_geojson(tmp_path / "b.geojson", features), crs="wgs84")
    assert [f.location for f in read.features] == ["第 1 个要素"]
    found = {(i.location, i.field, i.kind) for i in read.issues}
    assert found == {
        ("第 2 个要素", "adcode", "no code or name"),
        ("第 3 个要素", "geometry", "empty geometry"),
        ("第 4 个要素", "geometry", "invalid geometry"),
        ("第 5 个要素", "geometry", "not a polygon"),
        ("第 6 个要素", "adcode", "bad code"),
    }
    assert all(i.file == "b.geojson" for i in read.issues)
    assert "Self-intersection" in next(i for i in read.issues if i.location == "第 4 个要素").detail


def test_file_without_code_or_name_field(tmp_path):
    read = read_boundaries(write_geojson(tmp_path / "c.geojson", [feature(mapping(COUNTY), id=1)]), crs="wgs84")
    assert read.features == [] and read.issues[0].kind == "missing field"


def test_load_matches_by_code_and_by_name_and_rejects_outside_parent(engine, tmp_path):
    county = write_geojson(tmp_path / "county.geojson", [feature(mapping(COUNTY), adcode=330522, name="长兴县")])
    report = load_boundaries(engine, read_boundaries(county, crs="wgs84"), source="test")
    assert report.loaded == 1 and report.issues == []
    towns = [
        feature(mapping(box(119.5, 30.8, 119.75, 31.2)), name="雉城街道"),  # by name under the county
        feature(mapping(box(121.0, 30.0, 121.2, 30.2)), name="画溪街道"),  # far outside the county
        feature(mapping(box(119.75, 30.8, 120.0, 31.2)), name="不存在镇"),  # no such region
    ]
    path = write_geojson(tmp_path / "towns.geojson", towns)
    report = load_boundaries(engine, read_boundaries(path, crs="wgs84"), source="test", parent_code="330522000000")
    assert report.loaded == 1
    assert {(i.location, i.kind, i.detail) for i in report.issues} == {
        ("第 2 个要素", "outside parent", "330522002000 只有 0% 的面积在其上级 330522000000 之内"),
        ("第 3 个要素", "unknown region", "330522000000 下没有名为 '不存在镇' 的区划"),
    }
    with engine.connect() as connection:
        kept = connection.execute(select(quarantine.c.location, quarantine.c.reason, quarantine.c.raw)).all()
        boundary = connection.execute(select(regions.c.boundary).where(regions.c.code == "330522001000")).scalar()
    assert boundary == "surveyed"
    assert {row.location for row in kept} == {"towns.geojson，第 2 个要素", "towns.geojson，第 3 个要素"}
    assert {row.reason for row in kept} == {
        "超出上级区划 [outside parent]：330522002000 只有 0% 的面积在其上级 330522000000 之内",
        "区划未知 [unknown region]：330522000000 下没有名为 '不存在镇' 的区划",
    }
    assert any("不存在镇" in row.raw for row in kept)


def test_schematic_cells_fill_the_rest_without_overlapping_surveyed_ones(engine, tmp_path):
    county = write_geojson(tmp_path / "county.geojson", [feature(mapping(COUNTY), adcode=330522)])
    town = write_geojson(tmp_path / "t.geojson", [feature(mapping(box(119.5, 30.8, 119.75, 31.2)), adcode=330522001)])
    load_boundaries(engine, read_boundaries(county, crs="wgs84"), source="test")
    load_boundaries(engine, read_boundaries(town, crs="wgs84"), source="test")
    first = fill_schematic(engine)
    with engine.connect() as connection:
        rows = {r.code: r for r in connection.execute(select(regions))}
        version = connection.execute(select(func.max(regions.c.updated_at))).scalar()
    assert rows["330522002000"].boundary == "schematic"
    assert rows["330522001001"].boundary == "schematic"  # the village fills its surveyed township
    surveyed = shapely.from_wkb(rows["330522001000"].geometry)
    schematic = shapely.from_wkb(rows["330522002000"].geometry)
    assert surveyed.intersection(schematic).area < 1e-9
    assert abs(surveyed.union(schematic).area - COUNTY.area) < 1e-6
    assert first.loaded == 2
    again = fill_schematic(engine)  # stable on rerun: nothing changes, nothing is written
    assert (again.loaded, again.unchanged, again.version) == (0, 2, None)
    assert version is not None


def _shapefile_without_cpg(tmp_path, name: str, encoding: str, rows: int = 2, width: int = 41):
    """A shapefile as a Chinese desktop GIS writes it: attributes in ``encoding``, no .cpg, no code page byte."""
    tmp_path.mkdir(exist_ok=True)
    names = ["雉城街道", "画溪街道"] + ["长兴镇"] * (rows - 2)
    frame = gpd.GeoDataFrame(
        {"名称": names, "备注": ["长" * width] * rows},
        geometry=[box(119.5, 30.8, 119.75, 31.2), box(119.75, 30.8, 120.0, 31.2)] * (rows // 2),
        crs="EPSG:4326",
    )
    path = tmp_path / f"{name}.shp"
    frame.to_file(path, encoding=encoding, engine="pyogrio")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = path.with_suffix(".dbf")
    data = dbf.read_bytes()
    dbf.write_bytes(data[:29] + b"\x00" + data[30:])
    return path


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_a_shapefile_without_a_code_page_is_read_in_its_own_encoding(tmp_path, encoding):
    # GBK attributes without a .cpg were read as Latin-1: "字段 Ãû³Æ 中没有代码或名称字段", names in mojibake.
    read = read_boundaries(_shapefile_without_cpg(tmp_path, encoding.replace("-", ""), encoding))
    assert read.issues == []
    assert [f.name for f in read.features] == ["雉城街道", "画溪街道"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_the_encoding_guess_holds_where_its_sample_cuts_a_character(tmp_path, encoding):
    # The guess reads the table's first megabyte, which may end inside a character: a strict decode then said "not
    # UTF-8" for a UTF-8 file (GB18030 mojibake) or "neither" for a GBK one (Latin-1 mojibake), by record width.
    for width in (40, 41, 42):
        path = _shapefile_without_cpg(tmp_path / str(width), encoding.replace("-", ""), encoding, 12000, width)
        assert [f.name for f in read_boundaries(path).features][:2] == ["雉城街道", "画溪街道"], width


def test_a_new_list_that_leaves_out_a_stored_village_says_so(engine, tmp_path):
    # A merged village vanished from the new list without a word, while it kept its facts and accounts.
    (tmp_path / "new.csv").write_text(CODES.replace("330522001001,南门社区居委会\n", ""), encoding="utf-8")
    report = import_codes_file(engine, tmp_path / "new.csv")
    assert report.issues == [] and report.loaded == 0
    assert report.notes == [
        "数据仓库中有 1 个区划不在本文件中，仍保留（撤并的村请核对其数据与账号）：南门社区居委会（330522001001）"
    ]
    (tmp_path / "towns.csv").write_text("code,name\n330522001,雉城街道\n", encoding="utf-8")
    assert import_codes_file(engine, tmp_path / "towns.csv").notes == []  # a partial list says nothing
