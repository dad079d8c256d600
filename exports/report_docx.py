"""工作总结数据导出: a Word draft of the report's data sections and an Excel sheet of the figures.

Pure builders (the page model views.report.ReportPage → bytes); the page only offers them for download.
"""
from __future__ import annotations

import pandas as pd

from data.domain import report
from exports import docx_template as tpl
from exports.xlsx import excel_bytes
from views.report import ReportPage

XLSX_COLUMNS = ["编号", "部分", "名称", "数值", "单位", "上期", "变化", "表述"]


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def report_docx(page: ReportPage) -> bytes:
    """A Word draft of the report's data sections for the period, in the 公文 template (exports.docx_template):
    一、…工作总结 with (一)/(二) and the report's numbered sections in its wording, numbers filled in; then the
    targets with their progress, for staff to edit."""
    period, rows = page.period, page.rows
    doc = tpl.new_document(as_of=period.end)

    doc.add_paragraph(f"西湖区民政局{period.label}工作总结（数据部分）", style="Title")
    doc.add_paragraph(f"统计范围：{page.scope}；统计期：{tpl.day(period.start)}至{tpl.day(period.end)}。"
                      f"本稿由“民政一张图”按各指标口径从台账生成，仅含数据部分，请核对后补充文字。", style="Subtitle")

    doc.add_heading(f"一、{report.period_word(period)}工作总结", level=1)
    by_section = {s: (h, body) for s, h, body in report.paragraphs(rows)}
    for part, sections in report.PARTS:
        present = [s for s in sections if s in by_section]
        if not present:
            continue
        doc.add_heading(part, level=2)
        for i, section in enumerate(present, start=1):
            heading, body = by_section[section]
            tpl.paragraph(doc, body, bold_lead=f"{i}.{heading}。")

    district = rows[rows["district_level"].astype(bool)]
    if len(district):
        tpl.paragraph(doc, "注：" + "、".join(r.name.replace("（目标）", "") for r in district.itertuples())
                      + "为全区口径，不按街道统计。")

    targets = page.targets
    doc.add_heading(f"二、目标任务进度（截至{tpl.day(period.end)}）", level=1)
    tpl.paragraph(doc, "进度按从基期到期限匀速推进计算，低于应达进度为“进度滞后”。")
    body = []
    for t in targets.itertuples():
        unit = t.单位
        if unit == "%":  # a measured percentage and a gap of rates: written as every percentage is (units.pct)
            shown, gap = report.fmt_number(t.期末进度, "%"), report.fmt_number(t.差距, "个百分点")
        else:
            shown, gap = f"{_cell_text(t.期末进度)}{unit}", f"{_cell_text(t.差距)}{unit}"
        body.append([t.目标, f"{_cell_text(t.目标值)}{unit}", t.期限, shown, gap, t.状态])
    tpl.table(doc, ["目标", "目标值", "期限", "期末进度", "差距", "状态"], body, widths_mm=[46, 20, 24, 22, 22, 20])
    return tpl.to_bytes(doc)


def xlsx_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per figure: 编号, 部分, 名称, 数值, 单位, 上期, 变化 (numbers as numbers), and the sentence."""
    return pd.DataFrame({"编号": rows["id"], "部分": rows["section"], "名称": rows["name"], "数值": rows["value"],
                         "单位": rows["unit"], "上期": rows["previous"], "变化": rows["change"], "表述": rows["text"]},
                        columns=XLSX_COLUMNS)


def report_xlsx(page: ReportPage, title: str | None = None) -> bytes:
    """The figures as an Excel sheet (via exports.xlsx.excel_bytes), with `title` above the table when given (the
    page gives its own, ReportPage.title)."""
    return excel_bytes(xlsx_frame(page.rows), sheet_name="工作总结数据", title=title)
