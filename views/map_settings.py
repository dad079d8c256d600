"""地图设置: the page model — the saved basemap, 天地图 key and default walking radius; the check, preview, store and
restore of the official subdistrict boundaries (all writes audited as the reader's principal)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from shapely.geometry import mapping

from data.imports.boundaries import BoundaryWriteError, restore_schematic_boundaries, store_official_boundaries
from data.ops.settings import (BASEMAPS, RADIUS_RANGE, TILE_DATUMS, MapSettings, SettingsError, map_settings,
                               save_map_settings)
from data.queries import geography
from data.security.access import Reader
from geo import boundary_import as bi
from geo import layers

BASEMAPS, RADIUS_RANGE, TILE_DATUMS = BASEMAPS, RADIUS_RANGE, TILE_DATUMS
TILE_URL_EXAMPLE = "http://10.0.0.8/tiles/{z}/{x}/{y}.png"
TILE_URL_HELP = ("本单位（或政务网）瓦片服务的地址模板，{z} 为级别、{x} 为列号、{y} 为行号；"
                 "WMTS 服务写成 …&TILEMATRIX={z}&TILEROW={y}&TILECOL={x} 的形式。仅在选择“本单位瓦片服务”时使用。")
TILE_PATH_HELP = ("服务器上的瓦片文件夹（目录结构为 级别/列号/行号.png）或 .mbtiles 文件的完整路径。"
                  "瓦片由本系统自己提供，浏览器不访问任何外部地址，适合完全隔离的内网。")
CRS_NOTE = ("瓦片须按网络墨卡托（EPSG:3857，即 WMTS 的 GoogleMapsCompatible 或天地图的“w”矩阵集）切片；"
            "按经纬度直接切片的瓦片（天地图“c”矩阵集）无法与地图叠加。"
            "若瓦片由高德等互联网地图加工而来，坐标系请选 GCJ-02，系统会把点和面转换后再叠加。")
CRS_OPTIONS = ["auto"] + list(bi.CRS_CHOICES) + ["other"]
CRS_LABELS = {"auto": "按文件声明（.prj 或 GeoJSON 的 crs；GeoJSON 未声明时视为 WGS-84）", "other": "其他（填写 EPSG 代码）",
              **bi.CRS_CHOICES}


@dataclass(frozen=True)
class MapSettingsPage:
    settings: MapSettings          # basemap, tianditu_key, walk_radius_m as saved
    subdistricts: pd.DataFrame     # code, name, code_mca, boundary_official, …
    official: bool                 # every subdistrict has the bureau's imported boundary


def build(reader: Reader) -> MapSettingsPage:
    subs = reader.q(geography.subdistricts)
    return MapSettingsPage(settings=reader.q(map_settings), subdistricts=subs,
                           official=bool(len(subs)) and bool(subs["boundary_official"].all()))


def save(reader: Reader, basemap: str, tianditu_key: str, walk_radius_m: int, *, tile_url: str = "",
         tile_path: str = "", tile_datum: str = "wgs84") -> tuple[str | None, str | None]:
    """Save the map settings: (the confirmation, None) or (None, why not — in Chinese)."""
    try:
        saved = save_map_settings(reader.engine, MapSettings(basemap, tianditu_key, int(walk_radius_m), tile_url,
                                                             tile_path, tile_datum), by=reader.principal)
    except SettingsError as exc:
        return None, str(exc)
    return f"已保存：{BASEMAPS[saved.basemap]}，默认步行半径 {saved.walk_radius_m} 米。", None


@dataclass(frozen=True)
class BoundaryCheck:
    result: bi.BoundaryImport      # errors, warnings, notes, matches, boundaries, ok
    crs_label: str                 # the coordinate system it was read in, as a person names it
    preview: pd.DataFrame          # the checked polygons as the map frame draws boundaries (when ok)


def check(page: MapSettingsPage, data: bytes, filename: str, crs: str | None) -> BoundaryCheck:
    """Validate an uploaded boundary file against the subdistricts and the district outline."""
    result = bi.validate_boundaries(data, filename, page.subdistricts[["code", "name", "code_mca"]],
                                    layers.district_outline(), crs=crs)
    names = dict(zip(page.subdistricts["code"], page.subdistricts["name"]))
    preview = pd.DataFrame({"code": list(result.boundaries), "name": [names[c] for c in result.boundaries],
                            "boundary_geojson": list(result.boundaries.values()), "boundary_official": True})
    return BoundaryCheck(result=result, crs_label=bi.CRS_CHOICES.get(result.source_crs, result.source_crs),
                         preview=preview)


def store(reader: Reader, boundaries: dict[str, dict]) -> tuple[str | None, str | None]:
    """Replace the schematic boundaries by the checked ones: (the confirmation, None) or (None, why not)."""
    try:
        n = store_official_boundaries(reader.engine, boundaries, by=reader.principal)
    except BoundaryWriteError as exc:
        return None, str(exc)
    return f"已导入 {n} 个街道的正式边界，各地图不再标注“示意边界”。", None


def restore(reader: Reader) -> str:
    """Put the project's schematic boundaries back (after a wrong file was imported); the confirmation."""
    gdf = layers.subdistricts_gdf()
    restore_schematic_boundaries(reader.engine, {c: mapping(g) for c, g in zip(gdf["code"], gdf.geometry)},
                                 by=reader.principal)
    return "已恢复示意边界。"


def boundaries(reader: Reader) -> pd.DataFrame:
    """The subdistrict boundaries as the map frame draws them (the basemap preview)."""
    return reader.q(geography.subdistrict_boundaries)
