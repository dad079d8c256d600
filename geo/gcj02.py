"""WGS-84 <-> GCJ-02 (the offset system of AMap / 高德 tiles) coordinate conversion, scalar and vectorised."""
from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

# Krasovsky 1940 ellipsoid, as used by the public GCJ-02 formula
_A = 6378245.0
_EE = 0.00669342162296594323

# rough bounding box of mainland China outside of which GCJ-02 applies no offset
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

_INVERSE_MAX_ITER = 30
_INVERSE_TOL_DEG = 1e-10  # about 0.01 mm


def out_of_china(lon: float, lat: float) -> bool:
    """True when the point lies outside the box where GCJ-02 differs from WGS-84."""
    return not (_LON_MIN <= lon <= _LON_MAX and _LAT_MIN <= lat <= _LAT_MAX)


def _offset(lon, lat):
    """GCJ-02 minus WGS-84 in degrees (dlon, dlat) at a WGS-84 point; works on floats and numpy arrays."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
        + common
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
        + common
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * pi
    s = np.sin(rad)
    magic = 1.0 - _EE * s * s
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Convert one WGS-84 point to GCJ-02 (unchanged outside China)."""
    if out_of_china(lon, lat):
        return float(lon), float(lat)
    dlon, dlat = _offset(float(lon), float(lat))
    return float(lon + dlon), float(lat + dlat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Convert one GCJ-02 point to WGS-84 by fixed-point iteration of the forward formula (residual << 0.5 m)."""
    if out_of_china(lon, lat):
        return float(lon), float(lat)
    w_lon, w_lat = float(lon), float(lat)
    for _ in range(_INVERSE_MAX_ITER):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = g_lon - lon, g_lat - lat
        w_lon -= e_lon
        w_lat -= e_lat
        if abs(e_lon) < _INVERSE_TOL_DEG and abs(e_lat) < _INVERSE_TOL_DEG:
            break
    return w_lon, w_lat


def out_of_china_array(lon, lat) -> np.ndarray:
    """Vectorised out_of_china: boolean array."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return ~((lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX))


def wgs84_to_gcj02_array(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised wgs84_to_gcj02 for array-likes of equal shape; returns two float arrays."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    outside = out_of_china_array(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_wgs84_array(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised gcj02_to_wgs84 for array-likes of equal shape; returns two float arrays."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        g_lon, g_lat = wgs84_to_gcj02_array(w_lon, w_lat)
        e_lon, e_lat = g_lon - lon, g_lat - lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
        if np.all(np.abs(e_lon) < _INVERSE_TOL_DEG) and np.all(np.abs(e_lat) < _INVERSE_TOL_DEG):
            break
    outside = out_of_china_array(lon, lat)
    return np.where(outside, lon, w_lon), np.where(outside, lat, w_lat)


def _convert_positions(coords: Any, ndigits: int | None) -> Any:
    """Convert a GeoJSON position or a nested list of positions (any depth); z and further values are kept."""
    if len(coords) and isinstance(coords[0], (int, float)):
        lon, lat = wgs84_to_gcj02(coords[0], coords[1])
        if ndigits is not None:
            lon, lat = round(lon, ndigits), round(lat, ndigits)
        return [lon, lat, *coords[2:]]
    return [_convert_positions(c, ndigits) for c in coords]


def _convert_geometry(geom: dict | None, ndigits: int | None) -> dict | None:
    if geom is None:
        return None
    if geom.get("type") == "GeometryCollection":
        geom["geometries"] = [_convert_geometry(g, ndigits) for g in geom.get("geometries", [])]
    elif "coordinates" in geom:
        geom["coordinates"] = _convert_positions(geom["coordinates"], ndigits)
    geom.pop("bbox", None)  # a bbox would no longer match; consumers recompute it
    return geom


def to_gcj02_geojson(geojson: dict, ndigits: int | None = 6) -> dict:
    """Return a copy of a WGS-84 GeoJSON FeatureCollection, Feature or geometry with every position in GCJ-02.

    Use it before drawing WGS-84 layers on AMap (高德) tiles. Positions are rounded to `ndigits` decimals
    (None keeps full precision). The input is not modified.
    """
    out = copy.deepcopy(geojson)
    kind = out.get("type")
    if kind == "FeatureCollection":
        for feature in out.get("features", []):
            feature["geometry"] = _convert_geometry(feature.get("geometry"), ndigits)
            feature.pop("bbox", None)
        out.pop("bbox", None)
    elif kind == "Feature":
        out["geometry"] = _convert_geometry(out.get("geometry"), ndigits)
        out.pop("bbox", None)
    else:
        _convert_geometry(out, ndigits)
    return out
