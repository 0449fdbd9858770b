"""Boundary polygons read from GeoJSON, Shapefile or GeoPackage, converted to WGS-84, with rejected features."""

from __future__ import annotations

import codecs
import contextlib
import json
import mmap
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError, GeometryError
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from geo.codes import CodeError, normalize_code
from geo.crs import CRS_NAMES, crs_name_for, to_canonical
from geo.issues import Issue

CODE_FIELDS = ("adcode", "code", "区划代码", "xzqdm", "pac", "gb")
NAME_FIELDS = ("name", "名称", "xzqmc")

# The largest single GeoJSON feature read, in MB of GDAL's parsed objects (OGR_GEOJSON_MAX_OBJ_SIZE): GDAL's default,
# 200, refused a survey boundary of some 7 MB of text; about 30 bytes of objects per byte of text, 2000 takes one of
# some 60 MB (a county outline to the metre) and bounds what a hostile file can make the import hold in memory.
GEOJSON_MAX_OBJECT_MB = 2000
# Where a boundary of 乡村大脑 can be: China's bounding box, in degrees of longitude and latitude.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
# Beyond this no coordinate is a projected metre either (Gauss-Krüger eastings with their zone are ~4e7).
PLAUSIBLE_METRES = 1e8


@dataclass(frozen=True)
class BoundaryFeature:
    """One polygon from a boundary file, in WGS-84, with the code and/or name that identify its region."""

    location: str  # "第 3 个要素"
    code: str | None
    name: str | None
    geometry: BaseGeometry
    raw: dict


@dataclass
class BoundariesRead:
    """What a boundary file gave: usable polygons and every rejected feature with its reason."""

    features: list[BoundaryFeature] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    crs: str = ""
    file: str = ""
    notes: list[str] = field(default_factory=list)  # what a person should know (a declared CRS overridden)


def _shapefile_encoding(path: Path) -> str | None:
    """The encoding of a shapefile's attributes when it has no .cpg: GB18030 when its text is not UTF-8 (a Chinese
    desktop GIS's export), UTF-8 when it is, where GDAL read either as Latin-1 and every name came out as mojibake;
    None to let GDAL decide (a .cpg, plain ASCII). A zipped shapefile is looked at inside its archive."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        dbf, _ = _zipped_shapefile_parts(path)
        if dbf is None:
            return None
        with zipfile.ZipFile(path) as archive, archive.open(dbf) as handle:
            return _dbf_encoding(handle)
    dbf = path.with_suffix(".dbf")
    if suffix != ".shp" or path.with_suffix(".cpg").exists() or not dbf.exists():
        return None
    with dbf.open("rb") as handle:
        return _dbf_encoding(handle)


def _zipped_shapefile_parts(path: Path) -> tuple[str | None, str | None]:
    """The archive's first .dbf member without a .cpg beside it (None when every one has its .cpg), and the .cpg
    member of its first .dbf that has one."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    lowered = {name.lower(): name for name in names}
    dbf = cpg = None
    for name in names:
        if name.lower().endswith(".dbf") and not PurePosixPath(name).name.startswith("._"):
            beside = lowered.get(name.lower()[:-4] + ".cpg")
            if beside is None and dbf is None:
                dbf = name
            if beside is not None and cpg is None:
                cpg = beside
    return dbf, cpg


def _dbf_encoding(handle) -> str | None:
    """The encoding of a .dbf's text (see _shapefile_encoding), from an open binary handle."""
    head = handle.read(32)
    if len(head) < 32:
        return None
    header_length = int.from_bytes(head[8:10], "little")
    descriptors = handle.read(max(0, header_length - 32))
    rows = handle.read(1 << 20)
    # The text of the table: each field's name (the first 11 bytes of its 32-byte descriptor; the rest is binary),
    # then the first rows (shapefile fields are text: characters, digits, dates).
    names = b"".join(descriptors[at : at + 11] for at in range(0, len(descriptors) - 31, 32))
    text = names + rows.rstrip(b"\x1a")
    if text.isascii():
        return None
    # Incrementally, not final: the read may end in the middle of a character.
    if _decodes(text, "utf-8"):
        return "UTF-8"  # without a code page GDAL takes it for Latin-1 as well
    return "GB18030" if _decodes(text, "gb18030") else None


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether ``data`` is text in ``encoding``, a character cut off at its end allowed."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


# Longitude-latitude systems: a file declaring one of them may be in another (GCJ-02 cannot be declared at all).
GEOGRAPHIC = ("wgs84", "cgcs2000")


