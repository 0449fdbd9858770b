"""The one settings object of the product: argument > environment variable > default."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Every setting; the field name upper-cased is its environment variable (documented in README)."""

    var_dir: str = "var"
    warehouse_url: str = ""  # default: SQLite file <var_dir>/warehouse.db
    root_region: str = ""  # default: the top region in the warehouse
    host: str = "127.0.0.1"
    port: int = 8050
    web_workers: int = 2
    geo_dir: str = ""  # default: <var_dir>/geo
    secret_key: str = ""  # default: a random key kept in <var_dir>/secret_key
    cache_redis_url: str = ""  # default: a filesystem cache under <var_dir>/cache
    feeds_file: str = ""  # default: the demo's data/demo/feeds.toml
    late_hours: int = 48
    sim_port: int = 8051  # the demo simulator's HTTP API (feeds.toml: {sim_port})
    reload_at: str = "03:00"  # local time at which every screen reloads itself (bounds browser memory)
    heartbeat_seconds: int = 60
    tile_url: str = ""  # default: no basemap (dark boundaries only); e.g. a local tile server's {z}/{x}/{y} URL
    tile_crs: str = "wgs84"  # the CRS the tiles are drawn in: wgs84 (天地图, CGCS2000 and OSM-style) or gcj02 (高德)
    services_file: str = ""  # default: the demo's data/demo/services.toml (便民服务 QR links on village boards)

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Settings from explicit arguments (if not None), else the environment, else the defaults."""
        values: dict[str, object] = {}
        for field in fields(cls):
            given = overrides.pop(field.name, None)
            if given is None:
                given = os.environ.get(field.name.upper())
            if given is None or given == "":
                continue
            values[field.name] = int(given) if field.type == "int" else str(given)
        if overrides:
            raise TypeError(f"unknown settings: {', '.join(sorted(overrides))}")
        return cls(**values)._with_derived_defaults()

    def _with_derived_defaults(self) -> Settings:
        # Folders are made absolute against the working directory once, here: Flask's send_file reads a relative
        # path against the app's package folder, so the demo's "var" served no map geometry at all.
        var = Path(self.var_dir).absolute()
        derived = {"var_dir": str(var), "geo_dir": str(Path(self.geo_dir).absolute() if self.geo_dir else var / "geo")}
        if not self.warehouse_url:
            derived["warehouse_url"] = f"sqlite:///{var / 'warehouse.db'}"
        return self.__class__(**{**self.__dict__, **derived})

    @staticmethod
    def environment_names() -> list[str]:
        """The environment variable of each setting."""
        return [field.name.upper() for field in fields(Settings)]

    def ensure_secret_key(self) -> str:
        """The configured secret key, or one generated once and kept under var_dir (shared by all workers)."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.var_dir) / "secret_key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip()
