"""Subdistricts and communities: names, codes, boundaries."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import Community, Subdistrict
from data.queries.common import frame, street_filter


@query(scope="public")
def subdistricts(engine: Engine) -> pd.DataFrame:
    """街道列表: code, name, code_mca, label point, whether the boundary is official, community count."""
    n = (select(Community.subdistrict_code, func.count().label("communities"))
         .group_by(Community.subdistrict_code).subquery())
    stmt = (select(Subdistrict.code, Subdistrict.name, Subdistrict.code_mca, Subdistrict.label_lon,
                   Subdistrict.label_lat, Subdistrict.boundary_official,
                   func.coalesce(n.c.communities, 0).label("communities"))
            .outerjoin(n, n.c.subdistrict_code == Subdistrict.code)
            .order_by(Subdistrict.code))
    return frame(engine, stmt)


@query(scope="public")
def subdistrict_names(engine: Engine) -> dict[str, str]:
    df = subdistricts(engine)
    return dict(zip(df["code"], df["name"]))


@query(scope="street")
def subdistrict_boundaries(engine: Engine, street: str | None = None) -> pd.DataFrame:
    """GeoJSON boundary text per subdistrict (schematic unless boundary_official)."""
    stmt = (select(Subdistrict.code, Subdistrict.name, Subdistrict.boundary_geojson, Subdistrict.boundary_official)
            .where(street_filter(Subdistrict.code, street)).order_by(Subdistrict.code))
    return frame(engine, stmt)


@query(scope="street")
def communities(engine: Engine, street: str | None = None) -> pd.DataFrame:
    """社区/村 with location and elderly population (60+, 80+, living alone)."""
    stmt = (select(Community.code, Community.name, Community.short_name, Community.kind, Community.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), Community.lon, Community.lat,
                   Community.pop_60, Community.pop_80, Community.living_alone)
            .join(Subdistrict, Subdistrict.code == Community.subdistrict_code)
            .where(street_filter(Community.subdistrict_code, street)).order_by(Community.code))
    return frame(engine, stmt)
