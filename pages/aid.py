"""救助发放: payments per programme for the sidebar period and subdistrict — headline, per programme, monthly trend,
year-over-year, per subdistrict (table and map), proactive discovery, and the masked recipient list."""
from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st
from shapely.geometry import mapping

from components import aid_tables as tables
from components import charts, filters, funnel, maps
from components.auth_ui import principal
from components.personal import export_audit, reveal_control
from components.choropleth import value_map
from components.kpis import Kpi, kpi_row
from components.styled_tables import show_styled_table
from components.text import md
from data.db import cache
from data.domain import period as periods
from data.domain.figures import figure
from data.db.models import AID_PROGRAMMES
from data.queries import aid, geography
from data.ops.settings import map_settings
from data.domain.units import fen_to_wan, fmt_int
from geo import layers

RECIPIENTS_PER_PAGE = 100
FUNNEL_STAGES = {"screened": "主动摸排（人次）", "dibao_households": "纳入低保（户）", "tekun_households": "纳入特困（户）"}
MAX_FUNNELS = 12  # small multiples shown; the table lists every subdistrict

f = filters.current()
p, prev = f.period, f.period.year_earlier()
slug = f"{f.scope}_{p.key.replace('~', '至')}"  # for file names
st.title("救助发放")
st.caption(f"{f.scope} · {p.label}（{p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}） · 口径：发放日期在统计期内的发放记录，"
           f"金额单位万元（保留两位小数） · 同比：{prev.label}（{prev.start:%Y-%m-%d} 至 {prev.end:%Y-%m-%d}）")

totals = cache.q(aid.aid_totals, p, f.street)
totals_prev = cache.q(aid.aid_totals, prev, f.street)
overall = cache.q(aid.aid_overall, p, f.street)
overall_prev = cache.q(aid.aid_overall, prev, f.street)
tekun_subsidy = cache.q(aid.aid_amount, p, f.street, programme="tekun", subtypes=("living", "care"))
tekun_subsidy_prev = cache.q(aid.aid_amount, prev, f.street, programme="tekun", subtypes=("living", "care"))
now, before = totals.set_index("programme"), totals_prev.set_index("programme")


# --- headline -----------------------------------------------------------------------------------

def _wan(label: str, fen: int, fen_prev: int, help_text: str) -> Kpi:
    diff = fen_to_wan(fen) - fen_to_wan(fen_prev)
    return Kpi(label, f"{fen_to_wan(fen):,.2f}", delta=f"{diff:+,.2f}（同比）", help=help_text)


def _count(label: str, n: int, n_prev: int, help_text: str) -> Kpi:
    return Kpi(label, fmt_int(n), delta=f"{int(n) - int(n_prev):+,}（同比）", help=help_text)


def _programme(code: str) -> Kpi:
    fig = {"temporary": "F44", "orphan": "F45", "disability": "F46", "charity": "F47"}[code]
    label = {"temporary": "临时救助金", "orphan": "孤儿和事实无人抚养儿童保障金", "disability": "残疾人两项补贴",
             "charity": "慈善应急和人道救助"}[code]
    return _wan(f"{label}（万元）", now.loc[code, "amount_fen"], before.loc[code, "amount_fen"], figure(fig).definition)


kpi_row([
    _wan("救助发放合计（万元）", overall["amount_fen"], overall_prev["amount_fen"],
         f"所有救助项目发放金额之和；救助对象 {overall['households']:,} 户 {overall['persons']:,} 人（跨项目去重）"),
    _wan("发放低保金（万元）", now.loc["dibao", "amount_fen"], before.loc["dibao", "amount_fen"], figure("F41").definition),
    _count("低保保障户数（户）", now.loc["dibao", "households"], before.loc["dibao", "households"], figure("F40").definition),
    _count("低保保障人数（人）", now.loc["dibao", "persons"], before.loc["dibao", "persons"], figure("F40").definition),
    _count("供养特困人员（人）", now.loc["tekun", "persons"], before.loc["tekun", "persons"], figure("F42").definition),
])
kpi_row([_wan("特困生活、护理补贴（万元）", tekun_subsidy, tekun_subsidy_prev, figure("F43").definition)]
        + [_programme(c) for c in ("temporary", "orphan", "disability", "charity")])

st.subheader("分项目发放情况")
show_styled_table(tables.programme_table(totals, overall), key="aid_prog", file_name=f"救助发放分项目_{slug}",
                  title=f"救助发放分项目情况（{f.scope}，{p.label}）")
st.caption(tables.AVG_DEFINITION + "；合计行的户数、人数按跨项目去重计算。")


# --- trend by month -------------------------------------------------------------------------------

