"""汇总表 (daily_totals): what the per-day totals hold, how a district-wide figure reads them, and a check that
they equal the records.

The table is written only by the triggers of migration 0010, in the transaction of every write of the records
(importer, edit forms, demo generator, restore, SQL by hand), on both engines. One row per measure × day ×
subdistrict × keys: `n` records and the sums `v1`, `v2`:

    measure              k1             k2        v1          v2          subdistrict
    aid_payments         programme      subtype   amount_fen  –           the payment's
    home_service_visits  service_type   –         –           –           the visit's
    living_alone_visits  –              –         –           –           the visit's
    meal_records         –              –         dine_in     delivered   the meal point's (facilities)
    civil_events         kind           –         –           –           the event's ('' when district-wide)

District-wide queries (no street) of counts and sums read these rows; street-scoped queries and personal lists
read the records.

汇总表 (aid_person_years, migration 0011): distinct households and persons paid in a period, which per-day sums
cannot give. One row per person × programme × year × the subdistrict and household the payments carry, with the
number of payments in each month (m01…m12) and in the year (n), kept by triggers like daily_totals. `paid()` gives
the (programme, subdistrict, household, person) of every payment in a period — the rows of aid_person_years for the
period's whole months (any of those months above 0), the records for the days of a month the period covers only in
part (an ISO week, a custom range's first and last month) — and the aid queries count them distinct, district-wide
and street-scoped alike (`persons_in_use()`): the same sets as the records, whoever is counted twice in the rows
(a person paid in two subdistricts, two households, two programmes or two years) is counted once by DISTINCT.

汇总表 (aid_period_counts, migration 0012): those distinct counts for the standard periods — each month, quarter,
half and year — per programme and subdistrict ('' = all, counted once across them), recomputed as a whole from
aid_person_years by `refresh_period_counts` after an import, a restore or the demo build (a materialized view), and
read by `period_counts` only while current: aid_counts_state's payments_version, bumped by a trigger in every
writer's transaction, still equals the version they were counted at. Otherwise the counts come from
aid_person_years as above — the same numbers; at ×100 0.5–0.8 s each instead of milliseconds.

汇总表 (district_daily_totals, migration 0013): daily_totals summed over the subdistricts — one row per measure ×
day × keys — kept by triggers on daily_totals (PostgreSQL; on SQLite a view of the same sums). `district(stmt)` moves a district-wide statement of daily_totals
that does not touch the subdistrict onto it (a half-year of one measure: 181 rows per key instead of 181 × the
subdistricts); a statement that groups or filters by subdistrict stays on daily_totals.

`from_records()` switches a block to the records (the fidelity tests compute every figure both ways);
`without_period_counts()` to aid_person_years (the tests of the counts table).
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

import logging
import time

from sqlalchemy import and_, case, distinct, extract, func, literal, or_, select, true, union_all, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import visitors

from data.db.models import (AidCountsState, AidPayment, AidPeriodCount, AidPersonYear, CivilEvent, DailyTotal,
                            DistrictDailyTotal, Facility, HomeServiceVisit, LivingAloneVisit, MealRecord)
from data.db.locks import try_xact_lock
from data.db.models.rollups import MONTHS

MEASURES = ("aid_payments", "home_service_visits", "living_alone_visits", "meal_records", "civil_events")

_RECORDS_ONLY: ContextVar[bool] = ContextVar("rollups_records_only", default=False)
_NO_PERIOD_COUNTS: ContextVar[bool] = ContextVar("rollups_no_period_counts", default=False)
_NO_DISTRICT: ContextVar[bool] = ContextVar("rollups_no_district", default=False)


def in_use(street: str | None = None) -> bool:
    """Whether a query for `street` reads the totals: district-wide only, and not inside from_records()."""
    return not street and not _RECORDS_ONLY.get()


def persons_in_use() -> bool:
    """Whether the distinct counts of aid recipients read aid_person_years (any street; not inside from_records())."""
    return not _RECORDS_ONLY.get()


@contextmanager
def from_records():
    """Within the block every query reads the records, never the totals (the record path of the fidelity tests)."""
    token = _RECORDS_ONLY.set(True)
    try:
        yield
    finally:
        _RECORDS_ONLY.reset(token)


@contextmanager
def without_period_counts():
    """Within the block the distinct counts of aid recipients never read aid_period_counts (its tests)."""
    token = _NO_PERIOD_COUNTS.set(True)
    try:
        yield
    finally:
        _NO_PERIOD_COUNTS.reset(token)


@contextmanager
def without_district():
    """Within the block district-wide statements read daily_totals, never district_daily_totals (its tests)."""
    token = _NO_DISTRICT.set(True)
    try:
        yield
    finally:
        _NO_DISTRICT.reset(token)


def _is_daily(element) -> bool:
    table = getattr(element, "table", None)
    return getattr(table, "name", None) == "daily_totals"


def district(stmt):
    """`stmt` (a statement of daily_totals, complete with its grouping) on district_daily_totals instead, unless it
    touches daily_totals.subdistrict_code (a breakdown or filter by subdistrict) — then `stmt` as it is. Inside
    without_district() always as it is."""
    if _NO_DISTRICT.get():
        return stmt
    for element in visitors.iterate(stmt):
        if _is_daily(element) and getattr(element, "name", None) == "subdistrict_code":
            return stmt
    target = DistrictDailyTotal.__table__

    def swap(element, **_):
        if getattr(element, "name", None) == "daily_totals" and hasattr(element, "c"):
            return target
        if _is_daily(element) and getattr(element, "name", None) in target.c:
            return target.c[element.name]
        return None

    return visitors.replacement_traverse(stmt, {}, swap)


def totals(measure: str, start, end, *columns, where=None):
    """SELECT *columns FROM daily_totals for one measure over [start, end] (the caller groups)."""
    t = DailyTotal
    stmt = select(*columns).where(t.measure == measure, t.day >= start, t.day <= end)
    return stmt.where(where) if where is not None else stmt


# --- aid_person_years: who was paid in a period -----------------------------------------------------------

def _month_end(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1) - timedelta(days=1)


def split(start: date, end: date) -> tuple[list[tuple[int, int, int]], list[tuple[date, date]]]:
    """[start, end] as its whole months, (year, first month, last month) per year, and the days outside them
    (at most two spans: before the first whole month and after the last)."""
    first = start if start.day == 1 else _month_end(start) + timedelta(days=1)
    last = end if end == _month_end(end) else end.replace(day=1) - timedelta(days=1)
    if first > last:
        return [], [(start, end)] if start <= end else []
    whole = [(y, first.month if y == first.year else 1, last.month if y == last.year else 12)
             for y in range(first.year, last.year + 1)]
    edges = [(a, b) for a, b in ((start, first - timedelta(days=1)), (last + timedelta(days=1), end)) if a <= b]
    return whole, edges


def months_paid(a: int, b: int):
    """The condition "paid in at least one of months a..b" on aid_person_years (counts are never negative)."""
    t = AidPersonYear
    if (a, b) == (1, 12):
        return true()  # a row exists only while its year count is above 0
    cols = [getattr(t, MONTHS[i - 1]) for i in range(a, b + 1)]
    total = cols[0]
    for c in cols[1:]:
        total = total + c
    return total > 0


def paid(start: date, end: date, street: str | None = None, programme: str | None = None, records: bool = False):
    """(programme, subdistrict_code, household_id, person_id) of the payments in [start, end], as a UNION ALL of
    aid_person_years rows (whole months) and aid_payments rows (the other days) — count them DISTINCT. With
    `records` (or inside from_records()) every day reads aid_payments."""
    t, p = AidPersonYear, AidPayment
    whole, edges = split(start, end)
    if records or not persons_in_use() or not (whole or edges):
        whole, edges = [], [(start, end)]
    parts = []
    for year, a, b in whole:
        parts.append(select(t.programme, t.subdistrict_code, t.household_id, t.person_id).where(
            t.year == year, months_paid(a, b), true() if not street else t.subdistrict_code == street,
            true() if not programme else t.programme == programme))
    for a, b in edges:
        parts.append(select(p.programme, p.subdistrict_code, p.household_id, p.person_id).where(
            p.paid_on >= a, p.paid_on <= b, true() if not street else p.subdistrict_code == street,
            true() if not programme else p.programme == programme))
    return parts[0] if len(parts) == 1 else union_all(*parts)


# --- aid_period_counts: the standard periods' distinct counts (a materialized view of aid_person_years) -----

# the runs of whole months counted ahead: each month, quarter, half and the year
PERIOD_RANGES = (tuple((m, m) for m in range(1, 13)) + ((1, 3), (4, 6), (7, 9), (10, 12)) + ((1, 6), (7, 12))
                 + ((1, 12),))
_BY = {"programme": AidPeriodCount.programme, "subdistrict_code": AidPeriodCount.subdistrict_code}


def period_counts(engine: Engine, start: date, end: date, street: str | None, by: tuple[str, ...],
                  programme: str | None = None) -> dict | None:
    """{key of `by`: (households, persons)} of the payments in [start, end] from aid_period_counts — as the
    DISTINCT counts over paid() give them — or None when the table cannot answer: not a standard period (one
    PERIOD_RANGES run of one year), not current, or switched off (from_records, without_period_counts)."""
    if _RECORDS_ONLY.get() or _NO_PERIOD_COUNTS.get() or not set(by) <= set(_BY) or len(by) > 1:
        return None
    whole, edges = split(start, end)
    if edges or len(whole) != 1 or whole[0][1:] not in PERIOD_RANGES:
        return None
    year, a, b = whole[0]
    c = AidPeriodCount
    where = [c.year == year, c.first_month == a, c.last_month == b]
    if by == ("programme",):
        where.append(c.programme == programme if programme else c.programme != "")
    else:
        where.append(c.programme == (programme or ""))
    if by == ("subdistrict_code",):
        where.append(c.subdistrict_code == street if street else c.subdistrict_code != "")
    else:
        where.append(c.subdistrict_code == (street or ""))
    rows = _while_current(engine, [*[_BY[k] for k in by], c.households, c.persons], where)
    return None if rows is None else {tuple(r[:len(by)]): (int(r[-2]), int(r[-1])) for r in rows}


def _while_current(engine: Engine, columns: list, where: list) -> list | None:
    """The rows of aid_period_counts matching `where` if the table is current, else None — in ONE statement (the
    state row LEFT JOINed to the rows), so the rows and the check come from the same snapshot: a refresh or a write
    committed between two statements cannot pair old rows with a new check."""
    s, c = AidCountsState, AidPeriodCount
    stmt = (select(s.payments_version == s.counted_version, *columns)
            .select_from(s).outerjoin(c, and_(*where)).where(s.id == 1))
    with engine.connect() as conn:
        got = conn.execute(stmt).all()
    if not got or not got[0][0]:
        return None
    return [tuple(r[1:]) for r in got if r[-1] is not None]


def month_persons(engine: Engine, whole: list[tuple[int, int, int]], street: str | None) -> dict | None:
    """{(first day of the month, programme): distinct persons paid} for every month of `whole` (split()'s runs of
    whole months) from aid_period_counts' one-month rows, or None when it is not current (or switched off)."""
    if _RECORDS_ONLY.get() or _NO_PERIOD_COUNTS.get():
        return None
    c = AidPeriodCount
    runs = [and_(c.year == y, c.first_month >= a, c.last_month <= b) for y, a, b in whole]
    rows = _while_current(engine, [c.year, c.first_month, c.programme, c.persons],
                          [c.first_month == c.last_month, c.programme != "", c.subdistrict_code == (street or ""),
                           or_(*runs)])
    return None if rows is None else {(date(int(y), int(mo), 1), prog): int(n) for y, mo, prog, n in rows}


