"""Page models of the report pages (views/): built with a plain Reader on both engines, and the same figures on the
page (AppTest), in the Word document and in the PowerPoint deck — one model, every place it shows."""
from __future__ import annotations

from cards import cards

import io
from datetime import date

import docx
import pytest
from pptx import Presentation

from auth_helpers import principal
from data.db.engine import get_engine
from data.domain.period import parse
from data.security.access import Reader
from exports.report_docx import report_docx
from exports.roundtable_pptx import roundtable_deck
from exports.weekly_docx import weekly_review_docx
from auth_helpers import open_section
from test_app import run_app
from views import overview, rectification, report, roundtable, weekly

LAST_DAY = date(2024, 12, 31)  # the demo's last day with records
H1, W52, Q2 = parse("2024-H1"), parse("2024-W52"), parse("2024-Q2")
STREET = "360103001"  # 南浦街道


@pytest.fixture
def office(demo_url):
    return Reader(get_engine(demo_url), principal("office"))


def _metrics(at) -> list[tuple[str, str, str]]:
    return [(m.label, m.value, m.delta or "") for m in cards(at)]


def _cards(cards) -> list[tuple[str, str, str]]:
    return [(c.label, c.value, c.delta or "") for c in cards]


def _docx(data: bytes):
    return docx.Document(io.BytesIO(data))


def _rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


# --- 总览 ---------------------------------------------------------------------------------------------------

def test_overview_model_is_what_the_page_shows(monkeypatch, demo_url, office):
    page = overview.build(office, H1, None)
    values = {c.label: c.value for c in page.cards}
    assert values["运营助餐点"] == "47" and values["助餐社区覆盖率"] == "57.0%" and len(page.cards) == 8
    assert {"目标", "应达进度", "状态"} <= set(page.targets.columns) and len(page.targets)
    assert set(page.targets["状态"]) <= {"已达成", "进度正常", "进度滞后"}
    at = run_app(monkeypatch, demo_url, "pages/overview.py", period="2024-H1")
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at) == _cards(page.cards)
    shown = next(df.value for df in at.dataframe if "应达进度" in df.value.columns)
    assert shown.reset_index(drop=True).equals(page.targets)


def test_overview_for_a_street_account_has_no_district_targets(demo_url):
    street = Reader(get_engine(demo_url), principal("street", STREET))
    page = overview.build(street, H1, STREET)
    assert page.targets is None and page.behind is None
    district = overview.build(Reader(get_engine(demo_url), principal("office")), H1, None)
    assert int(page.cards[0].value) < int(district.cards[0].value)  # its own meal points only


# --- 工作总结数据 ----------------------------------------------------------------------------------------------

def test_report_model_is_what_the_page_and_the_word_draft_show(monkeypatch, demo_url, office):
    page = report.build(office, H1, LAST_DAY, None)
    assert page.period == H1 and page.note is None and page.slug == "全区_2024-H1"
    by_id = dict(zip(page.rows["id"], page.rows["text"]))
    assert "低保保障2059户2911人" in by_id["F40"]
    shown_rows = [r for _, sections in page.parts for s in sections for r in s.rows]
    assert [r["id"] for r in shown_rows] == sorted(by_id, key=list(page.rows["id"]).index)
    # the Word draft: every sentence, and the targets table as the model has it
    d = _docx(report_docx(page))
    text = "\n".join(p.text for p in d.paragraphs)
    assert all(sentence in text for sentence in by_id.values())
    table = _rows(d.tables[0])[1:]
    assert [r[0] for r in table] == list(page.targets["目标"]) and [r[5] for r in table] == list(page.targets["状态"])
    # the page: one box per figure with the same sentence, and the same targets table
    at = run_app(monkeypatch, demo_url, "pages/report_figures.py", period="2024-H1")
    assert not at.exception, [e.value for e in at.exception]
    boxes = [m.value for m in at.markdown if m.value.startswith("**F")]
    assert boxes == [f"**{r['id']}**　{r['text']}" for r in shown_rows]
    targets = next(df.value for df in at.dataframe if "期末进度" in df.value.columns)
    assert targets.reset_index(drop=True).equals(page.targets.drop(columns=["编号", "截至"]))
    # the headline above it counts the same figures and the same targets' statuses
    status = list(targets["状态"])
    assert {c.label: c.value for c in cards(at)} == {
        "工作总结数字": f"{len(shown_rows)} 项", "目标任务": f"{len(status)} 项",
        "已达成": f"{status.count('已达成')} 项", "进度滞后": f"{status.count('进度滞后')} 项"}
    assert status.count("进度滞后") == 4  # 2024 H1: every target behind pace (a card of zeros would say nothing)


def test_report_of_a_month_is_its_half_year(office):
    page = report.build(office, parse("2024-12"), LAST_DAY, None)
    assert page.period == parse("2024-H2") and "工作总结按半年度统计" in page.note


