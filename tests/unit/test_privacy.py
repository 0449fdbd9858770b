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
