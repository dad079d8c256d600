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

District-wide queries (no street) of counts and sums read these rows; street-scoped queries, distinct counts
(households, persons) and personal lists read the records. `from_records()` switches a block to the records
(the fidelity tests compute every figure both ways).
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.engine import Connection

from data.db.models import AidPayment, CivilEvent, DailyTotal, Facility, HomeServiceVisit, LivingAloneVisit, MealRecord

MEASURES = ("aid_payments", "home_service_visits", "living_alone_visits", "meal_records", "civil_events")

_RECORDS_ONLY: ContextVar[bool] = ContextVar("rollups_records_only", default=False)


def in_use(street: str | None = None) -> bool:
    """Whether a query for `street` reads the totals: district-wide only, and not inside from_records()."""
    return not street and not _RECORDS_ONLY.get()


@contextmanager
def from_records():
    """Within the block every query reads the records, never the totals (the record path of the fidelity tests)."""
    token = _RECORDS_ONLY.set(True)
    try:
        yield
    finally:
        _RECORDS_ONLY.reset(token)


def totals(measure: str, start, end, *columns, where=None):
    """SELECT *columns FROM daily_totals for one measure over [start, end] (the caller groups)."""
    t = DailyTotal
    stmt = select(*columns).where(t.measure == measure, t.day >= start, t.day <= end)
    return stmt.where(where) if where is not None else stmt


# --- the check: the totals computed from the records, compared with the table ------------------------------

def _from_records():
    """The rows daily_totals must hold, computed from the records (the same definitions as the triggers)."""
    def grouped(measure, day, sub, k1, k2, v1, v2, *joins):
        stmt = select(literal(measure).label("measure"), day.label("day"), sub.label("subdistrict_code"),
                      k1.label("k1"), k2.label("k2"), func.count().label("n"), func.sum(v1).label("v1"),
                      func.sum(v2).label("v2"))
        for target, on in joins:
            stmt = stmt.join(target, on)
        return stmt.group_by(day, sub, k1, k2)

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


def differences(conn: Connection, limit: int = 20) -> list[tuple]:
    """Rows where daily_totals differs from the records: (measure, day, subdistrict, k1, k2, (n, v1, v2) in the
    table, (n, v1, v2) from the records) — empty when they agree."""
    def norm(r):
        return (r[0], str(r[1]), r[2], r[3], r[4]), (int(r[5]), int(r[6] or 0), int(r[7] or 0))

    expected = dict(norm(r) for r in conn.execute(union_all(*_from_records())))
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
    """Recompute every row from the records (a repair; the triggers keep them right on their own)."""
    conn.execute(DailyTotal.__table__.delete())
    cols = ["measure", "day", "subdistrict_code", "k1", "k2", "n", "v1", "v2"]
    for stmt in _from_records():
        conn.execute(DailyTotal.__table__.insert().from_select(cols, stmt))


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


__all__ = ["MEASURES", "bulk_load", "differences", "from_records", "in_use", "rebuild", "totals"]
