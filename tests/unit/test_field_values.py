"""Field values a device or a careless export sends: an epoch number no clock shows is 时间无效 (1e20 had raised
OSError, which no one caught), JSON true is no number, NaN and Infinity a device wrote are no empty value while a
NaN pandas made of an empty cell still is, and no reason repeats Python's English."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import orjson
import pytest

from etl.dataset import Invalid, SentNumber, kind_of_value, number, text, timestamp, whole
from etl.quarantine import _raw_text
from geo.issues import Issue


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (1e20, "1e+20"),
        (-1e15, "-1000000000000000.0"),
        ("1e20", "1e20"),
        (10**400, "1000000000"),
        (-(10**400), "-1000000000"),
        (SentNumber("NaN"), "NaN"),
        (SentNumber("Infinity"), "Infinity"),
        (float("inf"), "inf"),
        (253402300800 * 1000 + 1, "253402300800001"),
    ],
)
def test_an_epoch_number_no_clock_shows_is_an_invalid_time_naming_it(raw, shown):
    with pytest.raises(Invalid) as caught:
        timestamp(required=True).clean(raw)
    assert "时间无效" in str(caught.value) and shown in str(caught.value)


def test_the_epoch_numbers_at_the_ends_of_the_calendar_are_times():
    assert timestamp().clean(-62135596800) == datetime(1, 1, 1, tzinfo=UTC)
    assert timestamp().clean(253402300799_000) == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["0001-01-01 00:00", -1e15, 10**400, "9999-99-99"])
def test_a_reason_says_in_chinese_what_python_said_in_english(raw):
    with pytest.raises(Invalid) as caught:
        timestamp().clean(raw)
    assert not any(word in str(caught.value) for word in ("range", "year", "invalid", "Error", "OSError"))


@pytest.mark.parametrize("field", [number(), whole(), number(required=True)])
@pytest.mark.parametrize("raw", [True, False])
def test_true_and_false_are_no_numbers(field, raw):
    with pytest.raises(Invalid, match="是真假值，不是数字"):
        field.clean(raw)


def test_true_is_no_time():
    with pytest.raises(Invalid, match="真假值"):
        timestamp().clean(True)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (SentNumber("NaN"), "不是有限的数字"),
        (SentNumber("Infinity"), "不是有限的数字"),
        (SentNumber("-Infinity"), "不是有限的数字"),
        (SentNumber("1e400"), "超出可表示的数字范围"),
        (10**400, "超出可表示的数字范围"),
        ("1" + "0" * 400, "超出可表示的数字范围"),
        ("inf", "不是有限的数字"),
        ([1, 2], "是列表，不是数字"),
        ({"a": 1}, "是对象，不是数字"),
    ],
)
def test_a_number_a_device_sent_that_is_not_finite_is_refused_not_empty(raw, says):
    with pytest.raises(Invalid) as caught:
        number(required=True).clean(raw)
    assert says in str(caught.value) and "必填但为空" not in str(caught.value)


def test_a_nan_pandas_made_of_an_empty_cell_is_still_empty():
    assert number().clean(float("nan")) is None and text().clean(math.nan) is None
    with pytest.raises(Invalid, match="必填但为空"):
        number(required=True).clean(float("nan"))


def test_a_device_number_keeps_its_text_and_equals_only_the_same_text():
    nan, infinity, huge = SentNumber("NaN"), SentNumber("Infinity"), SentNumber("1e400")
    assert str(nan) == "NaN" and text().clean(infinity) == "Infinity"
    assert infinity != huge and len({infinity, huge, SentNumber("Infinity")}) == 2
    assert SentNumber("NaN") == nan  # a memo of values seen finds it again


@pytest.mark.parametrize(
    ("value", "kind"),
    [(1, "数字"), (1.5, "数字"), ("a", "文本"), ([1], "列表"), ({}, "对象"), (True, "真假值"), (None, "空值")],
)
def test_a_json_value_is_named_in_chinese(value, kind):
    assert kind_of_value(value) == kind


def test_the_kept_raw_row_writes_a_device_nan_as_text_and_an_empty_cell_as_null():
    raw = {"value": SentNumber("NaN"), "high": SentNumber("Infinity"), "cell": float("nan"), "inf": float("-inf")}
    kept = _raw_text(Issue("MQTT 主题 a/b", "", "value", "invalid value", "x", raw))
    assert orjson.loads(kept) == {"value": "NaN", "high": "Infinity", "cell": None, "inf": "-Infinity"}


def test_the_kept_raw_row_with_a_lone_surrogate_has_no_bare_nan_and_keeps_a_huge_integer():
    raw = {"value": SentNumber("NaN"), "s": "\ud800", "big": 10**30, "cell": float("nan")}
    kept = _raw_text(Issue("MQTT 主题 a/b", "", "value", "invalid value", "x", raw))
    assert "NaN," not in kept.replace('"NaN"', "")  # no JSON extension orjson cannot read back
    assert json.loads(kept) == {"value": "NaN", "s": "\ud800", "big": str(10**30), "cell": None}
