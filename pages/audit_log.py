"""审计日志 (管理员、局领导): who did what when — filter by day range, user and action; newest first; Excel."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from components import filters
from components.auth_ui import principal
from components.tables import show_table
from data.db import cache
from data.queries.access import ROLES
from data.security.audit import ACTIONS, audit_entries, audit_entry_count, audit_usernames, readable_detail
from data.security.masking import mask_personal_text

ALLOWED = {"admin", "leader"}
LIMIT = 2000

filters.ensure_entry_script()  # this page reads no shared filter, but must run through app.py

who = principal()
st.title("审计日志")
if who.role not in ALLOWED:
    st.error("只有管理员和局领导可以查看审计日志。")
    st.stop()
st.caption("每一次登录、数据修改、导入、冻结和查看个人信息都留有记录；记录只能追加，不能修改或删除。")

engine = cache.engine()  # not cached: the log grows with every sign-in
today = date.today()
c1, c2, c3 = st.columns([2, 2, 3])
span = c1.date_input("日期范围", value=(today - timedelta(days=30), today), key="audit_dates", format="YYYY-MM-DD")
start, end = (span[0], span[-1]) if isinstance(span, (tuple, list)) and span else (span, span)
users = [""] + audit_usernames(engine)
username = c2.selectbox("用户", users, key="audit_user", format_func=lambda u: u or "（全部用户）")
actions = c3.multiselect("操作", list(ACTIONS), key="audit_actions", format_func=ACTIONS.get,
                         placeholder="全部操作")

wanted = dict(start=start or None, end=end or None, username=username or None, actions=tuple(actions))
total = audit_entry_count(engine, **wanted)
log = audit_entries(engine, limit=LIMIT, **wanted)
st.metric("符合条件的记录", f"{total:,} 条")
if total > len(log):
    st.caption(f"只显示最新的 {len(log):,} 条；请缩小日期范围或选择用户、操作。")

table = pd.DataFrame({
    "时间": pd.to_datetime(log["at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
    "用户": log["username"].fillna("—").map(mask_personal_text),
    "角色": log["role"].map(lambda r: ROLES.get(r, r) if r else "—"),
    "操作": log["action"].map(lambda a: ACTIONS.get(a, a)),
    # masked when written (data.security.audit.record); masked again here for entries written before that rule
    "对象": log["target"].fillna("").map(mask_personal_text),
    "详情": log["detail"].map(readable_detail),
    "结果": log["ok"].map(lambda ok: "成功" if ok else "失败"),
})
if table.empty:
    st.info("所选范围内没有审计记录。")
else:
    show_table(table, key="audit", file_name=f"审计日志_{start}_{end}", highlight=~log["ok"].astype(bool),
               title="审计日志")
    st.caption("失败的操作（如登录失败、修改冲突）以红色标出。")
