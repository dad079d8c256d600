"""Issue 17 items 1–5 in Chromium, on a demo whose stored text is hostile: names beginning with = + - @ and a tab,
Markdown links and HTML in notes, names and 冻结人.

* every download button of every page, for each role that sees the page, delivers a non-empty file that opens with
  its library (docx → python-docx, xlsx → openpyxl, pptx → python-pptx), and no workbook holds a formula (item 1, 2);
* the original of an import is not handed to the browser (no /media/ address in anything the server sent) before the
  user asks for it, and asking writes the audit row (item 3);
* user text shows literally: no link to another host, no <b>, no <style> taking effect (items 4, 5).
"""
from __future__ import annotations

import contextlib
import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

import data.db.models as m
from auth_helpers import TEST_PASSWORD, ensure_user, principal
from browser import Probe, wait_streamlit_idle
from components.text import JOINER
from data.db.engine import get_engine
from data.db.models.auth import User

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ROOT = Path(__file__).resolve().parent.parent
OWN = "360103001"  # 南浦街道

TEXT = "[点此查看](http://example.com) <b>x</b> www.example.com"           # Markdown link, HTML, autolink
FROZEN_BY = '<b>张三</b><a href="http://example.com">点此</a><style>.rt-num{display:none}</style>'
CELLS = ["=1+2", "+1+2", "-1+2", "@SUM(1,2)", "\t=1+2", '=HYPERLINK("http://example.com","点此")']
ORIGINAL = "社区老年人口.csv"
SCENARIO = "=1+2 " + TEXT  # a site-selection scenario's name: Excel title and file name, Markdown heading

PAGES = {  # role → pages it opens (each download button on each is clicked)
    "office": ["weekly_review", "overview", "report_figures", "roundtable", "facilities", "meal_coverage",
               "site_selection", "aid", "rectification", "data_import"],
    "street": ["weekly_review", "rectification", "data_import"],
    "leader": ["audit_log", "weekly_review"],
    "admin": ["accounts", "audit_log"],
    "display": ["roundtable"],
}
SITE_SECTIONS = ["需求与缺口", "优化选址", "方案比较", "闲置用房台账"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A SQLite demo of this module's own, with hostile text stored where users type or import it."""
    from data.security import auth
    from data.writes import frozen as fz
    from data.demo import build_demo
    from data.imports import import_file
    from data.db.migrate import upgrade
    from data.domain.period import parse

    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder}/demo.db"
    engine = get_engine(url)
    upgrade(engine)
    build_demo(engine, scale=1)
    users = {role: ensure_user(url, role, OWN if role == "street" else None) for role in PAGES}
    with engine.begin() as conn:
        # facility names beginning with each formula character (facility lists and cards, every 下载 Excel)
        ids = conn.execute(select(m.Facility.id).order_by(m.Facility.id).limit(len(CELLS))).scalars().all()
        for fid, name in zip(ids, CELLS):
            conn.execute(update(m.Facility).where(m.Facility.id == fid).values(name=name))
        # an open finding of 南浦街道: its place is a formula, its description a link and markup
        finding = conn.execute(select(m.Finding.code, m.Finding.place_name).where(
            m.Finding.subdistrict_code == OWN, m.Finding.rectified_on.is_(None)).order_by(m.Finding.id)).first()
        conn.execute(update(m.Finding).where(m.Finding.subdistrict_code == OWN,
                                             m.Finding.place_name == finding.place_name)
                     .values(place_name=CELLS[5], description=TEXT))
        # the office account's display name (shown in the sidebar of every page)
        conn.execute(update(User).where(User.username == users["office"]).values(display_name=TEXT))
    with contextlib.suppress(Exception):  # a failed sign-in under a formula-like name: it is in the audit log
        auth.sign_in(engine, "=1+2", "wrong-password")
    fz.freeze(engine, principal("office"), parse("2024-Q2"), FROZEN_BY)
    _save_scenario(engine)
    with engine.connect() as conn:
        com = conn.execute(select(m.Community.name).where(m.Community.subdistrict_code == OWN)
                           .order_by(m.Community.code)).scalar()
    original = f"街道,社区,60周岁以上人口,80周岁以上人口,独居老人数\n南浦街道,{com},1888,277,31\n".encode()
    import_file(engine, principal("office"), "population", ORIGINAL, original)
    return {"url": url, "users": users, "finding": finding.code, "original": original}


