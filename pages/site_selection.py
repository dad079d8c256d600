"""选址分析: vacant-room registry, demand and gaps, optimisation (maximal covering / fewest rooms), scenarios."""
from __future__ import annotations

import json

import folium
import pandas as pd
import shapely
import streamlit as st
from shapely.geometry import mapping, shape

from components import edit_forms, filters, maps
from components.auth_ui import principal
from components.kpis import Kpi, kpi_row
from components.ledger_import import template_download
from components.tables import show_table
from components.text import md
from data import imports
from data.db import cache
from data.writes import site as site_writes
from data.queries.access import AccessDenied, call
from data.queries import facilities, geography, site
from data.queries.common import data_version
from data.ops.settings import map_settings
from geo import site_selection as ss
from geo.coverage import MAX_RADIUS_M, MIN_RADIUS_M, points_near
from geo.layers import district_outline

f = filters.current()
who = principal()
on = f.period.end  # the layout as on the last day of the chosen period
st.title("选址分析")
st.caption(f"{f.scope} · 设施布局截至 {on:%Y-%m-%d}（统计周期末日） · 覆盖口径：社区点位到助餐点的直线距离不超过步行半径"
           "（米制投影 EPSG:32650 计算）· 候选用房为所选范围内状态为候选或洽谈中的闲置用房，全区运营中的助餐点都计入已有覆盖")

if flash := st.session_state.pop("site_flash", None):
    st.success(md(flash))

settings = cache.q(map_settings)
basemap = maps.Basemap(kind=settings.basemap, tianditu_key=settings.tianditu_key)
communities = cache.q(geography.communities, f.street)
registry = cache.q(site.vacant_rooms, f.street)
points = cache.q(facilities.facilities_on, on, None, kinds=("meal_point",))
operating = points[points["status"] == "operating"]
names = dict(zip(communities["code"], communities["short_name"]))
official = cache.q(facilities.community_meal_coverage, on, f.street)  # registered service areas (the 口径, F11)
in_service_area = set(official.loc[official["covered"], "code"])
COLOURS = {"covered": "#2b8cbe", "new": "#1a9850", "gap": "#d73027", "reachable": "#d73027", "blind": "#252525"}
STATE_TEXT = {**ss.COMMUNITY_STATES, "reachable": "未覆盖（有可用用房可覆盖）"}

c1, c2 = st.columns([1, 1])
radius = c1.number_input("步行半径（米）", MIN_RADIUS_M, MAX_RADIUS_M, int(settings.walk_radius_m), step=50,
                         key="site_radius", help="默认值取自地图设置；覆盖按直线距离计算。")
weight = c2.selectbox("需求权重", list(ss.WEIGHTS), format_func=ss.WEIGHTS.get, key="site_weight",
                      help="覆盖率按所选人群人数加权，而不是按社区个数。")
section = st.radio("内容", ["需求与缺口", "优化选址", "方案比较", "闲置用房台账"], horizontal=True, key="site_section",
                   label_visibility="collapsed")


# --- maps (built from DataFrames; folium only, drawn offline by components.maps.show_map) ----------------------

def _base() -> folium.Map:
    outline = district_outline()
    boundaries = cache.q(geography.subdistrict_boundaries, f.street)
    shapes = [shape(json.loads(g)) for g in boundaries["boundary_geojson"] if g] or [outline]
    x0, y0, x1, y1 = shapely.union_all(shapes).bounds
    m = maps.base_map(basemap, [[y0, x0], [y1, x1]])
    if len(boundaries):
        m.add_child(maps.subdistrict_layer(boundaries, basemap))
    maps.add_district_outline(m, mapping(outline), basemap)
    return m


def _dots(m: folium.Map, df: pd.DataFrame, name: str, colour: str, tip, radius_px: int = 6) -> None:
    layer = maps.dot_layer(df, [tip(r) for r in df.to_dict("records")], name=name, colour=colour,
                           radius_px=radius_px, basemap=basemap)
    if layer is not None:
        m.add_child(layer)


def _community_tip(r) -> str:
    return (f"<b>{maps.esc(r['short_name'])}</b><br>{maps.esc(STATE_TEXT.get(r['state'], r['state']))}"
            f"<br>{maps.esc(ss.WEIGHTS[weight])} {int(r['weight']):,} 人")


def _communities(m: folium.Map, states: pd.DataFrame) -> None:
    for state in ("covered", "new", "gap", "reachable", "blind"):
        part = states[states["state"] == state]
        _dots(m, part, STATE_TEXT[state], COLOURS[state], _community_tip)


