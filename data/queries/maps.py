"""Queries behind the two map pages: facility cards, meals per meal point, province-scale aggregates."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Date, and_, distinct, func, literal, select, true, union_all
from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import FACILITY_KINDS, FACILITY_STATUSES, Community, Facility, MealPointCommunity, MealRecord, Subdistrict
from data.queries.common import as_date_series, frame, month_start, street_filter
from data.queries.facilities import known_on, operating_on, status_on


def last_complete_month(on: date) -> tuple[date, date]:
    """上月: the latest calendar month that has ended by `on` (the month itself when `on` is its last day)."""
    if on.day == calendar.monthrange(on.year, on.month)[1]:
        end = on
    else:
        end = on.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


@query(scope="facility")
def meal_point_monthly(engine: Engine, facility_id: int, start: date, end: date) -> pd.DataFrame:
    """One meal point's meals month by month: month (first day), dine_in, delivered, meals, days_served."""
    month = month_start(MealRecord.served_on).label("month")
    stmt = (select(month, func.sum(MealRecord.dine_in).label("dine_in"),
                   func.sum(MealRecord.delivered).label("delivered"),
                   func.count().label("days_served"))
            .where(MealRecord.facility_id == facility_id, MealRecord.served_on >= start, MealRecord.served_on <= end)
            .group_by(month).order_by(month))
    df = frame(engine, stmt)
    df["month"] = as_date_series(df["month"]) if len(df) else df["month"]
    for col in ("dine_in", "delivered", "days_served"):
        df[col] = df[col].fillna(0).astype(int)
    df["meals"] = df["dine_in"] + df["delivered"]
    return df


@query(scope="facility")
def facility_card(engine: Engine, facility_id: int, on: date) -> dict | None:
    """设施卡片: name, kind, status on the day, operator, capacity, dates, address, subdistrict, community and,
    for a meal point, the meals served in the last complete month by `on` (last_month, meals_*,
    served_last_month: whether it had opened by the end of that month)."""
    stmt = (select(Facility.id, Facility.code, Facility.name, Facility.kind, Facility.operator, Facility.capacity,
                   Facility.address, Facility.opened_on, Facility.closed_on, Facility.planned_on,
                   Facility.construction_started_on, Facility.offers_delivery, Facility.lon, Facility.lat,
                   Facility.subdistrict_code, Subdistrict.name.label("subdistrict_name"),
                   Community.name.label("community_name"), status_on(on).label("status"))
            .join(Subdistrict, Subdistrict.code == Facility.subdistrict_code)
            .outerjoin(Community, Community.code == Facility.community_code)
            .where(Facility.id == facility_id))
    df = frame(engine, stmt)
    if df.empty:
        return None
    card = df.iloc[0].to_dict()
    card["kind_name"] = FACILITY_KINDS.get(card["kind"], card["kind"])
    card["status_name"] = FACILITY_STATUSES.get(card["status"], card["status"])
    if card["kind"] == "meal_point":
        first, last = last_complete_month(on)
        with engine.connect() as conn:
            dine_in, delivered = conn.execute(
                select(func.coalesce(func.sum(MealRecord.dine_in), 0), func.coalesce(func.sum(MealRecord.delivered), 0))
                .where(MealRecord.facility_id == facility_id, MealRecord.served_on >= first,
                       MealRecord.served_on <= last)).one()
        opened = card["opened_on"]
        card.update(last_month=first, meals_dine_in=int(dine_in), meals_delivered=int(delivered),
                    meals=int(dine_in) + int(delivered),
                    served_last_month=opened is not None and opened <= last)
    return card


@query(scope="street")
def subdistrict_points(engine: Engine, street: str | None = None) -> pd.DataFrame:
    """Label point of each subdistrict (where an aggregate bubble is drawn): code, name, lon, lat."""
    centre = (select(Community.subdistrict_code, func.avg(Community.lon).label("c_lon"),
                     func.avg(Community.lat).label("c_lat"))
              .group_by(Community.subdistrict_code).subquery())
    stmt = (select(Subdistrict.code, Subdistrict.name,
                   func.coalesce(Subdistrict.label_lon, centre.c.c_lon).label("lon"),
                   func.coalesce(Subdistrict.label_lat, centre.c.c_lat).label("lat"))
            .outerjoin(centre, centre.c.subdistrict_code == Subdistrict.code)
            .where(street_filter(Subdistrict.code, street)).order_by(Subdistrict.code))
    return frame(engine, stmt)


