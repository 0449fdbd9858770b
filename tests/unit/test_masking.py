"""The masker against phone and ID numbers in every format people write them, checked by a detector of the
tests' own (tests/privacy_formats.py); amounts, counts and dates stay as written; private topics."""

import json

import pytest

from dashboard.privacy import mask_name, private_topic, private_topics, scrub
from tests.privacy_formats import FORMATS, KEPT, NOT_DATA, leaks, response_leaks


def test_the_detector_reads_a_json_answer_value_by_value():
    # JSON escapes 旱 as \u65f1: read as text, its last hex digit joins "38 1234 5678" into a mobile number that no
    # reader of the answer ever sees.
    quiet = json.dumps({"response": {"ticker": {"children": "旱 38 1234 5678"}}})
    assert leaks(quiet) == ["13812345678"]
    assert response_leaks(quiet) == []
    # A number sent whole is found, escaped or not, also in JSON text inside a value; random ids are left out.
    escaped = '{"response": {"x": {"children": "\\u7535\\u8bdd\\u00313812340001"}}}'  # 电话1381…, its 1 escaped
    assert "13812340001" in response_leaks(escaped)
    nested = json.dumps({"response": {"store": {"data": {"content": json.dumps({"t": "手机15912340015号"})}}}})
    assert "15912340015" in response_leaks(nested)
    assert response_leaks(json.dumps({"digest": "13812345678", "screen-shown": {"data": "13812345679"}})) == []
    # The page's Store of the content digest (16 hex digits, new with every load): read as text, "screen-shown" was
    # taken out and its digest left in, and a digest holding a phone-shaped run failed CI (14102150644).
    store = json.dumps({"response": {"_pages_content": {"props": {"id": "screen-shown", "data": "a14102150644bcd3"}}}})
    assert leaks(NOT_DATA.sub("", store)) == ["14102150644"]
    assert response_leaks(store) == []
    pattern = json.dumps({"props": {"id": {"type": "slide", "index": 1}, "children": "电话13812340001"}})
    assert "13812340001" in response_leaks(pattern)  # a pattern-matching id (a dict) is a component like any other
    # A float's decimals (a map's centre, a chart's path in a page, an opacity mid-fade) could read as a 15-digit
    # ID or a landline; its whole part is what could be a number, in a JSON answer and in a page's text alike.
    centre = json.dumps({"center": [30.123456789012345, 117.5]})
    assert leaks(centre) == [] and response_leaks(centre) == []
    assert leaks('<path d="M12.093296767283,5"/>') == []  # a board sweep once failed on this
    assert "13812340001" in leaks("编号30.5，电话13812340001")  # a number beside a decimal is still found
    phone = json.dumps({"phone": 13812340001.0})
    assert response_leaks(phone) == ["13812340001", "13812340001"]  # the planted digits, and the detector's find
    assert "13812340001" in response_leaks("<html><p>13812340001</p></html>")  # a page is read as text


def test_the_detector_finds_every_format_unmasked():
    assert len(FORMATS) >= 30
    for written, digits in FORMATS:
        assert digits in leaks(f"联系人张三，电话{written}，谢谢"), written


@pytest.mark.parametrize(("written", "digits"), FORMATS)
def test_every_format_is_masked_alone_and_inside_text(written, digits):
    for text in (written, f"请联系{written}。", f"{written}；另：{FORMATS[0][0]}", f"编号A{written} 2份"):
        masked = scrub(text)
        assert leaks(masked) == [], (text, masked)
        assert "****" in masked, masked
    # What stays visible: the last digits (four of a phone or 18-digit ID, three of a 15-digit ID).
    assert digits[-3:] in scrub(written)


def test_all_formats_in_one_text_and_what_is_not_personal_is_kept():
    text = "；".join(written for written, _digits in FORMATS)
    assert leaks(scrub(text)) == []
    for kept in KEPT:
        assert scrub(f"本月支出{kept}，共计") == f"本月支出{kept}，共计"
        assert leaks(kept) == []
    assert scrub("集体经营收入 26,268.75元，村民 1,234,567 人，编号20231234") == (
        "集体经营收入 26,268.75元，村民 1,234,567 人，编号20231234"
    )


def test_masked_output_is_stable_and_names_are_masked():
    once = scrub("电话13812345678，身份证33052219800101123X")
    assert once == "电话138****5678，身份证330522********123X" and scrub(once) == once
    assert mask_name("张三明") == "张*明" and mask_name("张三") == "张*" and mask_name("欧阳小明") == "欧**明"
    assert mask_name("") == "" and mask_name(None) == ""
    assert leaks(mask_name("13812345678")) == []  # a number typed as a name is masked as a number first


def test_private_topics_are_a_setting_and_match_any_text():
    topics = private_topics("低保, 救助，信访、 残疾")
    assert topics == ("低保", "救助", "信访", "残疾")
    assert private_topic(("王五申请低保帮扶", None), topics) == "低保"
    assert private_topic(("道路破损", "信访投诉"), topics) == "信访"
    assert private_topic(("道路破损", "综合"), topics) is None
    assert private_topics("") == ()