def _rooms(m: folium.Map, rooms: pd.DataFrame, chosen: list[str] | None = None) -> None:
    rest = rooms[~rooms["code"].isin(chosen or [])].dropna(subset=["lon", "lat"])
    _dots(m, rest, "闲置用房", "#9e9ac8",
          lambda r: f"<b>{maps.esc(r['code'])}</b><br>{maps.esc(r['address'])}<br>{r['area_m2']:,.0f} m² · "
                    f"{int(r['floor'])} 层 · {maps.esc(ss.ROOM_STATUSES.get(r['status'], r['status']))}", 4)
    if not chosen:
        return
    picked = rooms.set_index("code").loc[chosen].reset_index()
    lon, lat = maps.project(picked["lon"].to_numpy(), picked["lat"].to_numpy(), basemap)
    fg = folium.FeatureGroup(name=f"选中用房（{len(picked)}）")
    for rank, ((_, r), x, y) in enumerate(zip(picked.iterrows(), lon, lat), start=1):
        folium.Circle([float(y), float(x)], radius=float(radius), color="#1a9850", weight=1.5, dash_array="6 4",
                      fill=False, interactive=False).add_to(fg)
        folium.Marker([float(y), float(x)], tooltip=f"<b>{rank}. {maps.esc(r['code'])}</b><br>{maps.esc(r['address'])}",
                      icon=folium.DivIcon(html=f"<div style='background:#1a9850;color:#fff;border:2px solid #fff;"
                                               f"border-radius:50%;width:24px;height:24px;line-height:20px;"
                                               f"text-align:center;font-weight:bold;box-shadow:0 0 3px #000'>{rank}</div>",
                                          icon_size=(24, 24), icon_anchor=(12, 12))).add_to(fg)
    m.add_child(fg)


def _finish(m: folium.Map, key: str) -> None:
    shown = points_near(operating, communities, radius)  # the meal points in the map's extent
    if len(shown):
        m.add_child(maps.rings_layer(shown, radius, basemap))
        for layer in maps.facility_layers(shown.assign(kind="meal_point"), basemap):
            m.add_child(layer)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    maps.show_map(m, key=key)
    official = cache.q(geography.subdistrict_boundaries, f.street)["boundary_official"].all()
    st.caption("图例：:blue[●] 现有助餐点已覆盖　:green[●] 新增覆盖　:red[●] 仍未覆盖　● 盲区（步行半径内无可用用房）　"
               ":violet[●] 闲置用房　数字圆点为选中用房（序号同下表），虚线圆为其步行圈。"
               + (maps.OFFICIAL_NOTE if official else maps.SCHEMATIC_NOTE) + "。")


def _map(states: pd.DataFrame, chosen: list[str] | None, key: str) -> None:
    """Communities by state, rooms (chosen ones numbered), meal points with their rings — or, when the view holds
    more points than one map can carry (a province without a subdistrict chosen), a note instead of the map."""
    n = len(states) + len(registry) + len(points_near(operating, communities, radius))
    if n > maps.MAX_POINTS:
        st.info(f"所选范围内的社区、用房和助餐点共 {n:,} 个，超过一张地图能清楚显示的数量（{maps.MAX_POINTS:,}）："
                "请在侧边栏选择街道后查看地图；下方表格列出全部结果。")
        return
    m = _base()
    _communities(m, states)
    _rooms(m, registry, chosen)
    _finish(m, key)


# --- the model (cached per parameter set and data version) -------------------------------------------------------

def _version_key() -> tuple:
    return cache.database_url(), data_version(cache.engine()), f.street, on.isoformat()


@st.cache_data(max_entries=64, show_spinner=False)
def _solve(key: tuple, params_json: str, _communities, _rooms, _points, _service_area) -> ss.SiteResult:
    """One solve per parameter set and data version (key); the frames come from the cached queries."""
    params = ss.SiteParams.from_dict(json.loads(params_json))
    return ss.optimise(_communities, _rooms, _points, params,
                       already_covered=_service_area if params.count_service_area else None)


def _instance(params: ss.SiteParams) -> ss.SiteInstance:
    return ss.build_instance(communities, registry, operating, params)


# --- sections ------------------------------------------------------------------------------------------------

