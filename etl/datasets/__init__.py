"""The registry of datasets: every module in this package that defines DATASET; adding one is one new file."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from etl.dataset import Dataset, Field, text, timestamp


def fact_fields(**fields: Field) -> dict[str, Field]:
    """The fields of a fact: its own plus region_code and event_time, which every fact has."""
    return {"region_code": text(required=True), "event_time": timestamp(required=True), **fields}


@cache
def datasets() -> dict[str, Dataset]:
    """Every dataset by name, discovered from the modules of this package."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        dataset = getattr(importlib.import_module(f"{__name__}.{module.name}"), "DATASET", None)
        if dataset is not None:
            found[dataset.name] = dataset
    return found
