"""The ground under the data: the basemap choice, coordinates shifted for it, and the empty map fitted to a bounds.

Coordinates arrive in WGS-84; with the 高德 basemap (or the bureau's own tiles cut in GCJ-02) every point and
polygon is shifted to GCJ-02 here. No tile layer is drawn unless the bureau chose a basemap. For an air-gapped
intranet the bureau's own tiles come from its tile server (an address template) or from a local tile folder /
MBTiles file that this app serves itself (components/offline.py: the tile route).

Every map also gets: a metric scale bar, the attribution without Leaflet's flag (plain text naming the real
sources), fractional zoom (so the district fills the frame) and the layer control collapsed (frame.py).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import quote

import folium
import numpy as np
import pandas as pd
import shapely

from components.maps.elements import Css, MapChrome
from geo import gcj02

DECIMALS = 6                 # ≈ 0.1 m; what the browser gets
DEFAULT_CENTRE = [28.66, 115.89]
ATTRIBUTION_PREFIX = "民政一张图"      # instead of Leaflet's link and flag
DATA_SOURCES = "边界：区民政局街道区划（未导入正式边界时为示意）；设施与社区：民政业务台账"


@dataclass(frozen=True)
class Basemap:
    """Tile layer under the data: none (default), 天地图 (needs the bureau's key), 高德 (GCJ-02), the bureau's
    own tile server (custom: tile_url) or a local tile folder / MBTiles file served by the app (local: tile_path).
    tile_datum: the coordinates the bureau's own tiles were cut in (wgs84 or gcj02)."""
    kind: str = "none"
    tianditu_key: str = ""
    tile_url: str = ""
    tile_path: str = ""
    tile_datum: str = "wgs84"

    @property
    def gcj02(self) -> bool:
        return self.kind == "gaode" or (self.kind in ("custom", "local") and self.tile_datum == "gcj02")

    @classmethod
    def of(cls, settings) -> "Basemap":
        """The basemap of the saved map settings (anything with .basemap and .tianditu_key, optionally .tile_url,
        .tile_path and .tile_datum)."""
        return cls(settings.basemap, settings.tianditu_key, getattr(settings, "tile_url", ""),
                   getattr(settings, "tile_path", ""), getattr(settings, "tile_datum", "wgs84"))


NO_BASEMAP = Basemap()


def project(lon, lat, basemap: Basemap = NO_BASEMAP) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat arrays → what the basemap needs (GCJ-02 for 高德), rounded for the browser."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if basemap.gcj02 and lon.size:
        lon, lat = gcj02.wgs84_to_gcj02_array(lon, lat)
    return np.round(lon, DECIMALS), np.round(lat, DECIMALS)


def latlng_rows(df: pd.DataFrame, basemap: Basemap) -> tuple[list[float], list[float]]:
    """The lat and lng lists of a frame's lon/lat columns, projected for the basemap."""
    lon, lat = project(df["lon"].to_numpy(), df["lat"].to_numpy(), basemap)
    return lat.tolist(), lon.tolist()


def prepare_geometries(geometries: list, basemap: Basemap = NO_BASEMAP, simplify_deg: float = 0.0) -> list:
    """GeoJSON geometries (dicts or text) → shapely geometries simplified, shifted for the basemap and rounded.

    Vectorised (one pass over all polygons), so a province's 1,000 subdistricts take milliseconds.
    """
    texts = [g if isinstance(g, str) else json.dumps(g) for g in geometries]
    geoms = shapely.from_geojson(texts)
    if simplify_deg > 0:
        simpler = shapely.simplify(geoms, simplify_deg, preserve_topology=True)
        geoms = np.where(shapely.is_empty(simpler), geoms, simpler)

    def _shift(xy: np.ndarray) -> np.ndarray:
        x, y = project(xy[:, 0], xy[:, 1], basemap)
        return np.column_stack([x, y])

    return list(shapely.transform(geoms, _shift))


def bounds_of(geometries: Iterable) -> list[list[float]] | None:
    """[[south, west], [north, east]] of GeoJSON geometries (dicts or text); None when there are none."""
    texts = [g if isinstance(g, str) else json.dumps(g) for g in geometries if isinstance(g, (str, dict)) and g]
    if not texts:
        return None
    x0, y0, x1, y1 = shapely.total_bounds(shapely.from_geojson(texts))
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


def simplify_for(n_polygons: int) -> float:
    """Simplification tolerance in degrees: none for a district, ~20 m for a city, ~60 m for a province."""
    if n_polygons <= 30:
        return 0.0
    return 0.0002 if n_polygons <= 200 else 0.0006


def base_map(basemap: Basemap = NO_BASEMAP, bounds: list[list[float]] | None = None,
             sources: str | None = None) -> folium.Map:
    """An empty map: no tiles unless a basemap was chosen, canvas vectors, metric scale bar, attribution naming
    the sources (no flag), fractional zoom, fitted to bounds. `sources`: what the data on the map comes from."""
    centre = DEFAULT_CENTRE
    if bounds:
        centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=centre, zoom_start=13, tiles=None, prefer_canvas=True, control_scale=False,
                   max_zoom=18, min_zoom=5, zoom_snap=0.25, zoom_delta=0.5)
    m.add_child(Css())
    m.add_child(MapChrome(sources or DATA_SOURCES, ATTRIBUTION_PREFIX))
    if basemap.kind == "tianditu" and re.fullmatch(r"[0-9A-Za-z]{8,64}", basemap.tianditu_key or ""):
        tk = quote(basemap.tianditu_key, safe="")
        for layer, name, overlay in (("vec", "天地图 矢量", False), ("cva", "天地图 注记", True)):
            url = (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                   f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                   f"&TILECOL={{x}}&tk={tk}")
            folium.TileLayer(url, attr="天地图", name=name, overlay=overlay, control=True, max_zoom=18,
                             subdomains="01234567").add_to(m)
    elif basemap.kind == "gaode":
        folium.TileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                         "&x={x}&y={y}&z={z}", attr="高德地图", name="高德地图", max_zoom=18,
                         subdomains="1234").add_to(m)
    elif basemap.kind == "custom" and basemap.tile_url:
        folium.TileLayer(basemap.tile_url, attr="本单位瓦片服务", name="本单位底图", max_zoom=18).add_to(m)
    elif basemap.kind == "local" and basemap.tile_path:
        from components.offline import serve_tiles

        served = serve_tiles(basemap.tile_path)
        if served is not None:
            url, lo, hi = served
            folium.TileLayer(url, attr="本机瓦片", name="本机底图", max_zoom=18, max_native_zoom=hi,
                             min_native_zoom=lo).add_to(m)
    if bounds:
        lon, lat = project([bounds[0][1], bounds[1][1]], [bounds[0][0], bounds[1][0]], basemap)
        m.fit_bounds([[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]], padding=(6, 6))
    return m
