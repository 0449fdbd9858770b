"""`ruralbrain geo import` against hostile boundary files: each bad feature is refused in Chinese with its file,
feature and field, and the good ones are imported; nothing crashes the import."""

import json
import zipfile

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from shapely.affinity import translate
from shapely.geometry import box, mapping
from sqlalchemy import update

from etl.cli import main
from etl.warehouse.db import make_engine
from etl.warehouse.schema import BOUNDARY_SURVEYED, regions
from geo.boundaries import read_boundaries
from geo.crs import to_canonical
from tests.realdata import REAL_DATA

CODES = "code,name\n330522,长兴县\n330522001,雉城街道\n330522002,画溪街道\n330522003,林城镇\n"
COUNTY = box(119.5, 30.8, 120.0, 31.2)
TOWN_1 = box(119.55, 30.85, 119.7, 31.0)
TOWN_2 = box(119.75, 30.85, 119.9, 31.0)


def feature(geometry, **properties):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


def ring(coordinates):
    return {"type": "Polygon", "coordinates": [[list(point) for point in coordinates]]}


@pytest.fixture
def cli(tmp_path):
    """geo import / geo build in a fresh VAR_DIR with the codes of 长兴县 imported."""
    (tmp_path / "codes.csv").write_text(CODES, encoding="utf-8")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["--var-dir", str(tmp_path / "var"), "geo", *map(str, args)])

    assert run("import", tmp_path / "codes.csv").exit_code == 0
    return run


def with_county(cli, tmp_path):
    county = write_geojson(tmp_path / "county.geojson", [feature(mapping(COUNTY), adcode="330522")])
    result = cli("import", county, "--crs", "wgs84")
    assert "county.geojson：导入 1 条边界" in result.output, result.output


# 1. An unclosed ring


def test_an_unclosed_ring_refuses_that_feature_and_imports_the_rest(cli, tmp_path):
    with_county(cli, tmp_path)
    unclosed = ring([(119.55, 30.85), (119.7, 30.85), (119.7, 31.0), (119.55, 31.0)])  # last point ≠ first
    path = write_geojson(
        tmp_path / "towns.geojson",
        [feature(unclosed, adcode="330522001"), feature(mapping(TOWN_2), adcode="330522002")],
    )
    result = cli("import", path, "--crs", "wgs84")
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    refused = "跳过：towns.geojson，第 1 个要素，字段「geometry」：边界无效 [invalid geometry]：多边形的环没有闭合"
    assert refused in result.output, result.output
    assert "towns.geojson：导入 1 条边界，0 条未变" in result.output


# 2 and 3. Coordinates that are not longitude and latitude in China


@pytest.mark.parametrize(
    ("geometry", "hint"),
    [
        (shapely.transform(COUNTY, lambda xy: xy[:, ::-1]), "经纬度似乎颠倒了"),  # (lat, lon)
        (box(40_490_000, 3_430_000, 40_500_000, 3_440_000), "看起来是以米为单位的投影坐标"),  # CGCS2000 GK zone 40
        (box(200, 95, 201, 96), "不是经纬度（经度应在 -180~180，纬度应在 -90~90）"),
        (box(1e300, 1e300, 2e300, 2e300), "坐标数值大得不合理"),
        (box(2.2, 48.8, 2.4, 48.9), "在中国范围之外（经度 73~136，纬度 3~54）"),  # Paris
    ],
    ids=["swapped", "metres", "off-globe", "absurd", "abroad"],
)
def test_coordinates_outside_china_are_refused_with_a_hint(cli, tmp_path, geometry, hint):
    path = write_geojson(
        tmp_path / "c.geojson",
        [feature(mapping(geometry), adcode="330522"), feature(mapping(TOWN_1), adcode="330522001")],
    )
    result = cli("import", path, "--crs", "wgs84")
    assert result.exit_code == 0, result.output
    assert "跳过：c.geojson，第 1 个要素，字段「geometry」：超出合理范围 [out of range]：" in result.output, (
        result.output
    )
    assert hint in result.output, result.output
    assert "c.geojson：导入 1 条边界，0 条未变" in result.output  # the township in range
    assert cli("build").exit_code == 0


def test_absurd_coordinates_stored_earlier_give_a_chinese_error_naming_the_parent(cli, tmp_path):
    # A warehouse that took a 1e300 polygon before the range check: every later import crashed in fill_schematic.
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}")
    with engine.begin() as connection:
        absurd = shapely.to_wkb(box(1e300, 1e300, 2e300, 2e300))
        connection.execute(
            update(regions).where(regions.c.code == "330522000000").values(geometry=absurd, boundary=BOUNDARY_SURVEYED)
        )
    engine.dispose()
    result = cli("import", tmp_path / "codes.csv")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "示意边界未能生成：" in result.output and "长兴县（330522000000）" in result.output, result.output
    assert "Traceback" not in result.output and "GEOSException" not in result.output


