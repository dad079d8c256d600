"""Edges of the query layer on hand-made rows, on both engines: period boundaries, late rectification, empty data."""
from __future__ import annotations

from datetime import date

import pytest

from factories import insert, subdistricts

from data.db import models as m
from data.db.engine import get_engine
from data.domain.figures import FIGURES, compute_all
from data.domain.period import parse
from data.queries import affairs, aid, facilities, findings, services

A, B = "360103901", "360103902"  # two subdistricts; B never has any record
CA1, CA2, CB1 = "360103901001", "360103901002", "360103902001"


_insert = insert


def _facility(id, kind, community, **kw):
    row = dict(id=id, code=f"F{id}", name=f"设施{id}", kind=kind, subdistrict_code=community[:9],
               community_code=community, address=None, operator=None, capacity=None, lon=115.87, lat=28.65,
               public=False, plan_year=None, key_project=False, reserve_project=False, showcase=False,
               offers_delivery=False, safety_supervised=False, planned_on=None, construction_started_on=None,
               opened_on=None, closed_on=None, vacant_room_id=None, version=1)
    row.update(kw)
    return row


@pytest.fixture
def engine(db_url):
    """Two subdistricts with three communities (one a village), a household of two, nothing else."""
    engine = get_engine(db_url)
    subdistricts(engine, (A, "甲街道"), (B, "乙街道"))
    _insert(engine, "Community", *[dict(code=c, name=f"{c}社区居委会", short_name=c[-3:], kind=k, subdistrict_code=c[:9],
                                        lon=115.87, lat=28.65, pop_60=100, pop_80=10, living_alone=5)
                                   for c, k in ((CA1, "社区居委会"), (CA2, "村委会"), (CB1, "社区居委会"))])
    _insert(engine, "AidHousehold", dict(id=1, household_no="H1", head_name="张甲", head_id_number="999999198001010011",
                                         phone=None, address=None, subdistrict_code=A, community_code=CA1))
    _insert(engine, "AidPerson", dict(id=1, household_id=1, name="张甲", id_number="999999198001010011", phone=None,
                                      relation="户主"),
            dict(id=2, household_id=1, name="张乙", id_number="999999198001010020", phone=None, relation="配偶"))
    return engine


def _payment(id, day, fen, programme="dibao", person=1):
    return dict(id=id, programme=programme, subtype=None, household_id=1, person_id=person, subdistrict_code=A,
                paid_on=day, amount_fen=fen)


def test_payment_on_the_last_day_of_a_quarter_counts_in_that_quarter_only(engine):
    _insert(engine, "AidPayment", _payment(1, date(2024, 3, 31), 80_000),
            _payment(2, date(2024, 3, 31), 70_000, person=2), _payment(3, date(2024, 4, 1), 50_000))
    q1 = aid.aid_totals(engine, parse("2024-Q1")).set_index("programme").loc["dibao"]
    q2 = aid.aid_totals(engine, parse("2024-Q2")).set_index("programme").loc["dibao"]
    assert (q1["households"], q1["persons"], q1["amount_fen"]) == (1, 2, 150_000)
    assert (q2["households"], q2["persons"], q2["amount_fen"]) == (1, 1, 50_000)
    assert aid.aid_amount(engine, parse("2024-03"), programme="dibao") == 150_000
    assert aid.aid_amount(engine, parse("2024-W14"), programme="dibao") == 50_000      # Mon 1 April – Sun 7 April
    assert aid.aid_totals(engine, parse("2024-H1")).set_index("programme").loc["dibao", "amount_wan"] == 0.2


def _finding(id, found, deadline, rectified, source="inspection_group", subdistrict=A):
    return dict(id=id, code=f"Z{id}", inspection_id=None, source=source, place_type="养老机构", place_name="某养老院",
                facility_id=None, community_code=None, subdistrict_code=subdistrict, category="消防安全", severity="一般",
                description=None, found_on=found, deadline=deadline, rectified_on=rectified,
                referred_to_discipline=False, note=None, version=1)


def test_a_finding_rectified_after_the_period_is_open_within_it(engine):
    _insert(engine, "Finding",
            _finding(1, date(2024, 5, 1), date(2024, 5, 31), date(2024, 7, 10)),   # late, after the half-year
            _finding(2, date(2024, 5, 1), date(2024, 7, 15), None),                # open, deadline still ahead
            _finding(3, date(2024, 5, 1), date(2024, 6, 30), None),                # deadline on the last day
            _finding(4, date(2024, 5, 1), date(2024, 5, 31), date(2024, 6, 30)))   # rectified on the last day
    h1 = findings.findings_summary(engine, parse("2024-H1"), sources=m.SAFETY_SOURCES)
    assert h1 == {"found": 4, "rectified": 1, "open": 3, "overdue": 1, "referred": 0, "rectification_rate": 0.25}
    year = findings.findings_summary(engine, parse("2024"), sources=m.SAFETY_SOURCES)
    assert (year["rectified"], year["open"], year["overdue"]) == (2, 2, 2)
    listed = findings.findings_list(engine, parse("2024-H1")).set_index("code")
    assert listed.loc["Z1", "status"] == "overdue" and listed.loc["Z1", "rectified_on"] is None
    assert listed.loc["Z2", "status"] == "open" and listed.loc["Z4", "status"] == "rectified"
    assert list(findings.open_findings_on(engine, date(2024, 7, 1))["code"]) == ["Z1", "Z2", "Z3"]
    assert findings.findings_summary(engine, parse("2024-H1"), sources=("sanzi",))["found"] == 0


