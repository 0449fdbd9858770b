"""Masking personal data: names, phones and ID numbers never leave the server whole (every format:
tests/unit/test_masking.py)."""

from dashboard.privacy import mask_name, mask_phone, scrub
from tests.privacy_formats import leaks


def test_names():
    assert mask_name("张三明") == "张*明"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name("") == "" and mask_name(None) == ""


def test_phones_and_ids_inside_text():
    assert mask_phone("13812341234") == "138****1234"
    text = "联系人王五，电话13912345678，座机0572-6012345，身份证33052219800101123X，编号20231234"
    masked = scrub(text)
    assert "13912345678" not in masked and "139****5678" in masked
    assert "0572-****2345" in masked
    assert "33052219800101123X" not in masked and "330522********123X" in masked
    assert "20231234" in masked  # an 8-digit case number is not a phone
    assert leaks(masked) == []


def test_invisible_direction_and_width_characters_are_dropped_from_free_text():
    """A right-to-left override in a case title turned 已办结 into 结办已 on the screens (the text stayed text,
    but read backwards), and a zero-width space between digits hid a phone number from the masking."""
    assert scrub("\u202e已办结") == "已办结"
    assert scrub("请联系村医138\u200b0013\u200b8000帮忙") == "请联系村医138****8000帮忙"
    assert scrub("家庭\u200d成员") == "家庭成员"
