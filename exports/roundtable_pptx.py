"""圆桌会 PowerPoint export: the presentation's five views for a quarter as a 16:9 deck (charts and map as images)."""
from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

from data.domain.units import percent_number
from data.writes import frozen as fz
from exports import chart_images as ci
from views.roundtable import RoundtablePage

SLIDE_W, SLIDE_H = 12192000, 6858000  # EMU: 13.333 in × 7.5 in (16:9, shown at 1920×1080)


# --- the views' pictures, shared with the page (components.slides) ---------------------------------------------

def view_image(figs: pd.DataFrame, step: int, *, size: str = "slide", theme: str = "light") -> bytes:
    """The chart (or map) of a view as PNG bytes, drawn from the figures frame only (aggregates)."""
    if step == 1:
        s = fz.series(figs, "facilities_by_street")
        return ci.subdistrict_map(dict(zip(s["part"], s["value"])), title="运营中养老服务设施（按街道，个）",
                                  size={"slide": "slide_map", "deck": "deck_map"}.get(size, size), theme=theme, legend="个")
    if step == 2:
        s = fz.series(figs, "coverage_by_street")
        return ci.bar_chart(list(s["label"]), list(s["value"]), title="社区助餐服务覆盖率（按街道）", unit="%",
                            size=size, theme=theme, target=65, labels=[percent_number(v) + "%" for v in s["value"]])
    if step == 3:
        s = fz.series(figs, "aid_amount")
        return ci.bar_chart(list(s["label"]), list(s["value"]), title="救助发放金额（按项目，万元）", unit="万元",
                            size=size, theme=theme, horizontal=True,
                            labels=[f"{v:,.2f}" for v in s["value"]])
    if step == 4:
        found, done = fz.series(figs, "found_by_source"), fz.series(figs, "rectified_by_source")
        return ci.grouped_bars(list(found["label"]), {"查出问题": list(found["value"]), "已整改": list(done["value"])},
                               title="整改进度（按问题来源，个）", unit="个", size=size, theme=theme)
    keys = ["rt_meetings", "rt_raised", "rt_resolved"]
    vals = [fz.value_of(figs, k) or 0 for k in keys]
    return ci.bar_chart(["召开会议（次）", "提出诉求（个）", "解决诉求（个）"], vals, title="幸福圆桌会（本季度）",
                        size=size, theme=theme, colour_index=2)


# --- the deck ----------------------------------------------------------------------------------------------------

FONT = "Microsoft YaHei"   # what Office on a bureau PC has; LibreOffice (exports.pdf) falls back to Noto Sans CJK
NUMBER_PT, LABEL_PT, TITLE_PT, TEXT_PT = 44, 20, 32, 20  # headline numbers ≥ 40 pt; no text under 18 pt
MIN_PT = 18
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def _font(run, size: float, bold: bool = False) -> None:
    """Size, weight and the font by name for Latin and East Asian text (a:latin, a:ea), so Chinese is set in it."""
    from pptx.util import Pt

    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    rpr = run._r.get_or_add_rPr()
    for tag in (f"{_A}ea", f"{_A}cs"):
        el = rpr.find(tag)
        if el is None:
            el = rpr.makeelement(tag, {})
            rpr.append(el)
        el.set("typeface", FONT)


def _text(slide, left, top, width, height, parts, *, centre: bool = False):
    """A text box of one paragraph made of (text, size, bold) runs."""
    from pptx.enum.text import PP_ALIGN

    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    p = tf.paragraphs[0]
    if centre:
        p.alignment = PP_ALIGN.CENTER
    for text, size, bold in parts:
        _font(p.add_run(), size, bold)
        p.runs[-1].text = text
    return box


def _as_of(page: RoundtablePage) -> str:
    if page.info:
        return f"数据截至{page.info['as_of']:%Y年%m月%d日}（冻结数，{page.info['frozen_by']}冻结）。"
    q = page.quarter
    return (f"实时数：统计期 {q.start:%Y年%m月%d日} 至 {q.end:%Y年%m月%d日}，"
            f"按生成时（{datetime.now():%Y年%m月%d日 %H:%M}）的台账计算，尚未冻结。")


def _notes(slide, lines: list[str]) -> None:
    slide.notes_slide.notes_text_frame.text = "\n".join(lines)


def roundtable_deck(page: RoundtablePage) -> bytes:
    """The deck of the page model (views.roundtable): a title slide and one slide per view with its big numbers,
    chart and, in the speaker notes, each number's 口径 and the data's as-of time. python-pptx is imported here, when
    a deck is asked for, not when the presentation page is opened."""
    from pptx import Presentation
    from pptx.util import Emu

    quarter, figs = page.quarter, page.figures
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    blank = prs.slide_layouts[6]
    s = prs.slides.add_slide(blank)
    _text(s, Emu(600000), Emu(1500000), Emu(11000000), Emu(1000000), [("康养产业“幸福圆桌会”", 48, True)])
    _text(s, Emu(600000), Emu(2500000), Emu(11000000), Emu(900000), [(quarter.label, 40, True)])
    _text(s, Emu(600000), Emu(3500000), Emu(11000000), Emu(800000), [(f"西湖区民政局 · {page.subtitle}", 28, False)])
    _text(s, Emu(600000), Emu(4500000), Emu(11000000), Emu(800000),
          [("仅含汇总数据；街道内少于3的人数不显示。", TEXT_PT, False)])
    _notes(s, [f"康养产业“幸福圆桌会”{quarter.label}汇报。", _as_of(page), "各页数字的口径见该页备注。"])
    for step in fz.STEPS:
        s = prs.slides.add_slide(blank)
        _text(s, Emu(400000), Emu(150000), Emu(11400000), Emu(700000), [(page.title(step), TITLE_PT, True)])
        items = page.items(step)
        top, room = 950000, 5250000
        each = room // max(len(items), 1)
        for item in items:
            _text(s, Emu(400000), Emu(top), Emu(4600000), Emu(each),
                  [(f"{item['label']}：", LABEL_PT, False), (item["text"], NUMBER_PT, True)])
            top += each
        png = view_image(figs, step, size="deck")
        if step == 1:  # the map is nearly square: fit its height
            s.shapes.add_picture(io.BytesIO(png), Emu(5600000), Emu(950000), height=Emu(5250000))
        else:
            s.shapes.add_picture(io.BytesIO(png), Emu(5400000), Emu(1000000), width=Emu(6500000))
        _text(s, Emu(400000), Emu(6250000), Emu(11400000), Emu(500000), [(page.subtitle, MIN_PT, False)])
        _notes(s, [f"口径 · {page.title(step)}"] + [f"{item['label']}（{item['text']}）：{item['definition']}。"
                                                          .replace("。。", "。") for item in items] + [_as_of(page)])
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()

