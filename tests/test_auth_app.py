"""Sign-in and roles through the app (AppTest): nothing shows before sign-in, a 街道 account sees its own
subdistrict whatever the URL asks, 展示 never sees a person, expired sessions go back to the sign-in form."""
from __future__ import annotations

from cards import cards

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from auth_helpers import TEST_PASSWORD, ensure_user, open_section, sign_in_apptest
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.db.models.auth import UserSession

ROOT = Path(__file__).resolve().parent.parent
OWN, OTHER = "360103001", "360103014"
ID_RE = re.compile(r"\d{17}[\dX]")


def app(monkeypatch, url, **params) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def all_text(at) -> str:
    parts = [f"{m.label} {m.value}" for m in cards(at)]
    for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    for df in at.dataframe:
        parts.append(df.value.to_string() if hasattr(df.value, "to_string") else str(df.value))
    return "\n".join(parts)


def sign_in_form(at, username, password):
    at.text_input(key="signin_user").input(username)
    at.text_input(key="signin_password").input(password)
    at.button[0].click()  # the form's 登录 button
    return at.run()


@pytest.mark.anonymous
def test_nothing_is_shown_before_sign_in_and_the_view_survives_it(monkeypatch, demo_url):
    user = ensure_user(demo_url, "office")
    at = app(monkeypatch, demo_url, period="2024-Q2", street=OTHER).run()
    assert not at.exception
    assert not cards(at) and not at.dataframe  # no figure before sign-in
    assert "请登录" in all_text(at)
    sign_in_form(at, user, "not-the-password-1")
    assert "用户名或密码错误" in " ".join(e.value for e in at.error)
    assert not cards(at)
    sign_in_form(at, user, TEST_PASSWORD)
    assert not at.exception and cards(at)
    assert at.selectbox(key="flt_p_quarter").value == "2024-Q2"  # the bookmarked view, after signing in
    assert at.selectbox(key="flt_street").value == OTHER
    assert "t_office" in all_text(at)


def _cookie_scripts(at) -> list[str]:
    return [str(h.proto.body) for h in at.get("html") if "document.cookie" in str(h.proto.body)]


@pytest.mark.anonymous
def test_the_session_cookie_is_written_until_the_browser_connects_with_it(monkeypatch, demo_url):
    # Signing in at "/" ends with a hop to the home page, which may drop the run's elements before the browser has
    # run the cookie script: the script is sent again on every run while this tab's connection has no cookie.
    user = ensure_user(demo_url, "office")
    at = app(monkeypatch, demo_url).run()
    assert not _cookie_scripts(at)  # not signed in: nothing to write
    sign_in_form(at, user, TEST_PASSWORD)
    assert cards(at)
    token = at.session_state["_auth_token"]
    for _ in range(2):
        scripts = _cookie_scripts(at)
        assert len(scripts) == 1 and f'"mz_session" + \'=\' + "{token}"' in scripts[0]
        at.run()
    at.button(key="signout").click().run()  # signed out: the cookie is cleared, and not written again
    assert [s for s in _cookie_scripts(at) if "max-age=0" in s] and not [s for s in _cookie_scripts(at) if token in s]
    at.run()
    assert not _cookie_scripts(at)


@pytest.mark.anonymous
def test_a_session_signed_in_elsewhere_writes_no_cookie(monkeypatch, demo_url):
    at = app(monkeypatch, demo_url)
    sign_in_apptest(at, demo_url, "office")  # not through this tab's form (as a resumed cookie would be)
    at.run()
    assert cards(at) and not _cookie_scripts(at)


@pytest.mark.anonymous
def test_an_expired_session_returns_to_the_sign_in_form(monkeypatch, demo_url):
    at = app(monkeypatch, demo_url)
    sign_in_apptest(at, demo_url, "leader")
    at.run()
    assert cards(at)
    with get_engine(demo_url).begin() as conn:  # nobody touched the session for 31 minutes
        conn.execute(update(UserSession).where(UserSession.ended_at.is_(None))
                     .values(last_seen_at=datetime.now() - timedelta(minutes=31)))
    at.run()
    assert not cards(at)
    assert "登录已过期" in all_text(at)


@pytest.mark.anonymous
def test_sign_out_returns_to_the_sign_in_form(monkeypatch, demo_url):
    at = app(monkeypatch, demo_url)
    sign_in_apptest(at, demo_url, "office")
    at.run()
    assert cards(at)
    at.button(key="signout").click().run()
    assert not cards(at) and "请登录" in all_text(at)
    at.run()
    assert not cards(at)


