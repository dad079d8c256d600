"""地图设置: basemap choice, 天地图 key, the bureau's own tiles (a tile-server address or a local folder / MBTiles file)
and the default walking radius, kept in the meta table (one key each: a new setting needs no migration)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from data.ops import tiles
from data.security.access import query
from data.db.models import Meta
from data.queries.common import bump_data_version

BASEMAPS = {
    "none": "无底图（仅显示边界，完全离线）",
    "tianditu": "天地图（CGCS2000≈WGS-84，需要密钥和外网或政务网瓦片服务）",
    "gaode": "高德地图（GCJ-02，所有点和面自动转换坐标）",
    "custom": "本单位瓦片服务（内网地址模板）",
    "local": "本机瓦片（文件夹或 MBTiles 文件，由本系统直接提供）",
}
TILE_DATUMS = {
    "wgs84": "WGS-84 / CGCS2000（天地图、自然资源和规划部门的切片）",
    "gcj02": "GCJ-02（高德等互联网地图的切片，点和面自动转换坐标）",
}
DEFAULT_RADIUS_M = 500
RADIUS_RANGE = (100, 3000)
_KEYS = {"basemap": "map.basemap", "tianditu_key": "map.tianditu_key", "walk_radius_m": "map.walk_radius_m",
         "tile_url": "map.tile_url", "tile_path": "map.tile_path", "tile_datum": "map.tile_datum"}
_TIANDITU_KEY = re.compile(r"^[0-9A-Za-z]{16,64}$")


class SettingsError(ValueError):
    """A setting that cannot be saved; the message is Chinese."""


@dataclass(frozen=True)
class MapSettings:
    basemap: str = "none"
    tianditu_key: str = ""
    walk_radius_m: int = DEFAULT_RADIUS_M
    tile_url: str = ""          # custom: http(s) template with {z}/{x}/{y}
    tile_path: str = ""         # local: a tile folder (z/x/y.png) or an .mbtiles file on the server
    tile_datum: str = "wgs84"   # custom / local: the tiles' coordinates (wgs84 or gcj02)


@query(scope="public")
def map_settings(engine: Engine) -> MapSettings:
    """The saved map settings; defaults where nothing was saved (or a saved value is unusable)."""
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Meta.key, Meta.value).where(Meta.key.in_(list(_KEYS.values())))).all())
    basemap = rows.get(_KEYS["basemap"], "none")
    key = rows.get(_KEYS["tianditu_key"], "")
    try:
        radius = int(rows.get(_KEYS["walk_radius_m"], DEFAULT_RADIUS_M))
    except ValueError:
        radius = DEFAULT_RADIUS_M
    tile_url, tile_path = rows.get(_KEYS["tile_url"], ""), rows.get(_KEYS["tile_path"], "")
    datum = rows.get(_KEYS["tile_datum"], "wgs84")
    if (basemap not in BASEMAPS or (basemap == "tianditu" and not key) or (basemap == "custom" and not tile_url)
            or (basemap == "local" and not tile_path)):
        basemap = "none"
    if not RADIUS_RANGE[0] <= radius <= RADIUS_RANGE[1]:
        radius = DEFAULT_RADIUS_M
    return MapSettings(basemap=basemap, tianditu_key=key, walk_radius_m=radius, tile_url=tile_url,
                       tile_path=tile_path, tile_datum=datum if datum in TILE_DATUMS else "wgs84")


def validate(settings: MapSettings) -> MapSettings:
    if settings.basemap not in BASEMAPS:
        raise SettingsError(f"未知的底图“{settings.basemap}”。")
    key = (settings.tianditu_key or "").strip()
    if settings.basemap == "tianditu" and not key:
        raise SettingsError("使用天地图需要填写天地图密钥（tk）。")
    if key and not _TIANDITU_KEY.match(key):
        raise SettingsError("天地图密钥格式不正确：应为 16–64 位字母或数字。")
    radius = int(settings.walk_radius_m)
    if not RADIUS_RANGE[0] <= radius <= RADIUS_RANGE[1]:
        raise SettingsError(f"默认步行半径应在 {RADIUS_RANGE[0]}–{RADIUS_RANGE[1]} 米之间。")
    tile_url, tile_path = (settings.tile_url or "").strip(), (settings.tile_path or "").strip().strip('"')
    try:
        if settings.basemap == "custom" or tile_url:
            tile_url = tiles.check_url_template(tile_url)
        if settings.basemap == "local":
            tiles.open_source(tile_path)
    except tiles.TileSourceError as exc:
        raise SettingsError(str(exc)) from None
    if settings.tile_datum not in TILE_DATUMS:
        raise SettingsError(f"未知的瓦片坐标系“{settings.tile_datum}”。")
    return MapSettings(basemap=settings.basemap, tianditu_key=key, walk_radius_m=radius, tile_url=tile_url,
                       tile_path=tile_path, tile_datum=settings.tile_datum)


SETTINGS_ROLES = frozenset({"office", "admin"})


def require_settings_role(by) -> None:
    from data.security.access import AccessDenied

    if by is not None and getattr(by, "role", None) not in SETTINGS_ROLES:
        raise AccessDenied("只有业务科室和管理员账号可以修改地图设置。")


def save_map_settings(engine: Engine, settings: MapSettings, by=None) -> MapSettings:
    """Validate and store the settings in one transaction (bumps the data version so pages see them).
    `by`: the signed-in Principal (None: the command line / system); the change is audited with the settings before
    and after, a refused attempt once (data.writes.edits.audited_refusal); settings equal to the saved ones write nothing."""
    from contextlib import nullcontext

    from data.security.audit import record
    from data.writes.edits import audited_refusal

    with audited_refusal(engine, by, "settings", "地图设置") if by is not None else nullcontext():
        require_settings_role(by)
    settings = validate(settings)
    before = map_settings(engine)
    if before == settings:
        return settings  # nothing changed: no write, no audit entry, no version bump
    values = {_KEYS["basemap"]: settings.basemap, _KEYS["tianditu_key"]: settings.tianditu_key,
              _KEYS["walk_radius_m"]: str(settings.walk_radius_m), _KEYS["tile_url"]: settings.tile_url,
              _KEYS["tile_path"]: settings.tile_path, _KEYS["tile_datum"]: settings.tile_datum}
    now = datetime.now()
    with engine.begin() as conn:
        for key, value in values.items():
            if conn.execute(update(Meta).where(Meta.key == key).values(value=value, updated_at=now)).rowcount == 0:
                conn.execute(Meta.__table__.insert().values(key=key, value=value, updated_at=now))
        record(conn, by or "system", "settings", "地图设置",
               {"basemap": settings.basemap, "walk_radius_m": settings.walk_radius_m,
                "tianditu_key": _key_state(settings), "before": _audited(before), "after": _audited(settings)})
        bump_data_version(conn)
    return settings


def _key_state(settings: MapSettings) -> str:
    return "已设置" if settings.tianditu_key else ""  # the key itself never enters the audit log


def _audited(settings: MapSettings) -> dict:
    return {"basemap": settings.basemap, "walk_radius_m": settings.walk_radius_m,
            "tianditu_key": _key_state(settings), "tile_url": settings.tile_url, "tile_path": settings.tile_path,
            "tile_datum": settings.tile_datum}