def _save_scenario(engine) -> None:
    """A saved 选址方案 under a hostile name, solved as the page solves it."""
    from data.queries import facilities as fq
    from data.queries import geography, site
    from data.writes.site import save_scenario
    from geo import site_selection as ss

    points = fq.facilities_on(engine, date(2024, 12, 31), None, kinds=("meal_point",))
    params = ss.SiteParams(k=2)
    result = ss.optimise(geography.communities(engine, None), site.vacant_rooms(engine, None),
                         points[points["status"] == "operating"], params)
    save_scenario(engine, principal("office"), SCENARIO, params.to_dict(), result.to_dict())


def _shown(locator) -> str:
    """The text as a reader sees it (the escaper's invisible word joiners removed)."""
    return locator.inner_text().replace(JOINER, "")


def _wait_text(probe, text: str) -> None:
    try:
        probe.page.get_by_text(text).first.wait_for(state="attached", timeout=90_000)
    except Exception as exc:  # noqa: BLE001 - say what the page showed instead
        result = probe.result()
        raise AssertionError(f"{probe.page.url}: no {text!r}\n{result.text[:2000]}\n{result.problems}") from exc


def _settled(page) -> None:
    """Idle, and the main area no longer changing (Streamlit can look idle between a run and the next)."""
    main = page.locator('[data-testid="stMain"]')
    before = None
    for _ in range(20):
        wait_streamlit_idle(page)
        now = (len(main.inner_text()), page.locator('[data-testid="stDownloadButton"]').count())
        if now == before and now[0] > 0:
            return
        before = now
        page.wait_for_timeout(700)


def _open_expanders(page) -> None:
    for _ in range(12):
        closed = page.locator('[data-testid="stMain"] [data-testid="stExpander"] details:not([open]) > summary')
        shown = [closed.nth(i) for i in range(closed.count()) if closed.nth(i).is_visible()]
        if not shown:
            return
        shown[0].click()
        _settled(page)


def _check_file(path: Path) -> str:
    data = path.read_bytes()
    assert len(data) > 0, path.name
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
        assert any(c.value is not None for c in cells), path.name
        formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
        assert not formulas, (path.name, formulas)
        return " ".join(str(c.value) for c in cells if isinstance(c.value, str))
    if path.suffix == ".docx":
        import docx

        doc = docx.Document(io.BytesIO(data))
        assert doc.paragraphs or doc.tables, path.name
        return "\n".join(p.text for p in doc.paragraphs)
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        assert len(PdfReader(io.BytesIO(data)).pages) > 0, path.name
        return ""
    if path.suffix == ".pptx":
        from pptx import Presentation

        deck = Presentation(io.BytesIO(data))
        assert len(deck.slides) > 0, path.name
        return ""
    return data.decode("utf-8", "replace")


def _download_all(page, folder: Path, tag: str) -> list[Path]:
    """Click every download button on the page as it stands; every click must deliver a valid file."""
    got = []
    buttons = page.locator('[data-testid="stDownloadButton"] button')
    for i in range(buttons.count()):
        button = page.locator('[data-testid="stDownloadButton"] button').nth(i)
        button.scroll_into_view_if_needed()
        label = button.inner_text().strip()
        try:
            with page.expect_download(timeout=60_000) as download:
                button.click()
        except Exception as exc:  # noqa: BLE001 - say which button delivered nothing
            raise AssertionError(f"{tag}: 「{label}」 delivered no file") from exc
        path = folder / f"{tag}_{i}_{download.value.suggested_filename}"
        download.value.save_as(path)
        got.append(path)
        wait_streamlit_idle(page)
    return got


def _no_live_markup(page, where: str) -> None:
    """No link to another host, and stored markup did not become elements."""
    links = page.locator('a[href*="example.com"]')
    assert links.count() == 0, (where, [links.nth(i).evaluate("a => a.parentElement.outerHTML")
                                        for i in range(links.count())])
    for sel in ('[data-testid="stMarkdownContainer"] b', '[data-testid="stCaptionContainer"] b'):
        assert not [t for t in page.locator(sel).all_inner_texts() if t.strip() in ("x", "张三")], where


