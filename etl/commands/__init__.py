"""The `ruralbrain` command groups, one module each (``COMMAND``), discovered: a new group is one new file."""

from __future__ import annotations

import importlib
import pkgutil

import click


def commands() -> list[click.Command]:
    """Every module's ``COMMAND`` in this package, in name order."""
    modules = (importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__))
    return [module.COMMAND for module in modules if hasattr(module, "COMMAND")]
