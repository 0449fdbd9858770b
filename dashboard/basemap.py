"""The optional basemap: a tile layer from TILE_URL, and the CRS the maps' geometry must be served in."""

from __future__ import annotations

import dash_leaflet as dl

from etl.warehouse.settings import Settings

TILE_CRS = ("wgs84", "gcj02")


def display_crs(settings: Settings) -> str:
    """wgs84 or gcj02: the CRS of the tiles, which every layer drawn on them has to use."""
    crs = (settings.tile_crs or "wgs84").strip().lower()
    if crs not in TILE_CRS:
        raise ValueError(f"TILE_CRS '{settings.tile_crs}' is not one of {', '.join(TILE_CRS)}")
    return crs


def tile_layers(settings: Settings) -> list:
    """The basemap layer when a tile URL is configured, else nothing (the maps need no tile service)."""
    if not settings.tile_url:
        return []
    return [dl.TileLayer(url=settings.tile_url, maxZoom=18, className="basemap")]