def _counts_of(year: int, a: int, b: int):
    """SELECT of aid_period_counts rows for one run of months: per programme × subdistrict, per programme, per
    subdistrict and the district, distinct households and persons from aid_person_years."""
    t = AidPersonYear
    blank = literal("")
    parts = []
    for prog, sub in ((t.programme, t.subdistrict_code), (t.programme, blank), (blank, t.subdistrict_code),
                      (blank, blank)):
        keys = [k for k in (prog, sub) if k is not blank]
        parts.append(select(literal(year), literal(a), literal(b), prog, sub,
                            func.count(distinct(t.household_id)), func.count(distinct(t.person_id)))
                     .where(t.year == year, months_paid(a, b)).group_by(*keys))
    return union_all(*parts)


def refresh_period_counts(engine: Engine) -> dict | None:
    """Recompute aid_period_counts from aid_person_years in one transaction and mark it current at the payments
    version read in that transaction's snapshot (writes committed meanwhile leave it not current, as they should).
    Returns {"years", "rows", "seconds"}; None when another refresh holds the table (PostgreSQL: it will mark the
    newer state; nothing to do twice). A missing state row (after a restore) is made again."""
    t0 = time.perf_counter()
    pg = engine.dialect.name == "postgresql"
    conn_engine = engine.execution_options(isolation_level="REPEATABLE READ") if pg else engine
    cols = ["year", "first_month", "last_month", "programme", "subdistrict_code", "households", "persons"]
    with conn_engine.begin() as conn:
        if pg and not try_xact_lock(conn, "minzheng-aid-counts-refresh"):
            return None
        if not pg:  # the write lock first, then the snapshot: nothing can commit between the two
            conn.execute(update(AidCountsState).where(AidCountsState.id == -1).values(counted_version=0))
        version = conn.execute(select(AidCountsState.payments_version).where(AidCountsState.id == 1)).scalar()
        if version is None:  # the state row is gone (a restore empties every table): start it again
            conn.execute(AidCountsState.__table__.insert().values(id=1, payments_version=0, counted_version=-1))
            version = 0
        years = [int(y) for y in conn.execute(select(AidPersonYear.year).distinct()).scalars()]
        conn.execute(AidPeriodCount.__table__.delete())
        for year in sorted(years):
            for a, b in PERIOD_RANGES:
                conn.execute(AidPeriodCount.__table__.insert().from_select(cols, _counts_of(year, a, b)))
        conn.execute(update(AidCountsState).where(AidCountsState.id == 1).values(counted_version=version))
        rows = conn.execute(select(func.count()).select_from(AidPeriodCount)).scalar()
    return {"years": len(years), "rows": int(rows), "seconds": round(time.perf_counter() - t0, 3)}


