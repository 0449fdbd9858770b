"""What the intake keeps of the text people type: line breaks, but no control characters (an ANSI escape, a bell)
and no invisible format characters (a right-to-left override showed a callback number backwards)."""

from __future__ import annotations

import pytest

from etl.warehouse.intake import IntakeError, checked_text


def test_controls_and_bidi_overrides_are_dropped_and_line_breaks_kept():
    typed = "请回电：\u202e13800001111\u202c，谢谢\x1b[31m\x07\u200b\r\n第二行\tA\x85\u2066B\u2069\ufeff\u00ad"
    assert checked_text(typed, "说明", 200) == "请回电：13800001111，谢谢[31m\n第二行 AB"


def test_a_text_of_invisible_characters_only_is_empty():
    with pytest.raises(IntakeError, match="请填写说明"):
        checked_text("\u202e\u200b\x1b \x00", "说明", 200)
    assert checked_text("\u200b", "说明", 200, required=False) == ""


def test_lengths_count_what_is_kept():
    assert checked_text("\u200b" * 50 + "路灯坏了好几天", "说明", 10) == "路灯坏了好几天"
