"""周度研判: the director's weekly review — this week vs last week, targets at a glance, things that need action."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components import filters
from components.downloads import DOCX, download_button
from components.kpis import Kpi, kpi_row
from exports.weekly_docx import fmt_change, fmt_headline, fmt_target, weekly_review_docx
from components.auth_ui import principal
from components.personal import reveal_control
from components.text import md
from data.db import cache
from data.domain import period as periods
from data.queries import meta, weekly

f = filters.current()
span = cache.q(meta.record_date_range)
first_day = span[0] if span else f.last_data_day
latest = periods.latest_complete("week", f.last_data_day)
default = weekly.default_week(f.last_data_day, f.period)
options = periods.options(latest, first_day, keep=default.key)

st.title("周度研判")
key = st.selectbox("研判周（周一至周日）", options, index=options.index(default.key),
                   format_func=periods.label, key=f"wr_week_{default.key}")
week = periods.parse(key)
st.caption(f"{f.scope} · {week.label}，与上周（{week.previous().label}）比较。默认为最近一个已结束且有台账记录的完整周；"
           "侧栏统计周期选“周”时使用所选周。")

# --- headline ---------------------------------------------------------------------------------------------
head = cache.q(weekly.weekly_headline, week, f.street)
kpi_row([Kpi(f"{r.label}（{r.unit}）", fmt_headline(r.key, r.value), f"{fmt_change(r.key, r.change)} 较上周",
             f"{r.definition}；上周 {fmt_headline(r.key, r.previous)}", "inverse" if r.rise_is_bad else "normal")
         for r in head.itertuples()], columns=4)
with st.expander("本周、上周与变化（表）", key="wr_table_open", on_change="rerun") as box:
    if box.open:  # built only when opened: a closed section costs the page nothing
        st.dataframe(pd.DataFrame({"指标": head["label"], "单位": head["unit"],
                                   "本周": [fmt_headline(k, v) for k, v in zip(head["key"], head["value"])],
                                   "上周": [fmt_headline(k, v) for k, v in zip(head["key"], head["previous"])],
                                   "变化": [fmt_change(k, v) for k, v in zip(head["key"], head["change"])],
                                   "口径": head["definition"]}), hide_index=True, width="stretch")

# --- targets ------------------------------------------------------------------------------------------------
st.subheader("目标一览")
st.caption(f"截至 {week.end}（全区）。应达进度按从基期到期限匀速推进计算；当前值低于应达进度为“进度滞后”。")
targets = None if principal().street_locked else cache.q(weekly.weekly_targets, week.end)
if targets is None:
    st.info("目标一览为全区指标，街道账号不显示；本页其余内容均为本街道数据。")
elif targets.empty:
    st.info("目标表中暂无可计算进度的目标。")
else:
    st.dataframe(pd.DataFrame({
        "目标": targets["name"], "目标值": [fmt_target(v, u) for v, u in zip(targets["target"], targets["unit"])],
        "当前值": [fmt_target(v, u) for v, u in zip(targets["value"], targets["unit"])],
        "差距": [fmt_target(v, u) for v, u in zip(targets["gap"], targets["unit"])],
        "应达进度": [fmt_target(v, u) for v, u in zip(targets["expected"], targets["unit"])],
        "每月需推进": ["—" if m else fmt_target(min(p, 9999), u)
                  for m, p, u in zip(targets["met"], targets["pace_needed"], targets["unit"])],
        "期限": [d.isoformat() for d in targets["deadline"]], "状态": targets["status"]}),
        hide_index=True, width="stretch")

# --- action lists -------------------------------------------------------------------------------------------
st.subheader("需要处理的事项")
left, right = st.columns(2)
with left:
    od = cache.q(weekly.overdue_findings, week, f.street)
    st.markdown(f"**逾期未整改问题：{len(od)} 个**（截至 {week.end}）")
    if len(od):
        st.dataframe(pd.DataFrame({"编号": od["code"], "街道": od["subdistrict_name"], "点位": od["place_name"],
                                   "问题类别": od["category"], "整改期限": od["deadline"].astype(str),
                                   "逾期天数": od["days_overdue"]}).head(20), hide_index=True, width="stretch")
    st.page_link("pages/rectification.py", label="查看整改进度")

    silent = cache.q(weekly.silent_meal_points, week, f.street)
    st.markdown(f"**连续 {weekly.SILENT_MEAL_DAYS} 天无助餐记录的助餐点：{len(silent)} 个**")
    if len(silent):
        st.dataframe(pd.DataFrame({"街道": silent["subdistrict_name"], "助餐点": silent["name"],
                                   "最近记录": silent["last_served_on"].astype(str)}), hide_index=True, width="stretch")
    st.page_link("pages/meal_coverage.py", label="查看助餐覆盖")
with right:
    by_street = cache.q(weekly.visits_below_rule_by_subdistrict, week, f.street)
    below = cache.q(weekly.visits_below_rule, week, f.street)
    st.markdown(f"**本月巡访不足两次的独居老人：{len(below)} 人**（{week.end.month}月1日至{week.end.month}月"
                f"{week.end.day}日；规定每月不少于两次）")
    if len(by_street):
        st.dataframe(by_street.rename(columns={"subdistrict_name": "街道", "roster": "在册人数", "below": "不足两次"})
                     [["街道", "在册人数", "不足两次"]], hide_index=True, width="stretch")
        with st.expander("名单（默认脱敏）", key="wr_below_open", on_change="rerun") as box:
            if box.open:  # built only when opened: a closed section costs the page nothing
                reveal_control(f"巡访不足名单 · {f.scope} · {week.label}", key="wr_below")
                st.dataframe(below.rename(columns={"subdistrict_name": "街道", "community_name": "社区", "name": "姓名",
                                                    "visits": "本月巡访次数"})[["街道", "社区", "姓名", "本月巡访次数"]],
                             hide_index=True, width="stretch")
    st.page_link("pages/overview.py", label="查看总览（独居老人巡访）")

    ledgers = cache.q(weekly.silent_ledgers, week, f.street)
    st.markdown(f"**本周台账未更新的街道：{len(ledgers)} 个**")
    st.markdown(md("、".join(ledgers["subdistrict_name"])) if len(ledgers) else "无。")
    st.page_link("pages/facilities.py", label="查看设施布局")

# --- export ----------------------------------------------------------------------------------------------------
st.divider()
# built on click, outside this run: the queries run as the principal handed to the build, not read from the session
download_button("下载周度研判（Word）",
                lambda who: weekly_review_docx(cache.q_as(who, weekly.weekly_review_data, week, f.street), week,
                                               f.street_name),
                file_name=f"周度研判_{f.scope}_{week.key}.docx", key="wr_docx", mime=DOCX)
st.caption("Word 文档含本周与上周对比表、目标表、需处理事项（姓名已脱敏）和主要图表，可直接打印。"
           "定时生成：python -m data weekly-report --week 2024-W52 --out review.docx")
