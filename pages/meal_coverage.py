"""助餐覆盖: meal-service coverage of communities by subdistrict, progress against the year's targets, drill-down."""
from __future__ import annotations

import math
from datetime import date

import pandas as pd
import streamlit as st
from shapely.geometry import mapping

from components import charts, filters, maps
from components.kpis import Kpi, kpi_row
from components.tables import show_table
from components.text import md
from data.db import cache
from data.domain import period as periods
from data.queries import affairs, geography
from data.queries import facilities as fq
from data.queries import maps as mq
from data.ops.settings import RADIUS_RANGE, map_settings
from data.domain.targets import progress
from data.domain.units import fmt_int, pct
from geo import coverage, layers

# Unfiltered, the map draws every operating meal point (and its walking ring) only up to a district's worth; above
# that (city / province data) it shows the per-subdistrict coverage layer alone, and a chosen subdistrict shows
# its own meal points and communities (plus the neighbours' points whose ring can reach them).
MAX_POINTS_ON_MAP = 200
MAX_POCKET_ROWS = 300     # the blind-spot list is capped at district / province scope
DEFINITION = ("覆盖口径：某日某社区处在至少一个当日运营中的助餐点的登记服务范围内，即为“已覆盖”；"
              "覆盖率 = 已覆盖社区数 ÷ 社区总数。")

f = filters.current()
on: date = f.period.end
st.title("助餐覆盖")
st.caption(f"{f.scope} · 截至 {on:%Y年%m月%d日}（统计周期末日） · {DEFINITION}")

# the whole district always (the map shows every subdistrict; walking distance crosses subdistrict lines) …
comm_all = cache.q(fq.community_meal_coverage, on, None)
points_all = cache.q(fq.facilities_on, on, None, kinds=("meal_point",))
operating_all = points_all[points_all["status"] == "operating"].reset_index(drop=True)
# … and the sidebar's scope for the figures and tables
comm = comm_all if not f.street else comm_all[comm_all["subdistrict_code"] == f.street].reset_index(drop=True)
points_n = cache.q(fq.meal_points_operating, on, f.street)
rate = cache.q(fq.meal_coverage_rate, on, f.street)
meals = cache.q(fq.meals_by_point, f.period, f.street)
t_points = cache.q(affairs.target, "meal_points", on) if not f.street else None
t_cov = cache.q(affairs.target, "meal_coverage", on) if not f.street else None
# per subdistrict, from the per-community coverage above (one pass instead of a second query)
by_sub_all = coverage.subdistrict_summary(comm_all).merge(
    comm_all.drop_duplicates("subdistrict_code")[["subdistrict_code", "subdistrict_name"]], on="subdistrict_code",
    how="left")
by_sub_all["meal_points"] = by_sub_all["subdistrict_code"].map(
    operating_all.groupby("subdistrict_code").size()).fillna(0).astype(int)
by_sub = by_sub_all if not f.street else by_sub_all[by_sub_all["subdistrict_code"] == f.street]


# --- headline -----------------------------------------------------------------------------------

def _pace(target: dict | None, value: float, indicator, label: str) -> tuple[str | None, str]:
    """(delta for the metric: the gap to the year's target, one line on the pace) — district scope only."""
    if not target:
        return None, ""
    percent = target["unit"] == "%"
    goal = float(target["value"]) / (100 if percent else 1)
    base = cache.q(indicator, target["baseline_date"], f.street)
    p = progress(value, goal, base, target["baseline_date"], target["deadline"], on)
    if percent:
        gap = round((value - goal) * 100)
        delta = f"{gap:+d} 个百分点（目标 {pct(goal)}）"
        expected = pct(p.expected)
    else:
        gap = int(round(value - goal))
        delta = f"{gap:+,d}（目标 {fmt_int(goal)}）"
        expected = f"{p.expected:.1f}"
    line = (f"{label}：{pct(value) if percent else fmt_int(value)} / 目标 {pct(goal) if percent else fmt_int(goal)}"
            f"（{target['deadline']:%Y年%m月%d日}前），{p.status}，按均衡进度此时应达 {expected}")
    return delta, line


