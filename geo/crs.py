"""Coordinate reference systems: GCJ-02, CGCS2000 and EPSG codes to and from WGS-84, the storage CRS."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import prcoords
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError
from shapely.geometry.base import BaseGeometry

CRS_NAMES = ("wgs84", "gcj02", "cgcs2000")

_EPSG_OF = {"wgs84": 4326, "cgcs2000": 4490}
_NAME_OF_EPSG = {4326: "wgs84", 4490: "cgcs2000"}
_EPSG_PREFIX = "epsg:"


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Mask of the points inside the box where prcoords applies the GCJ-02 shift."""
    return (lat >= 0.8293) & (lat <= 55.8271) & (lon >= 72.004) & (lon <= 137.8347)


def _gcj_shift(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 coordinates of WGS-84 points, everywhere; the formula of prcoords.wgs_gcj, vectorised."""
    x, y = lon - 105.0, lat - 35.0
    # the published obfuscation gives its offsets in metres on the Krasovsky 1940 ellipsoid
    d_lat_m = (
        -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (
            2 * np.sin(x * 6 * np.pi) + 2 * np.sin(x * 2 * np.pi)
            + 2 * np.sin(y * np.pi) + 4 * np.sin(y / 3 * np.pi)
            + 16 * np.sin(y / 12 * np.pi) + 32 * np.sin(y / 30 * np.pi)
        ) * 20 / 3
    )  # fmt: skip
    d_lon_m = (
        300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (
            2 * np.sin(x * 6 * np.pi) + 2 * np.sin(x * 2 * np.pi)
            + 2 * np.sin(x * np.pi) + 4 * np.sin(x / 3 * np.pi)
            + 15 * np.sin(x / 12 * np.pi) + 30 * np.sin(x / 30 * np.pi)
        ) * 20 / 3
    )  # fmt: skip
    rad_lat = np.radians(lat)
    magic = 1 - prcoords.GCJ_EE * np.sin(rad_lat) ** 2
    lat_deg_arclen = np.radians(prcoords.GCJ_A * (1 - prcoords.GCJ_EE) / magic**1.5)
    lon_deg_arclen = np.radians(prcoords.GCJ_A * np.cos(rad_lat) / np.sqrt(magic))
    return lon + d_lon_m / lon_deg_arclen, lat + d_lat_m / lat_deg_arclen


def _as_arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    lon_array, lat_array = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_array, lat_array, lon_array.ndim == 0


def _shaped(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    return (float(lon), float(lat)) if scalar else (lon, lat)


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 (lon, lat) of WGS-84 points, scalars or arrays; points outside China come back unchanged."""
    lon, lat, scalar = _as_arrays(lon, lat)
    inside = _in_china(lon, lat)
    gcj_lon, gcj_lat = _gcj_shift(lon, lat)
    return _shaped(np.where(inside, gcj_lon, lon), np.where(inside, gcj_lat, lat), scalar)


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS-84 (lon, lat) of GCJ-02 points by the fixed-point iteration of prcoords.gcj_wgs_bored (~0.1 mm)."""
    lon, lat, scalar = _as_arrays(lon, lat)
    # prcoords' iteration shifts even points outside China; the forward transform leaves them alone, so do we
    inside = _in_china(lon, lat)
    shifted_lon, shifted_lat = _gcj_shift(lon, lat)
    wgs_lon, wgs_lat = 2 * lon - shifted_lon, 2 * lat - shifted_lat
    active = inside.copy()
    for _ in range(10):
        if not active.any():
            break
        fwd_lon, fwd_lat = _gcj_shift(wgs_lon, wgs_lat)
        diff_lon, diff_lat = fwd_lon - lon, fwd_lat - lat
        wgs_lon = np.where(active, wgs_lon - diff_lon, wgs_lon)
        wgs_lat = np.where(active, wgs_lat - diff_lat, wgs_lat)
        # each point stops once its correction is below prcoords' epsilon, exactly as prcoords does
        active &= np.hypot(diff_lat, diff_lon) > prcoords.PRC_EPS
    return _shaped(np.where(inside, wgs_lon, lon), np.where(inside, wgs_lat, lat), scalar)


@lru_cache(maxsize=32)
def _transformer(source: int, target: int) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def _pyproj(source: int, target: int):
    """(lon, lat) arrays converted by PROJ, raising instead of giving infinities for impossible points."""
    transformer = _transformer(source, target)

    def convert(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        try:
            return transformer.transform(x, y, errcheck=True)
        except ProjError as error:
            raise ValueError(f"坐标无法从 EPSG:{source} 转换到 EPSG:{target}：{error}") from error

    return convert


def _epsg_of(crs_name: str) -> int | None:
    """EPSG number a CRS name stands for, None for gcj02; ValueError for a name we do not know."""
    name = crs_name.strip().lower()
    if name == "gcj02":
        return None
    if name in _EPSG_OF:
        return _EPSG_OF[name]
    if name.startswith(_EPSG_PREFIX) and name[len(_EPSG_PREFIX) :].isdigit():
        return int(name[len(_EPSG_PREFIX) :])
    raise ValueError(f"未知坐标系 '{crs_name}'；可用 {'、'.join(CRS_NAMES)} 或 'epsg:<编号>'")


def _columns(function):
    """A shapely.transform callback applying a (lon, lat) -> (lon, lat) function to an (N, 2) array."""
    return lambda coords: np.column_stack(function(coords[:, 0], coords[:, 1]))


def to_canonical(geometry: BaseGeometry, crs_name: str) -> BaseGeometry:
    """The geometry in WGS-84, from coordinates in the named CRS (wgs84, gcj02, cgcs2000 or epsg:<n>)."""
    epsg = _epsg_of(crs_name)
    if epsg is None:
        return shapely.transform(geometry, _columns(gcj02_to_wgs84))
    if epsg == 4326:
        return geometry
    return shapely.transform(geometry, _columns(_pyproj(epsg, 4326)))


def from_canonical(geometry: BaseGeometry, crs_name: str) -> BaseGeometry:
    """The WGS-84 geometry in the named CRS (wgs84, gcj02, cgcs2000 or epsg:<n>)."""
    epsg = _epsg_of(crs_name)
    if epsg is None:
        return shapely.transform(geometry, _columns(wgs84_to_gcj02))
    if epsg == 4326:
        return geometry
    return shapely.transform(geometry, _columns(_pyproj(4326, epsg)))


def crs_name_for(crs: Any) -> str | None:
    """The CRS name for a file's declared CRS (pyproj CRS, 'EPSG:4326', WKT...); None if none is declared."""
    if crs is None or (isinstance(crs, str) and not crs.strip()):
        return None
    crs = CRS.from_user_input(crs)
    # GeoJSON's default OGC:CRS84 is WGS-84 with longitude first, which is how we read every file anyway
    if crs.to_authority() == ("OGC", "CRS84"):
        return "wgs84"
    epsg = crs.to_epsg()
    if epsg is None:
        raise ValueError(f"文件声明的坐标系 '{crs.name}' 没有 EPSG 编号；请先把文件转换为 EPSG:4326")
    return _NAME_OF_EPSG.get(epsg, f"{_EPSG_PREFIX}{epsg}")
