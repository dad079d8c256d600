"""工作总结数据 (data/report.py, components/report_docx.py) on the demo district, on both engines.

The report's sentences are written here as literals (from the 2024 first-half report, punctuation full-width), since
CI may not have the report file. Other periods are checked against counts written here with plain SQLAlchemy on the
models, not through the query modules.
"""
from __future__ import annotations

import io
from datetime import date

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from sqlalchemy import distinct, func, or_, select

from exports.report_docx import XLSX_COLUMNS, report_docx, report_xlsx
from views.report import ReportPage
from data.domain import report
from data.db.engine import get_engine
from data.domain.figures import FIGURES
from data.db.models import AidPayment, CivilEvent, Facility, Finding, HomeServiceVisit, LivingAloneVisit, Screening
from data.domain.period import month, parse, week_of
from data.domain.units import fen_to_wan

H1 = parse("2024-H1")

# Each figure's sentence in the 2024 H1 report, with its number, as the page and the draft must write it. Where the
# registry writes a number the report spells in words or leaves implicit, the fragment uses the registry's digits
# (noted). Several fragments: all must appear.
REPORT_SENTENCES = {
    "F01": ["重点打造1个社区嵌入式养老院、1个社区居家养老服务中心、6个社区助餐服务点"],
    "F02": ["7个重点建设任务已建成并投入运营"],
    "F03": ["对8家养老机构"],
    "F04": ["2025年社区养老服务设施覆盖率达到100%"],
    "F05": ["1所公办嵌入式养老院", "纳入区储备项目"],  # report: 一所
    "F07": ["至少引进1家养老服务龙头企业"],
    "F10": ["目前已建成47家"],
    "F11": ["社区服务覆盖率57.0%"],
    "F12": ["全区助餐点位达到68家"],
    "F13": ["服务覆盖率达到65%以上"],
    "F15": ["桃花街道凉伞树社区助餐点作为参观点位之一"],
    "F20": ["上半年，开展80周岁两小时上门服务、“五类人群”上门服务和“家庭养老床位建设”上门服务12247人次"],
    "F21": ["对275名独居老人进行走访"],
    "F22": ["各街道每月不低于2次"],  # report: 两次
    "F23": ["上半年共巡访、探访独居老人1598人次"],
    "F30": ["对8家养老机构开展4次安全生产联合大检查"],
    "F31": ["区民政局组成四个检查组定期下到挂点街道开展安全检查27次"],
    "F32": ["查出问题178个"],
    "F33": ["已整改178个"],  # report: 均已整改
    "F34": ["目前查出问题23条"],
    "F35": ["已整改18条"],
    "F36": ["移送纪检部门线索2条"],
    "F37": ["完成13个村清产核资工作"],
    "F40": ["上半年，低保保障2059户2911人"],
    "F41": ["发放低保金1398.75万元"],
    "F42": ["供养特困人员164人"],
    "F43": ["发放生活补贴、护理补贴187万元"],
    "F44": ["临时救助金19.79万元"],
    "F45": ["发放孤儿和事实无人抚养儿童基本生活保障金44.41万元"],
    "F46": ["残疾人两项补贴222.22万元"],
    "F47": ["开展应急救助与人道救助，发放救助款6万元"],
    "F50": ["今年以来，开展主动摸排986人次"],
    "F51": ["纳入低保102户"],
    "F52": ["特困13户"],
    "F60": ["上半年，办理婚姻登记业务1141件"],
    "F61": ["引导新人签订婚事新办承诺书809份"],
    "F62": ["举行集体颁证活动2场、“新婚护航”主题课堂2场"],
    "F63": ["上半年发出提示函6件"],
    "F64": ["阻止不文明丧俗6起"],
    "F70": ["区级民政服务总站1个", "10个街道民政服务站"],  # report: 区级民政服务总站和10个…
    "F71": ["配备22名驻站社工"],
    "F72": ["组织社工业务培训4次"],
    "F73": ["上半年，召开2次康养产业“幸福圆桌会”"],
    "F74": ["协调解决问题诉求9个"],
    "F75": ["力争持证上岗率达到100%"],
    "F76": ["按照“四个一”要求"],
}
NO_NUMBER_IN_REPORT = {"F06", "F14"}  # 区福利院日间照料中心, 幸福小蜜蜂: the report names them without a number
# the report's sentences that join two figures, as the Word draft must carry them
JOINED = ["上半年，低保保障2059户2911人，发放低保金1398.75万元；供养特困人员164人，发放生活补贴、护理补贴187万元",
          "今年以来，开展主动摸排986人次，纳入低保102户、特困13户",
          "上半年，召开2次康养产业“幸福圆桌会”，协调解决问题诉求9个",
          "目前已建成47家，社区服务覆盖率57.0%"]