def test_street_account_sees_its_own_subdistrict_whatever_the_url_asks(monkeypatch, demo_url):
    at = app(monkeypatch, demo_url, period="2024-H1", street=OTHER)
    sign_in_apptest(at, demo_url, "street", OWN)
    at.run()
    assert not at.exception
    assert at.selectbox(key="flt_street").value == OWN and at.selectbox(key="flt_street").disabled
    at.switch_page("pages/aid.py").run()
    assert not at.exception
    office = app(monkeypatch, demo_url, period="2024-H1", street=OWN).run()
    office.switch_page("pages/aid.py").run()
    mine = {m.label: m.value for m in cards(at)}
    assert mine == {m.label: m.value for m in cards(office)}  # exactly the office's view of 南浦街道
    text = all_text(at)
    assert "桃花街道" not in text and "朝阳洲街道" not in text
    for district_page in ("pages/roundtable.py", "pages/report_figures.py", "pages/accounts.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(district_page)  # not in a 街道 account's navigation at all


def test_display_account_never_sees_a_person(monkeypatch, demo_url):
    at = app(monkeypatch, demo_url, period="2024-H1")
    sign_in_apptest(at, demo_url, "display")
    at.run()
    assert not at.exception
    for page in ("pages/aid.py", "pages/overview.py", "pages/rectification.py", "pages/facilities.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        assert not ID_RE.search(all_text(at)), page
        assert not any("救助对象名单" in str(e.label) for e in at.expander), page


def test_reveal_needs_a_reason_and_is_audited(monkeypatch, demo_url):
    at = app(monkeypatch, demo_url, period="2024-H1").run()
    at.switch_page("pages/aid.py").run()
    open_section(at, "aid_rec_open")
    table = at.dataframe[-1].value
    assert table["姓名"].str.contains(r"\*").all() and table["身份证号"].str.contains(r"\*{8}").all()
    at.button(key="aid_rec_reveal").click().run()
    assert "理由" in " ".join(e.value for e in at.error)
    before = len(audit_entries(get_engine(demo_url), actions=("reveal_personal",)))
    at.text_input(key="aid_rec_reason").input("核对六月发放名单").run()
    at.button(key="aid_rec_reveal").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert not table["姓名"].str.contains(r"\*").any() and table["身份证号"].str.fullmatch(r"\d{17}[\dX]").all()
    assert len(audit_entries(get_engine(demo_url), actions=("reveal_personal",))) == before + 1
    at.button(key="aid_rec_mask").click().run()
    assert at.dataframe[-1].value["姓名"].str.contains(r"\*").all()


@pytest.mark.anonymous
def test_a_demo_account_is_told_to_change_before_real_use(monkeypatch, demo_url):
    from data.security import auth

    auth.create_demo_accounts(get_engine(demo_url))
    username, *_rest, password = auth.DEMO_ACCOUNTS[1]
    at = app(monkeypatch, demo_url).run()
    sign_in_form(at, username, password)
    assert not at.exception and cards(at)
    assert any("演示账号" in w.value and "停用或修改密码" in w.value for w in at.sidebar.warning)


def test_every_account_changes_its_own_password_from_the_sidebar_and_its_other_sessions_end(monkeypatch, demo_url):
    """Issue 17 item 26: a 业务科室 account (not only the administrator) finds 修改密码 in the sidebar; the change
    keeps this session and signs the account out everywhere else."""
    import uuid

    from data.security import auth

    engine = get_engine(demo_url)
    name = f"pw_{uuid.uuid4().hex[:8]}"
    auth.create_user(engine, name, "Start#pass-2024", "office", by="system")
    elsewhere = auth.sign_in(engine, name, "Start#pass-2024").token  # e.g. a computer in another office
    here = auth.sign_in(engine, name, "Start#pass-2024")
    at = app(monkeypatch, demo_url)
    at.session_state["_auth_token"] = here.token
    at.run()
    assert not at.exception and cards(at)  # a page of the office's, signed in
    at = open_section(at, "own_password_open")
    at.text_input(key="own_password_old").input("Start#pass-2024")
    at.text_input(key="own_password_new").input("Changed#pass-2025")
    at.text_input(key="own_password_again").input("Changed#pass-2025")
    next(b for b in at.button if b.label == "修改密码").click()
    at.run()
    assert not at.exception and any("密码已修改" in s.value and "1 个登录已退出" in s.value for s in at.success)
    assert auth.resume(engine, elsewhere) is None  # the other session is over …
    assert auth.resume(engine, here.token) is not None  # … this one goes on
    at.run()
    assert not at.exception and cards(at) and "请登录" not in all_text(at)
    assert auth.sign_in(engine, name, "Changed#pass-2025").principal.username == name
    with pytest.raises(auth.AuthError):
        auth.sign_in(engine, name, "Start#pass-2024")
