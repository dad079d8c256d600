"""The documents the bureau files and hands round (issue 20): each opened with its own library.

Word (weekly review, work-report draft): A4 with 公文 margins, fonts by style, a PAGE field "— 1 —" in the footer,
the bureau's name and the as-of date in the header, table rows that do not split. PDF (LibreOffice): A4 pages, every
font embedded. Deck: 16:9, headline numbers ≥ 40 pt, no text under 18 pt, speaker notes with the 口径 in words. No
ASCII identifier (a field name such as found_on) in any text of any document. Each command line runs once."""
from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Mm
from pptx import Presentation
from pptx.util import Pt
from pypdf import PdfReader

from data.domain.period import parse
from data.security.access import SYSTEM, Reader
from exports import docx_template, pdf
from exports.report_docx import report_docx
from exports.roundtable_pptx import MIN_PT, NUMBER_PT, roundtable_deck
from exports.weekly_docx import weekly_review_docx
from views import report, roundtable, weekly

ROOT = Path(__file__).resolve().parent.parent
IDENTIFIER = re.compile(r"[a-z]+_[a-z_]+")
LAST_DAY = date(2024, 12, 31)
SQLITE = pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)  # the documents, not the engines
needs_soffice = pytest.mark.skipif(not pdf.available(), reason="LibreOffice (soffice) is not installed")


@pytest.fixture
def documents(demo_engine) -> dict[str, bytes]:
    reader = Reader(demo_engine, SYSTEM)
    return {"weekly": weekly_review_docx(weekly.build(reader, parse("2024-W52"))),
            "report": report_docx(report.build(reader, parse("2024-H1"), LAST_DAY, None))}


def _all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    for s in doc.sections:
        parts += [p.text for p in s.header.paragraphs] + [p.text for p in s.footer.paragraphs]
    return "\n".join(parts)


def _east_asia(doc, style: str) -> str:
    return doc.styles[style].element.rPr.rFonts.get(qn("w:eastAsia"))


@SQLITE
def test_word_documents_are_a4_gongwen(documents):
    for name, data in documents.items():
        doc = docx.Document(io.BytesIO(data))
        for s in doc.sections:
            assert abs(s.page_width - Mm(210)) < Mm(0.5) and abs(s.page_height - Mm(297)) < Mm(0.5), name
            margins = [s.top_margin, s.bottom_margin, s.left_margin, s.right_margin]
            assert [round(m.mm) for m in margins] == [37, 35, 28, 26], name
            footer = s.footer._element.xml
            assert "PAGE" in "".join(t.text for t in s.footer._element.iter(qn("w:instrText"))), name
            assert 'w:fldCharType="begin"' in footer and "— " in s.footer.paragraphs[0].text, name
            header = s.header.paragraphs[0].text
            assert header.startswith("西湖区民政局") and "数据截至" in header and "{{" not in header, name
        assert _east_asia(doc, "Title") == "方正小标宋简体"
        assert _east_asia(doc, "Normal") == "仿宋_GB2312"
        assert _east_asia(doc, "Heading 1") == "黑体" and _east_asia(doc, "Heading 2") == "楷体_GB2312"
        assert all(doc.styles[h].paragraph_format.keep_with_next for h in ("Heading 1", "Heading 2")), name
        assert doc.styles["Normal"].font.size == Pt(16)  # 三号
        for table in doc.tables:
            for row in table.rows:
                assert row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None, name
            assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None, name
        assert not IDENTIFIER.findall(_all_text(doc)), (name, IDENTIFIER.findall(_all_text(doc)))
        for shape in doc.inline_shapes:  # pictures fit the text width (156 mm)
            assert shape.width <= Mm(156), name


def test_a_deployment_may_name_its_own_template(monkeypatch, tmp_path):
    monkeypatch.setenv("MZ_DOCX_TEMPLATE", str(tmp_path / "missing.docx"))
    with pytest.raises(ValueError, match="找不到 Word 模板"):
        docx_template.new_document(as_of=date(2024, 12, 29))
    own = tmp_path / "own.docx"
    own.write_bytes((ROOT / "exports" / "templates" / "gongwen.docx").read_bytes())
    monkeypatch.setenv("MZ_DOCX_TEMPLATE", str(own))
    doc = docx_template.new_document(as_of=date(2024, 12, 29))
    assert doc.sections[0].header.paragraphs[0].text == "西湖区民政局\t数据截至2024年12月29日"