MAIN_H1 = {"F10": 47, "F11": 57, "F20": 12247, "F40": 2059, "F41": 1398.75, "F43": 187.0, "F12": 47, "F13": 57}
SAMPLE = ("F10", "F20", "F23", "F32", "F40", "F41", "F50", "F60")


@pytest.fixture(scope="module")
def h1_rows(demo_url):
    return report.report_rows(get_engine(demo_url), H1)


# --- 2024 H1: the report's figures --------------------------------------------------------------------

def test_every_figure_is_checked_against_the_report():
    assert set(REPORT_SENTENCES) | NO_NUMBER_IN_REPORT == {f.id for f in FIGURES}


def test_h1_sentences_are_the_reports(h1_rows):
    texts = dict(zip(h1_rows["id"], h1_rows["text"]))
    for fid, fragments in REPORT_SENTENCES.items():
        for fragment in fragments:
            assert fragment in texts[fid], (fid, texts[fid])
    assert texts["F40"] == "上半年，低保保障2059户2911人"
    assert texts["F41"] == "发放低保金1398.75万元"


def test_rows_in_the_reports_sections_with_main_numbers(h1_rows):
    assert len(h1_rows) == len(FIGURES) and h1_rows["id"].is_unique
    sections = list(dict.fromkeys(h1_rows["section"]))
    assert sections == list(report.SECTIONS)
    values = dict(zip(h1_rows["id"], h1_rows["value"]))
    assert {k: values[k] for k in MAIN_H1} == MAIN_H1
    assert isinstance(values["F10"], int) and isinstance(values["F41"], float)
    assert all(isinstance(v, (int, float)) for v in h1_rows["value"])
    f40 = h1_rows.set_index("id").loc["F40"]
    assert f40["unit"] == "户" and f40["values"] == {"households": 2059, "persons": 2911}
    assert f40["page"] == "aid" and f40["definition"].startswith("发放日期在统计期内")


def test_targets_with_progress_at_the_end_of_h1(h1_rows):
    t = report.target_rows(h1_rows).set_index("编号")
    assert list(t.index) == ["F12", "F13", "F04", "F75"]
    assert (t.loc["F12", "目标值"], t.loc["F12", "期末进度"], t.loc["F12", "差距"]) == (68, 47, 21)
    assert (t.loc["F13", "目标值"], t.loc["F13", "期末进度"]) == (65, 57)
    assert (t.loc["F04", "目标值"], t.loc["F04", "期限"]) == (100, "2025-12-31")
    assert t.loc["F75", "目标值"] == 100
    # 47 meal points on 30 June against 68 by December, from a lower baseline: behind the straight line
    assert t.loc["F12", "状态"] == "进度滞后"
    assert set(t["状态"]) <= {"已达成", "进度正常", "进度滞后"}
    assert set(t["截至"]) == {"2024-06-30"}


# --- other periods: independent counts ------------------------------------------------------------------

