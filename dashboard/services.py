"""便民服务: the configured services (label and URL per village) and their QR codes, drawn on the server."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno

from dashboard.cache import drawn_once

DEMO_SERVICES = Path(__file__).resolve().parents[1] / "data" / "demo" / "services.toml"


class ServicesError(ValueError):
    """A services file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Service:
    """One service a villager reaches by scanning its QR code."""

    key: str
    label: str
    url: str

    def url_for(self, village: str) -> str:
        """The service's address for one village."""
        return self.url.replace("{village}", village)


@cache
def load_services(path: str = "") -> tuple[Service, ...]:
    """The services of a deployment's services file (default: the demo's), in file order."""
    where = Path(path) if path else DEMO_SERVICES
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ServicesError(f"{where}: {error}") from None
    found = []
    for key, entry in data.get("services", {}).items():
        if not isinstance(entry, dict) or not entry.get("label") or not entry.get("url"):
            raise ServicesError(f"{where}: services.{key} needs a label and a url")
        if not str(entry["url"]).startswith(("https://", "http://", "weixin://", "alipays://")):
            raise ServicesError(f"{where}: services.{key}.url '{entry['url']}' is not a link a phone can open")
        found.append(Service(key, str(entry["label"]), str(entry["url"])))
    return tuple(found)


@cache
def qr_data_uri(url: str) -> str:
    """An SVG QR code of ``url`` as a data: URI (error correction M, quiet zone kept for reliable scanning),
    drawn once for all workers (about 4 ms each, one per service and village)."""
    key = "qr:" + hashlib.sha1(url.encode()).hexdigest()
    return drawn_once(key, lambda: _qr_svg(url))


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=8, border=4, dark="#000000", light="#ffffff")
