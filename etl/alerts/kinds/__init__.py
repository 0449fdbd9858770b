"""Rule kinds, one module each (``KIND``), discovered: a new kind of rule is one new file.

A kind module has ``KIND``, ``SCOPED_BY`` ("region" or "feed": what a load restricts it by), ``KEYS`` (its own
keys in a rule), ``parse(entry, where)`` (its settings, checked), ``datasets(params)`` (the datasets whose loads
touch it; None: any) and ``observe(connection, params, now, live, scope)`` (an Observation)."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache

from etl.warehouse.text import clean_text


@dataclass(frozen=True)
class Seen:
    """A subject whose fire condition holds: its region, the value seen and what people read about it."""

    region_code: str
    value: float | None
    detail: str


@dataclass
class Observation:
    """What a rule sees now: the subjects that fire, and the live alerts' subjects whose clear condition holds
    with what was seen (a live subject in neither is in the hysteresis band, or out of sight: it stays as it is)."""

    firing: dict[str, Seen] = field(default_factory=dict)
    cleared: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """What an evaluation after a load looks at: the regions it loaded (with their ancestors) and its feed; and
    the feeds the deployment's feeds file declares (None: not known, every feed the warehouse knows counts)."""

    regions: frozenset[str] | None = None
    feed: str | None = None
    feeds: frozenset[str] | None = None


@cache
def kinds() -> dict:
    """Every kind module of this package by its ``KIND``."""
    modules = (importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__))
    return {module.KIND: module for module in modules if hasattr(module, "KIND")}


def chunks(items: list, size: int = 500):
    """Lists of at most ``size`` items (bound parameters per statement stay within SQLite's limit)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def data_text(text: object) -> str:
    """What data says (a device or case id) as an alert's detail holds it: one line, without control or invisible
    format characters."""
    # The detail reaches the CLI, the SMS, webhook and email texts: an ANSI escape in a device id cleared the
    # operator's terminal, a line end forged an alert line, a right-to-left override turned the id around.
    return " ".join(clean_text(str(text)).split())
