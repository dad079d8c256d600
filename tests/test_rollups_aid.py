"""汇总表 aid_person_years (migration 0011) on SQLite and PostgreSQL: the distinct households and persons paid social
assistance, read from the months each person was paid in, are the records' numbers — for a person paid in two
subdistricts, two households, two programmes and two years, after payments are moved (date, programme,
subdistrict, person) or deleted by hand, after an import and a corrected re-import, and for random whole-month and
part-month periods and subdistricts of the demo district (seeded draws: a failure names its seed and draw)."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import delete, event, func, insert, select, text, update

import data.db.models as m
import factories as fx
from data.db import rollups
from data.db.engine import get_engine
from data.db.models import AidPayment, AidPersonYear
from data.domain.figures import FIGURES
from data.domain.period import Period, custom, month, parse, quarter, week_of
from data.imports import LEDGERS, import_file
from data.security.idcard import make_id
from data.queries import aid, geography
from test_imports import CHAOYANG, COMS, NANPU, OFFICE, VALID, seed, xlsx_bytes
from random_periods import random_period

SEED = 20261204
DRAWS = 12
AID_FIGURES = {f"F{i}" for i in range(40, 48)}


def _plain(x):
    return x.to_dict("list") if isinstance(x, pd.DataFrame) else x


def _answers(engine, period: Period, street: str | None = None) -> dict:
    """Every aid query that counts households or persons distinct, for one period and street."""
    out = {"aid_totals": aid.aid_totals(engine, period, street),
           "aid_overall": aid.aid_overall(engine, period, street),
           "aid_by_month": aid.aid_by_month(engine, period, street),
           "aid_all_by_subdistrict": aid.aid_all_by_subdistrict(engine, period, street),
           "aid_recipients_count": aid.aid_recipients_count(engine, period, street)}
    for programme in m.AID_PROGRAMMES:
        out[f"aid_by_subdistrict.{programme}"] = aid.aid_by_subdistrict(engine, period, street, programme=programme)
        out[f"aid_recipients_count.{programme}"] = aid.aid_recipients_count(engine, period, street,
                                                                             programme=programme)
    return {k: _plain(v) for k, v in out.items()}


def _both_ways(engine, period: Period, street: str | None = None) -> dict:
    """The answers from the summary, after checking they are the answers from the records."""
    from_summary = _answers(engine, period, street)
    with rollups.from_records():
        from_records = _answers(engine, period, street)
    for key in from_records:
        assert from_summary[key] == from_records[key], f"{period.key} {street} {key}"
    return from_summary


def _same(engine) -> list:
    with engine.connect() as conn:
        return rollups.differences(conn)


# --- the periods: whole months from the summary, the other days from the records ---------------------------

def test_a_period_splits_into_whole_months_and_the_days_around_them():
    assert rollups.split(date(2024, 1, 1), date(2024, 12, 31)) == ([(2024, 1, 12)], [])
    assert rollups.split(date(2023, 11, 15), date(2024, 2, 10)) == (
        [(2023, 12, 12), (2024, 1, 1)],
        [(date(2023, 11, 15), date(2023, 11, 30)), (date(2024, 2, 1), date(2024, 2, 10))])
    assert rollups.split(date(2024, 6, 10), date(2024, 6, 16)) == ([], [(date(2024, 6, 10), date(2024, 6, 16))])
    assert rollups.split(date(2024, 2, 1), date(2024, 2, 29)) == ([(2024, 2, 2)], [])
    assert rollups.split(date(2023, 12, 25), date(2024, 1, 7)) == ([], [(date(2023, 12, 25), date(2024, 1, 7))])


# --- a person paid in two subdistricts, households, programmes and years ----------------------------------

@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    seed(eng)
    fx.insert(eng, "AidHousehold", dict(household_no="DB-0002", head_name="钱丁",
                                        head_id_number=make_id("999999", date(1960, 7, 8), 41), phone=None,
                                        address=None, subdistrict_code=CHAOYANG, community_code=COMS[2][0]))
    return eng


def _ids(engine):
    with engine.connect() as conn:
        persons = conn.execute(select(m.AidPerson.id, m.AidPerson.household_id).order_by(m.AidPerson.id)).all()
        second = conn.execute(select(func.max(m.AidHousehold.id))).scalar()
    return persons, second


def _pay(programme, household, person, sub, day, fen=10_000, subtype=None):
    return dict(programme=programme, subtype=subtype, household_id=household, person_id=person,
                subdistrict_code=sub, paid_on=day, amount_fen=fen)


def test_a_person_paid_twice_over_is_one_person(engine):
    ((p1, h1), (p2, _)), h2 = _ids(engine)
    fx.insert(engine, "AidPayment",
              _pay("dibao", h1, p1, NANPU, date(2024, 6, 10)),
              _pay("dibao", h2, p1, CHAOYANG, date(2024, 6, 20)),        # moved house within the month
              _pay("tekun", h1, p1, NANPU, date(2024, 7, 10), subtype="living"),
              _pay("dibao", h1, p1, NANPU, date(2023, 12, 20)),
              _pay("dibao", h1, p2, NANPU, date(2024, 6, 10)),
              _pay("temporary", h2, p2, CHAOYANG, date(2025, 1, 5)))
    assert _same(engine) == []
    june = _both_ways(engine, month(2024, 6))
    assert (june["aid_overall"]["households"], june["aid_overall"]["persons"]) == (2, 2)
    dibao = dict(zip(june["aid_totals"]["programme"], zip(june["aid_totals"]["households"],
                                                          june["aid_totals"]["persons"])))
    assert dibao["dibao"] == (2, 2)
    assert june["aid_all_by_subdistrict"]["persons"] == [2, 1]     # 南浦 two persons, 朝阳洲 the one who moved
    assert june["aid_by_month"]["persons"] == [2]
    assert june["aid_recipients_count"] == 2
    year = _both_ways(engine, parse("2024"))
    assert year["aid_overall"]["persons"] == 2 and year["aid_recipients_count"] == 3   # p1 dibao, p1 tekun, p2 dibao
    span = _both_ways(engine, custom(date(2023, 12, 1), date(2025, 1, 31)))   # three years, whole months
    assert span["aid_overall"]["persons"] == 2 and span["aid_overall"]["payments"] == 6
    assert _both_ways(engine, custom(date(2023, 12, 15), date(2024, 6, 15)))["aid_overall"]["persons"] == 2
    for period in (week_of(date(2024, 6, 20)), custom(date(2024, 6, 15), date(2025, 1, 10)), quarter(2024, 2)):
        for street in (None, NANPU, CHAOYANG):
            _both_ways(engine, period, street)


def test_payments_moved_or_deleted_by_hand_move_their_persons(engine):
    """Any writer: an administrator's UPDATE moving payments to another date (month, year), programme,
    subdistrict or person, then DELETEs — the summary follows in the same statement."""
    ((p1, h1), (p2, _)), h2 = _ids(engine)
    fx.insert(engine, "AidPayment", *[_pay("dibao", h1, p, NANPU, date(2024, mo, 10)) for p in (p1, p2)
                                      for mo in range(1, 13)])
    moves = [
        (AidPayment.paid_on == date(2024, 3, 10), dict(paid_on=date(2025, 3, 10))),
        (AidPayment.paid_on == date(2024, 4, 10), dict(paid_on=date(2024, 5, 12))),
        (AidPayment.paid_on == date(2024, 6, 10), dict(programme="tekun", subtype="care")),
        ((AidPayment.paid_on == date(2024, 7, 10)) & (AidPayment.person_id == p2),
         dict(subdistrict_code=CHAOYANG, household_id=h2)),
        ((AidPayment.paid_on == date(2024, 8, 10)) & (AidPayment.person_id == p2),
         dict(person_id=p1, programme="temporary")),
        (AidPayment.paid_on == date(2024, 9, 10), dict(amount_fen=1)),
    ]
    for where, values in moves:
        with engine.begin() as conn:
            conn.execute(update(AidPayment).where(where).values(**values))
        assert _same(engine) == [], values
    june = _both_ways(engine, month(2024, 6))
    assert dict(zip(june["aid_totals"]["programme"], june["aid_totals"]["persons"]))["tekun"] == 2
    assert _both_ways(engine, month(2024, 8))["aid_overall"]["persons"] == 1
    assert _both_ways(engine, month(2024, 3))["aid_overall"]["persons"] == 0
    assert _both_ways(engine, month(2024, 5))["aid_by_month"]["persons"] == [2]
    _both_ways(engine, parse("2024"), CHAOYANG)
    _both_ways(engine, custom(date(2024, 2, 20), date(2025, 3, 31)))
    with engine.begin() as conn:
        conn.execute(delete(AidPayment).where(AidPayment.person_id == p2, AidPayment.paid_on >= date(2024, 10, 1)))
    assert _same(engine) == []
    assert _both_ways(engine, quarter(2024, 4))["aid_overall"]["persons"] == 1
    with engine.begin() as conn:
        conn.execute(delete(AidPayment))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AidPersonYear)).scalar() == 0
    assert _both_ways(engine, parse("2024"))["aid_overall"]["persons"] == 0


def test_import_and_corrected_reimport_keep_the_summary(engine):
    rows, sheet = VALID["aid_payments"], LEDGERS["aid_payments"].sheet
    import_file(engine, OFFICE, "aid_payments", "a.xlsx", xlsx_bytes(rows, sheet=sheet))
    assert _same(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AidPersonYear)).scalar() == 2
    import_file(engine, OFFICE, "aid_payments", "a.xlsx", xlsx_bytes(rows, sheet=sheet))
    moved = [dict(rows[0], 发放日期="2024-07-10"), dict(rows[1], **{"金额(元)": 1300})]
    import_file(engine, OFFICE, "aid_payments", "b.xlsx", xlsx_bytes(moved, sheet=sheet))
    assert _same(engine) == []
    assert _both_ways(engine, month(2024, 7))["aid_overall"]["persons"] == 1
    assert _both_ways(engine, month(2024, 6))["aid_overall"]["persons"] == 2


def test_truncate_empties_the_summary(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("TRUNCATE is PostgreSQL's")
    eng = get_engine(db_url)
    seed(eng)
    (p1, h1), *_ = _ids(eng)[0]
    fx.insert(eng, "AidPayment", _pay("dibao", h1, p1, NANPU, date(2024, 6, 10)))
    with eng.begin() as conn:
        conn.execute(text("TRUNCATE aid_payments"))
    assert _same(eng) == []


def test_rebuild_repairs_a_damaged_summary(engine):
    (p1, h1), *_ = _ids(engine)[0]
    fx.insert(engine, "AidPayment", _pay("dibao", h1, p1, NANPU, date(2024, 6, 10)))
    with engine.begin() as conn:
        conn.execute(update(AidPersonYear).values(m06=0, m07=1))
    assert [d[0] for d in _same(engine)] == ["aid_person_years"]
    with engine.begin() as conn:
        rollups.rebuild(conn)
    assert _same(engine) == []


# --- the demo district: every write path of the demo, random periods and subdistricts ---------------------

def test_the_demo_summary_equals_the_payments(demo_engine):
    assert _same(demo_engine) == []
    with demo_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AidPersonYear)).scalar() > 0


def test_random_periods_and_subdistricts_give_the_records_numbers(demo_engine):
    rng = random.Random(SEED)
    codes = [None] + list(geography.subdistricts(demo_engine)["code"])
    for draw in range(DRAWS):
        period, street = random_period(rng, whole_months=True, longest_range=400), rng.choice(codes)
        try:
            got = _both_ways(demo_engine, period, street)
        except AssertionError as exc:
            raise AssertionError(f"seed {SEED} draw {draw}: {exc}") from exc
    assert got["aid_overall"]["persons"] >= 0


def test_aid_figures_of_random_periods_and_subdistricts_are_the_records_figures(demo_engine):
    """F40…F47 (data.domain.figures), district-wide and street-scoped, both ways."""
    rng = random.Random(SEED + 1)
    codes = [None] + list(geography.subdistricts(demo_engine)["code"])
    for draw in range(6):
        period, street = random_period(rng, whole_months=True, longest_range=400), rng.choice(codes)
        figures = {f.id: f.compute(demo_engine, period, street) for f in FIGURES if f.id in AID_FIGURES}
        with rollups.from_records():
            expected = {f.id: f.compute(demo_engine, period, street) for f in FIGURES if f.id in AID_FIGURES}
        assert set(figures) == AID_FIGURES
        assert figures == expected, f"seed {SEED + 1} draw {draw}: {period.key} {street}"


def test_whole_months_read_the_summary_and_a_week_the_records(demo_engine):
    sent: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        sent.append(statement)

    event.listen(demo_engine, "before_cursor_execute", listen)
    try:
        aid.aid_overall(demo_engine, parse("2024-H1"))  # a standard period: counted ahead (migration 0012)
        assert any("aid_period_counts" in s for s in sent) and not any("aid_payments" in s for s in sent)
        assert not any("aid_person_years" in s for s in sent)
        sent.clear()
        with rollups.without_period_counts():
            aid.aid_overall(demo_engine, parse("2024-H1"))
        assert any("aid_person_years" in s for s in sent) and not any("aid_payments" in s for s in sent)
        sent.clear()
        aid.aid_overall(demo_engine, week_of(date(2024, 6, 10)))
        assert not any("aid_person_years" in s for s in sent) and any("aid_payments" in s for s in sent)
        sent.clear()
        with rollups.from_records():
            aid.aid_overall(demo_engine, parse("2024-H1"))
        assert not any("aid_person_years" in s or "daily_totals" in s for s in sent)
    finally:
        event.remove(demo_engine, "before_cursor_execute", listen)


def test_the_demo_payments_moved_by_hand_keep_the_summary(demo_engine):
    """Thousands of demo payments moved across months, years, programmes and subdistricts in single statements
    (rolled back here)."""
    with demo_engine.connect() as conn:
        trans = conn.begin()
        try:
            code = conn.execute(select(func.min(m.Subdistrict.code))).scalar()
            later = (func.date(AidPayment.paid_on, "+45 days") if conn.dialect.name == "sqlite"
                     else AidPayment.paid_on + 45)
            conn.execute(update(AidPayment).where(AidPayment.id % 11 == 0).values(paid_on=later))
            conn.execute(update(AidPayment).where(AidPayment.id % 13 == 0).values(subdistrict_code=code))
            conn.execute(update(AidPayment).where(AidPayment.id % 17 == 0).values(programme="charity", subtype="x"))
            conn.execute(delete(AidPayment).where(AidPayment.id % 19 == 0))
            first = conn.execute(select(AidPayment).where(AidPayment.id % 23 == 0).limit(50)).mappings().all()
            conn.execute(insert(AidPayment), [{**{k: v for k, v in r.items() if k != "id"},
                                               "paid_on": date(2026, 1, 1) + timedelta(days=i)}
                                              for i, r in enumerate(first)])
            assert rollups.differences(conn) == []
        finally:
            trans.rollback()
    assert _same(demo_engine) == []