def refresh_quietly(engine: Engine) -> dict | None:
    """refresh_period_counts after a write that has committed (an import, a restore): a failure leaves the counts
    not current — the figures are then counted from aid_person_years, the same numbers — and is logged, never
    raised into the write that already succeeded."""
    try:
        return refresh_period_counts(engine)
    except Exception as exc:  # noqa: BLE001 - logged by type only: the driver's message may quote row values
        logging.getLogger(__name__).warning("aid_period_counts not refreshed (%s)", type(exc).__name__)
        return None


def period_counts_current(engine: Engine) -> bool:
    s = AidCountsState
    with engine.connect() as conn:
        return bool(conn.execute(select(s.payments_version == s.counted_version).where(s.id == 1)).scalar())


# --- the check: the totals computed from the records, compared with the table ------------------------------

def _from_records():
    """The rows daily_totals must hold, computed from the records (the same definitions as the triggers)."""
    def grouped(measure, day, sub, k1, k2, v1, v2, *joins):
        stmt = select(literal(measure).label("measure"), day.label("day"), sub.label("subdistrict_code"),
                      k1.label("k1"), k2.label("k2"), func.count().label("n"), func.sum(v1).label("v1"),
                      func.sum(v2).label("v2"))
        for target, on in joins:
            stmt = stmt.join(target, on)
        # in key order: rebuild() writes the rows day after day, so a period's rows lie together on disk (a bulk
        # load's half year of ×100 totals read 2.5× faster than in hash order)
        return stmt.group_by(day, sub, k1, k2).order_by(day, sub, k1, k2)

    zero, blank = literal(0), literal("")
    p, h, v, m, c = AidPayment, HomeServiceVisit, LivingAloneVisit, MealRecord, CivilEvent
    return [
        grouped("aid_payments", p.paid_on, p.subdistrict_code, p.programme, func.coalesce(p.subtype, ""),
                p.amount_fen, zero).select_from(p),
        grouped("home_service_visits", h.visited_on, h.subdistrict_code, h.service_type, blank, zero,
                zero).select_from(h),
        grouped("living_alone_visits", v.visited_on, v.subdistrict_code, blank, blank, zero, zero).select_from(v),
        grouped("meal_records", m.served_on, Facility.subdistrict_code, blank, blank, m.dine_in, m.delivered,
                (Facility, Facility.id == m.facility_id)).select_from(m),
        grouped("civil_events", c.happened_on, func.coalesce(c.subdistrict_code, ""), c.kind, blank, zero,
                zero).select_from(c),
    ]


