"""居民身份证号码: GB 11643 check digits, the legacy 15-digit form, impossible birth dates."""
from datetime import date

import pytest

from data.security.idcard import birth_date, check_digit, is_valid_id, make_id


@pytest.mark.parametrize("first17,expected", [
    ("11010519491231002", "X"),   # the standard's own example
    ("44052418800101001", "4"),
    ("99999919800101001", "1"),
    ("99999919500505002", "5"),
])
def test_check_digit(first17, expected):
    assert check_digit(first17) == expected


@pytest.mark.parametrize("bad", ["1101051949123100", "110105194912310021", "1101051949123100A", 17 * "１"])
def test_check_digit_rejects_anything_but_17_digits(bad):
    with pytest.raises(ValueError, match="17位数字"):
        check_digit(bad)


@pytest.mark.parametrize("number", ["11010519491231002X", "11010519491231002x", "440524188001010014",
                                    "999999198001010011", " 999999195005050025 "])
def test_valid_18_digit_numbers(number):
    assert is_valid_id(number)


@pytest.mark.parametrize("number", [
    "110105194912310021",   # wrong check digit
    "999999198001010014",   # wrong check digit
    "99999919800101001",    # 17 characters
    "9999991980010100144",  # 19 characters
    "99999919800101001Y",
    "",
])
def test_malformed_or_wrong_check_digit_is_invalid(number):
    assert not is_valid_id(number)


@pytest.mark.parametrize("born", ["19800230", "19801301", "19800100", "30000101", "18000101"])
def test_impossible_birth_date_is_invalid_even_with_the_right_check_digit(born):
    first17 = f"999999{born}001"
    assert not is_valid_id(first17 + check_digit(first17))


def test_15_digit_numbers_are_checked_for_format_and_date_only():
    assert is_valid_id("110105491231002")          # born 1949-12-31, no check digit exists
    assert not is_valid_id("110105490231002")      # 31 February 1949
    assert not is_valid_id("110105491331002")      # month 13
    assert not is_valid_id("11010549123100X")      # letters are not allowed in the old form
    assert birth_date("110105491231002") == date(1949, 12, 31)


def test_not_a_string_is_not_valid():
    assert not is_valid_id(None)
    assert not is_valid_id(999999198001010014)


def test_make_id_builds_a_valid_number_with_the_sex_in_the_sequence():
    man = make_id("999999", date(1950, 5, 5), 1)
    woman = make_id("999999", date(1950, 5, 5), 2)
    assert man == "99999919500505001" + check_digit("99999919500505001") and is_valid_id(man)
    assert is_valid_id(woman) and int(woman[16]) % 2 == 0
    assert birth_date(man) == date(1950, 5, 5)
    with pytest.raises(ValueError):
        make_id("99999", date(1950, 5, 5), 1)
    with pytest.raises(ValueError):
        make_id("999999", date(1950, 5, 5), 1000)
