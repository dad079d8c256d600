"""周度研判 queries: ISO week arithmetic, pace, the headline and the action lists on both engines."""
from datetime import date, datetime

import pytest
from sqlalchemy import insert

from data.db.engine import get_engine
from data.db.models import (Community, Facility, Finding, LivingAloneElder, LivingAloneVisit, MealRecord, Subdistrict,
                         Target)
from data.domain.period import iso_week, latest_complete, options, parse, week_of
from data.queries import weekly
from data.domain.targets import pace

A, B = "360103001", "360103002"


# --- week arithmetic ------------------------------------------------------------------------------------

@pytest.mark.parametrize("day, key, start, end", [
    (date(2023, 1, 1), "2022-W52", date(2022, 12, 26), date(2023, 1, 1)),   # first day of the demo data: a Sunday
    (date(2024, 12, 30), "2025-W01", date(2024, 12, 30), date(2025, 1, 5)),  # ISO year starts in December
    (date(2021, 1, 3), "2020-W53", date(2020, 12, 28), date(2021, 1, 3)),   # a 53-week year
    (date(2024, 12, 29), "2024-W52", date(2024, 12, 23), date(2024, 12, 29)),
])
def test_iso_weeks_across_year_boundaries(day, key, start, end):
    w = week_of(day)
    assert (w.key, w.start, w.end) == (key, start, end)
    assert parse(key) == w


def test_previous_week_crosses_the_iso_year():
    assert iso_week(2025, 1).previous().key == "2024-W52"
    assert iso_week(2021, 1).previous().key == "2020-W53"


def test_default_week_is_the_last_complete_week_with_records():
    last = date(2024, 12, 31)  # a Tuesday: W01 of 2025 is not complete
    assert weekly.default_week(last, today=date(2026, 1, 1)).key == "2024-W52"
    assert weekly.default_week(last, parse("2024-12"), today=date(2026, 1, 1)).key == "2024-W52"
    assert weekly.default_week(last, parse("2024-W23")).key == "2024-W23"
    assert weekly.default_week(last, parse("2024-Q2"), today=date(2026, 1, 1)).key == "2024-W26"
    assert latest_complete("week", date(2024, 12, 29), today=date(2026, 1, 1)).key == "2024-W52"


def test_week_options_start_at_the_first_week_of_data():
    opts = options(iso_week(2023, 3), date(2023, 1, 1))
    assert opts == ["2023-W03", "2023-W02", "2023-W01", "2022-W52"]


def test_pace_on_track_and_behind():
    target = {"value": 68, "baseline_date": date(2024, 1, 1), "deadline": date(2024, 12, 31)}
    on_track = pace(target, 62, 40, date(2024, 9, 30))
    assert on_track.status == "进度正常" and on_track.gap == 6
    behind = pace(target, 50, 40, date(2024, 9, 30))
    assert behind.status == "进度滞后" and behind.pace_needed > behind.pace_done
    assert pace(target, 68, 40, date(2024, 6, 30)).status == "已达成"


# --- small hand-built databases on both engines ---------------------------------------------------------

def _small(url):
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Subdistrict), [{"code": A, "name": "甲街道"}, {"code": B, "name": "乙街道"}])
        conn.execute(insert(Community), [
            {"code": A + "001", "name": "甲一社区", "short_name": "甲一", "kind": "社区居委会", "subdistrict_code": A,
             "lon": 115.9, "lat": 28.6},
            {"code": B + "001", "name": "乙一社区", "short_name": "乙一", "kind": "社区居委会", "subdistrict_code": B,
             "lon": 115.9, "lat": 28.6}])
        conn.execute(insert(Facility), [
            {"id": 1, "code": "M1", "name": "甲一助餐点", "kind": "meal_point", "subdistrict_code": A,
             "community_code": A + "001", "lon": 115.9, "lat": 28.6, "opened_on": date(2024, 1, 1)},
            {"id": 2, "code": "M2", "name": "乙一助餐点", "kind": "meal_point", "subdistrict_code": B,
             "community_code": B + "001", "lon": 115.9, "lat": 28.6, "opened_on": date(2024, 12, 24)}])
        # meals: M1 every day up to 20 Dec (silent 7+ days by 29 Dec); M2 opened this week
        conn.execute(insert(MealRecord), [{"facility_id": 1, "served_on": date(2024, 12, d), "dine_in": 10,
                                           "delivered": 2} for d in range(16, 21)]
                     + [{"facility_id": 2, "served_on": date(2024, 12, 27), "dine_in": 5, "delivered": 0}])
        conn.execute(insert(LivingAloneElder), [
            {"id": 1, "name": "张三华", "id_number": "999999194001010011", "birth_date": date(1940, 1, 1),
             "subdistrict_code": A, "community_code": A + "001", "enrolled_on": date(2023, 1, 1)},
            {"id": 2, "name": "李四", "id_number": "999999194001010022", "birth_date": date(1940, 1, 1),
             "subdistrict_code": A, "community_code": A + "001", "enrolled_on": date(2023, 1, 1)}])
        conn.execute(insert(LivingAloneVisit), [
            {"elder_id": 1, "visited_on": date(2024, 12, 3), "subdistrict_code": A, "visit_type": "巡访"},
            {"elder_id": 1, "visited_on": date(2024, 12, 17), "subdistrict_code": A, "visit_type": "巡访"},
            {"elder_id": 2, "visited_on": date(2024, 12, 10), "subdistrict_code": A, "visit_type": "巡访"},
            {"elder_id": 2, "visited_on": date(2024, 12, 30), "subdistrict_code": A, "visit_type": "巡访"}])
        conn.execute(insert(Finding), [
            {"code": "F1", "source": "inspection_group", "place_type": "养老机构", "place_name": "甲院",
             "subdistrict_code": A, "category": "消防", "severity": "一般", "found_on": date(2024, 11, 1),
             "deadline": date(2024, 12, 1), "rectified_on": None},  # overdue on 29 Dec
            {"code": "F2", "source": "inspection_group", "place_type": "养老机构", "place_name": "甲院",
             "subdistrict_code": A, "category": "消防", "severity": "一般", "found_on": date(2024, 12, 2),
             "deadline": date(2024, 12, 20), "rectified_on": date(2024, 12, 26)},  # closed in W52
            {"code": "F3", "source": "inspection_group", "place_type": "养老机构", "place_name": "甲院",
             "subdistrict_code": A, "category": "消防", "severity": "一般", "found_on": date(2024, 12, 17),
             "deadline": date(2025, 1, 31), "rectified_on": None}])  # opened in W51, not overdue
        conn.execute(insert(Target), [{"indicator": "meal_points", "name": "助餐点位", "baseline_date": date(2024, 1, 1),
                                       "deadline": date(2024, 12, 31), "value": 4, "unit": "个", "figure_id": "F12"}])
    return engine


