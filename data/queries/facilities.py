"""养老服务设施与助餐: facility layout as on a day, meal points, meal-service coverage, meals served."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import and_, case, distinct, exists, func, literal, or_, select, true
from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import (FACILITY_KINDS, FACILITY_STATUSES, Community, Facility, MealPointCommunity, MealRecord,
                         Subdistrict)
from data.domain.period import Period
from data.queries.common import as_date_series, frame, month_start, scalar, street_filter
from data.db import rollups
from data.db.models import DailyTotal

FACILITY_COLUMNS = ["id", "code", "name", "kind", "kind_name", "subdistrict_code", "subdistrict_name", "community_code",
                    "community_name", "address", "operator", "capacity", "lon", "lat", "public", "plan_year",
                    "key_project", "reserve_project", "showcase", "offers_delivery", "safety_supervised", "planned_on",
                    "construction_started_on", "opened_on", "closed_on", "vacant_room_id", "status", "status_name"]
_BOOL_COLUMNS = ["public", "key_project", "reserve_project", "showcase", "offers_delivery", "safety_supervised"]


# --- building blocks ------------------------------------------------------------------

def operating_on(on: date, model=Facility):
    """运营中: opened on or before the day and not closed by then (closed_on is the first day closed)."""
    return and_(model.opened_on.is_not(None), model.opened_on <= on,
                or_(model.closed_on.is_(None), model.closed_on > on))


def status_on(on: date):
    """The status as on a day: closed / operating / building / planned (planned when no date applies yet)."""
    return case((Facility.closed_on <= on, literal("closed")),
                (Facility.opened_on <= on, literal("operating")),
                (Facility.construction_started_on <= on, literal("building")),
                else_=literal("planned"))


def known_on(on: date):
    """A facility exists in the records on a day once it is planned (or, undated, once built or always)."""
    first = func.coalesce(Facility.planned_on, Facility.construction_started_on, Facility.opened_on)
    return or_(first.is_(None), first <= on)


def _kinds_filter(kinds):
    return true() if not kinds else Facility.kind.in_(list(kinds))


def _facility_frame(engine: Engine, on: date, where) -> pd.DataFrame:
    stmt = (select(Facility.id, Facility.code, Facility.name, Facility.kind, Facility.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), Facility.community_code,
                   Community.name.label("community_name"), Facility.address, Facility.operator, Facility.capacity,
                   Facility.lon, Facility.lat, Facility.public, Facility.plan_year, Facility.key_project,
                   Facility.reserve_project, Facility.showcase, Facility.offers_delivery, Facility.safety_supervised,
                   Facility.planned_on, Facility.construction_started_on, Facility.opened_on, Facility.closed_on,
                   Facility.vacant_room_id, status_on(on).label("status"))
            .join(Subdistrict, Subdistrict.code == Facility.subdistrict_code)
            .outerjoin(Community, Community.code == Facility.community_code)
            .where(where).order_by(Facility.kind, Facility.code))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=FACILITY_COLUMNS)
    for c in _BOOL_COLUMNS:
        df[c] = df[c].astype(bool)
    df["kind_name"] = df["kind"].map(FACILITY_KINDS).fillna(df["kind"])
    df["status_name"] = df["status"].map(FACILITY_STATUSES)
    return df[FACILITY_COLUMNS]


# --- facilities -------------------------------------------------------------------------

@query(scope="street")
def facilities_on(engine: Engine, on: date, street: str | None = None, kinds=None) -> pd.DataFrame:
    """设施布局（截至某日）: every facility already in the records on that day, with its status then."""
    return _facility_frame(engine, on, and_(known_on(on), street_filter(Facility.subdistrict_code, street),
                                            _kinds_filter(kinds)))


@query(scope="street")
def facilities_by_plan_year(engine: Engine, plan_year: int, on: date, street: str | None = None, kinds=None,
                            key_only: bool = False) -> pd.DataFrame:
    """规划年度设施（F06）：plan_year 等于该年度的设施（可限类型、仅重点任务），附当日状态。"""
    where = and_(Facility.plan_year == plan_year, street_filter(Facility.subdistrict_code, street),
                 _kinds_filter(kinds))
    if key_only:
        where = and_(where, Facility.key_project.is_(True))
    return _facility_frame(engine, on, where)


@query(scope="street")
def key_facilities(engine: Engine, plan_year: int, on: date, street: str | None = None) -> pd.DataFrame:
    """重点建设任务（F01/F02）：key_project 为真且 plan_year 等于该年度的设施，附当日状态。"""
    return facilities_by_plan_year(engine, plan_year, on, street, key_only=True)


@query(scope="street")
def reserve_projects(engine: Engine, on: date, street: str | None = None, kinds=None,
                     public_only: bool = False) -> pd.DataFrame:
    """储备项目（F05）：reserve_project 为真且当日尚未开业（opened_on 为空或晚于当日）的设施。"""
    where = and_(Facility.reserve_project.is_(True),
                 or_(Facility.opened_on.is_(None), Facility.opened_on > on),
                 street_filter(Facility.subdistrict_code, street), _kinds_filter(kinds))
    if public_only:
        where = and_(where, Facility.public.is_(True))
    return _facility_frame(engine, on, where)


@query(scope="street")
def safety_supervised_institutions(engine: Engine, on: date, street: str | None = None) -> pd.DataFrame:
    """安全监管养老机构（F03）：safety_supervised 为真且当日运营中的设施。"""
    return _facility_frame(engine, on, and_(Facility.safety_supervised.is_(True), operating_on(on),
                                            street_filter(Facility.subdistrict_code, street)))


# --- meal points and coverage ---------------------------------------------------------------

@query(scope="street")
def meal_points_operating(engine: Engine, on: date, street: str | None = None) -> int:
    """已建成助餐点（F10、F12 进度）：社区助餐点中当日运营中（opened_on ≤ 当日且 closed_on 为空或晚于当日）的个数。"""
    stmt = select(func.count()).select_from(Facility).where(
        Facility.kind == "meal_point", operating_on(on), street_filter(Facility.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def delivery_points_operating(engine: Engine, on: date, street: str | None = None) -> int:
    """“幸福小蜜蜂”送餐点（F14）：当日运营中且 offers_delivery 为真的助餐点个数。"""
    stmt = select(func.count()).select_from(Facility).where(
        Facility.kind == "meal_point", Facility.offers_delivery.is_(True), operating_on(on),
        street_filter(Facility.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def showcase_meal_points(engine: Engine, on: date, street: str | None = None) -> pd.DataFrame:
    """参观示范点（F15）：showcase 为真且当日运营中的助餐点。"""
    return _facility_frame(engine, on, and_(Facility.kind == "meal_point", Facility.showcase.is_(True),
                                            operating_on(on), street_filter(Facility.subdistrict_code, street)))


def _serving_counts(on: date, street: str | None = None):
    """Per community (of `street` when given): how many operating meal points have it in their registered service
    area — whichever subdistrict the meal point is in."""
    stmt = (select(MealPointCommunity.community_code.label("community_code"),
                   func.count(distinct(MealPointCommunity.facility_id)).label("meal_points"))
            .join(Facility, Facility.id == MealPointCommunity.facility_id)
            .where(Facility.kind == "meal_point", operating_on(on)))
    if street:
        stmt = stmt.where(MealPointCommunity.community_code.in_(
            select(Community.code).where(street_filter(Community.subdistrict_code, street))))
    return stmt.group_by(MealPointCommunity.community_code).subquery()


@query(scope="street")
def community_meal_coverage(engine: Engine, on: date, street: str | None = None) -> pd.DataFrame:
    """社区助餐覆盖（F11）：各社区（村）是否在至少一个当日运营中助餐点的登记服务范围内。"""
    serving = _serving_counts(on, street)
    stmt = (select(Community.code, Community.name, Community.short_name, Community.kind, Community.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), Community.lon, Community.lat, Community.pop_60,
                   Community.pop_80, Community.living_alone,
                   func.coalesce(serving.c.meal_points, 0).label("meal_points"))
            .join(Subdistrict, Subdistrict.code == Community.subdistrict_code)
            .outerjoin(serving, serving.c.community_code == Community.code)
            .where(street_filter(Community.subdistrict_code, street))
            .order_by(Community.code))
    df = frame(engine, stmt)
    cols = ["code", "name", "short_name", "kind", "subdistrict_code", "subdistrict_name", "lon", "lat", "pop_60",
            "pop_80", "living_alone", "meal_points", "covered"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["meal_points"] = df["meal_points"].astype(int)
    df["covered"] = df["meal_points"] > 0
    return df[cols]


@query(scope="street")
def meal_coverage_counts(engine: Engine, on: date, street: str | None = None) -> tuple[int, int]:
    """社区助餐覆盖（F11）：(被当日运营中助餐点服务范围覆盖的社区数, 社区总数)，在数据库中计数 — the covered rows and
    all rows of community_meal_coverage, without reading every community (a city has thousands)."""
    serving = _serving_counts(on, street)
    stmt = (select(func.count(serving.c.community_code), func.count())
            .select_from(Community).outerjoin(serving, serving.c.community_code == Community.code)
            .where(street_filter(Community.subdistrict_code, street)))
    with engine.connect() as conn:
        covered, total = conn.execute(stmt).one()
    return int(covered or 0), int(total or 0)


@query(scope="street")
def meal_coverage_rate(engine: Engine, on: date, street: str | None = None) -> float:
    """社区助餐服务覆盖率（F11、F13）= 被当日运营中助餐点服务范围覆盖的社区数 ÷ 社区总数（0–1，无社区时为 0）。"""
    covered, total = meal_coverage_counts(engine, on, street)
    return float(covered / total) if total else 0.0


def _rate(engine: Engine, stmt) -> float:
    """covered ÷ all from one row (all, covered) counted in the database — the same rate the community table gives,
    without reading every community (a city has thousands)."""
    with engine.connect() as conn:
        total, covered = conn.execute(stmt).one()
    return float(covered / total) if total else 0.0


@query(scope="street")
def coverage_by_subdistrict(engine: Engine, on: date, street: str | None = None) -> pd.DataFrame:
    """分街道助餐覆盖: communities, covered communities, coverage rate and operating meal points per subdistrict."""
    cov = community_meal_coverage(engine, on, street)
    points = frame(engine, select(Facility.subdistrict_code, func.count().label("meal_points"))
                   .where(Facility.kind == "meal_point", operating_on(on),
                          street_filter(Facility.subdistrict_code, street))
                   .group_by(Facility.subdistrict_code))
    subs = frame(engine, select(Subdistrict.code.label("subdistrict_code"), Subdistrict.name.label("subdistrict_name"))
                 .where(street_filter(Subdistrict.code, street)).order_by(Subdistrict.code))
    cols = ["subdistrict_code", "subdistrict_name", "communities", "covered", "coverage_rate", "meal_points"]
    if subs.empty:
        return pd.DataFrame(columns=cols)
    if cov.empty:
        agg = pd.DataFrame({"subdistrict_code": pd.Series(dtype=object), "communities": pd.Series(dtype=int),
                            "covered": pd.Series(dtype=int)})
    else:
        agg = (cov.groupby("subdistrict_code")
               .agg(communities=("code", "size"), covered=("covered", "sum")).reset_index())
    out = subs.merge(agg, on="subdistrict_code", how="left")
    out = out.merge(points if not points.empty else pd.DataFrame(columns=["subdistrict_code", "meal_points"]),
                    on="subdistrict_code", how="left")
    for c in ("communities", "covered", "meal_points"):
        out[c] = out[c].fillna(0).astype(int)
    out["coverage_rate"] = [c / n if n else 0.0 for c, n in zip(out["covered"], out["communities"])]
    return out[cols]


def _covered_communities(on: date, street: str | None):
    """The codes of the communities with an operating facility located in them or serving them (of `street`)."""
    located = (select(Facility.community_code.label("community_code")).where(operating_on(on),
                                                                           Facility.community_code.is_not(None)))
    served = (select(MealPointCommunity.community_code.label("community_code"))
              .join(Facility, Facility.id == MealPointCommunity.facility_id).where(operating_on(on)))
    if street:  # only this subdistrict's communities, whichever subdistrict the facility is in
        mine = select(Community.code).where(street_filter(Community.subdistrict_code, street))
        located = located.where(Facility.community_code.in_(mine))
        served = served.where(MealPointCommunity.community_code.in_(mine))
    return located.union(served).subquery()


@query(scope="street")
def facility_coverage(engine: Engine, on: date, street: str | None = None) -> pd.DataFrame:
    """社区养老服务设施覆盖: per community, whether an operating facility of any kind is located in it or serves it."""
    covered = _covered_communities(on, street)
    stmt = (select(Community.code, Community.name, Community.subdistrict_code,
                   covered.c.community_code.is_not(None).label("covered"))
            .outerjoin(covered, covered.c.community_code == Community.code)
            .where(street_filter(Community.subdistrict_code, street)).order_by(Community.code))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["code", "name", "subdistrict_code", "covered"])
    df["covered"] = df["covered"].astype(bool)
    return df


@query(scope="street")
def facility_coverage_rate(engine: Engine, on: date, street: str | None = None) -> float:
    """社区养老服务设施覆盖率（F04）= 有当日运营中设施（位于本社区或助餐服务范围覆盖本社区）的社区数 ÷ 社区总数。"""
    covered = _covered_communities(on, street)
    stmt = (select(func.count(), func.count(covered.c.community_code))
            .select_from(Community).outerjoin(covered, covered.c.community_code == Community.code)
            .where(street_filter(Community.subdistrict_code, street)))
    return _rate(engine, stmt)


# --- meals ---------------------------------------------------------------------------------

@query(scope="street")
def meals_total(engine: Engine, period: Period, street: str | None = None) -> int:
    """助餐份数（F14 口径）：served_on 在统计期内的堂食份数与送餐份数之和 — the one definition the overview,
    the weekly review and the report share."""
    if rollups.in_use(street):
        stmt = rollups.district(rollups.totals("meal_records", period.start, period.end,
                                               func.coalesce(func.sum(DailyTotal.v1 + DailyTotal.v2), 0)))
        return int(scalar(engine, stmt) or 0)
    stmt = (select(func.coalesce(func.sum(MealRecord.dine_in + MealRecord.delivered), 0))
            .join(Facility, Facility.id == MealRecord.facility_id)
            .where(MealRecord.served_on >= period.start, MealRecord.served_on <= period.end,
                   street_filter(Facility.subdistrict_code, street)))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def meals_served(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """助餐人次（按月，F14）：served_on 在统计期内的助餐记录，堂食份数与送餐份数之和。"""
    if rollups.in_use(street):
        month = month_start(DailyTotal.day)
        stmt = rollups.district(rollups.totals("meal_records", period.start, period.end, month.label("month"),
                                               func.sum(DailyTotal.v1).label("dine_in"),
                                               func.sum(DailyTotal.v2).label("delivered")
                                               ).group_by(month).order_by(month))
    else:
        month = month_start(MealRecord.served_on)
        stmt = (select(month.label("month"), func.sum(MealRecord.dine_in).label("dine_in"),
                       func.sum(MealRecord.delivered).label("delivered"))
                .join(Facility, Facility.id == MealRecord.facility_id)
                .where(MealRecord.served_on >= period.start, MealRecord.served_on <= period.end,
                       street_filter(Facility.subdistrict_code, street))
                .group_by(month).order_by(month))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["month", "dine_in", "delivered"])
    df["month"] = as_date_series(df["month"])
    df["dine_in"] = df["dine_in"].astype(int)
    df["delivered"] = df["delivered"].astype(int)
    return df


@query(scope="street")
def meals_by_point(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """各助餐点助餐人次: per meal point in the period — days with records, dine-in, delivered, last record day."""
    stmt = (select(Facility.id, Facility.code, Facility.name, Facility.subdistrict_code,
                   func.count(MealRecord.id).label("days"),
                   func.coalesce(func.sum(MealRecord.dine_in), 0).label("dine_in"),
                   func.coalesce(func.sum(MealRecord.delivered), 0).label("delivered"),
                   func.max(MealRecord.served_on).label("last_served_on"))
            .join(MealRecord, MealRecord.facility_id == Facility.id)
            .where(MealRecord.served_on >= period.start, MealRecord.served_on <= period.end,
                   street_filter(Facility.subdistrict_code, street))
            .group_by(Facility.id, Facility.code, Facility.name, Facility.subdistrict_code)
            .order_by(Facility.code))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["id", "code", "name", "subdistrict_code", "days", "dine_in", "delivered",
                                     "last_served_on"])
    df["last_served_on"] = as_date_series(df["last_served_on"])
    return df


@query(scope="street")
def meal_points_without_records(engine: Engine, on: date, street: str | None = None,
                                days: int = 10) -> pd.DataFrame:
    """助餐数据断报: meal points operating on the day with no meal record in the last `days` days up to it."""
    since = on - timedelta(days=days - 1)
    # Per meal point, through the (facility_id, served_on) unique index — not an aggregate over every record.
    recent = exists().where(MealRecord.facility_id == Facility.id, MealRecord.served_on >= since,
                            MealRecord.served_on <= on)
    last_served_on = (select(func.max(MealRecord.served_on))
                      .where(MealRecord.facility_id == Facility.id, MealRecord.served_on <= on)
                      .correlate(Facility).scalar_subquery())
    stmt = (select(Facility.id, Facility.code, Facility.name, Facility.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), Facility.opened_on,
                   last_served_on.label("last_served_on"))
            .join(Subdistrict, Subdistrict.code == Facility.subdistrict_code)
            .where(Facility.kind == "meal_point", operating_on(on), ~recent,
                   Facility.opened_on <= since, street_filter(Facility.subdistrict_code, street))
            .order_by(Facility.code))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["id", "code", "name", "subdistrict_code", "subdistrict_name", "opened_on",
                                     "last_served_on"])
    df["last_served_on"] = as_date_series(df["last_served_on"])
    return df


@query(scope="street")
def meal_points_opened(engine: Engine, period: Period, street: str | None = None) -> int:
    """新开助餐点：开业日期在统计期内的社区助餐点数。"""
    stmt = select(func.count()).select_from(Facility).where(
        Facility.kind == "meal_point", Facility.opened_on.is_not(None), Facility.opened_on >= period.start,
        Facility.opened_on <= period.end, street_filter(Facility.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)
