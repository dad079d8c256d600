"""选址分析's page model: demand and gaps, the optimisation (maximal covering / fewest rooms), saved scenarios side
by side, and the vacant-room registry (闲置用房台账) with its writes.

`build(reader, street, on, radius, weight, section)` reads what the chosen section shows (every read through the
reader: access-checked, and cached by data version on the dashboard); `solve`, `scenario` and `room_form` add
what a section computes after its own inputs are chosen; the actions (`save_scenario`, `delete_scenario`,
`convert_room`, `save_room`, `add_room`, `import_rooms`) write as the reader's principal and return the message
the page flashes. The geometry and the optimisation are geo.site_selection's; the rooms' rules and writes are
data.writes.site's (the one vacant-room pipeline, shared with the import ledger).
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from data.domain.units import pct
from data import imports
from data.imports.ledgers import VACANT_ROOMS
from data.ops.settings import MapSettings, map_settings
from data.queries import facilities, geography, site
from data.security.access import AccessDenied, Reader, call  # noqa: F401  (AccessDenied: for the page)
from data.queries.common import data_version
from data.writes import site as site_writes
from geo import site_selection as ss
from geo.coverage import MAX_RADIUS_M, MIN_RADIUS_M, points_near  # noqa: F401  (the radius bounds: for the page)
from views import map_scale

SECTIONS = ("需求与缺口", "优化选址", "方案比较", "闲置用房台账")
WEIGHTS, MODES, ACCESS_RULES, OWNER_TYPES = ss.WEIGHTS, ss.MODES, ss.ACCESS_RULES, ss.OWNER_TYPES
ROOM_STATUSES = ss.ROOM_STATUSES
ROOM_FORM_STATUSES = {s: ss.ROOM_STATUSES[s] for s in ("candidate", "negotiating", "rejected")}  # "converted": by action
NEW_ROOM = "（新增）"
COLOURS = {"covered": "#2b8cbe", "new": "#1a9850", "gap": "#d73027", "reachable": "#d73027", "blind": "#252525"}
STATE_TEXT = {**ss.COMMUNITY_STATES, "reachable": "未覆盖（有可用用房可覆盖）"}
RUN_STATUS = {"optimal": "最优", "time_limit": "超时未证", "infeasible": "达不到"}
ImportRefused, RoomWriteError, ScenarioError = imports.ImportRefused, site_writes.RoomWriteError, site_writes.ScenarioError
MAX_SHOWN = imports.MAX_SHOWN   # problems of a refused import shown on the page
SOLVED_KEPT = 64   # solved parameter sets kept in memory (as the page's cache held)

# The registry as shown and exported: the import ledger's own headers, so a downloaded registry imports again.
REGISTRY_HEADERS = {c.field: c.header for c in VACANT_ROOMS.columns}
REGISTRY_SOURCES = {"subdistrict_code": "subdistrict_name", "community_code": "community_name"}  # names, not codes


@dataclass(frozen=True)
class Metric:
    """One headline figure as shown (label, value, its 口径 as help, an optional change)."""
    label: str
    value: str
    help: str | None = None
    delta: str | None = None


@dataclass(frozen=True)
class SiteMap:
    """What one map of the page puts on the district map frame: communities by state, rooms (the chosen ones
    numbered), the operating meal points in its extent with their rings."""
    boundaries: pd.DataFrame     # subdistrict boundaries of the scope (the frame fits them)
    official: bool               # every boundary shown is an official one
    communities: pd.DataFrame    # code, short_name, lon, lat, state, weight
    rooms: pd.DataFrame          # the registry
    meal_points: pd.DataFrame    # operating meal points in the map's extent
    chosen: tuple[str, ...]
    radius: float
    weight_label: str
    settings: MapSettings        # the basemap
    limit: int                   # the points one map carries (views.map_scale.MAX_POINTS)

    @property
    def points(self) -> int:
        return len(self.communities) + len(self.rooms) + len(self.meal_points)

    @property
    def fits(self) -> bool:
        """False when the view holds more points than one map can carry (a province without a subdistrict chosen):
        the page shows a note instead, the tables list everything."""
        return self.points <= self.limit


@dataclass(frozen=True)
class SitePage:
    """选址分析 for a scope and day: what every section reads, and what the chosen section shows."""
    street: str | None
    on: date
    radius: int
    weight: str
    weight_label: str
    settings: MapSettings          # the basemap
    communities: pd.DataFrame
    registry: pd.DataFrame         # vacant rooms of the scope (every status)
    operating: pd.DataFrame        # meal points operating on `on`
    names: dict                    # community code → short name
    in_service_area: frozenset     # communities in an operating meal point's registered service area (F11)
    service_area_share: str        # 官方口径覆盖率
    boundaries: pd.DataFrame | None = None      # the sections with a map
    metrics: tuple[Metric, ...] = ()            # 需求与缺口
    demand_map: SiteMap | None = None
    gaps: pd.DataFrame | None = None
    scenarios: dict | None = None               # 方案比较: scenario id → label, newest first
    registry_table: pd.DataFrame | None = None  # 闲置用房台账


@dataclass(frozen=True)
class Solution:
    """优化选址 for one parameter set: refused parameters (`problems`), or the result as the page shows it."""
    params: ss.SiteParams
    problems: tuple[str, ...] = ()
    result: ss.SiteResult | None = None
    metrics: tuple[Metric, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()   # (success / warning / error / info, text)
    model_note: str = ""
    map: SiteMap | None = None
    shortlist: pd.DataFrame | None = None
    exact_title: str = ""
    exact_short: pd.DataFrame | None = None
    greedy_title: str = ""
    greedy_short: pd.DataFrame | None = None
    greedy_note: str = ""
    blind: pd.DataFrame | None = None


@dataclass(frozen=True)
class ScenarioCard:
    """One saved scenario as 方案比较 shows it."""
    sid: int
    name: str
    heading: str            # 求解方式 · 半径 · 权重 (after the name)
    metrics: tuple[Metric, ...]
    conditions: str
    table: pd.DataFrame     # its shortlist
    chosen: frozenset
    may_delete: bool


@dataclass(frozen=True)
class RoomForm:
    """新增或修改用房: the rooms that may be edited and what the form offers (a 街道 account: its own subdistrict)."""
    codes: list[str]               # NEW_ROOM first, then every room not converted
    streets: dict[str, str]
    communities: dict[str, str]    # code → "街道 · 社区"
    default_street: str | None
    registry: pd.DataFrame

    def row(self, pick: str) -> pd.Series | None:
        """The registry row of the room picked (None: a new room)."""
        found = self.registry[self.registry["code"] == pick]
        return found.iloc[0] if pick != NEW_ROOM and len(found) else None


# --- the page ----------------------------------------------------------------------------------------------------

def settings(reader: Reader) -> MapSettings:
    """The map settings (basemap, the default walking radius)."""
    return reader.q(map_settings)


def caption(scope: str, on: date) -> str:
    return (f"{scope} · 设施布局截至 {on:%Y-%m-%d}（统计周期末日） · 覆盖口径：社区点位到助餐点的直线距离不超过步行半径"
            "（按米计算）· 候选用房为所选范围内状态为候选或洽谈中的闲置用房，全区运营中的助餐点都计入已有覆盖")


def build(reader: Reader, street: str | None, on: date, radius: int, weight: str, section: str = SECTIONS[0]
          ) -> SitePage:
    """The page as of `on` (the period's last day) for the scope, with what `section` shows."""
    communities = reader.q(geography.communities, street)
    points = reader.q(facilities.facilities_on, on, None, kinds=("meal_point",))
    official = reader.q(facilities.community_meal_coverage, on, street)  # registered service areas (the 口径, F11)
    covered = frozenset(official.loc[official["covered"], "code"])
    page = SitePage(street=street, on=on, radius=radius, weight=weight, weight_label=WEIGHTS[weight],
                    settings=settings(reader), communities=communities, registry=reader.q(site.vacant_rooms, street),
                    operating=points[points["status"] == "operating"],
                    names=dict(zip(communities["code"], communities["short_name"])), in_service_area=covered,
                    service_area_share=pct(len(covered) / len(official)) if len(official) else "—")
    if section in SECTIONS[:2]:
        page = replace(page, boundaries=reader.q(geography.subdistrict_boundaries, street))
    if section == SECTIONS[0]:
        return _demand(page)
    if section == SECTIONS[2]:
        listed = reader.q(site.scenarios)
        return replace(page, scenarios={int(r.id): f"{r.name}（{r.created_at:%Y-%m-%d %H:%M}）"
                                      for r in listed.itertuples()})
    if section == SECTIONS[3]:
        return replace(page, registry_table=registry_frame(page.registry))
    return page


def site_map(page: SitePage, states: pd.DataFrame, chosen=()) -> SiteMap:
    """One map of the page: `states` (communities with state and weight), the registry with `chosen` numbered, and
    the operating meal points in the map's extent with their rings."""
    return SiteMap(boundaries=page.boundaries, official=bool(page.boundaries["boundary_official"].all()),
                   communities=states, rooms=page.registry,
                   meal_points=points_near(page.operating, page.communities, page.radius), chosen=tuple(chosen),
                   radius=float(page.radius), weight_label=page.weight_label, settings=page.settings,
                   limit=map_scale.MAX_POINTS)


# --- 需求与缺口 ----------------------------------------------------------------------------------------------------

def _demand(page: SitePage) -> SitePage:
    inst = ss.build_instance(page.communities, page.registry, page.operating,
                             ss.SiteParams(radius_m=page.radius, weight=page.weight))
    com = inst.communities
    n_cov = int((com["state"] == "covered").sum())
    blind = com[com["state"] == "blind"]
    label = page.weight_label
    metrics = (
        Metric("运营中的助餐点", f"{len(page.operating):,} 个",
               help=f"全区截至 {page.on:%Y-%m-%d} 运营中的社区助餐点（跨街道也计入覆盖）"),
        Metric("官方口径覆盖率", page.service_area_share,
               help="服务范围内有运营中助餐点的社区数 ÷ 社区总数（按社区个数，助餐点登记的服务范围）"),
        Metric("步行半径内的社区", f"{n_cov} / {len(com)}", help=f"社区点位距最近助餐点不超过 {page.radius} 米"),
        Metric(f"{label}覆盖率", f"{inst.covered_before / inst.total_weight:.1%}" if inst.total_weight else "—",
               help="步行半径内社区的老人数 ÷ 全部社区老人数"),
        Metric("未覆盖老人", f"{inst.total_weight - inst.covered_before:,.0f} 人"),
        Metric("盲区社区", f"{len(blind)} 个", help="未覆盖、且步行半径内没有任何可用闲置用房的社区"),
    )
    gaps = com[com["state"] != "covered"].sort_values(["weight", "code"], ascending=[False, True])
    table = pd.DataFrame({
        "社区代码": gaps["code"], "社区": gaps["short_name"], "街道": gaps["subdistrict_name"],
        f"{label}(人)": gaps["weight"].astype(int), "80岁及以上(人)": gaps["pop_80"],
        "独居老人(人)": gaps["living_alone"], "距最近助餐点(米)": gaps["nearest_point_m"].round(0),
        "半径内可用用房(间)": gaps["n_rooms"], "情况": gaps["state"].map(STATE_TEXT),
        "在助餐服务范围内（官方口径）": gaps["code"].isin(page.in_service_area).map({True: "是", False: "否"})})
    return replace(page, metrics=metrics, demand_map=site_map(page, com), gaps=table)


# --- 优化选址 -----------------------------------------------------------------------------------------------------

def params(form: dict, radius: int, weight: str) -> ss.SiteParams:
    """The parameters of the 优化选址 form (its widgets' values); radius and weight follow the page's own controls,
    so a change there re-runs the same model."""
    return ss.SiteParams(
        mode=form["mode"], radius_m=float(radius), weight=weight, k=int(form["k"]), target_share=form["target"] / 100,
        max_rooms=int(form["max_rooms"]) or None, min_area_m2=float(form["min_area"]), access=form["access"],
        owner_types=tuple(form["owners"]), max_rent_each=float(form["rent_each"]) or None,
        rent_budget=float(form["budget"]) or None, time_limit_s=float(form["time_limit"]),
        count_service_area=bool(form["service_area"]))


_solved: OrderedDict = OrderedDict()
_solved_lock = threading.Lock()


def _fingerprint(*parts) -> str:
    """A digest of the solve's inputs (frames by content): the same data and parameters give the same key."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, pd.DataFrame):
            h.update(repr(list(part.columns)).encode())
            h.update(pd.util.hash_pandas_object(part.astype(str), index=False).to_numpy().tobytes())
        else:
            h.update(repr(part).encode())
    return h.hexdigest()


def _optimise(page: SitePage, p: ss.SiteParams) -> ss.SiteResult:
    """One solve per parameter set and input data (kept for SOLVED_KEPT parameter sets: a rerun of the page, or
    another user asking the same, is answered at once)."""
    covered = page.in_service_area if p.count_service_area else None
    key = _fingerprint(page.communities, page.registry, page.operating, sorted(covered or ()),
                       json.dumps(p.to_dict(), sort_keys=True))
    with _solved_lock:
        if key in _solved:
            _solved.move_to_end(key)
            return _solved[key]
    result = ss.optimise(page.communities, page.registry, page.operating, p, already_covered=covered)
    with _solved_lock:
        _solved[key] = result
        while len(_solved) > SOLVED_KEPT:
            _solved.popitem(last=False)
    return result


def _status_notes(res: ss.SiteResult) -> tuple[tuple[str, str], ...]:
    ex = res.exact
    first = {"optimal": ("success", f"精确解（HiGHS）：{ex.message} 用时 {ex.seconds:.2f} 秒。"),
             "time_limit": ("warning", f"精确解（HiGHS）：{ex.message}"),
             "infeasible": ("error", ex.message)}.get(ex.status, ("error", f"求解未完成：{ex.message}"))
    if res.blind_spots:
        return first, ("info", f"{len(res.blind_spots)} 个社区为盲区（步行半径内没有符合条件的用房），已列在下方，不影响求解。")
    return (first,)


def solve(page: SitePage, form: dict | None) -> Solution | None:
    """优化选址 with the form's parameters (None: not run yet)."""
    if form is None:
        return None
    p = params(form, page.radius, page.weight)
    if problems := p.problems():
        return Solution(params=p, problems=tuple(problems))
    res = _optimise(page, p)
    ex, label = res.exact, page.weight_label
    metrics = (
        Metric("覆盖率（优化前）", f"{res.share_before:.1%}", help=f"{label}中步行半径内有运营助餐点的比例"),
        Metric("覆盖率（优化后）", f"{ex.share:.1%}", delta=f"{(ex.share - res.share_before) * 100:+.1f} 个百分点"),
        Metric("新增覆盖老人", f"{ex.covered_weight - res.covered_before:,.0f} 人", help=label),
        Metric("选中用房", f"{len(ex.picks)} 间", help=f"月租金合计 {ex.total_rent:,.0f} 元"),
        Metric("求解状态", RUN_STATUS.get(ex.status, "未完成"),
               help=ss.STATUS_LABELS.get(ex.status, ex.status) + "（HiGHS 混合整数规划；达到时间上限时给出已证明的差距，不称为最优）"),
    )
    m = res.model
    model_note = (f"模型：{m['communities']} 个社区（其中 {m['communities_covered_before']} 个已覆盖、"
                  f"{m['communities_blind']} 个盲区），{m['rooms_eligible']} / {m['rooms']} 间用房符合条件；"
                  f"约简后 {m['demand_groups']} 个需求组 × {m['candidates']} 个候选。")
    com = page.communities
    states = com.assign(state=com["code"].map(res.community_state).fillna("covered"),
                        weight=pd.to_numeric(com[page.weight]).fillna(0))
    shortlist = ss.picks_table(ex, page.registry, page.names, label)
    brief = ["排序", "用房编号", f"新增覆盖{label}(人)"]
    out = dict(params=p, result=res, metrics=metrics, notes=_status_notes(res), model_note=model_note,
               map=site_map(page, states, ex.codes), shortlist=shortlist)
    if res.differs:
        g = res.greedy
        out.update(exact_title=f"**精确解（HiGHS）**：覆盖 {ex.covered_weight:,.0f} 人（{ex.share:.1%}），{len(ex.picks)} 间",
                   exact_short=shortlist[brief],
                   greedy_title=f"**贪心解**：覆盖 {g.covered_weight:,.0f} 人（{g.share:.1%}），{len(g.picks)} 间",
                   greedy_short=ss.picks_table(g, page.registry, page.names, label)[brief])
    else:
        out["greedy_note"] = f"贪心解与精确解相同（贪心用时 {res.greedy.seconds * 1000:.0f} 毫秒）。"
    if res.blind_spots:
        b = pd.DataFrame(res.blind_spots)
        out["blind"] = pd.DataFrame({
            "社区代码": b["code"], "社区": b["code"].map(page.names), f"{label}(人)": b["weight"],
            "距最近助餐点(米)": b["nearest_point_m"].round(0), "距最近符合条件用房(米)": b["nearest_room_m"].round(0),
            "放宽条件后可覆盖": b["reachable_if_relaxed"].map({True: "是", False: "否"})})
    return Solution(**out)


def save_scenario(reader: Reader, page: SitePage, name: str, solution: Solution) -> str:
    """保存方案: the parameters and result under a unique name; returns the message to flash. Raises ScenarioError
    or AccessDenied."""
    site_writes.save_scenario(reader.engine, reader.principal, name, solution.params.to_dict(),
                              solution.result.to_dict(), street=page.street, data_version=data_version(reader.engine))
    return f"方案“{name.strip()}”已保存。"


def convert_room(reader: Reader, page: SitePage, code: str | None) -> str:
    """标记为已转为设施 (the room as the page read it: a version saved meanwhile is refused). Raises RoomWriteError or
    AccessDenied."""
    row = page.registry[page.registry["code"] == code]
    if row.empty:
        raise RoomWriteError(["找不到该用房，可能已被修改。"])
    site_writes.mark_converted(reader.engine, reader.principal, int(row["id"].iloc[0]), int(row["version"].iloc[0]))
    return f"用房 {code} 已转为规划中的助餐点。"


# --- 方案比较 -----------------------------------------------------------------------------------------------------

def conditions_text(p: ss.SiteParams) -> str:
    parts = [f"新增 ≤ {p.k} 间" if p.mode == "max_cover" else f"目标 {p.target_share:.0%}"
             + (f"（≤ {p.max_rooms} 间）" if p.max_rooms else ""),
             f"面积 ≥ {p.min_area_m2:g} m²", ss.ACCESS_RULES[p.access],
             "产权：" + "、".join(ss.OWNER_TYPES[o] for o in p.owner_types)]
    if p.count_service_area:
        parts.append("服务范围内社区视为已覆盖")
    if p.max_rent_each:
        parts.append(f"单间月租 ≤ {p.max_rent_each:,.0f} 元")
    if p.rent_budget:
        parts.append(f"月租总预算 {p.rent_budget:,.0f} 元")
    return "条件：" + "；".join(parts)


def scenario(reader: Reader, page: SitePage, sid: int) -> ScenarioCard | None:
    """One saved scenario (None: deleted meanwhile)."""
    scn = reader.q(site.scenario, sid)
    if scn is None:
        return None
    res = ss.SiteResult.from_dict(scn["result"])
    p = ss.SiteParams.from_dict(scn["parameters"])
    who = reader.principal
    return ScenarioCard(
        sid=sid, name=scn["name"], heading=f"{ss.MODES[p.mode]} · 半径 {p.radius_m:.0f} 米 · {WEIGHTS[p.weight]}",
        metrics=(Metric("覆盖率（后）", f"{res.share_after:.1%}",
                        delta=f"{(res.share_after - res.share_before) * 100:+.1f} 个百分点"),
                 Metric("选中用房", f"{len(res.chosen)} 间"),
                 Metric("状态", ss.STATUS_LABELS.get(res.exact.status, res.exact.status))),
        conditions=conditions_text(p), table=ss.picks_table(res.exact, page.registry, page.names, WEIGHTS[p.weight]),
        chosen=frozenset(res.chosen),
        may_delete=who.can_write and (who.street_locked is None or scn["street"] == who.street_locked))


def compare_text(a: ScenarioCard, b: ScenarioCard) -> tuple[str, str, str]:
    """(仅方案 A 选中, 仅方案 B 选中, 两者都选): room codes joined, or 无."""
    return tuple("、".join(sorted(s)) or "无" for s in (a.chosen - b.chosen, b.chosen - a.chosen, a.chosen & b.chosen))


def delete_scenario(reader: Reader, card: ScenarioCard) -> str:
    """删除该方案; returns the message to flash. Raises AccessDenied."""
    site_writes.delete_scenario(reader.engine, reader.principal, card.sid)
    return f"方案“{card.name}”已删除。"


# --- 闲置用房台账 ---------------------------------------------------------------------------------------------------

def registry_frame(rooms: pd.DataFrame) -> pd.DataFrame:
    """The registry as shown and exported: the import ledger's headers, labels for codes (importable again as it is)."""
    out = pd.DataFrame({h: rooms[REGISTRY_SOURCES.get(c, c)] if REGISTRY_SOURCES.get(c, c) in rooms.columns else None
                        for c, h in REGISTRY_HEADERS.items()})
    if len(rooms):
        out["有无电梯"] = rooms["has_lift"].map({True: "是", False: "否"})
        out["产权类型"] = rooms["owner_type"].map(lambda v: ss.OWNER_TYPES.get(v, v))
        out["状态"] = rooms["status"].map(lambda v: ss.ROOM_STATUSES.get(v, v))
    return out


def room_form(reader: Reader, page: SitePage) -> RoomForm:
    """What 新增或修改用房 offers: a 街道 account registers rooms of its own subdistrict only."""
    locked = reader.principal.street_locked
    streets = reader.q(geography.subdistrict_names)
    if locked:
        streets = {c: n for c, n in streets.items() if c == locked}
    coms = reader.q(geography.communities, locked)
    return RoomForm(codes=[NEW_ROOM] + page.registry.loc[page.registry["status"] != "converted", "code"].tolist(),
                    streets=streets,
                    communities={c: f"{s} · {n}" for c, s, n in zip(coms["code"], coms["subdistrict_name"],
                                                                    coms["short_name"])},
                    default_street=page.street if page.street in streets else next(iter(streets), None),
                    registry=page.registry)


def save_room(reader: Reader, room_id: int, version: int, values: dict) -> dict:
    """修改用房 (only while it still has `version`); returns the room as saved. Raises RoomWriteError (StaleRoomError
    with the room as it is now) or AccessDenied."""
    site_writes.update_room(reader.engine, reader.principal, room_id, values, version)
    return call(reader.principal, site.vacant_room, reader.engine, room_id)


def add_room(reader: Reader, values: dict) -> int:
    """新增用房; returns its id. Raises RoomWriteError or AccessDenied."""
    return site_writes.add_room(reader.engine, reader.principal, values)


def import_rooms(reader: Reader, file_name: str, content: bytes, *, gcj02: bool = False) -> str:
    """从 Excel 导入 through the one ledger pipeline (ledger "vacant_rooms": the guarded reader, the rooms' rules, all
    or nothing, an import batch and an audit entry); returns the message to flash. Raises ImportRefused (every
    problem, by row and column) or AccessDenied."""
    r = imports.import_file(reader.engine, reader.principal, "vacant_rooms", file_name, content, gcj02=gcj02)
    return f"导入完成：新增 {r.rows_added} 间，更新 {r.rows_updated} 间，未变 {r.rows_unchanged} 间（已记入导入记录）。"
