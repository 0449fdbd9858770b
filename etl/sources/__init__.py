"""The transport registry: a source object built from a feed's ``[source]`` table by its ``type``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from etl.sources.base import Batch, Record, Source, SourceError
from etl.sources.watermark import FUTURE_SLACK

__all__ = ["Batch", "Record", "Source", "SourceError", "source_columns", "source_from_config", "source_types"]


@cache
def source_types() -> dict[str, ModuleType]:
    """Each transport module of this package by its ``TYPE``; a new transport is one new module here."""
    modules = (importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__))
    return {module.TYPE: module for module in modules if hasattr(module, "TYPE")}


def source_columns(mapping: Mapping[str, str]) -> tuple[str, ...]:
    """The source columns a feed's mapping names (not its constants or MQTT topic parts)."""
    return tuple(source for source in mapping.values() if not source.startswith(("=", "topic:")))


def source_from_config(
    config: dict[str, Any], base_dir: Path, columns: tuple[str, ...] = (), future_tolerance: timedelta = FUTURE_SLACK
) -> Source:
    """The source a feed declares; relative paths in its config are taken from ``base_dir``. ``columns``, the
    feed's mapped source columns, and ``future_tolerance``, the feed's, go to a source that can use them (a file
    finds its header by the columns; HTTP and SQL hold their watermark back by the tolerance)."""
    kind = config.get("type")
    types = source_types()
    if kind not in types:
        raise ValueError(f"未知的来源类型 {kind!r}；可用：{', '.join(sorted(types))}")
    build = types[kind].SOURCE.from_config
    accepted = inspect.signature(build).parameters
    given = {"columns": columns, "future_tolerance": future_tolerance}
    return build(config, base_dir, **{name: value for name, value in given.items() if name in accepted})
