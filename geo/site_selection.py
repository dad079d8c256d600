"""选址分析: which vacant rooms (闲置用房) should become the next meal points — maximal covering and fewest-rooms models.

Pure Python (numpy, shapely, pyproj, highspy); no Streamlit, no database. Inputs are DataFrames:

- communities: code, name, lon, lat and the weight column (pop_60 by default, or pop_80 / living_alone);
- rooms: code, lon, lat, area_m2, floor, has_lift, owner_type, monthly_rent, status (the vacant-room registry);
- meal_points: lon, lat of the meal points operating on the chosen day — they are fixed in.

Coverage definition used here (口径): a community is covered when its point lies within the walking radius
(straight-line metres in EPSG:32650, UTM 50N) of a meal point. Communities covered by the operating meal points
drop out of the model; uncovered communities that no eligible room reaches are blind spots (盲区) — listed, never
making a model infeasible. The model is reduced before solving: demand points with the same candidate set are
merged, and a candidate is dropped when another one covers a superset of its demand at no higher rent.

Exact answers come from HiGHS (mixed-integer programming) under a time limit; a greedy heuristic runs beside it.
A time-limited answer is reported as ``time_limit`` with its proven gap, never as optimal.
"""
from __future__ import annotations

import heapq
import math
import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from geo.coverage import MAX_RADIUS_M, MIN_RADIUS_M, metric_xy, nearest_distances

WEIGHTS = {"pop_60": "60岁及以上老人", "pop_80": "80岁及以上老人", "living_alone": "独居老人"}
OWNER_TYPES = {"state": "国有", "community": "社区（村）集体", "enterprise": "企业", "private": "个人"}
ROOM_STATUSES = {"candidate": "候选", "negotiating": "洽谈中", "rejected": "已否决", "converted": "已转为设施"}
OPEN_STATUSES = ("candidate", "negotiating")  # only these can still be chosen
ACCESS_RULES = {"any": "不限", "ground_or_lift": "须在一层或有电梯"}
MODES = {"max_cover": "给定间数：覆盖最多老人", "min_rooms": "给定覆盖目标：所需最少间数"}
STATUS_LABELS = {
    "optimal": "已证明最优",
    "time_limit": "达到时间上限（未证明最优）",
    "infeasible": "目标无法达到",
    "heuristic": "贪心近似解",
    "interrupted": "求解被中断",
    "error": "求解出错",
}
COMMUNITY_STATES = {"covered": "现有助餐点已覆盖", "new": "新增覆盖", "gap": "仍未覆盖（可覆盖）", "blind": "盲区"}


class SiteInputError(ValueError):
    """Input that cannot be used for site selection; the message is Chinese and names the field."""


# --- parameters ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SiteParams:
    """One run's parameters; also the cache key and what a saved scenario stores."""
    mode: str = "max_cover"            # max_cover: choose ≤ k rooms; min_rooms: fewest rooms reaching target_share
    radius_m: float = 500.0            # walking radius (straight line, metres)
    weight: str = "pop_60"             # demand weight column
    k: int = 5                         # max_cover: rooms to choose at most
    target_share: float = 0.65         # min_rooms: share of total weight to be covered (0–1)
    max_rooms: int | None = None       # min_rooms: optional cap ("65 % with 2 rooms")
    min_area_m2: float = 0.0
    access: str = "any"                # any / ground_or_lift
    owner_types: tuple[str, ...] = tuple(OWNER_TYPES)
    max_rent_each: float | None = None  # 元/月, per room
    rent_budget: float | None = None    # 元/月, total of the chosen rooms
    time_limit_s: float = 10.0
    # count communities in an operating meal point's registered service area (the official 口径) as covered too;
    # the caller passes them to optimise(…, already_covered=…) — recorded here so a saved scenario says so
    count_service_area: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these parameters, in Chinese (empty when usable)."""
        out = []
        if self.mode not in MODES:
            out.append(f"求解方式“{self.mode}”无效，应为：{'、'.join(MODES)}。")
        if not (MIN_RADIUS_M <= self.radius_m <= MAX_RADIUS_M):
            out.append(f"步行半径应在 {MIN_RADIUS_M}–{MAX_RADIUS_M} 米之间。")
        if self.weight not in WEIGHTS:
            out.append(f"权重“{self.weight}”无效，应为：{'、'.join(WEIGHTS)}。")
        if self.mode == "max_cover" and (int(self.k) != self.k or self.k < 1):
            out.append("新增点位数 k 必须是正整数。")
        if self.mode == "min_rooms" and not (0 < self.target_share <= 1):
            out.append("覆盖目标必须在 0 与 100% 之间。")
        if self.max_rooms is not None and self.max_rooms < 0:
            out.append("最多间数不能为负数。")
        if self.min_area_m2 < 0:
            out.append("最小面积不能为负数。")
        if self.access not in ACCESS_RULES:
            out.append(f"无障碍要求“{self.access}”无效。")
        unknown = [o for o in self.owner_types if o not in OWNER_TYPES]
        if unknown:
            out.append(f"产权类型无效：{'、'.join(unknown)}。")
        if self.max_rent_each is not None and self.max_rent_each < 0:
            out.append("单间月租金上限不能为负数。")
        if self.rent_budget is not None and self.rent_budget < 0:
            out.append("月租金总预算不能为负数。")
        if not (self.time_limit_s > 0):
            out.append("求解时间上限必须大于 0 秒。")
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["owner_types"] = list(self.owner_types)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SiteParams":
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "owner_types" in kw:
            kw["owner_types"] = tuple(kw["owner_types"])
        return cls(**kw)


# --- results ---------------------------------------------------------------------------------------------------

@dataclass
class RoomPick:
    """One chosen room, in pick order: what it newly covers given the fixed points and the rooms before it."""
    rank: int
    code: str
    monthly_rent: float
    new_weight: float                  # marginal gain: elderly newly covered at this pick
    new_communities: list[str]         # community codes newly covered at this pick
    cumulative_weight: float           # covered weight after this pick (fixed points included)
    cumulative_share: float


@dataclass
class SolveOutcome:
    """One method's answer (exact HiGHS or greedy)."""
    method: str                        # exact / greedy
    status: str                        # optimal / time_limit / infeasible / heuristic / interrupted / error
    picks: list[RoomPick]
    covered_weight: float              # total covered after the picks (fixed points included)
    share: float
    total_rent: float
    seconds: float
    gap: float | None = None           # relative gap of the primary objective (0 when optimal)
    bound: float | None = None         # proven bound of the primary objective (covered weight, or rooms)
    message: str = ""

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.picks]


