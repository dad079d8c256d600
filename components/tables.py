"""Tables: a sortable table with Chinese headers, optional row highlight, and an Excel download of the same."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from typing import Callable

from components.downloads import XLSX, download_button
from exports.xlsx import excel_bytes

HIGHLIGHT = "background-color: #fde2e1; color: #9b1c1c"


def show_table(df: pd.DataFrame, *, key: str, file_name: str, highlight: pd.Series | None = None,
               height: int | None = None, title: str | None = None,
               on_download: Callable[[], None] | None = None) -> None:
    """Show df as given (headers already Chinese, with units) and offer it as Excel.

    highlight: boolean Series aligned with df (e.g. overdue findings) — those rows are tinted.
    on_download: called when the Excel is downloaded (e.g. to audit an export of personal data).
    """
    shown = df.reset_index(drop=True)
    if highlight is not None and len(shown):
        mask = pd.Series(highlight).reset_index(drop=True)
        styled = shown.style.apply(lambda row: [HIGHLIGHT if mask.iloc[row.name] else ""] * len(row), axis=1)
        st.dataframe(styled, hide_index=True, width="stretch", height=height or "auto", key=f"{key}_df", placeholder="—")
    else:
        st.dataframe(shown, hide_index=True, width="stretch", height=height or "auto", key=f"{key}_df", placeholder="—")
    # the Excel is built when the button is clicked, not on every run of the page; a plain download changes
    # nothing on screen, so it does not rerun the page ("ignore") — only an audited one runs its callback
    download_button("下载 Excel", lambda _who: excel_bytes(shown, title=title), file_name=f"{file_name}.xlsx",
                    mime=XLSX, key=f"{key}_xlsx", on_click=on_download or "ignore")
