"""周度研判 and 圆桌会模式 through AppTest: the home page defaults to 2024-W52; the presentation steps and freezes."""
from cards import cards
from pathlib import Path

from auth_helpers import open_section
from test_app import run_app

from data.db.engine import get_engine
from data.domain.period import parse

ROOT = Path(__file__).resolve().parent.parent


def _all_text(at) -> str:
    parts = [m.label + " " + str(m.value) for m in cards(at)]
    for kind in ("markdown", "caption", "title", "subheader", "info", "success", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [df.value.to_string() for df in at.dataframe]
    return "\n".join(parts)


def test_weekly_review_is_home_and_defaults_to_last_complete_week(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url)
    assert not at.exception, [e.value for e in at.exception]
    assert any(t.value == "周度研判" for t in at.title)
    assert not [s for s in at.selectbox if s.key and s.key.startswith("wr_week")]  # the sidebar is the one control
    assert any("2024年第52周" in c.value for c in at.caption)
    labels = {m.label for m in cards(at)}
    assert {"助餐份数（份）", "新发现问题（个）", "完成整改问题（个）", "新开助餐点（个）"} <= labels
    text = _all_text(at)
    assert "南站街道" in text and "逾期未整改问题" in text and "进度滞后" in text
    assert at.selectbox(key="flt_kind").value == "month"  # the shared filter default stays month


def test_the_duban_summary_read_beside_the_review_is_the_weeks(monkeypatch, demo_url):
    """The 督办 section, read in a worker thread while the review is read (components.session.Ahead), shows the
    summary of the same week as the view gives it."""
    from auth_helpers import principal
    from data.security.access import Reader
    from views import supervision as duban

    office = Reader(get_engine(demo_url), principal("office"))
    at = run_app(monkeypatch, demo_url)
    assert not at.exception, [e.value for e in at.exception]
    want = duban.weekly_summary(office, parse("2024-W52"))
    assert any(m.value == want.headline + "。" for m in at.markdown), want.headline
    assert any(list(df.value.columns)[:2] == ["责任单位", "本周派发"] for df in at.dataframe)


def test_a_model_read_ahead_gives_its_value_or_raises_its_error():
    from components.session import Ahead

    assert Ahead(lambda a, b=0: a + b, 2, b=3).result() == 5

    def fails():
        raise ValueError("数据库不可用")

    ahead = Ahead(fails)
    try:
        ahead.result()
    except ValueError as e:
        assert str(e) == "数据库不可用"
    else:
        raise AssertionError("the worker's error was lost")


def test_weekly_review_sends_the_name_list_only_when_its_section_is_opened(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url)
    assert not at.exception, [e.value for e in at.exception]
    # closed: the page carries the counts per subdistrict but no person, not even masked
    assert not any("姓名" in df.value.columns for df in at.dataframe)
    assert not any("本周" in df.value.columns for df in at.dataframe)  # the week-on-week table is closed too
    open_section(at, "wr_below_open")
    names = next(df.value for df in at.dataframe if "姓名" in df.value.columns)
    assert len(names) > 0 and names["姓名"].str.contains(r"\*").all()  # masked by default
    open_section(at, "wr_table_open")
    table = next(df.value for df in at.dataframe if "本周" in df.value.columns)
    assert set(table["指标"]) == {m.label.rsplit("（", 1)[0] for m in cards(at)}  # one row per headline figure
    # the open state survives a rerun, like any widget
    at.run()
    assert any("姓名" in df.value.columns for df in at.dataframe)


def test_weekly_review_honours_a_week_in_the_link(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, period="2024-W23")
    assert not at.exception
    assert any(c.value.split(" · ")[1].startswith("研判周：2024年第23周") for c in at.caption)
    at2 = run_app(monkeypatch, demo_url, period="2024-06")  # a month: the last complete week within it
    assert any("研判周：2024年第26周" in c.value and "2024年6月" in c.value for c in at2.caption)


def test_roundtable_steps_and_shows_frozen_figures(monkeypatch, demo_url):
    from data.writes import frozen as fz

    at = run_app(monkeypatch, demo_url, "pages/roundtable.py", period="2024-Q2")
    assert not at.exception, [e.value for e in at.exception]
    html = "\n".join(str(h.proto.body) for h in at.get("html"))
    assert "1. 设施布局" in html and "实时数" in html
    for n in range(2, 6):
        at.button(key="rt_next").click().run()
        assert not at.exception
    html = "\n".join(str(h.proto.body) for h in at.get("html"))
    assert "5. 圆桌会议题" in html and "年初以来协调解决问题诉求" in html
    assert at.button(key="rt_next").disabled
    at.button(key="rt_prev").click().run()
    assert "4. 整改进度" in "\n".join(str(h.proto.body) for h in at.get("html"))
    # freeze from the staff section (built when opened): needs a name and the confirmation
    engine = get_engine(demo_url)
    try:
        assert "rt_freeze" not in {b.key for b in at.button}
        assert not [e for e in at.expander if "工作人员" in e.label]  # the canvas: no staff section
        at.toggle(key="rt_staff").set_value(True).run()
        open_section(at, "rt_staff_open")
        assert at.button(key="rt_freeze").disabled
        at.text_input(key="rt_frozen_by").input("局办公室")
        at.checkbox(key="rt_confirm").check().run()
        at.button(key="rt_freeze").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert fz.frozen_info(engine, parse("2024-Q2"))["frozen_by"] == "局办公室"
        at.toggle(key="rt_staff").set_value(False).run()
        html = "\n".join(str(h.proto.body) for h in at.get("html"))
        assert "冻结数：数据截至" in html
    finally:
        fz.unfreeze(engine, parse("2024-Q2"))