def independent(engine, p) -> dict:
    """The sample figures counted straight from the tables."""
    def within(col):
        return (col >= p.start) & (col <= p.end)

    with engine.connect() as c:
        def one(stmt):
            return c.execute(stmt).scalar_one()
        households, persons = c.execute(
            select(func.count(distinct(AidPayment.household_id)), func.count(distinct(AidPayment.person_id)))
            .where(AidPayment.programme == "dibao", within(AidPayment.paid_on))).one()
        return {
            "F10": one(select(func.count()).select_from(Facility).where(
                Facility.kind == "meal_point", Facility.opened_on.is_not(None), Facility.opened_on <= p.end,
                or_(Facility.closed_on.is_(None), Facility.closed_on > p.end))),
            "F20": one(select(func.count()).select_from(HomeServiceVisit).where(within(HomeServiceVisit.visited_on))),
            "F23": one(select(func.count()).select_from(LivingAloneVisit).where(within(LivingAloneVisit.visited_on))),
            "F32": one(select(func.count()).select_from(Finding).where(
                Finding.source.in_(["joint_safety", "inspection_group"]), within(Finding.found_on))),
            "F40": (households, persons),
            "F41": fen_to_wan(one(select(func.coalesce(func.sum(AidPayment.amount_fen), 0)).where(
                AidPayment.programme == "dibao", within(AidPayment.paid_on)))),
            "F50": one(select(func.count()).select_from(Screening).where(within(Screening.screened_on))),
            "F60": one(select(func.count()).select_from(CivilEvent).where(
                CivilEvent.kind == "marriage_registration", within(CivilEvent.happened_on))),
        }


@pytest.mark.parametrize("key", ["2024-Q3", "2023"])
def test_other_periods_equal_independent_counts(demo_engine, key):
    p = parse(key)
    rows = report.report_rows(demo_engine, p).set_index("id")
    expected = independent(demo_engine, p)
    for fid in SAMPLE:
        r = rows.loc[fid]
        if fid == "F40":
            assert (r["values"]["households"], r["values"]["persons"]) == expected["F40"]
            assert r["value"] == expected["F40"][0]
            assert r["text"] == f"{p.label}，低保保障{expected['F40'][0]}户{expected['F40'][1]}人"
        else:
            assert r["value"] == expected[fid], fid
    assert expected["F20"] > 0 and expected["F41"] > 0  # the demo has records in these periods
    assert rows.loc["F41", "text"] == f"发放低保金{expected['F41']:.2f}万元".replace(".00万元", "万元")


def test_previous_period_and_change(demo_engine):
    q3 = parse("2024-Q3")
    rows = report.report_rows(demo_engine, q3).set_index("id")
    now, before = independent(demo_engine, q3), independent(demo_engine, q3.previous())
    r = rows.loc["F41"]
    assert r["previous"] == before["F41"]
    assert r["change"] == round(now["F41"] - before["F41"], 2)
    assert r["previous_text"].startswith("发放低保金")
    r = rows.loc["F20"]
    assert (r["previous"], r["change"]) == (before["F20"], now["F20"] - before["F20"])
    assert r["previous_text"].startswith("2024年第二季度，开展80周岁")
    assert {rows["previous_period"].iloc[0], rows["previous_label"].iloc[0]} == {"2024-Q2", "2024年第二季度"}


# --- the period's words and default ----------------------------------------------------------------------

def test_period_word_replaces_the_reports_opening_word():
    assert report.sentence("F40", "低保保障1户1人", parse("2023-H1")) == "上半年，低保保障1户1人"
    assert report.sentence("F40", "低保保障1户1人", parse("2024-H2")) == "下半年，低保保障1户1人"
    assert report.sentence("F40", "低保保障1户1人", parse("2024-Q3")) == "2024年第三季度，低保保障1户1人"
    assert report.sentence("F50", "开展主动摸排1人次", parse("2024-H1")) == "今年以来，开展主动摸排1人次"
    assert report.sentence("F50", "开展主动摸排1人次", parse("2023")) == "2023年，开展主动摸排1人次"
    assert report.sentence("F23", "共巡访", parse("2024-Q1")) == "2024年第一季度共巡访"
    assert report.sentence("F41", "发放低保金1万元", parse("2024-Q3")) == "发放低保金1万元"


def test_report_period_defaults_to_a_half_year():
    last, today = date(2024, 12, 31), date(2025, 3, 1)
    for key in ("2024-H1", "2024-Q3", "2023", "2024-01-01~2024-02-15"):
        assert report.report_period(parse(key), last, today) == (parse(key), None)
    shown, why = report.report_period(month(2024, 12), last, today)
    assert shown == parse("2024-H2") and "2024年下半年" in why and "月度" in why
    assert report.report_period(week_of(date(2024, 3, 5)), last, today)[0] == parse("2024-H1")
    # the half containing the month has not ended with records: the latest complete half-year
    shown, why = report.report_period(month(2024, 9), date(2024, 9, 30), today)
    assert shown == parse("2024-H1") and "最近一个已结束" in why


