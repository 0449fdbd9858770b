"""A rejected piece of input: which file, which row or feature, which field, and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

# What each kind of problem is called on an operator's screen; the English kind follows it as its identifier.
LABELS = {
    "ambiguous name": "名称有歧义",
    "bad code": "区划代码错误",
    "bad number": "数字错误",
    "bad region code": "区划代码错误",
    "blank header": "表头有空列名",
    "duplicate code": "区划代码重复",
    "duplicate header": "表头列名重复",
    "empty file": "空文件",
    "empty geometry": "没有边界",
    "empty name": "没有名称",
    "encoding": "编码无法识别",
    "extra cells": "多出的单元格",
    "future time": "时间在未来",
    "header not found": "找不到表头",
    "invalid geometry": "边界无效",
    "invalid value": "值无效",
    "level mismatch": "层级不符",
    "malformed json": "JSON 格式错误",
    "malformed row": "行格式错误",
    "missing column": "缺少列",
    "missing field": "缺少字段",
    "missing parent": "缺少上级区划",
    "bad parent": "上级代码不符",
    "other region": "属于另一地区",
    "workbook": "不是 CSV",
    "missing sheet": "缺少工作表",
    "no code": "没有区划代码",
    "no code or name": "没有代码或名称",
    "not a polygon": "不是多边形",
    "not an object": "不是 JSON 对象",
    "out of range": "超出合理范围",
    "outside parent": "超出上级区划",
    "refused by database": "数据库拒绝",
    "too late": "迟到太久",
    "too long": "内容过长",
    "truncated row": "行被截断",
    "unknown CRS": "坐标系未知",
    "unknown device": "设备未登记",
    "unknown metric": "未知指标",
    "unknown region": "区划未知",
    "unreadable": "无法读取",
    "unreadable file": "无法读取",
    "unsupported file": "不支持的文件",
    "value without header": "值没有列名",
    "wrong sign": "积分正负错误",
}


@dataclass(frozen=True)
class Issue:
    """One reason a row or feature was not imported; ``raw`` keeps the input so nothing is lost."""

    file: str
    location: str  # "第 12 行", "第 3 个要素", or "" for the whole file
    field: str | None
    kind: str  # short and stable, e.g. "bad code", "duplicate code"; summaries group by it
    detail: str
    raw: dict | None = None

    @property
    def label(self) -> str:
        """The kind as an operator reads it (Chinese), with the English kind as its identifier."""
        return f"{LABELS.get(self.kind, self.kind)} [{self.kind}]"

    @property
    def reason(self) -> str:
        """Kind and detail in one sentence."""
        return f"{self.label}：{self.detail}"

    @property
    def where(self) -> str:
        """File and row (or feature, or message) together."""
        return "，".join(part for part in (self.file, self.location) if part)

    def __str__(self) -> str:
        field = f"，字段「{self.field}」" if self.field else ""
        return f"{self.where}{field}：{self.reason}"


def kind_of(reason: str) -> str:
    """The English kind a stored reason names (between its brackets)."""
    start, end = reason.find("["), reason.find("]")
    return reason[start + 1 : end] if 0 <= start < end else reason.split(":", 1)[0]


def summarize(issues: list[Issue]) -> str:
    """How many rows or features were skipped, per kind of problem."""
    if not issues:
        return "没有跳过任何内容"
    counts = Counter(issue.label for issue in issues)
    return "\n".join([f"跳过 {len(issues)} 项："] + [f"  {n} × {label}" for label, n in sorted(counts.items())])
