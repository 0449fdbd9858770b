"""Region records read from a statistical division code CSV (UTF-8 or GBK), with the rows it rejects."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from geo.codes import LEVEL_NAMES, CodeError, is_within, level_of, level_rank, normalize_code, parent_of
from geo.issues import Issue
from geo.textfile import decode

# Header names seen in exports, in English and Chinese; the first column found wins.
COLUMN_ALIASES = {
    "code": ("code", "区划代码", "统计用区划代码", "行政区划代码", "代码", "adcode", "xzqdm"),
    "name": ("name", "名称", "区划名称", "单位名称", "xzqmc"),
    "level": ("level", "级别", "层级"),
    "parent_code": ("parent_code", "parent", "上级代码", "上级区划代码"),
    "households": ("households", "户数"),
    "population": ("population", "人口", "人口数"),
}


@dataclass(frozen=True)
class RegionRecord:
    """One region as read from a file, before it is stored."""

    code: str
    name: str
    level: str
    parent_code: str | None
    households: int | None = None
    population: int | None = None


@dataclass
class HierarchyRead:
    """What a code file gave: the valid regions and every rejected row with its reason."""

    regions: list[RegionRecord] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    encoding: str = ""


def _columns(header: list[str]) -> dict[str, int]:
    lowered = [cell.strip().lower() for cell in header]
    found = {}
    for column, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias.lower() in lowered:
                found[column] = lowered.index(alias.lower())
                break
    return found


def _optional_int(value: str, column: str) -> int | None:
    value = value.strip().replace(",", "")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    # NaN and infinity are no counts either (and int() of them raises)
    if not math.isfinite(number) or number < 0 or number != int(number):
        raise ValueError(f"'{value}' 不是大于等于 0 的整数")
    return int(number)


def read_codes_csv(path: str | Path, known_codes: set[str] | frozenset[str] = frozenset()) -> HierarchyRead:
    """Regions from a CSV with at least code and name columns; level and parent come from the code if absent.

    ``known_codes`` are regions already in the warehouse, so a child whose parent was imported earlier
    is accepted. Rows are rejected (with the reason) for a malformed row, a bad or duplicate code, an
    empty name, a level that contradicts the code, or a parent that is neither in the file nor known.
    """
    path = Path(path)
    file = path.name
    result = HierarchyRead()
    data = path.read_bytes()
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # a workbook (XLSX, XLS), whatever its name says
        detail = "这是 Excel 工作簿，区划代码表需要 CSV：在表格软件里另存为 CSV（UTF-8 或 GBK）再导入"
        result.issues.append(Issue(file, "", None, "workbook", detail))
        return result
    try:
        text, result.encoding = decode(data, file)
    except ValueError:
        detail = "既不是 UTF-8 也不是 GBK/GB18030 文本；请另存为 UTF-8 编码的 CSV"
        result.issues.append(Issue(file, "", None, "encoding", detail))
        return result
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        result.issues.append(Issue(file, "", None, "empty file", "既没有表头也没有数据行"))
        return result
    columns = _columns(header)
    missing = [name for name in ("code", "name") if name not in columns]
    if missing:
        shown = ",".join(header)
        detail = f"表头 '{shown}' 中没有 {'、'.join(missing)} 列；至少应有如 'code,name' 或 '区划代码,名称' 的两列"
        result.issues.append(Issue(file, "第 1 行", missing[0], "missing column", detail))
        return result

    candidates: dict[str, tuple[int, RegionRecord, dict]] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        raw = dict(zip(header, row, strict=False))
        location = f"第 {number} 行"
        if len(row) != len(header):
            detail = f"该行有 {len(row)} 个单元格，表头有 {len(header)} 列"
            result.issues.append(Issue(file, location, None, "malformed row", detail, raw))
            continue
        record_or_issue = _record(row, columns, file, location, raw)
        if isinstance(record_or_issue, Issue):
            result.issues.append(record_or_issue)
            continue
        record = record_or_issue
        if record.code in candidates:
            first = candidates[record.code][0]
            detail = f"{record.code} 已在第 {first} 行出现"
            result.issues.append(Issue(file, location, "code", "duplicate code", detail, raw))
            continue
        candidates[record.code] = (number, record, raw)

    # Only a county or a region above it may stand without its parent (the top of a county's own list); a file of
    # villages alone must name townships that exist.
    top_rank = min((level_rank(r.level) for _, r, _ in candidates.values()), default=0)
    top_rank = min(top_rank, level_rank("county"))
    available = set(candidates) | set(known_codes)
    tops = Counter(r.parent_code for _, r, _ in candidates.values() if level_rank(r.level) == top_rank)
    home = max(tops, key=lambda parent: (tops[parent], parent is None), default=None)
    for number, record, raw in candidates.values():
        is_root = level_rank(record.level) == top_rank and record.parent_code not in available
        if is_root and record.parent_code != home:
            # A stray row of another county became the deployment's root (the lowest code wins) and every board
            # of the county imported said 未找到.
            detail = f"{record.code} 属于另一地区（上级 {record.parent_code}），与其他最高级区划（上级 {home}）不同"
            result.issues.append(Issue(file, f"第 {number} 行", "code", "other region", detail, raw))
            continue
        if level_rank(record.level) != top_rank and record.parent_code not in available:
            detail = f"{record.parent_code} 既不在文件中也不在数据仓库中（{record.code} 的上级）"
            result.issues.append(Issue(file, f"第 {number} 行", "parent_code", "missing parent", detail, raw))
            continue
        result.regions.append(record)
    _drop_orphans_of_rejected(result, set(known_codes), top_rank, file)
    return result


def _drop_orphans_of_rejected(result: HierarchyRead, known: set[str], top_rank: int, file: str) -> None:
    """Reject descendants of rejected rows too, so no stored region points at a missing parent."""
    kept = {r.code for r in result.regions} | known
    changed = True
    while changed:
        changed = False
        for record in list(result.regions):
            if level_rank(record.level) != top_rank and record.parent_code not in kept:
                result.regions.remove(record)
                kept.discard(record.code)
                detail = f"{record.parent_code} 本身未能导入（{record.code} 的上级）"
                result.issues.append(Issue(file, "", "parent_code", "missing parent", detail, record.__dict__))
                changed = True


def _record(row: list[str], columns: dict[str, int], file: str, location: str, raw: dict) -> RegionRecord | Issue:
    def cell(column: str) -> str:
        return row[columns[column]].strip() if column in columns else ""

    try:
        code = normalize_code(cell("code"))
    except CodeError as error:
        return Issue(file, location, "code", "bad code", str(error), raw)
    name = cell("name")
    if not name:
        return Issue(file, location, "name", "empty name", f"区划 {code} 没有名称", raw)
    level = level_of(code)
    given_level = cell("level").lower()
    if given_level and given_level != level:
        detail = f"文件中的层级为 '{given_level}'，但代码 {code} 是{LEVEL_NAMES[level]}（{level}）"
        return Issue(file, location, "level", "level mismatch", detail, raw)
    parent = parent_of(code)
    given_parent = cell("parent_code")
    if given_parent:
        try:
            parent = normalize_code(given_parent)
        except CodeError as error:
            return Issue(file, location, "parent_code", "bad code", str(error), raw)
        # The tree follows parent_code, scopes and access follow the code's prefix: they must agree (a region its
        # own parent made every page that drew its breadcrumb loop for ever).
        if parent == code or not is_within(code, parent) or level_rank(level_of(parent)) >= level_rank(level):
            detail = f"上级代码 {parent} 不是 {code} 的上级（区划代码的前缀应属于上级）"
            return Issue(file, location, "parent_code", "bad parent", detail, raw)
    numbers = {}
    for column in ("households", "population"):
        try:
            numbers[column] = _optional_int(cell(column), column)
        except ValueError as error:
            return Issue(file, location, column, "bad number", str(error), raw)
    return RegionRecord(code, name, level, parent, **numbers)
