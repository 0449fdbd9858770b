"""The transport registry: a source object built from a feed's ``[source]`` table by its ``type``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from etl.sources.base import Batch, Record, Source, SourceError

__all__ = ["Batch", "Record", "Source", "SourceError", "source_from_config", "source_types"]


@cache
def source_types() -> dict[str, ModuleType]:
    """Each transport module of this package by its ``TYPE``; a new transport is one new module here."""
    modules = (importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__))
    return {module.TYPE: module for module in modules if hasattr(module, "TYPE")}


def source_from_config(config: dict[str, Any], base_dir: Path) -> Source:
    """The source a feed declares; relative paths in its config are taken from ``base_dir``."""
    kind = config.get("type")
    types = source_types()
    if kind not in types:
        raise ValueError(f"unknown source type {kind!r}; known: {', '.join(sorted(types))}")
    return types[kind].SOURCE.from_config(config, base_dir)
