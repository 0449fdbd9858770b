"""Masking of personal data before it leaves the server: names (张*明), phone and ID numbers however they are
written (138 1234 5678, +86…, (0572)6012345, full-width digits, 15- and 18-digit IDs), private case topics."""

from __future__ import annotations

import functools
import re

from etl.warehouse.text import INVISIBLE

# Look-alike characters people type (full-width digits and signs, dashes, ideographic space), folded one to one
# onto ASCII: a number is found in the folded text, and its place there is its place in the original.
_FOLD = str.maketrans(
    {
        **{chr(0xFF10 + digit): str(digit) for digit in range(10)},
        **dict.fromkeys("－‐‑‒–—―﹣−", "-"),
        **dict.fromkeys("\u3000\u00a0\u2002\u2003\u2009", " "),
        "＋": "+",
        "（": "(",
        "）": ")",
        "Ｘ": "X",
        "ｘ": "x",
    }
)
# What people put between groups of digits: spaces, a hyphen, or a hyphen with spaces around it.
_GAP = r"[ \t]?-?[ \t]?"
# A number starts where no digit (nor a digit and a gap) stands before it, so no match begins inside a longer
# number; it ends where no digit follows.
_START = r"(?<![0-9])(?<![0-9][ \t-])"
_END = r"(?![0-9])"
_COUNTRY = r"(?:(?:\+|00)[ \t]?86|\(\+?86\)|86)"


def _digits(count: int) -> str:
    """``count`` digits, the first not 0 (an ID starts with its province, 11–82), with gaps between them."""
    return rf"[1-9](?:{_GAP}[0-9]){{{count - 1}}}"


# Resident ID numbers: 18 characters (the last may be X) or the old 15 digits.
RESIDENT_ID = re.compile(rf"{_START}(?:{_digits(17)}{_GAP}[0-9Xx]|{_digits(15)}){_END}")
# Mobile numbers, with or without +86 / 0086 / 86 / a long-distance 0 in front.
MOBILE = re.compile(rf"{_START}(?:{_COUNTRY}{_GAP}|0)?1[3-9](?:{_GAP}[0-9]){{9}}{_END}")
# Landlines with their area code: 0572-6012345, (0572)6012345, 010 6234 5678, +86 572 6012345.
LANDLINE = re.compile(
    rf"{_START}(?P<area>\(0[1-9][0-9]{{1,2}}\)|0[1-9][0-9]{{1,2}}|{_COUNTRY}{_GAP}\(?0?[1-9][0-9]{{1,2}}\)?)"
    rf"{_GAP}(?P<local>[2-9](?:{_GAP}[0-9]){{6,7}}){_END}"
)


def _only_digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text).upper()


def _masked_id(match: re.Match) -> str:
    number = _only_digits(match.group())
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    return number[:6] + "*" * 6 + number[-3:]


def _masked_mobile(match: re.Match) -> str:
    number = _only_digits(match.group())[-11:]
    return number[:3] + "****" + number[-4:]


def _masked_landline(match: re.Match) -> str:
    area = _only_digits(match.group("area"))
    area = "0" + area.removeprefix("0086").removeprefix("86").removeprefix("0")
    return f"{area}-****{_only_digits(match.group('local'))[-4:]}"


# Dots and slashes group a number only where its groups are (139.1234.5678, 330522/19800101/0329, 0572.6012345):
# anywhere else they are decimals and lists (1.35/1.28/1.46 吨), which a dot taken as a gap read as one number.
RESIDENT_ID_DOTTED = re.compile(rf"{_START}[1-9][0-9]{{5}}([./])[0-9]{{8}}\1[0-9]{{3}}[0-9Xx]{_END}")
MOBILE_DOTTED = re.compile(rf"{_START}(?:{_COUNTRY}[ \t]?)?1[3-9][0-9]([./])[0-9]{{4}}\1[0-9]{{4}}{_END}")
LANDLINE_DOTTED = re.compile(rf"{_START}(?P<area>0[1-9][0-9]{{1,2}})[./](?P<local>[2-9][0-9]{{6,7}}){_END}")

MASKS = (
    (RESIDENT_ID, _masked_id),
    (RESIDENT_ID_DOTTED, _masked_id),
    (MOBILE, _masked_mobile),
    (MOBILE_DOTTED, _masked_mobile),
    (LANDLINE, _masked_landline),
    (LANDLINE_DOTTED, _masked_landline),
)


def scrub(text: str | None) -> str:
    """Free text with every phone and ID number in it masked, in whatever format it was written; amounts
    (26,268.75元), dates and counts of up to 10 digits stay as they are."""
    if not text:
        return ""
    text = INVISIBLE.sub("", str(text))  # invisible characters between digits hid a number
    for pattern, mask in MASKS:
        folded = text.translate(_FOLD)
        pieces, kept = [], 0
        for match in pattern.finditer(folded):
            pieces += [text[kept : match.start()], mask(match)]
            kept = match.end()
        if pieces:
            text = "".join(pieces) + text[kept:]
    return text


def mask_name(name: str | None) -> str:
    """A person's name with the middle hidden: 张三明 → 张*明, 张三 → 张*, 欧阳小明 → 欧**明."""
    if not name:
        return ""
    name = scrub(name).strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# Numbers written in words: a phone field holding them is shown as *** whole.
NUMBER_WORDS = re.compile(r"[〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖]")


def mask_phone(phone: str | None) -> str:
    """A phone field with the middle hidden whatever its format: 13812341234 → 138****1234, 139.1234.5678 →
    139.****.5678, 88886666 → ****6666 (the first three digits only of a number of eleven or more). scrub alone
    masked only the formats it recognised and left 88886666 or 139_1234_5678 as written."""
    text = scrub(phone or "").strip()
    if NUMBER_WORDS.search(text):
        return "***"
    places = [i for i, char in enumerate(text) if char.isdigit() or char == "*"]
    keep = set(places[-4:]) | (set(places[:3]) if len(places) >= 11 else set())
    return "".join("*" if i in places and i not in keep else char for i, char in enumerate(text))


@functools.cache
def private_topics(setting: str) -> tuple[str, ...]:
    """The SENSITIVE_CATEGORIES setting as a tuple of words (comma-separated, Chinese commas too)."""
    return tuple(word.strip() for word in re.split(r"[,，、;；\s]+", setting or "") if word.strip())


def private_topic(texts: tuple[str | None, ...], topics: tuple[str, ...]) -> str | None:
    """The first private topic (低保, 救助, 信访 …) any of the texts mentions, or None."""
    return next((topic for topic in topics for text in texts if text and topic in text), None)
