"""数据导入: choose a ledger, download its template, upload, see the validation report or the result; import history."""
from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import OperationalError

from components import filters
from components.auth_ui import principal
from components.downloads import XLSX, download_button
from exports.xlsx import excel_bytes
from components.tables import show_table
from components.text import md
from data.db import cache
from data.queries.access import AccessDenied
from data.security.audit import record_now
from data.imports import (
    IMPORT_BUSY_MESSAGE,
    LEDGERS,
    MAX_BYTES,
    MAX_SHOWN,
    ImportRefused,
    import_file,
    import_history,
    stored_file,
    template_bytes,
)
from data.imports.lock import is_database_busy

OUTCOME = "imp_outcome"
ORIGINAL = "imp_original_ready"  # the import (id, file name) whose original this session has asked for, audited

filters.ensure_entry_script()  # this page reads no shared filter, but must run through app.py (sign-in)

st.title("数据导入")
who = principal()
if not who.can_write:
    st.warning(f"{who.role_label}账号没有导入台账的权限。")
    st.stop()
engine = cache.engine()
if who.role == "street":
    st.caption("街道账号只能导入本街道的数据：文件中属于其他街道的行会被列为问题，整个文件不导入。")

key = st.selectbox("台账", list(LEDGERS), format_func=lambda k: LEDGERS[k].title, key="imp_ledger")
lg = LEDGERS[key]
st.caption(f"{lg.description} 以“{'、'.join(lg.key_headers)}”识别记录：已存在的记录被更新，完全相同的记录不变，其余新增。"
           f"全部无误才写入，有任何问题则不写入任何数据。支持 .xlsx 和 .csv（UTF-8 / GBK / GB18030），"
           f"单个文件不超过 {MAX_BYTES // (1024 * 1024)} MB。")
download_button(f"下载“{lg.title}”导入模板", lambda by: template_bytes(engine, key, by),  # built on click
                file_name=f"{lg.title}导入模板.xlsx", mime=XLSX, key="imp_template")

gcj02 = False
if lg.has_coordinates:
    gcj02 = st.checkbox("是GCJ-02坐标", key="imp_gcj02",
                        help="坐标取自高德地图（GCJ-02）时勾选：导入时转换为 WGS-84 再保存。天地图、GPS 的坐标不要勾选。")
upload = st.file_uploader("选择要导入的文件（.xlsx 或 .csv）", key=f"imp_file_{key}")
if st.button("校验并导入", type="primary", key="imp_go", disabled=upload is None):
    bar = st.progress(0.0, text="准备导入…")
    try:
        result = import_file(engine, who, key, upload.name, upload.getvalue(), gcj02=gcj02,
                             progress=lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0), text=text))
        st.session_state[OUTCOME] = ("ok", result)
    except ImportRefused as exc:
        st.session_state[OUTCOME] = ("refused", exc)
    except AccessDenied as exc:
        st.session_state[OUTCOME] = ("denied", str(exc))
    except OperationalError as exc:   # the database is held by another import (the import itself waits its turn)
        if not is_database_busy(exc):
            raise
        st.session_state[OUTCOME] = ("busy", IMPORT_BUSY_MESSAGE)
    bar.empty()

