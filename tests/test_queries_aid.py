"""救助发放 query layer on both engines: the H1 2024 report totals on the demo, and period edges on hand-made rows."""
from __future__ import annotations

from datetime import date

import pandas as pd

from data.security import access
import pytest

from factories import insert, subdistricts

from components import aid_tables
from data.db import models as m
from data.db.engine import get_engine
from data.domain.period import custom, parse
from data.queries import aid

OFFICE = access.Principal("t_office", "office")
H1 = parse("2024-H1")

# --- the demo district: every total of the report, H1 2024 -------------------------------------------

REPORT = {  # programme: (amount 万元, households, persons) — None where the report gives no count
    "dibao": (1398.75, 2059, 2911),
    "tekun": (187.00, None, 164),
    "temporary": (19.79, None, None),
    "orphan": (44.41, None, None),
    "disability": (222.22, None, None),
    "charity": (6.00, None, None),
}


@pytest.fixture(scope="module")
def h1(demo_url):
    """The page's queries for H1 2024 on the demo, run once per engine."""
    engine = get_engine(demo_url)
    return {"engine": engine, "totals": aid.aid_totals(engine, H1).set_index("programme"),
            "overall": aid.aid_overall(engine, H1), "by_sub": aid.aid_all_by_subdistrict(engine, H1),
            "by_month": aid.aid_by_month(engine, H1), "discovery": aid.proactive_discovery(engine, H1),
            "discovery_by_sub": aid.proactive_discovery_by_subdistrict(engine, H1)}


@pytest.mark.parametrize("programme", list(REPORT))
def test_h1_2024_programme_totals_match_the_report(h1, programme):
    wan, households, persons = REPORT[programme]
    row = h1["totals"].loc[programme]
    assert row["amount_wan"] == wan
    shown = aid_tables.programme_table(h1["totals"].reset_index()).set_index("救助项目").loc[row["name"]]
    assert shown["金额（万元）"] == wan
    if households is not None:
        assert row["households"] == households
    if persons is not None:
        assert row["persons"] == persons


def test_h1_2024_tekun_living_and_care_subsidy_is_187_wan(h1):
    fen = aid.aid_amount(h1["engine"], H1, programme="tekun", subtypes=("living", "care"))
    assert fen == 187_000_000


def test_h1_2024_proactive_discovery_986_102_13(h1):
    assert h1["discovery"] == {"screened": 986, "dibao_households": 102, "tekun_households": 13}
    by_sub = h1["discovery_by_sub"]
    assert len(by_sub) == 10
    assert by_sub[["screened", "dibao_households", "tekun_households"]].sum().tolist() == [986, 102, 13]


def test_h1_2024_breakdowns_add_up_to_the_totals(h1):
    totals, overall, by_sub, by_month = h1["totals"], h1["overall"], h1["by_sub"], h1["by_month"]
    assert overall["amount_fen"] == totals["amount_fen"].sum()
    assert overall["payments"] == totals["payments"].sum()
    # a person paid by two programmes counts once in the overall figure
    assert max(totals["persons"]) <= overall["persons"] <= totals["persons"].sum()
    assert len(by_sub) == 10 and by_sub["amount_fen"].sum() == overall["amount_fen"]
    assert by_sub["persons"].sum() == overall["persons"]
    assert sorted(set(by_month["month"])) == H1.months()
    paid = totals["amount_fen"][totals["amount_fen"] > 0]
    assert by_month.groupby("programme")["amount_fen"].sum().to_dict() == paid.to_dict()
    dibao = aid.aid_by_subdistrict(h1["engine"], H1, programme="dibao")
    assert dibao["amount_fen"].sum() == 1_398_750_000 and dibao["households"].sum() == 2059


def test_h1_2024_recipient_list_has_a_row_per_person_and_programme(h1):
    engine = h1["engine"]
    assert aid.aid_recipients_count(engine, H1, programme="dibao") == 2911
    assert aid.aid_recipients_count(engine, H1) == int(h1["totals"]["persons"].sum())
    page1 = aid.aid_recipients(engine, H1, programme="dibao", limit=50)
    page2 = aid.aid_recipients(engine, H1, programme="dibao", limit=50, offset=50)
    assert len(page1) == len(page2) == 50
    assert set(page1["person_id"]).isdisjoint(page2["person_id"])
    assert (page1["programme"] == "dibao").all() and page1["amount_fen"].gt(0).all()
    shown = aid_tables.recipient_table(access.call(OFFICE, aid.aid_recipients, engine, H1, programme="dibao", limit=50))
    assert shown["身份证号"].str.fullmatch(r"999999\*{8}[0-9X]{4}").all()
    assert shown["姓名"].str.contains(r"\*").all()
    assert not set(shown["姓名"]) & set(page1["name"])
    assert shown["联系电话"].fillna("").str.fullmatch(r"(\d{3}\*{4}\d{4})?").all()


