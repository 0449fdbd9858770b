"""The map geometry built by `ruralbrain geo build`, served as cacheable files (sent once per level)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import orjson
from flask import Blueprint, abort, current_app, send_file

geometry = Blueprint("geometry", __name__)
CODE = re.compile(r"^\d{12}$")


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


def _serve(kind: str, code: str):
    if not CODE.match(code):
        abort(404)
    path = geo_dir() / kind / f"{code}.geojson"
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="application/geo+json", conditional=True, etag=True, max_age=300)
    return response


@geometry.get("/geo/children/<code>.geojson")
def children(code: str):
    """The children of a region with their (simplified) boundaries."""
    return _serve("children", code)


@geometry.get("/geo/regions/<code>.geojson")
def region(code: str):
    """One region's own (simplified) boundary."""
    return _serve("regions", code)
