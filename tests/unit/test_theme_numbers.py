"""A map theme's numbers reach the browser rounded: a mean such as 18/13 = 1.3846153846153846 written out in full
reads as the mobile number 13846153846 to anyone (and to the masking sweep, which caught it on the county screen)."""

from __future__ import annotations

import orjson
import pytest

from dashboard.county_content import THEMES, _theme
from tests.privacy_formats import leaks


@pytest.mark.parametrize("kind", ["mean", "total", "share"])
def test_theme_values_carry_no_long_runs_of_digits(kind):
    theme = next(t for t in THEMES if t["value"] == kind)
    values = {
        "990101001000": {"name": "甲镇", "count": 13, "total": 18.0, "share": 18 / 13},
        "990101002000": {"name": "乙镇", "count": 7, "total": 1.0, "share": 100 / 7},
    }
    shown = _theme(theme, values)
    text = orjson.dumps({"values": shown["values"], "max": shown["max"]}).decode()
    assert leaks(text) == [], text
    assert shown["values"]["990101001000"] == pytest.approx(
        18 / 13 if kind == "mean" else values["990101001000"][kind], abs=1e-4
    )
