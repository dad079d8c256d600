"""Ledger imports on screen: a ledger's template download, and what became of an import (the result, or every
problem of a refused file with the full list as Excel)."""
from __future__ import annotations

import streamlit as st

from components.downloads import XLSX, download_button
from components.kpis import Kpi, kpi_row
from components.tables import show_table
from components.text import md
from data.db import cache
from exports.templates import template_bytes
from exports.xlsx import excel_bytes
from views.data_import import MAX_SHOWN, Outcome


def template_download(ledger: str, label: str, *, file_name: str, key: str) -> None:
    """A button offering the ledger's import template, built on click as the signed-in user (a 街道 account's
    drop-down lists hold its own subdistrict's names)."""
    engine = cache.engine()
    download_button(label, lambda by: template_bytes(engine, ledger, by), file_name=file_name, mime=XLSX, key=key)


def show_outcome(outcome: Outcome, *, key: str = "imp") -> None:
    """Draw an import's outcome (views.data_import.run_import); `key` prefixes the widget keys."""
    if outcome.kind == "ok":
        r = outcome.result
        if r.rows_added or r.rows_updated:
            st.success(f"“{md(r.file_name)}”已导入{outcome.title}：共 {r.rows_total:,} 行，新增 {r.rows_added:,} 行，"
                       f"更新 {r.rows_updated:,} 行，未变 {r.rows_unchanged:,} 行（用时 {r.seconds:.1f} 秒）。")
        else:
            st.info(f"“{md(r.file_name)}”与数据库中的{outcome.title}完全一致：{r.rows_total:,} 行均未变化，没有修改任何数据"
                    "（本次导入已记入导入记录）。")
        kpi_row([Kpi("新增（行）", f"{r.rows_added:,}"), Kpi("更新（行）", f"{r.rows_updated:,}"),
                 Kpi("未变（行）", f"{r.rows_unchanged:,}")], key="import_result")
        for note in r.notes:
            st.caption(md(note))
        if r.encoding:
            st.caption(f"文件编码：{r.encoding}")
    elif outcome.kind == "refused":
        exc = outcome.refused
        st.error(f"“{md(exc.file_name)}”未导入：发现 {exc.total:,} 个问题，数据库未作任何修改。请按下表修改后重新导入。")
        st.markdown("**问题汇总（按列）**")
        st.dataframe(exc.summary(), hide_index=True, key=f"{key}_summary")
        shown = exc.table(MAX_SHOWN)
        if exc.total > len(shown):
            st.caption(f"下表只显示前 {len(shown):,} 个问题，共 {exc.total:,} 个；可下载完整问题清单。")
        show_table(shown, key=f"{key}_problems", file_name="导入问题清单")
        if exc.total > len(shown):
            download_button("下载完整问题清单", lambda _who: excel_bytes(exc.table(None), sheet_name="问题清单"),
                            file_name="导入问题清单（完整）.xlsx", mime=XLSX, key=f"{key}_problems_all")
    elif outcome.kind == "busy":
        st.info(outcome.message)
    else:
        st.error(md(outcome.message))