def _person_years_from_records():
    """The rows aid_person_years must hold, computed from the payments (the same definitions as the triggers)."""
    p = AidPayment
    key = [extract("year", p.paid_on), p.subdistrict_code, p.programme, p.person_id, p.household_id]
    month = extract("month", p.paid_on)
    counts = [func.sum(case((month == i, 1), else_=0)) for i in range(1, 13)]
    return select(*key, func.count(), *counts).group_by(*key)


PERSON_YEAR_COLUMNS = ["year", "subdistrict_code", "programme", "person_id", "household_id", "n", *MONTHS]


def differences(conn: Connection, limit: int = 20) -> list[tuple]:
    """Rows where daily_totals differs from the records: (measure, day, subdistrict, k1, k2, (n, v1, v2) in the
    table, (n, v1, v2) from the records) — empty when they agree; then the rows where district_daily_totals differs
    from daily_totals' sums (_district_differences); then the rows where aid_person_years differs:
    ("aid_person_years", year, subdistrict, programme, person, household, counts in the table, counts from the
    payments)."""
    out = _daily_differences(conn, limit)
    out += _district_differences(conn, limit)  # its own limit: checked even when daily_totals is off
    t = AidPersonYear

    def norm(r):
        return (int(r[0]), r[1], r[2], int(r[3]), int(r[4])), tuple(int(v) for v in r[5:])

    expected = dict(norm(r) for r in conn.execute(_person_years_from_records()))
    stored = dict(norm(r) for r in conn.execute(select(*[getattr(t, c) for c in PERSON_YEAR_COLUMNS])))
    for key in sorted(set(expected) | set(stored)):
        if len(out) >= limit:
            break
        if expected.get(key) != stored.get(key):
            out.append(("aid_person_years", *key, stored.get(key), expected.get(key)))
    return out


