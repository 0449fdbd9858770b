"""A batch's field values cleaned a column at a time: each distinct raw value parsed once, and the common export
time format ("2026-11-03 14:30:05", local time) parsed for the whole column by pandas.

The outcome is exactly what ``Field.clean`` and the column's storage check give value by value (a test compares
them); only the work is shared. A big export repeats its categories, statuses and codes on every row, and its
times are unique, so value by value a 1.5M-row file spent most of its validation in function calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import pandas as pd

from etl.dataset import EIGHT_HOURS, EMPTY_MARKERS, Field, Invalid, timestamp

# The one time format parsed by pandas; anything else (Chinese dates, zones, Excel serials) goes value by value.
EXPORT_TIME = "%Y-%m-%d %H:%M:%S"
# Below this many distinct times, parsing them one by one costs less than a pandas call.
VECTOR_TIMES = 500
_TIME = timestamp().parse


# JSON's kinds of number as Python reads them: equal across kinds (True == 1 == 1.0), yet each cleans its own way.
NUMBERS = frozenset({bool, int, float})


def _kinds_collide(distinct: set, raws: list) -> bool:
    """Whether numbers of different kinds with one value (1 and true, 1 and 1.0) are among ``raws``."""
    numbers = [raw for raw in raws if raw.__class__ in NUMBERS]
    return len({(raw.__class__, raw) for raw in numbers}) != len({raw for raw in distinct if raw.__class__ in NUMBERS})


def cleaned_column(
    field: Field, fits: Callable | None, raws: list
) -> tuple[list, dict[int, Invalid | tuple[str, str]]] | None:
    """(values, problems) of one field over a batch: the cleaned value of each raw value (None where it failed),
    and by position the Invalid it raised or the (kind, detail) of a value that does not fit its column.
    None when the raw values cannot be told apart (an unhashable JSON value, true beside 1 or 1.0): the caller goes
    value by value."""
    try:
        distinct = set(raws)
    except TypeError:
        return None
    if any(raw.__class__ in NUMBERS for raw in distinct) and _kinds_collide(distinct, raws):
        return None  # True == 1 == 1.0 in a set: one would be judged by what the other is ("1" is no "1.0")
    good: dict = {}
    bad: dict = {}
    rest = distinct
    if field.is_text:
        # Text is only stripped: done for every distinct value at once; empty cells and markers ("—", "无")
        # go to Field.clean, which knows whether the field may be empty.
        stripped = {raw: raw.strip() for raw in distinct if raw.__class__ is str}
        plain = {raw: text for raw, text in stripped.items() if text and text not in EMPTY_MARKERS}
        _sort_out(plain, fits, good, bad)
        rest = distinct.difference(plain)
    elif field.parse is _TIME and len(distinct) >= VECTOR_TIMES:
        times = _export_times(distinct)
        _sort_out(times, fits, good, bad)
        rest = distinct.difference(times)
    for raw in rest:
        try:
            value = field.clean(raw)
        except Invalid as error:
            bad[raw] = error
            continue
        problem = fits(value) if fits is not None and value is not None else None
        if problem:
            bad[raw] = problem
        else:
            good[raw] = value
    if not bad:
        return list(map(good.__getitem__, raws)), {}
    problems = {position: bad[raw] for position, raw in enumerate(raws) if raw in bad}
    return list(map(good.get, raws)), problems


def _sort_out(cleaned: dict, fits: Callable | None, good: dict, bad: dict) -> None:
    """Put each cleaned value into ``good``, or its problem into ``bad`` when it does not fit its column; the
    column's check looks at all of them at once where it can (``all_fit``), value by value only if some fail."""
    all_fit = getattr(fits, "all_fit", None)
    if fits is None or (all_fit is not None and all_fit(cleaned.values())):
        good.update(cleaned)
        return
    for raw, value in cleaned.items():
        problem = fits(value)
        if problem:
            bad[raw] = problem
        else:
            good[raw] = value


def _export_times(distinct: set) -> dict:
    """UTC times of the raw values written exactly as EXPORT_TIME (local time), parsed by pandas in one call;
    the rest are left out for ``Field.clean``. Equal to what ``Field.clean`` gives for those values."""
    texts = [raw for raw in distinct if raw.__class__ is str]
    if not texts:
        return {}
    parsed = pd.to_datetime(pd.Series(texts, dtype=object), format=EXPORT_TIME, errors="coerce")
    found = parsed.notna().to_numpy()
    if not found.any():
        return {}
    utc = (parsed[found] - EIGHT_HOURS).dt.tz_localize(UTC).dt.to_pydatetime()
    return dict(zip([text for text, ok in zip(texts, found.tolist(), strict=True) if ok], utc, strict=True))
