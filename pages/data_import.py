"""数据导入: choose a ledger, download its template, upload, see the validation report or the result; import history."""
from __future__ import annotations

import streamlit as st


from components import filters, locale, session
from components.downloads import download_button
from components.ledger_import import show_outcome, template_download
from components.tables import show_table
from components.text import md
from views import data_import as view

OUTCOME = "imp_outcome"
ORIGINAL = "imp_original_ready"  # the import (id, file name) whose original this session has asked for, audited

filters.ensure_entry_script()  # this page reads no shared filter, but must run through app.py (sign-in)

st.title("数据导入")
reader = session.reader()
who = reader.principal
if not who.can_write:
    st.warning(f"{who.role_label}账号没有导入台账的权限。")
    st.stop()
if who.role == "street":
    st.caption("街道账号只能导入本街道的数据：文件中属于其他街道的行会被列为问题，整个文件不导入。")

key = st.selectbox("台账", list(view.LEDGERS), format_func=view.ledger_title, key="imp_ledger", placeholder=locale.PICK)
lg = view.LEDGERS[key]
st.caption(view.ledger_note(key))
template_download(key, f"下载“{lg.title}”导入模板", file_name=f"{lg.title}导入模板.xlsx", key="imp_template")

gcj02 = False
if lg.has_coordinates:
    gcj02 = st.checkbox("是GCJ-02坐标", key="imp_gcj02",
                        help="坐标取自高德地图（GCJ-02）时勾选：导入时转换为 WGS-84 再保存。天地图、GPS 的坐标不要勾选。")
upload = st.file_uploader("选择要导入的文件（.xlsx 或 .csv）", key=f"imp_file_{key}", help=locale.UPLOAD_LEDGER)
if st.button("校验并导入", type="primary", key="imp_go", disabled=upload is None):
    bar = st.progress(0.0, text="准备导入…")
    st.session_state[OUTCOME] = view.run_import(
        reader, key, upload.name, upload.getvalue(), gcj02=gcj02,
        progress=lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0), text=text))
    bar.empty()
if outcome := st.session_state.get(OUTCOME):
    show_outcome(outcome)

st.subheader("导入记录")
page = view.build(reader)
if page.history.empty:
    st.caption("还没有导入记录。")
else:
    show_table(page.history, key="imp_history", file_name="导入记录")
    pick = st.selectbox("下载导入时的原始文件", list(page.originals), format_func=page.originals.get, key="imp_pick", placeholder=locale.PICK)
    # An original ledger may hold names, ID numbers and phones unmasked. Its bytes are never handed to the page up
    # front (a download button's static data sits at /media/<hash> for anyone holding the address): the user first
    # asks for it, which checks the role and writes the audit row, and only then gets a button whose file is read
    # from the database when clicked.
    ready = st.session_state.get(ORIGINAL)
    if ready is not None and ready[0] != pick:
        ready = st.session_state[ORIGINAL] = None
    if ready is None:
        if pick is not None and st.button("准备下载原始文件（含未脱敏个人信息，将记入审计日志）", key="imp_original_ask"):
            try:
                ready = st.session_state[ORIGINAL] = (pick, view.prepare_original(reader, pick))
            except view.OriginalRefused as exc:
                (st.info if exc.busy else st.error)(md(exc))
    if ready is not None:
        batch, file_name = ready
        download_button("下载原始文件（含未脱敏个人信息，已记入审计日志）",
                        lambda by, b=batch: view.original_bytes(reader.as_(by), b), file_name=file_name,
                        mime="application/octet-stream", key="imp_original")
