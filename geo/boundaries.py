"""Boundary polygons read from GeoJSON, Shapefile or GeoPackage, converted to WGS-84, with rejected features."""

from __future__ import annotations

import codecs
import contextlib
import json
import mmap
from dataclasses import dataclass, field
from pathlib import Path

import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from geo.codes import CodeError, normalize_code
from geo.crs import CRS_NAMES, crs_name_for, to_canonical
from geo.issues import Issue

CODE_FIELDS = ("adcode", "code", "区划代码", "xzqdm", "pac", "gb")
NAME_FIELDS = ("name", "名称", "xzqmc")


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
    None to let GDAL decide (a .cpg, plain ASCII)."""
    dbf = path.with_suffix(".dbf")
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists() or not dbf.exists():
        return None
    with dbf.open("rb") as handle:
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
    """The CRS the file itself declares; GDAL reports WGS-84 for any GeoJSON, so look for its 'crs' member."""
    if path.suffix.lower() in (".geojson", ".json"):
        # Looked for in the bytes, not parsed: json.loads of a 46 MB file took 430 MB to find one key.
        with (
            path.open("rb") as handle,
            contextlib.suppress(ValueError),  # an empty file cannot be mapped
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
        ):
            if mapped.find(b'"crs"') < 0:
                return None
    return crs_name_for(info.get("crs"))


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
    encoding = _shapefile_encoding(path)
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        declared = _declared_crs(path, info)
    except (DataSourceError, DataLayerError, json.JSONDecodeError, UnicodeDecodeError) as error:
        detail = f"无法作为 GeoJSON、Shapefile 或 GeoPackage 读取：{str(error).splitlines()[0]}"
        result.issues.append(Issue(file, "", None, "unreadable file", detail))
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

    frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    columns = [c for c in frame.columns if c != "geometry"]
    code_column = _pick(columns, code_field, CODE_FIELDS)
    name_column = _pick(columns, name_field, NAME_FIELDS)
    if code_column is None and name_column is None:
        wanted = code_field or name_field or f"{'、'.join(CODE_FIELDS + NAME_FIELDS)} 之一"
        detail = f"字段 {'、'.join(columns) or '（无）'} 中没有代码或名称字段（应为 {wanted}）"
        result.issues.append(Issue(file, "", code_field or "code", "missing field", detail))
        return result

    for index, (geometry, record) in enumerate(zip(frame.geometry, frame[columns].to_dict("records"), strict=True)):
        raw = {key: _jsonable(value) for key, value in record.items()}
        feature = _feature(index + 1, geometry, raw, code_column, name_column, file, result.crs)
        (result.features if isinstance(feature, BoundaryFeature) else result.issues).append(feature)
    return result


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
    if geometry is None or geometry.is_empty:
        return Issue(file, location, "geometry", "empty geometry", "该要素没有多边形", raw)
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        detail = f"几何类型为 {geometry.geom_type}，应为 Polygon 或 MultiPolygon"
        return Issue(file, location, "geometry", "not a polygon", detail, raw)
    if not geometry.is_valid:
        detail = f"多边形无效（GEOS：{shapely.is_valid_reason(geometry)}）"
        return Issue(file, location, "geometry", "invalid geometry", detail, raw)
    try:
        return BoundaryFeature(location, code, name, to_canonical(geometry, crs), raw)
    except ValueError as error:  # coordinates outside what the file's CRS can convert
        return Issue(file, location, "geometry", "invalid geometry", str(error), raw)


def _jsonable(value):
    """Field values as JSON-safe scalars (numpy numbers, timestamps, NaN → None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "tolist"):  # numpy scalars and arrays (DataV's "center": [lon, lat])
        return value.tolist()
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
