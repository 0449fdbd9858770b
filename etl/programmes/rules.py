"""The evidence-rule vocabulary of an indicator catalogue: a Rule parsed and checked from its TOML table.

A rule reads one number for a region and compares it with thresholds for 达标 and 部分达标:

- ``measure`` (a name or a list): the rollups of the warehouse's measures, with ``aggregate`` count | total |
  mean (total/count) | days (days with any row) | ratio (against the measure ``of``), optional ``dimension``
  (and ``of_dimension``) filters;
- ``facts`` (a dataset): its rows, filtered by ``where`` on its fields ("*" = filled in), counted or their
  ``value`` column summed — for what no measure splits (cases by channel, workers with skills);
- ``screens`` (a screen kind): registered screens in the region that reported within ``fresh``.

``window`` is month (the month being scored) | Nd | Nh | ever; ``per = "village"`` divides by the villages of
the region (a township's total as a per-village figure); ``meets`` and ``partly`` are ">= 25", "<= 60",
">= 90%"; ``unit`` is how the value reads in reports.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from etl.dataset import BEIJING, Invalid
from etl.datasets import datasets
from etl.rollups import HOUR, day_of, hour_of, month_of
from etl.warehouse.labels import VALUES, column_label, dataset_name, measure_name, value_label

AGGREGATES = {
    "measure": ("count", "total", "mean", "days", "ratio"),
    "facts": ("count", "total"),
    "screens": ("count",),
}
SOURCES = tuple(AGGREGATES)
KEYS = {
    "what",
    "measure",
    "facts",
    "screens",
    "dimension",
    "aggregate",
    "of",
    "of_dimension",
    "where",
    "value",
    "fresh",
    "window",
    "per",
    "meets",
    "partly",
    "unit",
}
SCREEN_KINDS = ("county", "board", "stop", "browser")
# A rule's words are printed in every score's evidence, on screens and in the reports' cells: an 80,000-character
# ``what`` was stored in each score row and cut at Excel's 32,767 characters, the rule and the source lost.
MAX_WHAT = 100  # the 忻州 catalogue: at most 29
MAX_UNIT = 10
WINDOW = re.compile(r"^(?:(month)|(ever)|(\d{1,3})([dh]))$")
THRESHOLD = re.compile(r"^\s*(>=|≥|>|<=|≤|<|==|=)?\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*$")
DURATION = re.compile(r"^\s*(\d{1,4})\s*([mh])\s*$")
SIGNS = {">=": "≥", "≥": "≥", ">": ">", "<=": "≤", "≤": "≤", "<": "<", "==": "=", "=": "="}
STATUS_NAMES = {"met": "达标", "partly": "部分达标", "unmet": "未达标", "no_data": "无数据"}


class RuleError(ValueError):
    """A rule that cannot be used; the message names the file, the item and the key."""


@dataclass(frozen=True)
class Threshold:
    """A comparison of a value with a number: ">= 25", "<= 60", ">= 90%" (a share, 0.9)."""

    sign: str
    number: float
    percent: bool = False

    def holds(self, value: float) -> bool:
        """Whether ``value`` passes; a share is compared with a small tolerance for float sums."""
        target, slack = self.number, 1e-9
        return {
            "≥": value >= target - slack,
            ">": value > target + slack,
            "≤": value <= target + slack,
            "<": value < target - slack,
            "=": abs(value - target) <= slack,
        }[self.sign]

    def text(self, unit: str = "") -> str:
        """The threshold as a report writes it: ≥ 90%, ≤ 60 mg/L."""
        if self.percent:
            return f"{self.sign} {self.number * 100:g}%"
        return f"{self.sign} {self.number:g}{(' ' + unit) if unit else ''}"


@dataclass(frozen=True)
class Window:
    """The time a rule looks at, relative to the moment it is read at (``as_of``)."""

    kind: str  # month | ever | days | hours
    length: int = 0

    def rollup_range(self, as_of: datetime, days: bool = False) -> tuple[str, datetime | None, datetime]:
        """(grain, first bucket or None for all before, last bucket) of the rollups in the window; ``days``: in
        day buckets whatever the window (a count of days with data)."""
        if self.kind == "hours":
            last = hour_of(as_of)
            return "hour", last - HOUR * (self.length - 1), last
        if self.kind == "days":
            last = day_of(as_of)
            return "day", last - timedelta(days=self.length - 1), last
        if self.kind == "month":
            start = month_of(as_of)
            return ("day", start, day_of(as_of)) if days else ("month", start, start)
        return "month", None, month_of(as_of)

    def time_range(self, as_of: datetime) -> tuple[datetime | None, datetime]:
        """[start, end] of the window in time, for raw rows (start None: everything before)."""
        if self.kind == "hours":
            return as_of - HOUR * self.length, as_of
        if self.kind == "days":
            return day_of(as_of) - timedelta(days=self.length - 1), as_of
        if self.kind == "month":
            return month_of(as_of), as_of
        return None, as_of

    def label(self, as_of: datetime) -> str:
        """The period as reports write it, in local time."""
        start, end = self.time_range(as_of)
        last = end.astimezone(BEIJING)
        if self.kind == "month":
            return f"{last:%Y年%m月}（{start.astimezone(BEIJING):%m-%d} 至 {last:%m-%d}）"
        if self.kind == "ever":
            return f"截至 {last:%Y-%m-%d}"
        first = start.astimezone(BEIJING)
        unit = "天" if self.kind == "days" else "小时"
        pattern = "%Y-%m-%d" if self.kind == "days" else "%Y-%m-%d %H:%M"
        return f"近{self.length}{unit}（{first.strftime(pattern)} 至 {last.strftime(pattern)}）"


@dataclass(frozen=True)
class Rule:
    """One piece of evidence an item asks for: where its number comes from, over which window, and the
    thresholds it must pass."""

    what: str
    source: str  # measure | facts | screens
    aggregate: str
    window: Window
    meets: Threshold
    partly: Threshold | None = None
    measures: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    of: tuple[str, ...] = ()
    of_dimensions: tuple[str, ...] = ()
    facts: str = ""
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (field, values); ("*",) = filled in
    value: str = ""
    screens: str = ""
    fresh: timedelta = timedelta(minutes=15)
    per: str = ""
    unit: str = ""
    declared: dict = field(default_factory=dict, compare=False, hash=False)

    def status(self, value: float | None) -> str:
        """met | partly | unmet for a value, no_data when there is none."""
        if value is None:
            return "no_data"
        if self.meets.holds(value):
            return "met"
        if self.partly is not None and self.partly.holds(value):
            return "partly"
        return "unmet"

    def source_text(self) -> str:
        """Where the number comes from, as evidence names it: in the Chinese names of the measures, datasets, fields
        and coded values (etl/warehouse/labels.py), never their identifiers (按期办结 ÷ 办结事件, not
        cases.closed_on_time ÷ cases.closed)."""
        if self.source == "measure":
            names = _measures_text(self.measures, self.dimensions)
            if self.aggregate == "ratio":
                return f"{names} ÷ {_measures_text(self.of, self.of_dimensions)}"
            return f"{names}（{AGGREGATE_NAMES[self.aggregate]}）"
        if self.source == "facts":
            table = datasets()[self.facts].table.name
            filters = "，".join(
                f"{column_label(table, name)}：{'、'.join(_value_text(table, name, value) for value in values)}"
                for name, values in self.where
            )
            what = f"{column_label(table, self.value)}合计" if self.aggregate == "total" else "条数"
            return f"{dataset_name(self.facts)}{'（' + filters + '）' if filters else ''}：{what}"
        minutes = self.fresh.total_seconds() / 60
        return f"已登记的{SCREEN_NAMES.get(self.screens, self.screens)}（{minutes:g} 分钟内有心跳）"

    def rule_text(self) -> str:
        """The thresholds as reports write them."""
        text = f"{self.meets.text(self.unit)} 为达标"
        if self.partly is not None:
            text += f"，{self.partly.text(self.unit)} 为部分达标"
        return text + ("（按村平均）" if self.per == "village" else "")

    def value_text(self, value: float | None) -> str:
        """A value as reports write it, in the rule's unit (a ratio as a percentage)."""
        if value is None:
            return "—"
        if self.meets.percent:
            digits = self._digits(value * 100, 1, lambda shown: shown / 100)
            return f"{value * 100:.{digits}f}%"
        if abs(value - round(value)) < 1e-9:
            shown = f"{value:,.0f}"
        else:
            shown = f"{value:,.{self._digits(value, 2, lambda shown: shown)}f}"
        return f"{shown}{(' ' + self.unit) if self.unit else ''}"

    def _digits(self, written: float, digits: int, back) -> int:
        """Decimals enough that the value as written is rated as the value itself: 0.8995 written 90.0% beside
        "≥ 90% 为达标" and rated 部分达标 contradicted itself (at most four more)."""
        thresholds = [threshold for threshold in (self.meets, self.partly) if threshold is not None]
        actual = back(written)
        for more in range(digits, digits + 5):
            shown = back(round(written, more))
            if all(threshold.holds(shown) == threshold.holds(actual) for threshold in thresholds):
                return more
        return digits + 4


