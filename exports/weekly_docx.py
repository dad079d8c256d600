"""周度研判 Word export: the weekly review as a printable .docx (headline, targets, masked action lists, charts)."""
from __future__ import annotations

import io
from datetime import date

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from data.security.masking import mask_name
from exports import chart_images as ci
from views.weekly import SILENT_MEAL_DAYS, WeeklyPage, fmt_change, fmt_headline, fmt_pace, fmt_target

FONT = "Noto Sans CJK SC"
HEADINGS = ["一、本周与上周", "二、目标一览", "三、需要处理的事项", "四、图表"]


def _set_fonts(doc) -> None:
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        try:
            style = doc.styles[style_name]
        except KeyError:
            continue
        style.font.name = FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
    doc.styles["Normal"].font.size = Pt(10.5)


def _table(doc, header: list[str], rows: list[list[str]]) -> None:
    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    for cell, text in zip(t.rows[0].cells, header):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for r in rows:
        cells = t.add_row().cells
        for cell, text in zip(cells, r):
            cell.text = str(text)


def weekly_review_docx(page: WeeklyPage, generated_on: date | None = None) -> bytes:
    """The weekly review (the page model views.weekly.WeeklyPage) as .docx bytes; elders' names masked."""
    week, scope, head, targets, by_street = page.week, page.scope, page.headline, page.targets, page.below_by_street

    doc = Document()
    _set_fonts(doc)
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2.5)
    title = doc.add_heading(f"西湖区民政局周度研判（{scope}）", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"{week.label}；与上周（{week.previous().label}）比较。"
                      f"生成日期：{(generated_on or date.today()).isoformat()}。")

    doc.add_heading(HEADINGS[0], level=1)
    _table(doc, ["指标", "单位", "本周", "上周", "变化", "口径"],
           [[r.label, r.unit, fmt_headline(r.key, r.value), fmt_headline(r.key, r.previous),
             fmt_change(r.key, r.change), f"{r.definition}（{r.as_of}）"] for r in head.itertuples()])

    doc.add_heading(HEADINGS[1], level=1)
    doc.add_paragraph(f"截至 {week.end.isoformat()}（全区）。应达进度按从基期到期限匀速推进计算；"
                      "低于应达进度为“进度滞后”。")
    _table(doc, ["目标", "目标值", "当前值", "差距", "应达进度", "每月需推进", "期限", "状态"],
           [[r.name, fmt_target(r.target, r.unit), fmt_target(r.value, r.unit), fmt_target(r.gap, r.unit),
             fmt_target(r.expected, r.unit), fmt_pace(r.met, r.pace_needed, r.unit),
             r.deadline.isoformat(), r.status] for r in targets.itertuples()])

    doc.add_heading(HEADINGS[2], level=1)
    od = page.overdue
    doc.add_heading(f"（一）逾期未整改问题：{page.overdue_count} 个（截至 {week.end.isoformat()}）", level=2)
    if len(od):
        _table(doc, ["编号", "街道", "点位", "问题类别", "整改期限", "逾期天数"],
               [[r.code, r.subdistrict_name, r.place_name, r.category, str(r.deadline)[:10], r.days_overdue]
                for r in od.head(30).itertuples()])
        if len(od) > 30:
            doc.add_paragraph(f"（仅列逾期最久的 30 个，共 {len(od)} 个）")
    below = page.below
    doc.add_heading(f"（二）本月（{week.end.month}月1日至{week.end.month}月{week.end.day}日）巡访不足两次的独居老人："
                    f"{len(below)} 人", level=2)
    if len(by_street):
        _table(doc, ["街道", "在册人数", "不足两次人数"],
               [[r.subdistrict_name, r.roster, r.below] for r in by_street.itertuples()])
        doc.add_paragraph("名单（已脱敏）：" + "；".join(
            f"{r.subdistrict_name}{r.community_name} {mask_name(r.name)}（{r.visits}次）"
            for r in below.head(60).itertuples()))
    silent = page.silent_points
    doc.add_heading(f"（三）连续 {SILENT_MEAL_DAYS} 天无助餐记录的助餐点：{len(silent)} 个", level=2)
    if len(silent):
        _table(doc, ["街道", "助餐点", "最近记录日期"],
               [[r.subdistrict_name, r.name, "无" if r.last_served_on is None or r.last_served_on != r.last_served_on
                 else str(r.last_served_on)] for r in silent.itertuples()])
    ledgers = page.silent_ledgers
    doc.add_heading(f"（四）本周台账未更新的街道：{len(ledgers)} 个", level=2)
    doc.add_paragraph("、".join(ledgers["subdistrict_name"]) if len(ledgers) else "无。")

    doc.add_heading(HEADINGS[3], level=1)
    if not ci.font_available():
        doc.add_paragraph(ci.FONT_MISSING_MESSAGE)
    days_now, days_before = page.meals_by_day, page.meals_by_day_before
    png = ci.grouped_bars(["一", "二", "三", "四", "五", "六", "日"],
                          {"本周": list(days_now["meals"]), "上周": list(days_before["meals"])},
                          title="每日助餐份数（周一至周日）", unit="份")
    doc.add_picture(io.BytesIO(png), width=Cm(16))
    if len(targets):
        shares = [min(r.value / r.target * 100, 100) if r.target else 0 for r in targets.itertuples()]
        png = ci.bar_chart([_short(n) for n in targets["name"]], shares, title="目标完成度（当前值 ÷ 目标值）",
                           unit="%", horizontal=True, target=100, labels=[f"{s:.0f}%" for s in shares])
        doc.add_picture(io.BytesIO(png), width=Cm(16))
    if len(by_street):
        png = ci.bar_chart(list(by_street["subdistrict_name"]), list(by_street["below"]),
                           title="本月巡访不足两次的独居老人（按街道）", unit="人", colour_index=3)
        doc.add_picture(io.BytesIO(png), width=Cm(16))

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _short(name: str) -> str:
    return name if len(name) <= 12 else name[:12] + "…"
