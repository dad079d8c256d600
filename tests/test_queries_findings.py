"""整改进度 query layer on both engines: the H1 2024 report totals on the demo, and period edges on hand-made rows."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from factories import insert, subdistricts

from views import finding_tables
from data.db import models as m
from data.db.engine import get_engine
from data.db.models import INSPECTION_SOURCES, SAFETY_SOURCES
from data.domain.period import custom, parse
from data.queries import findings as fq

H1 = parse("2024-H1")


# --- the demo district, H1 2024 -------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_url):
    return get_engine(demo_url)


def test_h1_2024_safety_178_found_178_rectified(demo):
    s = fq.findings_headline(demo, H1, sources=SAFETY_SOURCES)
    assert (s["found"], s["rectified"], s["open"], s["in_progress"], s["overdue"]) == (178, 178, 0, 0, 0)
    assert s["rectification_rate"] == 1.0


def test_h1_2024_sanzi_23_found_18_rectified_2_referred(demo):
    s = fq.findings_headline(demo, H1, sources=("sanzi",))
    assert (s["found"], s["rectified"], s["referred"]) == (23, 18, 2)
    assert s["open"] == s["in_progress"] + s["overdue"] == 5


def test_h1_2024_per_source_rows_add_up_to_the_headline(demo):
    by_source = fq.findings_by_source(demo, H1)
    assert list(by_source["source"]) == list(INSPECTION_SOURCES)
    head = fq.findings_headline(demo, H1)
    for col in ("found", "rectified", "open", "in_progress", "overdue", "referred"):
        assert by_source[col].sum() == head[col], col
    table, highlight = finding_tables.source_table(by_source)
    rows = table.set_index("问题来源")
    assert rows.loc[finding_tables.SAFETY_SUBTOTAL, ["查出问题（个）", "已整改（个）"]].tolist() == [178, 178]
    assert rows.loc[finding_tables.TOTAL, "查出问题（个）"] == head["found"]
    assert highlight.tolist() == (table["逾期未整改（个）"] > 0).tolist()
    only = fq.findings_by_source(demo, H1, sources=("sanzi", "meal_supervision"))
    assert list(only["source"]) == ["sanzi", "meal_supervision"]


def test_h1_2024_burndown_ageing_and_places_agree_with_the_open_list(demo):
    open_end = fq.open_findings_on(demo, H1.end)
    burn = fq.findings_burndown(demo, H1)
    assert burn["found"].sum() == fq.findings_headline(demo, H1)["found"]
    assert burn["open_after"].iloc[-1] == len(open_end)
    assert (burn["open_before"].shift(-1).iloc[:-1] == burn["open_after"].iloc[:-1]).all()
    assert burn["week_start"].iloc[0] == date(2024, 1, 1) and burn["last_day"].iloc[-1] == H1.end
    age = fq.open_findings_ageing(demo, H1.end)
    assert age["open"].sum() == len(open_end) and age["overdue"].sum() == int(open_end["overdue"].sum())
    places = fq.places_with_open_findings(demo, H1.end, limit=1000)
    assert places["open"].sum() == len(open_end) and places["overdue"].sum() == int(open_end["overdue"].sum())
    ranked = list(zip(places["overdue"], places["open"]))
    assert ranked == sorted(ranked, key=lambda t: (-t[0], -t[1]))
    top = places.iloc[0]
    detail = fq.place_findings(demo, H1.end, subdistrict_code=top["subdistrict_code"], place_type=top["place_type"],
                               place_name=top["place_name"])
    assert int((detail["status"] != "rectified").sum()) == top["open"]
    assert int(detail["overdue"].sum()) == top["overdue"]


# --- hand-made rows ---------------------------------------------------------------------------------

A, B = "360103901", "360103902"  # two subdistricts; B never has any finding


_insert = insert


@pytest.fixture
def engine(db_url):
    engine = get_engine(db_url)
    subdistricts(engine, (A, "甲街道"), (B, "乙街道"))
    return engine


def _finding(id, found, deadline, rectified, source="inspection_group", place="某养老院", referred=False):
    return dict(id=id, code=f"Z{id}", inspection_id=None, source=source, place_type="养老机构", place_name=place,
                facility_id=None, community_code=None, subdistrict_code=A, category="消防安全", severity="一般",
                description=None, found_on=found, deadline=deadline, rectified_on=rectified,
                referred_to_discipline=referred, note=None, version=1)


def test_a_finding_rectified_after_the_period_is_open_and_overdue_within_it(engine):
    _insert(engine, "Finding",
            _finding(1, date(2024, 5, 1), date(2024, 5, 31), date(2024, 7, 10)),            # late: after the half-year
            _finding(2, date(2024, 5, 1), date(2024, 7, 15), None, place="乙养老院"),        # open, deadline ahead
            _finding(3, date(2024, 5, 1), date(2024, 6, 30), None, place="乙养老院"),        # deadline = last day
            _finding(4, date(2024, 5, 1), date(2024, 5, 31), date(2024, 6, 30)))             # rectified on the last day
    s = fq.findings_headline(engine, H1)
    assert (s["found"], s["rectified"], s["open"], s["in_progress"], s["overdue"]) == (4, 1, 3, 2, 1)
    by_source = fq.findings_by_source(engine, H1).set_index("source")
    assert by_source.loc["inspection_group", ["found", "rectified", "in_progress", "overdue"]].tolist() == [4, 1, 2, 1]
    age = fq.open_findings_ageing(engine, H1.end).set_index("bucket")
    assert age.loc["31–60天", ["open", "overdue"]].tolist() == [3, 1]          # 60 days open on 30 June
    places = fq.places_with_open_findings(engine, H1.end)
    assert list(zip(places["place_name"], places["open"], places["overdue"])) == [("某养老院", 1, 1), ("乙养老院", 2, 0)]
    listed = fq.place_findings(engine, H1.end, subdistrict_code=A, place_type="养老机构", place_name="某养老院")
    table, highlight = finding_tables.findings_table(listed, H1.end)
    assert table["状态"].tolist() == ["逾期未整改", "已整改"] and highlight.tolist() == [True, False]
    assert table["逾期（天）"].tolist() == [30, 0] and table["整改完成日期"].tolist() == ["", "2024-06-30"]
    # in the third quarter the late one is rectified: open at the start, closed in the week of 8 July
    q3 = fq.findings_burndown(engine, parse("2024-Q3")).set_index("week_start")
    assert q3["open_before"].iloc[0] == 3
    assert q3.loc[date(2024, 7, 8), "rectified"] == 1 and q3["open_after"].iloc[-1] == 2


def test_ageing_buckets_count_days_from_the_found_date_to_the_day(engine):
    on = date(2024, 6, 30)
    days = [0, 15, 16, 30, 31, 60, 61, 90, 91, 400]
    _insert(engine, "Finding", *[_finding(i + 1, on - timedelta(days=d), on + timedelta(days=1), None)
                                 for i, d in enumerate(days)])
    age = fq.open_findings_ageing(engine, on)
    assert age["open"].tolist() == [2, 2, 2, 2, 2]
    assert age["overdue"].tolist() == [0, 0, 0, 0, 0]
    assert age["bucket"].tolist() == [b[0] for b in fq.AGEING_BUCKETS]


def test_burndown_weeks_are_iso_weeks_clipped_to_a_custom_range(engine):
    _insert(engine, "Finding",
            _finding(1, date(2024, 5, 12), date(2024, 6, 30), date(2024, 5, 13)),  # Sunday found, Monday rectified
            _finding(2, date(2024, 5, 13), date(2024, 6, 30), None),
            _finding(3, date(2024, 5, 1), date(2024, 6, 30), date(2024, 5, 20)))  # before the range, closed in it
    rng = custom(date(2024, 5, 8), date(2024, 5, 20))  # Wednesday … Monday
    burn = fq.findings_burndown(engine, rng)
    assert burn["week_start"].tolist() == [date(2024, 5, 6), date(2024, 5, 13), date(2024, 5, 20)]
    assert burn["first_day"].tolist() == [date(2024, 5, 8), date(2024, 5, 13), date(2024, 5, 20)]
    assert burn["last_day"].tolist() == [date(2024, 5, 12), date(2024, 5, 19), date(2024, 5, 20)]
    assert burn["found"].tolist() == [1, 1, 0] and burn["rectified"].tolist() == [0, 1, 1]
    assert burn["open_before"].tolist() == [1, 2, 2] and burn["open_after"].tolist() == [2, 2, 1]
    assert burn["open_after"].iloc[-1] == len(fq.open_findings_on(engine, rng.end))


def test_empty_periods_and_a_subdistrict_without_findings_show_zeros(engine):
    _insert(engine, "Finding", _finding(1, date(2024, 5, 1), date(2024, 5, 31), None, source="sanzi", referred=True))
    empty = parse("2023-Q2")
    for period, street in ((empty, None), (H1, B)):
        s = fq.findings_headline(engine, period, street)
        assert (s["found"], s["rectified"], s["open"], s["in_progress"], s["overdue"], s["referred"]) == (0,) * 6
        assert s["rectification_rate"] == 0.0
        by_source = fq.findings_by_source(engine, period, street)
        assert list(by_source["source"]) == list(INSPECTION_SOURCES) and by_source["found"].sum() == 0
    assert fq.findings_burndown(engine, empty)[["found", "rectified", "open_after"]].to_numpy().sum() == 0
    assert len(fq.findings_burndown(engine, empty)) == 14  # 2023-Q2 touches 14 ISO weeks
    assert fq.findings_burndown(engine, H1, B)["open_after"].eq(0).all()
    assert fq.open_findings_ageing(engine, H1.end, B)[["open", "overdue"]].to_numpy().sum() == 0
    places = fq.places_with_open_findings(engine, H1.end, B)
    assert places.empty and "place_name" in places.columns
    table, highlight = finding_tables.places_table(places, H1.end)
    assert table.empty and highlight.empty
    # and the one finding shows where it belongs: referred, open and overdue at the end of June
    s = fq.findings_headline(engine, H1, sources=("sanzi",))
    assert (s["found"], s["overdue"], s["referred"]) == (1, 1, 1)
    table, _ = finding_tables.source_table(fq.findings_by_source(engine, H1))
    assert table.set_index("问题来源").loc[finding_tables.TOTAL, "整改率（%）"] == 0.0


def test_year_over_year_uses_the_same_definition(engine):
    _insert(engine, "Finding", _finding(1, date(2023, 3, 1), date(2023, 3, 31), date(2023, 3, 20)),
            _finding(2, date(2024, 3, 1), date(2024, 3, 31), None))
    q1 = parse("2024-Q1")
    now, before = fq.findings_headline(engine, q1), fq.findings_headline(engine, q1.year_earlier())
    assert (now["found"], now["rectified"], now["overdue"]) == (1, 0, 0)   # deadline 31 March = last day: not overdue
    assert (before["found"], before["rectified"], before["rectification_rate"]) == (1, 1, 1.0)