AGGREGATE_NAMES = {"count": "条数", "total": "合计", "mean": "平均", "days": "有数据的天数", "ratio": "比例"}
SCREEN_NAMES = {"county": "县级大屏", "board": "村级电子屏", "stop": "公交站屏", "browser": "浏览器屏"}


def _measures_text(names: tuple[str, ...], dimensions: tuple[str, ...]) -> str:
    """Measures by their names, with the dimension values a rule keeps by theirs: 物联设备 · 土壤墒情、大棚."""
    text = "+".join(measure_name(name) for name in names)
    if not dimensions:
        return text
    table, column = _dimension_of(names[0])
    return f"{text} · {'、'.join(value_label(table, column, value) if column else value for value in dimensions)}"


def _dimension_of(measure: str) -> tuple[str, str | None]:
    """The fact table a measure is rolled up from and the column its dimension values come from (None: none)."""
    for dataset in datasets().values():
        for declared in dataset.measures:
            if declared.name == measure or ("{" in declared.name and measure.startswith(declared.name.split("{")[0])):
                return dataset.table.name, declared.dimension
    return "", None


def _dimension_values(measures: tuple[str, ...], value: Any, where: str, key: str) -> tuple[str, ...]:
    """The dimension values a measure rule keeps, as the rollups hold them: a label as the feeds write it (网上办)
    is read as its code (online); a value the measures' dimension does not have is a RuleError (a typo counted
    nothing, and every pilot was 未达标). Dimensions of free text (products) take any value."""
    names = _names(value, where, key)
    kept = list(names)
    for measure in measures:
        table, column = _dimension_of(measure)
        if column is None:
            raise RuleError(f"{where}，键 {key}：度量 {measure}（{measure_name(measure)}）不分维度，不能按维度筛选")
        dataset = next(d for d in datasets().values() if d.table.name == table)
        parse = dataset.fields.get(column)
        labels = VALUES.get((table, column), {})
        codes = (parse.codes if parse is not None else ()) or tuple(labels)
        if not codes:
            continue
        by_label = {label: code for code, label in labels.items()}
        for position, raw in enumerate(names):
            try:
                code = str(parse.clean(raw)) if parse is not None and parse.codes else by_label.get(raw, raw)
            except Invalid:
                code = None
            if code not in codes:
                allowed = "、".join(f"{c}（{labels[c]}）" if c in labels else c for c in codes)
                raise RuleError(f"{where}，键 {key}：度量 {measure} 没有维度值 '{raw}'（可用：{allowed}）")
            kept[position] = code
    return tuple(kept)


