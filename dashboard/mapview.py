"""Map views: the centre and zoom that fit a region's bounds on a canvas (Leaflet needs both, not bounds)."""

from __future__ import annotations

import math

TILE = 256


def _mercator_y(lat: float) -> float:
    radians = math.radians(max(min(lat, 85.0), -85.0))
    return math.log(math.tan(math.pi / 4 + radians / 2))


def fit_view(bounds: list[float], width: int = 1600, height: int = 900, padding: float = 0.08) -> tuple[list, float]:
    """([lat, lon], zoom) showing ``bounds`` (minlon, minlat, maxlon, maxlat) on a width × height map."""
    minlon, minlat, maxlon, maxlat = bounds
    center = [(minlat + maxlat) / 2, (minlon + maxlon) / 2]
    usable_w, usable_h = width * (1 - 2 * padding), height * (1 - 2 * padding)
    lon_fraction = max(maxlon - minlon, 1e-9) / 360
    lat_fraction = max(_mercator_y(maxlat) - _mercator_y(minlat), 1e-9) / (2 * math.pi)
    zoom = min(math.log2(usable_w / TILE / lon_fraction), math.log2(usable_h / TILE / lat_fraction))
    return center, round(max(1.0, min(zoom, 18.0)) - 0.05, 1)
