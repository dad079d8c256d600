"""GCJ-02 conversion: size and direction of the offset at 西湖区, round trips, points outside China, GeoJSON."""
from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geo import gcj02
from geo.layers import district_outline

GEOD = Geod(ellps="WGS84")

# Three independent (WGS-84, GCJ-02) pairs from the shared reference table (Vonng/adcode 2016 Amap geocodes,
# converted to WGS-84 there by a separate implementation): (lon_wgs84, lat_wgs84, lon_gcj02, lat_gcj02).
REFERENCE_PAIRS = [
    (115.888735, 28.670796, 115.893583, 28.667426),  # 象山社区
    (115.911645, 28.673298, 115.916482, 28.669928),  # 金盘东路社区
    (115.870320, 28.640327, 115.875193, 28.636956),  # 河畔社区
]


def metres(lon1, lat1, lon2, lat2) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_offset_at_district_centroid_is_about_604_m_to_the_south_east():
    c = district_outline().centroid
    lon, lat = gcj02.wgs84_to_gcj02(c.x, c.y)
    azimuth, _, dist = GEOD.inv(c.x, c.y, lon, lat)
    assert 590 <= dist <= 620
    assert 120 <= azimuth % 360 <= 136


@pytest.mark.parametrize("wlon, wlat, glon, glat", REFERENCE_PAIRS)
def test_reference_pairs_forward_and_inverse(wlon, wlat, glon, glat):
    # the pairs are rounded to 6 decimals (≈ 0.1 m), so allow 0.5 m
    assert metres(*gcj02.wgs84_to_gcj02(wlon, wlat), glon, glat) < 0.5
    assert metres(*gcj02.gcj02_to_wgs84(glon, glat), wlon, wlat) < 0.5


def test_scalar_round_trip_residual_below_half_a_metre():
    rng = np.random.default_rng(7)
    for lon, lat in zip(rng.uniform(74, 134, 200), rng.uniform(19, 53, 200)):
        back = gcj02.gcj02_to_wgs84(*gcj02.wgs84_to_gcj02(lon, lat))
        assert metres(lon, lat, *back) < 0.5


def test_vectorised_matches_scalar_and_round_trips():
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(115.82, 115.92, 500), rng.uniform(28.60, 28.68, 500)
    glon, glat = gcj02.wgs84_to_gcj02_array(lon, lat)
    scalar = np.array([gcj02.wgs84_to_gcj02(x, y) for x, y in zip(lon, lat)])
    np.testing.assert_allclose(glon, scalar[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(glat, scalar[:, 1], rtol=0, atol=1e-12)
    wlon, wlat = gcj02.gcj02_to_wgs84_array(glon, glat)
    residual = GEOD.inv(lon, lat, wlon, wlat)[2]
    assert residual.max() < 0.5


def test_out_of_china_points_are_unchanged():
    outside = [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688)]
    for lon, lat in outside:
        assert gcj02.out_of_china(lon, lat)
        assert gcj02.wgs84_to_gcj02(lon, lat) == (lon, lat)
        assert gcj02.gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert not gcj02.out_of_china(115.87, 28.64)
    lon, lat = np.array([p[0] for p in outside] + [115.87]), np.array([p[1] for p in outside] + [28.64])
    glon, glat = gcj02.wgs84_to_gcj02_array(lon, lat)
    np.testing.assert_array_equal(glon[:-1], lon[:-1])
    np.testing.assert_array_equal(glat[:-1], lat[:-1])
    assert glon[-1] != lon[-1]
    np.testing.assert_array_equal(gcj02.out_of_china_array(lon, lat), [True] * 4 + [False])


def test_to_gcj02_geojson_converts_every_position_and_leaves_input_alone():
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "甲"},
             "geometry": {"type": "Point", "coordinates": [115.87, 28.64]}},
            {"type": "Feature", "properties": {},
             "geometry": {"type": "Polygon",
                          "coordinates": [[[115.86, 28.63], [115.88, 28.63], [115.88, 28.65], [115.86, 28.63]]]}},
            {"type": "Feature", "properties": {},
             "geometry": {"type": "GeometryCollection", "geometries": [
                 {"type": "LineString", "coordinates": [[115.86, 28.63, 12.5], [115.87, 28.64, 13.0]]}]}},
            {"type": "Feature", "properties": {}, "geometry": None},
        ],
    }
    out = gcj02.to_gcj02_geojson(fc)
    assert fc["features"][0]["geometry"]["coordinates"] == [115.87, 28.64]  # input untouched
    assert out["features"][0]["properties"] == {"name": "甲"}
    expected = [round(v, 6) for v in gcj02.wgs84_to_gcj02(115.87, 28.64)]
    assert out["features"][0]["geometry"]["coordinates"] == expected
    ring = out["features"][1]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 4
    assert 590 < metres(115.86, 28.63, *ring[0]) < 620
    line = out["features"][2]["geometry"]["geometries"][0]["coordinates"]
    assert line[0][2] == 12.5 and line[1][2] == 13.0
    assert out["features"][3]["geometry"] is None
    bare = gcj02.to_gcj02_geojson({"type": "Point", "coordinates": [115.87, 28.64]})
    assert bare["coordinates"] == expected
