"""Official subdistrict boundaries (街道界线): store a validated import in one transaction."""
from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from data.db.models import Subdistrict
from data.queries.common import bump_data_version


class BoundaryWriteError(ValueError):
    """The boundaries cannot be stored; the message is Chinese."""


def store_official_boundaries(engine: Engine, boundaries: dict[str, dict], by=None) -> int:
    """Replace every subdistrict's boundary with the validated official one (WGS-84 GeoJSON geometry).

    All subdistricts in the database must be present: a partial layer would mix official and
    schematic lines. Writes boundary_geojson and boundary_official=True for each and bumps the data
    version in the same transaction, so every page shows the new layer on its next rerun.
    Returns the number of subdistricts updated.
    """
    from data.security.audit import record
    from data.ops.settings import require_settings_role

    require_settings_role(by)
    if not boundaries:
        raise BoundaryWriteError("没有可导入的边界。")
    with engine.begin() as conn:
        known = set(conn.execute(select(Subdistrict.code)).scalars())
        unknown = sorted(set(boundaries) - known)
        missing = sorted(known - set(boundaries))
        if unknown:
            raise BoundaryWriteError(f"数据库中没有这些街道：{'、'.join(unknown)}。")
        if missing:
            raise BoundaryWriteError(f"缺少这些街道的边界：{'、'.join(missing)}；须一次导入全部街道。")
        for code, geometry in sorted(boundaries.items()):
            if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
                raise BoundaryWriteError(f"街道 {code} 的边界不是面（Polygon / MultiPolygon）。")
            conn.execute(update(Subdistrict).where(Subdistrict.code == code)
                         .values(boundary_geojson=json.dumps(geometry, ensure_ascii=False, separators=(",", ":")),
                                 boundary_official=True))
        record(conn, by or "system", "settings", "官方街道边界", {"subdistricts": len(boundaries)})
        bump_data_version(conn)
    return len(boundaries)


def restore_schematic_boundaries(engine: Engine, schematic: dict[str, dict], by=None) -> int:
    """Put the schematic layer back (e.g. after importing the wrong file); boundary_official=False."""
    from data.security.audit import record
    from data.ops.settings import require_settings_role

    require_settings_role(by)
    with engine.begin() as conn:
        n = 0
        for code, geometry in sorted(schematic.items()):
            n += conn.execute(update(Subdistrict).where(Subdistrict.code == code)
                              .values(boundary_geojson=json.dumps(geometry, ensure_ascii=False, separators=(",", ":")),
                                      boundary_official=False)).rowcount
        record(conn, by or "system", "settings", "恢复示意街道边界", {"subdistricts": n})
        bump_data_version(conn)
    return n
