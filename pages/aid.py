"""救助发放: payments per programme for the sidebar period and subdistrict — headline, per programme, monthly trend,
year-over-year, per subdistrict (table and map), proactive discovery, and the masked recipient list."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from components import aid_tables as tables
from components import charts, filters, funnel, locale, maps
from components.auth_ui import principal
from components.kpis import Kpi, kpi_row
from components.personal import export_audit, reveal_control
from components.session import reader
from components.styled_tables import show_styled_table
from components.text import md
from views import aid as view

f = filters.current()
v = view.build(reader(), f.period, f.street, f.scope)
p, prev, slug = v.period, v.previous, v.slug
st.title("救助发放")
st.caption(v.caption)
for row in v.kpis:
    kpi_row([Kpi(*k) for k in row])

st.subheader("分项目发放情况")
show_styled_table(tables.programme_table(v.totals, v.overall), key="aid_prog", file_name=f"救助发放分项目_{slug}",
                  title=f"救助发放分项目情况（{f.scope}，{p.label}）")
st.caption(tables.AVG_DEFINITION + "；合计行的户数、人数按跨项目去重计算。")

st.subheader("逐月发放趋势")
measure = st.segmented_control("指标", ["amount", "persons"], default="amount", key="aid_trend_measure",
                               format_func={"amount": "金额（万元）", "persons": "人数（人）"}.get) or "amount"
if v.by_month.empty:
    st.info("该期间没有发放记录。")
else:
    chart = charts.line_by_month(view.trend(v.by_month, measure), "month", "value", color="name",
                                 y_title="发放金额（万元）" if measure == "amount" else "发放人数（人）")
    # one tick per month (the temporal axis repeats a month when it has room for half-month ticks)
    charts.show(chart.encode(x=alt.X("label:O", title="月份", axis=alt.Axis(labelAngle=0))), key="aid_trend_chart")
    if v.window is not p:
        st.caption(f"所选统计期不足三个月，趋势图显示截至该期的近十二个月（{v.window.label}）。")
    with st.expander("逐月明细表", key="aid_monthly_open", on_change="rerun") as box:
        if box.open:  # built only when opened: a closed section costs the page nothing
            show_styled_table(tables.monthly_table(v.by_month, measure), key="aid_monthly",
                              file_name=f"救助发放逐月_{f.scope}_{v.window.key.replace('~', '至')}")

st.subheader("与上年同期比较")
show_styled_table(tables.yoy_table(v.totals, v.totals_prev, v.overall, v.overall_prev), key="aid_yoy",
                  file_name=f"救助发放同比_{slug}",
                  title=f"救助发放与上年同期比较（{f.scope}，本期 {p.label}，同期 {prev.label}）")
st.caption("增减幅度 = （本期 − 上年同期）÷ 上年同期；上年同期为零时不计算。")


@st.fragment  # the programme choice and map clicks rerun only this part
def subdistrict_section() -> None:
    st.subheader("分街道发放")
    choice = st.selectbox("救助项目", ["all", *view.PROGRAMMES], key="aid_sub_prog",
                          format_func=lambda c: view.PROGRAMMES.get(c, "全部救助项目"), placeholder=locale.PICK)
    frame = maps.DistrictMap("aid", select="aid_sel", locked=f.street)
    frame.read_click()
    s = view.by_subdistrict(reader(), v, f.street, choice, frame.selected)
    left, right = st.columns([3, 2])
    with left:
        if not s.mapped:
            st.info(f"街道较多（{len(s.names):,} 个），在侧边栏选择街道后显示地图；各街道数据见下表。")
        else:
            frame.show(s.boundaries, maps.value_picture(s.boundaries, s.values, title=f"{s.label}金额（万元）",
                                                        fmt=lambda x: f"{x:,.2f}", details=s.details,
                                                        zero_label="本期无发放"), height=480)
    with right:
        if frame.selected:
            name = s.names.get(frame.selected, frame.selected)
            st.markdown(f"**{md(name)} · 分项目发放情况**")
            brief = tables.programme_table(s.selected_totals, s.selected_overall)
            show_styled_table(brief[["救助项目", "人数（人）", "金额（万元）"]], key="aid_sel_prog",
                              file_name=f"救助发放分项目_{name}_{p.key.replace('~', '至')}")
        elif not s.many:
            st.info("点击地图上的街道，在此查看该街道分项目发放情况；再次点击取消选择。")
    show_styled_table(tables.subdistrict_table(s.rows, s.total), key="aid_sub",
                      file_name=f"救助发放分街道_{s.label}_{slug}", title=f"{s.label}分街道情况（{f.scope}，{p.label}）")


subdistrict_section()

st.subheader("主动发现")
kpi_row([Kpi(*k) for k in v.discovery_kpis])
c_total, c_each = st.columns([1, 2])
with c_total:
    st.markdown(f"**{f.scope}**")
    funnel.show(funnel.funnel(pd.DataFrame([v.discovery]), view.FUNNEL_STAGES, value_title="数量"), key="aid_funnel")
with c_each:
    if len(v.discovery_by) > 1:
        st.markdown("**各街道**" + (f"（摸排人次最多的 {view.MAX_FUNNELS} 个）" if v.funnels_cut else ""))
        funnel.show(funnel.funnel(v.funnels, view.FUNNEL_STAGES, group="subdistrict_name", columns=3, height=110,
                                  width=150), key="aid_funnel_sub")
show_styled_table(tables.discovery_table(v.discovery_by, v.discovery), key="aid_disc",
                  file_name=f"主动发现分街道_{slug}", title=f"主动发现分街道情况（{p.label}）")
st.caption("括号内为占主动摸排人次的比例。纳入保障以纳入日期在统计期内、且有摸排来源的家庭计。")

if principal().can_see_personal:
    with st.expander("救助对象名单（仅限授权工作人员，默认脱敏）", key="aid_rec_open", on_change="rerun") as box:
        st.caption("本名单仅供经授权的工作人员核对发放使用：姓名、身份证号、联系电话默认脱敏显示；"
                   "确需查看完整信息时须填写理由，查看和导出均记入审计日志。名单在展开本栏时才读取。")
        if box.open:  # read and drawn only while the section is open: the summary views never carry a person
            who = reveal_control(f"救助对象名单 · {f.scope} · {p.label}", key="aid_rec")
            c1, c2 = st.columns(2)
            prog = c1.selectbox("救助项目", ["", *view.PROGRAMMES], key="aid_rec_prog",
                                format_func=lambda c: view.PROGRAMMES.get(c, "全部救助项目"), placeholder=locale.PICK) or None
            n, pages = view.recipient_pages(reader().as_(who), p, f.street, prog)
            st.session_state["aid_rec_page"] = min(int(st.session_state.get("aid_rec_page", 1)), pages)
            page_no = c2.number_input(f"页码（共 {pages:,} 页，{n:,} 行）", min_value=1, max_value=pages, step=1,
                                      key="aid_rec_page")
            rows = view.recipients(reader().as_(who), p, f.street, prog, page_no)
            masked = "完整" if who.reveal else "脱敏"
            where = f"{f.scope} · {p.label} · 第 {int(page_no)} 页"
            if rows.empty:
                st.info("该期间没有发放记录。")
            else:
                show_styled_table(tables.recipient_table(rows), key="aid_rec",
                                  file_name=f"救助对象名单_{masked}_{slug}_第{int(page_no)}页",
                                  title=f"救助对象名单（{masked}）· {where}", on_download=export_audit(f"救助对象名单 · {where}"))
                st.caption("每人每个救助项目一行；发放金额为统计期内该项目发放给此人的合计。下载内容与本页显示一致。")
