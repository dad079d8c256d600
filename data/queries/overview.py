"""总览: the headline figures of a period beside the previous period, composed from the domain queries."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Engine

from data.security.access import query
from data.domain.period import Period
from data.domain import headlines
from data.queries import affairs, facilities, meta


# the headline cards, in order: one registered definition each (data.domain.headlines), shared with 周度研判
HEADLINE_KEYS = ["meal_points", "meal_coverage", "meals", "home_visits", "living_alone_visits", "aid_fen",
                 "findings_found", "findings_overdue"]


def _headline_frame(engine: Engine, keys: list[str], period: Period, street: str | None) -> pd.DataFrame:
    """One row per headline key: key, label, unit, value, previous (the period before), change, definition, as_of,
    rise_is_bad — values from data.domain.headlines, the one function of each figure."""
    now = headlines.headline_values(engine, period, street, keys)
    before = headlines.headline_values(engine, period.previous(), street, keys)
    # a count over a period before the first day with ledger records is not "0 last time": nothing was recorded yet,
    # so a flow has no previous value and no change (a stock, e.g. meal points operating, is still a state then)
    span = meta.record_date_range(engine)
    unrecorded = span is not None and period.previous().end < span[0]
    rows = []
    for k in keys:
        h = headlines.headline(k)
        prev = None if unrecorded and not h.stock else before[k]
        rows.append({"key": k, "label": h.label, "unit": h.unit, "value": now[k], "previous": prev,
                     "change": None if prev is None else now[k] - prev, "definition": h.definition,
                     "as_of": h.as_of(period), "rise_is_bad": h.rise_is_bad})
    df = pd.DataFrame(rows, columns=["key", "label", "unit", "value", "previous", "change", "definition", "as_of",
                                     "rise_is_bad"])
    for col in ("previous", "change"):  # None stays None beside whole numbers (a float column would make 13 13.0)
        df[col] = pd.Series([r[col] for r in rows], dtype=object)
    return df


@query(scope="street")
def headline(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """总览 headline: one row per figure of HEADLINE_KEYS beside the period before (see _headline_frame)."""
    return _headline_frame(engine, HEADLINE_KEYS, period, street)


# the targets' measurable indicators: each one's value on a day
INDICATORS = {
    "meal_points": lambda engine, on: facilities.meal_points_operating(engine, on),
    "meal_coverage": lambda engine, on: facilities.meal_coverage_rate(engine, on) * 100,
    "facility_coverage": lambda engine, on: facilities.facility_coverage_rate(engine, on) * 100,
    "care_worker_certified": lambda engine, on: affairs.care_worker_certified_rate(engine, on) * 100,
}


@query(scope="district")
def targets_progress(engine: Engine, on) -> pd.DataFrame:
    """Targets that have a measurable indicator, with the value on `on` and at the target's baseline date (the day
    before it). Each indicator is read once per day it is needed: a target reads its own indicator, not all four."""
    t = affairs.targets(engine)
    t = t[t["indicator"].isin(list(INDICATORS))].copy().reset_index(drop=True)
    if t.empty:
        return t.assign(current=[], baseline_value=[])
    values: dict = {}

    def value(indicator: str, day) -> float:
        if (indicator, day) not in values:
            values[indicator, day] = INDICATORS[indicator](engine, day)
        return values[indicator, day]

    t["current"] = [value(i, on) for i in t["indicator"]]
    t["baseline_value"] = [value(i, b - timedelta(days=1))
                           for i, b in zip(t["indicator"], pd.to_datetime(t["baseline_date"]).dt.date)]
    return t