def test_facility_status_follows_its_dates(engine):
    _insert(engine, "Facility",
            _facility(1, "meal_point", CA1, planned_on=date(2024, 1, 10), construction_started_on=date(2024, 3, 1),
                      opened_on=date(2024, 5, 1), closed_on=date(2024, 9, 1)),
            _facility(2, "care_institution", CB1, opened_on=date(2010, 1, 1)))
    status = {d: facilities.facilities_on(engine, d).set_index("id")["status"].to_dict()
              for d in (date(2024, 1, 9), date(2024, 1, 10), date(2024, 3, 1), date(2024, 5, 1), date(2024, 8, 31),
                        date(2024, 9, 1))}
    assert status[date(2024, 1, 9)] == {2: "operating"}            # not in the records before it is planned
    assert status[date(2024, 1, 10)][1] == "planned"
    assert status[date(2024, 3, 1)][1] == "building"
    assert status[date(2024, 5, 1)][1] == "operating" and status[date(2024, 8, 31)][1] == "operating"
    assert status[date(2024, 9, 1)][1] == "closed"
    df = facilities.facilities_on(engine, date(2024, 5, 1), kinds=["meal_point"])
    assert list(df["kind_name"]) == ["社区助餐点"] and list(df["status_name"]) == ["运营中"]
    assert facilities.meal_points_operating(engine, date(2024, 8, 31)) == 1
    assert facilities.meal_points_operating(engine, date(2024, 9, 1)) == 0


def test_meal_coverage_counts_each_served_community_once(engine):
    _insert(engine, "Facility",
            _facility(1, "meal_point", CA1, opened_on=date(2023, 1, 1)),
            _facility(2, "meal_point", CA1, opened_on=date(2023, 6, 1)),
            _facility(3, "meal_point", CB1, opened_on=date(2024, 1, 1), closed_on=date(2024, 3, 1)))
    _insert(engine, "MealPointCommunity", *[dict(facility_id=f, community_code=c)
                                            for f, c in ((1, CA1), (2, CA1), (2, CA2), (3, CB1))])
    cov = facilities.community_meal_coverage(engine, date(2024, 6, 30)).set_index("code")
    assert cov["covered"].to_dict() == {CA1: True, CA2: True, CB1: False}
    assert cov.loc[CA1, "meal_points"] == 2
    assert facilities.meal_coverage_rate(engine, date(2024, 6, 30)) == pytest.approx(2 / 3)
    assert facilities.meal_coverage_rate(engine, date(2024, 2, 1)) == 1.0
    assert facilities.meal_coverage_rate(engine, date(2024, 6, 30), street=B) == 0.0
    by_sd = facilities.coverage_by_subdistrict(engine, date(2024, 6, 30)).set_index("subdistrict_code")
    assert by_sd.loc[A, ["communities", "covered", "meal_points"]].tolist() == [2, 2, 2]
    assert by_sd.loc[B, ["communities", "covered", "meal_points", "coverage_rate"]].tolist() == [1, 0, 0, 0.0]
    assert facilities.facility_coverage_rate(engine, date(2024, 6, 30)) == pytest.approx(2 / 3)