def test_headline_this_week_previous_week_and_change(db_url):
    engine = _small(db_url)
    head = weekly.weekly_headline(engine, iso_week(2024, 52)).set_index("key")
    assert head.loc["meals", "value"] == 5 and head.loc["meals", "previous"] == 60
    assert head.loc["meals", "change"] == -55
    assert head.loc["findings_found", "value"] == 0 and head.loc["findings_found", "previous"] == 1
    assert head.loc["findings_closed", "value"] == 1
    assert head.loc["meal_points_opened", "value"] == 1 and head.loc["meal_points_opened", "previous"] == 0
    assert head.loc["living_alone_visits", "value"] == 0 and head.loc["living_alone_visits", "previous"] == 1


def test_action_lists_on_both_engines(db_url):
    engine = _small(db_url)
    w = iso_week(2024, 52)
    lists = weekly.action_lists(engine, w)
    assert list(lists["overdue_findings"]["code"]) == ["F1"]
    assert lists["overdue_findings"]["days_overdue"].iloc[0] == 28
    # December 1–29: 张三华 visited twice, 李四 once (the 30 Dec visit is after the week)
    assert list(lists["visits_below_rule"]["elder_id"]) == [2]
    by_street = weekly.visits_below_rule_by_subdistrict(engine, w)
    assert by_street.to_dict("records") == [{"subdistrict_code": A, "subdistrict_name": "甲街道", "roster": 2,
                                             "below": 1}]
    assert list(lists["silent_meal_points"]["code"]) == ["M1"]  # M2 opened within the 7 days
    # 甲 had a rectification but no ledger record dated in the week; 乙 has meals on 27 Dec
    assert list(lists["silent_ledgers"]["subdistrict_code"]) == [A]
    assert list(weekly.silent_ledgers(engine, iso_week(2024, 51))["subdistrict_code"]) == [B]


def test_targets_pace_on_a_small_database(db_url):
    engine = _small(db_url)
    t = weekly.weekly_targets(engine, date(2024, 12, 29)).set_index("indicator")
    row = t.loc["meal_points"]
    assert row["value"] == 2 and row["target"] == 4 and row["gap"] == 2 and row["status"] == "进度滞后"


def weekly_fmt_change(key, value):
    from views.weekly import fmt_change
    return fmt_change(key, value)


def test_first_week_of_data_has_an_empty_previous_week(demo_engine):
    """The week before the first ledger record: counts over it are not 0 but absent (no change is shown against
    it); states at its end (meal points operating, overdue findings) are still read from the records' own dates."""
    from data.domain import headlines

    head = weekly.weekly_headline(demo_engine, week_of(date(2023, 1, 1))).set_index("key")
    flows = [k for k in head.index if not headlines.headline(k).stock]
    stocks = [k for k in head.index if headlines.headline(k).stock]
    assert flows and stocks
    assert head.loc[flows, "previous"].isna().all() and head.loc[flows, "change"].isna().all()
    assert (head.loc[stocks, "previous"] == 0).all()
    assert head.loc["meals", "value"] > 0
    assert weekly_fmt_change("meals", head.loc["meals", "change"]) == "—（上期无台账）"


def test_demo_week_52(demo_engine):
    w = iso_week(2024, 52)
    lists = weekly.action_lists(demo_engine, w)
    assert list(lists["silent_ledgers"]["subdistrict_name"]) == ["南站街道"]
    assert len(lists["overdue_findings"]) > 0 and lists["overdue_findings"]["overdue"].all()
    assert len(lists["visits_below_rule"]) >= 13
    assert len(lists["silent_meal_points"]) >= 2
    t = weekly.weekly_targets(demo_engine, w.end)
    assert list(t["indicator"]) == weekly.TARGET_ORDER
    assert set(t["status"]) <= {"已达成", "进度正常", "进度滞后"}
    assert t.set_index("indicator").loc["facility_coverage", "deadline"] == date(2025, 12, 31)
