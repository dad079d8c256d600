"""The 公文 Word template and the helpers every .docx builder fills it with.

The layout (A4, 公文 margins, fonts by style, header, page numbers "— 1 —") lives in the template, not here:
exports/templates/gongwen.docx (built by exports/templates/build_template.py), or the file named by the environment
variable MZ_DOCX_TEMPLATE, so the bureau's office can restyle every document in Word. A template must keep the
styles used below (Title, Subtitle, Heading 1–3, 正文, 注释, 图, 表头, 表格文字, Table Grid); its header may hold
{{机关}} and {{截至}}, replaced by the bureau's name and the as-of date.
"""
from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "templates" / "gongwen.docx"
BUREAU = "西湖区民政局"
PICTURE_WIDTH = Mm(150)  # the text width of an A4 page with 公文 margins is 156 mm
KEEP_TABLE_ROWS = 20     # a table this short is kept on one page (rows keep with the next)


def template_path() -> Path:
    return Path(os.environ.get("MZ_DOCX_TEMPLATE") or DEFAULT_TEMPLATE)


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def new_document(as_of: date, bureau: str = BUREAU):
    """A document from the template, its body empty and its header filled: bureau's name, 数据截至 the as-of date."""
    path = template_path()
    if not path.is_file():
        raise ValueError(f"找不到 Word 模板：{path}（环境变量 MZ_DOCX_TEMPLATE 指向的文件不存在）")
    doc = Document(str(path))
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    values = {"{{机关}}": bureau, "{{截至}}": f"数据截至{day(as_of)}"}
    for section in doc.sections:
        for part in (section.header,):
            for p in part.paragraphs:
                for run in p.runs:
                    for key, value in values.items():
                        if key in run.text:
                            run.text = run.text.replace(key, value)
    return doc


def paragraph(doc, text: str = "", style: str = "正文", bold_lead: str = ""):
    p = doc.add_paragraph(style=style)
    if bold_lead:
        p.add_run(bold_lead).bold = True
    if text:
        p.add_run(text)
    return p


def picture(doc, png: bytes) -> None:
    doc.add_paragraph(style="图").add_run().add_picture(io.BytesIO(png), width=PICTURE_WIDTH)


def _row_props(row, *, header: bool) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))  # a row never breaks across pages
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))  # and the header row repeats on every page


def table(doc, header: list[str], rows: list[list], widths_mm: list[float] | None = None):
    """A grid table in the template's table styles: header row repeated on each page, rows never split, and a
    short table kept on one page."""
    t = doc.add_table(rows=1, cols=len(header))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    _row_props(t.rows[0], header=True)
    for cell, text in zip(t.rows[0].cells, header):
        cell.paragraphs[0].style = doc.styles["表头"]
        cell.paragraphs[0].add_run(str(text))
    keep = len(rows) <= KEEP_TABLE_ROWS
    for i, values in enumerate(rows):
        row = t.add_row()
        _row_props(row, header=False)
        for cell, text in zip(row.cells, values):
            p = cell.paragraphs[0]
            p.style = doc.styles["表格文字"]
            p.add_run("" if text is None else str(text))
            p.paragraph_format.keep_with_next = keep and i < len(rows) - 1
    if widths_mm:
        t.autofit = False
        for column, w in zip(t.columns, widths_mm):
            column.width = Mm(w)
        for row in t.rows:
            for cell, w in zip(row.cells, widths_mm):
                cell.width = Mm(w)
    return t


def to_bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
