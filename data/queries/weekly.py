"""周度研判: the director's weekly review — this week vs the previous week, targets at a glance, things needing action."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import and_, func, literal, select, union
from sqlalchemy.engine import Engine

from data.security.access import PERSONAL_ROLES, query
from data.db.models import (AidPayment, Facility, Finding, HomeServiceVisit, LivingAloneVisit, MealRecord, Subdistrict)
from data.domain.period import Period, custom, latest_complete
from data.queries import facilities, findings, overview, services
from data.queries.common import as_date_series, frame, street_filter
from data.db import rollups
from data.db.models import DailyTotal
from data.domain.targets import pace

SILENT_MEAL_DAYS = 7  # 助餐点连续 7 天无助餐记录

# the weekly cards, in order: one registered definition each (data.domain.headlines), shared with 总览
HEADLINE_KEYS = ["meals", "home_visits", "living_alone_visits", "aid_fen", "findings_found", "findings_closed",
                 "meal_points_opened", "findings_overdue"]


# --- picking the week --------------------------------------------------------------------------------

def default_week(last_data_day: date, chosen: Period | None = None, today: date | None = None) -> Period:
    """The week to review: the chosen period itself when it is a week, else the latest complete Monday–Sunday
    week with records that ends on or before the chosen period's end (or the last day with records)."""
    if chosen is not None and chosen.kind == "week":
        return chosen
    limit = last_data_day if chosen is None else min(chosen.end, last_data_day)
    return latest_complete("week", limit, today=today)


# --- headline ----------------------------------------------------------------------------------------

def _in(column, period: Period):
    return and_(column >= period.start, column <= period.end)


@query(scope="street")
def weekly_headline(engine: Engine, week: Period, street: str | None = None) -> pd.DataFrame:
    """本周与上周: one row per headline — key, label, unit, value (this week), previous (the week before), change,
    definition, as_of, rise_is_bad (overview._headline_frame). Money stays in fen, rates as shares."""
    return overview._headline_frame(engine, HEADLINE_KEYS, week, street)


