"""Tables with numbers written the bureau's way, and a table whose rows can be clicked.

* ``show_styled_table`` — components.tables.show_table (same highlight, same Excel of exactly the data shown), but
  always drawn through a pandas Styler with thousands separators, two decimals and empty cells for missing values
  (1,398.75 · 187.00 · 2,059), and tall enough to show a short table's last (合计) row without scrolling.
* ``pick_table`` — the same look with single-row selection: a click calls on_pick(position) before the rerun, so
  the page can set the widget that drives its drill-down (e.g. a selectbox), which stays the single source of
  truth and works without a mouse.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import pandas as pd
import streamlit as st

from components.downloads import XLSX, download_button
from exports.xlsx import excel_bytes
from components.tables import HIGHLIGHT, show_table

ROW_PX, MAX_FIT_ROWS = 35, 20
STYLE_MAX_ROWS = 300  # a longer table with nothing to highlight is drawn plain (a Styler costs ~1 ms per row)


@contextmanager
def bureau_numbers() -> Iterator[None]:
    """Styler-rendered tables drawn inside this show 1,398.75 / 2,059 and nothing for a missing value."""
    with pd.option_context("styler.format.precision", 2, "styler.format.thousands", ",",
                           "styler.format.na_rep", ""):
        yield


def fit_height(n_rows: int) -> int | None:
    """A height showing every row of a short table (None: Streamlit's default, scrolling)."""
    return (n_rows + 1) * ROW_PX + 3 if 0 < n_rows <= MAX_FIT_ROWS else None


def show_styled_table(df: pd.DataFrame, *, key: str, file_name: str, highlight: pd.Series | None = None,
                      title: str | None = None, height: int | None = None, on_download=None) -> None:
    """show_table with bureau number formats; highlight: boolean Series aligned with df (e.g. overdue rows).

    A table of more than STYLE_MAX_ROWS rows with nothing to highlight is drawn plain, so a page rerun on
    province-scale data stays fast (Streamlit's own number format then applies)."""
    mask = (pd.Series(highlight).reset_index(drop=True) if highlight is not None
            else pd.Series(False, index=range(len(df))))
    if len(df) > STYLE_MAX_ROWS and not mask.any():
        show_table(df, key=key, file_name=file_name, title=title, height=height, on_download=on_download)
        return
    with bureau_numbers():
        show_table(df, key=key, file_name=file_name, highlight=mask, title=title, height=height or fit_height(len(df)),
                   on_download=on_download)


def pick_table(df: pd.DataFrame, *, key: str, file_name: str, on_pick: Callable[[int], None],
               highlight: pd.Series | None = None, title: str | None = None, height: int | None = None,
               max_rows: int | None = None) -> None:
    """Show df (headers already Chinese, with units) with single-row selection, and offer it as Excel.

    max_rows: only the first rows are drawn (the caller says so on screen); the Excel holds every row. A Styler costs
    ~1 ms per row, so a province-scale list of tens of thousands of rows is not drawn whole on every run."""
    whole = df.reset_index(drop=True)
    shown = whole if max_rows is None else whole.head(max_rows)
    mask = (pd.Series(highlight).reset_index(drop=True) if highlight is not None
            else pd.Series(False, index=whole.index)).head(len(shown))
    df_key = f"{key}_df"

    def _picked() -> None:
        state = st.session_state.get(df_key) or {}
        rows = list((state.get("selection") or {}).get("rows") or [])
        if rows and 0 <= rows[0] < len(shown):
            on_pick(int(rows[0]))

    marked = mask.to_numpy(dtype=bool)
    css = pd.DataFrame({c: [HIGHLIGHT if m else "" for m in marked] for c in range(shown.shape[1])})
    css.index, css.columns = shown.index, shown.columns
    styled = shown.style.apply(lambda _: css, axis=None)
    with bureau_numbers():
        st.dataframe(styled, hide_index=True, width="stretch", height=height or fit_height(len(shown)) or "auto",
                     key=df_key, on_select=_picked, selection_mode="single-row")
    # the Excel is built when the button is clicked, not on every run of the page
    download_button("下载 Excel", lambda _who: excel_bytes(whole, title=title), file_name=f"{file_name}.xlsx",
                    mime=XLSX, key=f"{key}_xlsx")