def test_h1_2024_year_over_year_against_h1_2023(h1):
    before = aid.aid_totals(h1["engine"], H1.year_earlier())
    table = aid_tables.yoy_table(h1["totals"].reset_index(), before).set_index("救助项目")
    row = table.loc[h1["totals"].loc["dibao", "name"]]
    assert row["本期金额（万元）"] == 1398.75
    assert row["上年同期金额（万元）"] == before.set_index("programme").loc["dibao", "amount_wan"]
    assert row["金额增减（万元）"] == pytest.approx(1398.75 - row["上年同期金额（万元）"], abs=0.01)
    assert row["本期人数（人）"] - row["上年同期人数（人）"] == row["人数增减（人）"]


# --- hand-made rows: period edges, empty periods, a subdistrict with no data ---------------------------

A, B = "360103901", "360103902"  # two subdistricts; B never has any record
CA, CB = "360103901001", "360103902001"


_insert = insert


@pytest.fixture
def engine(db_url):
    """Subdistricts A and B, one community each; household 1 (A) with persons 1 and 2, household 2 (A) with person 3."""
    engine = get_engine(db_url)
    subdistricts(engine, (A, "甲街道"), (B, "乙街道"))
    _insert(engine, "Community", *[dict(code=c, name=f"{c}社区居委会", short_name=c[-3:], kind="社区居委会",
                                        subdistrict_code=c[:9], lon=115.87, lat=28.65, pop_60=100, pop_80=10,
                                        living_alone=5) for c in (CA, CB)])
    _insert(engine, "AidHousehold",
            dict(id=1, household_no="H1", head_name="张三华", head_id_number="999999198001010011",
                 phone="13812345678", address=None, subdistrict_code=A, community_code=CA),
            dict(id=2, household_no="H2", head_name="欧阳娜娜", head_id_number="999999197001010013", phone=None,
                 address=None, subdistrict_code=A, community_code=CA))
    _insert(engine, "AidPerson",
            dict(id=1, household_id=1, name="张三华", id_number="999999198001010011", phone="13812345678",
                 relation="户主"),
            dict(id=2, household_id=1, name="李四", id_number="999999198001010020", phone=None, relation="配偶"),
            dict(id=3, household_id=2, name="欧阳娜娜", id_number="999999197001010013", phone=None, relation="户主"))
    return engine


def _pay(id, day, fen, programme="dibao", person=1, household=1, subtype=None):
    return dict(id=id, programme=programme, subtype=subtype, household_id=household, person_id=person,
                subdistrict_code=A, paid_on=day, amount_fen=fen)


def test_a_payment_on_the_last_day_of_a_quarter_counts_in_that_quarter_not_the_next(engine):
    _insert(engine, "AidPayment", _pay(1, date(2024, 3, 31), 80_000), _pay(2, date(2024, 3, 31), 70_000, person=2),
            _pay(3, date(2024, 4, 1), 50_000, person=3, household=2))
    q1, q2 = parse("2024-Q1"), parse("2024-Q2")
    assert aid.aid_overall(engine, q1) == {"households": 1, "persons": 2, "payments": 2, "amount_fen": 150_000,
                                           "amount_wan": 0.15}
    assert aid.aid_overall(engine, q2) == {"households": 1, "persons": 1, "payments": 1, "amount_fen": 50_000,
                                           "amount_wan": 0.05}
    assert aid.aid_all_by_subdistrict(engine, q1).set_index("subdistrict_code").loc[A, "amount_fen"] == 150_000
    months = aid.aid_by_month(engine, parse("2024-H1"))
    assert dict(zip(months["month"], months["amount_fen"])) == {date(2024, 3, 1): 150_000, date(2024, 4, 1): 50_000}
    assert aid.aid_recipients_count(engine, q1) == 2 and aid.aid_recipients_count(engine, q2) == 1
    assert list(aid.aid_recipients(engine, q2)["person_id"]) == [3]


def test_a_custom_range_counts_its_own_days_only(engine):
    _insert(engine, "AidPayment", _pay(1, date(2024, 3, 14), 10_000), _pay(2, date(2024, 3, 15), 20_000),
            _pay(3, date(2024, 4, 10), 30_000, person=2), _pay(4, date(2024, 4, 11), 40_000, person=3, household=2))
    rng = custom(date(2024, 3, 15), date(2024, 4, 10))
    assert aid.aid_overall(engine, rng)["amount_fen"] == 50_000
    assert aid.aid_totals(engine, rng).set_index("programme").loc["dibao", "persons"] == 2
    months = aid.aid_by_month(engine, rng)
    assert dict(zip(months["month"], months["amount_fen"])) == {date(2024, 3, 1): 20_000, date(2024, 4, 1): 30_000}


