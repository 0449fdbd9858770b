"""The one settings object of the product: argument > environment variable > default."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path

# The SECRET_KEY line of .env.example: a deployment that copied the file without filling it in must not start.
PLACEHOLDER_SECRET = "change-me"
MIN_SECRET_LENGTH = 32
# The CRSs tiles may be drawn in (TILE_CRS): the screens serve the maps' geometry in the one chosen.
TILE_CRS_CHOICES = ("wgs84", "gcj02")
NUMBER_TYPES = {"int": (int, "整数"), "float": (float, "数")}


class SettingError(ValueError):
    """A setting whose value cannot be used; the message, in Chinese, names the setting and says why."""


class SecretKeyError(SettingError):
    """A SECRET_KEY that must not be used (the placeholder, or too short); the message says what to do."""


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
    # Case topics that identify a person's circumstances: public screens show such a case by its topic only.
    sensitive_categories: str = (
        "低保,特困,五保,救助,救济,困难帮扶,残疾,重病,大病,信访,上访,家暴,离婚,精神,吸毒,矫正,债务"
    )
    frame_ancestors: str = ""  # default: no page may be framed; else origins (a signage player) that may frame kiosks
    unregistered_screens: int = 200  # unregistered screens kept (each for 24 h after its last heartbeat)
    trusted_proxies: str = "127.0.0.0/8,::1"  # addresses whose X-Real-IP names the client (nginx), comma-separated
    audit_keep_days: int = 365  # days the audit log keeps (at least 180: the Cybersecurity Law's six months)
    pilot_score_seconds: int = 60  # etl watch rescores the pilot programmes at most this often after loads
    public_screens: str = "true"  # false: /screen, /board and /stop need a login or a registered screen's token
    idle_minutes: int = 30  # a login ends after this long without the user doing anything
    cookie_secure: str = "true"  # the session cookie goes over HTTPS only (false only behind plain-HTTP test setups)
    oidc_issuer: str = ""  # empty: no single sign-on; else the OpenID provider's issuer URL (its discovery document)
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_region_claim: str = "region_code"  # the ID token claim that carries the user's region code (scope)
    oidc_role_claim: str = "role"  # the claim that carries the role (admin, county, township, village, viewer)
    alerts_file: str = ""  # default: the demo's data/demo/alerts.toml (alert rules and notification channels)
    uploads_dir: str = ""  # default: <var_dir>/uploads (households' photos, notices' attachments); shared storage
    household_writes_per_hour: int = 30  # 诉求, ratings and redemptions one household may send an hour
    address_writes_per_hour: int = 300  # the same from one address (a village's phones may share one)
    office_writes_per_hour: int = 60  # notices, records, catalogue items and case steps a village office may save

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Settings from explicit arguments (if not None), else the environment, else the defaults."""
        values: dict[str, object] = {}
        named = {name for name, value in overrides.items() if value is not None}
        for field in fields(cls):
            given = overrides.pop(field.name, None)
            if given is None:
                given = os.environ.get(field.name.upper())
            if given is None or given == "":
                continue
            values[field.name] = _typed(field.name, field.type, given, from_environment=field.name not in named)
        if overrides:
            raise TypeError(f"unknown settings: {', '.join(sorted(overrides))}")
        return cls(**values)._with_derived_defaults()

    def _with_derived_defaults(self) -> Settings:
        # Folders are made absolute against the working directory once, here: Flask's send_file reads a relative
        # path against the app's package folder, so the demo's "var" served no map geometry at all.
        var = Path(self.var_dir).absolute()
        derived = {"var_dir": str(var), "geo_dir": str(Path(self.geo_dir).absolute() if self.geo_dir else var / "geo")}
        derived["uploads_dir"] = str(Path(self.uploads_dir).absolute() if self.uploads_dir else var / "uploads")
        if not self.warehouse_url:
            derived["warehouse_url"] = f"sqlite:///{var / 'warehouse.db'}"
        return self.__class__(**{**self.__dict__, **derived})

    def display_crs(self) -> str:
        """wgs84 or gcj02: the CRS of the tiles (TILE_CRS), or a SettingError naming a value that is neither."""
        crs = (self.tile_crs or "wgs84").strip().lower()
        if crs not in TILE_CRS_CHOICES:
            raise SettingError(
                f"TILE_CRS '{self.tile_crs}' 不是可用的坐标系：应为 {' 或 '.join(TILE_CRS_CHOICES)}"
                "（wgs84：天地图、CGCS2000 和 OSM 式瓦片；gcj02：高德、腾讯）"
            )
        return crs

    @staticmethod
    def flag(value: str) -> bool:
        """A true/false setting as written in the environment (true, 1, yes, on …)."""
        return str(value).strip().lower() in ("1", "true", "yes", "on", "是")

    @staticmethod
    def environment_names() -> list[str]:
        """The environment variable of each setting."""
        return [field.name.upper() for field in fields(Settings)]

    def ensure_secret_key(self) -> str:
        """The configured secret key, or one generated once and kept under var_dir (shared by all workers), readable
        by its owner only. The placeholder of .env.example, or a key too short to be secret, stops the start."""
        if self.secret_key:
            if self.secret_key.startswith(PLACEHOLDER_SECRET) or len(self.secret_key) < MIN_SECRET_LENGTH:
                raise SecretKeyError(
                    "SECRET_KEY 仍是 .env.example 中的占位值或少于 32 个字符，服务不会以它启动。"
                    "请生成一个长随机字符串（例如 python -c 'import secrets; print(secrets.token_hex(32))'），"
                    "写入 .env 的 SECRET_KEY，并在每台主机上使用同一个值；"
                    "或删去 SECRET_KEY，由服务在 VAR_DIR/secret_key 中生成（仅单台主机时）。"
                )
            return self.secret_key
        path = Path(self.var_dir) / "secret_key"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Written to a file of this process readable by its owner only, then linked into place, which fails if
            # another worker got there first: nobody else can read the key, and nobody reads half of it.
            partial = path.with_name(f"secret_key.{os.getpid()}.part")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
            try:
                os.link(partial, path)
            except FileExistsError:
                pass
            finally:
                partial.unlink()
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # a key file from an earlier version was created readable by everyone
        return path.read_text().strip()


def _typed(name: str, kind: str, given: object, *, from_environment: bool) -> object:
    """A setting's value as its field's type; a SettingError naming the variable (or argument) and the value."""
    if kind not in NUMBER_TYPES:
        return str(given)
    number, called = NUMBER_TYPES[kind]
    try:
        return number(given)
    except ValueError:
        where = f"环境变量 {name.upper()}" if from_environment else f"设置 {name}"
        raise SettingError(f"{where} 的值 '{given}' 不是{called}") from None