def test_every_download_of_every_page_arrives_valid_and_without_formulas(app_server, browser, hostile, tmp_path):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": hostile["url"]})
    files: list[Path] = []
    for role, pages in PAGES.items():
        probe = Probe(browser, f"{base}/{pages[0]}", credentials=(hostile["users"][role], TEST_PASSWORD))
        try:
            probe.goto(base + "/")
            for name in pages:
                probe.goto(f"{base}/{name}")
                page = probe.page
                _wait_text(probe, "当前用户：")
                sections = SITE_SECTIONS if name == "site_selection" else [None]
                for section in sections:
                    if section:
                        page.get_by_text(section, exact=True).first.click()
                        _settled(page)
                    _settled(page)
                    staff = page.get_by_text("工作人员", exact=True)  # the roundtable's staff panel: freeze roles only
                    if name == "roundtable" and staff.count() and staff.first.is_visible():
                        staff.first.click()
                        _settled(page)
                    _open_expanders(page)
                    files += _download_all(page, tmp_path, f"{role}_{name}_{section or ''}")
                    _no_live_markup(page, f"{role} {name}")
                    if section == "方案比较":  # the scenario's name shows as typed
                        assert SCENARIO in _shown(page.locator('[data-testid="stMain"]')), "scenario name"
                result = probe.result()
                assert not result.exceptions and not result.page_errors, (role, name, result.problems)
        finally:
            probe.close()
    kinds = {p.suffix for p in files}
    assert {".xlsx", ".docx", ".pptx"} <= kinds, sorted(p.name for p in files)
    names = [p.name for p in files]
    assert any("周度研判" in n and n.startswith("office_") for n in names), names
    assert any("周度研判" in n and n.startswith("street_") for n in names), names
    # the display role's canvas carries no staff panel, so nothing to download there
    assert not any(n.startswith("display_") for n in names), names
    assert any(n.startswith("admin_audit_log") for n in names), names
    text = " ".join(_check_file(p) for p in files)
    # the hostile names did reach the workbooks, as text
    assert "=1+2" in text and "@SUM(1,2)" in text and CELLS[5] in text and f"选址短名单：{SCENARIO}" in text


def test_an_import_original_is_served_only_after_an_audited_request(app_server, browser, hostile, tmp_path):
    from data.security.audit import audit_entries

    base = app_server(ROOT / "app.py", env={"DATABASE_URL": hostile["url"]})
    engine = get_engine(hostile["url"])
    frames: list[bytes] = []

    def _on_ws(ws):
        ws.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, bytes)
                                                              else payload.encode()))

    probe = Probe(browser, f"{base}/data_import", credentials=(hostile["users"]["office"], TEST_PASSWORD))
    probe.page.on("websocket", _on_ws)
    try:
        probe.goto(base + "/")
        probe.goto()
        page = probe.page
        _wait_text(probe, "导入记录")
        page.get_by_label("下载导入时的原始文件").wait_for()
        wait_streamlit_idle(page)
        before = len(audit_entries(engine, actions=("export_personal",)))
        # the page offers no file yet, and nothing the server sent names a stored file
        assert page.get_by_role("button", name=re.compile("^下载原始文件")).count() == 0
        assert frames and not [f for f in frames if b"/media/" in f]
        page.get_by_role("button", name=re.compile("^准备下载原始文件")).click()
        wait_streamlit_idle(page)
        taken = audit_entries(engine, actions=("export_personal",))
        assert len(taken) == before + 1 and ORIGINAL in taken.iloc[0]["target"]
        assert not [f for f in frames if b"/media/" in f]  # still nothing until the file is clicked for
        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile("^下载原始文件")).click()
        assert Path(download.value.path()).read_bytes() == hostile["original"]
        assert download.value.suggested_filename == ORIGINAL
    finally:
        probe.close()


def test_stored_text_shows_literally(app_server, browser, hostile):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": hostile["url"]})
    # the finding's edit form (place, description) and the sidebar (display name) of the office account
    probe = Probe(browser, f"{base}/rectification", credentials=(hostile["users"]["office"], TEST_PASSWORD))
    try:
        probe.goto(base + "/")
        probe.goto()
        page = probe.page
        page.get_by_label("或输入问题编号").fill(hostile["finding"])
        page.get_by_label("或输入问题编号").press("Enter")
        wait_streamlit_idle(page)
        page.get_by_text("问题描述：").first.wait_for()
        body = _shown(page.locator("body"))
        assert f"问题描述：{TEXT}" in body, body[-2000:]
        assert CELLS[5] in body
        assert f"当前用户：{TEXT}" in body
        _no_live_markup(page, "rectification")
    finally:
        probe.close()
    # the projected roundtable: 冻结人 in the header (st.html); the staff section is not on the display role's canvas
    probe = Probe(browser, f"{base}/roundtable?period=2024-Q2", viewport={"width": 1920, "height": 1080},
                  credentials=(hostile["users"]["display"], TEST_PASSWORD))
    try:
        probe.goto(base + "/")
        probe.goto()
        page = probe.page
        page.locator(".rt-sub").first.wait_for()
        wait_streamlit_idle(page)
        sub = page.locator(".rt-sub").first
        assert f"{FROZEN_BY} 冻结" in _shown(sub)
        assert sub.locator("b, a, style").count() == 0
        assert page.locator(".rt-num").first.is_visible()  # the payload's style did not hide the numbers
        assert page.get_by_text("工作人员", exact=True).count() == 0
        _no_live_markup(page, "roundtable")
    finally:
        probe.close()
