"""汇总表 (daily_totals, migration 0010) on SQLite and PostgreSQL: the per-day totals equal the records after every
kind of write — the demo generator, an import, the same import again, a corrected import, an edit form, a meal
point moved to another subdistrict, records deleted — and every district-wide query that reads them gives the
number the records give, for random periods and subdistricts (seeded draws: a failure names its seed and draw)."""
from __future__ import annotations

import random
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import delete, event, func, select, update

import data.db.models as m
from data.db import rollups
from data.db.engine import get_engine
from data.db.models import DailyTotal
from data.domain import headlines
from data.domain.figures import compute_all
from data.domain.period import Period, month, parse
from data.imports import LEDGERS, import_file
from data.queries import affairs, aid, facilities, geography, services, weekly
from data.writes.edits import facility_for_edit, update_facility_status
from test_imports import CORRECTION, OFFICE, VALID, facility_id, seed, xlsx_bytes
from random_periods import random_period

SEED = 20261203
DRAWS = 12


def _same(engine) -> list:
    with engine.connect() as conn:
        return rollups.differences(conn)


def _rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(DailyTotal).order_by(*DailyTotal.__table__.primary_key.columns))
                .all()]


# --- the table follows every write -------------------------------------------------------------------------

def test_demo_district_totals_equal_the_records(demo_engine):
    assert _same(demo_engine) == []
    with demo_engine.connect() as conn:
        measures = set(conn.execute(select(DailyTotal.measure).distinct()).scalars())
    assert measures == set(rollups.MEASURES)


@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    seed(eng)
    return eng


@pytest.mark.parametrize("ledger", ["meal_records", "home_services", "living_alone_visits", "aid_payments"])
def test_import_reimport_and_correction_keep_totals_equal_to_the_records(engine, ledger):
    rows, sheet = VALID[ledger], LEDGERS[ledger].sheet
    import_file(engine, OFFICE, ledger, "a.xlsx", xlsx_bytes(rows, sheet=sheet))
    assert _same(engine) == []
    first = _rows(engine)
    assert first, "the imported records are in the totals"
    import_file(engine, OFFICE, ledger, "a.xlsx", xlsx_bytes(rows, sheet=sheet))  # the same file: nothing changes
    assert _rows(engine) == first
    col, value = CORRECTION[ledger]
    r = import_file(engine, OFFICE, ledger, "b.xlsx", xlsx_bytes([dict(rows[0], **{col: value})] + rows[1:],
                                                                    sheet=sheet))
    assert r.rows_updated == 1
    assert _same(engine) == []


def test_meal_totals_follow_the_numbers_and_the_meal_points_subdistrict(engine):
    import_file(engine, OFFICE, "meal_records", "m.xlsx", xlsx_bytes(VALID["meal_records"], sheet="助餐记录"))
    june = month(2024, 6)
    assert facilities.meals_total(engine, june) == 50 + 5 + 60 + 5
    fid = facility_id(engine, "MP-001")
    with engine.begin() as conn:  # whoever moves a meal point (an import, an administrator's SQL): its days move
        conn.execute(update(m.Facility).where(m.Facility.id == fid).values(subdistrict_code="360103002"))
    assert _same(engine) == []
    with rollups.from_records():
        by_records = services_and_meals(engine, june)
    assert services_and_meals(engine, june) == by_records
    with engine.begin() as conn:
        conn.execute(delete(m.MealRecord).where(m.MealRecord.served_on == date(2024, 6, 4)))
    assert _same(engine) == []
    assert facilities.meals_total(engine, june) == 55


def services_and_meals(engine, period: Period) -> dict:
    return {"meals": facilities.meals_total(engine, period),
            "by_day": weekly.meals_by_day(engine, period).to_dict("list"),
            "served": facilities.meals_served(engine, period).to_dict("list")}


def test_an_edit_form_keeps_totals_equal_to_the_records(engine):
    import_file(engine, OFFICE, "meal_records", "m.xlsx", xlsx_bytes(VALID["meal_records"], sheet="助餐记录"))
    fid = facility_id(engine, "MP-001")
    current = facility_for_edit(engine, fid)
    update_facility_status(engine, OFFICE, fid, current["version"], closed_on=date(2024, 6, 30))
    assert _same(engine) == []
    assert facilities.meals_total(engine, month(2024, 6)) == 120


