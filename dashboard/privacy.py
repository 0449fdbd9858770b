"""Masking of personal data before it leaves the server: names (张*明), phones (138****1234), ID numbers."""

from __future__ import annotations

import re

# Mainland mobile numbers, landlines with area code, and 18-digit resident ID numbers (last may be X).
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?\d{3,4}(\d{4})(?!\d)")
RESIDENT_ID = re.compile(r"(?<![\dXx])(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")


def mask_name(name: str | None) -> str:
    """A person's name with the middle hidden: 张三明 → 张*明, 张三 → 张*, 欧阳小明 → 欧**明."""
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str:
    """A phone number with the middle hidden: 13812341234 → 138****1234."""
    return scrub(phone or "")


def scrub(text: str | None) -> str:
    """Free text with every phone and ID number in it masked (titles and notes may contain them)."""
    if not text:
        return ""
    text = RESIDENT_ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)
    text = MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return LANDLINE.sub(lambda m: m.group(1) + "-****" + m.group(2), text)