uncovered = comm[~comm["covered"]] if len(comm) else comm
delta_points, pace_points = _pace(t_points, points_n, fq.meal_points_operating, "助餐点位")
delta_cov, pace_cov = _pace(t_cov, rate, fq.meal_coverage_rate, "社区助餐服务覆盖率")
kpi_row([
    Kpi("运营中的助餐点（个）", fmt_int(points_n), delta=delta_points,
        help="截至当日已开业、未关停的社区助餐点；下方为与年度目标的差距。"),
    Kpi("社区助餐服务覆盖率", pct(rate), delta=delta_cov, help=DEFINITION),
    Kpi("已覆盖社区（个）", f"{fmt_int(comm['covered'].sum() if len(comm) else 0)} / {fmt_int(len(comm))}",
        help="已覆盖社区数 / 社区（村）总数"),
    Kpi("未覆盖社区60岁以上老人（人）", fmt_int(uncovered["pop_60"].sum() if len(uncovered) else 0),
        help=f"其中80岁以上 {fmt_int(uncovered['pop_80'].sum() if len(uncovered) else 0)} 人"),
    Kpi("期内助餐（份）", fmt_int(meals["dine_in"].sum() + meals["delivered"].sum() if len(meals) else 0),
        help=f"{f.period.label}：堂食 {fmt_int(meals['dine_in'].sum() if len(meals) else 0)} 份，"
             f"送餐（幸福小蜜蜂）{fmt_int(meals['delivered'].sum() if len(meals) else 0)} 份"),
])
if pace_points or pace_cov:
    st.caption("年度目标进度 · " + "；".join(x for x in (pace_points, pace_cov) if x))
elif f.street:
    st.caption("助餐点位、覆盖率的年度目标是全区指标；在侧边栏选择“全区”查看目标进度。")


# --- map and drill-down (a fragment: map clicks and its controls rerun only this part) ------------------

def _remember_click() -> None:
    st.session_state["cov_click"] = st.session_state.get("cov_map")


@st.fragment
def map_section() -> None:
    settings = cache.q(map_settings)
    basemap = maps.Basemap(settings.basemap, settings.tianditu_key)
    names = dict(zip(by_sub_all["subdistrict_code"], by_sub_all["subdistrict_name"]))
    _read_click(operating_all, names, basemap)

    c1, c2, c3 = st.columns([2, 1, 1])
    if f.street:
        drill = f.street
        c1.markdown(f"**下钻街道：{md(names.get(f.street, f.street))}**（侧边栏已选）")
    else:
        drill = c1.selectbox("下钻街道", [""] + list(names), key="cov_drill",
                             format_func=lambda c: names.get(c, "全区（不下钻）"),
                             help="也可以直接点击地图上的街道。") or None
    if "cov_radius" not in st.session_state:
        st.session_state["cov_radius"] = int(settings.walk_radius_m)
    rings_on = c2.toggle("显示步行圈", key="cov_rings", value=True, help="围绕运营中的助餐点画出步行半径（直线距离）。")
    radius = c3.number_input("步行半径（米）", RADIUS_RANGE[0], RADIUS_RANGE[1], step=50, key="cov_radius")

    in_scope = operating_all if not drill else operating_all[operating_all["subdistrict_code"] == drill]
    drill_comm = coverage.drill_down(comm_all, drill) if drill else comm.iloc[0:0]  # uncovered, most elderly first
    if drill:  # its meal points, and the neighbours' near enough for their ring to reach its communities
        drawn = _points_near(operating_all, drill, drill_comm, radius)
    else:
        drawn = operating_all if len(operating_all) <= MAX_POINTS_ON_MAP else operating_all.iloc[0:0]
    reach = coverage.communities_within(drill_comm, operating_all, radius) if len(drill_comm) else drill_comm
    boundaries = cache.q(geography.subdistrict_boundaries)
    if drill and len(boundaries) > maps.MAX_MAP_SUBDISTRICTS:  # province scale: what is near, not every outline
        boundaries = boundaries[boundaries["code"].isin({drill, *drawn["subdistrict_code"]})]
    m = maps.coverage_map(boundaries, by_sub_all.rename(columns={"subdistrict_code": "code"}),
                          outline=mapping(layers.district_outline()), meal_points=drawn,
                          communities=reach if len(reach) else None, radius_m=radius if rings_on else None,
                          basemap=basemap, selected=drill)
    maps.show_map(m, key="cov_map", returned_objects=["last_object_clicked", "last_object_clicked_tooltip"],
                  on_change=_remember_click)
    if drawn.empty and len(in_scope):
        st.caption(f"助餐点较多（{len(in_scope):,} 个），地图按街道显示助餐覆盖率；选择街道（或点击地图上的街道）后"
                   "显示该街道的助餐点、步行圈、社区覆盖情况和逐月助餐。")

    if drill:
        st.subheader(f"{md(names.get(drill, drill))} · 社区覆盖情况")
        show_table(_community_table(reach), key="cov_comm", file_name=f"社区助餐覆盖_{names.get(drill, drill)}_{on:%Y%m%d}",
                   highlight=~reach["covered"].reset_index(drop=True) if len(reach) else None)
    pockets_scope = drill_comm if drill else comm
    if len(pockets_scope) and len(operating_all):
        pockets = coverage.uncovered_pockets(pockets_scope, operating_all, radius)
        with st.expander(f"步行 {int(radius)} 米以外的社区（服务盲区）：{fmt_int(len(pockets))} 个",
                         key="cov_pockets_open", on_change="rerun") as box:
            if box.open:  # built only when opened: a closed section costs the page nothing
                if len(pockets) > MAX_POCKET_ROWS:
                    st.caption(f"按60岁以上老人数排序，列出前 {MAX_POCKET_ROWS} 个；选择街道可查看该街道的全部盲区社区。")
                show_table(_community_table(pockets.head(MAX_POCKET_ROWS)), key="cov_pockets",
                           file_name=f"服务盲区_{int(radius)}米_{on:%Y%m%d}")

    _meal_point_drill(in_scope if drill else drawn)