def _value_text(table: str, column: str, value: str) -> str:
    """A facts filter's value by its label; "*" (filled in) as 已填."""
    return "已填" if value == "*" else value_label(table, column, value)


def _names(value: Any, where: str, key: str) -> tuple[str, ...]:
    """A name or a list of names (non-empty strings)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise RuleError(f"{where}，键 {key}：应为一个名称或名称的列表，而不是 {value!r}")
    return tuple(v.strip() for v in items)


def known_measures() -> tuple[set[str], tuple[str, ...]]:
    """The measure names the datasets declare, and the prefixes of templated ones (reading.{metric})."""
    names, prefixes = set(), []
    for dataset in datasets().values():
        for measure in dataset.measures:
            if "{" in measure.name:
                prefixes.append(measure.name.split("{")[0])
            else:
                names.add(measure.name)
    return names, tuple(prefixes)


def _measures(value: Any, where: str, key: str) -> tuple[str, ...]:
    names = _names(value, where, key)
    known, prefixes = known_measures()
    for name in names:
        templated = any(name.startswith(prefix) and len(name) > len(prefix) for prefix in prefixes)
        if name not in known and not templated:
            listed = "、".join(sorted(known))
            raise RuleError(f"{where}，键 {key}：没有度量 '{name}'（已有：{listed}，以及 reading.<指标>）")
    return names


def unprintable(text: str, lines: bool = False) -> str | None:
    """The first control or format character of ``text`` (newlines and tabs allowed with ``lines``) as U+XXXX, or
    None: no report cell can hold one, and an invisible character makes a name that matches nothing."""
    for character in text:
        if lines and character in "\n\t":
            continue
        if unicodedata.category(character) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return f"U+{ord(character):04X}"
    return None


def _words(text: str, where: str, key: str, limit: int) -> None:
    """RuleError naming ``where`` and ``key`` when a rule's words are longer than ``limit`` or hold a control or
    format character."""
    if len(text.strip()) > limit:
        raise RuleError(f"{where}，键 {key}：长 {len(text.strip())} 个字符，超过 {limit}")
    bad = unprintable(text)
    if bad:
        raise RuleError(f"{where}，键 {key}：含不可见的控制字符 {bad}，请删去")


def parse_threshold(value: Any, where: str, key: str) -> Threshold:
    """ ">= 25", "<= 60", ">= 90%" or a bare number (≥)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RuleError(f'{where}，键 {key}：应写作 ">= 25"、"<= 60" 或 ">= 90%"，而不是 {value!r}')
    match = THRESHOLD.match(str(value))
    if not match:
        raise RuleError(f'{where}，键 {key}：\'{value}\' 不是阈值（应写作 ">= 25"、"<= 60" 或 ">= 90%"）')
    sign, number, percent = match.groups()
    number = float(number) / (100 if percent else 1)
    return Threshold(SIGNS[sign or ">="], number, bool(percent))


