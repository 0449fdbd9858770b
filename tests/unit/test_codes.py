"""Statistical division codes: normalisation, rejection of malformed codes, level, parent chain and scope."""

import pytest

from geo.codes import LEVELS, CodeError, level_of, level_rank, normalize_code, parent_of, scope_range
from geo.codes import is_within as within
from geo.codes import scope_prefix as prefix_of


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("33", "330000000000"),
        ("3305", "330500000000"),
        ("330522", "330522000000"),
        ("330522001", "330522001000"),
        ("330522001001", "330522001001"),
        (330522, "330522000000"),
        (330522001001, "330522001001"),
        ("  330522001 \t", "330522001000"),
        ("３３０５２２", "330522000000"),  # full-width digits typed with a Chinese input method
    ],
)
def test_normalize_every_accepted_length(raw, code):
    assert normalize_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("33052A", "代码 '33052A' 含非数字字符 'A'"),
        ("3305-22", "代码 '3305-22' 含非数字字符 '-'"),
        ("330522.0", "代码 '330522.0' 含非数字字符 '.'"),
        ("长兴县", "代码 '长兴县' 含非数字字符 '长'"),
        ("3305221", "代码 '3305221' 有 7 位，应为 2、4、6、9 或 12 位"),
        ("3", "代码 '3' 有 1 位，应为 2、4、6、9 或 12 位"),
        ("3305220010011", "代码 '3305220010011' 有 13 位，应为 2、4、6、9 或 12 位"),
        (-33, "代码 '-33' 含非数字字符 '-'"),
        ("", "代码 '' 为空"),
        ("   ", "代码 '   ' 为空"),
    ],
)
def test_malformed_codes_are_rejected_naming_the_code(raw, message):
    with pytest.raises(CodeError) as caught:
        normalize_code(raw)
    assert str(caught.value) == message


def test_code_error_is_a_value_error_and_non_text_is_rejected():
    assert issubclass(CodeError, ValueError)
    for raw in (None, 3.3, True):
        with pytest.raises(CodeError, match="不是字符串或整数"):
            normalize_code(raw)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("330000000000", "province"),
        ("330500000000", "city"),
        ("330522000000", "county"),
        ("330522001000", "township"),
        ("330522001001", "village"),
        ("441900003000", "township"),  # Dongguan: townships directly under a city
        ("330522", "county"),
    ],
)
def test_level_from_trailing_zeros(code, level):
    assert level_of(code) == level


def test_parent_chain_of_a_village_up_to_the_province():
    chain = ["330522001001"]
    while (parent := parent_of(chain[-1])) is not None:
        chain.append(parent)
    assert chain == ["330522001001", "330522001000", "330522000000", "330500000000", "330000000000"]
    assert [level_of(code) for code in chain] == list(reversed(LEVELS))


def test_level_rank_orders_levels_and_rejects_unknown_names():
    assert [level_rank(level) for level in LEVELS] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="未知层级 'hamlet'"):
        level_rank("hamlet")


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("330000000000", "33"),
        ("330500000000", "3305"),
        ("330522000000", "330522"),
        ("330522001000", "330522001"),
        ("330522001001", "330522001001"),
    ],
)
def test_scope_prefix_by_level(code, prefix):
    assert prefix_of(code) == prefix


def test_scope_range_holds_exactly_the_subtree():
    low, high = scope_range("330522001000")
    assert (low, high) == ("330522001000", "330522001999")
    for code in ("330522001000", "330522001001", "330522001999"):
        assert low <= code <= high and within(code, "330522001000")
    for code in ("330522000000", "330522002001"):  # the county itself, a neighbouring township's village
        assert not low <= code <= high and not within(code, "330522001000")
    assert scope_range("330000000000") == ("330000000000", "339999999999")


def test_is_within_a_scope():
    assert within("330522001001", "330522001000")
    assert within("330522001001", "330500000000")
    assert within("330522000000", "330522000000")
    assert within("330522001001", "33")
    assert not within("330522002001", "330522001000")
    assert not within("330500000000", "330522000000")  # a parent is not within its child
    assert not within("340522001001", "330000000000")
