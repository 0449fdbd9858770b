"""An alerts file (ALERTS_FILE, TOML): its rules, its channels with their routes, and how often the sweep runs,
checked at load with errors naming the file, the rule or channel, and the key."""

from __future__ import annotations

import re
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
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise AlertConfigError(f"{path.name}：无法读取（{error.strerror or error}）") from None
    except UnicodeDecodeError:
        raise AlertConfigError(f"{path.name}：不是 UTF-8 编码，请另存为 UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        place = f"第 {at.group(1)} 行第 {at.group(2)} 列" if at else "某处"
        raise AlertConfigError(f"{path.name}：{place}不是正确的 TOML 写法（{error}）") from None
    unknown = sorted(set(document) - {"defaults", "evaluation", "rules", "channels"})
    if unknown:
        raise AlertConfigError(
            f"{path.name}：不认识的表 {'、'.join(unknown)}（可用：defaults、evaluation、rules、channels）"
        )
    for table in ("defaults", "evaluation", "rules", "channels"):
        if not isinstance(document.get(table, {}), dict):
            raise AlertConfigError(
                f"{path.name}：{table} 应是表（[{table}] 或 [{table}.名称]），不是 {document[table]!r}"
            )
    defaults = document.get("defaults", {})
    rules = {
        rule_id: _checked(parse_rule, f"{path.name} [rules.{rule_id}]", rule_id, entry, defaults)
        for rule_id, entry in document.get("rules", {}).items()
    }
    channels = {}
    for name, entry in document.get("channels", {}).items():
        channel = _checked(parse_channel, f"{path.name} [channels.{name}]", name, entry, environment=environment)
        if channel is not None:
            channels[name] = channel
    evaluation = document.get("evaluation", {})
    unknown = sorted(set(evaluation) - {"sweep"})
    if unknown:  # a misspelt sweep ("swep") was ignored and the sweep ran every minute
        raise AlertConfigError(f"{path.name} [evaluation]：不认识的键 {'、'.join(unknown)}（可用：sweep）")
    # Through _checked: "99999999999d" overflowed a timedelta, a traceback that stopped `etl watch`.
    sweep = _checked(_sweep, f"{path.name} [evaluation]", "sweep", evaluation, environment=environment)
    return AlertsConfig(rules, channels, sweep, str(path))


def _sweep(_name: str, evaluation: dict, where: str, _environment) -> timedelta:
    """How often the sweep runs."""
    return duration(evaluation.get("sweep", "1m"), f"{where}.sweep")


def _checked(parse, where: str, name: str, entry, defaults=None, environment=None):
    """What ``parse`` makes of a rule's or channel's table; a value of a type its parser did not expect (a port
    written "smtp", headers as a text, regions as a number) is an AlertConfigError naming the table, not a
    traceback that stops `etl watch`."""
    try:
        if environment is None:
            return parse(name, entry, defaults, where)
        return parse(name, entry, where, environment)
    except AlertConfigError:
        raise
    except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as error:
        raise AlertConfigError(
            f"{where}：有键的值类型不对，请对照 README 的示例（{type(error).__name__}: {error}）"
        ) from None