def _district_differences(conn: Connection, limit: int) -> list[tuple]:
    """Rows where district_daily_totals differs from daily_totals summed over the subdistricts:
    ("district_daily_totals", measure, day, k1, k2, (n, v1, v2) in the table, (n, v1, v2) summed)."""
    t, d = DailyTotal, DistrictDailyTotal

    def norm(r):
        return (r[0], str(r[1]), r[2], r[3]), (int(r[4]), int(r[5] or 0), int(r[6] or 0))

    keys = [t.measure, t.day, t.k1, t.k2]
    expected = dict(norm(r) for r in conn.execute(select(*keys, func.sum(t.n), func.sum(t.v1), func.sum(t.v2))
                                                  .group_by(*keys)))
    stored = dict(norm(r) for r in conn.execute(select(d.measure, d.day, d.k1, d.k2, d.n, d.v1, d.v2)))
    out = []
    for key in sorted(set(expected) | set(stored)):
        if expected.get(key) != stored.get(key):
            out.append(("district_daily_totals", *key, stored.get(key), expected.get(key)))
            if len(out) >= limit:
                break
    return out


def _daily_differences(conn: Connection, limit: int) -> list[tuple]:
    def norm(r):
        return (r[0], str(r[1]), r[2], r[3], r[4]), (int(r[5]), int(r[6] or 0), int(r[7] or 0))

    expected = dict(norm(r) for r in conn.execute(union_all(*[s.order_by(None) for s in _from_records()])))
    t = DailyTotal
    stored = dict(norm(r) for r in conn.execute(select(t.measure, t.day, t.subdistrict_code, t.k1, t.k2, t.n, t.v1,
                                                       t.v2)))
    out = []
    for key in sorted(set(expected) | set(stored)):
        if expected.get(key) != stored.get(key):
            out.append((*key, stored.get(key), expected.get(key)))
            if len(out) >= limit:
                break
    return out


def rebuild(conn: Connection) -> None:
    """Recompute every row of both tables from the records (a repair; the triggers keep them right on their own)."""
    conn.execute(DailyTotal.__table__.delete())
    cols = ["measure", "day", "subdistrict_code", "k1", "k2", "n", "v1", "v2"]
    for stmt in _from_records():
        conn.execute(DailyTotal.__table__.insert().from_select(cols, stmt))
    conn.execute(AidPersonYear.__table__.delete())
    conn.execute(AidPersonYear.__table__.insert().from_select(PERSON_YEAR_COLUMNS, _person_years_from_records()))
    # the distinct counts per period are not current any more (refresh_period_counts recomputes them)
    conn.execute(update(AidCountsState).where(AidCountsState.id == 1)
                 .values(payments_version=AidCountsState.payments_version + 1))


@contextmanager
def bulk_load(conn: Connection):
    """Within the block (one transaction: `conn` from engine.begin()), PostgreSQL's rollup triggers are off for the
    record tables and the totals are rebuilt from the records at the end, before the commit; other sessions wait
    for the tables until then. For loads of millions of rows (the ×100 demo): a statement-level trigger per
    chunk of 5,000 rows updates the same daily rows again and again (the table bloats and the load takes hours),
    where one rebuild at the end takes a minute. SQLite's row-level triggers stay on (they cost little there)."""
    pg = conn.dialect.name == "postgresql"
    if pg:
        for table in MEASURES:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    yield
    if pg:
        for table in MEASURES:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        rebuild(conn)


__all__ = ["MEASURES", "PERIOD_RANGES", "bulk_load", "differences", "from_records", "in_use", "months_paid", "paid",
           "month_persons", "period_counts", "period_counts_current", "persons_in_use", "rebuild", "refresh_period_counts", "refresh_quietly",
           "split",
           "district", "totals", "without_district", "without_period_counts"]
