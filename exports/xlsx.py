"""Exports: the one Excel writer (and CSV neutraliser) of the project.

Every .xlsx the app offers is written here or through ``workbook()``: a string is always a text cell, never a
formula or a hyperlink, whatever it begins with (a facility called ``=HYPERLINK(…)`` or ``+1`` stays that text),
so a downloaded file never holds a formula that the data put there. XlsxWriter turns a string beginning with
``=`` into a formula by default (and ``http://…`` into a link); the options below switch that off.

CSV has no cell types: ``csv_bytes`` prefixes a value beginning with ``= + - @``, a tab or a carriage return
with an apostrophe, the usual neutralisation, so a spreadsheet program opening the file does not evaluate it.
"""
from __future__ import annotations

import io

import pandas as pd

# Strings stay strings: no formulas, no links, no numbers guessed from text.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def workbook(target, **options):
    """An xlsxwriter.Workbook writing to ``target`` that never turns a string into a formula or a link.
    Code that draws a workbook cell by cell (the import templates) starts here instead of xlsxwriter."""
    import xlsxwriter

    return xlsxwriter.Workbook(target, {**options, **XLSX_OPTIONS})


def excel_bytes(df: pd.DataFrame, sheet_name: str = "数据", title: str | None = None) -> bytes:
    """An .xlsx of the DataFrame: Chinese headers as given, numbers as numbers, text as text, columns sized."""
    buf = io.BytesIO()
    start_row = 2 if title else 0
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": dict(XLSX_OPTIONS)}) as writer:
        out = df.copy()
        for col in out.columns:
            if out[col].dtype == object:
                out[col] = out[col].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
        out.to_excel(writer, sheet_name=sheet_name[:31], index=False, startrow=start_row)
        ws = writer.sheets[sheet_name[:31]]
        if title:
            ws.write_string(0, 0, str(title), writer.book.add_format({"bold": True, "font_size": 14}))
        for i, col in enumerate(out.columns):
            width = max([len(str(col))] + [len(str(v)) for v in out[col].head(200)]) * 1.6 + 2
            ws.set_column(i, i, min(width, 50))
        ws.freeze_panes(start_row + 1, 0)
    return buf.getvalue()


def neutralise_csv(value):
    """A CSV cell value that no spreadsheet program evaluates: text beginning with = + - @, a tab or a carriage
    return gets a leading apostrophe; anything else (numbers included) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def csv_bytes(df: pd.DataFrame, encoding: str = "utf-8-sig") -> bytes:
    """A CSV of the DataFrame (headers as given) with every text value neutralised (``neutralise_csv``)."""
    out = df.copy()
    out.columns = [neutralise_csv(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise_csv, na_action="ignore")
    return out.to_csv(index=False, lineterminator="\r\n").encode(encoding)  # a value holding \r is quoted
