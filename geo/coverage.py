"""助餐覆盖的空间分析: walking rings around meal points, communities within reach, uncovered pockets.

Pure functions on DataFrames / GeoDataFrames in WGS-84 (lon, lat). Distances and buffers are computed in
the metric CRS of geo.layers (UTM 50N, metres) — never in degrees. "Walking distance" here is the
straight-line radius the user chooses (默认 500 米); it is a planning overlay, not the coverage 口径,
which stays the registered service area (see data.queries.facilities.community_meal_coverage).
"""
from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.layers import METRIC_CRS

DEFAULT_RADIUS_M = 500
MIN_RADIUS_M = 100
MAX_RADIUS_M = 3000
RING_SEGMENTS = 16  # quarter-circle segments of a buffer: 64-gon, < 0.2 % area error


class CoverageInputError(ValueError):
    """Input that cannot be analysed; the message is Chinese."""


@lru_cache(maxsize=4)
def _to_metric(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _check_radius(radius_m: float) -> float:
    try:
        radius = float(radius_m)
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(f"步行半径“{radius_m}”不是数字。") from exc
    if not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        raise CoverageInputError(f"步行半径应在 {MIN_RADIUS_M}–{MAX_RADIUS_M} 米之间，当前为 {radius:g} 米。")
    return radius


def _check_columns(df: pd.DataFrame, what: str, lon: str, lat: str) -> None:
    missing = [c for c in (lon, lat) if c not in df.columns]
    if missing:
        raise CoverageInputError(f"{what}缺少坐标列：{', '.join(missing)}。")


def metric_xy(df: pd.DataFrame, lon: str = "lon", lat: str = "lat", crs: str = METRIC_CRS) -> np.ndarray:
    """(n, 2) array of metric x, y for the WGS-84 lon/lat columns of df."""
    if df.empty:
        return np.empty((0, 2))
    x, y = _to_metric(crs).transform(df[lon].to_numpy(dtype=float), df[lat].to_numpy(dtype=float))
    return np.column_stack([x, y])


def walking_rings(points: pd.DataFrame, radius_m: float = DEFAULT_RADIUS_M, *, lon: str = "lon", lat: str = "lat",
                  crs: str = METRIC_CRS) -> gpd.GeoDataFrame:
    """步行圈: a circle of radius_m metres around every point, built in the metric CRS.

    Returns a GeoDataFrame in the metric CRS (areas in m²) carrying the points' columns; call
    .to_crs("EPSG:4326") to draw it.
    """
    radius = _check_radius(radius_m)
    _check_columns(points, "助餐点", lon, lat)
    xy = metric_xy(points, lon, lat, crs)
    geoms = shapely.buffer(shapely.points(xy), radius, quad_segs=RING_SEGMENTS) if len(xy) else []
    return gpd.GeoDataFrame(points.reset_index(drop=True).copy(), geometry=list(geoms), crs=crs)


def reach_area(points: pd.DataFrame, radius_m: float = DEFAULT_RADIUS_M, *, lon: str = "lon", lat: str = "lat",
               crs: str = METRIC_CRS):
    """The union of all walking rings (metric CRS); an empty polygon when there are no points."""
    rings = walking_rings(points, radius_m, lon=lon, lat=lat, crs=crs)
    if rings.empty:
        return shapely.Polygon()
    return shapely.union_all(rings.geometry.to_numpy())


def nearest_distances(targets: pd.DataFrame, points: pd.DataFrame, *, lon: str = "lon", lat: str = "lat",
                      crs: str = METRIC_CRS) -> tuple[np.ndarray, np.ndarray]:
    """Distance in metres from each target to its nearest point, and that point's row position.

    With no points every distance is inf and every position -1.
    """
    n = len(targets)
    if n == 0:
        return np.empty(0), np.empty(0, dtype=int)
    if points.empty:
        return np.full(n, np.inf), np.full(n, -1, dtype=int)
    t_xy, p_xy = metric_xy(targets, lon, lat, crs), metric_xy(points, lon, lat, crs)
    tree = shapely.STRtree(shapely.points(p_xy))
    (t_idx, p_idx), dist = tree.query_nearest(shapely.points(t_xy), return_distance=True, all_matches=False)
    out_d, out_p = np.full(n, np.inf), np.full(n, -1, dtype=int)
    out_d[t_idx], out_p[t_idx] = dist, p_idx
    return out_d, out_p


def points_near(points: pd.DataFrame, targets: pd.DataFrame, margin_m: float = DEFAULT_RADIUS_M, *,
                lon: str = "lon", lat: str = "lat", crs: str = METRIC_CRS) -> pd.DataFrame:
    """The rows of `points` inside the targets' bounding box widened by margin_m on every side, in their order.

    What a map of some communities needs of the meal points: those in its extent — every one whose walking ring
    (radius ≤ margin) reaches a shown community is among them — not all of a province's."""
    if points.empty or targets.empty:
        return points.iloc[0:0]
    p, t = metric_xy(points, lon, lat, crs), metric_xy(targets, lon, lat, crs)
    lo, hi = t.min(axis=0) - margin_m, t.max(axis=0) + margin_m
    inside = np.all((p >= lo) & (p <= hi), axis=1)
    return points[inside]


def communities_within(communities: pd.DataFrame, points: pd.DataFrame, radius_m: float = DEFAULT_RADIUS_M, *,
                       point_name: str = "name", crs: str = METRIC_CRS) -> pd.DataFrame:
    """Communities with `nearest_m` (metres to the nearest meal point), `nearest_point` and `within_walk`.

    A community is within walking reach when its point lies inside at least one walking ring
    (distance ≤ radius). Columns of `communities` are kept.
    """
    radius = _check_radius(radius_m)
    _check_columns(communities, "社区", "lon", "lat")
    _check_columns(points, "助餐点", "lon", "lat")
    dist, pos = nearest_distances(communities, points, crs=crs)
    out = communities.reset_index(drop=True).copy()
    out["nearest_m"] = np.where(np.isfinite(dist), np.round(dist), np.nan)
    names = points[point_name].to_numpy() if point_name in points.columns and len(points) else None
    out["nearest_point"] = [names[p] if names is not None and p >= 0 else None for p in pos]
    out["within_walk"] = dist <= radius
    return out


def uncovered_pockets(communities: pd.DataFrame, points: pd.DataFrame, radius_m: float = DEFAULT_RADIUS_M, *,
                      crs: str = METRIC_CRS) -> pd.DataFrame:
    """服务盲区: communities out of walking reach of every operating meal point, most elderly first.

    The communities' own columns are kept, so a `covered` column still tells whether a pocket is inside
    a meal point's registered service area (covered by the 口径 but far to walk — a delivery case).
    """
    within = communities_within(communities, points, radius_m, crs=crs)
    pockets = within[~within["within_walk"]].copy()
    sort_cols = [c for c in ("pop_60", "pop_80") if c in pockets.columns]
    if sort_cols:
        pockets = pockets.sort_values(sort_cols, ascending=False, kind="stable")
    return pockets.reset_index(drop=True)


def uncovered_area(areas: gpd.GeoDataFrame, points: pd.DataFrame, radius_m: float = DEFAULT_RADIUS_M, *,
                   crs: str = METRIC_CRS) -> gpd.GeoDataFrame:
    """Part of each area (e.g. subdistrict polygons) outside every walking ring.

    Returns the areas' columns plus `area_km2`, `uncovered_km2` and `uncovered_share`, with the
    uncovered remainder as geometry, in WGS-84.
    """
    if areas.crs is None:
        raise CoverageInputError("区域图层没有声明坐标系。")
    metric = areas.to_crs(crs)
    reach = reach_area(points, radius_m, crs=crs)
    rest = shapely.difference(metric.geometry.to_numpy(), reach) if not reach.is_empty else metric.geometry.to_numpy()
    total = shapely.area(metric.geometry.to_numpy())
    left = shapely.area(rest)
    out = gpd.GeoDataFrame(metric.drop(columns=metric.geometry.name), geometry=list(rest), crs=crs)
    out["area_km2"] = total / 1e6
    out["uncovered_km2"] = left / 1e6
    out["uncovered_share"] = np.where(total > 0, left / np.where(total > 0, total, 1), 0.0)
    return out.to_crs("EPSG:4326")


# --- drill-down -------------------------------------------------------------------------------

COVERAGE_LABELS = {True: "已覆盖", False: "未覆盖"}


def subdistrict_summary(communities: pd.DataFrame) -> pd.DataFrame:
    """Per subdistrict from per-community coverage rows (subdistrict_code, covered, pop_60, pop_80).

    Columns: subdistrict_code, communities, covered, coverage_rate, uncovered_pop_60, uncovered_pop_80.
    """
    if communities.empty:
        return pd.DataFrame(columns=["subdistrict_code", "communities", "covered", "coverage_rate",
                                     "uncovered_pop_60", "uncovered_pop_80"])
    df = communities.assign(covered=communities["covered"].astype(bool))
    unc = ~df["covered"]
    grouped = df.assign(_u60=df["pop_60"].where(unc, 0), _u80=df["pop_80"].where(unc, 0)).groupby(
        "subdistrict_code", sort=True)
    out = pd.DataFrame({
        "communities": grouped.size(),
        "covered": grouped["covered"].sum().astype(int),
        "uncovered_pop_60": grouped["_u60"].sum().astype(int),
        "uncovered_pop_80": grouped["_u80"].sum().astype(int),
    }).reset_index()
    out["coverage_rate"] = out["covered"] / out["communities"]
    return out[["subdistrict_code", "communities", "covered", "coverage_rate", "uncovered_pop_60", "uncovered_pop_80"]]


def drill_down(communities: pd.DataFrame, subdistrict_code: str | None) -> pd.DataFrame:
    """The communities of one subdistrict (all when None), uncovered first, then by 60+ population."""
    df = communities if not subdistrict_code else communities[communities["subdistrict_code"] == subdistrict_code]
    order = [c for c in ("covered", "pop_60") if c in df.columns]
    if order:
        df = df.sort_values(order, ascending=[True, False][:len(order)], kind="stable")
    return df.reset_index(drop=True)