def demand_section() -> None:
    inst = _instance(ss.SiteParams(radius_m=radius, weight=weight))
    com = inst.communities
    n_cov = int((com["state"] == "covered").sum())
    blind = com[com["state"] == "blind"]
    kpi_row([
        Kpi("运营中的助餐点", f"{len(operating):,} 个", help=f"全区截至 {on:%Y-%m-%d} 运营中的社区助餐点（跨街道也计入覆盖）"),
        Kpi("官方口径覆盖率", f"{len(in_service_area) / len(official):.0%}" if len(official) else "—",
            help="服务范围内有运营中助餐点的社区数 ÷ 社区总数（按社区个数，助餐点登记的服务范围）"),
        Kpi("步行半径内的社区", f"{n_cov} / {len(com)}", help=f"社区点位距最近助餐点不超过 {radius} 米"),
        Kpi(f"{ss.WEIGHTS[weight]}覆盖率", f"{inst.covered_before / inst.total_weight:.1%}" if inst.total_weight else "—",
            help="步行半径内社区的老人数 ÷ 全部社区老人数"),
        Kpi("未覆盖老人", f"{inst.total_weight - inst.covered_before:,.0f} 人"),
        Kpi("盲区社区", f"{len(blind)} 个", help="未覆盖、且步行半径内没有任何可用闲置用房的社区"),
    ])
    _map(com, None, "site_demand_map")
    gaps = com[com["state"] != "covered"].sort_values(["weight", "code"], ascending=[False, True])
    st.subheader("未覆盖的社区")
    show_table(pd.DataFrame({
        "社区代码": gaps["code"], "社区": gaps["short_name"], "街道": gaps["subdistrict_name"],
        f"{ss.WEIGHTS[weight]}(人)": gaps["weight"].astype(int), "80岁及以上(人)": gaps["pop_80"],
        "独居老人(人)": gaps["living_alone"], "距最近助餐点(米)": gaps["nearest_point_m"].round(0),
        "半径内可用用房(间)": gaps["n_rooms"], "情况": gaps["state"].map(STATE_TEXT),
        "在助餐服务范围内（官方口径）": gaps["code"].isin(in_service_area).map({True: "是", False: "否"})}),
        key="site_gaps", file_name="未覆盖社区")


def _controls() -> ss.SiteParams | None:
    with st.form("site_params_form"):
        a, b, c = st.columns(3)
        mode = a.radio("求解方式", list(ss.MODES), format_func=ss.MODES.get, key="sp_mode")
        k = a.number_input("新增点位数 k（间）", 1, 500, 5, key="sp_k")
        target = b.slider("覆盖目标（%）", 1, 100, 65, key="sp_target")
        max_rooms = b.number_input("最多间数（0 = 不限）", 0, 500, 0, key="sp_max_rooms")
        time_limit = b.number_input("求解时间上限（秒）", 1, 120, 10, key="sp_time")
        min_area = c.number_input("最小面积（m²）", 0, 5000, 60, step=10, key="sp_area")
        access = c.selectbox("无障碍要求", list(ss.ACCESS_RULES), index=1, format_func=ss.ACCESS_RULES.get, key="sp_access")
        owners = c.multiselect("允许的产权类型", list(ss.OWNER_TYPES), default=list(ss.OWNER_TYPES),
                               format_func=ss.OWNER_TYPES.get, key="sp_owners")
        service_area = st.checkbox("已纳入助餐点服务范围（官方口径）的社区也视为已覆盖", key="sp_service_area")
        d, e = st.columns(2)
        rent_each = d.number_input("单间月租金上限（元，0 = 不限）", 0, 1_000_000, 0, step=500, key="sp_rent_each")
        budget = e.number_input("月租金总预算（元，0 = 不限）", 0, 10_000_000, 0, step=1000, key="sp_budget")
        run = st.form_submit_button("运行优化", type="primary")
    if run:
        st.session_state["site_params"] = ss.SiteParams(
            mode=mode, radius_m=float(radius), weight=weight, k=int(k), target_share=target / 100,
            max_rooms=int(max_rooms) or None, min_area_m2=float(min_area), access=access, owner_types=tuple(owners),
            max_rent_each=float(rent_each) or None, rent_budget=float(budget) or None,
            time_limit_s=float(time_limit), count_service_area=bool(service_area)).to_dict()
    saved = st.session_state.get("site_params")
    if saved is None:
        return None
    # radius and weight follow the page controls above, so a change there re-runs the same model
    return ss.SiteParams.from_dict({**saved, "radius_m": float(radius), "weight": weight})