def test_a_projected_file_declaring_its_crs_is_still_converted(tmp_path):
    # EPSG:4549 (CGCS2000 / 3-degree GK CM 120E): declared, converted, inside China — the range check lets it pass.
    projected = gpd.GeoSeries([COUNTY], crs=4326).to_crs(4549).iloc[0]
    gpd.GeoDataFrame({"code": ["330522"]}, geometry=[projected], crs=4549).to_file(tmp_path / "p.gpkg")
    read = read_boundaries(tmp_path / "p.gpkg")
    assert read.issues == [] and read.features[0].geometry.equals_exact(COUNTY, 1e-6)


# 4. A zipped GeoJSON without a declared CRS


def test_a_zipped_geojson_without_crs_needs_one_like_the_bare_file(tmp_path):
    inner = write_geojson(tmp_path / "county.geojson", [feature(mapping(COUNTY), adcode="330522")])
    with zipfile.ZipFile(tmp_path / "county.zip", "w") as archive:
        archive.write(inner, "county.geojson")
    read = read_boundaries(tmp_path / "county.zip")
    assert read.features == [] and [issue.kind for issue in read.issues] == ["unknown CRS"]
    assert "文件没有声明坐标系；请加 --crs" in read.issues[0].detail
    read = read_boundaries(tmp_path / "county.zip", crs="gcj02")
    assert read.features[0].geometry.equals_exact(to_canonical(COUNTY, "gcj02"), 1e-9)


