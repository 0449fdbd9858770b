"""The map geometry route serves what the geometry build wrote, with VAR_DIR relative to the working directory as
`make demo` has it (Flask reads a relative file path against the app's package folder, not the working one), for
the browser's cache only."""

from __future__ import annotations

import orjson

from dashboard.app import create_app
from etl.demo.build import build_demo
from etl.warehouse.settings import Settings


def test_map_geometry_is_served_with_a_relative_var_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("VAR_DIR", "GEO_DIR", "WAREHOUSE_URL", "CACHE_REDIS_URL", "TILE_CRS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.load(var_dir="var")
    build_demo(settings, echo=lambda _line: None)
    client = create_app(settings).server.test_client()
    root = orjson.loads((tmp_path / "var" / "geo" / "manifest.json").read_bytes())["root"]
    for kind in ("children", "regions"):
        response = client.get(f"/geo/{kind}/{root}.geojson")
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "application/geo+json"
        assert response.data == (tmp_path / "var" / "geo" / kind / f"{root}.geojson").read_bytes()
        # Served after a scope check: a shared proxy must not keep it for the next person who asks.
        control = response.headers["Cache-Control"]
        assert "private" in control and "public" not in control and "max-age=300" in control, control
    assert client.get("/geo/children/990101999999.geojson").status_code == 404  # a region with no geometry
