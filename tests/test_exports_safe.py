"""Issue 17 item 1: every Excel the app writes holds user strings as text cells, never as formulas or links
(exports.xlsx is the one writer; the import templates draw through exports.xlsx.workbook), and CSV
exports neutralise the same leading characters. Files are opened with openpyxl, as a user's spreadsheet would."""
from __future__ import annotations

import io
import re

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import update

import data.db.models as m
from exports.xlsx import csv_bytes, excel_bytes
from data.domain.period import parse
from exports.report_docx import report_xlsx
from views.report import ReportPage
from data.imports import LEDGERS, ImportRefused, import_file
from exports.templates import template_bytes
from test_imports import OFFICE, csv_bytes as ledger_csv, engine, meal  # noqa: F401 - engine is a fixture

# a name beginning with each character a spreadsheet program may evaluate, and a link
PAYLOADS = ["=1+2", "+1+2", "-1+2", "@SUM(1,2)", "\t=1+2", "\r=1+2",
            '=HYPERLINK("http://evil.example/x","点此")', "http://evil.example/", 'a"b,c=1',
            '甲"&HYPERLINK("http://evil.example")&"']


def ooxml(value):
    """A cell's text as Excel shows it: OOXML writes a carriage return as _x000D_, which openpyxl leaves as is."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda g: chr(int(g.group(1), 16)), value)


def formula_cells(data: bytes) -> list[tuple[str, str, object]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [(ws.title, c.coordinate, c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def hyperlinks(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [h.ref for ws in book.worksheets for h in ws._hyperlinks]


def texts(data: bytes) -> set:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {ooxml(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str)}


def test_a_table_download_writes_every_string_as_text():
    df = pd.DataFrame({"设施名称": PAYLOADS, "数量": range(len(PAYLOADS))})
    data = excel_bytes(df, title="=HYPERLINK(\"http://evil.example\",\"标题\")")
    assert formula_cells(data) == []
    assert hyperlinks(data) == []
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "=HYPERLINK(\"http://evil.example\",\"标题\")" and sheet["A1"].data_type == "s"
    assert [ooxml(sheet.cell(r, 1).value) for r in range(4, 4 + len(PAYLOADS))] == PAYLOADS  # text exactly as stored
    assert [sheet.cell(r, 2).value for r in range(4, 4 + len(PAYLOADS))] == list(range(len(PAYLOADS)))  # numbers


def test_the_report_excel_writes_strings_as_text():
    rows = pd.DataFrame([{"id": f"F{i:02d}", "section": "一", "name": p, "text": p, "value": 1.0, "unit": "个",
                          "previous": None, "change": None} for i, p in enumerate(PAYLOADS)])
    data = report_xlsx(ReportPage(parse("2024-H1"), rows), title=PAYLOADS[0])
    assert formula_cells(data) == [] and hyperlinks(data) == []
    assert set(PAYLOADS) <= texts(data)


def test_csv_export_neutralises_leading_formula_characters():
    df = pd.DataFrame({"名称": PAYLOADS + ["普通名称", "1-2"], "数": range(len(PAYLOADS) + 2)})
    text = csv_bytes(df).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for shown, original in zip(back["名称"], PAYLOADS + ["普通名称", "1-2"]):
        if original[0] in "=+-@\t\r":
            assert shown == "'" + original
        else:
            assert shown == original
    assert list(back["数"]) == [str(i) for i in range(len(PAYLOADS) + 2)]


@pytest.mark.parametrize("ledger", list(LEDGERS))
def test_templates_list_database_names_as_text(engine, ledger):  # noqa: F811
    """Facility and community names read from the database go into drop-down lists: never a formula."""
    with engine.begin() as conn:
        conn.execute(update(m.Facility).where(m.Facility.code == "MP-001").values(name=PAYLOADS[0]))
        conn.execute(update(m.Facility).where(m.Facility.code == "MP-002").values(name=PAYLOADS[-1]))
    data = template_bytes(engine, ledger, OFFICE)
    assert formula_cells(data) == [] and hyperlinks(data) == []
    book = openpyxl.load_workbook(io.BytesIO(data))
    for dv in book[LEDGERS[ledger].sheet].data_validations.dataValidation:
        if dv.type == "list" and dv.formula1.startswith('"'):  # an inline list is one quoted constant
            assert dv.formula1.count('"') == 2, dv.formula1
    if any(c.kind == "facility" for c in LEDGERS[ledger].columns):
        assert PAYLOADS[0] in texts(data) or PAYLOADS[-1] in texts(data)


def test_the_import_problem_list_writes_quoted_values_as_text(engine):  # noqa: F811
    rows = [meal(point=p) for p in PAYLOADS]
    with pytest.raises(ImportRefused) as refused:
        import_file(engine, OFFICE, "meal_records", "问题.csv", ledger_csv(rows))
    data = excel_bytes(refused.value.table(None), sheet_name="问题清单")
    assert formula_cells(data) == [] and hyperlinks(data) == []
