"""Exports: a table to Excel bytes exactly as shown (numbers stay numbers, units in the headers)."""
from __future__ import annotations

import io

import pandas as pd


def excel_bytes(df: pd.DataFrame, sheet_name: str = "数据", title: str | None = None) -> bytes:
    """An .xlsx of the DataFrame: Chinese headers as given, numbers as numbers, columns sized to fit."""
    buf = io.BytesIO()
    start_row = 2 if title else 0
    with pd.ExcelWriter(buf, engine="xlsxwriter") as writer:
        out = df.copy()
        for col in out.columns:
            if out[col].dtype == object:
                out[col] = out[col].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
        out.to_excel(writer, sheet_name=sheet_name[:31], index=False, startrow=start_row)
        ws = writer.sheets[sheet_name[:31]]
        if title:
            ws.write(0, 0, title, writer.book.add_format({"bold": True, "font_size": 14}))
        for i, col in enumerate(out.columns):
            width = max([len(str(col))] + [len(str(v)) for v in out[col].head(200)]) * 1.6 + 2
            ws.set_column(i, i, min(width, 50))
        ws.freeze_panes(start_row + 1, 0)
    return buf.getvalue()
