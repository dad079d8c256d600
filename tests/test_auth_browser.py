"""Signing in with the real form in Chromium: a wrong password is refused in Chinese and nothing shows;
the right one opens the bookmarked view; a 街道 account is held to its subdistrict; sign-out ends it."""
from __future__ import annotations

from pathlib import Path

import pytest

from auth_helpers import TEST_PASSWORD, ensure_user
from browser import Probe, wait_streamlit_idle

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_sign_in_with_the_form_then_sign_out(app_server, browser, demo_url):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    user = ensure_user(demo_url, "leader")
    probe = Probe(browser, f"{base}/aid?period=2024-H1&street=360103014", credentials=None)
    try:
        probe.goto()
        page = probe.page
        page.get_by_label("用户名", exact=True).wait_for(timeout=30_000)  # the form, not the page behind it
        assert page.locator('[class*="st-key-kpi_"]').count() == 0
        page.get_by_label("用户名", exact=True).fill(user)
        page.get_by_label("密码", exact=True).fill("wrong-password-1")
        page.get_by_role("button", name="登录").click()
        page.get_by_text("用户名或密码错误").wait_for()
        assert page.locator('[class*="st-key-kpi_"]').count() == 0
        probe.sign_in(user, TEST_PASSWORD)
        page.get_by_text("救助发放").first.wait_for()
        text = page.locator("body").inner_text()
        assert "桃花街道" in text and "2024年上半年" in text  # the bookmarked view survived the sign-in
        page.locator('[class*="st-key-kpi_"]').first.wait_for(timeout=30_000)
        page.get_by_role("button", name="退出登录").click()
        page.get_by_label("用户名", exact=True).wait_for()
        wait_streamlit_idle(page)
        assert page.locator('[class*="st-key-kpi_"]').count() == 0
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_street_account_in_the_browser_sees_only_its_subdistrict(app_server, browser, demo_url):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    user = ensure_user(demo_url, "street", "360103001")
    probe = Probe(browser, f"{base}/aid?period=2024-H1&street=360103014", credentials=(user, TEST_PASSWORD))
    try:
        probe.goto()
        text = probe.page.locator("body").inner_text()
        assert "南浦街道" in text and "桃花街道" not in text
        nav = probe.page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        assert "圆桌会模式" not in nav and "账号管理" not in nav and "救助发放" in nav
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_reload_and_new_tab_stay_signed_in_until_sign_out(app_server, browser, demo_url):
    """A reload or a second tab of the same browser does not ask for the password again (session cookie);
    sign-out, or the server ending the session, makes the cookie worthless."""
    from data.security import auth
    from data.db.engine import get_engine

    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    user = ensure_user(demo_url, "office")
    url = f"{base}/aid?period=2024-H1"
    probe = Probe(browser, url, credentials=(user, TEST_PASSWORD))
    try:
        probe.goto()
        page = probe.page
        page.get_by_text("当前用户：").wait_for()
        cookie = next(c for c in probe.context.cookies() if c["name"] == "mz_session")
        assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert cookie["expires"] == -1  # a session cookie: closing the browser forgets it

        page.reload(wait_until="domcontentloaded")
        wait_streamlit_idle(page)
        page.get_by_text("当前用户：").wait_for()  # no password asked
        # the page's figures follow the sidebar (Streamlit can look idle between the two): wait for them
        page.locator('[class*="st-key-kpi_"]').first.wait_for(timeout=30_000)
        assert not probe.sign_in_form_shown()

        tab = probe.context.new_page()
        tab.goto(f"{base}/rectification?period=2024-H1", wait_until="domcontentloaded")
        wait_streamlit_idle(tab)
        tab.get_by_text("当前用户：").wait_for()
        assert tab.get_by_label("用户名", exact=True).count() == 0
        tab.close()

        # The server ends the session (as idle expiry or an administrator would): the cookie signs nobody in.
        auth.sign_out(get_engine(demo_url), cookie["value"])
        page.reload(wait_until="domcontentloaded")
        page.get_by_label("用户名", exact=True).wait_for(timeout=30_000)
        assert page.locator('[class*="st-key-kpi_"]').count() == 0
        page.wait_for_function("() => !document.cookie.includes('mz_session=')")  # the dead cookie is dropped

        # Sign in again, sign out with the button: a reload asks for the password.
        probe.sign_in(user, TEST_PASSWORD)
        page.get_by_text("当前用户：").wait_for()
        page.wait_for_function("() => document.cookie.includes('mz_session=')")
        page.get_by_role("button", name="退出登录").click()
        page.get_by_label("用户名", exact=True).wait_for()
        page.wait_for_function("() => !document.cookie.includes('mz_session=')")
        page.reload(wait_until="domcontentloaded")
        page.get_by_label("用户名", exact=True).wait_for(timeout=30_000)
        assert page.locator('[class*="st-key-kpi_"]').count() == 0
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_an_office_account_changes_its_password_from_the_sidebar(app_server, browser, demo_url):
    """Issue 17 item 26 in the browser: 修改密码 is in the sidebar of a non-administrator; the change keeps this
    browser signed in and ends the account's session elsewhere."""
    import uuid

    from data.security import auth
    from data.db.engine import get_engine

    engine = get_engine(demo_url)
    user = f"pwb_{uuid.uuid4().hex[:8]}"
    auth.create_user(engine, user, "Start#pass-2024", "office", by="system")
    elsewhere = auth.sign_in(engine, user, "Start#pass-2024").token
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    probe = Probe(browser, f"{base}/", credentials=(user, "Start#pass-2024"))
    try:
        probe.goto()
        page = probe.page
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("修改密码", exact=True).first.click()
        sidebar.get_by_label("原密码", exact=True).fill("Start#pass-2024")
        sidebar.get_by_label("新密码（至少 8 位，含字母、数字、符号中的两类）", exact=True).fill("Changed#pass-2025")
        sidebar.get_by_label("再次输入新密码", exact=True).fill("Changed#pass-2025")
        sidebar.get_by_role("button", name="修改密码").click()
        sidebar.get_by_text("密码已修改").wait_for(timeout=30_000)
        assert auth.resume(engine, elsewhere) is None
        page.reload()
        wait_streamlit_idle(page)
        page.get_by_role("button", name="退出登录").wait_for(timeout=30_000)  # still signed in here
        assert not probe.sign_in_form_shown()
        assert auth.sign_in(engine, user, "Changed#pass-2025").principal.username == user
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()
