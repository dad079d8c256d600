"""站点任务与考核: the subdistrict stations' duty list, planned vs done each month, the monthly 100-point assessment
with its ranking and 考核通报, the monthly dispatch meetings (一月一调度) and what the stations enter themselves."""
from __future__ import annotations

import streamlit as st


from components import filters, locale
from components import station_panels as panels
from components.session import reader
from components.text import md
from views import stations as view

f = filters.current()
r = reader()
st.title("站点任务与考核")
first = view.default_month(f.period, f.last_data_day)
options = view.month_options(r, first)
month = st.selectbox("考核月份", options, index=options.index(first), format_func=view.month_label,
                     key=f"st_month_{first}", placeholder=locale.PICK)
page = view.build(r, month, f.street)
st.caption(f"{f.scope} · {page.label} · 街道民政服务站按服务内容清单逐月考核；每个数字注明来源（台账统计或站点填报）。"
           + ("展示账号只显示数字和得分。" if page.counts_only else ""))
panels.headline(page)

names = ["任务看板", "月度考核"] + ([] if page.counts_only else ["一月一调度", "站点填报", "服务内容清单"])
# only the chosen tab runs and is sent (a tab's content is built when it is opened): the first screen carries the
# headline and the task board, not four hidden tabs of tables and forms
tabs = dict(zip(names, st.tabs(names, key="st_tab", on_change="rerun")))
if tabs["任务看板"].open:
    with tabs["任务看板"]:
        panels.board(page, key="st_board")
if tabs["月度考核"].open:
    with tabs["月度考核"]:
        panels.scores(page, key="st_scores")
        panels.ranking(page, key="st_rank", on_publish=(lambda: view.publish(r, month)) if page.can_manage else None,
                       report=panels.report_builder(r, month) if page.ranking is not None else None)
if not page.counts_only and tabs["一月一调度"].open:
    with tabs["一月一调度"]:
        panels.dispatches(page, key="st_disp")
        if page.can_manage:
            with st.expander("记录一月一调度（交办任务生成督办单）"):
                panels.dispatch_form(view.stations(r), key="st_disp_form", on_save=lambda v: view.save_dispatch(r, v))
if not page.counts_only and tabs["站点填报"].open:
    with tabs["站点填报"]:
        if page.entries is None:
            st.info("局领导账号只查看，不填报。")
        else:
            st.caption("台账没有记录的任务（如政策宣讲、助餐点巡查）由站点填报；业务科室可代填。考核结果发布后不能再改。")
            panels.entries(page, key="st_entries", on_save=lambda row, done, note: view.save_entry(r, month, row, done,
                                                                                                  note))
if not page.counts_only and tabs["服务内容清单"].open:
    with tabs["服务内容清单"]:
        panels.tasks(page, key="st_tasks")
        if page.can_manage:
            with st.expander("修改服务内容清单（按月生效）"):
                start = view.next_editable_month(r)
                rows, revision = view.task_editor(r, start)
                st.markdown(md(f"新版本自 {view.month_label(start)} 起适用。"))
                panels.tasks_editor(rows, revision, start, key="st_task_edit",
                                    on_save=lambda out: view.save_tasks(r, start, out, revision))