def parse_window(value: Any, where: str) -> Window:
    """month | ever | Nd | Nh."""
    match = WINDOW.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise RuleError(f"{where}，键 window：'{value}' 不是 month、ever、<天数>d 或 <小时数>h（如 30d、24h）")
    month, ever, length, unit = match.groups()
    if month or ever:
        return Window("month" if month else "ever")
    if not 1 <= int(length) <= (400 if unit == "d" else 24 * 31):
        raise RuleError(f"{where}，键 window：'{value}' 超出范围（1–400 天或 1–744 小时）")
    return Window("days" if unit == "d" else "hours", int(length))


def _where(value: Any, dataset_name: str, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Filters of a facts rule: each field's allowed values, written as the warehouse stores them or as the
    feeds' labels (二维码 → qr_code); "*" for "filled in"."""
    if not isinstance(value, dict):
        raise RuleError(f'{where}，键 where：应为表，如 {{ channel = ["二维码", "电话"] }}')
    dataset = datasets()[dataset_name]
    filters = []
    for name, allowed in value.items():
        spot = f"{where}，键 where.{name}"
        parse = dataset.fields.get(name)
        if parse is None or name not in dataset.table.c:
            raise RuleError(f"{spot}：数据集 {dataset_name} 没有字段 '{name}'（有：{'、'.join(dataset.fields)}）")
        values = []
        for raw in _names(allowed, spot, f"where.{name}"):
            if raw == "*":
                values.append("*")
                continue
            try:
                values.append(str(parse.clean(raw)))
            except Invalid as error:
                raise RuleError(f"{spot}：{error}") from None
        filters.append((name, tuple(values)))
    return tuple(filters)


def parse_rule(table: Any, where: str) -> Rule:
    """A Rule from its TOML table; RuleError naming ``where`` (file, item, rule) and the key that is wrong."""
    if not isinstance(table, dict):
        raise RuleError(f"{where}：规则应为表（[[items.rules]]），而不是 {table!r}")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise RuleError(f"{where}：不认识的键 {'、'.join(unknown)}（可用：{'、'.join(sorted(KEYS))}）")
    what = table.get("what")
    if not isinstance(what, str) or not what.strip():
        raise RuleError(f'{where}，键 what：缺少规则的说明（如 what = "近30天有清运记录的天数"）')
    _words(what, where, "what", MAX_WHAT)
    sources = [name for name in SOURCES if name in table]
    if len(sources) != 1:
        raise RuleError(f"{where}：应有且只有 measure、facts、screens 之一（现有：{'、'.join(sources) or '无'}）")
    source = sources[0]
    aggregate = table.get("aggregate", "count")
    if aggregate not in AGGREGATES[source]:
        raise RuleError(f"{where}，键 aggregate：{source} 规则可用 {'、'.join(AGGREGATES[source])}，不是 '{aggregate}'")
    allowed = {
        "measure": {"dimension", "of", "of_dimension"},
        "facts": {"where", "value"},
        "screens": {"fresh"},
    }[source]
    misplaced = sorted((set(table) & {"dimension", "of", "of_dimension", "where", "value", "fresh"}) - allowed)
    if misplaced:
        raise RuleError(f"{where}：键 {'、'.join(misplaced)} 不适用于 {source} 规则")
    details: dict[str, Any] = {}
    if source == "measure":
        details["measures"] = _measures(table["measure"], where, "measure")
        if "dimension" in table:
            details["dimensions"] = _dimension_values(details["measures"], table["dimension"], where, "dimension")
        if (aggregate == "ratio") != ("of" in table):
            raise RuleError(f'{where}，键 of：比例（aggregate = "ratio"）须有分母 of，其他汇总方式不用 of')
        if "of" in table:
            details["of"] = _measures(table["of"], where, "of")
        if "of_dimension" in table:
            if "of" not in table:
                raise RuleError(f"{where}，键 of_dimension：只有比例（有分母 of）才用")
            details["of_dimensions"] = _dimension_values(details["of"], table["of_dimension"], where, "of_dimension")
    elif source == "facts":
        name = table["facts"]
        if name not in datasets():
            raise RuleError(f"{where}，键 facts：没有数据集 '{name}'（有：{'、'.join(sorted(datasets()))}）")
        details["facts"] = name
        details["where"] = _where(table.get("where", {}), name, where)
        if (aggregate == "total") != ("value" in table):
            raise RuleError(f'{where}，键 value：合计（aggregate = "total"）须指明合计的列 value，计数不用')
        if "value" in table:
            column = datasets()[name].table.c.get(str(table["value"]))
            if column is None or column.type.python_type not in (int, float):
                raise RuleError(f"{where}，键 value：'{table['value']}' 不是数据集 {name} 的数值列")
            details["value"] = column.name
    else:
        if table["screens"] not in SCREEN_KINDS:
            raise RuleError(
                f"{where}，键 screens：屏幕类型应为 {'、'.join(SCREEN_KINDS)} 之一，不是 '{table['screens']}'"
            )
        details["screens"] = table["screens"]
        fresh = DURATION.match(str(table.get("fresh", "15m")))
        if not fresh:
            raise RuleError(f"{where}，键 fresh：'{table['fresh']}' 不是时长（如 15m、2h）")
        details["fresh"] = timedelta(minutes=int(fresh.group(1)) * (60 if fresh.group(2) == "h" else 1))
    window = parse_window(table.get("window", "month"), where)
    if aggregate == "days" and window.kind not in ("days", "month"):
        raise RuleError(f'{where}，键 window：按天计数（aggregate = "days"）须用 month 或 <天数>d 窗口')
    if "per" in table and table["per"] != "village":
        raise RuleError(f"{where}，键 per：只能是 \"village\"（按村平均），不是 '{table['per']}'")
    if "per" in table and aggregate not in ("count", "total"):
        raise RuleError(f"{where}，键 per：按村平均只用于 count 或 total，{aggregate} 已是平均或比例")
    if "meets" not in table:
        raise RuleError(f'{where}，键 meets：缺少达标的阈值（如 meets = ">= 25"）')
    meets = parse_threshold(table["meets"], where, "meets")
    partly = parse_threshold(table["partly"], where, "partly") if "partly" in table else None
    if partly is not None and (partly.sign in "≥>") != (meets.sign in "≥>"):
        raise RuleError(f"{where}，键 partly：部分达标与达标的比较方向应一致（都为 ≥ 或都为 ≤）")
    for key, threshold in (("meets", meets), ("partly", partly)):
        # A ratio is a share: ">= 90" could never be met (every pilot 未达标 at 100 %); a count is no share: "1 件"
        # met ">= 90%". A mean may be either (a mean of 0/1 values is a share).
        if threshold is not None and aggregate == "ratio" and not threshold.percent:
            raise RuleError(f'{where}，键 {key}：比例的阈值应写成百分数，如 ">= 90%"，而不是 {table[key]!r}')
        if threshold is not None and aggregate in ("count", "total", "days") and threshold.percent:
            name = AGGREGATE_NAMES[aggregate]
            raise RuleError(f"{where}，键 {key}：{name}不是比例，阈值不能写成百分数（{table[key]!r}）")
    unit = table.get("unit", "")
    if not isinstance(unit, str):
        raise RuleError(f'{where}，键 unit：应为文字，如 "天"')
    _words(unit, where, "unit", MAX_UNIT)
    return Rule(
        what=what.strip(),
        source=source,
        aggregate=aggregate,
        window=window,
        meets=meets,
        partly=partly,
        per=table.get("per", ""),
        unit=unit,
        declared=dict(table),
        **details,
    )