st.subheader("逐月发放趋势")
window = p
if len(p.months()) < 3:  # a month or a week: show the twelve months up to it instead of a single point
    last = p.months()[-1]
    first = periods.month(last.year - 1, last.month).shift(1)
    window = periods.custom(first.start, p.end)
by_month = cache.q(aid.aid_by_month, window, f.street)
measure = st.segmented_control("指标", ["amount", "persons"], default="amount", key="aid_trend_measure",
                               format_func={"amount": "金额（万元）", "persons": "人数（人）"}.get) or "amount"
if by_month.empty:
    st.info("该期间没有发放记录。")
else:
    long = by_month.assign(month=pd.to_datetime(by_month["month"]), label=[f"{d:%Y-%m}" for d in by_month["month"]],
                           value=by_month["amount_fen"].map(fen_to_wan) if measure == "amount" else by_month["persons"])
    chart = charts.line_by_month(long, "month", "value", color="name",
                                 y_title="发放金额（万元）" if measure == "amount" else "发放人数（人）")
    # one tick per month (the temporal axis repeats a month when it has room for half-month ticks)
    charts.show(chart.encode(x=alt.X("label:O", title="月份", axis=alt.Axis(labelAngle=0))), key="aid_trend_chart")
    if window is not p:
        st.caption(f"所选统计期不足三个月，趋势图显示截至该期的近十二个月（{window.label}）。")
    with st.expander("逐月明细表", key="aid_monthly_open", on_change="rerun") as box:
        if box.open:  # built only when opened: a closed section costs the page nothing
            show_styled_table(tables.monthly_table(by_month, measure), key="aid_monthly",
                              file_name=f"救助发放逐月_{f.scope}_{window.key.replace('~', '至')}")


# --- year over year -------------------------------------------------------------------------------

st.subheader("与上年同期比较")
show_styled_table(tables.yoy_table(totals, totals_prev, overall, overall_prev), key="aid_yoy",
                  file_name=f"救助发放同比_{slug}",
                  title=f"救助发放与上年同期比较（{f.scope}，本期 {p.label}，同期 {prev.label}）")
st.caption("增减幅度 = （本期 − 上年同期）÷ 上年同期；上年同期为零时不计算。")


# --- per subdistrict: table and map (a fragment: the programme choice and map clicks rerun only this part) ------

def _remember_click() -> None:
    st.session_state["aid_click"] = st.session_state.get("aid_map")


@st.fragment
def subdistrict_section() -> None:
    st.subheader("分街道发放")
    choice = st.selectbox("救助项目", ["all", *AID_PROGRAMMES], key="aid_sub_prog",
                          format_func=lambda c: AID_PROGRAMMES.get(c, "全部救助项目"))
    if choice == "all":
        df, total, label = cache.q(aid.aid_all_by_subdistrict, p, f.street), overall, "救助发放"
    else:
        df = cache.q(aid.aid_by_subdistrict, p, f.street, programme=choice)
        total, label = now.loc[choice], AID_PROGRAMMES[choice]
    names = cache.q(geography.subdistrict_names)
    event = st.session_state.pop("aid_click", None)
    code = maps.clicked_subdistrict(event, names)
    if code and not f.street:
        st.session_state["aid_sel"] = None if st.session_state.get("aid_sel") == code else code
    selected = f.street or st.session_state.get("aid_sel")

    many = len(names) > maps.MAX_MAP_SUBDISTRICTS
    left, right = st.columns([3, 2])
    with left:
        if many and not f.street:
            st.info(f"街道较多（{len(names):,} 个），在侧边栏选择街道后显示地图；各街道数据见下表。")
        else:
            settings = cache.q(map_settings)
            details = {c: [f"户数 {h:,} 户，人数 {n:,} 人"]
                       for c, h, n in zip(df["subdistrict_code"], df["households"], df["persons"])}
            m = value_map(cache.q(geography.subdistrict_boundaries, f.street if many else None),
                          pd.DataFrame({"code": df["subdistrict_code"], "value": df["amount_fen"].map(fen_to_wan)}),
                          title=f"{label}金额（万元）", fmt=lambda v: f"{v:,.2f}", details=details,
                          outline=mapping(layers.district_outline()),
                          basemap=maps.Basemap(settings.basemap, settings.tianditu_key), selected=selected,
                          zero_label="本期无发放")
            maps.show_map(m, key="aid_map", returned_objects=["last_object_clicked", "last_object_clicked_tooltip"],
                          on_change=_remember_click, height=480)
    with right:
        if selected:
            name = names.get(selected, selected)
            st.markdown(f"**{md(name)} · 分项目发放情况**")
            brief = tables.programme_table(cache.q(aid.aid_totals, p, selected), cache.q(aid.aid_overall, p, selected))
            show_styled_table(brief[["救助项目", "人数（人）", "金额（万元）"]], key="aid_sel_prog",
                              file_name=f"救助发放分项目_{name}_{p.key.replace('~', '至')}")
        elif not many:
            st.info("点击地图上的街道，在此查看该街道分项目发放情况；再次点击取消选择。")
    show_styled_table(tables.subdistrict_table(df, total), key="aid_sub", file_name=f"救助发放分街道_{label}_{slug}",
                      title=f"{label}分街道情况（{f.scope}，{p.label}）")


