"""Alert rules as data: each rule of an alerts file (id, Chinese name, kind, severity, hold time `for`, the time
`keep_for` its clear condition must last, escalation time per level, and its kind's own keys) parsed and checked,
errors naming file, rule and key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from etl.alerts.errors import AlertConfigError
from etl.alerts.kinds import kinds
from etl.alerts.owner import OWNER_LEVELS
from etl.feeds import FeedConfigError, parse_duration
from etl.warehouse.alerts import SEVERITIES

COMMON_KEYS = ("name", "kind", "severity", "for", "keep_for", "escalate")


@dataclass(frozen=True)
class Rule:
    """One rule: what it watches (its kind and params), how bad it is, how long a condition must last before
    an alert opens, and how long each level has to acknowledge before the alert goes one level up."""

    id: str
    name: str
    kind: str
    severity: str
    hold: timedelta
    escalate: dict[str, timedelta]
    params: object
    keep: timedelta = timedelta(0)  # how long the clear condition must hold before a live alert resolves

    @property
    def module(self):
        """The rule's kind module (etl/alerts/kinds)."""
        return kinds()[self.kind]


def duration(value: object, where: str) -> timedelta:
    """A duration like 90s, 10m, 2h, 1d; AlertConfigError naming ``where`` otherwise."""
    try:
        return parse_duration(value, where)
    except (FeedConfigError, OverflowError):  # "99999999999d" is beyond a timedelta
        raise AlertConfigError(f"{where}：'{value}' 不是时长（例如 30s、10m、2h、1d）") from None


def parse_rule(rule_id: str, entry: dict, defaults: dict, where: str) -> Rule:
    """A rule from its table in the file, with the file's [defaults] under it; AlertConfigError naming the key."""
    if not isinstance(entry, dict):
        raise AlertConfigError(f"{where}：应是一个表（[rules.{rule_id}]）")
    entry = {**defaults, **entry}
    kind = entry.get("kind")
    if kind not in kinds():
        raise AlertConfigError(f"{where}.kind：'{kind}' 不是规则类型（{'、'.join(sorted(kinds()))}）")
    module = kinds()[kind]
    unknown = sorted(set(entry) - set(COMMON_KEYS) - set(module.KEYS))
    if unknown:
        allowed = "、".join((*COMMON_KEYS, *module.KEYS))
        raise AlertConfigError(f"{where}：不认识的键 {'、'.join(unknown)}（{kind} 规则可用：{allowed}）")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise AlertConfigError(f"{where}.name：需要一个名称（中文，不超过 100 字）")
    severity = entry.get("severity", "warning")
    if severity not in SEVERITIES:
        raise AlertConfigError(f"{where}.severity：'{severity}' 不是 {'、'.join(SEVERITIES)} 之一")
    hold = duration(entry.get("for", "0s"), f"{where}.for")
    keep = duration(entry.get("keep_for", "0s"), f"{where}.keep_for")
    escalate = entry.get("escalate", {})
    if not isinstance(escalate, dict) or set(escalate) - set(OWNER_LEVELS[:-1]):
        raise AlertConfigError(f'{where}.escalate：应是 {{ village = "30m", township = "2h" }} 这样的表')
    times = {level: duration(value, f"{where}.escalate.{level}") for level, value in escalate.items()}
    if len(rule_id) > 64:
        raise AlertConfigError(f"{where}：规则 id 不超过 64 个字符")
    return Rule(rule_id, name.strip(), kind, severity, hold, times, module.parse(entry, where), keep)