outcome = st.session_state.get(OUTCOME)
if outcome:
    kind, value = outcome
    if kind == "ok":
        r = value
        title = LEDGERS[r.ledger].title
        if r.rows_added or r.rows_updated:
            st.success(f"“{md(r.file_name)}”已导入{title}：共 {r.rows_total:,} 行，新增 {r.rows_added:,} 行，"
                       f"更新 {r.rows_updated:,} 行，未变 {r.rows_unchanged:,} 行（用时 {r.seconds:.1f} 秒）。")
        else:
            st.info(f"“{md(r.file_name)}”与数据库中的{title}完全一致：{r.rows_total:,} 行均未变化，没有修改任何数据"
                    "（本次导入已记入导入记录）。")
        c1, c2, c3 = st.columns(3)
        c1.metric("新增（行）", f"{r.rows_added:,}", border=True)
        c2.metric("更新（行）", f"{r.rows_updated:,}", border=True)
        c3.metric("未变（行）", f"{r.rows_unchanged:,}", border=True)
        for note in r.notes:
            st.caption(md(note))
        if r.encoding:
            st.caption(f"文件编码：{r.encoding}")
    elif kind == "refused":
        exc = value
        st.error(f"“{md(exc.file_name)}”未导入：发现 {exc.total:,} 个问题，数据库未作任何修改。请按下表修改后重新导入。")
        st.markdown("**问题汇总（按列）**")
        st.dataframe(exc.summary(), hide_index=True, key="imp_summary")
        shown = exc.table(MAX_SHOWN)
        if exc.total > len(shown):
            st.caption(f"下表只显示前 {len(shown):,} 个问题，共 {exc.total:,} 个；可下载完整问题清单。")
        show_table(shown, key="imp_problems", file_name="导入问题清单")
        if exc.total > len(shown):
            download_button("下载完整问题清单", lambda _who: excel_bytes(exc.table(None), sheet_name="问题清单"),
                            file_name="导入问题清单（完整）.xlsx", mime=XLSX, key="imp_problems_all")
    elif kind == "busy":
        st.info(value)
    else:
        st.error(md(value))

st.subheader("导入记录")
history = import_history(engine, who)
if history.empty:
    st.caption("还没有导入记录。")
else:
    shown = history.assign(
        ledger=history["ledger"].map(lambda k: LEDGERS[k].title if k in LEDGERS else k),
        imported_at=history["imported_at"].map(lambda v: v.strftime("%Y-%m-%d %H:%M:%S")),
        size_bytes=(history["size_bytes"] / 1024).round(1),
        sha256=history["sha256"].str.slice(0, 12),
    ).rename(columns={"id": "编号", "ledger": "台账", "file_name": "文件名", "imported_by": "导入人",
                      "imported_at": "导入时间", "rows_total": "总行数", "rows_added": "新增", "rows_updated": "更新",
                      "rows_unchanged": "未变", "size_bytes": "大小(KB)", "sha256": "SHA-256（前12位）"})
    show_table(shown, key="imp_history", file_name="导入记录")
    labels = {int(r.id): f"{int(r.id)} · {r.file_name}（{r.imported_at:%Y-%m-%d %H:%M}）" for r in history.itertuples()}
    pick = st.selectbox("下载导入时的原始文件", list(labels), format_func=labels.get, key="imp_pick")
    # An original ledger may hold names, ID numbers and phones unmasked. Its bytes are never handed to the page up
    # front (a download button's static data sits at /media/<hash> for anyone holding the address): the user first
    # asks for it, which checks the role and writes the audit row, and only then gets a button whose file is read
    # from the database when clicked.
    ready = st.session_state.get(ORIGINAL)
    if ready is not None and ready[0] != pick:
        ready = st.session_state[ORIGINAL] = None
    if ready is None:
        if pick is not None and st.button("准备下载原始文件（含未脱敏个人信息，将记入审计日志）", key="imp_original_ask"):
            kept = stored_file(engine, who, pick) if who.can_write else None
            if kept is None:
                st.error("该导入记录不存在，或当前账号无权下载其原始文件。")
            else:
                try:
                    record_now(engine, who, "export_personal", f"导入原始文件 #{pick} {kept[0]}")
                    ready = st.session_state[ORIGINAL] = (pick, kept[0])
                except OperationalError as exc:   # no audit row, no file: say why, the user tries again
                    if not is_database_busy(exc):
                        raise
                    st.info(IMPORT_BUSY_MESSAGE)
    if ready is not None:
        batch, file_name = ready

        def _original(by) -> bytes:
            kept = stored_file(engine, by, batch)
            if kept is None:
                raise AccessDenied("无权下载该原始文件。")
            return kept[1]

        download_button("下载原始文件（含未脱敏个人信息，已记入审计日志）", _original, file_name=file_name,
                        mime="application/octet-stream", key="imp_original")
