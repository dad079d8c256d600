"""Walking rings, communities within reach, uncovered pockets and drill-down — on hand-built points in metres."""
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from geo import coverage
from geo.layers import METRIC_CRS

TO_WGS = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
TO_M = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
X0, Y0 = TO_M.transform(115.89, 28.66)  # 西湖区 centre, in UTM 50N metres


def pts(offsets, **cols):
    """Points at (dx, dy) metres from the centre, as a WGS-84 lon/lat DataFrame."""
    lon, lat = TO_WGS.transform([X0 + dx for dx, _ in offsets], [Y0 + dy for _, dy in offsets])
    return pd.DataFrame({"lon": lon, "lat": lat, **cols})


def test_rings_are_true_circles_in_metres():
    rings = coverage.walking_rings(pts([(0, 0), (2000, 0)], name=["甲", "乙"]), 500)
    assert rings.crs.to_string() == METRIC_CRS
    assert list(rings["name"]) == ["甲", "乙"]
    for area in rings.geometry.area:
        assert area == pytest.approx(math.pi * 500 ** 2, rel=0.005)
    wgs = rings.to_crs("EPSG:4326")
    p = pts([(0, 0)])
    assert wgs.geometry.iloc[0].contains(gpd.points_from_xy(p.lon, p.lat)[0])


def test_communities_within_walking_radius():
    points = pts([(0, 0)], name=["东岸社区幸福食堂"])
    comms = pts([(300, 0), (0, 450), (800, 0)], code=["a", "b", "c"], pop_60=[10, 20, 30])
    out = coverage.communities_within(comms, points, 500)
    assert list(out["within_walk"]) == [True, True, False]
    assert out["nearest_m"].tolist() == pytest.approx([300, 450, 800], abs=1)
    assert out["nearest_point"].iloc[2] == "东岸社区幸福食堂"
    assert list(coverage.communities_within(comms, points, 350)["within_walk"]) == [True, False, False]


def test_no_meal_points_means_nothing_within_reach():
    comms = pts([(0, 0), (10, 10)], code=["a", "b"])
    out = coverage.communities_within(comms, pts([]), 500)
    assert not out["within_walk"].any()
    assert out["nearest_m"].isna().all()


def test_radius_out_of_range_is_explained_in_chinese():
    with pytest.raises(coverage.CoverageInputError, match="步行半径"):
        coverage.walking_rings(pts([(0, 0)]), 50)
    with pytest.raises(coverage.CoverageInputError, match="不是数字"):
        coverage.walking_rings(pts([(0, 0)]), "abc")


def test_uncovered_pockets_are_the_far_communities_most_elderly_first():
    points = pts([(0, 0)])
    comms = pts([(100, 0), (900, 0), (0, 1500), (50, 50)], code=list("abcd"), pop_60=[5, 40, 90, 7],
                pop_80=[1, 8, 20, 2], covered=[True, True, False, True])
    pockets = coverage.uncovered_pockets(comms, points, 500)
    assert list(pockets["code"]) == ["c", "b"]
    # b is inside a registered service area but far to walk: the covered column travels along
    assert list(pockets["covered"]) == [False, True]


def test_uncovered_area_of_a_square_around_one_ring():
    sq = box(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000)
    areas = gpd.GeoDataFrame({"code": ["s1"]}, geometry=[sq], crs=METRIC_CRS).to_crs("EPSG:4326")
    out = coverage.uncovered_area(areas, pts([(0, 0)]), 500)
    assert out["area_km2"].iloc[0] == pytest.approx(4.0, rel=0.01)
    assert out["uncovered_share"].iloc[0] == pytest.approx(1 - math.pi * 0.25 / 4, abs=0.01)
    none = coverage.uncovered_area(areas, pts([]), 500)
    assert none["uncovered_share"].iloc[0] == pytest.approx(1.0)


def test_reach_area_merges_overlapping_rings():
    reach = coverage.reach_area(pts([(0, 0), (500, 0)]), 500)
    single = math.pi * 500 ** 2
    assert single < reach.area < 2 * single
    assert coverage.reach_area(pts([]), 500).is_empty


def test_subdistrict_summary_counts_elderly_in_uncovered_communities():
    comms = pd.DataFrame({"subdistrict_code": ["1", "1", "1", "2"], "covered": [True, False, False, True],
                          "pop_60": [100, 200, 300, 50], "pop_80": [10, 20, 30, 5]})
    s = coverage.subdistrict_summary(comms).set_index("subdistrict_code")
    assert s.loc["1", "communities"] == 3 and s.loc["1", "covered"] == 1
    assert s.loc["1", "coverage_rate"] == pytest.approx(1 / 3)
    assert s.loc["1", "uncovered_pop_60"] == 500 and s.loc["1", "uncovered_pop_80"] == 50
    assert s.loc["2", "uncovered_pop_60"] == 0
    assert coverage.subdistrict_summary(comms.iloc[0:0]).empty


def test_drill_down_lists_one_subdistrict_uncovered_first():
    comms = pd.DataFrame({"code": list("abcd"), "subdistrict_code": ["1", "1", "1", "2"],
                          "covered": [True, False, False, True], "pop_60": [100, 200, 300, 50]})
    out = coverage.drill_down(comms, "1")
    assert list(out["code"]) == ["c", "b", "a"]
    assert len(coverage.drill_down(comms, None)) == 4


def test_nearest_distances_positions():
    d, pos = coverage.nearest_distances(pts([(0, 0), (1000, 0)]), pts([(990, 0), (10, 0)]))
    assert list(pos) == [1, 0]
    assert d == pytest.approx(np.array([10, 10]), abs=0.5)


def test_points_near_keeps_the_meal_points_in_the_communities_extent_widened_by_the_radius():
    points = pts([(0, 0), (1000, 300), (1900, 0), (-700, 0), (-20000, 0)], name=["甲", "乙", "丙", "丁", "戊"])
    comms = pts([(0, 0), (1450, 0)], code=["a", "b"])
    # extent x -500…1950, y -500…500: 丙 is 450 m past b and still reaches it; 丁 and 戊 are outside
    assert list(coverage.points_near(points, comms, 500)["name"]) == ["甲", "乙", "丙"]
    assert list(coverage.points_near(points, comms, 800)["name"]) == ["甲", "乙", "丙", "丁"]
    assert coverage.points_near(points, comms.iloc[0:0], 500).empty
    assert coverage.points_near(points.iloc[0:0], comms, 500).empty