@query(scope="street")
def facility_counts_by_subdistrict(engine: Engine, on: date, street: str | None = None, kinds=None,
                                   statuses=None) -> pd.DataFrame:
    """设施数量（按街道、类型、状态）as on a day, counted in SQL — what a province-scale map draws instead of points.

    Columns: code, name, lon, lat (the subdistrict's label point), kind, status, n. Status by the same rule
    as facilities_on (data.queries.facilities.status_on).
    """
    status = status_on(on).label("status")
    per = (select(Facility.subdistrict_code, Facility.kind, status, func.count().label("n"))
           .where(known_on(on), street_filter(Facility.subdistrict_code, street),
                  Facility.kind.in_(list(kinds)) if kinds else true())
           .group_by(Facility.subdistrict_code, Facility.kind, status).subquery())
    points = subdistrict_points(engine, street)
    df = frame(engine, select(per.c.subdistrict_code.label("code"), per.c.kind, per.c.status, per.c.n)
               .where(per.c.status.in_(list(statuses)) if statuses else true()))
    cols = ["code", "name", "lon", "lat", "kind", "status", "n"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["n"] = df["n"].astype(int)
    return points.merge(df, on="code", how="inner")[cols].sort_values(["code", "kind", "status"]).reset_index(drop=True)


@query(scope="street")
def meal_progress_by_month(engine: Engine, ends: tuple[date, ...], street: str | None = None) -> pd.DataFrame:
    """逐月进度: meal points operating and the community coverage rate on each given day (month ends).

    One statement for all days, by the same definitions as meal_points_operating / community_meal_coverage
    (data.queries.facilities.operating_on applied to each day): covered = communities (of the street) in
    the registered service area of at least one meal point operating that day. Columns month (first
    day), on, meal_points, covered, communities, coverage_rate.
    """
    cols = ["month", "on", "meal_points", "covered", "communities", "coverage_rate"]
    if not ends:
        return pd.DataFrame(columns=cols)
    days = union_all(*[select(literal(d, Date).label("day")) for d in ends]).subquery("days")
    points = (select(days.c.day, func.count(Facility.id).label("meal_points"))
              .select_from(days)
              .outerjoin(Facility, and_(Facility.kind == "meal_point", operating_on(days.c.day),
                                        street_filter(Facility.subdistrict_code, street)))
              .group_by(days.c.day))
    covered = (select(days.c.day, func.count(distinct(MealPointCommunity.community_code)).label("covered"))
               .select_from(days)
               .join(Facility, and_(Facility.kind == "meal_point", operating_on(days.c.day)))
               .join(MealPointCommunity, MealPointCommunity.facility_id == Facility.id)
               .join(Community, Community.code == MealPointCommunity.community_code)
               .where(street_filter(Community.subdistrict_code, street))
               .group_by(days.c.day))
    total = frame(engine, select(func.count()).select_from(Community)
                  .where(street_filter(Community.subdistrict_code, street))).iloc[0, 0]
    df = frame(engine, points)
    cov = frame(engine, covered)
    df["on"] = as_date_series(df["day"])
    cov["on"] = as_date_series(cov["day"]) if len(cov) else cov.get("day", pd.Series(dtype=object))
    df = df.merge(cov[["on", "covered"]], on="on", how="left").sort_values("on").reset_index(drop=True)
    df["covered"] = df["covered"].fillna(0).astype(int)
    df["meal_points"] = df["meal_points"].astype(int)
    df["communities"] = int(total)
    df["coverage_rate"] = df["covered"] / total if total else 0.0
    df["month"] = [d.replace(day=1) for d in df["on"]]
    return df[cols]


@query(scope="public")
def counts(engine: Engine) -> dict[str, int]:
    """How big the database is (decides between points and aggregates): facilities, communities, subdistricts."""
    with engine.connect() as conn:
        return {"facilities": conn.execute(select(func.count()).select_from(Facility)).scalar() or 0,
                "communities": conn.execute(select(func.count()).select_from(Community)).scalar() or 0,
                "subdistricts": conn.execute(select(func.count()).select_from(Subdistrict)).scalar() or 0}
