"""助餐覆盖: the page model — meal-service coverage of communities by subdistrict as on the period's last day,
progress against the year's targets, a subdistrict's drill-down (its communities, meal points and blind spots),
one meal point's months, and the month-by-month progress."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.domain import period as periods
from data.domain.period import Period
from data.domain.targets import pace
from data.domain.units import fmt_int, pct, show_change
from data.ops.settings import RADIUS_RANGE, map_settings
from data.queries import affairs, geography
from data.queries import facilities as fq
from data.queries import maps as mq
from data.security.access import Reader
from geo import coverage
from views import map_scale
from views.headline import Metric

RADIUS_RANGE = RADIUS_RANGE
MAX_POCKET_ROWS = 300     # the blind-spot list is capped at district / province scope
DEFINITION = ("覆盖口径：某日某社区处在至少一个当日运营中的助餐点的登记服务范围内，即为“已覆盖”；"
              "覆盖率 = 已覆盖社区数 ÷ 社区总数。")


@dataclass(frozen=True)
class CoveragePage:
    on: date                       # the period's last day: coverage and the layout as on it
    communities_all: pd.DataFrame  # every community with covered, pop_60, pop_80, … (the whole district)
    operating_all: pd.DataFrame    # every operating meal point (walking distance crosses subdistrict lines)
    communities: pd.DataFrame      # those of the sidebar's scope
    by_subdistrict: pd.DataFrame   # code, name, communities, covered, coverage_rate, meal_points, … (every one)
    names: dict[str, str]          # subdistrict code → name (the drill-down's choices)
    walk_radius_m: int             # the settings' default walking radius
    kpis: tuple[Metric, ...]
    pace_caption: str | None       # the targets' progress, or a note that targets are district-wide
    table: pd.DataFrame            # 分街道助餐覆盖 (with a 合计 row)
    trend_points: pd.DataFrame | None   # month, value, series (meal points and the target line)
    trend_rate: pd.DataFrame | None     # the same for the coverage rate (%)


def _pace(reader: Reader, target: dict | None, value: float, indicator, label: str, street: str | None,
          on: date) -> tuple[str | None, str]:
    """(delta for the metric: the gap to the year's target, one line on the pace) — district scope only."""
    if not target:
        return None, ""
    percent = target["unit"] == "%"
    base = reader.q(indicator, target["baseline_date"], street)
    p = pace(target, value, base, on, divisor=100 if percent else 1)
    goal = p.target
    if percent:
        delta = f"{show_change('%', value, goal) or '0.0个百分点'}（目标 {pct(goal)}）"
        expected = pct(p.expected)
    else:
        delta = f"{int(round(value - goal)):+,d}（目标 {fmt_int(goal)}）"
        expected = f"{p.expected:.1f}"
    line = (f"{label}：{pct(value) if percent else fmt_int(value)} / 目标 {pct(goal) if percent else fmt_int(goal)}"
            f"（{target['deadline']:%Y年%m月%d日}前），{p.status}，按均衡进度此时应达 {expected}")
    return delta, line


def _table(by_sub: pd.DataFrame, meals: pd.DataFrame) -> pd.DataFrame:
    per_meals = (meals.groupby("subdistrict_code")[["dine_in", "delivered"]].sum() if len(meals)
                 else pd.DataFrame(columns=["dine_in", "delivered"]))
    t = by_sub.merge(per_meals, left_on="subdistrict_code", right_index=True, how="left").fillna(0)
    t = pd.DataFrame({
        "街道": t["subdistrict_name"], "运营助餐点（个）": t["meal_points"].astype(int),
        "已覆盖社区（个）": t["covered"].astype(int), "社区总数（个）": t["communities"].astype(int),
        "覆盖率（%）": (t["coverage_rate"] * 100).round(1),
        "未覆盖社区60岁以上老人（人）": t["uncovered_pop_60"].astype(int),
        "未覆盖社区80岁以上老人（人）": t["uncovered_pop_80"].astype(int),
        "期内堂食（份）": t["dine_in"].astype(int), "期内送餐（份）": t["delivered"].astype(int),
    })
    if len(t) > 1:
        total = t.drop(columns=["街道", "覆盖率（%）"]).sum()
        t.loc[len(t)] = {"街道": "合计", **total.to_dict(),
                         "覆盖率（%）": round(100 * total["已覆盖社区（个）"] / max(total["社区总数（个）"], 1), 1)}
    return t


def _trend(reader: Reader, on: date, street: str | None, t_points: dict | None,
           t_cov: dict | None) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Month-end meal points and coverage rate of the year up to `on`, with the targets as lines."""
    ends = tuple(d for d in (periods.month(on.year, m).end for m in range(1, 13)) if d < on) + (on,)
    trend = reader.q(mq.meal_progress_by_month, ends, street)
    if trend.empty:
        return None, None
    pts = trend.assign(series="运营助餐点")[["month", "meal_points", "series"]].rename(columns={"meal_points": "value"})
    cov = trend.assign(series="覆盖率", value=(trend["coverage_rate"] * 100).round(1))[["month", "value", "series"]]
    if t_points:
        pts = pd.concat([pts, trend.assign(series=f"年度目标 {fmt_int(t_points['value'])} 个",
                                           value=float(t_points["value"]))[["month", "value", "series"]]])
    if t_cov:
        cov = pd.concat([cov, trend.assign(series=f"年度目标 {t_cov['value']:g}%",
                                           value=float(t_cov["value"]))[["month", "value", "series"]]])
    return pts, cov


def build(reader: Reader, p: Period, street: str | None) -> CoveragePage:
    on = p.end
    # the whole district always (the map shows every subdistrict; walking distance crosses subdistrict lines) …
    comm_all = reader.q(fq.community_meal_coverage, on, None)
    points_all = reader.q(fq.facilities_on, on, None, kinds=("meal_point",))
    operating_all = points_all[points_all["status"] == "operating"].reset_index(drop=True)
    # … and the sidebar's scope for the figures and tables
    comm = comm_all if not street else comm_all[comm_all["subdistrict_code"] == street].reset_index(drop=True)
    points_n = reader.q(fq.meal_points_operating, on, street)
    rate = reader.q(fq.meal_coverage_rate, on, street)
    meals = reader.q(fq.meals_by_point, p, street)
    t_points = reader.q(affairs.target, "meal_points", on) if not street else None
    t_cov = reader.q(affairs.target, "meal_coverage", on) if not street else None
    # per subdistrict, from the per-community coverage above (one pass instead of a second query)
    by_sub = coverage.subdistrict_summary(comm_all).merge(
        comm_all.drop_duplicates("subdistrict_code")[["subdistrict_code", "subdistrict_name"]],
        on="subdistrict_code", how="left")
    by_sub["meal_points"] = by_sub["subdistrict_code"].map(
        operating_all.groupby("subdistrict_code").size()).fillna(0).astype(int)
    in_scope = by_sub if not street else by_sub[by_sub["subdistrict_code"] == street]

    uncovered = comm[~comm["covered"]] if len(comm) else comm
    delta_points, pace_points = _pace(reader, t_points, points_n, fq.meal_points_operating, "助餐点位", street, on)
    delta_cov, pace_cov = _pace(reader, t_cov, rate, fq.meal_coverage_rate, "社区助餐服务覆盖率", street, on)
    dine_in = meals["dine_in"].sum() if len(meals) else 0
    delivered = meals["delivered"].sum() if len(meals) else 0
    kpis = (
        Metric("运营中的助餐点（个）", fmt_int(points_n), delta_points,
               "截至当日已开业、未关停的社区助餐点；下方为与年度目标的差距。"),
        Metric("社区助餐服务覆盖率", pct(rate), delta_cov, DEFINITION),
        Metric("已覆盖社区（个）", f"{fmt_int(comm['covered'].sum() if len(comm) else 0)} / {fmt_int(len(comm))}",
               None, "已覆盖社区数 / 社区（村）总数"),
        Metric("未覆盖社区60岁以上老人（人）", fmt_int(uncovered["pop_60"].sum() if len(uncovered) else 0), None,
               f"其中80岁以上 {fmt_int(uncovered['pop_80'].sum() if len(uncovered) else 0)} 人"),
        Metric("期内助餐（份）", fmt_int(dine_in + delivered), None,
               f"{p.label}：堂食 {fmt_int(dine_in)} 份，送餐（幸福小蜜蜂）{fmt_int(delivered)} 份"),
    )
    if pace_points or pace_cov:
        pace_caption = "年度目标进度 · " + "；".join(x for x in (pace_points, pace_cov) if x)
    else:
        pace_caption = "助餐点位、覆盖率的年度目标是全区指标；在侧边栏选择“全区”查看目标进度。" if street else None
    trend_points, trend_rate = _trend(reader, on, street, t_points, t_cov)
    return CoveragePage(
        on=on, communities_all=comm_all, operating_all=operating_all, communities=comm, by_subdistrict=by_sub,
        names=dict(zip(by_sub["subdistrict_code"], by_sub["subdistrict_name"])),
        walk_radius_m=int(reader.q(map_settings).walk_radius_m), kpis=kpis, pace_caption=pace_caption,
        table=_table(in_scope, meals), trend_points=trend_points, trend_rate=trend_rate)


# --- the map and the drill-down ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Drill:
    code: str | None               # the drilled subdistrict (None: the whole district)
    in_scope: pd.DataFrame         # its operating meal points (every one when not drilled)
    drawn: pd.DataFrame            # the meal points the map draws
    reach: pd.DataFrame            # its communities with nearest_m / within_walk (uncovered, most elderly first)
    boundaries: pd.DataFrame       # what the map outlines
    coverage: pd.DataFrame         # per subdistrict for the map's colours (code, covered, communities, …)
    pockets: pd.DataFrame          # communities out of walking reach (服务盲区), most elderly first
    points_listed: pd.DataFrame    # the meal points whose months can be looked at


def points_near(points: pd.DataFrame, code: str, communities: pd.DataFrame, radius_m: float) -> pd.DataFrame:
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


def drill(reader: Reader, page: CoveragePage, code: str | None, radius_m: float) -> Drill:
    """The map's content for a drill-down into `code` (None: the whole district) at a walking radius."""
    operating = page.operating_all
    in_scope = operating if not code else operating[operating["subdistrict_code"] == code]
    drill_comm = coverage.drill_down(page.communities_all, code) if code else page.communities.iloc[0:0]
    if code:  # its meal points, and the neighbours' near enough for their ring to reach its communities
        drawn = points_near(operating, code, drill_comm, radius_m)
    else:
        drawn = operating if len(operating) <= map_scale.MAX_MEAL_POINTS_UNFILTERED else operating.iloc[0:0]
    reach = coverage.communities_within(drill_comm, operating, radius_m) if len(drill_comm) else drill_comm
    boundaries = reader.q(geography.subdistrict_boundaries)
    if code and len(boundaries) > map_scale.MAX_MAP_SUBDISTRICTS:  # province scale: what is near, not every outline
        boundaries = boundaries[boundaries["code"].isin({code, *drawn["subdistrict_code"]})]
    pockets_scope = drill_comm if code else page.communities
    pockets = (coverage.uncovered_pockets(pockets_scope, operating, radius_m)
               if len(pockets_scope) and len(operating) else None)
    return Drill(code=code, in_scope=in_scope, drawn=drawn, reach=reach, boundaries=boundaries,
                 coverage=page.by_subdistrict.rename(columns={"subdistrict_code": "code"}), pockets=pockets,
                 points_listed=in_scope if code else drawn)


@dataclass(frozen=True)
class ClickedPoint:
    id: int
    name: str
    code: str           # its subdistrict
    subdistrict: str    # the subdistrict's name


def clicked_point(page: CoveragePage, facility_id: int | None) -> ClickedPoint | None:
    """The meal point clicked on the map (its subdistrict, for the separate drill-down action); None: none."""
    if facility_id is None:
        return None
    hit = page.operating_all[page.operating_all["id"] == facility_id]
    if hit.empty:
        return None
    r = hit.iloc[0]
    code = str(r["subdistrict_code"])
    return ClickedPoint(int(r["id"]), str(r["name"]), code, page.names.get(code, code))


def community_table(df: pd.DataFrame) -> pd.DataFrame:
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


# --- one meal point's months ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PointMonths:
    year: int
    chart: pd.DataFrame   # month, 类别 (堂食 / 送餐), 份数
    table: pd.DataFrame   # 月份, 堂食（份）, 送餐（份）, 合计（份）, 有记录天数（天）


def point_months(reader: Reader, facility_id: int, on: date, last_data_day: date) -> PointMonths | None:
    """The meal point's meals month by month in the year of `on` (up to the last day with data); None: none yet."""
    start = date(on.year, 1, 1)
    monthly = reader.q(mq.meal_point_monthly, facility_id, start, min(date(on.year, 12, 31), last_data_day))
    if monthly.empty:
        return None
    long = monthly.melt(id_vars="month", value_vars=["dine_in", "delivered"], var_name="类别", value_name="份数")
    long["类别"] = long["类别"].map({"dine_in": "堂食", "delivered": "送餐（幸福小蜜蜂）"})
    table = monthly.assign(月份=monthly["month"].map(lambda d: f"{d.year}年{d.month}月"))[
        ["月份", "dine_in", "delivered", "meals", "days_served"]].rename(columns={
            "dine_in": "堂食（份）", "delivered": "送餐（份）", "meals": "合计（份）", "days_served": "有记录天数（天）"})
    return PointMonths(year=start.year, chart=long, table=table)
