"""Phone and ID numbers as people write them, each with the digits that identify it, and a detector of our own
(simpler than the product's masker, and independent of it) that finds any of them in a text."""

from __future__ import annotations

import json
import math
import re
import unicodedata

# (as written, the digits that must never be shown whole): every number is distinct, so a leak names its format.
FORMATS = [
    ("13812340001", "13812340001"),
    ("138 1234 0002", "13812340002"),
    ("138-1234-0003", "13812340003"),
    ("+8613812340004", "13812340004"),
    ("8613812340005", "13812340005"),
    ("+86 138 1234 0006", "13812340006"),
    ("0086 13812340007", "13812340007"),
    ("(+86)13812340008", "13812340008"),
    ("+86-138-1234-0009", "13812340009"),
    ("013812340010", "13812340010"),
    ("１３８１２３４００１１", "13812340011"),
    ("１３８－１２３４－００１２", "13812340012"),
    ("＋８６　１３８　１２３４　００１３", "13812340013"),
    ("139\u30001234\u30000014", "13912340014"),
    ("手机15912340015号", "15912340015"),
    ("0572-6010017", "05726010017"),
    ("(0572)6010018", "05726010018"),
    ("（0572）6010019", "05726010019"),
    ("0572 6010020", "05726010020"),
    ("05726010021", "05726010021"),
    ("010-62340022", "01062340022"),
    ("(010)62340023", "01062340023"),
    ("021 6234 0024", "02162340024"),
    ("+86 572 6010025", "5726010025"),  # written without the area code's 0
    ("+86-10-62340026", "1062340026"),
    ("0572 - 601 0027", "05726010027"),
    ("０５７２－６０１００２８", "05726010028"),
    ("330522198001010291", "330522198001010291"),
    ("33052219800101030X", "33052219800101030X"),
    ("33052219800101031x", "33052219800101031X"),
    ("330522 19800101 0329", "330522198001010329"),
    ("330522-19800101-033X", "33052219800101033X"),
    ("3305 2219 8001 0103 49", "330522198001010349"),
    ("330522800101035", "330522800101035"),
    ("330522 800101 036", "330522800101036"),
    ("３３０５２２１９８００１０１０３７Ｘ", "33052219800101037X"),
    ("身份证号:330522198001010386号", "330522198001010386"),
    # Invisible characters between the digits (zero-width space, word joiner, a bidi override) and the dots or
    # slashes some people group digits with: each showed the number whole on the screens.
    ("138\u200b1234\u200b0050", "13812340050"),
    ("139\u20601234\ufeff0051", "13912340051"),
    ("\u202e13812340052\u202c", "13812340052"),
    ("139.1234.0053", "13912340053"),
    ("139/1234/0054", "13912340054"),
    ("0572.6010055", "05726010055"),
    ("3305221980\u200b0101041X", "33052219800101041X"),
]
# What must stay as written: amounts, counts, dates, times, codes that are not personal.
KEPT = ["26,268.75元", "1234567", "共 9999999 人", "20231234", "2025-12-05 13:45", "12.5%", "S01", "990101001001"]
# Lists of decimals (a notice's yields, a case's shares): dots and slashes between them are no groups of a number.
KEPT += ["各村亩产 1.35/1.28/1.46/1.52/1.31 吨", "比例 15.3/12.6/17.4/13.9/11.2%", "2026.12.07", "3.1415926535"]

# The detector: fold full-width forms (NFKC), join digits split by spaces, dashes, parentheses or a plus,
# then look for whole runs of digits shaped like a mobile (with or without 86), a landline with its area code
# or a resident ID.
_JOINED = re.compile(r"(?<=[0-9])[\s\-–—()+]+(?=[0-9X])")
_PERSONAL = re.compile(
    r"(?<![0-9])(?:(?:0086|86|0)?1[3-9][0-9]{9}|(?:0|0086|86)[1-9][0-9]{1,2}[2-9][0-9]{6,7}|[1-9][0-9]{16}[0-9X]"
    r"|[1-9][0-9]{14})"
    r"(?![0-9X])"
)


def normalised(text: str) -> str:
    """The text with full-width forms folded, invisible format characters dropped, upper-cased, and digit groups
    joined."""
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return _JOINED.sub("", unicodedata.normalize("NFKC", visible).upper())


# Random ids Dash and the screens send (page-load token, content digests): not data, and hex can look like digits.
NOT_DATA = re.compile(r'"(?:end_id|digest|same|shown)":\s*"[^"]*"|"screen-shown"')


# The fraction of a decimal number (a chart's coordinate, an opacity mid-fade: 12.093296767283): its digits are no
# phone, yet they made one often enough to fail a sweep now and then.
_FRACTION = re.compile(r"(?<=[0-9])\.[0-9]+")


def leaks(text: str) -> list[str]:
    """Every planted number (by its digits) and every number shaped like a phone or ID in ``text`` (the fractions
    of decimal numbers aside)."""
    flat = normalised(text)
    # A planted number is found whatever stands between its digits (dots, slashes): its digits are its own.
    only_digits = re.sub(r"[^0-9X]", "", flat)
    planted = [digits for _written, digits in FORMATS if digits in only_digits]
    return planted + _PERSONAL.findall(_FRACTION.sub("", flat))


# The keys of those ids in a JSON answer (the store of the digest on screen is screen-shown).
_ID_KEYS = {"end_id", "digest", "same", "shown", "screen-shown"}


def response_leaks(body: str) -> list[str]:
    """Every leak in a response body as its reader gets it: a JSON answer value by value (escapes decoded, JSON
    text inside a value read as JSON, random ids left out), so no escape's hex digits join the data beside them;
    anything else (a page) as text."""
    try:
        answer = json.loads(body)
    except ValueError:
        return leaks(NOT_DATA.sub("", body))
    return [found for value in _values(answer) for found in leaks(value)]


def _values(data, key: str | None = None):
    """The scalar values of decoded JSON as text, those under an id's key left out."""
    if key in _ID_KEYS:
        return
    if isinstance(data, dict):
        if isinstance(data.get("id"), str) and data["id"] in _ID_KEYS:  # as dcc.Store(id="screen-shown")
            return
        for name, value in data.items():
            yield from _values(value, name)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    elif isinstance(data, str) and data[:1] in ("{", "["):
        try:
            yield from _values(json.loads(data))
        except ValueError:
            yield data
    elif isinstance(data, float):  # a coordinate or a rate: its decimals are no one's number
        yield str(int(data)) if math.isfinite(data) else ""
    elif data is not None:
        yield str(data)
