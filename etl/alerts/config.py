"""An alerts file (ALERTS_FILE, TOML): its rules, its channels with their routes, and how often the sweep runs,
checked at load with errors naming the file, the rule or channel, and the key."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from etl.alerts.channels import Channel, parse_channel
from etl.alerts.errors import AlertConfigError
from etl.alerts.rules import Rule, duration, parse_rule

DEMO_FILE = Path(__file__).resolve().parents[2] / "data" / "demo" / "alerts.toml"


@dataclass(frozen=True)
class AlertsConfig:
    """A deployment's rules and channels (the channels that are switched off are left out)."""

    rules: dict[str, Rule] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    sweep: timedelta = timedelta(minutes=1)
    source: str = ""


def load_alerts(path: str | Path, environment: dict[str, str] | None = None) -> AlertsConfig:
    """Every rule and channel of an alerts file, checked. ``environment`` (default: os.environ) gives the
    secrets and addresses that channels name by ``*_env`` keys."""
    import os

    path = Path(path)
    environment = os.environ if environment is None else environment
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AlertConfigError(f"{path.name}：{error}") from None
    unknown = sorted(set(document) - {"defaults", "evaluation", "rules", "channels"})
    if unknown:
        raise AlertConfigError(
            f"{path.name}：不认识的表 {'、'.join(unknown)}（可用：defaults、evaluation、rules、channels）"
        )
    defaults = document.get("defaults", {})
    rules = {
        rule_id: parse_rule(rule_id, entry, defaults, f"{path.name} [rules.{rule_id}]")
        for rule_id, entry in document.get("rules", {}).items()
    }
    channels = {}
    for name, entry in document.get("channels", {}).items():
        channel = parse_channel(name, entry, f"{path.name} [channels.{name}]", environment)
        if channel is not None:
            channels[name] = channel
    evaluation = document.get("evaluation", {})
    sweep = duration(evaluation.get("sweep", "1m"), f"{path.name} [evaluation].sweep")
    return AlertsConfig(rules, channels, sweep, str(path))
