"""The village's part of a household's page (its notices with their files, the redemption catalogue, the services),
kept per process and warehouse version: every household of a village sees the same part, it changes only when a
load changes the warehouse (notices and the catalogue arrive through feeds), and reading it for each page was three
of the page's eight statements."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Engine

from dashboard.cache import version_mark
from dashboard.household import queries
from dashboard.services import load_services
from etl.warehouse import intake_points
from etl.warehouse.intake_files import files_of

KEPT = 2048  # villages' parts a process keeps (a county has a few hundred villages)
_parts: OrderedDict = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class VillagePart:
    """What every household of a village sees alike; shared between requests, so never changed."""

    notices: tuple[dict, ...]
    attachments: dict[str, list[dict]]
    catalogue: tuple[dict, ...]
    services: tuple[tuple[str, str], ...]


def village_part(engine: Engine, village: str, services_file: str) -> VillagePart:
    """The village's part as the warehouse holds it now (read once per process and warehouse version)."""
    key = (engine.url.render_as_string(), village, services_file, version_mark(engine))
    with _lock:
        if key in _parts:
            _parts.move_to_end(key)
            return _parts[key]
    with engine.connect() as connection:
        notices = tuple(queries.village_notices(connection, village))
        attachments = files_of(connection, "notice", [notice["id"] for notice in notices])
        catalogue = tuple(intake_points.offered(connection, village))
    services = tuple((service.label, service.url_for(village)) for service in load_services(services_file))
    part = VillagePart(notices, attachments, catalogue, services)
    with _lock:
        _parts[key] = part
        while len(_parts) > KEPT:
            _parts.popitem(last=False)
    return part
