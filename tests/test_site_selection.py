"""Site selection on small hand-made instances with known optima (plain pytest, no database, no Streamlit)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from geo.site_selection import (
    SiteInputError,
    SiteParams,
    SiteResult,
    build_instance,
    optimise,
    room_eligibility,
)
from geo.layers import METRIC_CRS

_INV = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
_X0, _Y0 = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True).transform(115.88, 28.66)


def ll(dx: float, dy: float = 0.0) -> tuple[float, float]:
    """lon/lat of a point dx, dy metres from a fixed origin in Xihu."""
    return _INV.transform(_X0 + dx, _Y0 + dy)


def communities(rows) -> pd.DataFrame:
    out = []
    for code, dx, w, *dy in rows:
        lon, lat = ll(dx, dy[0] if dy else 0.0)
        out.append({"code": code, "name": f"{code}社区", "lon": lon, "lat": lat,
                    "pop_60": w, "pop_80": w // 2, "living_alone": 1})
    return pd.DataFrame(out)


def rooms(rows) -> pd.DataFrame:
    out = []
    for code, dx, *extra in rows:
        lon, lat = ll(dx)
        r = {"code": code, "address": f"{code}号", "lon": lon, "lat": lat, "area_m2": 120.0, "floor": 1,
             "has_lift": False, "owner_type": "state", "monthly_rent": 1000.0, "status": "candidate"}
        r.update(extra[0] if extra else {})
        out.append(r)
    return pd.DataFrame(out)


def points(dxs) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(("lon", "lat"), ll(dx))) for dx in dxs], columns=["lon", "lat"])


# Communities on a line; radius 250 m. c0 is served by the operating meal point; c5 is out of every room's reach.
# R-L reaches c1+c2 (11), R-M reaches c2+c3 (12), R-R reaches c3+c4 (11). With k = 2 the optimum is {R-L, R-R}
# (22 newly covered) while greedy takes R-M first (12) and ends at 17.
LINE = communities([("c0", -1000, 20), ("c1", 0, 5), ("c2", 400, 6), ("c3", 800, 6), ("c4", 1200, 5),
                    ("c5", 5000, 7)])
LINE_ROOMS = rooms([("R-L", 200), ("R-M", 600), ("R-R", 1000)])
LINE_POINTS = points([-1000])
TOTAL = 49.0


def test_max_cover_returns_the_known_best_set_and_greedy_differs():
    res = optimise(LINE, LINE_ROOMS, LINE_POINTS, SiteParams(radius_m=250, k=2))
    assert res.exact.status == "optimal" and res.exact.gap == 0.0
    assert sorted(res.chosen) == ["R-L", "R-R"]
    assert res.covered_before == 20 and res.total_weight == TOTAL
    assert res.exact.covered_weight == 42
    assert res.share_before == pytest.approx(20 / TOTAL) and res.share_after == pytest.approx(42 / TOTAL)
    assert res.greedy.codes == ["R-M", "R-L"] and res.greedy.covered_weight == 37
    assert [p.new_weight for p in res.greedy.picks] == [12, 5]  # marginal gains per pick
    assert res.differs
    # ranked by marginal gain, ties by room code; each pick names the communities it newly covers
    assert [(p.code, p.new_weight, p.new_communities) for p in res.exact.picks] == [
        ("R-L", 11, ["c1", "c2"]), ("R-R", 11, ["c3", "c4"])]
    assert res.exact.picks[-1].cumulative_share == pytest.approx(42 / TOTAL)


def test_blind_spots_are_listed_not_infeasible():
    res = optimise(LINE, LINE_ROOMS, LINE_POINTS, SiteParams(radius_m=250, k=3))
    assert [b["code"] for b in res.blind_spots] == ["c5"]
    assert res.blind_spots[0]["weight"] == 7 and res.blind_spots[0]["reachable_if_relaxed"] is False
    assert res.community_state == {"c0": "covered", "c1": "new", "c2": "new", "c3": "new", "c4": "new",
                                   "c5": "blind"}
    assert res.exact.status == "optimal"


def test_fewest_rooms_reach_the_target():
    res = optimise(LINE, LINE_ROOMS, LINE_POINTS, SiteParams(mode="min_rooms", radius_m=250, target_share=0.80))
    assert res.exact.status == "optimal"
    assert sorted(res.chosen) == ["R-L", "R-R"]
    assert res.target_met is True and res.share_after >= 0.80
    assert len(res.greedy.codes) == 3 and res.greedy.share >= 0.80  # greedy needs a third room


def test_target_already_met_needs_no_room():
    res = optimise(LINE, LINE_ROOMS, LINE_POINTS, SiteParams(mode="min_rooms", radius_m=250, target_share=0.30))
    assert res.target_met is True and res.chosen == [] and res.exact.status == "optimal"
    assert "无需新增" in res.exact.message


@pytest.mark.parametrize("params, best, rooms_used", [
    (SiteParams(mode="min_rooms", radius_m=250, target_share=0.95), 42 / TOTAL, 2),           # beyond any reach
    (SiteParams(mode="min_rooms", radius_m=250, target_share=0.80, max_rooms=1), 32 / TOTAL, 1),  # "80 % with 1"
])
def test_infeasible_target_reports_best_reachable(params, best, rooms_used):
    res = optimise(LINE, LINE_ROOMS, LINE_POINTS, params)
    assert res.exact.status == "infeasible" and res.target_met is False
    assert res.best_reachable_share == pytest.approx(best)
    assert len(res.chosen) == rooms_used
    assert "无法达到" in res.exact.message and f"{best * 100:.1f}%" in res.exact.message


def test_constraints_exclude_what_they_should():
    rs = rooms([
        ("A-ok", 0),
        ("B-small", 0, {"area_m2": 40.0}),
        ("C-basement", 0, {"floor": -1, "has_lift": True}),
        ("D-upstairs", 0, {"floor": 3}),
        ("E-lift", 0, {"floor": 3, "has_lift": True}),
        ("F-private", 0, {"owner_type": "private"}),
        ("G-dear", 0, {"monthly_rent": 9000.0}),
        ("H-rejected", 0, {"status": "rejected"}),
        ("I-nocoords", 0, {"lon": None, "lat": None}),
    ])
    params = SiteParams(min_area_m2=60, access="ground_or_lift", owner_types=("state", "community"),
                        max_rent_each=5000)
    el = room_eligibility(rs, params).set_index("code")["excluded_reason"]
    assert el["A-ok"] == "" and el["E-lift"] == ""
    assert "面积" in el["B-small"]
    assert "地下" in el["C-basement"]
    assert "一层" in el["D-upstairs"]
    assert "产权" in el["F-private"]
    assert "租金" in el["G-dear"]
    assert "状态" in el["H-rejected"]
    assert "坐标" in el["I-nocoords"]
    res = optimise(communities([("c1", 0, 10)]), rs, points([]), SiteParams(**{**params.to_dict(), "k": 9,
                                                                             "owner_types": ("state", "community")}))
    assert res.chosen == ["A-ok"]  # E-lift reaches the same community: one room suffices, the smaller code wins
    assert res.model["rooms_eligible"] == 2


def test_ties_are_broken_by_room_code():
    coms = communities([("c1", 0, 10), ("c2", 3000, 10)])
    rs = rooms([("R-B", 0), ("R-A", 3000), ("R-C", 0)])  # R-C duplicates R-B
    for _ in range(3):
        res = optimise(coms, rs, points([]), SiteParams(radius_m=100, k=1))
        assert res.chosen == ["R-A"] and res.greedy.codes == ["R-A"]
    inst = build_instance(coms, rs, points([]), SiteParams(radius_m=100, k=1))
    assert inst.cand_codes == ["R-A", "R-B"]  # the duplicate was dropped as dominated


def test_dominance_respects_rent_when_budget_binds():
    # X covers c1+c2 at 5,000; Y covers only c1 at 1,000; Z covers c3 at 5,000. Budget 6,000, k = 2:
    # Y + Z (18) beats X alone (11) — Y must not be dropped as "dominated" by the dearer X.
    coms = communities([("c1", 0, 10), ("c2", 150, 1), ("c3", 3000, 8)])
    rs = rooms([("X", 75, {"monthly_rent": 5000.0}), ("Y", 0, {"monthly_rent": 1000.0}),
                ("Z", 3000, {"monthly_rent": 5000.0})])
    res = optimise(coms, rs, points([]), SiteParams(radius_m=100, k=2, rent_budget=6000))
    assert sorted(res.chosen) == ["Y", "Z"] and res.exact.covered_weight == 18
    assert res.exact.total_rent == 6000
    # without a budget X dominates Y and the model drops Y
    inst = build_instance(coms, rs, points([]), SiteParams(radius_m=100, k=2))
    assert "Y" not in inst.cand_codes


def test_model_reduction_merges_identical_demand_and_drops_covered():
    coms = communities([("a", 0, 3), ("b", 10, 4), ("c", 2000, 5), ("d", 5000, 6)])
    rs = rooms([("R1", 5), ("R2", 2000)])
    inst = build_instance(coms, rs, points([5000]), SiteParams(radius_m=100))
    assert inst.model["communities_covered_before"] == 1  # d
    assert inst.model["demand_points"] == 3 and inst.model["demand_groups"] == 2  # a and b merged
    assert sorted(inst.group_weight.tolist()) == [5.0, 7.0]


def test_weight_option_and_result_round_trip():
    res = optimise(LINE, LINE_ROOMS, LINE_POINTS, SiteParams(radius_m=250, k=1, weight="pop_80"))
    assert res.total_weight == sum(w // 2 for w in (20, 5, 6, 6, 5, 7))
    again = SiteResult.from_dict(json.loads(json.dumps(res.to_dict(), allow_nan=False)))
    assert again.chosen == res.chosen and again.exact.picks == res.exact.picks
    assert SiteParams.from_dict(res.params) == SiteParams(radius_m=250, k=1, weight="pop_80")


def test_bad_parameters_are_refused_in_chinese():
    with pytest.raises(SiteInputError, match="步行半径"):
        optimise(LINE, LINE_ROOMS, LINE_POINTS, SiteParams(radius_m=0))
    with pytest.raises(SiteInputError, match="k"):
        optimise(LINE, LINE_ROOMS, LINE_POINTS, SiteParams(k=0))
    with pytest.raises(SiteInputError, match="缺少字段"):
        optimise(LINE, LINE_ROOMS.drop(columns=["floor"]), LINE_POINTS, SiteParams())


def _random_instance(seed: int, n_com: int, n_room: int, span_m: float):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, span_m, (n_com, 2))
    coms = pd.DataFrame([{"code": f"C{i:05d}", "name": f"C{i}", "lon": ll(x, y)[0], "lat": ll(x, y)[1],
                          "pop_60": int(w), "pop_80": 0, "living_alone": 0}
                         for i, ((x, y), w) in enumerate(zip(xy, rng.integers(50, 3000, n_com)))])
    rxy = rng.uniform(0, span_m, (n_room, 2))
    rs = pd.DataFrame([{"code": f"R{j:05d}", "address": "", "lon": ll(x, y)[0], "lat": ll(x, y)[1],
                        "area_m2": 100.0, "floor": 1, "has_lift": False, "owner_type": "state",
                        "monthly_rent": float(rng.integers(0, 8) * 1000), "status": "candidate"}
                       for j, (x, y) in enumerate(rxy)])
    return coms, rs, points([])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_never_worse_than_greedy(seed):
    coms, rs, mp = _random_instance(seed, 172, 300, 6000)
    for p in (SiteParams(radius_m=500, k=8), SiteParams(radius_m=500, k=8, rent_budget=20000),
              SiteParams(mode="min_rooms", radius_m=500, target_share=0.5)):
        res = optimise(coms, rs, mp, p)
        assert res.exact.status in ("optimal", "infeasible")
        if p.mode == "max_cover":
            assert res.exact.covered_weight >= res.greedy.covered_weight
            assert res.exact.total_rent <= (p.rent_budget or float("inf"))
            assert len(res.chosen) <= p.k
        else:
            assert len(res.chosen) <= len(res.greedy.codes) and res.target_met


def test_time_limit_is_reported_with_gap_never_as_optimal():
    coms, rs, mp = _random_instance(7, 4000, 1500, 30000)
    res = optimise(coms, rs, mp, SiteParams(radius_m=900, k=60, time_limit_s=0.05))
    ex = res.exact
    assert ex.status in ("optimal", "time_limit")
    assert ex.covered_weight >= res.greedy.covered_weight  # the greedy answer is the solver's starting point
    if ex.status == "time_limit":
        assert "未证明最优" in ex.message and "已证明最优" not in ex.message
        if ex.bound is not None:
            assert ex.gap is not None and ex.gap > 0 and ex.bound >= ex.covered_weight
        else:  # stopped before the first bound (loaded machine): the gap is reported as unknown
            assert "未知" in ex.message
    else:
        assert ex.gap == 0.0 and ex.bound == ex.covered_weight


def test_time_limited_fewest_rooms_reports_the_proven_lower_bound():
    coms, rs, mp = _random_instance(7, 4000, 1500, 30000)
    res = optimise(coms, rs, mp, SiteParams(mode="min_rooms", radius_m=900, target_share=0.5, time_limit_s=0.05))
    ex = res.exact
    assert ex.status in ("optimal", "time_limit")
    if ex.status == "time_limit":
        assert "未证明最少" in ex.message
        if ex.codes and ex.bound is not None:
            assert ex.bound <= len(ex.codes) and ex.gap is not None
        else:  # stopped before any lower bound was proven (e.g. on a loaded machine): say so, never "optimal"
            assert "未知" in ex.message
    else:
        assert ex.gap == 0.0 and len(ex.codes) <= len(res.greedy.codes)


def test_no_candidate_in_reach_is_not_an_error():
    res = optimise(LINE, rooms([("far", 20000)]), LINE_POINTS, SiteParams(radius_m=250, k=2))
    assert res.exact.status == "optimal" and res.chosen == [] and "没有可新增覆盖的候选用房" in res.exact.message
    assert {b["code"] for b in res.blind_spots} == {"c1", "c2", "c3", "c4", "c5"}


def test_already_covered_communities_drop_out():
    res = optimise(LINE, LINE_ROOMS, LINE_POINTS, SiteParams(radius_m=250, k=1, count_service_area=True),
                   already_covered={"c2", "c3"})
    assert res.covered_before == 20 + 6 + 6 and res.chosen == ["R-L"]  # c1 (5) ties c4 (5): smaller code