def _status_box(res: ss.SiteResult) -> None:
    ex = res.exact
    if ex.status == "optimal":
        st.success(f"精确解（HiGHS）：{ex.message} 用时 {ex.seconds:.2f} 秒。")
    elif ex.status == "time_limit":
        st.warning(f"精确解（HiGHS）：{ex.message}")
    elif ex.status == "infeasible":
        st.error(ex.message)
    else:
        st.error(f"求解未完成：{ex.message}")
    if res.blind_spots:
        st.info(f"{len(res.blind_spots)} 个社区为盲区（步行半径内没有符合条件的用房），已列在下方，不影响求解。")


def _picks_frame(outcome: ss.SolveOutcome, rooms: pd.DataFrame) -> pd.DataFrame:
    return ss.picks_table(outcome, rooms, names, ss.WEIGHTS[weight])


def optimise_section() -> None:
    params = _controls()
    if params is None:
        st.info("设置条件后点击“运行优化”。")
        return
    problems = params.problems()
    if problems:
        st.error(" ".join(problems))
        return
    with st.spinner("正在求解……"):
        res = _solve(_version_key(), json.dumps(params.to_dict(), sort_keys=True), communities, registry, operating,
                     in_service_area)
    ex = res.exact
    kpi_row([
        Kpi("覆盖率（优化前）", f"{res.share_before:.1%}", help=f"{ss.WEIGHTS[weight]}中步行半径内有运营助餐点的比例"),
        Kpi("覆盖率（优化后）", f"{ex.share:.1%}", delta=f"{(ex.share - res.share_before) * 100:+.1f} 个百分点"),
        Kpi("新增覆盖老人", f"{ex.covered_weight - res.covered_before:,.0f} 人", help=ss.WEIGHTS[weight]),
        Kpi("选中用房", f"{len(ex.picks)} 间", help=f"月租金合计 {ex.total_rent:,.0f} 元"),
        Kpi("求解状态", {"optimal": "最优", "time_limit": "超时未证", "infeasible": "达不到"}.get(ex.status, "未完成"),
            help=ss.STATUS_LABELS.get(ex.status, ex.status) + "（HiGHS 混合整数规划；达到时间上限时给出已证明的差距，不称为最优）"),
    ])
    _status_box(res)
    st.caption(f"模型：{res.model['communities']} 个社区（其中 {res.model['communities_covered_before']} 个已覆盖、"
               f"{res.model['communities_blind']} 个盲区），{res.model['rooms_eligible']} / {res.model['rooms']} 间用房符合条件；"
               f"约简后 {res.model['demand_groups']} 个需求组 × {res.model['candidates']} 个候选。")
    states = communities.assign(state=communities["code"].map(res.community_state).fillna("covered"),
                                weight=pd.to_numeric(communities[weight]).fillna(0))
    _map(states, ex.codes, "site_result_map")
    st.subheader("选址短名单（按边际增益排序）")
    shortlist = _picks_frame(ex, registry)
    show_table(shortlist, key="site_shortlist", file_name="选址短名单", title="选址短名单")
    if res.differs:
        st.subheader("精确解与贪心解不同")
        a, b = st.columns(2)
        with a:
            st.markdown(f"**精确解（HiGHS）**：覆盖 {ex.covered_weight:,.0f} 人（{ex.share:.1%}），{len(ex.picks)} 间")
            st.dataframe(_picks_frame(ex, registry)[["排序", "用房编号", f"新增覆盖{ss.WEIGHTS[weight]}(人)"]], hide_index=True)
        with b:
            g = res.greedy
            st.markdown(f"**贪心解**：覆盖 {g.covered_weight:,.0f} 人（{g.share:.1%}），{len(g.picks)} 间")
            st.dataframe(_picks_frame(g, registry)[["排序", "用房编号", f"新增覆盖{ss.WEIGHTS[weight]}(人)"]], hide_index=True)
    else:
        st.caption(f"贪心解与精确解相同（贪心用时 {res.greedy.seconds * 1000:.0f} 毫秒）。")
    if res.blind_spots:
        st.subheader("盲区社区")
        b = pd.DataFrame(res.blind_spots)
        show_table(pd.DataFrame({"社区代码": b["code"], "社区": b["code"].map(names), f"{ss.WEIGHTS[weight]}(人)": b["weight"],
                                 "距最近助餐点(米)": b["nearest_point_m"].round(0),
                                 "距最近符合条件用房(米)": b["nearest_room_m"].round(0),
                                 "放宽条件后可覆盖": b["reachable_if_relaxed"].map({True: "是", False: "否"})}),
                   key="site_blind", file_name="盲区社区")
    _save_and_convert(params, res)


