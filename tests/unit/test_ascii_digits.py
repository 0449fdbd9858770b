"""Numbers from a browser are ASCII digits: "²" and "①" are digits to str.isdigit() but not to int(), and a
page number or a count written with them was a 500 instead of the page's default or a Chinese message."""

from __future__ import annotations

import pytest

from dashboard.workspace.state import parse
from etl.warehouse.intake import IntakeError
from etl.warehouse.intake_points import save_item
from etl.warehouse.intake_records import save_matter

UNICODE_DIGITS = ["²", "①", "٣"]


@pytest.mark.parametrize("page", UNICODE_DIGITS)
def test_a_page_number_in_other_digits_is_the_first_page(page):
    assert parse({"page": page}).page == 1
    assert parse({"page": "7"}).page == 7
    assert parse({"page": "７"}).page == 1  # an address is typed in ASCII


@pytest.mark.parametrize("points", UNICODE_DIGITS)
def test_points_of_a_catalogue_item_in_other_digits_are_refused_in_chinese(points):
    with pytest.raises(IntakeError, match="所需积分"):
        save_item(None, "990101001001", {"name": "洗衣粉", "points": points}, author="clerk")


@pytest.mark.parametrize("count", UNICODE_DIGITS)
def test_a_count_of_a_meeting_in_other_digits_is_refused_in_chinese(count):
    form = {"title": "修路议题", "form": "assembly", "status": "consulting", "participants": count}
    with pytest.raises(IntakeError, match="整数"):
        save_matter(None, "990101001001", form, author="clerk")


def test_full_width_digits_from_a_phone_keyboard_are_read_as_the_number():
    from etl.warehouse.intake import checked_whole

    assert checked_whole("１２０", "所需积分", 1, 100000) == 120
    assert checked_whole(" 7 ", "参与人数", 0, 100000) == 7
    assert checked_whole("", "参与人数", 0, 100000) is None
    with pytest.raises(IntakeError, match="参与人数应为 0 到 100000 的整数"):
        checked_whole("100001", "参与人数", 0, 100000)


def test_a_phone_number_and_a_period_typed_in_full_width_are_stored_in_ascii():
    """A full-width phone or period passed the old checks (\\d matches any digit) and was stored as typed, so a
    notice of "２０２６-１２" never matched the month 2026-12, and other digits ("١٣٨…") were taken as a phone."""
    from etl.warehouse.intake_cases import checked_phone
    from etl.warehouse.intake_notices import _finance as checked_finance

    assert checked_phone("１３８ ００１３ ８０００") == "13800138000"
    with pytest.raises(IntakeError, match="回电号码"):
        checked_phone("١٣٨٠٠١٣٨٠٠٠")
    assert checked_finance({"direction": "income", "amount": "12", "period": "２０２６-１２"})["period"] == "2026-12"
    with pytest.raises(IntakeError, match="所属期间"):
        checked_finance({"direction": "income", "amount": "12", "period": "٢٠٢٦-١٢"})


def test_a_phone_number_pasted_with_zero_width_marks_is_the_number():
    """Copied from a chat, a number carries marks nobody sees (a zero-width space, a BOM): not part of it."""
    from etl.warehouse.intake_cases import checked_phone

    assert checked_phone("\u200b13800138000") == "13800138000"
    assert checked_phone("138\u20600013 8000\ufeff") == "13800138000"
