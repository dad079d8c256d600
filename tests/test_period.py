"""Reporting periods: URL keys, labels, edges, and the default that follows the data."""
from datetime import date

import pytest

from data.domain.period import KINDS, PeriodError, containing, label, latest_complete, options, parse, week_of


@pytest.mark.parametrize("key,start,end,label", [
    ("2024-H1", date(2024, 1, 1), date(2024, 6, 30), "2024年上半年"),
    ("2024-Q2", date(2024, 4, 1), date(2024, 6, 30), "2024年第二季度"),
    ("2024-06", date(2024, 6, 1), date(2024, 6, 30), "2024年6月"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
    ("2024-W23", date(2024, 6, 3), date(2024, 6, 9), "2024年第23周（6月3日—6月9日）"),
    ("2024", date(2024, 1, 1), date(2024, 12, 31), "2024年"),
    ("2024-01-01~2024-03-15", date(2024, 1, 1), date(2024, 3, 15), "2024-01-01 至 2024-03-15"),
])
def test_parse_keys(key, start, end, label):
    p = parse(key)
    assert (p.start, p.end, p.label) == (start, end, label)
    assert parse(p.key) == p


def test_iso_week_across_year_boundary():
    # 2024-12-30 (Monday) belongs to ISO week 1 of 2025
    p = week_of(date(2024, 12, 31))
    assert p.key == "2025-W01" and p.start == date(2024, 12, 30) and p.end == date(2025, 1, 5)
    assert parse("2020-W53").start == date(2020, 12, 28)
    assert parse("2025-W01").previous().key == "2024-W52"


def test_previous_and_same_period_last_year():
    assert parse("2024-Q1").previous().key == "2023-Q4"
    assert parse("2024-H1").previous().key == "2023-H2"
    assert parse("2024-06").year_earlier().key == "2023-06"
    assert parse("2024-H1").year_earlier().key == "2023-H1"


@pytest.mark.parametrize("bad", ["2024-13", "2024-Q5", "2024-W60", "abc", "", "2024-03-10~2024-01-01"])
def test_bad_keys_get_a_chinese_message(bad):
    with pytest.raises(PeriodError, match="统计期"):
        parse(bad)


def test_default_is_latest_complete_period_with_records():
    last_record = date(2024, 12, 31)
    today = date(2026, 11, 29)
    assert latest_complete("month", last_record, today).key == "2024-12"
    assert latest_complete("quarter", last_record, today).key == "2024-Q4"
    assert latest_complete("week", last_record, today).key == "2024-W52"  # W01 2025 is not complete in the data
    # records stop mid-month: that month is not complete
    assert latest_complete("month", date(2024, 6, 20), today).key == "2024-05"
    # the current month is never complete
    assert latest_complete("month", date(2026, 11, 28), date(2026, 11, 29)).key == "2026-10"


# --- the one parser with a kind, the one options builder ---------------------------------------------------

def test_parse_with_a_kind_refuses_another_kind_in_chinese():
    assert parse("2024-W52", "week").key == "2024-W52"
    assert parse(" 2024-Q2 ", "quarter").key == "2024-Q2"
    with pytest.raises(PeriodError, match="“2024-06”不是周，示例：2024-W52。"):
        parse("2024-06", "week")
    with pytest.raises(PeriodError, match="“2024-W10”不是季度，示例：2024-Q2。"):
        parse("2024-W10", "quarter")
    with pytest.raises(PeriodError, match="无法识别的统计期"):
        parse("nonsense", "week")


def test_label_names_a_key():
    assert label("2024-Q2") == "2024年第二季度"
    assert label("2024-06") == parse("2024-06").label


@pytest.mark.parametrize("kind,day,key", [
    ("month", date(2024, 2, 29), "2024-02"), ("quarter", date(2024, 5, 1), "2024-Q2"),
    ("half", date(2024, 7, 1), "2024-H2"), ("year", date(2024, 3, 3), "2024"),
    ("week", date(2024, 12, 31), "2025-W01")])
def test_containing(kind, day, key):
    p = containing(kind, day)
    assert p.key == key and p.contains(day)


def test_options_go_back_to_the_first_day_newest_first():
    # every month touching the records (2023-01-15 … 2023-04-30), newest first
    assert options(parse("2023-04"), date(2023, 1, 15)) == ["2023-04", "2023-03", "2023-02", "2023-01"]
    assert options(parse("2024-Q2"), date(2023, 1, 1), limit=3) == ["2024-Q2", "2024-Q1", "2023-Q4"]
    # weeks: from the week containing the first day (a Sunday, 2022-W52)
    assert options(parse("2023-W02"), date(2023, 1, 1)) == ["2023-W02", "2023-W01", "2022-W52"]


def test_options_keep_the_chosen_key_first_when_outside():
    assert options(parse("2023-02"), date(2023, 1, 1), keep="2019-05") == ["2019-05", "2023-02", "2023-01"]
    assert options(parse("2023-02"), date(2023, 1, 1), keep="2023-01") == ["2023-02", "2023-01"]
    assert options(parse("2023-02"), date(2023, 1, 1), keep=None) == ["2023-02", "2023-01"]


def test_kinds_in_the_sidebar_order():
    assert list(KINDS) == ["month", "quarter", "half", "year", "week", "range"]