def _declared_crs(path: Path, info: dict) -> str | None:
    """The CRS the file itself declares; GDAL reports WGS-84 for any GeoJSON, so look for its 'crs' member (in a
    zipped GeoJSON as well: by the driver, not the suffix, or a GCJ-02 file in a .zip was taken for WGS-84)."""
    is_geojson = info.get("driver") == "GeoJSON" or path.suffix.lower() in (".geojson", ".json")
    if is_geojson and not _mentions_crs(path):
        return None
    return crs_name_for(info.get("crs"))


def _mentions_crs(path: Path) -> bool:
    """Whether a GeoJSON file (or a GeoJSON member of a zip archive) has the bytes '"crs"' at all."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [name for name in archive.namelist() if name.lower().endswith((".geojson", ".json"))]
            for name in members or [name for name in archive.namelist() if not name.endswith("/")]:
                with archive.open(name) as handle:
                    tail = b""
                    while chunk := handle.read(1 << 20):
                        if b'"crs"' in tail + chunk:
                            return True
                        tail = chunk[-4:]
        return False
    # Looked for in the bytes, not parsed: json.loads of a 46 MB file took 430 MB to find one key.
    with (
        path.open("rb") as handle,
        contextlib.suppress(ValueError),  # an empty file cannot be mapped
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
    ):
        return mapped.find(b'"crs"') >= 0
    return False


def _unreadable(path: Path, error: Exception) -> str:
    """Why a file could not be read, in Chinese: GDAL's and Python's messages for the known cases."""
    message = str(error)
    if isinstance(error, UnicodeDecodeError):
        cpg = _code_page(path)
        if cpg is not None:
            name, declared = cpg
            raw = error.object if isinstance(error.object, bytes) else b""
            actual = "GBK" if raw and _decodes(raw, "gb18030") else "另一种编码"
            return f"代码页（{name}）声明为 {declared}，但文字是 {actual}：请把 {name} 的内容改为 {actual}，或删去它"
        return f"文字的编码无法识别（{error.encoding}）：请另存为 UTF-8"
    if isinstance(error, json.JSONDecodeError):
        return f"JSON 格式错误：第 {error.lineno} 行第 {error.colno} 列"
    if isinstance(error, zipfile.BadZipFile):
        return "zip 压缩包已损坏，无法打开"
    with contextlib.suppress(OSError):
        if path.is_file() and path.stat().st_size == 0:
            return "文件是空的"
    if "not recognized as being in a supported file format" in message or "not recognised as" in message:
        return "不是边界文件：无法识别为 GeoJSON、Shapefile 或 GeoPackage（文件可能已损坏，或是其他格式）"
    if "too complex/large" in message:
        return (
            f"要素过大（GeoJSON 单个要素上限 {GEOJSON_MAX_OBJECT_MB} MB，约 {GEOJSON_MAX_OBJECT_MB // 30} MB 文本）："
            "请先简化边界，或改用 GeoPackage、Shapefile"
        )
    return f"无法作为 GeoJSON、Shapefile 或 GeoPackage 读取（GDAL：{message.splitlines()[0] if message else error}）"


def _code_page(path: Path) -> tuple[str, str] | None:
    """(file name, declared encoding) of a shapefile's .cpg, in a zip archive too; None without one."""
    try:
        if path.suffix.lower() == ".zip":
            _, member = _zipped_shapefile_parts(path)
            if member is None:
                return None
            with zipfile.ZipFile(path) as archive:
                text = archive.read(member)
            return PurePosixPath(member).name, text.decode("ascii", "replace").strip()
        cpg = path.with_suffix(".cpg")
        if path.suffix.lower() != ".shp" or not cpg.exists():
            return None
        return cpg.name, cpg.read_bytes().decode("ascii", "replace").strip()
    except (OSError, zipfile.BadZipFile):
        return None


def _pick(columns: list[str], wanted: str | None, candidates: tuple[str, ...]) -> str | None:
    lowered = {column.lower(): column for column in columns}
    if wanted:
        return lowered.get(wanted.lower())
    return next((lowered[name] for name in candidates if name in lowered), None)