def _points_near(points: pd.DataFrame, code: str, communities: pd.DataFrame, radius_m: float) -> pd.DataFrame:
    """The subdistrict's own meal points, and other points within radius_m (plus a margin) of the box around its
    communities — whose walking ring can reach across the boundary."""
    own = points["subdistrict_code"] == code
    if communities.empty or points.empty:
        return points[own]
    pad = float(radius_m) + 200.0
    lat0 = float(communities["lat"].mean())
    dlat = pad / 111_320.0
    dlon = pad / (111_320.0 * max(math.cos(math.radians(lat0)), 0.1))
    near = (points["lat"].between(communities["lat"].min() - dlat, communities["lat"].max() + dlat)
            & points["lon"].between(communities["lon"].min() - dlon, communities["lon"].max() + dlon))
    return points[own | near].reset_index(drop=True)


def _read_click(points: pd.DataFrame, names: dict[str, str], basemap: maps.Basemap) -> None:
    """A new map click: a meal point opens its monthly meals, a subdistrict becomes the drill-down."""
    event = st.session_state.pop("cov_click", None)
    if not event:
        return
    hit = maps.clicked_facility(event, points, basemap)
    if hit is not None:
        st.session_state["cov_point"] = int(hit["id"])
        if not f.street:
            st.session_state["cov_drill"] = hit["subdistrict_code"]
        return
    code = maps.clicked_subdistrict(event, names)
    if code and not f.street:
        st.session_state["cov_drill"] = code


def _meal_point_drill(points: pd.DataFrame) -> None:
    if points.empty:
        return
    st.subheader("助餐点逐月助餐")
    ids = [int(i) for i in points["id"]]
    labels = dict(zip(ids, points["name"]))
    if st.session_state.get("cov_point") not in ids:
        st.session_state["cov_point"] = ids[0]
    fid = st.selectbox("助餐点", ids, key="cov_point", format_func=lambda i: labels.get(i, str(i)),
                       help="也可以直接点击地图上的助餐点。")
    start = date(f.period.end.year, 1, 1)
    end = min(date(f.period.end.year, 12, 31), f.last_data_day)
    monthly = cache.q(mq.meal_point_monthly, fid, start, end)
    if monthly.empty:
        st.info("该助餐点本年度尚无助餐记录。")
        return
    long = monthly.melt(id_vars="month", value_vars=["dine_in", "delivered"], var_name="类别", value_name="份数")
    long["类别"] = long["类别"].map({"dine_in": "堂食", "delivered": "送餐（幸福小蜜蜂）"})
    charts.show(charts.line_by_month(long, "month", "份数", color="类别", y_title="助餐（份）"), key="cov_point_chart")
    table = monthly.assign(月份=monthly["month"].map(lambda d: f"{d.year}年{d.month}月"))[
        ["月份", "dine_in", "delivered", "meals", "days_served"]].rename(columns={
            "dine_in": "堂食（份）", "delivered": "送餐（份）", "meals": "合计（份）", "days_served": "有记录天数（天）"})
    show_table(table, key="cov_point_table", file_name=f"助餐点逐月助餐_{labels.get(fid, fid)}_{start.year}")


