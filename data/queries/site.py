"""选址分析的查询: the vacant-room registry (闲置用房) and saved site-selection scenarios.

Demand per community (pop_60, pop_80, living_alone, lon, lat) is data.queries.geography.communities.
"""
from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import Community, Subdistrict, VacantRoom
from data.db.models.site import SiteScenario
from data.queries.common import frame, street_filter

ROOM_FIELDS = ("id", "code", "address", "subdistrict_code", "subdistrict_name", "community_code", "community_name",
               "lon", "lat", "area_m2", "floor", "has_lift", "owner_type", "monthly_rent", "available_from", "status",
               "version")


@query(scope="street")
def vacant_rooms(engine: Engine, street: str | None = None, statuses: tuple[str, ...] | None = None) -> pd.DataFrame:
    """闲置用房台账: every room with its subdistrict and community names, ordered by code."""
    stmt = (select(VacantRoom.id, VacantRoom.code, VacantRoom.address, VacantRoom.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), VacantRoom.community_code,
                   Community.short_name.label("community_name"), VacantRoom.lon, VacantRoom.lat, VacantRoom.area_m2,
                   VacantRoom.floor, VacantRoom.has_lift, VacantRoom.owner_type, VacantRoom.monthly_rent,
                   VacantRoom.available_from, VacantRoom.status, VacantRoom.version)
            .join(Subdistrict, Subdistrict.code == VacantRoom.subdistrict_code)
            .outerjoin(Community, Community.code == VacantRoom.community_code)
            .where(street_filter(VacantRoom.subdistrict_code, street))
            .order_by(VacantRoom.code))
    if statuses:
        stmt = stmt.where(VacantRoom.status.in_(list(statuses)))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=list(ROOM_FIELDS))
    df["has_lift"] = df["has_lift"].astype(bool)
    return df


@query(scope="rows")
def vacant_room(engine: Engine, room_id: int) -> dict | None:
    """One room's current values (for an edit form and for a refused stale update)."""
    stmt = select(*[c for c in VacantRoom.__table__.c]).where(VacantRoom.id == room_id)
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


@query(scope="rows")
def scenarios(engine: Engine) -> pd.DataFrame:
    """选址方案列表: id, name, created_at, created_by, street, data_version, parameters (dict) — newest first."""
    df = frame(engine, select(SiteScenario.id, SiteScenario.name, SiteScenario.created_at, SiteScenario.created_by,
                              SiteScenario.street, SiteScenario.data_version, SiteScenario.parameters_json)
               .order_by(SiteScenario.created_at.desc(), SiteScenario.id.desc()))
    if df.empty:
        return pd.DataFrame(columns=["id", "name", "created_at", "created_by", "street", "data_version", "parameters"])
    df["parameters"] = df.pop("parameters_json").map(json.loads)
    return df


@query(scope="rows")
def scenario(engine: Engine, scenario_id: int) -> dict | None:
    """One saved scenario with its parameters and result parsed from JSON; None when it does not exist."""
    with engine.connect() as conn:
        row = conn.execute(select(*SiteScenario.__table__.c).where(SiteScenario.id == scenario_id)).mappings().first()
    if row is None:
        return None
    out = {k: row[k] for k in ("id", "name", "created_at", "created_by", "street", "data_version")}
    out["parameters"] = json.loads(row["parameters_json"])
    out["result"] = json.loads(row["result_json"])
    return out
