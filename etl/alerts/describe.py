"""A rule in one line for people (`ruralbrain alerts rules`): what it watches, when it fires and clears, how
long it holds, and when it escalates."""

from __future__ import annotations

from etl.alerts.kinds.measure import GRAIN_NAMES, STATISTIC_NAMES
from etl.alerts.rules import Rule
from etl.status import duration_text
from etl.warehouse.alerts import LEVEL_NAMES
from etl.warehouse.labels import METRIC_NAMES, measure_name

# In Chinese throughout: `alerts rules` printed 读数 cod and 汇总 cases.received（day，count，village）.
WATCHES = {
    "reading": lambda p: f"读数 {METRIC_NAMES.get(p.metric, p.metric)}：{p.fire.text()} 告警，{p.clear.text()} 消除",
    "measure": lambda p: (
        f"汇总 {measure_name(p.measure)}（{GRAIN_NAMES[p.grain]}，{STATISTIC_NAMES[p.statistic]}，"
        f"{LEVEL_NAMES[p.level]}）：{p.fire.text()} 告警，{p.clear.text()} 消除"
    ),
    "silence": lambda p: (
        f"设备 {duration_text(p.after.total_seconds())} 未上报"
        + (f"（{'、'.join(p.device_kinds)}）" if p.device_kinds else "")
    ),
    "overdue_case": lambda p: (
        "事件超过办理时限未办结" + (f"（{'、'.join(p.modules + p.categories)}）" if p.modules or p.categories else "")
    ),
    "late_feed": lambda p: f"数据源最新数据早于 {p.factor:g} 个周期",
}


def describe_rule(rule: Rule) -> str:
    """The rule's condition, hold time and escalation in Chinese."""
    watches = WATCHES.get(rule.kind, lambda _p: rule.kind)(rule.params)
    hold = f"持续 {duration_text(rule.hold.total_seconds())} 后告警" if rule.hold else "立即告警"
    steps = "，".join(
        f"{LEVEL_NAMES[level]} {duration_text(t.total_seconds())} 未确认升级" for level, t in rule.escalate.items()
    )
    return "；".join(part for part in (watches, hold, steps or "不升级") if part)