# --- 周度研判 ------------------------------------------------------------------------------------------------

def test_weekly_model_is_what_the_page_and_the_word_document_show(monkeypatch, demo_url, office):
    assert weekly.review_week(parse("2024-12"), LAST_DAY) == W52  # derived from the one period control
    page = weekly.build(office, W52)
    assert page.scope == "全区" and page.targets_shown and len(page.targets) == 5
    # the Word document: the week-on-week table and the targets table are the model's, cell for cell
    d = _docx(weekly_review_docx(page))
    assert _rows(d.tables[0]) == [list(page.headline_table.columns)] + page.headline_table.astype(str).values.tolist()
    assert _rows(d.tables[1])[1:] == page.targets_table.astype(str).values.tolist()
    text = "\n".join(p.text for p in d.paragraphs)
    assert f"逾期未整改问题：{len(page.overdue)} 个" in text
    assert f"巡访不足两次的独居老人：{len(page.below)} 人" in text
    # the page: the same cards, targets and counts
    at = run_app(monkeypatch, demo_url)  # the home page, on the latest complete week
    assert not at.exception, [e.value for e in at.exception]
    assert sorted(_metrics(at)) == sorted(_cards(page.cards))  # four columns: the screen's order is by column
    marks = [m.value for m in at.markdown]
    assert page.overdue_count == len(page.overdue)
    assert f"**需督办：逾期未整改问题 {len(page.overdue)} 个**（截至 2024年12月29日，按逾期天数排列）" in marks
    open_section(at, "wr_targets_open")
    shown = next(df.value for df in at.dataframe if "每月需推进" in df.value.columns)
    assert shown.reset_index(drop=True).equals(page.targets_table)
    assert f"**本周台账未更新的街道：{len(page.silent_ledgers)} 个**" in marks


def test_weekly_model_of_a_street_account(demo_url):
    street = Reader(get_engine(demo_url), principal("street", STREET))
    page = weekly.build(street, W52, STREET, "南浦街道")
    assert not page.targets_shown and page.targets.empty and page.scope == "南浦街道"
    assert set(page.overdue["subdistrict_code"]) <= {STREET}
    assert page.below["name"].str.contains(r"\*").all()  # masked unless revealed
    d = _docx(weekly_review_docx(page))
    assert "西湖区民政局周度研判（南浦街道）" in "\n".join(p.text for p in d.paragraphs)


# --- 圆桌会模式 ----------------------------------------------------------------------------------------------

def test_roundtable_model_is_what_the_page_and_the_deck_show(monkeypatch, demo_url, office):
    choice = roundtable.quarter_choice(parse("2024-06"), LAST_DAY)
    assert choice.default == parse("2024-Q4") and choice.options[-1] == "2023-Q1"
    assert roundtable.quarter_choice(Q2, LAST_DAY).default == Q2
    page = roundtable.build(office, Q2)
    assert page.info is None and page.subtitle == "实时数（尚未冻结）"
    deck = Presentation(io.BytesIO(roundtable_deck(page)))
    slide_text = ["\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in deck.slides]
    for step in roundtable.STEPS:
        assert page.title(step) in slide_text[step]
        for item in page.items(step):
            assert f"{item['label']}：{item['text']}" in slide_text[step]
    at = run_app(monkeypatch, demo_url, "pages/roundtable.py", period="2024-Q2")
    assert not at.exception, [e.value for e in at.exception]
    html = "\n".join(str(h.proto.body) for h in at.get("html"))
    assert page.title(1) in html
    for item in page.items(1):
        assert f'<div class="rt-num">{item["text"]}</div>' in html


# --- 整改进度 ------------------------------------------------------------------------------------------------

def test_rectification_model_is_what_the_page_shows(monkeypatch, demo_url, office):
    assert rectification.chosen_sources(list(rectification.SOURCES)) is None
    page = rectification.build(office, H1, None, "全区", None)
    report_values = {c.label: c.value for c in page.report_cards}
    assert report_values["安全检查查出问题（个）"] == "178"
    table, overdue = page.source_table
    assert table.set_index("问题来源").loc["合计", "查出问题（个）"] == page.headline["found"]
    assert len(page.places) <= rectification.PLACES_LISTED and len(page.place_labels) == len(page.places)
    n_open, n_overdue = page.open_counts
    open_table, open_overdue = rectification.open_list(office, H1.end, None, None)
    assert len(open_table) == n_open and int(open_overdue.sum()) == n_overdue
    at = run_app(monkeypatch, demo_url, "pages/rectification.py", period="2024-H1")
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at) == _cards(page.cards + page.report_cards)
    assert any(e.label.startswith(f"期末未整改问题清单（{n_open:,} 个，其中逾期 {n_overdue:,} 个）") for e in at.expander)