def _fonts_embedded(reader: PdfReader) -> list[str]:
    """The names of fonts used on any page without an embedded font program."""
    missing = []
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for f in descendants:
                desc = f.get("/FontDescriptor")
                desc = desc.get_object() if desc is not None else {}
                if not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.append(str(font.get("/BaseFont")))
    return missing


@SQLITE
@needs_soffice
def test_pdfs_are_a4_with_every_font_embedded(documents):
    for name, data in documents.items():
        reader = PdfReader(io.BytesIO(pdf.to_pdf(data)))
        assert len(reader.pages) >= 2, name
        for page in reader.pages:
            box = page.mediabox
            assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1, name
        assert not _fonts_embedded(reader), (name, _fonts_embedded(reader))
        text = "".join(p.extract_text() for p in reader.pages)
        assert "西湖区民政局" in text and "— 1 —" in text.replace("—1—", "— 1 —"), name


def test_without_libreoffice_the_pdf_says_so_in_chinese(monkeypatch):
    monkeypatch.setattr(pdf.shutil, "which", lambda _name: None)
    assert not pdf.available()
    with pytest.raises(pdf.PdfError, match="未安装 LibreOffice"):
        pdf.to_pdf(b"")


@SQLITE
def test_deck_is_readable_with_notes_in_words(demo_engine):
    page = roundtable.build(Reader(demo_engine, SYSTEM), parse("2024-Q2"))
    deck = Presentation(io.BytesIO(roundtable_deck(page)))
    assert deck.slide_width * 9 == deck.slide_height * 16
    for i, slide in enumerate(deck.slides):
        for shape in slide.shapes:  # nothing runs off the slide
            assert shape.left + shape.width <= deck.slide_width and shape.top + shape.height <= deck.slide_height, i
        runs = [r for s in slide.shapes if s.has_text_frame for p in s.text_frame.paragraphs for r in p.runs]
        assert runs and all(r.font.size is not None and r.font.size >= Pt(MIN_PT) for r in runs), i
        assert all(r.font.name == "Microsoft YaHei" for r in runs)
        assert all(r._r.rPr.find("{http://schemas.openxmlformats.org/drawingml/2006/main}ea").get("typeface")
                   == "Microsoft YaHei" for r in runs)
        text = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        notes = slide.notes_slide.notes_text_frame.text
        assert not IDENTIFIER.findall(text) and not IDENTIFIER.findall(notes), (i, IDENTIFIER.findall(notes))
        assert "实时数" in notes or "数据截至" in notes, i
        if i == 0:
            continue
        step = i
        for item in page.items(step):
            number = [r for r in runs if r.text == item["text"]]
            assert number and number[0].font.size >= Pt(40) and NUMBER_PT >= 40, item
            assert f"{item['label']}（{item['text']}）：{item['definition']}" in notes
        assert notes.startswith("口径")


@SQLITE
def test_each_document_command_writes_files_that_open(demo_url, tmp_path):
    env = {"DATABASE_URL": demo_url, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = tmp_path / "共享文件夹"
    formats = "docx,pdf" if pdf.available() else "docx"
    for command in (["weekly-report", "--format", formats], ["report-draft", "--format", formats],
                    ["roundtable-deck"]):
        r = subprocess.run([sys.executable, "-m", "data", *command, "--out", str(out)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "已生成" in r.stdout
    names = sorted(p.name for p in out.iterdir())
    assert "周度研判_全区_2024-W52.docx" in names and "工作总结数据_全区_2024-H2.docx" in names
    assert "圆桌会_2024-Q4.pptx" in names and not [n for n in names if n.endswith(".part")]
    for path in out.iterdir():
        if path.suffix == ".docx":
            assert docx.Document(str(path)).tables
        elif path.suffix == ".pdf":
            assert len(PdfReader(str(path)).pages) >= 2
        else:
            assert len(Presentation(str(path)).slides) == 6
    if pdf.available():
        assert "周度研判_全区_2024-W52.pdf" in names and "工作总结数据_全区_2024-H2.pdf" in names
    r = subprocess.run([sys.executable, "-m", "data", "weekly-report", "--format", "odt", "--out", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--format 只能是" in r.stderr
