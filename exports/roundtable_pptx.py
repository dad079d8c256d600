"""圆桌会 PowerPoint export: the presentation's five views for a quarter as a 16:9 deck (charts and map as images)."""
from __future__ import annotations

import io

import pandas as pd

from data.writes import frozen as fz
from exports import chart_images as ci
from views.roundtable import RoundtablePage

SLIDE_W, SLIDE_H = 12192000, 6858000  # EMU: 13.333 in × 7.5 in (16:9, shown at 1920×1080)
FONT = "Noto Sans CJK SC"


# --- the views' pictures, shared with the page (components.slides) ---------------------------------------------

def view_image(figs: pd.DataFrame, step: int, *, size: str = "slide", theme: str = "light") -> bytes:
    """The chart (or map) of a view as PNG bytes, drawn from the figures frame only (aggregates)."""
    if step == 1:
        s = fz.series(figs, "facilities_by_street")
        return ci.subdistrict_map(dict(zip(s["part"], s["value"])), title="运营中养老服务设施（按街道，个）",
                                  size="slide_map" if size == "slide" else size, theme=theme, legend="个")
    if step == 2:
        s = fz.series(figs, "coverage_by_street")
        return ci.bar_chart(list(s["label"]), list(s["value"]), title="社区助餐服务覆盖率（按街道）", unit="%",
                            size=size, theme=theme, target=65, labels=[f"{v:.0f}%" for v in s["value"]])
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

def _text(slide, left, top, width, height, text, size, bold=False):
    from pptx.util import Pt

    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    p = tf.paragraphs[0]
    p.text = text
    for run in p.runs:
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = FONT
    return box


def roundtable_deck(page: RoundtablePage) -> bytes:
    """The deck of the page model (views.roundtable): a title slide and one slide per view, with the frozen figures
    when the quarter is frozen. python-pptx is imported here, when a deck is asked for, not when the presentation
    page is opened."""
    from pptx import Presentation
    from pptx.util import Emu

    quarter, figs = page.quarter, page.figures
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    blank = prs.slide_layouts[6]
    s = prs.slides.add_slide(blank)
    _text(s, Emu(600000), Emu(2200000), Emu(11000000), Emu(1200000), f"康养产业“幸福圆桌会” · {quarter.label}", 40, True)
    _text(s, Emu(600000), Emu(3500000), Emu(11000000), Emu(800000), f"西湖区民政局 · {page.subtitle}", 24)
    _text(s, Emu(600000), Emu(4400000), Emu(11000000), Emu(800000), "仅含汇总数据；街道内少于3的人数不显示。", 16)
    for step in fz.STEPS:
        s = prs.slides.add_slide(blank)
        _text(s, Emu(400000), Emu(200000), Emu(11400000), Emu(700000), page.title(step), 32, True)
        items = page.items(step)
        top = Emu(1000000)
        for item in items:
            _text(s, Emu(400000), top, Emu(3900000), Emu(450000), f"{item['label']}：{item['text']}", 18, True)
            _text(s, Emu(400000), Emu(top + 430000), Emu(3900000), Emu(500000), f"口径：{item['definition']}", 10)
            top = Emu(top + 1050000)
        png = view_image(figs, step, size="slide")
        if step == 1:  # the map is nearly square: fit its height
            s.shapes.add_picture(io.BytesIO(png), Emu(5200000), Emu(1000000), height=Emu(5200000))
        else:
            s.shapes.add_picture(io.BytesIO(png), Emu(4500000), Emu(1200000), width=Emu(7400000))
        _text(s, Emu(400000), Emu(6300000), Emu(11400000), Emu(400000), page.subtitle, 12)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()