def test_records_deleted_or_changed_by_hand_leave_no_stale_total(demo_engine):
    """Any writer, not only the program: the triggers run inside the writer's own transaction (rolled back here)."""
    with demo_engine.connect() as conn:
        trans = conn.begin()
        try:
            first = conn.execute(select(func.min(m.AidPayment.id))).scalar()
            conn.execute(delete(m.AidPayment).where(m.AidPayment.id.between(first, first + 499)))
            code = conn.execute(select(func.min(m.Subdistrict.code))).scalar()
            conn.execute(update(m.HomeServiceVisit).where(m.HomeServiceVisit.id % 7 == 0)
                         .values(subdistrict_code=code))
            conn.execute(update(m.MealRecord).where(m.MealRecord.id % 3 == 0)
                         .values(dine_in=m.MealRecord.dine_in + 1))
            conn.execute(update(m.CivilEvent).where(m.CivilEvent.id % 5 == 0).values(subdistrict_code=None))
            assert rollups.differences(conn) == []
        finally:
            trans.rollback()
    assert _same(demo_engine) == []


# --- the district-wide queries read the totals and give the records' numbers ---------------------------------

def _district_answers(engine, period: Period) -> dict:
    """Every query that reads the totals when no street is given, district-wide."""
    def plain(x):
        return x.to_dict("list") if isinstance(x, pd.DataFrame) else x

    out = {
        "home_service_visits": services.home_service_visits(engine, period),
        "home_service_visits_by_type": services.home_service_visits_by_type(engine, period),
        "home_service_visits_by_subdistrict": services.home_service_visits_by_subdistrict(engine, period),
        "living_alone_visits": services.living_alone_visits(engine, period),
        "living_alone_visits_by_month": services.living_alone_visits_by_month(engine, period),
        "meals_total": facilities.meals_total(engine, period),
        "meals_served": facilities.meals_served(engine, period),
        "meals_by_day": weekly.meals_by_day(engine, period),
        "civil_event_counts": affairs.civil_event_counts(engine, period),
        "aid_amount_all": aid.aid_amount_all(engine, period),
        "headline_values": headlines.headline_values(engine, period),
    }
    for kind in affairs.CIVIL_EVENT_KINDS:
        out[f"civil_event_count.{kind}"] = affairs.civil_event_count(engine, period, kind=kind)
    for programme in m.AID_PROGRAMMES:
        out[f"aid_amount.{programme}"] = aid.aid_amount(engine, period, programme=programme)
    out["aid_amount.tekun.living+care"] = aid.aid_amount(engine, period, programme="tekun",
                                                         subtypes=("living", "care"))
    return {k: plain(v) for k, v in out.items()}


def test_random_periods_give_the_records_numbers(demo_engine):
    rng = random.Random(SEED)
    for draw in range(DRAWS):
        period = random_period(rng)
        from_totals = _district_answers(demo_engine, period)
        with rollups.from_records():
            from_records = _district_answers(demo_engine, period)
        with rollups.without_district():  # daily_totals summed over the subdistricts (before migration 0013)
            from_daily = _district_answers(demo_engine, period)
        for key in from_records:
            assert from_totals[key] == from_records[key], f"seed {SEED} draw {draw}: {period.key} {key}"
            assert from_daily[key] == from_records[key], f"seed {SEED} draw {draw}: {period.key} {key}"
    assert from_totals["home_service_visits"] >= 0


def test_every_figure_of_random_periods_is_the_records_figure(demo_engine):
    """F01…F76 (data.domain.figures) of random periods, district-wide, both ways."""
    rng = random.Random(SEED + 2)
    for draw in range(4):
        period = random_period(rng)
        from_totals = {r["id"]: r["values"] for r in compute_all(demo_engine, period)}
        with rollups.from_records():
            from_records = {r["id"]: r["values"] for r in compute_all(demo_engine, period)}
        assert from_totals == from_records, f"seed {SEED + 2} draw {draw}: {period.key}"


