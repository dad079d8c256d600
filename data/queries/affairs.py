"""社会事务与基层建设: civil events, service stations and social workers, the roundtable, targets, care workers, aid windows."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import (CIVIL_EVENT_KINDS, AidWindow, CareWorker, CivilEvent, Facility, RoundtableIssue,
                         RoundtableMeeting, ServiceStation, SocialWorker, Subdistrict, Target)
from data.domain.period import Period
from data.queries.common import frame, scalar, street_filter
from data.db import rollups
from data.db.models import DailyTotal

STATION_LEVEL_NAMES = {"district": "区级民政服务总站", "subdistrict": "街道民政服务站"}
SUBDISTRICT_LEVELS = ("subdistrict",)
WINDOW_ITEMS = {"has_sign": "明显标识", "has_list_rack": "清单展示架", "has_leaflet_rack": "政策宣传折页架",
                "has_intake_book": "受理单"}


def _in(column, period: Period):
    return and_(column >= period.start, column <= period.end)


# --- civil events ------------------------------------------------------------------------------

@query(scope="street")
def civil_event_counts(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """民政事务件数（F60–F64、F72、F07）：各类 happened_on 在统计期内的记录数，无记录的类别记 0；街道筛选时不含全区性事务。"""
    if rollups.in_use(street):
        stmt = rollups.district(rollups.totals("civil_events", period.start, period.end, DailyTotal.k1,
                                               func.sum(DailyTotal.n)).group_by(DailyTotal.k1))
    else:
        stmt = (select(CivilEvent.kind, func.count())
                .where(_in(CivilEvent.happened_on, period), street_filter(CivilEvent.subdistrict_code, street))
                .group_by(CivilEvent.kind))
    got = dict(frame(engine, stmt).itertuples(index=False, name=None))
    kinds = list(CIVIL_EVENT_KINDS) + sorted(set(got) - set(CIVIL_EVENT_KINDS))
    return pd.DataFrame({"kind": kinds, "kind_name": [CIVIL_EVENT_KINDS.get(k, k) for k in kinds],
                         "count": [int(got.get(k, 0)) for k in kinds]})


@query(scope="street")
def civil_event_count(engine: Engine, period: Period, street: str | None = None, *, kind: str) -> int:
    """某类民政事务件数（F60–F64、F72、F07）：该类、happened_on 在统计期内的记录数。"""
    if rollups.in_use(street):
        stmt = rollups.district(rollups.totals("civil_events", period.start, period.end, func.sum(DailyTotal.n),
                                               where=DailyTotal.k1 == kind))
        return int(scalar(engine, stmt) or 0)
    stmt = select(func.count()).select_from(CivilEvent).where(
        CivilEvent.kind == kind, _in(CivilEvent.happened_on, period),
        street_filter(CivilEvent.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


# --- service stations and social workers ----------------------------------------------------------

def _worker_active(on: date):
    """在岗社工: started on or before the day and not ended by then (end_date is the first day off)."""
    return and_(SocialWorker.start_date <= on, or_(SocialWorker.end_date.is_(None), SocialWorker.end_date > on))


@query(scope="street")
def service_stations(engine: Engine, on: date, street: str | None = None) -> pd.DataFrame:
    """民政服务站: stations opened on or before the day, with their level and social workers in post then (F70).
    With a street filter only that subdistrict's station is listed."""
    workers = (select(SocialWorker.station_id, func.count().label("social_workers"))
               .where(_worker_active(on)).group_by(SocialWorker.station_id).subquery())
    stmt = (select(ServiceStation.id, ServiceStation.name, ServiceStation.level, ServiceStation.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), ServiceStation.opened_on,
                   func.coalesce(workers.c.social_workers, 0).label("social_workers"))
            .outerjoin(Subdistrict, Subdistrict.code == ServiceStation.subdistrict_code)
            .outerjoin(workers, workers.c.station_id == ServiceStation.id)
            .where(ServiceStation.opened_on <= on, street_filter(ServiceStation.subdistrict_code, street))
            .order_by(ServiceStation.level, ServiceStation.subdistrict_code, ServiceStation.id))
    df = frame(engine, stmt)
    cols = ["id", "name", "level", "level_name", "subdistrict_code", "subdistrict_name", "opened_on", "social_workers"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["level_name"] = df["level"].map(STATION_LEVEL_NAMES).fillna(df["level"])
    df["social_workers"] = df["social_workers"].astype(int)
    return df[cols]


@query(scope="street")
def service_station_counts(engine: Engine, on: date, street: str | None = None) -> dict:
    """民政服务站数（F70）：opened_on ≤ 当日的区级总站与街道站个数。"""
    df = service_stations(engine, on, street)
    return {"district": int((df["level"] == "district").sum()),
            "subdistrict": int(df["level"].isin(SUBDISTRICT_LEVELS).sum())}


@query(scope="street")
def social_workers_active(engine: Engine, on: date, street: str | None = None) -> int:
    """驻站社工（F71）：当日在岗（start_date ≤ 当日且 end_date 为空或晚于当日）的社工数；街道筛选只算该街道站。"""
    stmt = (select(func.count()).select_from(SocialWorker)
            .join(ServiceStation, ServiceStation.id == SocialWorker.station_id)
            .where(_worker_active(on), street_filter(ServiceStation.subdistrict_code, street)))
    return int(scalar(engine, stmt) or 0)


# --- roundtable ----------------------------------------------------------------------------------

@query(scope="district")
def roundtable(engine: Engine, period: Period) -> dict:
    """幸福圆桌会（F73、F74）：held_on 在统计期内的会议次数、这些会议提出的问题数，及 resolved_on 在统计期内的问题数（不论哪次会议提出；全区口径）。"""
    meetings = select(func.count()).select_from(RoundtableMeeting).where(_in(RoundtableMeeting.held_on, period))
    raised = (select(func.count()).select_from(RoundtableIssue)
              .join(RoundtableMeeting, RoundtableMeeting.id == RoundtableIssue.meeting_id)
              .where(_in(RoundtableMeeting.held_on, period)))
    resolved = select(func.count()).select_from(RoundtableIssue).where(_in(RoundtableIssue.resolved_on, period))
    return {"meetings": int(scalar(engine, meetings) or 0), "issues_raised": int(scalar(engine, raised) or 0),
            "issues_resolved": int(scalar(engine, resolved) or 0)}


# --- targets -----------------------------------------------------------------------------------

@query(scope="public")
def targets(engine: Engine) -> pd.DataFrame:
    """目标（F04、F07、F12、F13、F22、F75、F76）：目标表全部行（指标、名称、基期、期限、目标值、单位、指标编号）。"""
    stmt = (select(Target.indicator, Target.name, Target.baseline_date, Target.deadline, Target.value, Target.unit,
                   Target.figure_id).order_by(Target.figure_id, Target.deadline))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["indicator", "name", "baseline_date", "deadline", "value", "unit", "figure_id"])
    return df


