"""The 工作总结数据 page through AppTest: the report's figures for ?period=2024-H1, both downloads, a half-year default."""
import pytest

from test_app import run_app, texts

PAGE = "pages/report_figures.py"
# sentences of the 2024 first-half report, as the page writes them
SENTENCES = ["上半年，低保保障2059户2911人", "发放低保金1398.75万元", "目前已建成47家", "社区服务覆盖率57.0%",
             "今年以来，开展主动摸排986人次", "上半年，召开2次康养产业“幸福圆桌会”", "查出问题178个"]


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_h1_link_shows_the_reports_figures(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, PAGE, period="2024-H1")
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    for sentence in SENTENCES:
        assert sentence in shown, sentence
    figures = [m.value for m in at.markdown if m.value.startswith("**F")]
    assert len(figures) == 48 and figures[0].startswith("**F01**") and figures[-1].startswith("**F74**")
    assert "2024年上半年" in at.caption[0].value and "2023年下半年" in at.caption[0].value
    assert {b.label for b in at.download_button} >= {"下载 Word 草稿（数据部分）", "下载 Excel（指标表）"}
    assert len(at.get("page_link")) == 48
    assert "工作总结按半年度统计" not in shown  # the chosen half-year is shown as is


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_opened_without_a_period_shows_a_half_year(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, PAGE)  # the sidebar defaults to the latest month, 2024-12
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="flt_kind").value == "month"
    shown = texts(at)
    assert "全区 · 2024年下半年（2024-07-01 至 2024-12-31）" in shown
    assert "工作总结按半年度统计" in shown and "2024年12月" in shown
    assert "下半年，低保保障" in shown


def test_report_rows_read_each_query_once_with_the_same_figures(demo_engine):
    """Both periods in one pass (data.domain.figures.shared_queries): the targets, the aid totals, the discovery counts and
    the coverage are read once, and every figure equals its own uncached computation."""
    from sqlalchemy import event

    from data.domain import figures
    from data.domain import report
    from data.domain.period import parse

    period = parse("2024-H1")
    statements: list[tuple[str, str]] = []

    def seen(conn, cursor, statement, params, context, executemany):
        statements.append((statement, repr(params)))

    event.listen(demo_engine, "before_cursor_execute", seen)
    try:
        rows = report.report_rows(demo_engine, period)
    finally:
        event.remove(demo_engine, "before_cursor_execute", seen)
    assert len(statements) <= 120  # 168 before, when each figure ran its own queries
    assert len(statements) - len(set(statements)) <= 6  # only repeats inside a query function itself
    by_id = dict(zip(rows["id"], rows["values"]))
    for fig in figures.FIGURES:  # outside shared_queries: every query of its own
        assert by_id[fig.id] == fig.compute(demo_engine, period, None), fig.id
