"""The app shell through AppTest: every page runs, the URL carries the view, bad databases get Chinese messages."""
from cards import cards
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))


def run_app(monkeypatch, url, page=None, **params):
    """Run app.py signed in as a role that may open `page` (业务科室 unless the page is for others)."""
    from auth_helpers import sign_in_apptest
    from components.navigation import role_for
    from data.db.migrate import current_revision, head_revision
    from data.db.engine import get_engine

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    role = role_for(page) if page else "office"
    if role != "office" and current_revision(get_engine(url)) == head_revision():
        sign_in_apptest(at, url, role)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def texts(at) -> str:
    parts = [m.label + " " + str(m.value) for m in cards(at)]
    for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def test_every_page_is_registered_in_app():
    from components.navigation import PAGES as REGISTERED

    assert sorted(s.file for s in REGISTERED if (ROOT / s.file).exists()) == PAGES


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(monkeypatch, demo_url, page):
    at = run_app(monkeypatch, demo_url, page, period="2024-H1")
    assert not at.exception, [e.value for e in at.exception]


def test_default_period_is_latest_complete_month_with_records(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url)
    assert not at.exception
    assert at.query_params["period"] == ["2024-12"] or at.query_params["period"] == "2024-12"
    assert at.selectbox(key="flt_kind").value == "month"


def test_bookmarked_view_is_restored(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, period="2024-Q2", street="360103014")
    assert not at.exception
    assert at.selectbox(key="flt_kind").value == "quarter"
    assert at.selectbox(key="flt_p_quarter").value == "2024-Q2"
    assert at.selectbox(key="flt_street").value == "360103014"
    at2 = run_app(monkeypatch, demo_url, period="2024-W23")
    assert not at2.exception
    assert at2.selectbox(key="flt_kind").value == "week"
    assert at2.selectbox(key="flt_p_week").value == "2024-W23"


def test_changing_the_filter_updates_the_url(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, period="2024-H1")
    at.selectbox(key="flt_street").set_value("360103001").run()
    assert at.selectbox(key="flt_street").value == "360103001"
    assert not at.exception
    qp = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert qp == {"period": "2024-H1", "street": "360103001"}


def test_unknown_street_in_link_falls_back_with_a_warning(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, period="2024-H1", street="999")
    assert not at.exception
    assert any("街道代码" in w.value for w in at.warning)


def test_unreachable_database_shows_chinese_message(monkeypatch):
    at = run_app(monkeypatch, "postgresql://bureau:pw@127.0.0.1:1/none")
    assert not at.exception
    assert any("无法连接数据库" in e.value for e in at.error)


def test_empty_database_asks_to_initialise(monkeypatch, bare_db_url):
    at = run_app(monkeypatch, bare_db_url)
    assert not at.exception
    assert any("python -m data init" in e.value for e in at.error)


def test_overview_shows_the_report_figures_and_honours_the_street(monkeypatch, demo_url):
    at = run_app(monkeypatch, demo_url, "pages/overview.py", period="2024-H1")
    metrics = {m.label: m.value for m in cards(at)}
    assert metrics["运营助餐点"] == "47" and metrics["助餐社区覆盖率"] == "57.0%"
    at.selectbox(key="flt_street").set_value("360103014").run()
    assert not at.exception
    local = {m.label: m.value for m in cards(at)}
    assert 0 < int(local["运营助餐点"]) < 47


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_an_empty_database(monkeypatch, db_url, page):
    """A new deployment before its first import: every page opens with zeros and hints, never a traceback (nor a
    notice that the default period lies outside records there are none of)."""
    at = run_app(monkeypatch, db_url, page)
    assert not at.exception, [e.value for e in at.exception]
    assert not any("台账日期范围" in w.value for w in at.warning)
