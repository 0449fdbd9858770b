"""Who sees the personal fields of a record (a reporter's name and phone, numbers in free text).

A village cadre (role ``village``) sees them as written: the villagers of their own village are the people they
serve, and calling a reporter back is their work. Every other role — township and county leaders, admins, viewers
— sees names as 张*明, phones as 138****1234 and phone or ID numbers in titles masked: a leader weighs numbers
and follows cases, and needs no one's phone for that. A viewer, who only looks, also sees a case about a private
topic (SENSITIVE_CATEGORIES: 低保, 信访 …) by its topic alone, as public screens do. Exports carry exactly what
the page shows.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from dashboard.privacy import mask_name, mask_phone, private_topic, scrub

LEVELS = ("open", "masked", "private")
DIGIT = re.compile(r"\d")
MOBILE = re.compile(r"1[3-9][0-9]{9}")


def masking_for(role: str | None) -> str:
    """The masking level of a role: open for a village cadre, private for a viewer, masked for the rest."""
    if role == "village":
        return "open"
    return "private" if role in ("viewer", None) else "masked"


def masker(level: str, topics: tuple[str, ...]) -> Callable[[str, object, tuple], object]:
    """mask(kind, value, related texts) for a level: ``kind`` is name, phone, title or text; ``related`` are
    the row's other texts a private topic may be named in (its module)."""

    masked_name = functools.lru_cache(maxsize=4096)(mask_name)  # a village's names repeat down an export

    def mask(kind: str, value, related: tuple = ()):
        if value is None or level == "open":
            return value
        if kind == "name":
            return masked_name(value)
        if kind == "phone":
            # The common case, a plain mobile number, masked as mask_phone masks it without its three searches.
            return f"{value[:3]}****{value[-4:]}" if MOBILE.fullmatch(value) else mask_phone(value)
        if kind == "title" and level == "private":
            topic = private_topic((str(value), *related), topics)
            if topic:
                return f"{topic}事项"
        # Text without a digit (full-width ones included) holds no phone or ID number: most titles of an export.
        return scrub(value) if DIGIT.search(str(value)) else value

    return mask
