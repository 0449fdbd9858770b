"""JSON as sources send it, read keeping the numbers no float holds: NaN and Infinity (a JSON extension devices and
APIs write), 1e400 and integers of more digits than a float or Python's int() takes keep the text they were sent
as, so validation refuses them as what they are (不是有限的数字, 超出可表示的数字范围) and the quarantine keeps them
as written, instead of the whole message or page failing, or NaN passing for an empty value."""

from __future__ import annotations

import json
import math
from typing import Any

from etl.dataset import SentNumber

# Digits an integer may have before it is kept as its text: past a float's range long before, and Python's int()
# refuses more than 4,300 (a ValueError that made the whole answer "not JSON").
INTEGER_DIGITS = 400


def _float_or_kept(text: str) -> float:
    """A JSON number with a fraction or exponent; one no float holds (1e400) keeps its text."""
    number = float(text)
    return number if math.isfinite(number) else SentNumber(text)


def _int_or_kept(text: str) -> int | str:
    """A JSON integer; past 64 bits (which orjson cannot write, nor the warehouse store) its digits as text."""
    if len(text) > INTEGER_DIGITS:
        return text
    number = int(text)
    return number if -(2**63) <= number < 2**64 else text


def loads(text: str) -> Any:
    """``json.loads`` keeping the numbers no float holds (see the module)."""
    return json.loads(text, parse_constant=SentNumber, parse_float=_float_or_kept, parse_int=_int_or_kept)
