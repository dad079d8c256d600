"""The weekly .docx and the Roundtable .pptx: they open, carry the expected headings, tables and images, and no
unmasked personal data (every demo person's name and every ID number is searched for in all their text)."""
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from sqlalchemy import select

from exports.roundtable_pptx import roundtable_deck
from exports.weekly_docx import HEADINGS, weekly_review_docx
from data.security.access import SYSTEM, Reader
from views import roundtable, weekly
from data.db.models import (AidHousehold, AidPerson, CareWorker, HomeServiceVisit, LivingAloneElder, Screening,
                         SocialWorker)
from data.domain.period import parse

ROOT = Path(__file__).resolve().parent.parent
ID_PATTERN = re.compile(r"999999\d{6,}")


def _personal(engine) -> tuple[set, set]:
    cols = [LivingAloneElder.name, AidPerson.name, AidHousehold.head_name, CareWorker.name, SocialWorker.name,
            Screening.person_name, HomeServiceVisit.elder_name]
    with engine.connect() as conn:
        names = set()
        for c in cols:
            names |= set(conn.execute(select(c).distinct()).scalars())
        ids = set(conn.execute(select(LivingAloneElder.id_number)).scalars()) | set(
            conn.execute(select(AidPerson.id_number)).scalars())
    return {n for n in names if n and len(n) >= 2}, ids


def _assert_no_personal_data(engine, text: str) -> None:
    names, ids = _personal(engine)
    leaked = sorted(n for n in names if n in text)
    assert not leaked, leaked[:10]
    assert not [i for i in ids if i in text]
    assert not ID_PATTERN.search(text)


def _docx_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        parts += [c.text for row in t.rows for c in row.cells]
    return "\n".join(parts)


def test_weekly_docx(demo_engine):
    data = weekly_review_docx(weekly.build(Reader(demo_engine, SYSTEM), parse("2024-W52")))
    doc = Document(io.BytesIO(data))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert all(h in headings for h in HEADINGS)
    assert any(h.startswith("（一）逾期未整改问题") for h in headings)
    assert len(doc.tables) >= 5
    assert doc.tables[0].rows[0].cells[0].text == "指标" and len(doc.tables[0].rows) == 9
    assert doc.tables[1].rows[0].cells[0].text == "目标" and len(doc.tables[1].rows) == 6
    assert len(doc.inline_shapes) == 3
    text = _docx_text(doc)
    assert "南站街道" in text and "*" in text  # masked names are listed
    assert doc.styles["Normal"].element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋_GB2312"
    _assert_no_personal_data(demo_engine, text)


def test_roundtable_pptx(demo_engine):
    prs = Presentation(io.BytesIO(roundtable_deck(roundtable.build(Reader(demo_engine, SYSTEM), parse("2024-Q2")))))
    assert len(prs.slides) == 6 and prs.slide_width * 9 == prs.slide_height * 16
    texts, pictures = [], 0
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            pictures += shape.shape_type == MSO_SHAPE_TYPE.PICTURE
    text = "\n".join(texts)
    assert pictures == 5
    for title in ("1. 设施布局", "2. 助餐覆盖", "3. 救助发放", "4. 整改进度", "5. 圆桌会议题"):
        assert title in text
    assert "年初以来召开圆桌会：2次" in text and "年初以来协调解决问题诉求：9个" in text
    notes = "\n".join(slide.notes_slide.notes_text_frame.text for slide in prs.slides)
    assert "口径" in notes  # the 口径 is said in the speaker notes, not in small print on the slide
    _assert_no_personal_data(demo_engine, text + notes)


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_command_line_forms(demo_url, tmp_path):
    env = {"DATABASE_URL": demo_url, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "review.docx"
    r = subprocess.run([sys.executable, "-m", "data", "weekly-report", "--week", "2024-W52", "--out", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "已生成周度研判" in r.stdout and Document(str(out)).tables
    deck = tmp_path / "deck.pptx"
    r = subprocess.run([sys.executable, "-m", "data", "roundtable-deck", "--quarter", "2024-Q2", "--out", str(deck)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(Presentation(str(deck)).slides) == 6
    r = subprocess.run([sys.executable, "-m", "data", "roundtable-deck", "--quarter", "2024-06", "--out", str(deck)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "不是季度" in r.stderr