def test_the_real_changxing_outline_zipped_is_refused_without_crs(tmp_path):
    outline = REAL_DATA / "changxing_330522_outline.geojson"
    if not outline.exists():
        pytest.skip(f"real data absent: {outline}")
    with zipfile.ZipFile(tmp_path / "outline.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(outline, outline.name)
    assert [issue.kind for issue in read_boundaries(tmp_path / "outline.zip").issues] == ["unknown CRS"]
    assert read_boundaries(tmp_path / "outline.zip", crs="gcj02").features[0].code == "330522000000"


# 6. A zipped shapefile of GBK text without a .cpg


def gbk_shapefile(folder):
    folder.mkdir()
    frame = gpd.GeoDataFrame({"code": ["", ""], "名称": ["雉城街道", "画溪街道"]}, geometry=[TOWN_1, TOWN_2], crs=4326)
    frame.to_file(folder / "towns.shp", encoding="gbk")
    (folder / "towns.cpg").unlink(missing_ok=True)
    return folder / "towns.shp"


def test_a_zipped_gbk_shapefile_without_cpg_reads_its_names(tmp_path):
    shp = gbk_shapefile(tmp_path / "shp")
    assert [f.name for f in read_boundaries(shp).features] == ["雉城街道", "画溪街道"]
    with zipfile.ZipFile(tmp_path / "towns.zip", "w") as archive:
        for part in shp.parent.iterdir():
            archive.write(part, part.name)
    read = read_boundaries(tmp_path / "towns.zip")
    assert read.issues == [] and [f.name for f in read.features] == ["雉城街道", "画溪街道"]


# 7. Unreadable files in Chinese


def test_a_file_that_is_no_boundary_file_is_named_so(cli, tmp_path):
    path = tmp_path / "notgeo.geojson"
    path.write_text("这不是 GeoJSON，只是一段文字\n", encoding="utf-8")
    result = cli("import", path, "--crs", "wgs84")
    assert "跳过：notgeo.geojson：无法读取 [unreadable file]：不是边界文件" in result.output, result.output
    assert "not recognized" not in result.output


def test_a_cpg_declaring_utf8_over_gbk_text_is_named_so(cli, tmp_path):
    shp = gbk_shapefile(tmp_path / "shp")
    shp.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    result = cli("import", shp, "--parent", "330522")
    assert (
        "跳过：towns.shp：无法读取 [unreadable file]：代码页（towns.cpg）声明为 UTF-8，但文字是 GBK" in result.output
    ), result.output
    assert "codec" not in result.output


def test_a_fine_survey_boundary_of_tens_of_megabytes_is_read(tmp_path):
    # On a file this large GDAL streams it, and its default OGR_GEOJSON_MAX_OBJ_SIZE (200 MB of parsed objects)
    # refused the one feature some 7 MB into it: a county outline surveyed to the metre could not be imported.
    count = 1_200_000
    step = 0.5 / count
    outline = [(119.5 + i * step, 30.8 + (i % 2) * 1e-5) for i in range(count)] + [(120.0, 31.2), (119.5, 31.2)]
    path = write_geojson(tmp_path / "fine.geojson", [feature(ring([*outline, outline[0]]), adcode="330522")])
    del outline
    assert path.stat().st_size > 30_000_000
    read = read_boundaries(path, crs="wgs84")
    assert read.issues == [] and len(read.features) == 1


def test_a_feature_over_the_limit_is_named_too_large(tmp_path, monkeypatch):
    import geo.boundaries

    monkeypatch.setattr(geo.boundaries, "GEOJSON_MAX_OBJECT_MB", 1)
    outline = [(119.5 + i * 1e-6, 30.8 + (i % 2) * 1e-5) for i in range(50_000)] + [(119.5, 31.2)]
    path = write_geojson(tmp_path / "fine.geojson", [feature(ring([*outline, outline[0]]), adcode="330522")])
    read = read_boundaries(path, crs="wgs84")
    assert [issue.kind for issue in read.issues] == ["unreadable file"]
    assert read.issues[0].detail.startswith("要素过大（GeoJSON 单个要素上限 1 MB"), read.issues[0].detail


# 5. Townships checked against the county of the same file, stored ones against a county imported later, siblings
# that overlap reported


FAR_TOWN = box(120.6, 30.85, 120.75, 31.0)  # some 60 km east of the county


def test_a_township_outside_its_county_of_the_same_file_is_refused(cli, tmp_path):
    # The township listed first, its county after it: the check used the county stored before this file (none).
    path = write_geojson(
        tmp_path / "both.geojson",
        [
            feature(mapping(FAR_TOWN), adcode="330522001"),
            feature(mapping(COUNTY), adcode="330522"),
            feature(mapping(TOWN_2), adcode="330522002"),
        ],
    )
    result = cli("import", path, "--crs", "wgs84")
    assert result.exit_code == 0, result.output
    refused = (
        "跳过：both.geojson，第 1 个要素，字段「geometry」：超出上级区划 [outside parent]："
        "330522001000 只有 0% 的面积在其上级 330522000000 之内"
    )
    assert refused in result.output, result.output
    assert "both.geojson：导入 2 条边界，0 条未变" in result.output


def test_townships_stored_before_their_county_are_checked_when_it_arrives(cli, tmp_path):
    towns = write_geojson(
        tmp_path / "towns.geojson",
        [feature(mapping(FAR_TOWN), adcode="330522001"), feature(mapping(TOWN_2), adcode="330522002")],
    )
    assert "towns.geojson：导入 2 条边界" in cli("import", towns, "--crs", "wgs84").output
    county = write_geojson(tmp_path / "county.geojson", [feature(mapping(COUNTY), adcode="330522")])
    result = cli("import", county, "--crs", "wgs84")
    assert result.exit_code == 0, result.output
    note = (
        "注意：已导入的 雉城街道（330522001000）的边界只有 0% 的面积在 长兴县（330522000000）的新边界之内：请核对两者"
    )
    assert note in result.output, result.output
    assert "画溪街道（330522002000）" not in result.output


def test_two_siblings_drawn_alike_are_reported(cli, tmp_path):
    with_county(cli, tmp_path)
    path = write_geojson(
        tmp_path / "overlap.geojson",
        [feature(mapping(TOWN_1), adcode="330522001"), feature(mapping(TOWN_1), adcode="330522002")],
    )
    result = cli("import", path, "--crs", "wgs84")
    assert result.exit_code == 0, result.output
    note = "注意：雉城街道（330522001000）与 画溪街道（330522002000）的边界重叠，重叠部分占较小者面积的 100%：请核对"
    assert note in result.output, result.output
    # edges that differ by a generalisation are not worth a note
    nudged = write_geojson(tmp_path / "n.geojson", [feature(mapping(translate(TOWN_1, 0.148)), adcode="330522003")])
    again = cli("import", nudged, "--crs", "wgs84")
    assert "n.geojson：导入 1 条边界" in again.output and "重叠" not in again.output, again.output
    # a sibling stored before is compared too
    moved = write_geojson(tmp_path / "m.geojson", [feature(mapping(translate(TOWN_1, 0.05)), adcode="330522003")])
    again = cli("import", moved, "--crs", "wgs84")
    assert "林城镇（330522003000）的边界重叠，重叠部分占较小者面积的 67%" in again.output, again.output