@query(scope="public")
def target(engine: Engine, indicator: str, on: date | None = None) -> dict | None:
    """One indicator's target: the row with the earliest deadline on or after `on` (else the latest one)."""
    df = targets(engine)
    df = df[df["indicator"] == indicator].sort_values("deadline")
    if df.empty:
        return None
    if on is not None:
        ahead = df[df["deadline"] >= on]
        df = ahead if not ahead.empty else df.tail(1)
    return df.iloc[0].to_dict()


# --- care workers ----------------------------------------------------------------------------------

@query(scope="street")
def care_workers_status(engine: Engine, on: date, street: str | None = None) -> dict:
    """养老护理员持证: care workers employed on the day (hired_on ≤ day, not left) and those certified by then."""
    employed = and_(CareWorker.hired_on <= on, or_(CareWorker.left_on.is_(None), CareWorker.left_on > on))
    certified = and_(CareWorker.certified_on.is_not(None), CareWorker.certified_on <= on)
    base = (select(func.count()).select_from(CareWorker).join(Facility, Facility.id == CareWorker.facility_id)
            .where(employed, street_filter(Facility.subdistrict_code, street)))
    active = int(scalar(engine, base) or 0)
    done = int(scalar(engine, base.where(certified)) or 0)
    return {"active": active, "certified": done, "rate": done / active if active else 0.0}


@query(scope="street")
def care_worker_certified_rate(engine: Engine, on: date, street: str | None = None) -> float:
    """持证上岗率（F75）= 当日已取得证书（certified_on ≤ 当日）的在岗养老护理员 ÷ 在岗养老护理员（无人时为 0）。"""
    return care_workers_status(engine, on, street)["rate"]


# --- aid windows ----------------------------------------------------------------------------------

@query(scope="street")
def aid_windows(engine: Engine, street: str | None = None) -> pd.DataFrame:
    """社会救助窗口: each window with its “四个一” items, how many it has and whether it has all four."""
    stmt = (select(AidWindow.id, AidWindow.name, AidWindow.subdistrict_code, Subdistrict.name.label("subdistrict_name"),
                   *[getattr(AidWindow, c) for c in WINDOW_ITEMS], AidWindow.demonstration)
            .join(Subdistrict, Subdistrict.code == AidWindow.subdistrict_code)
            .where(street_filter(AidWindow.subdistrict_code, street))
            .order_by(AidWindow.subdistrict_code, AidWindow.id))
    df = frame(engine, stmt)
    cols = ["id", "name", "subdistrict_code", "subdistrict_name", *WINDOW_ITEMS, "demonstration", "items", "complete"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    for c in list(WINDOW_ITEMS) + ["demonstration"]:
        df[c] = df[c].astype(bool)
    df["items"] = df[list(WINDOW_ITEMS)].sum(axis=1).astype(int)
    df["complete"] = df["items"] == len(WINDOW_ITEMS)
    return df[cols]


@query(scope="street")
def aid_window_compliance(engine: Engine, on: date | None = None, street: str | None = None) -> float:
    """“四个一”达标率（F76）= 四项齐全的救助窗口 ÷ 救助窗口总数（0–1；无窗口时为 0）。

    The window register carries no dates, so `on` does not change the result (it is the register as it stands)."""
    df = aid_windows(engine, street)
    return float(df["complete"].mean()) if len(df) else 0.0
