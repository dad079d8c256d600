"""审计日志 (管理员、局领导): who did what when — filter by day range, user and action; newest first; Excel."""
from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from components import filters, locale, session
from components.kpis import Kpi, kpi_row
from components.text import md
from components.tables import show_table
from views import audit_log as view

filters.ensure_entry_script()  # this page reads no shared filter, but must run through app.py

reader = session.reader()
st.title("审计日志")
if not view.may_read(reader):
    st.error(view.REFUSED)
    st.stop()
st.caption("每一次登录、数据修改、导入、冻结和查看个人信息都留有记录；记录只能追加，不能修改或删除。"
           "每条记录带有前一条记录的哈希，任何修改、删除或插入都能被核验发现。")

st.subheader("留存情况")
verify_clicked = st.columns([6, 1])[1].button("立即核验", key="audit_verify")
report = view.verify(reader) if verify_clicked else None
kept = view.retention(reader)  # after a verification just run, so 最近一次核验 is that one
check = "通过" if kept.check_ok else ("未通过" if kept.check_ok is False else "尚未核验")
kpi_row([Kpi(label, value) for label, value in kept.cards[:3]], key="audit_kept")
kpi_row([Kpi(kept.cards[3][0], kept.cards[3][1], help=kept.floor_text),
         Kpi(kept.cards[4][0], check, help=kept.check_text)], columns=3, key="audit_check")
st.caption(md(f"{kept.floor_text}。最近一次核验：{kept.check_text}。"
              "较早的记录可按月归档到文件（python -m data audit archive），归档文件同样可以核验。"))
if report is not None:
    (st.success if report.ok else st.error)(md("\n".join(line.strip() for line in report.lines())))

st.subheader("审计记录")

today = date.today()
c1, c2, c3 = st.columns([2, 2, 3])
span = c1.date_input("日期范围", value=(today - timedelta(days=30), today), key="audit_dates", format="YYYY-MM-DD")
start, end = (span[0], span[-1]) if isinstance(span, (tuple, list)) and span else (span, span)
users = [""] + view.usernames(reader)
username = c2.selectbox("用户", users, key="audit_user", format_func=lambda u: u or "（全部用户）", placeholder=locale.PICK)
actions = c3.multiselect("操作", list(view.ACTIONS), key="audit_actions", format_func=view.ACTIONS.get,
                         placeholder="全部操作")

page = view.build(reader, start, end, username, tuple(actions))  # not cached: the log grows with every sign-in
kpi_row([Kpi("符合条件的记录", f"{page.total:,} 条")], columns=3)
if page.truncated:
    st.caption(f"只显示最新的 {len(page.table):,} 条；请缩小日期范围或选择用户、操作。")
if page.table.empty:
    st.info("所选范围内没有审计记录。")
else:
    show_table(page.table, key="audit", file_name=f"审计日志_{start}_{end}", highlight=page.failed, title="审计日志")
    st.caption("失败的操作（如登录失败、修改冲突）以红色标出。")
