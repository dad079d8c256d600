"""Build exports/templates/gongwen.docx, the 公文 layout every Word document of the dashboard is filled into.

Run `python exports/templates/build_template.py` after changing the layout here; the bureau's office may instead
edit the .docx in Word (styles, 红头) and a deployment may point MZ_DOCX_TEMPLATE to its own copy. What the code
relies on: the styles named below, and the placeholders {{机关}} and {{截至}} in the header.

Layout (GB/T 9704-2012): A4; margins 上 37 mm, 下 35 mm, 左 28 mm, 右 26 mm; 标题 方正小标宋简体 二号; 正文 仿宋_GB2312
三号, fixed 28 pt lines; 一级标题 黑体, 二级标题 楷体_GB2312, 三级标题 仿宋_GB2312 加粗; page number "— 1 —" in
宋体 四号 at the foot of the page; a header with the bureau's name and the as-of date.
"""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

OUT = Path(__file__).with_name("gongwen.docx")
LATIN = "Times New Roman"
TITLE, BODY, HEI, KAI, SONG = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体"
TEXT_WIDTH = Mm(210 - 28 - 26)


def fonts(element, east_asia: str, latin: str = LATIN) -> None:
    """Name the East Asian font (w:eastAsia, what Word uses for Chinese) and the Latin one; no theme fonts."""
    rfonts = element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")


def style(doc, name: str, east_asia: str, size: float, *, bold: bool = False, base: str | None = None,
          kind=WD_STYLE_TYPE.PARAGRAPH):
    try:
        s = doc.styles[name]
    except KeyError:
        s = doc.styles.add_style(name, kind)
        if base:
            s.base_style = doc.styles[base]
    s.font.size = Pt(size)
    s.font.bold = bold
    s.font.italic = False
    s.font.color.rgb = RGBColor(0, 0, 0)
    fonts(s.element, east_asia)
    return s


def chinese(doc) -> None:
    """Mark the document's East Asian text as Simplified Chinese (w:lang w:eastAsia="zh-CN") in the defaults, so
    an office suite picks the SC face of a font family and Chinese line breaking."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")


def page_field(paragraph) -> None:
    """— PAGE — : the page number as a field, so every page shows its own."""
    def run(text=None, fld=None, instr=None):
        r = paragraph.add_run(text)
        if fld:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), fld)
            r._r.append(el)
        if instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
            r._r.append(el)
        return r
    run("— ")
    run(fld="begin")
    run(instr=" PAGE ")
    run(fld="separate")
    run("1")
    run(fld="end")
    run(" —")


def build() -> bytes:
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(20), Mm(22)

    normal = style(doc, "Normal", BODY, 16)
    pf = normal.paragraph_format
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28)
    pf.space_before = pf.space_after = Pt(0)
    pf.widow_control = True
    title = style(doc, "Title", TITLE, 22)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    title.paragraph_format.line_spacing = Pt(36)
    title.paragraph_format.space_after = Pt(14)
    title.paragraph_format.keep_with_next = True
    # the default Title style draws a border line under the title: not in a 公文
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    for name, font, bold in (("Heading 1", HEI, False), ("Heading 2", KAI, False), ("Heading 3", BODY, True)):
        h = style(doc, name, font, 16, bold=bold)
        h.paragraph_format.keep_with_next = True
        h.paragraph_format.space_before, h.paragraph_format.space_after = Pt(6), Pt(0)
        h.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        h.paragraph_format.line_spacing = Pt(28)
        h.paragraph_format.first_line_indent = Pt(32)
    subtitle = style(doc, "Subtitle", KAI, 14)  # 统计范围 line under the title
    subtitle.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle.paragraph_format.space_after = Pt(12)
    subtitle.paragraph_format.keep_with_next = True
    body = style(doc, "正文", BODY, 16, base="Normal")  # body paragraphs: two characters' indent
    body.paragraph_format.first_line_indent = Pt(32)
    table_text = style(doc, "表格文字", BODY, 10.5, base="Normal")  # 五号
    table_text.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    table_text.paragraph_format.first_line_indent = Pt(0)
    table_head = style(doc, "表头", HEI, 10.5, base="表格文字")
    table_head.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    table_head.paragraph_format.keep_with_next = True
    note = style(doc, "注释", BODY, 12, base="Normal")
    note.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    note.paragraph_format.space_after = Pt(6)
    figure = style(doc, "图", BODY, 12, base="Normal")
    figure.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    figure.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    figure.paragraph_format.keep_with_next = True
    for name, font, size in (("Header", BODY, 10.5), ("Footer", SONG, 14)):
        ppr = style(doc, name, font, size).element.get_or_add_pPr()
        for tabs in ppr.findall(qn("w:tabs")):  # the default centre/right tabs: the header sets its own
            ppr.remove(tabs)
    chinese(doc)
    grid = doc.styles["Table Grid"]
    fonts(grid.element, BODY)

    header = sec.header.paragraphs[0]
    header.style = doc.styles["Header"]
    header.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    header.add_run("{{机关}}\t{{截至}}")
    footer = sec.footer.paragraphs[0]
    footer.style = doc.styles["Footer"]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    page_field(footer)

    body_el = doc.element.body  # an empty body: the code fills it
    for child in list(body_el):
        if child.tag != qn("w:sectPr"):
            body_el.remove(child)
    import io

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(build())
    print(f"written {OUT}")
