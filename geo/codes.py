"""12-digit statistical division codes (统计用区划代码): normalisation, level, parent and scope."""

from __future__ import annotations

LEVELS = ("province", "city", "county", "township", "village")
# what each level is called on screen
LEVEL_NAMES = {"province": "省级", "city": "市级", "county": "县级", "township": "乡级", "village": "村级"}

# digits that identify a region at each level; the rest of the 12 are zeros
_PREFIX_LENGTHS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
_ACCEPTED_LENGTHS = tuple(sorted(_PREFIX_LENGTHS.values()))
# spreadsheets typed with a Chinese input method often hold full-width digits (３３０５２２)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


class CodeError(ValueError):
    """A division code that is not 2, 4, 6, 9 or 12 ASCII digits."""


def level_rank(level: str) -> int:
    """Depth of a level name: 0 for province up to 4 for village."""
    try:
        return LEVELS.index(level)
    except ValueError:
        raise ValueError(f"未知层级 '{level}'；应为 {'、'.join(LEVELS)} 之一") from None


def normalize_code(raw: str | int) -> str:
    """The 12-digit form of a code given with 2, 4, 6, 9 or 12 digits, zero-padded on the right."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise CodeError(f"代码 {raw!r} 的类型是 {type(raw).__name__}，不是字符串或整数")
    code = str(raw).translate(_FULL_WIDTH_DIGITS).strip()
    if not code:
        raise CodeError(f"代码 {str(raw)!r} 为空")
    bad = next((char for char in code if char not in "0123456789"), None)
    if bad is not None:
        raise CodeError(f"代码 '{code}' 含非数字字符 '{bad}'")
    if len(code) not in _ACCEPTED_LENGTHS:
        expected = "、".join(str(n) for n in _ACCEPTED_LENGTHS[:-1]) + f" 或 {_ACCEPTED_LENGTHS[-1]}"
        raise CodeError(f"代码 '{code}' 有 {len(code)} 位，应为 {expected} 位")
    return code.ljust(12, "0")


def level_of(code: str | int) -> str:
    """The level of a region, read from the trailing zeros of its code."""
    code = normalize_code(code)
    if code.endswith("0" * 10):
        return "province"
    if code.endswith("0" * 8):
        return "city"
    if code.endswith("0" * 6):
        return "county"
    if code.endswith("0" * 3):
        return "township"
    return "village"


def scope_prefix(code: str | int) -> str:
    """The leading digits shared by a region and every region below it."""
    code = normalize_code(code)
    return code[: _PREFIX_LENGTHS[level_of(code)]]


def scope_range(code: str | int) -> tuple[str, str]:
    """The lowest and highest 12-digit code in a region's subtree: an index range scan under any collation,
    where ``LIKE 'prefix%'`` uses an index only under the C collation."""
    prefix = scope_prefix(code)
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def parent_of(code: str | int) -> str | None:
    """The 12-digit code of the region one level up, or None for a province."""
    code = normalize_code(code)
    level = level_of(code)
    if level == "province":
        return None
    parent_level = LEVELS[level_rank(level) - 1]
    return code[: _PREFIX_LENGTHS[parent_level]].ljust(12, "0")


def is_within(code: str | int, scope_code: str | int) -> bool:
    """Whether a region is the scope region itself or lies below it."""
    return normalize_code(code).startswith(scope_prefix(scope_code))
