"""考核通报 Word export: one page — the month's ranking of the subdistrict civil-affairs stations with the points of
each part, the formula, and a few remarks (views.stations.report builds what it says)."""
from __future__ import annotations

import io
from datetime import date

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from views.stations import AssessmentReport

FONT = "Noto Sans CJK SC"


def _fonts(doc) -> None:
    for name in ("Normal", "Title", "Table Grid"):
        style = doc.styles[name]
        style.font.name = FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
    doc.styles["Normal"].font.size = Pt(10)


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "—"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v - round(v, 1)) < 1e-9 else f"{v:.2f}"
    return str(v)


def assessment_docx(report: AssessmentReport, issued_on: date | None = None) -> bytes:
    """The 考核通报 as .docx bytes: landscape A4, one page for the district's stations."""
    doc = Document()
    _fonts(doc)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin = section.bottom_margin = Cm(1.6)
    title = doc.add_heading(report.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"各街道民政服务站：根据服务内容清单和督办、台账、巡访、诉求办理情况，现将考核结果通报如下。{report.status}")
    doc.add_paragraph(f"计分办法：{report.formula}。")
    table = report.table
    t = doc.add_table(rows=1, cols=len(table.columns))
    t.style = "Table Grid"
    for cell, text in zip(t.rows[0].cells, table.columns):
        cell.text = str(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in table.itertuples(index=False):
        for cell, v in zip(t.add_row().cells, row):
            cell.text = _cell(v)
    for remark in report.remarks:
        doc.add_paragraph(remark)
    sign = doc.add_paragraph(f"西湖区民政局\n{(issued_on or date.today()):%Y年%m月%d日}")
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