def _read_only_note(what: str) -> None:
    st.caption(f"{who.role_label}账号只能查看，不能{what}（需业务科室或本街道账号）。")


def _save_and_convert(params: ss.SiteParams, res: ss.SiteResult) -> None:
    st.subheader("保存方案与转为设施")
    if not who.can_write:
        _read_only_note("保存方案或把用房转为设施")
        return
    a, b = st.columns(2)
    with a.form("site_save_form", clear_on_submit=True):
        name = st.text_input("方案名称", max_chars=100, key="site_scn_name")
        if st.form_submit_button("保存方案"):
            try:
                site_writes.save_scenario(cache.engine(), who, name, params.to_dict(), res.to_dict(), street=f.street,
                                          data_version=data_version(cache.engine()))
                st.session_state["site_flash"] = f"方案“{name.strip()}”已保存。"
                st.rerun()
            except (site_writes.ScenarioError, AccessDenied) as exc:
                st.error(md(exc))
    with b.form("site_convert_form"):
        code = st.selectbox("选中用房", res.exact.codes, key="site_convert_code")
        st.caption("标记后该用房状态变为“已转为设施”，并新建一个“规划中”的助餐点（规划日期为今天）。")
        if st.form_submit_button("标记为已转为设施", disabled=not res.exact.codes):
            _convert(code)


def _convert(code: str | None) -> None:
    row = registry[registry["code"] == code]
    if row.empty:
        st.error("找不到该用房，可能已被修改。")
        return
    try:
        site_writes.mark_converted(cache.engine(), who, int(row["id"].iloc[0]), int(row["version"].iloc[0]))
        st.session_state["site_flash"] = f"用房 {code} 已转为规划中的助餐点。"
        st.rerun()
    except site_writes.RoomWriteError as exc:
        st.error("；".join(exc.messages))
    except AccessDenied as exc:
        st.error(md(exc))


def scenarios_section() -> None:
    listed = cache.q(site.scenarios)
    if listed.empty:
        st.info("还没有保存的方案。在“优化选址”中运行后可以保存。")
        return
    label = {int(r.id): f"{r.name}（{r.created_at:%Y-%m-%d %H:%M}）" for r in listed.itertuples()}
    ids = list(label)
    a, b = st.columns(2)
    left = a.selectbox("方案 A", ids, format_func=label.get, key="site_scn_a")
    right = b.selectbox("方案 B", ids, index=min(1, len(ids) - 1), format_func=label.get, key="site_scn_b")
    shown = []
    for col, sid in ((a, left), (b, right)):
        scn = cache.q(site.scenario, sid)
        if scn is None:
            col.warning("该方案已被删除。")
            continue
        res = ss.SiteResult.from_dict(scn["result"])
        p = ss.SiteParams.from_dict(scn["parameters"])
        shown.append(set(res.chosen))
        with col:
            st.markdown(f"**{md(scn['name'])}** · {ss.MODES[p.mode]} · 半径 {p.radius_m:.0f} 米 · {ss.WEIGHTS[p.weight]}")
            kpi_row([Kpi("覆盖率（后）", f"{res.share_after:.1%}", delta=f"{(res.share_after - res.share_before) * 100:+.1f} 个百分点"),
                     Kpi("选中用房", f"{len(res.chosen)} 间"),
                     Kpi("状态", ss.STATUS_LABELS.get(res.exact.status, res.exact.status))], columns=3)
            st.caption(_conditions_text(p))
            table = ss.picks_table(res.exact, registry, names, ss.WEIGHTS[p.weight])
            show_table(table, key=f"site_scn_tbl_{col is b}", file_name=f"选址短名单_{scn['name']}",
                       title=f"选址短名单：{scn['name']}")
            may_delete = who.can_write and (who.street_locked is None or scn["street"] == who.street_locked)
            if may_delete and st.button("删除该方案", key=f"site_scn_del_{col is b}"):
                try:
                    site_writes.delete_scenario(cache.engine(), who, sid)
                    st.session_state["site_flash"] = f"方案“{scn['name']}”已删除。"
                    st.rerun()
                except AccessDenied as exc:
                    st.error(md(exc))
    if len(shown) == 2 and left != right:
        only_a, only_b = sorted(shown[0] - shown[1]), sorted(shown[1] - shown[0])
        st.markdown(f"**仅方案 A 选中**：{md('、'.join(only_a) or '无')}　**仅方案 B 选中**：{md('、'.join(only_b) or '无')}　"
                    f"**两者都选**：{md('、'.join(sorted(shown[0] & shown[1])) or '无')}")


