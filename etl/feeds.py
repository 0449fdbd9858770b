"""Feeds declared in a deployment's TOML file: source + mapping + checks + schedule, per dataset."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from etl.datasets import datasets

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class FeedConfigError(ValueError):
    """A feed file that cannot be used; the message names the file, the feed and the key."""


def parse_duration(value: str | int | float, where: str) -> timedelta:
    """A duration from seconds or text like "90s", "15m", "1h", "2d"."""
    match = DURATION.match(str(value))
    if not match:
        raise FeedConfigError(f"{where}: '{value}' is not a duration like 30s, 15m, 1h or 1d")
    return timedelta(seconds=float(match.group(1)) * UNITS[match.group(2)])


@dataclass(frozen=True)
class Feed:
    """One feed: which dataset it fills, from which source, how source fields map, how often."""

    name: str
    dataset: str
    source: dict
    mapping: dict[str, str]
    cadence: timedelta
    schedule: timedelta
    base_dir: Path
    future_tolerance: timedelta = timedelta(minutes=10)


def _substitute(value, variables: dict[str, str]):
    """Source settings with {var_dir}-style placeholders filled in (drop folders live under VAR_DIR)."""
    if isinstance(value, str):
        return value.format(**variables) if "{" in value else value
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    return value


def load_feeds(path: str | Path, variables: dict[str, str] | None = None) -> dict[str, Feed]:
    """Every feed of a TOML file, checked: known dataset, a source type, a mapping for each required field."""
    path = Path(path)
    variables = variables or {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise FeedConfigError(f"{path.name}: {error}") from None
    feeds = {}
    for name, entry in document.get("feeds", {}).items():
        where = f"{path.name} [feeds.{name}]"
        dataset_name = entry.get("dataset")
        if dataset_name not in datasets():
            raise FeedConfigError(f"{where}: dataset '{dataset_name}' is not one of {', '.join(sorted(datasets()))}")
        dataset = datasets()[dataset_name]
        mapping = dict(entry.get("mapping", {}))
        unknown = set(mapping) - set(dataset.fields)
        if unknown:
            raise FeedConfigError(f"{where}.mapping: {', '.join(sorted(unknown))} not fields of {dataset_name}")
        derivable = {"region_code"} if dataset.region_from_device else set()
        required = {f for f, spec in dataset.fields.items() if spec.required}
        missing = sorted(required - set(mapping) - derivable)
        if missing:
            raise FeedConfigError(f"{where}.mapping: no source for required field(s) {', '.join(missing)}")
        if "type" not in entry.get("source", {}):
            raise FeedConfigError(f"{where}.source: needs a type (file, http, mqtt or sql)")
        cadence = parse_duration(entry.get("cadence", "1h"), f"{where}.cadence")
        feeds[name] = Feed(
            name=name,
            dataset=dataset_name,
            source=_substitute(dict(entry["source"]), variables),
            mapping=mapping,
            cadence=cadence,
            schedule=parse_duration(entry.get("schedule", entry.get("cadence", "1h")), f"{where}.schedule"),
            base_dir=path.parent,
            future_tolerance=parse_duration(entry.get("future_tolerance", "10m"), f"{where}.future_tolerance"),
        )
    return feeds
