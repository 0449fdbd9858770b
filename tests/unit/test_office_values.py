"""What the village office's forms read as a finance amount and as a vote: yuan written as clerks write them, and
never more votes than people."""

from __future__ import annotations

import pytest

from etl.warehouse.intake import IntakeError
from etl.warehouse.intake_notices import _finance
from etl.warehouse.intake_records import _matter_values


def _amount(written: str) -> float:
    return _finance({"direction": "income", "amount": written, "period": "2026-10"})["amount"]


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("12000", 12000),
        ("12,000.50", 12000.5),
        ("1,234,567.8", 1234567.8),
        ("０.５", 0.5),
        ("１２，０００．０５", 12000.05),
        (" 0 ", 0),
        ("99999999999.99", 99999999999.99),
    ],
)
def test_an_amount_is_read_as_written(written, amount):
    assert _amount(written) == amount


@pytest.mark.parametrize(
    "written",
    # float() took each of these: a digit separator, an exponent, other scripts' digits, a sign, a comma that is no
    # thousands separator (1,5 read as 15), a third decimal, infinity.
    ["1_000", "1e3", "١٢٣", "-0", "+5", "1,5", "12,00", "12000.505", ".5", "5.", "inf", "NaN", "100000000000", ""],
)
def test_an_amount_not_written_as_yuan_is_refused_in_chinese(written):
    with pytest.raises(IntakeError, match="金额"):
        _amount(written)


def _matter(**counts) -> dict:
    return _matter_values({"title": "修路", "form": "assembly", "status": "consulting", **counts})


def test_votes_are_never_more_than_the_people_who_took_part():
    assert _matter(participants="10", votes_for="6", votes_against="4")["votes_for"] == 6
    assert _matter(votes_for="500")["votes_for"] == 500  # no turnout given: nothing to compare with
    with pytest.raises(IntakeError, match="赞成票与反对票合计 800 票，超过参与人数 10 人"):
        _matter(participants="10", votes_for="500", votes_against="300")