subdistrict_section()


# --- proactive discovery ----------------------------------------------------------------------------

st.subheader("主动发现")
disc = cache.q(aid.proactive_discovery, p, f.street)
disc_by = cache.q(aid.proactive_discovery_by_subdistrict, p, f.street)
kpi_row([
    Kpi("主动摸排（人次）", fmt_int(disc["screened"]), help=figure("F50").definition),
    Kpi("摸排后纳入低保（户）", fmt_int(disc["dibao_households"]), help=figure("F51").definition),
    Kpi("摸排后纳入特困（户）", fmt_int(disc["tekun_households"]), help=figure("F52").definition),
])
c_total, c_each = st.columns([1, 2])
with c_total:
    st.markdown(f"**{f.scope}**")
    funnel.show(funnel.funnel(pd.DataFrame([disc]), FUNNEL_STAGES, value_title="数量"), key="aid_funnel")
with c_each:
    shown = disc_by.sort_values("screened", ascending=False, kind="stable").head(MAX_FUNNELS)
    if len(disc_by) > 1:
        st.markdown("**各街道**" + (f"（摸排人次最多的 {MAX_FUNNELS} 个）" if len(disc_by) > MAX_FUNNELS else ""))
        funnel.show(funnel.funnel(shown, FUNNEL_STAGES, group="subdistrict_name", columns=3, height=110, width=150),
                    key="aid_funnel_sub")
show_styled_table(tables.discovery_table(disc_by, disc), key="aid_disc", file_name=f"主动发现分街道_{slug}",
                  title=f"主动发现分街道情况（{p.label}）")
st.caption("括号内为占主动摸排人次的比例。纳入保障以纳入日期在统计期内、且有摸排来源的家庭计。")


# --- recipient list (masked) ---------------------------------------------------------------------------

if principal().can_see_personal:
    with st.expander("救助对象名单（仅限授权工作人员，默认脱敏）", key="aid_rec_open", on_change="rerun") as box:
        st.caption("本名单仅供经授权的工作人员核对发放使用：姓名、身份证号、联系电话默认脱敏显示；"
                   "确需查看完整信息时须填写理由，查看和导出均记入审计日志。名单在展开本栏时才读取。")
        if box.open:  # read and drawn only while the section is open: the summary views never carry a person
            who = reveal_control(f"救助对象名单 · {f.scope} · {p.label}", key="aid_rec")
            c1, c2 = st.columns(2)
            prog = c1.selectbox("救助项目", ["", *AID_PROGRAMMES], key="aid_rec_prog",
                                format_func=lambda c: AID_PROGRAMMES.get(c, "全部救助项目")) or None
            n = cache.q(aid.aid_recipients_count, p, f.street, programme=prog)
            pages = max(1, math.ceil(n / RECIPIENTS_PER_PAGE))
            st.session_state["aid_rec_page"] = min(int(st.session_state.get("aid_rec_page", 1)), pages)
            page_no = c2.number_input(f"页码（共 {pages:,} 页，{n:,} 行）", min_value=1, max_value=pages, step=1,
                                      key="aid_rec_page")
            rows = cache.q(aid.aid_recipients, p, f.street, programme=prog, limit=RECIPIENTS_PER_PAGE,
                           offset=(int(page_no) - 1) * RECIPIENTS_PER_PAGE)
            masked = "完整" if who.reveal else "脱敏"
            if rows.empty:
                st.info("该期间没有发放记录。")
            else:
                show_styled_table(tables.recipient_table(rows), key="aid_rec",
                                  file_name=f"救助对象名单_{masked}_{slug}_第{int(page_no)}页",
                                  title=f"救助对象名单（{masked}）· {f.scope} · {p.label} · 第 {int(page_no)} 页",
                                  on_download=export_audit(f"救助对象名单 · {f.scope} · {p.label} · 第 {int(page_no)} 页"))
                st.caption("每人每个救助项目一行；发放金额为统计期内该项目发放给此人的合计。下载内容与本页显示一致。")
