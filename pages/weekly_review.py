"""周度研判: the director's weekly review — who to chase first, what moved this week, which targets lag.

One period control: the sidebar's 统计周期. A week is reviewed as chosen; any longer period reviews its last complete
week (views.weekly.review_week), and the page says so."""
from __future__ import annotations

import streamlit as st

from components import documents, filters, supervision_panels
from components.kpis import kpi_row
from components.personal import reveal_control
from components.session import Ahead, reader
from components.text import md
from views import supervision as duban
from views import weekly

f = filters.current()
read = reader()
week = weekly.review_week(f.period, f.last_data_day)
summary = Ahead(duban.weekly_summary, read, week, f.street)  # read while the review is read (both wait on the database)
page = weekly.build(read, week, f.street, f.street_name)

st.title("周度研判")
st.caption(f"{f.scope} · {weekly.week_note(f.period, week)}，与上周（{week.previous().label}）比较")
supervision_panels.inbox_badge(duban.inbox(read, duban.default_day(read, f.last_data_day)))  # 街道 accounts only

# --- first screen: what moved (cards, drawn first), who to chase, which targets lag ---------------------------
kpi_row(page.cards, columns=4)  # the headline first: the tables below load their code on demand
chase, lag = st.columns([3, 2])
with chase:
    st.markdown(f"**需督办：逾期未整改问题 {page.overdue_count} 个**（截至 {week.end.year}年{week.end.month}月"
                f"{week.end.day}日，按逾期天数排列）")
    if page.overdue_count:
        st.dataframe(page.overdue_table, hide_index=True, width="stretch", height=250)
    else:
        st.success("没有逾期未整改的问题。")
with lag:
    st.markdown(f"**目标进度**（截至 {week.end.year}年{week.end.month}月{week.end.day}日，全区）")
    if not page.targets_shown:
        st.info("目标进度为全区指标，街道账号不显示；本页其余内容均为本街道数据。")
    elif page.targets.empty:
        st.info("目标表中暂无可计算进度的目标。")
    else:
        st.dataframe(page.lagging_table, hide_index=True, width="stretch", height=250)
supervision_panels.weekly_section(summary.result())  # 督办: issued, due, overdue by level

# --- details ----------------------------------------------------------------------------------------------
with st.expander("本周、上周与变化（表）", key="wr_table_open", on_change="rerun") as box:
    if box.open:  # built only when opened: a closed section costs the page nothing
        st.dataframe(page.headline_table, hide_index=True, width="stretch")
if page.targets_shown and not page.targets.empty:
    with st.expander("目标一览（差距、应达进度、每月需推进）", key="wr_targets_open", on_change="rerun") as box:
        if box.open:
            st.caption("应达进度按从基期到期限匀速推进计算；当前值低于应达进度为“进度滞后”。")
            st.dataframe(page.targets_table, hide_index=True, width="stretch")

st.subheader("其他需要处理的事项")
left, right = st.columns(2)
with left:
    st.page_link("pages/rectification.py", label="查看整改进度")
    st.markdown(f"**连续 {weekly.SILENT_MEAL_DAYS} 天无助餐记录的助餐点：{len(page.silent_points)} 个**")
    if len(page.silent_points):
        st.dataframe(page.silent_points_table, hide_index=True, width="stretch")
    st.page_link("pages/meal_coverage.py", label="查看助餐覆盖")
    ledgers = page.silent_ledgers
    st.markdown(f"**本周台账未更新的街道：{len(ledgers)} 个**")
    st.markdown(md("、".join(ledgers["subdistrict_name"])) if len(ledgers) else "无。")
    st.page_link("pages/facilities.py", label="查看设施布局")
with right:
    st.markdown(f"**本月巡访不足两次的独居老人：{len(page.below)} 人**（{week.end.month}月1日至{week.end.month}月"
                f"{week.end.day}日；规定每月不少于两次）")
    if len(page.below_by_street):
        st.dataframe(page.below_by_street_table, hide_index=True, width="stretch")
        with st.expander("名单（默认脱敏）", key="wr_below_open", on_change="rerun") as box:
            if box.open:  # built only when opened: a closed section costs the page nothing
                reveal_control(f"巡访不足名单 · {f.scope} · {week.label}", key="wr_below")
                st.dataframe(page.below_table, hide_index=True, width="stretch")
    st.page_link("pages/overview.py", label="查看总览（独居老人巡访）")

# --- export ----------------------------------------------------------------------------------------------------
st.divider()
documents.weekly_button(page)  # the Word document of this page model, written when the button is clicked
st.caption("Word 文档含本周与上周对比表、目标表、需处理事项（姓名已脱敏）和主要图表，可直接打印。")
