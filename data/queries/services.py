"""居家上门服务与独居老人巡访: home-service visits, the living-alone roster and its visits."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Engine

from data.security.access import PERSONAL_ROLES, query
from data.db.models import HOME_SERVICE_TYPES, Community, HomeServiceVisit, LivingAloneElder, LivingAloneVisit, Subdistrict
from data.domain.period import Period, month
from data.queries.common import as_date_series, frame, month_start, scalar, street_filter
from data.db import rollups
from data.db.models import DailyTotal

VISITS_PER_MONTH_RULE = 2  # 各街道每月不低于两次


def _in(column, period: Period):
    return and_(column >= period.start, column <= period.end)


# --- home-service visits ---------------------------------------------------------------------

@query(scope="street")
def home_service_visits(engine: Engine, period: Period, street: str | None = None) -> int:
    """居家上门服务人次（F20）：visited_on 在统计期内的居家上门服务记录数（三类服务合计）。"""
    if rollups.in_use(street):
        stmt = rollups.district(rollups.totals("home_service_visits", period.start, period.end,
                                               func.sum(DailyTotal.n)))
        return int(scalar(engine, stmt) or 0)
    stmt = select(func.count()).select_from(HomeServiceVisit).where(
        _in(HomeServiceVisit.visited_on, period), street_filter(HomeServiceVisit.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def home_service_visits_by_type(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """居家上门服务人次（按服务类型）: every type listed, zero when none."""
    if rollups.in_use(street):
        stmt = rollups.district(rollups.totals("home_service_visits", period.start, period.end, DailyTotal.k1,
                                               func.sum(DailyTotal.n)).group_by(DailyTotal.k1))
    else:
        stmt = (select(HomeServiceVisit.service_type, func.count().label("visits"))
                .where(_in(HomeServiceVisit.visited_on, period),
                       street_filter(HomeServiceVisit.subdistrict_code, street))
                .group_by(HomeServiceVisit.service_type))
    got = dict(frame(engine, stmt).itertuples(index=False, name=None))
    types = list(HOME_SERVICE_TYPES) + sorted(set(got) - set(HOME_SERVICE_TYPES))
    return pd.DataFrame({"service_type": types, "type_name": [HOME_SERVICE_TYPES.get(t, t) for t in types],
                         "visits": [int(got.get(t, 0)) for t in types]})


@query(scope="street")
def home_service_visits_by_subdistrict(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """居家上门服务人次（按街道）: every subdistrict listed, zero when none."""
    if rollups.in_use(street):
        counts = rollups.totals("home_service_visits", period.start, period.end, DailyTotal.subdistrict_code,
                                func.sum(DailyTotal.n).label("visits")).group_by(DailyTotal.subdistrict_code).subquery()
    else:
        counts = (select(HomeServiceVisit.subdistrict_code, func.count().label("visits"))
                  .where(_in(HomeServiceVisit.visited_on, period)).group_by(HomeServiceVisit.subdistrict_code)
                  .subquery())
    stmt = (select(Subdistrict.code.label("subdistrict_code"), Subdistrict.name.label("subdistrict_name"),
                   func.coalesce(counts.c.visits, 0).label("visits"))
            .outerjoin(counts, counts.c.subdistrict_code == Subdistrict.code)
            .where(street_filter(Subdistrict.code, street)).order_by(Subdistrict.code))
    return frame(engine, stmt)


# --- the living-alone roster ---------------------------------------------------------------------

def on_roster(on: date):
    """在册: enrolled on or before the day and not left by then (left_on is the first day off the roster)."""
    return and_(LivingAloneElder.enrolled_on <= on,
                or_(LivingAloneElder.left_on.is_(None), LivingAloneElder.left_on > on))


@query(scope="street")
def living_alone_roster_count(engine: Engine, on: date, street: str | None = None) -> int:
    """独居老人巡访名册人数（F21）：当日在册（enrolled_on ≤ 当日且 left_on 为空或晚于当日）的独居老人数。"""
    stmt = select(func.count()).select_from(LivingAloneElder).where(
        on_roster(on), street_filter(LivingAloneElder.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def living_alone_visits(engine: Engine, period: Period, street: str | None = None) -> int:
    """巡访、探访独居老人人次（F23）：visited_on 在统计期内的巡访、探访记录数。"""
    if rollups.in_use(street):
        stmt = rollups.district(rollups.totals("living_alone_visits", period.start, period.end,
                                               func.sum(DailyTotal.n)))
        return int(scalar(engine, stmt) or 0)
    stmt = select(func.count()).select_from(LivingAloneVisit).where(
        _in(LivingAloneVisit.visited_on, period), street_filter(LivingAloneVisit.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def living_alone_visits_by_month(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """独居老人巡访（按月，F22）：各月巡访人次、月末在册人数及人均巡访次数。"""
    if rollups.in_use(street):
        mon = month_start(DailyTotal.day)
        df = frame(engine, rollups.district(rollups.totals("living_alone_visits", period.start, period.end,
                                                           mon.label("month"), func.sum(DailyTotal.n).label("visits"))
                                            .group_by(mon).order_by(mon)))
    else:
        mon = month_start(LivingAloneVisit.visited_on)
        df = frame(engine, select(mon.label("month"), func.count().label("visits"))
                   .where(_in(LivingAloneVisit.visited_on, period),
                          street_filter(LivingAloneVisit.subdistrict_code, street))
                   .group_by(mon).order_by(mon))
    got = dict(zip(as_date_series(df["month"]), df["visits"])) if not df.empty else {}
    rows = []
    for first in period.months():
        end = min(month(first.year, first.month).end, period.end)
        roster = living_alone_roster_count(engine, end, street)
        visits = int(got.get(first, 0))
        rows.append({"month": first, "visits": visits, "roster": roster,
                     "visits_per_elder": visits / roster if roster else 0.0})
    return pd.DataFrame(rows, columns=["month", "visits", "roster", "visits_per_elder"])


@query(scope="street", roles=PERSONAL_ROLES, personal={"name": "name", "id_number": "id_number", "phone": "phone", "address": "address"})
def living_alone_visit_compliance(engine: Engine, month_period: Period, street: str | None = None,
                                  minimum: int = VISITS_PER_MONTH_RULE) -> pd.DataFrame:
    """独居老人巡访达标（F22）：期末在册的每位独居老人在该月（统计期）内的巡访次数，及是否不少于每月两次。"""
    visits = select(LivingAloneVisit.elder_id, func.count().label("visits")).where(
        _in(LivingAloneVisit.visited_on, month_period))
    if street:  # only the visits of this subdistrict's elders, wherever the visit was recorded
        visits = visits.where(LivingAloneVisit.elder_id.in_(
            select(LivingAloneElder.id).where(street_filter(LivingAloneElder.subdistrict_code, street))))
    visits = visits.group_by(LivingAloneVisit.elder_id).subquery()
    stmt = (select(LivingAloneElder.id.label("elder_id"), LivingAloneElder.name, LivingAloneElder.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), LivingAloneElder.community_code,
                   Community.name.label("community_name"), func.coalesce(visits.c.visits, 0).label("visits"))
            .join(Subdistrict, Subdistrict.code == LivingAloneElder.subdistrict_code)
            .join(Community, Community.code == LivingAloneElder.community_code)
            .outerjoin(visits, visits.c.elder_id == LivingAloneElder.id)
            .where(on_roster(month_period.end), street_filter(LivingAloneElder.subdistrict_code, street))
            .order_by(LivingAloneElder.subdistrict_code, LivingAloneElder.community_code, LivingAloneElder.id))
    df = frame(engine, stmt)
    cols = ["elder_id", "name", "subdistrict_code", "subdistrict_name", "community_code", "community_name", "visits",
            "compliant"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["visits"] = df["visits"].astype(int)
    df["compliant"] = df["visits"] >= minimum
    return df[cols]


@query(scope="street")
def visit_compliance_by_subdistrict(engine: Engine, month_period: Period, street: str | None = None,
                                    minimum: int = VISITS_PER_MONTH_RULE) -> pd.DataFrame:
    """独居老人巡访达标（按街道）: living_alone_visit_compliance counted per subdistrict in SQL — subdistrict_code,
    subdistrict_name, roster (its rows) and compliant (those visited at least `minimum` times); subdistricts with a
    roster only, in code order. Counts only, no person."""
    visits = select(LivingAloneVisit.elder_id, func.count().label("visits")).where(
        _in(LivingAloneVisit.visited_on, month_period))
    if street:  # only the visits of this subdistrict's elders, wherever the visit was recorded
        visits = visits.where(LivingAloneVisit.elder_id.in_(
            select(LivingAloneElder.id).where(street_filter(LivingAloneElder.subdistrict_code, street))))
    visits = visits.group_by(LivingAloneVisit.elder_id).subquery()
    compliant = func.sum(case((func.coalesce(visits.c.visits, 0) >= minimum, 1), else_=0))
    stmt = (select(LivingAloneElder.subdistrict_code, Subdistrict.name.label("subdistrict_name"),
                   func.count().label("roster"), compliant.label("compliant"))
            .join(Subdistrict, Subdistrict.code == LivingAloneElder.subdistrict_code)
            .join(Community, Community.code == LivingAloneElder.community_code)
            .outerjoin(visits, visits.c.elder_id == LivingAloneElder.id)
            .where(on_roster(month_period.end), street_filter(LivingAloneElder.subdistrict_code, street))
            .group_by(LivingAloneElder.subdistrict_code, Subdistrict.name).order_by(LivingAloneElder.subdistrict_code))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["subdistrict_code", "subdistrict_name", "roster", "compliant"])
    df["roster"] = df["roster"].astype(int)
    df["compliant"] = df["compliant"].astype(int)
    return df