def read_boundaries(
    path: str | Path,
    *,
    crs: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    layer: str | None = None,
) -> BoundariesRead:
    """Polygons from a boundary file; ``crs`` (gcj02|wgs84|cgcs2000) is needed when the file declares none.

    A feature is rejected with its reason when it has neither a code nor a name, a malformed code,
    no geometry, a non-polygon geometry, or an invalid one.
    """
    path = Path(path)
    file = path.name
    result = BoundariesRead(file=file)
    unreadable = (
        DataSourceError,
        DataLayerError,
        FieldError,
        FeatureError,
        GeometryError,
        json.JSONDecodeError,
        UnicodeDecodeError,
        zipfile.BadZipFile,
    )
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": str(GEOJSON_MAX_OBJECT_MB)})
    try:
        encoding = _shapefile_encoding(path)
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        declared = _declared_crs(path, info)
    except unreadable as error:
        result.issues.append(Issue(file, "", None, "unreadable file", _unreadable(path, error)))
        return result
    except (ValueError, CRSError) as error:  # a declared CRS that cannot be converted to WGS-84
        result.issues.append(Issue(file, "", None, "unknown CRS", str(error).splitlines()[0]))
        return result
    if crs and crs not in CRS_NAMES:
        raise ValueError(f"未知坐标系 '{crs}'；可用 {'、'.join(CRS_NAMES)}")
    result.crs = declared or crs or ""
    if crs and declared and crs != declared:
        if declared in GEOGRAPHIC:
            # No file can declare GCJ-02 (it has no EPSG code): a DataV file re-saved by QGIS or ogr2ogr says CRS84.
            # Between longitude-latitude systems the operator's --crs is the one that knows: ignored, it put every
            # boundary some 500 m off.
            result.crs = crs
            result.notes.append(f"{file} 声明的坐标系是 {declared}，按 --crs {crs} 读取")
        else:
            result.notes.append(f"{file} 声明的坐标系是 {declared}（投影坐标），--crs {crs} 未采用")
    if not result.crs:
        hint = "（DataV/阿里云的文件是 GCJ-02）" if "adcode" in info.get("fields", []) else ""
        detail = f"文件没有声明坐标系；请加 --crs {'|'.join(CRS_NAMES)}{hint}"
        result.issues.append(Issue(file, "", None, "unknown CRS", detail))
        return result

    try:
        # The geometries as WKB, parsed one by one below: read_dataframe parsed them all at once, and one ring that
        # was not closed raised GEOS's English exception and lost every feature of the file.
        with warnings.catch_warnings():
            # GDAL's English warning for what is reported below in Chinese, feature by feature
            warnings.filterwarnings("ignore", "Non closed ring detected", RuntimeWarning)
            meta, _, wkbs, field_data = pyogrio.raw.read(path, layer=layer, encoding=encoding)
    except unreadable as error:
        result.issues.append(Issue(file, "", None, "unreadable file", _unreadable(path, error)))
        return result
    columns = [str(column) for column in meta["fields"]]
    code_column = _pick(columns, code_field, CODE_FIELDS)
    name_column = _pick(columns, name_field, NAME_FIELDS)
    if code_column is None and name_column is None:
        wanted = code_field or name_field or f"{'、'.join(CODE_FIELDS + NAME_FIELDS)} 之一"
        detail = f"字段 {'、'.join(columns) or '（无）'} 中没有代码或名称字段（应为 {wanted}）"
        result.issues.append(Issue(file, "", code_field or "code", "missing field", detail))
        return result

    count = len(field_data[0]) if len(field_data) else (len(wkbs) if wkbs is not None else 0)
    if wkbs is None:
        wkbs = np.full(count, None, dtype=object)
    geometries = shapely.from_wkb(wkbs, on_invalid="ignore")
    for index in range(count):
        raw = {column: _jsonable(field_data[at][index]) for at, column in enumerate(columns)}
        geometry = geometries[index]
        if geometry is None and wkbs[index] is not None:
            geometry = _unparsable(wkbs[index])
        feature = _feature(index + 1, geometry, raw, code_column, name_column, file, result.crs)
        (result.features if isinstance(feature, BoundaryFeature) else result.issues).append(feature)
    return result


def _unparsable(wkb: bytes) -> str:
    """Why GEOS cannot make a geometry of a feature's WKB, in Chinese."""
    try:
        shapely.from_wkb(wkb)
    except GEOSException as error:
        message = str(error)
        if "closed linestring" in message:
            return "多边形的环没有闭合（首尾两点不同）：请在 GIS 软件中修复几何后再导入"
        if "must have 0 or >= 4 elements" in message or "at least 4" in message:
            return f"多边形的环少于 4 个点（GEOS：{message}）"
        return f"几何无法解析（GEOS：{message}）"
    return "几何无法解析"


