"""周度研判: the director's weekly review — this week vs last week, targets at a glance, things that need action."""
from __future__ import annotations

import streamlit as st

from components import documents, filters
from components.kpis import kpi_row
from components.personal import reveal_control
from components.session import reader
from components.text import md
from views import weekly
from views.common import parse_period, period_label

f = filters.current()
read = reader()
choice = weekly.week_choice(read, f.period, f.last_data_day)

st.title("周度研判")
key = st.selectbox("研判周（周一至周日）", choice.options, index=choice.options.index(choice.default.key),
                   format_func=period_label, key=f"wr_week_{choice.default.key}")
week = parse_period(key)
st.caption(f"{f.scope} · {week.label}，与上周（{week.previous().label}）比较。默认为最近一个已结束且有台账记录的完整周；"
           "侧栏统计周期选“周”时使用所选周。")
page = weekly.build(read, week, f.street, f.street_name)

# --- headline ---------------------------------------------------------------------------------------------
kpi_row(page.cards, columns=4)
with st.expander("本周、上周与变化（表）", key="wr_table_open", on_change="rerun") as box:
    if box.open:  # built only when opened: a closed section costs the page nothing
        st.dataframe(page.headline_table, hide_index=True, width="stretch")

# --- targets ------------------------------------------------------------------------------------------------
st.subheader("目标一览")
st.caption(f"截至 {week.end}（全区）。应达进度按从基期到期限匀速推进计算；当前值低于应达进度为“进度滞后”。")
if not page.targets_shown:
    st.info("目标一览为全区指标，街道账号不显示；本页其余内容均为本街道数据。")
elif page.targets.empty:
    st.info("目标表中暂无可计算进度的目标。")
else:
    st.dataframe(page.targets_table, hide_index=True, width="stretch")

# --- action lists -------------------------------------------------------------------------------------------
st.subheader("需要处理的事项")
left, right = st.columns(2)
with left:
    st.markdown(f"**逾期未整改问题：{len(page.overdue)} 个**（截至 {week.end}）")
    if len(page.overdue):
        st.dataframe(page.overdue_table, hide_index=True, width="stretch")
    st.page_link("pages/rectification.py", label="查看整改进度")

    st.markdown(f"**连续 {weekly.SILENT_MEAL_DAYS} 天无助餐记录的助餐点：{len(page.silent_points)} 个**")
    if len(page.silent_points):
        st.dataframe(page.silent_points_table, hide_index=True, width="stretch")
    st.page_link("pages/meal_coverage.py", label="查看助餐覆盖")
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

    ledgers = page.silent_ledgers
    st.markdown(f"**本周台账未更新的街道：{len(ledgers)} 个**")
    st.markdown(md("、".join(ledgers["subdistrict_name"])) if len(ledgers) else "无。")
    st.page_link("pages/facilities.py", label="查看设施布局")

# --- export ----------------------------------------------------------------------------------------------------
st.divider()
documents.weekly_button(page)  # the Word document of this page model, written when the button is clicked
st.caption("Word 文档含本周与上周对比表、目标表、需处理事项（姓名已脱敏）和主要图表，可直接打印。"
           "定时生成：python -m data weekly-report --week 2024-W52 --out review.docx")
