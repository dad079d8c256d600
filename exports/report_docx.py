"""工作总结数据导出: a Word draft of the report's data sections and an Excel sheet of the figures.

Pure builders (the page model views.report.ReportPage → bytes); the page only offers them for download.
"""
from __future__ import annotations

import io

import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from data.domain import report
from exports.xlsx import excel_bytes
from views.report import ReportPage

BODY_FONT = "仿宋"      # 正文
HEADING_FONT = "黑体"   # 一、
SUBHEADING_FONT = "楷体"  # （一）
TITLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
BODY_SIZE = Pt(14)       # 四号
BLACK = RGBColor(0, 0, 0)
_CN_ORDINALS = "一二三四五六七八九十"
XLSX_COLUMNS = ["编号", "部分", "名称", "数值", "单位", "上期", "变化", "表述"]


def _fonts(rpr_parent, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Name the fonts on a style or run element: Latin, and East Asian (w:eastAsia) so Word uses it for Chinese.
    Theme font attributes would override the names, so they are removed."""
    rfonts = rpr_parent.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")


def _style(doc, name: str, east_asia: str, size: Pt, bold: bool = False) -> None:
    style = doc.styles[name]
    style.font.size = size
    style.font.bold = bold
    style.font.color.rgb = BLACK
    _fonts(style.element, east_asia)
    rpr = style.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:  # schema order: w:lang comes before these
        lang = rpr.insert_element_before(rpr.makeelement(qn("w:lang"), {}), "w:eastAsianLayout", "w:specVanish",
                                         "w:oMath")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _new_document():
    doc = Document()
    _style(doc, "Normal", BODY_FONT, BODY_SIZE)
    _style(doc, "Heading 1", HEADING_FONT, Pt(16))
    _style(doc, "Heading 2", SUBHEADING_FONT, Pt(16))
    _style(doc, "Title", TITLE_FONT, Pt(22), bold=True)
    for name in ("Heading 1", "Heading 2", "Title"):
        doc.styles[name].paragraph_format.space_before = Pt(12)
        doc.styles[name].paragraph_format.space_after = Pt(6)
    doc.styles["Normal"].paragraph_format.line_spacing = 1.5
    return doc


def _body(doc, text: str = "", bold_lead: str = ""):
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = Pt(BODY_SIZE.pt * 2)  # two characters, as Chinese documents are set
    if bold_lead:
        p.add_run(bold_lead).bold = True
    if text:
        p.add_run(text)
    return p


def _day(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def report_docx(page: ReportPage) -> bytes:
    """A Word draft of the report's data sections for the period: 一、…工作总结 with (一)/(二) and the report's
    numbered sections in its wording, numbers filled in; then the targets with their progress, for staff to edit."""
    period, rows = page.period, page.rows
    doc = _new_document()

    title = doc.add_paragraph(f"西湖区民政局{period.label}工作总结（数据部分）", style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    note = doc.add_paragraph(f"统计范围：{page.scope}；统计期：{_day(period.start)}至{_day(period.end)}。"
                             f"本稿由“民政一张图”按各指标口径从台账生成，仅含数据部分，请核对后补充文字。")
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in note.runs:
        run.font.size = Pt(12)

    doc.add_heading(f"一、{report.period_word(period)}工作总结", level=1)
    by_section = {s: (h, body) for s, h, body in report.paragraphs(rows)}
    for part, sections in report.PARTS:
        present = [s for s in sections if s in by_section]
        if not present:
            continue
        doc.add_heading(part, level=2)
        for i, section in enumerate(present, start=1):
            heading, body = by_section[section]
            _body(doc, body, bold_lead=f"{i}.{heading}。")

    district = rows[rows["district_level"].astype(bool)]
    if len(district):
        _body(doc, "注：" + "、".join(r.name.replace("（目标）", "") for r in district.itertuples())
              + "为全区口径，不按街道统计。")

    targets = page.targets
    doc.add_heading(f"二、目标任务进度（截至{_day(period.end)}）", level=1)
    _body(doc, "进度按从基期到期限匀速推进计算，低于应达进度为“进度滞后”。")
    header = ["目标", "目标值", "期限", "期末进度", "差距", "状态"]
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for t in targets.itertuples():
        unit = t.单位
        cells = table.add_row().cells
        values = [t.目标, f"{_cell_text(t.目标值)}{unit}", t.期限, f"{_cell_text(t.期末进度)}{unit}",
                  f"{_cell_text(t.差距)}{'个百分点' if unit == '%' else unit}", t.状态]
        for cell, text in zip(cells, values):
            cell.text = str(text)

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlsx_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per figure: 编号, 部分, 名称, 数值, 单位, 上期, 变化 (numbers as numbers), and the sentence."""
    return pd.DataFrame({"编号": rows["id"], "部分": rows["section"], "名称": rows["name"], "数值": rows["value"],
                         "单位": rows["unit"], "上期": rows["previous"], "变化": rows["change"], "表述": rows["text"]},
                        columns=XLSX_COLUMNS)


def report_xlsx(page: ReportPage, title: str | None = None) -> bytes:
    """The figures as an Excel sheet (via exports.xlsx.excel_bytes), with `title` above the table when given (the
    page gives its own, ReportPage.title)."""
    return excel_bytes(xlsx_frame(page.rows), sheet_name="工作总结数据", title=title)
