"""The optional basemap: a tile layer from TILE_URL, and the CRS the maps' geometry must be served in."""

from __future__ import annotations

import dash_leaflet as dl

from etl.warehouse.settings import Settings


def display_crs(settings: Settings) -> str:
    """wgs84 or gcj02: the CRS of the tiles, which every layer drawn on them has to use."""
    # Checked in Settings (with the list of CRSs): the command line refuses a wrong one before gunicorn starts.
    return settings.display_crs()


def tile_layers(settings: Settings) -> list:
    """The basemap layer when a tile URL is configured, else nothing (the maps need no tile service)."""
    if not settings.tile_url:
        return []
    return [dl.TileLayer(url=settings.tile_url, maxZoom=18, className="basemap")]