@dataclass
class SiteResult:
    """Everything a run produced: chosen rooms with marginal gains, coverage before/after, status, greedy beside it."""
    params: dict
    total_weight: float
    covered_before: float
    share_before: float
    exact: SolveOutcome
    greedy: SolveOutcome
    target_weight: float | None = None       # min_rooms: weight the target asks for
    target_met: bool | None = None
    best_reachable_share: float | None = None  # min_rooms when the target cannot be met
    blind_spots: list[dict] = field(default_factory=list)
    community_state: dict[str, str] = field(default_factory=dict)  # code -> covered/new/gap/blind (exact answer)
    model: dict = field(default_factory=dict)  # sizes before/after reduction
    build_seconds: float = 0.0

    @property
    def chosen(self) -> list[str]:
        return self.exact.codes

    @property
    def share_after(self) -> float:
        return self.exact.share

    @property
    def differs(self) -> bool:
        """Whether the greedy answer is a different set of rooms from the exact one."""
        return set(self.exact.codes) != set(self.greedy.codes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SiteResult":
        def outcome(o):
            o = dict(o)
            o["picks"] = [RoomPick(**p) for p in o["picks"]]
            return SolveOutcome(**o)
        d = dict(d)
        d["exact"], d["greedy"] = outcome(d["exact"]), outcome(d["greedy"])
        return cls(**d)


# --- neighbours --------------------------------------------------------------------------------------------------

def _xy(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Metric x, y arrays (METRIC_CRS, metres) of a frame's WGS-84 lon/lat columns."""
    xy = metric_xy(df)
    return xy[:, 0], xy[:, 1]


def pairs_within(ax, ay, bx, by, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i into a, j into b) of points at most `radius` metres apart, sorted by i then j."""
    if len(ax) == 0 or len(bx) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    tree = STRtree(shapely.points(bx, by))
    ia, jb = tree.query(shapely.points(ax, ay), predicate="dwithin", distance=radius)
    order = np.lexsort((jb, ia))
    return ia[order].astype(np.int64), jb[order].astype(np.int64)


# --- eligibility -------------------------------------------------------------------------------------------------

ROOM_COLUMNS = ("code", "lon", "lat", "area_m2", "floor", "has_lift", "owner_type", "monthly_rent", "status")


def _require(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SiteInputError(f"{what}缺少字段：{'、'.join(missing)}。")


def room_eligibility(rooms: pd.DataFrame, params: SiteParams) -> pd.DataFrame:
    """The registry with an `excluded_reason` column: empty when the room may be chosen, else why not (Chinese)."""
    _require(rooms, ROOM_COLUMNS, "闲置用房表")
    df = rooms.copy().reset_index(drop=True)
    reasons: list[list[str]] = [[] for _ in range(len(df))]

    def mark(mask, text):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            reasons[i].append(text)

    status = df["status"].astype(str)
    mark(~status.isin(OPEN_STATUSES), "状态不是候选或洽谈中")
    lon, lat = pd.to_numeric(df["lon"], errors="coerce"), pd.to_numeric(df["lat"], errors="coerce")
    mark(lon.isna() | lat.isna(), "缺少坐标")
    floor = pd.to_numeric(df["floor"], errors="coerce")
    mark(floor.isna() | (floor < 1), "地下室或楼层不明，不宜设助餐点")
    area = pd.to_numeric(df["area_m2"], errors="coerce").fillna(0)
    if params.min_area_m2 > 0:
        mark(area < params.min_area_m2, f"面积小于 {params.min_area_m2:g} m²")
    if params.access == "ground_or_lift":
        lift = df["has_lift"].fillna(False).astype(bool)
        mark((floor != 1) & ~lift, "不在一层且无电梯")
    mark(~df["owner_type"].isin(params.owner_types), "产权类型未选")
    rent = pd.to_numeric(df["monthly_rent"], errors="coerce").fillna(0)
    if params.max_rent_each is not None:
        mark(rent > params.max_rent_each, f"月租金超过单间上限 {params.max_rent_each:,.0f} 元")
    if params.rent_budget is not None:
        mark(rent > params.rent_budget, f"月租金超过总预算 {params.rent_budget:,.0f} 元")
    df["excluded_reason"] = ["；".join(r) for r in reasons]
    return df


# --- the instance ------------------------------------------------------------------------------------------------

@dataclass
class SiteInstance:
    """The coverage model in metres, reduced, ready for the exact solver and the greedy heuristic."""
    params: SiteParams
    communities: pd.DataFrame   # code, name, weight, x, y, state (covered/reachable/blind), nearest_point_m, n_rooms
    rooms: pd.DataFrame         # registry + excluded_reason, x, y, reach (uncovered communities within the radius)
    total_weight: float
    covered_before: float
    room_covers: dict[str, np.ndarray]  # eligible room code -> indices of uncovered communities it reaches
    # reduced model
    cand_codes: list[str]
    cand_rent: np.ndarray
    group_weight: np.ndarray
    group_cands: list[np.ndarray]   # per demand group: indices into cand_codes
    model: dict

    @property
    def reachable_weight(self) -> float:
        return float(self.group_weight.sum())


def build_instance(communities: pd.DataFrame, rooms: pd.DataFrame, meal_points: pd.DataFrame,
                   params: SiteParams, already_covered: set[str] | None = None) -> SiteInstance:
    """Project, apply constraints, find what the operating meal points already cover, and reduce the model.

    already_covered: community codes to count as covered whatever the distance (e.g. a registered service range).
    """
    bad = params.problems()
    if bad:
        raise SiteInputError(" ".join(bad))
    _require(communities, ("code", "lon", "lat", params.weight), "社区表")
    _require(meal_points, ("lon", "lat"), "助餐点表")
    t0 = time.perf_counter()
    com = communities.reset_index(drop=True).copy()
    if com["code"].duplicated().any():
        raise SiteInputError("社区表中有重复的社区代码。")
    com["weight"] = pd.to_numeric(com[params.weight], errors="coerce").fillna(0).astype(float)
    if (com["weight"] < 0).any():
        raise SiteInputError(f"社区表的“{WEIGHTS[params.weight]}”人数不能为负数。")
    located = com["lon"].notna() & com["lat"].notna()
    unlocated = com.loc[~located, "code"].astype(str).tolist()
    com = com[located].reset_index(drop=True)  # a community without a point cannot be placed on the model
    com["x"], com["y"] = _xy(com)
    mp = meal_points.dropna(subset=["lon", "lat"])
    com["nearest_point_m"] = nearest_distances(com, mp)[0]
    covered = com["nearest_point_m"].to_numpy() <= params.radius_m
    if already_covered:
        covered |= com["code"].isin(already_covered).to_numpy()

    rm = room_eligibility(rooms, params)
    eligible = (rm["excluded_reason"] == "").to_numpy()
    el = rm[eligible].sort_values("code", kind="stable")
    el_idx = el.index.to_numpy()
    ex, ey = _xy(el)

    unc = np.flatnonzero(~covered)
    ci, rj = pairs_within(com["x"].to_numpy()[unc], com["y"].to_numpy()[unc], ex, ey, params.radius_m)
    ci = unc[ci]  # back to community indices
    n_rooms = np.bincount(ci, minlength=len(com))
    com["n_rooms"] = n_rooms
    com["state"] = np.where(covered, "covered", np.where(n_rooms > 0, "reachable", "blind"))

    # nearest eligible room and nearest open room of any kind, for the blind-spot list
    located_rooms = pd.to_numeric(rm["lon"], errors="coerce").notna() & pd.to_numeric(rm["lat"], errors="coerce").notna()
    open_rm = rm[rm["status"].isin(OPEN_STATUSES) & located_rooms]
    com["nearest_room_m"] = nearest_distances(com, el)[0]
    com["nearest_open_room_m"] = nearest_distances(com, open_rm)[0]

    # per eligible room: uncovered communities within reach (for marginal gains, in community terms)
    room_covers: dict[str, np.ndarray] = {}
    codes = el["code"].astype(str).to_numpy()
    order = np.argsort(rj, kind="stable")
    splits = np.searchsorted(rj[order], np.arange(len(el) + 1))
    for j in range(len(el)):
        room_covers[codes[j]] = np.sort(ci[order[splits[j]:splits[j + 1]]])
    reach = np.zeros(len(rm), dtype=int)
    reach[el_idx] = [len(room_covers[c]) for c in codes]
    rm["reach"] = reach

    # --- reduction 1: demand points with identical candidate sets merged (weight-0 demand dropped)
    weight = com["weight"].to_numpy()
    by_com: dict[int, list[int]] = {}
    for c, j in zip(ci.tolist(), rj.tolist()):
        by_com.setdefault(c, []).append(j)
    groups: dict[tuple[int, ...], float] = {}
    for c, js in by_com.items():
        if weight[c] > 0:
            key = tuple(js)
            groups[key] = groups.get(key, 0.0) + weight[c]
    group_keys = sorted(groups)  # deterministic order
    gw = np.array([groups[g] for g in group_keys], dtype=float)

    # --- reduction 2: dominated candidates dropped (only by one that is no more expensive when rent matters)
    rent_all = pd.to_numeric(el["monthly_rent"], errors="coerce").fillna(0).to_numpy(dtype=float)
    cost_matters = params.rent_budget is not None
    cover_sets: list[set[int]] = [set() for _ in range(len(el))]
    for g, key in enumerate(group_keys):
        for j in key:
            cover_sets[j].add(g)
    keep = np.array([len(s) > 0 for s in cover_sets])
    for j in range(len(el)):
        if not keep[j]:
            continue
        # a dominator must reach the demand group of j that the fewest candidates reach
        rarest = min(cover_sets[j], key=lambda g: (len(group_keys[g]), g))
        for j2 in group_keys[rarest]:
            if j2 == j:
                continue  # any dominator proves j is not needed (dominance is a strict partial order)
            if not cover_sets[j] <= cover_sets[j2]:
                continue
            if cost_matters and rent_all[j2] > rent_all[j]:
                continue
            strict = (len(cover_sets[j2]) > len(cover_sets[j]) or (cost_matters and rent_all[j2] < rent_all[j])
                      or j2 < j)
            if strict:
                keep[j] = False
                break
    kept = np.flatnonzero(keep)
    remap = -np.ones(len(el), dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    group_cands = []
    for key in group_keys:
        mapped = remap[list(key)]
        group_cands.append(np.unique(mapped[mapped >= 0]))

    total = float(com["weight"].sum())
    model = {
        "communities": int(len(com)),
        "communities_covered_before": int(covered.sum()),
        "communities_blind": int((com["state"] == "blind").sum()),
        "demand_points": int(sum(1 for c in by_com if weight[c] > 0)),
        "demand_groups": int(len(group_keys)),
        "rooms": int(len(rm)),
        "rooms_eligible": int(len(el)),
        "candidates": int(len(kept)),
        "pairs": int(len(ci)),
        "communities_unlocated": unlocated,
    }
    inst = SiteInstance(params=params, communities=com, rooms=rm, total_weight=total,
                        covered_before=float(weight[covered].sum()), room_covers=room_covers,
                        cand_codes=[codes[j] for j in kept], cand_rent=rent_all[kept], group_weight=gw,
                        group_cands=group_cands, model=model)
    inst.model["build_seconds"] = time.perf_counter() - t0
    return inst


# --- greedy ------------------------------------------------------------------------------------------------------

def _greedy_select(inst: SiteInstance, max_picks: int, budget: float | None, need: float | None) -> list[int]:
    """Lazy greedy on the reduced model: largest marginal weight first, ties by room code; stops at max_picks,
    when nothing adds weight, or (need given) once the newly covered weight reaches `need`."""
    n_c = len(inst.cand_codes)
    cand_groups: list[list[int]] = [[] for _ in range(n_c)]
    for g, cs in enumerate(inst.group_cands):
        for j in cs:
            cand_groups[j].append(g)
    gw = inst.group_weight
    done = np.zeros(len(gw), dtype=bool)
    heap = [(-float(gw[gs].sum()), j) for j, gs in enumerate(cand_groups)]  # cand_codes are in code order
    heapq.heapify(heap)
    left = budget
    picked, gained = [], 0.0
    while heap and len(picked) < max_picks and (need is None or gained < need - 1e-9):
        neg, j = heapq.heappop(heap)
        if left is not None and inst.cand_rent[j] > left + 1e-9:
            continue  # never affordable again: the budget only shrinks
        gain = float(gw[[g for g in cand_groups[j] if not done[g]]].sum()) if cand_groups[j] else 0.0
        if heap and (-gain, j) > heap[0]:
            heapq.heappush(heap, (-gain, j))  # stale: re-rank
            continue
        if gain <= 0:
            break
        picked.append(j)
        gained += gain
        done[cand_groups[j]] = True
        if left is not None:
            left -= inst.cand_rent[j]
    return picked


# --- exact (HiGHS) -----------------------------------------------------------------------------------------------

@dataclass
class _Mip:
    status: str
    x: np.ndarray | None      # chosen candidate indices
    value: float | None
    bound: float | None
    gap: float | None
    seconds: float


def _highs():
    import highspy
    return highspy


def _solve_mip(inst: SiteInstance, *, objective: str, k: int | None, budget: float | None,
               min_cover: float | None, time_limit: float, start: list[int] | None, integral: bool) -> _Mip:
    """One HiGHS solve over the reduced model.

    Columns: x_j (binary, one per candidate), then y_g ∈ [0, 1] (one per demand group, y_g ≤ Σ_{j∈N(g)} x_j).
    objective: "cover" maximises Σ w_g y_g; "rooms" minimises Σ x_j; "rank" minimises Σ (j+1) x_j (tie-break).
    """
    hs = _highs()
    t0 = time.perf_counter()
    J, G = len(inst.cand_codes), len(inst.group_weight)
    n = J + G
    inf = hs.kHighsInf
    if objective == "cover":
        cost, sense = np.concatenate([np.zeros(J), inst.group_weight]), hs.ObjSense.kMaximize
    elif objective == "rooms":
        cost, sense = np.concatenate([np.ones(J), np.zeros(G)]), hs.ObjSense.kMinimize
    else:
        cost, sense = np.concatenate([np.arange(1, J + 1, dtype=float), np.zeros(G)]), hs.ObjSense.kMinimize
    starts, index, value, lo, hi = [0], [], [], [], []
    for g, cs in enumerate(inst.group_cands):
        index.extend(cs.tolist())
        value.extend([-1.0] * len(cs))
        index.append(J + g)
        value.append(1.0)
        starts.append(len(index))
        lo.append(-inf)
        hi.append(0.0)
    if k is not None and k < J:
        index.extend(range(J)); value.extend([1.0] * J); starts.append(len(index)); lo.append(-inf); hi.append(float(k))
    if budget is not None:
        index.extend(range(J)); value.extend(inst.cand_rent.tolist()); starts.append(len(index))
        lo.append(-inf); hi.append(float(budget))
    if min_cover is not None:
        index.extend(range(J, n)); value.extend(inst.group_weight.tolist()); starts.append(len(index))
        lo.append(float(min_cover)); hi.append(inf)

    lp = hs.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(lo)
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.array(lo, dtype=float), np.array(hi, dtype=float)
    lp.sense_ = sense
    lp.a_matrix_.format_ = hs.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, len(lo)
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=float)
    lp.integrality_ = [hs.HighsVarType.kInteger] * J + [hs.HighsVarType.kContinuous] * G

    h = hs.Highs()
    h.silent()
    h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    h.setOptionValue("mip_rel_gap", 0.0)
    # objectives with integer coefficients only take integer values: a gap below 1 proves optimality
    h.setOptionValue("mip_abs_gap", 0.999 if (integral or objective != "cover") else 1e-6)
    h.setOptionValue("random_seed", 0)
    h.passModel(lp)
    if start is not None:
        col = np.zeros(n)
        col[list(start)] = 1.0
        for g, cs in enumerate(inst.group_cands):
            col[J + g] = 1.0 if col[cs].sum() > 0.5 else 0.0
        sol = hs.HighsSolution()
        sol.col_value = col.tolist()
        h.setSolution(sol)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    seconds = time.perf_counter() - t0
    M = hs.HighsModelStatus
    status = {M.kOptimal: "optimal", M.kTimeLimit: "time_limit", M.kInfeasible: "infeasible",
              M.kInterrupt: "interrupted"}.get(ms, "error")
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == "infeasible" or not has_sol:
        return _Mip(status, None, None, None, None, seconds)
    xs = np.asarray(h.getSolution().col_value[:J])
    chosen = np.flatnonzero(xs > 0.5)
    val = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    if status == "optimal":
        bound, gap = val, 0.0
    else:
        gap = abs(bound - val) / max(abs(val), 1e-9) if math.isfinite(bound) else None
    if not math.isfinite(bound):  # no bound proven before the time limit
        bound = None
    return _Mip(status, chosen, val, bound, gap, seconds)


# --- reporting -------------------------------------------------------------------------------------------------

def rank_picks(inst: SiteInstance, codes: list[str]) -> list[RoomPick]:
    """Order chosen rooms by marginal gain (largest first, ties by room code) and attribute new communities."""
    com = inst.communities
    weight = com["weight"].to_numpy()
    ccode = com["code"].astype(str).to_numpy()
    rent = dict(zip(inst.rooms["code"].astype(str), pd.to_numeric(inst.rooms["monthly_rent"], errors="coerce").fillna(0)))
    empty = np.empty(0, dtype=np.int64)
    done = np.zeros(len(com), dtype=bool)
    heap = [(-float(weight[inst.room_covers.get(c, empty)].sum()), c) for c in sorted(set(codes))]
    heapq.heapify(heap)  # lazy: a room's gain only shrinks as others are placed before it
    cum = inst.covered_before
    picks = []
    while heap:
        _neg, c = heapq.heappop(heap)
        idx = inst.room_covers.get(c, empty)
        new = idx[~done[idx]]
        g = float(weight[new].sum())
        if heap and (-g, c) > heap[0]:
            heapq.heappush(heap, (-g, c))
            continue
        done[new] = True
        cum += g
        picks.append(RoomPick(rank=len(picks) + 1, code=c, monthly_rent=float(rent.get(c, 0.0)), new_weight=g,
                              new_communities=sorted(ccode[new].tolist()), cumulative_weight=cum,
                              cumulative_share=_share(cum, inst.total_weight)))
    return picks


def _share(w: float, total: float) -> float:
    return w / total if total > 0 else 0.0


def _outcome(inst: SiteInstance, method: str, status: str, codes: list[str], seconds: float,
             gap=None, bound=None, message="") -> SolveOutcome:
    picks = rank_picks(inst, codes)
    covered = picks[-1].cumulative_weight if picks else inst.covered_before
    return SolveOutcome(method=method, status=status, picks=picks, covered_weight=covered,
                        share=_share(covered, inst.total_weight), total_rent=float(sum(p.monthly_rent for p in picks)),
                        seconds=seconds, gap=gap, bound=bound, message=message)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _integral(inst: SiteInstance) -> bool:
    return bool(np.all(np.equal(np.mod(inst.group_weight, 1), 0)))


def _max_cover_exact(inst: SiteInstance, k: int, budget: float | None, deadline: float,
                     start: list[int]) -> tuple[_Mip, list[int] | None]:
    """Maximise newly covered weight with ≤ k rooms within budget; then, among optimal sets, prefer smaller codes."""
    J = len(inst.cand_codes)
    if J == 0 or len(inst.group_weight) == 0:
        return _Mip("optimal", np.empty(0, dtype=int), 0.0, 0.0, 0.0, 0.0), []
    integral = _integral(inst)
    a = _solve_mip(inst, objective="cover", k=k, budget=budget, min_cover=None,
                   time_limit=deadline - time.perf_counter(), start=start, integral=integral)
    if a.status != "optimal" or a.x is None:
        return a, None if a.x is None else a.x.tolist()
    # tie-break among optimal sets: same covered weight, smallest sum of code ranks (deterministic)
    left = deadline - time.perf_counter()
    if left > 0.05:
        need = a.value - (0.5 if integral else 1e-6)
        b = _solve_mip(inst, objective="rank", k=k, budget=budget, min_cover=need, time_limit=left,
                       start=a.x.tolist(), integral=True)
        if b.x is not None:
            return a, b.x.tolist()
    return a, a.x.tolist()


def optimise(communities: pd.DataFrame, rooms: pd.DataFrame, meal_points: pd.DataFrame, params: SiteParams,
             already_covered: set[str] | None = None) -> SiteResult:
    """Build the instance and solve it exactly (HiGHS) and greedily; see SiteParams for the two modes."""
    t0 = time.perf_counter()
    inst = build_instance(communities, rooms, meal_points, params, already_covered)
    build_s = time.perf_counter() - t0
    return solve(inst, build_seconds=build_s)


def solve(inst: SiteInstance, build_seconds: float = 0.0) -> SiteResult:
    p = inst.params
    budget = p.rent_budget
    J = len(inst.cand_codes)
    target_weight = target_met = best_share = None

    if p.mode == "max_cover":
        tg = time.perf_counter()
        g_idx = _greedy_select(inst, int(p.k), budget, None)
        greedy = _outcome(inst, "greedy", "heuristic", [inst.cand_codes[j] for j in g_idx], time.perf_counter() - tg)
        te = time.perf_counter()
        mip, x = _max_cover_exact(inst, int(p.k), budget, te + p.time_limit_s, g_idx)
        exact = _exact_outcome(inst, mip, x, time.perf_counter() - te)
    else:
        target_weight = p.target_share * inst.total_weight
        need = target_weight - inst.covered_before - 1e-9
        cap = J if p.max_rooms is None else min(int(p.max_rooms), J)
        tg = time.perf_counter()
        g_idx = _greedy_select(inst, cap, budget, max(need, 0.0))
        greedy = _outcome(inst, "greedy", "heuristic", [inst.cand_codes[j] for j in g_idx], time.perf_counter() - tg)
        te = time.perf_counter()
        deadline = te + p.time_limit_s
        if need <= 0:
            exact = _outcome(inst, "exact", "optimal", [], time.perf_counter() - te, gap=0.0, bound=0.0,
                             message=f"现有助餐点已覆盖 {_pct(_share(inst.covered_before, inst.total_weight))}，已达到目标，无需新增。")
            target_met = True
        elif need > inst.reachable_weight + 1e-9:
            limited = p.max_rooms is not None or budget is not None
            exact = _best_reachable(inst, cap, budget, deadline, g_idx, te,
                                    reason=_limits_text(p, cap) if limited else "全部符合条件的用房")
            target_met, best_share = False, exact.share
        else:
            start = g_idx if greedy.covered_weight >= target_weight - 1e-9 else None
            integral = _integral(inst)
            need_int = math.ceil(need - 1e-6) if integral else need
            a = _solve_mip(inst, objective="rooms", k=cap, budget=budget, min_cover=need_int,
                           time_limit=deadline - time.perf_counter(), start=start, integral=True)
            if a.status == "infeasible":
                exact = _best_reachable(inst, cap, budget, deadline, g_idx, te,
                                        reason=_limits_text(p, cap))
                target_met, best_share = False, exact.share
            elif a.x is None:
                exact = _outcome(inst, "exact", a.status, [], time.perf_counter() - te,
                                 message="在时间上限内未找到达到目标的方案，请参考贪心方案或放宽时间上限。")
                target_met = None
            else:
                # among the sets of that size, the one covering the most (then the smallest codes)
                n_rooms = len(a.x)
                mip, x = _max_cover_exact(inst, n_rooms, budget, deadline, a.x.tolist())
                if x is None or len(x) > n_rooms or mip.value is None or mip.value < need_int - 1e-6:
                    x = a.x.tolist()
                exact = _outcome(inst, "exact", a.status, [inst.cand_codes[j] for j in x], time.perf_counter() - te,
                                 gap=a.gap, bound=a.bound)  # status, gap and bound of the primary objective (rooms)
                exact.message = _rooms_message(exact, a)
                target_met = exact.covered_weight >= target_weight - 1e-6

    com_state = _community_state(inst, exact.picks)
    blind = inst.communities[inst.communities["state"] == "blind"]
    blind_rows = [{"code": str(r.code), "name": str(getattr(r, "name", "")),
                   "subdistrict_name": str(getattr(r, "subdistrict_name", "") or ""),
                   "weight": float(r.weight), "nearest_point_m": _finite(r.nearest_point_m),
                   "nearest_room_m": _finite(r.nearest_room_m),
                   "reachable_if_relaxed": bool(r.nearest_open_room_m <= p.radius_m)}
                  for r in blind.sort_values(["weight", "code"], ascending=[False, True]).itertuples()]
    return SiteResult(params=p.to_dict(), total_weight=inst.total_weight, covered_before=inst.covered_before,
                      share_before=_share(inst.covered_before, inst.total_weight), exact=exact, greedy=greedy,
                      target_weight=target_weight, target_met=target_met, best_reachable_share=best_share,
                      blind_spots=blind_rows, community_state=com_state, model=dict(inst.model),
                      build_seconds=build_seconds)


def _finite(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _limits_text(p: SiteParams, cap: int) -> str:
    parts = []
    if p.max_rooms is not None:
        parts.append(f"最多 {cap} 间")
    if p.rent_budget is not None:
        parts.append(f"月租金总预算 {p.rent_budget:,.0f} 元")
    return "、".join(parts) or "当前约束"


def _best_reachable(inst: SiteInstance, cap: int, budget: float | None, deadline: float, g_idx: list[int],
                    t_start: float, reason: str) -> SolveOutcome:
    """The target cannot be met: the best coverage reachable under the same limits, with the fewest rooms."""
    p = inst.params
    mip, x = _max_cover_exact(inst, cap, budget, deadline, g_idx)
    if mip.status == "optimal" and x is not None and time.perf_counter() < deadline - 0.05:
        fewest = _solve_mip(inst, objective="rooms", k=cap, budget=budget,
                            min_cover=mip.value - (0.5 if _integral(inst) else 1e-6),
                            time_limit=deadline - time.perf_counter(), start=x, integral=True)
        if fewest.x is not None and len(fewest.x) <= len(x):
            x = fewest.x.tolist()
    out = _exact_outcome(inst, mip, x, time.perf_counter() - t_start)
    proven = out.status == "optimal"
    out.status = "infeasible"
    msg = (f"无法达到覆盖目标 {_pct(p.target_share)}：在{reason}下，最多可达 {_pct(out.share)}"
           f"（需新增 {len(out.picks)} 间）")
    if not proven:
        ub = _share(out.bound, inst.total_weight) if out.bound is not None else None
        msg += "；达到时间上限，该值未证明最优" + (f"，上界 {_pct(ub)}" if ub is not None else "")
    out.message = msg + "。"
    return out


def _exact_outcome(inst: SiteInstance, mip: _Mip, x: list[int] | None, seconds: float) -> SolveOutcome:
    if x is None:  # no incumbent at all (time limit before any solution): fall back to nothing chosen
        return _outcome(inst, "exact", mip.status, [], seconds, message="在时间上限内未找到可行解。")
    bound = None if mip.bound is None else mip.bound + inst.covered_before  # in total covered weight
    out = _outcome(inst, "exact", mip.status, [inst.cand_codes[j] for j in x], seconds, gap=mip.gap, bound=bound)
    if mip.status == "optimal" and not inst.cand_codes:
        out.message = "没有可新增覆盖的候选用房：未覆盖的社区步行半径内都没有符合条件的用房。"
    elif mip.status == "optimal":
        out.message = "已证明最优。"
    elif mip.status == "time_limit":
        gap = "未知" if mip.gap is None else _pct(mip.gap)
        ub = "" if bound is None else f"；最优方案覆盖不超过 {bound:,.0f} 人（{_pct(_share(bound, inst.total_weight))}）"
        out.message = f"达到时间上限（{inst.params.time_limit_s:g} 秒），当前方案未证明最优，新增覆盖的证明差距 {gap}{ub}。"
    else:
        out.message = STATUS_LABELS.get(mip.status, mip.status)
    return out


def _rooms_message(out: SolveOutcome, a: _Mip) -> str:
    if a.status == "optimal":
        return f"已证明最优：达到目标至少需要 {len(out.picks)} 间。"
    lb = "未知" if a.bound is None else f"{math.ceil(a.bound - 1e-6)}"
    return (f"达到时间上限，当前方案 {len(out.picks)} 间，未证明最少（已证明至少需要 {lb} 间，"
            f"差距 {'未知' if a.gap is None else _pct(a.gap)}）。")


def _community_state(inst: SiteInstance, picks: list[RoomPick]) -> dict[str, str]:
    com = inst.communities
    state = dict(zip(com["code"].astype(str), com["state"].map({"covered": "covered", "reachable": "gap",
                                                                 "blind": "blind"})))
    for p in picks:
        for c in p.new_communities:
            state[c] = "new"
    return state


# --- tables for the page (Chinese headers) -------------------------------------------------------------------------

def picks_table(outcome: SolveOutcome, rooms: pd.DataFrame, names: dict[str, str], weight_label: str) -> pd.DataFrame:
    """The ranked shortlist: one row per chosen room with its marginal gain."""
    info = rooms.set_index(rooms["code"].astype(str))
    rows = []
    for p in outcome.picks:
        r = info.loc[p.code] if p.code in info.index else None
        rows.append({
            "排序": p.rank, "用房编号": p.code,
            "地址": None if r is None else r.get("address"),
            "面积(m²)": None if r is None else r.get("area_m2"),
            "楼层": None if r is None else r.get("floor"),
            "月租金(元)": p.monthly_rent,
            f"新增覆盖{weight_label}(人)": p.new_weight,
            "新增覆盖社区数": len(p.new_communities),
            "新增覆盖社区": "、".join(names.get(c, c) for c in p.new_communities),
            "累计覆盖率": round(p.cumulative_share * 100, 1),
        })
    return pd.DataFrame(rows, columns=["排序", "用房编号", "地址", "面积(m²)", "楼层", "月租金(元)",
                                       f"新增覆盖{weight_label}(人)", "新增覆盖社区数", "新增覆盖社区", "累计覆盖率"])
