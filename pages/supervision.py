"""督办: supervision orders from finding to verified fix — warnings, the list, one order's steps, issuing, the map."""
from __future__ import annotations

import streamlit as st

from components import filters
from components import supervision_panels as panels
from components.session import reader
from components.text import md
from views import supervision as view

f = filters.current()
r = reader()
st.title("督办")
top = st.columns([1, 3])
on = top[0].date_input("截至日期", view.default_day(r, f.last_data_day), key="sv_on")
page = view.build(r, on=on, street=f.street, **panels.chosen_filters("sv_f"))
top[1].caption(f"{f.scope} · {md(page.note)}")
panels.inbox_badge(page.inbox)
panels.level_row(page)

if page.counts_only:  # 展示: counts by unit and the map only
    panels.unit_counts(page, key="sv_units")
    panels.open_map(page.map, key="sv", locked=f.street)
    st.stop()

qp = st.query_params
if qp.get("order"):
    st.session_state["sv_order"] = qp["order"]


def _pick(code: str) -> None:
    st.session_state["sv_order"] = code
    st.query_params["order"] = code


tabs = ["督办单", "按责任单位"] + (["派单", "设置"] if page.can_issue else [])
# only the chosen tab runs and is sent (a tab's content is built when it is opened); a link with a to-do item opens
# 派单 with that item chosen
shown = st.tabs(tabs, key="sv_tab", on_change="rerun", default="派单" if page.can_issue and qp.get("todo") else None)
if shown[0].open:
    with shown[0]:
        panels.list_filters(page.unit_choices, key="sv_f")
        panels.order_list(page, key="sv_list", on_pick=_pick)
        code = st.session_state.get("sv_order")
        ov = view.detail(r, code=code, on=on) if code else None
        if code and ov is None:
            st.warning(f"找不到督办单 {md(code)}，或本账号无权查看。")
        if ov is not None:
            st.divider()
            panels.order_panel(ov, key="sv_order_panel", evidence=lambda eid, who: view.evidence_file(r, eid, who),
                               on_act=lambda order, action, note, files: view.act(r, order, action, note, files))
if shown[1].open:
    with shown[1]:
        left, right = st.columns([3, 2])
        with left:
            panels.unit_counts(page, key="sv_units")
        with right:
            panels.open_map(page.map, key="sv", locked=f.street)
            st.caption("地图为各街道未办结督办单数；区直部门、服务商的督办单不在图上。")
if page.can_issue and shown[2].open:
    with shown[2]:
        week = view.candidate_week(on)
        todo = view.candidates(r, week, f.street)
        units = view.unit_options(r)
        st.markdown(f"**{week.label}周度研判列出的待督办事项**（逾期问题、巡访不足、助餐点无记录、台账未更新、圆桌会诉求）")
        st.session_state.setdefault("sv_todo", qp.get("todo"))
        panels.todo_list(todo, key="sv_todo_list",
                         on_pick=lambda i: st.session_state.update(sv_todo=panels.todo_key(todo.iloc[i])))
        item = panels.todo_item(todo, st.session_state["sv_todo"])
        st.markdown("**派发督办单**" + (f"：{md(item['title'])}" if item else "（群众诉求或其他事项）"))
        if item is not None and st.button("改为派发其他事项", key="sv_todo_clear"):
            st.session_state["sv_todo"] = None
            st.rerun()
        panels.issue_form(view.draft(item), units, key="sv_issue", on_issue=lambda v: view.issue(r, v))
        with st.expander("登记圆桌会诉求"):
            panels.request_form(view.roundtable(r)["meetings"], units, key="sv_request",
                                on_record=lambda v: view.record_request(r, v))
if page.can_issue and shown[3].open:
    with shown[3]:
        panels.settings_form(page.settings, key="sv_settings", on_save=lambda v: view.save_settings(r, v))