def test_empty_periods_and_a_subdistrict_without_records_show_zeros(engine):
    _insert(engine, "AidPayment", _pay(1, date(2024, 5, 10), 90_000))
    empty = parse("2023-Q1")
    assert aid.aid_overall(engine, empty) == {"households": 0, "persons": 0, "payments": 0, "amount_fen": 0,
                                              "amount_wan": 0.0}
    assert aid.aid_overall(engine, H1, B)["amount_fen"] == 0
    totals = aid.aid_totals(engine, empty)
    assert list(totals["programme"]) == list(m.AID_PROGRAMMES) and totals["amount_fen"].sum() == 0
    by_sub = aid.aid_all_by_subdistrict(engine, H1).set_index("subdistrict_code")
    assert list(by_sub.index) == [A, B]
    assert by_sub.loc[B, ["households", "persons", "amount_fen", "amount_wan"]].tolist() == [0, 0, 0, 0.0]
    assert aid.aid_all_by_subdistrict(engine, empty)["amount_fen"].tolist() == [0, 0]
    only_b = aid.aid_all_by_subdistrict(engine, H1, B)
    assert only_b["subdistrict_code"].tolist() == [B] and only_b["amount_fen"].tolist() == [0]
    assert aid.aid_by_month(engine, empty).empty
    assert aid.aid_recipients_count(engine, empty) == 0
    assert list(aid.aid_recipients(engine, empty).columns) == aid.RECIPIENT_COLUMNS
    discovery = aid.proactive_discovery_by_subdistrict(engine, H1).set_index("subdistrict_code")
    assert discovery.loc[B, ["screened", "dibao_households", "tekun_households"]].tolist() == [0, 0, 0]
    # the page's tables take the zeros as they are
    table = aid_tables.subdistrict_table(aid.aid_all_by_subdistrict(engine, empty), aid.aid_overall(engine, empty))
    assert table["金额（万元）"].tolist() == [0.0, 0.0, 0.0] and table["人均发放（元）"].isna().all()
    assert aid_tables.programme_table(totals, aid.aid_overall(engine, empty))["户数（户）"].sum() == 0


def test_a_person_paid_by_two_programmes_counts_once_overall_and_once_per_programme(engine):
    _insert(engine, "AidPayment", _pay(1, date(2024, 2, 1), 60_000), _pay(2, date(2024, 3, 1), 60_000),
            _pay(3, date(2024, 2, 5), 30_000, programme="temporary"))
    q1 = parse("2024-Q1")
    assert aid.aid_overall(engine, q1)["persons"] == 1
    rows = aid.aid_recipients(engine, q1)
    assert sorted(zip(rows["programme"], rows["payments"], rows["amount_fen"])) == [("dibao", 2, 120_000),
                                                                                   ("temporary", 1, 30_000)]


def test_year_over_year_compares_with_the_same_period_a_year_earlier(engine):
    _insert(engine, "AidPayment", _pay(1, date(2023, 2, 1), 100_000), _pay(2, date(2024, 2, 1), 125_000),
            _pay(3, date(2024, 2, 1), 40_000, programme="charity", person=2))
    q1 = parse("2024-Q1")
    assert q1.year_earlier() == parse("2023-Q1")
    table = aid_tables.yoy_table(aid.aid_totals(engine, q1), aid.aid_totals(engine, q1.year_earlier()),
                                 aid.aid_overall(engine, q1), aid.aid_overall(engine, q1.year_earlier()))
    rows = table.set_index("救助项目")
    dibao, charity = rows.loc[m.AID_PROGRAMMES["dibao"]], rows.loc[m.AID_PROGRAMMES["charity"]]
    assert (dibao["本期金额（万元）"], dibao["上年同期金额（万元）"], dibao["金额增减（万元）"]) == (0.13, 0.1, 0.03)
    assert dibao["金额增减幅度（%）"] == 25.0
    assert charity["上年同期金额（万元）"] == 0.0 and pd.isna(charity["金额增减幅度（%）"])
    assert rows.iloc[-1]["本期人数（人）"] == 2 and rows.iloc[-1]["人数增减（人）"] == 1


def test_recipient_list_through_the_query_layer_masks_every_person_field(engine):
    _insert(engine, "AidPayment", _pay(1, date(2024, 1, 5), 10_000), _pay(2, date(2024, 1, 5), 10_000, person=2),
            _pay(3, date(2024, 1, 5), 10_000, person=3, household=2))
    raw = aid.aid_recipients(engine, parse("2024-01"))
    shown = aid_tables.recipient_table(access.call(OFFICE, aid.aid_recipients, engine, parse("2024-01")))
    assert shown["姓名"].tolist() == ["张*华", "李*", "欧阳*娜"]
    assert shown["身份证号"].tolist() == ["999999********0011", "999999********0020", "999999********0013"]
    # the person's own phone, else the household's; none at all stays empty
    assert shown["联系电话"].tolist() == ["138****5678", "138****5678", ""]
    assert shown["发放金额（元）"].tolist() == [100.0, 100.0, 100.0]
