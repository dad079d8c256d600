"""汇总表 aid_period_counts (migration 0012) on SQLite and PostgreSQL: the distinct households and persons of the
standard periods (months, quarters, halves, years), counted ahead, are the numbers counted from aid_person_years —
for every standard period of the demo district, district-wide and per subdistrict — and are read only while
current: a payment written by any writer makes them not current (the figures are then counted as before, new
payment included) until the import, the restore or the demo build refreshes them."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

import data.db.models as m
import factories as fx
from data.db import rollups
from data.db.engine import get_engine
from data.db.models import AidCountsState, AidPayment, AidPeriodCount
from data.domain.period import custom, half, month, parse, quarter, week_of, year
from data.imports import LEDGERS, import_file
from data.queries import aid
from test_imports import NANPU, OFFICE, VALID, seed, xlsx_bytes
from test_rollups_aid import _answers, _ids, _pay

STANDARD = ([month(y, mo) for y in (2023, 2024) for mo in range(1, 13)]
            + [quarter(y, q) for y in (2023, 2024) for q in range(1, 5)]
            + [half(y, h) for y in (2023, 2024) for h in (1, 2)] + [year(2023), year(2024)])


def _distinct_answers(engine, period, street=None) -> dict:
    """The answers that count households and persons distinct (aid._distinct, persons per month)."""
    out = {"totals": aid.aid_totals(engine, period, street), "overall": aid.aid_overall(engine, period, street),
           "all_by_sub": aid.aid_all_by_subdistrict(engine, period, street),
           "by_month": aid.aid_by_month(engine, period, street)}
    for programme in m.AID_PROGRAMMES:
        out[programme] = aid.aid_by_subdistrict(engine, period, street, programme=programme)
    return {k: v.to_dict("list") if hasattr(v, "to_dict") else v for k, v in out.items()}


def _counted_ahead_and_not(engine, period, street=None) -> dict:
    ahead = _distinct_answers(engine, period, street)
    with rollups.without_period_counts():
        counted = _distinct_answers(engine, period, street)
    assert ahead == counted, f"{period.key} {street}"
    return ahead


@pytest.fixture
def paid_calls(monkeypatch):
    """How many times the aid queries fell back to counting over paid() (aid_person_years and records)."""
    calls = []
    real = rollups.paid

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(rollups, "paid", counting)
    return calls


def test_every_standard_period_of_the_demo_is_counted_ahead_with_the_same_numbers(demo_engine, paid_calls):
    assert rollups.period_counts_current(demo_engine)
    with demo_engine.connect() as conn:
        streets = list(conn.execute(select(m.Subdistrict.code).order_by(m.Subdistrict.code)).scalars())
        assert conn.execute(select(func.count()).select_from(AidPeriodCount)).scalar() > 0
    for i, period in enumerate(STANDARD):
        got = _counted_ahead_and_not(demo_engine, period)
        if period.key in ("2024-H1", "2024"):
            assert got["overall"]["persons"] > 1000
        _counted_ahead_and_not(demo_engine, period, streets[i % len(streets)])
    window = custom(date(2023, 7, 1), date(2024, 6, 30))  # the 救助发放 trend's twelve months, over two years
    assert len(_counted_ahead_and_not(demo_engine, window)["by_month"]["month"]) >= 12
    _counted_ahead_and_not(demo_engine, window, streets[0])
    paid_calls.clear()
    _distinct_answers(demo_engine, parse("2024-Q2"), streets[3])
    assert paid_calls == []  # read from the table: nothing counted over the rows
    _distinct_answers(demo_engine, week_of(date(2024, 6, 12)))
    assert paid_calls  # not a standard period: counted as before


def test_a_payment_written_by_hand_makes_the_counts_not_current_until_refreshed(db_url, paid_calls):
    eng = get_engine(db_url)
    seed(eng)
    ((p1, h1), (p2, _)), _ = _ids(eng)
    fx.insert(eng, "AidPayment", *[_pay("dibao", h1, p1, NANPU, date(2024, mo, 10)) for mo in range(1, 7)])
    assert not rollups.period_counts_current(eng)  # never counted
    done = rollups.refresh_period_counts(eng)
    assert done["years"] == 1 and done["rows"] > 0 and rollups.period_counts_current(eng)
    assert _counted_ahead_and_not(eng, half(2024, 1))["overall"]["persons"] == 1
    paid_calls.clear()
    fx.insert(eng, "AidPayment", _pay("dibao", h1, p2, NANPU, date(2024, 3, 10)))  # any writer: bumps the version
    assert not rollups.period_counts_current(eng)
    q1 = _answers(eng, quarter(2024, 1))
    assert q1["aid_overall"]["persons"] == 2 and paid_calls  # the new person, counted as before
    with eng.begin() as conn:
        conn.execute(update(AidPayment).where(AidPayment.person_id == p2).values(paid_on=date(2024, 8, 1)))
    rollups.refresh_period_counts(eng)
    assert rollups.period_counts_current(eng)
    assert _counted_ahead_and_not(eng, quarter(2024, 1))["overall"]["persons"] == 1
    assert _counted_ahead_and_not(eng, quarter(2024, 3))["overall"]["persons"] == 1
    assert _counted_ahead_and_not(eng, year(2024))["overall"]["persons"] == 2
    with eng.begin() as conn:  # a repair of the trigger-kept tables leaves the counts to be refreshed too
        rollups.rebuild(conn)
    assert not rollups.period_counts_current(eng)


def test_an_import_of_payments_refreshes_the_counts(db_url):
    eng = get_engine(db_url)
    seed(eng)
    rows, sheet = VALID["aid_payments"], LEDGERS["aid_payments"].sheet
    import_file(eng, OFFICE, "aid_payments", "a.xlsx", xlsx_bytes(rows, sheet=sheet))
    assert rollups.period_counts_current(eng)
    with eng.connect() as conn:
        state = conn.execute(select(AidCountsState.payments_version, AidCountsState.counted_version)).one()
    assert state[0] == state[1] > 0
    june = _counted_ahead_and_not(eng, month(2024, 6))
    assert june["overall"]["persons"] == len(rows)
