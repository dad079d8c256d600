"""Facts about the database itself: the span of dates that have records, and what is in it."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import AidPayment, Base, HomeServiceVisit, LivingAloneVisit, MealRecord, Meta
from data.queries.common import frame
from data.db import rollups
from data.db.models import DailyTotal

_DATED = [(MealRecord, MealRecord.served_on), (AidPayment, AidPayment.paid_on),
          (HomeServiceVisit, HomeServiceVisit.visited_on), (LivingAloneVisit, LivingAloneVisit.visited_on)]
_MEASURES = ["meal_records", "aid_payments", "home_service_visits", "living_alone_visits"]  # the same, in daily_totals


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@query(scope="public")
def record_date_range(engine: Engine) -> tuple[date, date] | None:
    """First and last day that has any ledger record (meals, payments, visits); None when empty."""
    firsts, lasts = [], []
    if rollups.in_use():  # one statement: per measure, the first and last day of the per-day totals (index ends)
        t = DailyTotal
        ends = [select(f(t.day)).where(t.measure == m).scalar_subquery() for m in _MEASURES for f in (func.min, func.max)]
        with engine.connect() as conn:
            got = conn.execute(select(*ends)).one()
        pairs = list(zip(got[::2], got[1::2]))
    else:
        with engine.connect() as conn:
            pairs = [conn.execute(select(func.min(col), func.max(col))).one() for _model, col in _DATED]
    for lo, hi in pairs:
        if lo is not None:
            firsts.append(_as_date(lo))
            lasts.append(_as_date(hi))
    if not firsts:
        return None
    return min(firsts), max(lasts)


@query(scope="district")
def table_counts(engine: Engine) -> pd.DataFrame:
    """Rows per table (for `python -m data status`)."""
    insp = inspect(engine)
    present = set(insp.get_table_names()) | set(insp.get_view_names())  # district_daily_totals: a view on SQLite
    rows = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in present:
                rows.append({"table": table.name, "rows": conn.execute(select(func.count()).select_from(table)).scalar()})
    return pd.DataFrame(rows, columns=["table", "rows"])


@query(scope="public")
def meta_values(engine: Engine) -> dict[str, str]:
    df = frame(engine, select(Meta.key, Meta.value))
    return dict(zip(df["key"], df["value"]))
