"""Cleaning a batch a column at a time (etl/columns.py) gives exactly what cleaning it value by value gives: the
same values, and the same problem for the same positions, for every kind of field and messy raw value."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.columns import VECTOR_TIMES, cleaned_column
from etl.dataset import Invalid, choice, number, text, timestamp, whole
from etl.datasets import datasets
from etl.load import sqlite_datetime, sqlite_datetimes
from etl.rollups import _epoch_hours, epoch_hour

CASES = datasets()["cases"]
EIGHT = timezone(timedelta(hours=8))
MESSY = [
    None,
    "",
    "  ",
    "—",
    "/",
    "无",
    "-",
    "N/A",
    " 2026-11-03 14:30:05 ",
    "2026-11-03 14:30:05",
    "2026-11-03 14:30",
    "2026-1-3 4:05:06",
    "2026-02-30 10:00:00",
    "2026-11-03 24:00:00",
    "2026年11月3日 14:30",
    "2026.11.03",
    "2026-11-03T14:30:05+08:00",
    "2026-11-03T06:30:05Z",
    "46329.5",
    46329.5,
    1_763_000_000,
    "1,234",
    "12",
    "12.5",
    "-3",
    "abc",
    "nan",
    float("nan"),
    "inf",
    "x" * 70,
    "好" * 51,
    "含\x00字符",
    "矛盾",
    "纠纷",
    "受理",
    "办结",
    "<b>粗体</b>",
    True,
    0,
]
# Equal to each other in a set (True == 1 == 1.0), yet each cleaned its own way: a column holding them goes value by
# value (cleaned_column answers None), which is tested apart below.
MIXED_NUMBERS = [1, 1.0, True, 0, False, 0.0]
FIELDS = {
    "text": (text(), None),
    "required text": (text(required=True), None),
    "case_id (64 chars)": (CASES.fields["case_id"], CASES.storable["case_id"]),
    "reporter_name (50 chars)": (CASES.fields["reporter_name"], CASES.storable["reporter_name"]),
    "number": (number(low=-5, high=100), None),
    "whole": (whole(), CASES.storable["satisfaction"]),
    "timestamp": (timestamp(), None),
    "required timestamp": (timestamp(required=True), None),
    "choice": (choice({"矛盾": "conflict", "纠纷": "dispute"}), None),
}


def value_by_value(field, fits, raws):
    """What the runner's row path gives for each raw value: (value, None) or (None, the problem)."""
    found = []
    for raw in raws:
        try:
            value = field.clean(raw)
        except Invalid as error:
            found.append((None, str(error)))
            continue
        problem = fits(value) if fits is not None and value is not None else None
        found.append((None, problem) if problem else (value, None))
    return found


def column_at_a_time(field, fits, raws):
    cleaned = cleaned_column(field, fits, raws)
    assert cleaned is not None, raws
    values, problems = cleaned
    found = []
    for position, value in enumerate(values):
        problem = problems.get(position)
        found.append((None, str(problem) if isinstance(problem, Invalid) else problem) if problem else (value, None))
    return found


def same(left, right) -> bool:
    """Equal, NaN included (a NaN cell stays NaN on both paths)."""
    return all(
        (a[1] == b[1]) and (a[0] == b[0] or (isinstance(a[0], float) and math.isnan(a[0]) and math.isnan(b[0])))
        for a, b in zip(left, right, strict=True)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(FIELDS)),
    raws=st.lists(st.one_of(st.sampled_from(MESSY), st.text(max_size=8)), min_size=1, max_size=80),
)
def test_a_column_cleans_as_its_values_do_one_by_one(kind, raws):
    field, fits = FIELDS[kind]
    assert same(column_at_a_time(field, fits, raws), value_by_value(field, fits, raws))


def test_a_column_of_export_times_is_parsed_by_pandas_as_the_row_path_parses_it():
    start = datetime(2026, 1, 1, 0, 0, 0)
    raws = [f"{start + timedelta(seconds=7 * n):%Y-%m-%d %H:%M:%S}" for n in range(VECTOR_TIMES + 50)]
    raws += MESSY  # the odd ones go value by value, beside the pandas-parsed ones
    field = timestamp(required=True)
    columnwise, rowwise = column_at_a_time(field, None, raws), value_by_value(field, None, raws)
    assert same(columnwise, rowwise)
    assert columnwise[0] == (datetime(2025, 12, 31, 16, 0, tzinfo=UTC), None)  # local midnight is 16:00 UTC
    assert all(value.tzinfo is UTC for value, _ in columnwise[: VECTOR_TIMES + 50])


def test_unhashable_values_are_left_to_the_row_path():
    assert cleaned_column(text(), None, [["a list"], "x"]) is None


def test_datetimes_are_formatted_for_sqlite_as_one_by_one():
    moments = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=3.25 * n) for n in range(3000)]
    moments += [None, datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    assert sqlite_datetimes(moments) == [sqlite_datetime(m) for m in moments]
    naive = [m.replace(tzinfo=None) if m else None for m in moments]
    assert sqlite_datetimes(naive) == [sqlite_datetime(m) for m in naive]
    # Another zone, several zones or text: left to the one-by-one converter.
    assert sqlite_datetimes([datetime(2026, 1, 1, tzinfo=EIGHT)]) is None
    assert sqlite_datetimes([datetime(2026, 1, 1, tzinfo=EIGHT), datetime(2026, 1, 1, tzinfo=UTC)]) is None
    assert sqlite_datetimes([datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01"]) is None


def test_epoch_hours_of_a_column_equal_epoch_hour():
    moments = [datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=13 * n) for n in range(500)] + [None]
    moments.append(datetime(2026, 3, 1, 5, 59, 59))  # naive: UTC, as SQLite hands it back
    hours = _epoch_hours(moments).tolist()
    assert hours[:-2] == [epoch_hour(m) for m in moments[:-2]] and math.isnan(hours[-2])
    assert hours[-1] == epoch_hour(moments[-1])
    mixed = [datetime(2026, 3, 1, 1, tzinfo=EIGHT), datetime(2026, 3, 1, 1, tzinfo=UTC)]
    assert _epoch_hours(mixed).tolist() == [epoch_hour(m) for m in mixed]


def test_numbers_of_kinds_a_set_takes_for_one_are_left_to_the_value_by_value_path():
    # In a set True == 1 == 1.0: the column path cleaned one of them and gave its answer to all ("1" for 1.0, a
    # reading of 1 for true). It now leaves such a column to the runner's value-by-value path.
    for kind in ("text", "number", "timestamp", "whole"):
        field, fits = FIELDS[kind]
        for mixed in ([1, True], [1, 1.0], [0, False], MIXED_NUMBERS * 20):
            assert cleaned_column(field, fits, mixed) is None, (kind, mixed)
        assert cleaned_column(field, fits, [2, 3.5, True]) is not None  # kinds that do not collide: the column
        assert cleaned_column(field, fits, ["1", "1.0", "true"]) is not None  # text as files have it
        values, _ = cleaned_column(field, fits, [5, 7, 5])  # one kind of number: the column path
        assert len(values) == 3