def _conditions_text(p: ss.SiteParams) -> str:
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


def registry_section() -> None:
    st.caption("闲置用房台账：新增、修改和导入需业务科室账号，街道账号只能维护本街道的用房。"
               "地下室用房可以登记，但不会被推荐为助餐点。")
    show_table(site_writes.registry_frame(registry), key="site_registry", file_name="闲置用房台账")
    if not who.can_write:
        _read_only_note("新增、修改或导入闲置用房")
        return
    with st.expander("新增或修改用房", key="site_room_open", on_change="rerun") as box:
        if box.open:  # built only when opened: a closed section costs the page nothing
            _room_form()
    with st.expander("从 Excel 导入", key="site_import_open", on_change="rerun") as box:
        if box.open:  # built only when opened: a closed section costs the page nothing
            # the one ledger pipeline (data.imports, ledger "vacant_rooms"): its template (the example row is skipped),
            # the one guarded reader, all or nothing, an import batch and an audit entry
            template_download("vacant_rooms", "下载导入模板", file_name="闲置用房导入模板.xlsx", key="site_template")
            up = st.file_uploader("选择 Excel 或 CSV 文件（表头与台账相同；全部无误才写入）", type=["xlsx", "csv"],
                                  key="site_upload")
            gcj02 = st.checkbox("是GCJ-02坐标", key="site_import_gcj02",
                                help="坐标取自高德地图（GCJ-02）时勾选：导入时转换为 WGS-84 再保存。")
            if up is not None and st.button("导入", key="site_import", type="primary"):
                try:
                    r = imports.import_file(cache.engine(), who, "vacant_rooms", up.name, up.getvalue(), gcj02=gcj02)
                    st.session_state["site_flash"] = (f"导入完成：新增 {r.rows_added} 间，更新 {r.rows_updated} 间，"
                                                      f"未变 {r.rows_unchanged} 间（已记入导入记录）。")
                    st.rerun()
                except imports.ImportRefused as exc:
                    st.error(f"文件未导入：发现 {exc.total:,} 个问题，数据库未作任何修改。请按下表修改后重新上传。")
                    st.dataframe(exc.table(imports.MAX_SHOWN), hide_index=True, key="site_import_problems")
                except AccessDenied as exc:
                    st.error(md(exc))


def _room_form() -> None:
    """新增或修改用房 through the shared edit form (components.edit_forms.room_form): the version edited is the one
    held when the room was chosen, so a save someone else beat is refused with the current values, and audited."""
    streets = cache.q(geography.subdistrict_names)
    if who.street_locked:  # a 街道 account registers rooms of its own subdistrict only
        streets = {c: n for c, n in streets.items() if c == who.street_locked}
    all_coms = cache.q(geography.communities, who.street_locked)
    codes = ["（新增）"] + registry.loc[registry["status"] != "converted", "code"].tolist()
    pick = st.selectbox("选择用房", codes, key="site_edit_pick")
    row = registry[registry["code"] == pick]
    record = edit_forms.room_record(row.iloc[0]) if pick != "（新增）" and len(row) else None
    engine = cache.engine()

    def save(room_id: int, version: int, values: dict) -> dict:
        site_writes.update_room(engine, who, room_id, values, version)
        return call(who, site.vacant_room, engine, room_id)

    def add(values: dict) -> int:
        return site_writes.add_room(engine, who, values)

    edit_forms.room_form(
        record, key="site_room", on_save=save, on_add=add, streets=streets,
        communities={c: f"{s} · {n}" for c, s, n in zip(all_coms["code"], all_coms["subdistrict_name"],
                                                        all_coms["short_name"])},
        owner_types=ss.OWNER_TYPES, statuses={s: ss.ROOM_STATUSES[s] for s in site_writes.EDITABLE_STATUSES},
        default_street=f.street if f.street in streets else next(iter(streets), None))


{"需求与缺口": demand_section, "优化选址": optimise_section, "方案比较": scenarios_section,
 "闲置用房台账": registry_section}[section]()