def _community_table(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "社区": df["name"], "街道": df["subdistrict_name"],
        "覆盖状态": df["covered"].map(coverage.COVERAGE_LABELS),
        "服务该社区的助餐点（个）": df["meal_points"],
        "60岁以上老人（人）": df["pop_60"], "80岁以上老人（人）": df["pop_80"], "独居老人（人）": df["living_alone"],
    })
    if "nearest_m" in df.columns:
        out["距最近助餐点（米）"] = df["nearest_m"]
        out["步行圈内"] = df["within_walk"].map({True: "是", False: "否"})
    return out.reset_index(drop=True)


map_section()


# --- per subdistrict ----------------------------------------------------------------------------------

st.subheader("分街道助餐覆盖")
per_meals = (meals.groupby("subdistrict_code")[["dine_in", "delivered"]].sum() if len(meals)
             else pd.DataFrame(columns=["dine_in", "delivered"]))
table = by_sub.merge(per_meals, left_on="subdistrict_code", right_index=True, how="left").fillna(0)
table = pd.DataFrame({
    "街道": table["subdistrict_name"], "运营助餐点（个）": table["meal_points"].astype(int),
    "已覆盖社区（个）": table["covered"].astype(int), "社区总数（个）": table["communities"].astype(int),
    "覆盖率（%）": (table["coverage_rate"] * 100).round(1),
    "未覆盖社区60岁以上老人（人）": table["uncovered_pop_60"].astype(int),
    "未覆盖社区80岁以上老人（人）": table["uncovered_pop_80"].astype(int),
    "期内堂食（份）": table["dine_in"].astype(int), "期内送餐（份）": table["delivered"].astype(int),
})
if len(table) > 1:
    total = table.drop(columns=["街道", "覆盖率（%）"]).sum()
    table.loc[len(table)] = {"街道": "合计", **total.to_dict(),
                             "覆盖率（%）": round(100 * total["已覆盖社区（个）"] / max(total["社区总数（个）"], 1), 1)}
show_table(table, key="cov_by_sub", file_name=f"分街道助餐覆盖_{f.period.key}",
           title=f"分街道助餐覆盖（截至 {on:%Y-%m-%d}，助餐份数为 {f.period.label}）")


# --- month by month ---------------------------------------------------------------------------------

st.subheader(f"{on.year}年逐月进度")
ends = tuple(d for d in (periods.month(on.year, m_).end for m_ in range(1, 13)) if d < on) + (on,)
trend = cache.q(mq.meal_progress_by_month, ends, f.street)
if trend.empty:
    st.info("本年度暂无数据。")
else:
    c_left, c_right = st.columns(2)
    pts = trend.assign(series="运营助餐点")[["month", "meal_points", "series"]].rename(columns={"meal_points": "value"})
    cov = trend.assign(series="覆盖率", value=(trend["coverage_rate"] * 100).round(1))[["month", "value", "series"]]
    if t_points:
        pts = pd.concat([pts, trend.assign(series=f"年度目标 {fmt_int(t_points['value'])} 个",
                                           value=float(t_points["value"]))[["month", "value", "series"]]])
    if t_cov:
        cov = pd.concat([cov, trend.assign(series=f"年度目标 {t_cov['value']:g}%",
                                           value=float(t_cov["value"]))[["month", "value", "series"]]])
    with c_left:
        charts.show(charts.line_by_month(pts, "month", "value", color="series", y_title="运营助餐点（个）",
                                         x_title="月末"), key="cov_trend_points")
    with c_right:
        charts.show(charts.line_by_month(cov, "month", "value", color="series", y_title="社区助餐覆盖率（%）",
                                         x_title="月末"), key="cov_trend_rate")
    st.caption("每月取月末当日（最后一点为截至日）的运营助餐点数和覆盖率；目标线为全区年度目标。")