def test_every_figure_has_a_main_number_and_a_place_in_the_draft():
    assert set(report.MAIN) == {f.id for f in FIGURES}
    for section in report.SECTIONS:
        ids = [f.id for f in FIGURES if f.section == section]
        template = report.TEMPLATES[section]
        assert ids and all(template.count("{" + fid + "}") == 1 for fid in ids), section
    assert report.fmt_change(3, "%") == "+3.0个百分点" and report.fmt_change(-1.5, "万元") == "-1.50万元"
    assert report.fmt_change(0, "户") == "持平" and report.fmt_number(1398.75, "万元") == "1,398.75万元"


# --- exports ------------------------------------------------------------------------------------------------

def _docx_text(data: bytes):
    d = docx.Document(io.BytesIO(data))
    lines = [p.text for p in d.paragraphs]
    lines += [c.text for t in d.tables for row in t.rows for c in row.cells]
    return d, "\n".join(lines)


def test_docx_draft_has_the_reports_structure_and_sentences(h1_rows):
    d, text = _docx_text(report_docx(ReportPage(H1, h1_rows)))
    assert "一、上半年工作总结" in text and "（一）重点工作完成情况" in text and "（二）特色亮点工作" in text
    for heading in report.HEADINGS.values():
        assert heading in text, heading
    for r in h1_rows.itertuples():
        assert r.text in text, r.id
    for sentence in JOINED:
        assert sentence in text
    # targets table: header and the four targets with their progress
    table = d.tables[0]
    assert [c.text for c in table.rows[0].cells][:4] == ["目标", "目标值", "期限", "期末进度"]
    assert len(table.rows) == 1 + len(report.TARGET_IDS)
    assert any(row.cells[1].text == "68个" and row.cells[3].text == "47个" for row in table.rows)
    # Chinese text gets an East Asian font
    fonts = d.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) and fonts.get(qn("w:eastAsiaTheme")) is None


def test_excel_one_row_per_figure_numbers_as_numbers(h1_rows):
    ws = openpyxl.load_workbook(io.BytesIO(report_xlsx(ReportPage(H1, h1_rows)))).active
    table = list(ws.iter_rows(values_only=True))
    assert list(table[0][:7]) == ["编号", "部分", "名称", "数值", "单位", "上期", "变化"]
    assert list(table[0]) == XLSX_COLUMNS
    body = table[1:]
    assert [r[0] for r in body] == list(h1_rows["id"])
    for r in body:
        assert all(isinstance(v, (int, float)) for v in r[3:4] + r[5:7]), r
    by_id = {r[0]: r for r in body}
    assert by_id["F41"][3:5] == (1398.75, "万元") and by_id["F40"][3:5] == (2059, "户")
    assert by_id["F11"][3:5] == (57, "%")
    titled = openpyxl.load_workbook(io.BytesIO(report_xlsx(ReportPage(H1, h1_rows), title="工作总结数据"))).active
    assert titled.cell(1, 1).value == "工作总结数据" and titled.cell(3, 1).value == "编号"


def test_a_percentage_reads_the_same_on_the_pages_and_in_the_report(demo_url, h1_rows):
    """One precision for every percentage: the coverage rate of H1 as the 助餐覆盖 card and the 总览 card show it is
    the string the report's sentence, its Word draft and its targets table write."""
    import re

    from auth_helpers import principal
    from data.security.access import Reader
    from views import meal_coverage, overview

    office = Reader(get_engine(demo_url), principal("office"))
    on_page = next(m.value for m in meal_coverage.build(office, H1, None).kpis if m.label == "社区助餐服务覆盖率")
    assert re.fullmatch(r"\d+\.\d%", on_page), on_page
    assert {c.value for c in overview.build(office, H1, None).cards if c.label == "助餐社区覆盖率"} == {on_page}
    sentence = h1_rows.set_index("id").loc["F11", "text"]
    assert sentence == f"社区服务覆盖率{on_page}"
    d, text = _docx_text(report_docx(ReportPage(H1, h1_rows)))
    assert f"社区服务覆盖率{on_page}" in text
    progress = {row.cells[0].text: row.cells[3].text for row in d.tables[0].rows}
    assert progress["助餐服务覆盖率"] == on_page
