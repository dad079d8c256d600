"""The load test's protocol clients (bench/wsclient.py, bench/load.py) against real Streamlit servers: they sign in
and cycle through the app's pages without errors, and a page that fails IS counted as an error."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from auth_helpers import TEST_PASSWORD, ensure_user
from bench import load
from bench.wsclient import SessionError, StreamlitSession

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("browser")  # starts servers: on the browser tests' worker

# A throwaway app shaped like app.py: the same sign-in form, a "当前用户：" caption, st.navigation with a page that
# works, one that raises and one that shows st.error.
FAILING_APP = textwrap.dedent('''
    import streamlit as st

    if not st.session_state.get("who"):
        st.markdown("## 请登录")
        with st.form("signin"):
            user = st.text_input("用户名")
            password = st.text_input("密码", type="password")
            submitted = st.form_submit_button("登录", type="primary")
        if submitted:
            if (user, password) == ("u", "pw-1"):
                st.session_state.who = user
                st.rerun()
            st.error("用户名或密码错误")
        st.stop()

    st.sidebar.caption("当前用户：u")
    st.sidebar.selectbox("统计周期", ["月度", "季度"], key="kind")

    def fine():
        st.write("fine, kind =", st.session_state.kind)

    def boom():
        raise RuntimeError("boom on purpose")

    def broken():
        st.error("数据库连接失败")

    st.navigation([st.Page(fine, title="fine", url_path="fine", default=True),
                   st.Page(boom, title="boom", url_path="boom"),
                   st.Page(broken, title="broken", url_path="broken")]).run()
''')


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_protocol_sessions_sign_in_and_cycle_through_the_pages(app_server, demo_url):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    user = ensure_user(demo_url, "office")
    # warm_up: on a fresh server a sign-in form drawn before anyone signed in can lose its first submit (legacy
    # pages-directory mode until the first st.navigation, see bench/load.py); that race is not what this checks
    res = load.drive(base, username=user, password=TEST_PASSWORD, sessions=2, seconds=4, min_pages=3, warm_up=True)
    assert res["errors"] == 0, res["error_samples"]
    assert res["signed_in"] == 2 and res["sign_in_s"]["n"] == 2
    assert [s["pages"] >= 3 for s in res["per_session"]] == [True, True], res["per_session"]
    assert res["page_s"]["n"] == res["visits"] >= 6
    # both sessions started at different pages of the office's navigation
    assert {"weekly_review", "roundtable", "overview", "aid"} <= set(res["pages"]) and "accounts" not in res["pages"]
    first = [s["first_page"] for s in res["per_session"]]
    assert first[0] != first[1], first  # each session starts at a different page
    assert "(all pages)" in load.table(res)


def test_a_failing_page_is_counted_as_an_error(app_server, tmp_path):
    script = tmp_path / "failing_app.py"
    script.write_text(FAILING_APP, encoding="utf-8")
    base = app_server(script)

    async def direct():
        async with StreamlitSession(base) as s:
            with pytest.raises(SessionError, match="refused"):
                await s.sign_in("u", "wrong")
        async with StreamlitSession(base) as s:
            signed = await s.sign_in("u", "pw-1")
            assert signed.ok and any("当前用户：u" in t for t in signed.texts())
            assert {p.url_pathname for p in s.pages} == {"", "boom", "broken"}  # the default page's path is ""
            ok = await s.switch_page("boom")
            assert not ok.ok and ok.status == "finished"
            # the server redacts the exception's text (client.showErrorDetails = "none"); it is still an error
            assert any(p.startswith("exception") for p in ok.problems), ok.problems
            assert not any("boom on purpose" in p for p in ok.problems), ok.problems
            bad = await s.switch_page("broken")
            assert bad.problems == ["error box: 数据库连接失败"]
            fine = await s.switch_page(s.pages[0].page_script_hash)
            assert fine.ok, fine.problems
            # a page change carries the main script's widget states (the sidebar selectbox), as a browser does
            assert [w.string_value for w in s.widget_states(main_script_only=True)] == ["月度"]

    load.run_async(direct())

    res = load.drive(base, username="u", password="pw-1", sessions=2, seconds=2, min_pages=3)
    assert res["signed_in"] == 2
    by_page = res["errors_by_page"]
    assert set(by_page) == {"boom", "broken"}, by_page
    assert by_page["boom"]["sample"].startswith("exception") and "数据库连接失败" in by_page["broken"]["sample"]
    assert res["errors"] == res["pages"]["boom"]["errors"] + res["pages"]["broken"]["errors"] >= 2
    assert res["pages"]["fine"]["errors"] == 0 and res["pages"]["fine"]["n"] >= 2

    failed = load.drive(base, username="u", password="wrong", sessions=1, seconds=1)
    assert failed["signed_in"] == 0 and failed["errors"] == 1
    assert "(sign-in)" in failed["errors_by_page"]
