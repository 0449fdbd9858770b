"""Conditions on a number as rules write them ("> 60", "<= 55", "outside 20..80", "inside 25..75"): tested in
Python, as SQL over a column, and as text for people."""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_

from etl.alerts.errors import AlertConfigError

COMPARISONS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
NEGATIONS = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
NUMBER = r"[-+]?\d+(?:\.\d+)?"
COMPARISON = re.compile(rf"^\s*(>=|<=|>|<)\s*({NUMBER})\s*$")
RANGE = re.compile(rf"^\s*(outside|inside)\s+({NUMBER})\s*\.\.\s*({NUMBER})\s*$")


@dataclass(frozen=True)
class Condition:
    """``op`` is a comparison (>, >=, <, <=) with ``low`` as its limit, or outside/inside [low, high]."""

    op: str
    low: float
    high: float | None = None

    def holds(self, value: float) -> bool:
        """Whether a value meets the condition."""
        if self.op in COMPARISONS:
            return COMPARISONS[self.op](value, self.low)
        inside = self.low <= value <= self.high
        return inside if self.op == "inside" else not inside

    def sql(self, column) -> ColumnElement:
        """The condition over a column, with the limits as bound parameters."""
        if self.op in COMPARISONS:
            return COMPARISONS[self.op](column, self.low)
        inside = and_(column >= self.low, column <= self.high)
        return inside if self.op == "inside" else or_(column < self.low, column > self.high)

    def negated(self) -> Condition:
        """The values that do not meet it (a clear condition without hysteresis)."""
        if self.op in NEGATIONS:
            return Condition(NEGATIONS[self.op], self.low)
        return Condition("inside" if self.op == "outside" else "outside", self.low, self.high)

    def text(self) -> str:
        """The condition as people read it: "> 60", "不在 20～80 之间"."""
        if self.op in COMPARISONS:
            return f"{self.op} {self.low:g}"
        return f"{'不在' if self.op == 'outside' else '在'} {self.low:g}～{self.high:g} 之间"

    def limits(self) -> tuple[float, ...]:
        """The numbers the condition turns at."""
        return (self.low,) if self.high is None else (self.low, self.high)


def parse_condition(raw: object, where: str) -> Condition:
    """A condition from its text; AlertConfigError naming ``where`` when it is not one."""
    text = str(raw)
    match = COMPARISON.match(text) or RANGE.match(text)
    # A limit of 400 nines is a float's infinity: "> 999…" loaded and could never fire.
    if match and not all(math.isfinite(float(limit)) for limit in match.groups()[1:]):
        raise AlertConfigError(f"{where}：'{text[:40]}' 的界限超出数值范围")
    match = COMPARISON.match(text)
    if match:
        return Condition(match.group(1), float(match.group(2)))
    match = RANGE.match(text)
    if match and float(match.group(2)) <= float(match.group(3)):
        return Condition(match.group(1), float(match.group(2)), float(match.group(3)))
    raise AlertConfigError(f'{where}：\'{text}\' 不是条件（例如 "> 60"、"<= 55"、"outside 20..80"、"inside 25..75"）')


def check_hysteresis(fire: Condition, clear: Condition, where: str) -> None:
    """AlertConfigError when a value could both fire and clear (the clear condition must lie apart from the
    fire condition: fire at > 60, clear at <= 55, so a value hovering at 60 opens one alert, not fifty)."""
    points = {0.0}
    for limit in (*fire.limits(), *clear.limits()):
        step = max(1.0, abs(limit)) * 1e-9
        points.update((limit - step, limit, limit + step))
    points.update((min(points) - 1e9, max(points) + 1e9))
    both = sorted(value for value in points if fire.holds(value) and clear.holds(value))
    if both:
        raise AlertConfigError(f"{where}：消除条件 {clear.text()} 与触发条件 {fire.text()} 重叠（如 {both[0]:g}）")
    if not any(clear.holds(value) for value in points):
        raise AlertConfigError(f"{where}：消除条件 {clear.text()} 永远不成立")


def check_reachable(fire: Condition, low: float, high: float, where: str) -> None:
    """AlertConfigError when no value in [low, high] (what the readings accept of a metric) meets ``fire``."""
    points = {low, high}
    for limit in fire.limits():
        step = max(1.0, abs(limit)) * 1e-9
        points.update(min(max(value, low), high) for value in (limit - step, limit, limit + step))
    if not any(fire.holds(value) for value in points):
        raise AlertConfigError(f"{where}：{fire.text()} 永远不会成立（读数只在 {low:g}～{high:g} 之间）")