def test_roster_and_workers_change_on_their_first_day(engine):
    elder = dict(name="李甲", phone=None, address=None, birth_date=date(1940, 1, 1), subdistrict_code=A,
                 community_code=CA1)
    _insert(engine, "LivingAloneElder",
            dict(id=1, id_number="999999194001010013", enrolled_on=date(2024, 6, 30), left_on=None, **elder),
            dict(id=2, id_number="999999194001010021", enrolled_on=date(2023, 1, 1), left_on=date(2024, 6, 30),
                 **elder))
    _insert(engine, "LivingAloneVisit",
            *[dict(id=i, elder_id=1, visited_on=date(2024, 6, 30), subdistrict_code=A, visit_type=kind, visitor=None)
              for i, kind in ((1, "巡访"), (2, "探访"))],
            dict(id=3, elder_id=2, visited_on=date(2024, 6, 3), subdistrict_code=A, visit_type="探访", visitor=None))
    assert services.living_alone_roster_count(engine, date(2024, 6, 30)) == 1
    assert services.living_alone_roster_count(engine, date(2024, 6, 29)) == 1
    june = services.living_alone_visit_compliance(engine, parse("2024-06"))
    assert june[["elder_id", "visits", "compliant"]].values.tolist() == [[1, 2, True]]
    assert services.living_alone_visits(engine, parse("2024-06")) == 3
    _insert(engine, "ServiceStation", dict(id=1, name="甲街道民政服务站", level="subdistrict", subdistrict_code=A,
                                           opened_on=date(2024, 1, 1)))
    _insert(engine, "SocialWorker",
            dict(id=1, name="王甲", station_id=1, start_date=date(2024, 1, 1), end_date=date(2024, 6, 30)),
            dict(id=2, name="王乙", station_id=1, start_date=date(2024, 6, 30), end_date=None))
    assert affairs.social_workers_active(engine, date(2024, 6, 29)) == 1
    assert affairs.social_workers_active(engine, date(2024, 6, 30)) == 1
    assert affairs.social_workers_active(engine, date(2024, 6, 30), street=B) == 0
    assert affairs.service_station_counts(engine, date(2024, 6, 30)) == {"district": 0, "subdistrict": 1}


def test_an_empty_period_gives_zeros(engine):
    _insert(engine, "AidPayment", _payment(1, date(2024, 3, 31), 80_000))
    _insert(engine, "Finding", _finding(1, date(2024, 5, 1), date(2024, 5, 31), None))
    empty = parse("2030")
    totals = aid.aid_totals(engine, empty)
    assert list(totals["programme"]) == list(m.AID_PROGRAMMES)
    assert totals[["households", "persons", "payments", "amount_fen", "amount_wan"]].to_numpy().sum() == 0
    assert findings.findings_summary(engine, empty) == {"found": 0, "rectified": 0, "open": 0, "overdue": 0,
                                                        "referred": 0, "rectification_rate": 0.0}
    assert facilities.meals_served(engine, empty).empty
    assert services.home_service_visits_by_type(engine, empty)["visits"].tolist() == [0, 0, 0]
    assert services.living_alone_visits_by_month(engine, empty)["visits"].sum() == 0
    assert affairs.civil_event_counts(engine, empty)["count"].sum() == 0
    assert affairs.roundtable(engine, empty) == {"meetings": 0, "issues_raised": 0, "issues_resolved": 0}
    assert aid.proactive_discovery(engine, empty) == {"screened": 0, "dibao_households": 0, "tekun_households": 0}
    rows = compute_all(engine, empty)
    assert len(rows) == len(FIGURES) and all(r["text"] for r in rows)
    values = {r["id"]: r["values"] for r in rows}
    assert values["F10"] == {"meal_points": 0} and values["F41"] == {"amount_fen": 0}
    assert values["F11"] == {"covered": 0, "communities": 3, "rate": 0.0}
    assert values["F12"]["target"] is None                      # no targets table rows in this database


def test_a_subdistrict_without_data_gives_zeros(engine):
    _insert(engine, "AidPayment", _payment(1, date(2024, 3, 31), 80_000))
    _insert(engine, "HomeServiceVisit", dict(id=1, visited_on=date(2024, 3, 1), service_type="age80_2h",
                                             subdistrict_code=A, community_code=CA1, elder_name="赵甲", provider=None))
    _insert(engine, "Finding", _finding(1, date(2024, 5, 1), date(2024, 5, 31), None))
    h1 = parse("2024-H1")
    assert aid.aid_totals(engine, h1, street=B)["amount_fen"].sum() == 0
    assert aid.aid_totals(engine, h1, street=A)["amount_fen"].sum() == 80_000
    by_sd = aid.aid_by_subdistrict(engine, h1, programme="dibao").set_index("subdistrict_code")
    assert by_sd.loc[B, ["households", "persons", "amount_fen"]].tolist() == [0, 0, 0]
    assert services.home_service_visits(engine, h1, street=B) == 0
    visits = services.home_service_visits_by_subdistrict(engine, h1).set_index("subdistrict_code")["visits"]
    assert visits.to_dict() == {A: 1, B: 0}
    assert findings.findings_summary(engine, h1, street=B)["found"] == 0
    assert findings.findings_by_subdistrict(engine, h1).set_index("subdistrict_code").loc[B, "found"] == 0
    assert findings.asset_verifications_count(engine, h1, street=B) == 0
    assert aid.proactive_discovery_by_subdistrict(engine, h1).set_index("subdistrict_code").loc[B].tolist()[1:] == \
        [0, 0, 0]
    assert facilities.meal_points_operating(engine, h1.end, street=B) == 0
    assert affairs.care_worker_certified_rate(engine, h1.end, street=B) == 0.0
    assert affairs.aid_window_compliance(engine, h1.end, street=B) == 0.0
    unknown = compute_all(engine, h1, street="999")
    assert {r["id"]: r["values"] for r in unknown}["F41"] == {"amount_fen": 0}
