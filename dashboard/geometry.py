"""The map geometry built by `ruralbrain geo build`, served as cacheable files (sent once per level)."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import orjson
from flask import Blueprint, abort, current_app, send_file

from dashboard.auth.viewer import require_within, view_scope
from dashboard.basemap import display_crs
from etl.warehouse.accounts import scope_holds
from geo.crs import wgs84_to_gcj02

geometry = Blueprint("geometry", __name__)
CODE = re.compile(r"^[0-9]{12}\Z")


def geo_dir() -> Path:
    """Where the map geometry of this deployment lives."""
    return Path(current_app.config["RURALBRAIN_SETTINGS"].geo_dir)


@lru_cache(maxsize=4)
def _manifest(path: str, mtime: float) -> dict:
    return orjson.loads(Path(path).read_bytes())


def load_manifest(folder: Path) -> dict:
    """The manifest of the last geometry build (bounds of every region, root, version); {} if none."""
    path = folder / "manifest.json"
    if not path.exists():
        return {}
    return _manifest(str(path), path.stat().st_mtime)


def _shifted(data, convert):
    """GeoJSON coordinates (any nesting) and label points passed through a (lon, lat) arrays -> (lon, lat)
    arrays function."""
    if isinstance(data, dict):
        return {
            key: (_coordinates(value, convert) if key in ("coordinates", "label") else _shifted(value, convert))
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_shifted(item, convert) for item in data]
    return data


def _coordinates(value, convert):
    if value and isinstance(value[0], (int, float)):
        lon, lat = convert(value[0], value[1])
        return [round(float(lon), 6), round(float(lat), 6)]
    return [_coordinates(item, convert) for item in value]


def in_display_crs(path: Path, crs: str) -> Path:
    """The geometry file as the basemap needs it: the built (WGS-84) file, or a GCJ-02 copy made once."""
    if crs == "wgs84":
        return path
    target = path.parent.parent / f"{path.parent.name}-{crs}" / path.name
    if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
        target.parent.mkdir(parents=True, exist_ok=True)
        shifted = _shifted(orjson.loads(path.read_bytes()), wgs84_to_gcj02)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(orjson.dumps(shifted))
        partial.replace(target)  # whole or not at all, whichever worker writes it
    return target


def _serve(kind: str, code: str):
    if not CODE.match(code):
        abort(404)
    # A viewer sees the regions of their scope; of the regions above it, only the outline (not the siblings).
    outline_above = kind == "regions" and view_scope() and scope_holds(code, view_scope())
    if not outline_above:
        require_within(code)
    path = geo_dir() / kind / f"{code}.geojson"
    if not path.is_file():
        abort(404)
    served = in_display_crs(path, display_crs(current_app.config["RURALBRAIN_SETTINGS"]))
    response = send_file(served, mimetype="application/geo+json", conditional=True, etag=True, max_age=300)
    # send_file marks it public; what a scope check let through must not be kept by a shared proxy for others.
    response.cache_control.public = False
    response.cache_control.private = True
    return response


@geometry.get("/geo/children/<code>.geojson")
def children(code: str):
    """The children of a region with their (simplified) boundaries."""
    return _serve("children", code)


@geometry.get("/geo/regions/<code>.geojson")
def region(code: str):
    """One region's own (simplified) boundary."""
    return _serve("regions", code)
