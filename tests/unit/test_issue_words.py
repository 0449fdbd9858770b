"""What the quarantine says about a row speaks Chinese: every kind a dataset's check gives has its Chinese label,
and the detail names the value in Chinese (the English kind follows in brackets, as an identifier)."""

from __future__ import annotations

import re

from etl.datasets.points_ledger import sign_matches_source
from etl.datasets.readings import metric_in_range
from geo.issues import LABELS, Issue

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_the_readings_and_points_checks_explain_themselves_in_chinese():
    found = [
        metric_in_range({"metric": "x", "value": 1.0}),
        metric_in_range({"metric": "pm25", "value": 99999.0}),
        sign_matches_source({"source": "redemption", "points": 5}),
        sign_matches_source({"source": "volunteer", "points": -5}),
    ]
    for field, kind, detail in found:
        assert kind in LABELS, kind
        assert CHINESE.search(detail) and not re.search(r"\b(is not one of|outside|points for)\b", detail), detail
        assert str(Issue("s.csv", "第 2 行", field, kind, detail)).startswith(
            f"s.csv，第 2 行，字段「{field}」：{LABELS[kind]}"
        )
    assert "99999" in found[1][2] and "pm25" in found[1][2]