def test_random_subdistricts_add_up_to_what_their_records_say(demo_engine):
    """A subdistrict's row of a district-wide breakdown (from the totals) is the street-scoped answer (records)."""
    rng = random.Random(SEED + 1)
    codes = list(geography.subdistricts(demo_engine)["code"])
    for draw in range(DRAWS):
        period, code = random_period(rng), rng.choice(codes)
        by_sub = services.home_service_visits_by_subdistrict(demo_engine, period).set_index("subdistrict_code")
        assert int(by_sub.loc[code, "visits"]) == services.home_service_visits(demo_engine, period, code), \
            f"seed {SEED + 1} draw {draw}: {period.key} {code}"
        t = DailyTotal
        with demo_engine.connect() as conn:
            got = conn.execute(select(t.measure, func.sum(t.n), func.sum(t.v1), func.sum(t.v2))
                               .where(t.subdistrict_code == code, t.day >= period.start, t.day <= period.end)
                               .group_by(t.measure)).all()
        totals = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in got}
        assert totals.get("living_alone_visits", (0,))[0] == services.living_alone_visits(demo_engine, period, code)
        assert sum(totals.get("meal_records", (0, 0, 0))[1:]) == facilities.meals_total(demo_engine, period, code)
        assert totals.get("aid_payments", (0, 0))[1] == aid.aid_amount_all(demo_engine, period, code)
        assert totals.get("civil_events", (0,))[0] == int(affairs.civil_event_counts(demo_engine, period,
                                                                                     code)["count"].sum())


def test_street_scoped_queries_read_the_records_and_district_wide_ones_the_totals(demo_engine):
    code = list(geography.subdistricts(demo_engine)["code"])[0]
    h1 = parse("2024-H1")
    sent: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        sent.append(statement)

    event.listen(demo_engine, "before_cursor_execute", listen)
    try:
        for street, reads_totals in ((code, False), (None, True)):
            sent.clear()
            services.home_service_visits(demo_engine, h1, street)
            facilities.meals_total(demo_engine, h1, street)
            aid.aid_amount(demo_engine, h1, street, programme="dibao")
            assert len(sent) == 3
            assert all(("daily_totals" in s) == reads_totals for s in sent), (street, sent)
        sent.clear()
        with rollups.from_records():
            services.home_service_visits(demo_engine, h1)
        assert "daily_totals" not in sent[0] and "home_service_visits" in sent[0]
    finally:
        event.remove(demo_engine, "before_cursor_execute", listen)


def test_district_wide_sums_read_the_district_table_and_breakdowns_by_subdistrict_the_daily_one(demo_engine):
    """district_daily_totals (0013) answers what needs no subdistrict; a breakdown by subdistrict stays on
    daily_totals — and both give the records' numbers (test_random_periods_give_the_records_numbers)."""
    h1 = parse("2024-H1")
    sent: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        sent.append(statement)

    event.listen(demo_engine, "before_cursor_execute", listen)
    try:
        services.home_service_visits_by_type(demo_engine, h1)
        facilities.meals_served(demo_engine, h1)
        affairs.civil_event_counts(demo_engine, h1)
        assert len(sent) == 3 and all("FROM district_daily_totals" in s for s in sent), sent
        sent.clear()
        services.home_service_visits_by_subdistrict(demo_engine, h1)
        assert len(sent) == 1 and "district_daily_totals" not in sent[0] and "daily_totals" in sent[0]
        sent.clear()
        with rollups.without_district():
            services.home_service_visits_by_type(demo_engine, h1)
        assert "district_daily_totals" not in sent[0] and "daily_totals" in sent[0]
    finally:
        event.remove(demo_engine, "before_cursor_execute", listen)


def test_the_district_table_follows_daily_totals_written_by_hand(demo_engine):
    """Whoever writes daily_totals (a repair, SQL by hand): the triggers keep the district sums in that transaction."""
    with demo_engine.connect() as conn:
        trans = conn.begin()
        try:
            t = DailyTotal
            conn.execute(update(t).where(t.measure == "home_service_visits").values(n=t.n + 2))
            conn.execute(delete(t).where(t.measure == "civil_events"))
            conn.execute(t.__table__.insert().values(measure="living_alone_visits", day=date(2030, 1, 1),
                                                     subdistrict_code="x", k1="", k2="", n=3, v1=0, v2=0))
            diffs = rollups.differences(conn, limit=5)
            # daily_totals no longer equals the records (written by hand) — but the district table equals its sums
            assert diffs and not [d for d in diffs if d[0] == "district_daily_totals"], diffs[:3]
            rollups.rebuild(conn)
            assert rollups.differences(conn) == []
        finally:
            trans.rollback()
    assert _same(demo_engine) == []


def test_the_span_of_recorded_days_is_the_records_span(demo_engine):
    from data.queries.meta import record_date_range

    with rollups.from_records():
        expected = record_date_range(demo_engine)
    assert record_date_range(demo_engine) == expected == (date(2023, 1, 1), date(2024, 12, 31))