def _feature(number, geometry, raw, code_column, name_column, file, crs) -> BoundaryFeature | Issue:
    location = f"第 {number} 个要素"
    code = None
    name = (str(raw.get(name_column) or "").strip() or None) if name_column else None
    if code_column and raw.get(code_column) not in (None, ""):
        try:
            code = normalize_code(str(raw[code_column]).removesuffix(".0"))
        except CodeError as error:
            return Issue(file, location, code_column, "bad code", str(error), raw)
    if code is None and name is None:
        field = code_column or name_column
        return Issue(file, location, field, "no code or name", "该要素既没有区划代码也没有名称", raw)
    if isinstance(geometry, str):
        return Issue(file, location, "geometry", "invalid geometry", geometry, raw)
    if geometry is None or geometry.is_empty:
        return Issue(file, location, "geometry", "empty geometry", "该要素没有多边形", raw)
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        detail = f"几何类型为 {geometry.geom_type}，应为 Polygon 或 MultiPolygon"
        return Issue(file, location, "geometry", "not a polygon", detail, raw)
    if not geometry.is_valid:
        detail = f"多边形无效（GEOS：{shapely.is_valid_reason(geometry)}）"
        return Issue(file, location, "geometry", "invalid geometry", detail, raw)
    geographic = crs in CRS_NAMES  # longitude and latitude as read; a projected file is checked once converted
    if geographic and (problem := _out_of_range(geometry)):
        return Issue(file, location, "geometry", "out of range", problem, raw)
    try:
        canonical = to_canonical(geometry, crs)
    except ValueError as error:  # coordinates outside what the file's CRS can convert
        return Issue(file, location, "geometry", "invalid geometry", str(error), raw)
    if not geographic and (problem := _out_of_range(canonical)):
        return Issue(
            file, location, "geometry", "out of range", f"转换为经纬度后{problem}（文件声明的坐标系 {crs}）", raw
        )
    return BoundaryFeature(location, code, name, canonical, raw)


def _out_of_range(geometry: BaseGeometry) -> str | None:
    """Why a polygon's longitude-latitude coordinates cannot be a region of China, with a hint at the likely
    mistake (axes swapped, metres of a projected CRS read as degrees); None when they can."""
    coordinates = shapely.get_coordinates(geometry)
    if not np.isfinite(coordinates).all():
        return "坐标含有非数值（NaN 或无穷大）"
    (lon_min, lat_min), (lon_max, lat_max) = coordinates.min(axis=0), coordinates.max(axis=0)

    def in_china(x0, y0, x1, y1) -> bool:
        return CHINA_LON[0] <= x0 and x1 <= CHINA_LON[1] and CHINA_LAT[0] <= y0 and y1 <= CHINA_LAT[1]

    if in_china(lon_min, lat_min, lon_max, lat_max):
        return None
    extent = f"坐标范围为 x {lon_min:.6g}~{lon_max:.6g}、y {lat_min:.6g}~{lat_max:.6g}"
    china = f"经度 {CHINA_LON[0]:g}~{CHINA_LON[1]:g}，纬度 {CHINA_LAT[0]:g}~{CHINA_LAT[1]:g}"
    largest = float(np.abs(coordinates).max())
    if in_china(lat_min, lon_min, lat_max, lon_max):
        return f"{extent}，经纬度似乎颠倒了（纬度在前）：请把坐标改为经度在前、纬度在后"
    if largest > PLAUSIBLE_METRES:
        return f"{extent}，坐标数值大得不合理，既不是经纬度也不是投影坐标"
    if largest > 1000:
        return (
            f"{extent}，看起来是以米为单位的投影坐标，不是经纬度：--crs 只适用于经纬度的文件；"
            "请让文件声明它的坐标系（Shapefile 的 .prj、GeoJSON 的 crs、GeoPackage），或先转换为 EPSG:4326"
        )
    if lon_min < -180 or lon_max > 180 or lat_min < -90 or lat_max > 90:
        return f"{extent}，不是经纬度（经度应在 -180~180，纬度应在 -90~90）"
    return f"{extent}，在中国范围之外（{china}）：请检查坐标系和坐标"


def _jsonable(value):
    """Field values as JSON-safe scalars (numpy numbers, timestamps, NaN → None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "tolist"):  # numpy scalars and arrays (DataV's "center": [lon, lat])
        return value.tolist()
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
