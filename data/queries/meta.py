"""Facts about the database itself: the span of dates that have records, and what is in it."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import AidPayment, Base, HomeServiceVisit, LivingAloneVisit, MealRecord, Meta
from data.queries.common import frame

_DATED = [(MealRecord, MealRecord.served_on), (AidPayment, AidPayment.paid_on),
          (HomeServiceVisit, HomeServiceVisit.visited_on), (LivingAloneVisit, LivingAloneVisit.visited_on)]


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@query(scope="public")
def record_date_range(engine: Engine) -> tuple[date, date] | None:
    """First and last day that has any ledger record (meals, payments, visits); None when empty."""
    firsts, lasts = [], []
    with engine.connect() as conn:
        for _model, col in _DATED:
            lo, hi = conn.execute(select(func.min(col), func.max(col))).one()
            if lo is not None:
                firsts.append(_as_date(lo))
                lasts.append(_as_date(hi))
    if not firsts:
        return None
    return min(firsts), max(lasts)


@query(scope="district")
def table_counts(engine: Engine) -> pd.DataFrame:
    """Rows per table (for `python -m data status`)."""
    present = set(inspect(engine).get_table_names())
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