@query(scope="street")
def meals_by_day(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """每日助餐份数: meals served (dine-in + delivered) per day of the period, every day listed (0 when none)."""
    if rollups.in_use(street):
        stmt = rollups.district(rollups.totals("meal_records", period.start, period.end, DailyTotal.day.label("day"),
                                               func.sum(DailyTotal.v1 + DailyTotal.v2).label("meals"))
                                .group_by(DailyTotal.day))
    else:
        stmt = (select(MealRecord.served_on.label("day"),
                       func.sum(MealRecord.dine_in + MealRecord.delivered).label("meals"))
                .join(Facility, Facility.id == MealRecord.facility_id)
                .where(_in(MealRecord.served_on, period), street_filter(Facility.subdistrict_code, street))
                .group_by(MealRecord.served_on))
    df = frame(engine, stmt)
    got = dict(zip(as_date_series(df["day"]), df["meals"].astype(int))) if not df.empty else {}
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    return pd.DataFrame({"day": days, "meals": [int(got.get(d, 0)) for d in days]})


# --- targets at a glance ---------------------------------------------------------------------------

TARGET_ORDER = ["meal_points", "meal_coverage", "key_facilities", "care_worker_certified", "facility_coverage"]
TARGET_COLUMNS = ["indicator", "name", "unit", "value", "target", "deadline", "gap", "expected", "pace_done",
                  "pace_needed", "on_track", "met", "status"]


def _key_facilities_built(engine: Engine, plan_year: int, on: date) -> tuple[int, int]:
    df = facilities.key_facilities(engine, plan_year, on)
    return int((df["status"] == "operating").sum()), len(df)


@query(scope="district")
def weekly_targets(engine: Engine, on: date) -> pd.DataFrame:
    """目标一览（全区）: meal points vs 68, coverage vs 65 %, key facilities built vs planned, certified care workers vs
    100 %, facility coverage vs 100 % by 2025 — value on `on`, gap, expected value for a steady pace, pace so far
    and pace needed per month, and the status 已达成 / 进度正常 / 进度滞后 from data.domain.targets.pace."""
    rows = []
    t = overview.targets_progress(engine, on)
    for r in t.itertuples():
        p = pace(r, float(r.current), float(r.baseline_value), on)
        rows.append({"indicator": r.indicator, "name": r.name, "unit": r.unit, "value": float(r.current),
                     "target": float(r.value), "deadline": pd.Timestamp(r.deadline).date(), **_progress_cols(p)})
    # key facilities: built (operating) vs planned for the plan year of the target's deadline
    from data.queries import affairs

    kt = affairs.target(engine, "key_facilities", on)
    year = kt["deadline"].year if kt else on.year
    built, planned = _key_facilities_built(engine, year, on)
    if planned:
        baseline = kt["baseline_date"] if kt else date(year, 1, 1)
        deadline = kt["deadline"] if kt else date(year, 12, 31)
        built_before, _ = _key_facilities_built(engine, year, baseline - timedelta(days=1))
        p = pace({"value": planned, "baseline_date": baseline, "deadline": deadline}, built, built_before, on)
        rows.append({"indicator": "key_facilities", "name": f"{year}年重点养老服务设施建成运营（已建成/计划）",
                     "unit": "个", "value": float(built), "target": float(planned), "deadline": deadline,
                     **_progress_cols(p)})
    df = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    order = {k: i for i, k in enumerate(TARGET_ORDER)}
    df = df[df["indicator"].isin(order)].copy()
    df["_o"] = df["indicator"].map(order)
    return df.sort_values(["_o", "deadline"]).drop(columns="_o").reset_index(drop=True)


def _progress_cols(p) -> dict:
    return {"gap": max(p.gap, 0.0), "expected": p.expected, "pace_done": p.pace_done, "pace_needed": p.pace_needed,
            "on_track": p.on_track, "met": p.met, "status": p.status}


# --- things that need action -------------------------------------------------------------------------

@query(scope="street")
def overdue_findings(engine: Engine, week: Period, street: str | None = None) -> pd.DataFrame:
    """逾期未整改（截至周末）: problems found on or before the week's last day, not rectified by then, deadline passed;
    with days overdue, most overdue first."""
    df = findings.open_findings_on(engine, week.end, street)
    df = df[df["overdue"].astype(bool)].copy()
    df["days_overdue"] = [(week.end - pd.Timestamp(d).date()).days for d in df["deadline"]]
    return df.sort_values(["days_overdue", "code"], ascending=[False, True]).reset_index(drop=True)


def month_to_week_end(week: Period) -> Period:
    """The current month up to the week's last day (the month of the week's last day)."""
    return custom(week.end.replace(day=1), week.end)


@query(scope="street", roles=PERSONAL_ROLES, personal={"name": "name", "id_number": "id_number", "phone": "phone", "address": "address"})
def visits_below_rule(engine: Engine, week: Period, street: str | None = None) -> pd.DataFrame:
    """本月巡访不足两次（截至周末）: living-alone elders on the roster at the week's end visited fewer than twice from
    the first of that month up to the week's end (personal data — mask names at display)."""
    df = services.living_alone_visit_compliance(engine, month_to_week_end(week), street)
    return df[~df["compliant"].astype(bool)].reset_index(drop=True)


@query(scope="street")
def visits_below_rule_by_subdistrict(engine: Engine, week: Period, street: str | None = None) -> pd.DataFrame:
    """本月巡访不足两次（按街道）: per subdistrict, elders on the roster and those visited fewer than twice so far."""
    df = services.visit_compliance_by_subdistrict(engine, month_to_week_end(week), street)
    cols = ["subdistrict_code", "subdistrict_name", "roster", "below"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["below"] = df["roster"] - df["compliant"]
    return df[df["below"] > 0].sort_values(["below", "subdistrict_code"], ascending=[False, True])[cols] \
        .reset_index(drop=True)


@query(scope="street")
def silent_meal_points(engine: Engine, week: Period, street: str | None = None,
                       days: int = SILENT_MEAL_DAYS) -> pd.DataFrame:
    """助餐点 7 天无记录（截至周末）: meal points operating on the week's last day with no meal record in the `days`
    days up to it."""
    return facilities.meal_points_without_records(engine, week.end, street, days=days)


# the ledgers the daily totals hold (data.db.rollups); findings are read from their table
LEDGER_MEASURES = ("meal_records", "home_service_visits", "living_alone_visits", "aid_payments")


def _ledger_records(week: Period, street: str | None):
    """The subdistricts with a record of any ledger kind dated in the week, from the records (one subdistrict's view
    reads only its own records)."""
    return union(
        select(Facility.subdistrict_code.label("code")).join(MealRecord, MealRecord.facility_id == Facility.id)
        .where(_in(MealRecord.served_on, week), street_filter(Facility.subdistrict_code, street)),
        select(HomeServiceVisit.subdistrict_code.label("code"))
        .where(_in(HomeServiceVisit.visited_on, week), street_filter(HomeServiceVisit.subdistrict_code, street)),
        select(LivingAloneVisit.subdistrict_code.label("code"))
        .where(_in(LivingAloneVisit.visited_on, week), street_filter(LivingAloneVisit.subdistrict_code, street)),
        select(AidPayment.subdistrict_code.label("code"))
        .where(_in(AidPayment.paid_on, week), street_filter(AidPayment.subdistrict_code, street)),
        select(Finding.subdistrict_code.label("code"))
        .where(_in(Finding.found_on, week), street_filter(Finding.subdistrict_code, street)),
    )


@query(scope="street")
def silent_ledgers(engine: Engine, week: Period, street: str | None = None) -> pd.DataFrame:
    """台账本周未更新的街道: subdistricts with no record of any ledger kind (meals, home-service visits, living-alone
    visits, aid payments, inspections' findings) dated in the week."""
    if rollups.in_use(street):  # district-wide: the four rolled-up ledgers from the daily totals
        t = DailyTotal
        active = union(
            select(t.subdistrict_code.label("code"))
            .where(t.measure.in_(LEDGER_MEASURES), _in(t.day, week), t.subdistrict_code != ""),
            select(Finding.subdistrict_code.label("code")).where(_in(Finding.found_on, week)),
        ).subquery()
    else:
        active = _ledger_records(week, street).subquery()
    stmt = (select(Subdistrict.code.label("subdistrict_code"), Subdistrict.name.label("subdistrict_name"),
                   literal(week.key).label("week"))
            .where(Subdistrict.code.not_in(select(active.c.code)), street_filter(Subdistrict.code, street))
            .order_by(Subdistrict.code))
    df = frame(engine, stmt)
    return df if not df.empty else pd.DataFrame(columns=["subdistrict_code", "subdistrict_name", "week"])


@query(scope="street", roles=PERSONAL_ROLES, personal={"name": "name", "id_number": "id_number", "phone": "phone", "address": "address"})
def action_lists(engine: Engine, week: Period, street: str | None = None) -> dict[str, pd.DataFrame]:
    """The four action lists of the week (elders' names unmasked — mask at display)."""
    return {"overdue_findings": overdue_findings(engine, week, street),
            "visits_below_rule": visits_below_rule(engine, week, street),
            "silent_meal_points": silent_meal_points(engine, week, street),
            "silent_ledgers": silent_ledgers(engine, week, street)}
