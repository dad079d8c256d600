"""Sign-in screen, the signed-in user's sidebar card, and access to the current Principal from pages.

The session token lives in Streamlit's server-side session state and, so that a reload or a second tab of the
same browser stays signed in, in a session cookie of this site (``mz_session``: path /, SameSite=Strict, Secure over
HTTPS, gone when the browser closes). The cookie is only a handle: the server keeps the SHA-256 of the token and ends
it after 30 min idle or 10 h, at sign-out, or when the account is disabled — a cookie of an ended session signs
nobody in. It is written by a script in the page (Streamlit cannot send Set-Cookie headers), so it is not HttpOnly;
a deployment that wants none sets MZ_SESSION_COOKIE=0 and every reload asks for the password again.
The URL's view parameters survive the sign-in.
"""
from __future__ import annotations

import json
import os

import streamlit as st

from components.navigation import HOME_PATH
from components.text import md
from data.db.cache import engine as _engine  # the process-wide engine for DATABASE_URL
from data.security.access import ROLES, AccessDenied, Principal
from data.security import auth

TOKEN_KEY = "_auth_token"
PRINCIPAL_KEY = "_principal"
COOKIE = "mz_session"
_COOKIE_OP = "_auth_cookie_op"  # ("set", token) or ("clear",): written by the next run's page script
_COOKIE_WANTED = "_auth_cookie_wanted"  # the token this tab signed in with through the form


def cookie_enabled() -> bool:
    return os.environ.get("MZ_SESSION_COOKIE", "1").strip().lower() not in ("0", "false", "no", "off")


def _cookie_token() -> str | None:
    """The token of this browser's session cookie, as sent when the page connected (None when off or absent)."""
    if not cookie_enabled():
        return None
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser behind this session (bare mode, AppTest)
        return None
    return value if isinstance(value, str) and value else None  # AppTest's context is not a browser's


def _write_pending_cookie() -> None:
    """Set or clear the session cookie in the browser: a script with no visible output."""
    op = st.session_state.pop(_COOKIE_OP, None)
    if op is None or not cookie_enabled():
        return
    if op[0] == "set":
        value, age = op[1], ""  # a session cookie: gone when the browser closes (the server ends it sooner)
    else:
        value, age = "", "; max-age=0"
    # json.dumps quotes the token (URL-safe characters only) as a JS string literal.
    st.sidebar.html(f"<script>document.cookie = {json.dumps(COOKIE)} + '=' + {json.dumps(value)} + "
                    f"'; path=/{age}; samesite=strict' + (location.protocol === 'https:' ? '; secure' : '');</script>",
                    unsafe_allow_javascript=True)


def principal() -> Principal:
    """The signed-in user (app.py stops the script before any page runs without one)."""
    p = st.session_state.get(PRINCIPAL_KEY)
    if p is None:
        raise AccessDenied("请先登录。")
    return p


def set_principal(p: Principal) -> None:
    """Replace the session's principal (e.g. after a reveal of personal data is granted)."""
    st.session_state[PRINCIPAL_KEY] = p


def require_signed_in(url_paths: list[str]) -> Principal:
    """Resume this browser session's sign-in (from the session state, or the browser's session cookie after a
    reload or in a new tab), or show the sign-in form and stop the script.

    The form is drawn as the page the URL asks for (every one of `url_paths` stands in for it, hidden from the
    navigation), so a bookmarked path survives the sign-in and every run of the app goes through st.navigation:
    Streamlit never runs a session in its legacy pages-directory mode, whose widget ids differ — a form opened in
    that mode on a freshly started server would lose its first submit."""
    engine = _engine()
    signed = auth.resume(engine, st.session_state.get(TOKEN_KEY))
    if signed is None and not st.session_state.get(TOKEN_KEY) and (cookie := _cookie_token()):
        signed = auth.resume(engine, cookie)
        if signed is not None:
            st.session_state[TOKEN_KEY] = signed.token
    if signed is not None:
        wanted = st.session_state.get(_COOKIE_WANTED)
        if wanted == signed.token and _cookie_token() != wanted and _COOKIE_OP not in st.session_state:
            # Signed in through the form in this tab, and the tab connected without the cookie: write it on every
            # run until a connection carries it. Once is not enough: the run after signing in at "/" ends by
            # switching to the home page, and Streamlit can drop that run's elements before the browser has run
            # the cookie script (a reload then asked for the password again).
            st.session_state[_COOKIE_OP] = ("set", wanted)
        _write_pending_cookie()
        current = st.session_state.get(PRINCIPAL_KEY)
        keep_reveal = current is not None and current.username == signed.principal.username and current.reveal
        p = signed.principal if not keep_reveal else Principal(**{**signed.principal.__dict__, "reveal": True})
        st.session_state[PRINCIPAL_KEY] = p
        if signed.must_change_password:
            _gate(url_paths, lambda: _change_password_form(p, forced=True))
        return p
    if st.session_state.get(TOKEN_KEY):
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state.pop(PRINCIPAL_KEY, None)
        st.session_state["_auth_notice"] = "登录已过期，请重新登录。"
    if _cookie_token() and not st.session_state.get("_auth_cookie_dropped"):
        st.session_state[_COOKIE_OP] = ("clear",)  # an ended session's cookie: drop it (once per page load)
        st.session_state["_auth_cookie_dropped"] = True
    _write_pending_cookie()
    _gate(url_paths, lambda: _sign_in_form(engine))


def _gate(url_paths: list[str], draw) -> None:
    """Run `draw` as whichever page the URL names (no navigation shown), then stop the script."""
    pages = [st.Page(draw, title="民政一张图", url_path=HOME_PATH, default=True)]  # "/": as in app.py
    pages += [st.Page(draw, title="民政一张图", url_path=path) for path in url_paths]
    st.navigation(pages, position="hidden").run()
    st.stop()


def _sign_in_form(engine) -> None:
    st.markdown("## 民政一张图\n西湖区民政局 · 请登录")
    if notice := st.session_state.pop("_auth_notice", None):
        st.info(notice)
    if auth.user_count(engine) == 0:
        st.warning("数据库中还没有账号。请在服务器上运行：python -m data create-admin --username 管理员用户名，"
                   "或运行 python -m data init --demo 加载演示数据和演示账号。")
    with st.form("signin", clear_on_submit=False):
        username = st.text_input("用户名", key="signin_user")
        password = st.text_input("密码", type="password", key="signin_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        try:
            signed = auth.sign_in(engine, username, password)
        except auth.AuthError as exc:
            st.error(str(exc))
            return
        st.session_state[TOKEN_KEY] = signed.token
        st.session_state[PRINCIPAL_KEY] = signed.principal
        st.session_state[_COOKIE_WANTED] = signed.token
        st.session_state.pop("signin_password", None)
        st.rerun()


def _change_password_form(p: Principal, forced: bool = False, key: str = "change_password") -> None:
    """The account's own password change. The session it is made from stays signed in; every other session of the
    account (another browser, a forgotten computer) ends."""
    if forced:
        st.warning("首次登录或密码已被管理员重置，请先修改密码。")
    with st.form(key, clear_on_submit=True):
        old = st.text_input("原密码", type="password", key=f"{key}_old")
        new = st.text_input("新密码（至少 8 位，含字母、数字、符号中的两类）", type="password", key=f"{key}_new")
        again = st.text_input("再次输入新密码", type="password", key=f"{key}_again")
        ok = st.form_submit_button("修改密码")
    if ok:
        if new != again:
            st.error("两次输入的新密码不一致。")
            return
        try:
            ended = auth.change_password(_engine(), p.username, old, new, keep_token=st.session_state.get(TOKEN_KEY))
        except auth.AuthError as exc:
            st.error(str(exc))
            return
        st.success("密码已修改。" + (f"该账号在其他地方的 {ended} 个登录已退出。" if ended else ""))
        if forced:
            st.rerun()


def sidebar_card(p: Principal, street_names: dict[str, str]) -> None:
    """Who is signed in, as what, the change of one's own password, and the sign-out button."""
    scope = f" · {street_names.get(p.subdistrict_code, p.subdistrict_code)}" if p.subdistrict_code else ""
    st.sidebar.caption(f"当前用户：{md(p.display_name or p.username)}（{ROLES[p.role]}{md(scope)}）")
    if p.reveal:
        st.sidebar.warning("本次会话已显示完整个人信息（已留痕）。")
    # every account changes its own password here (built only when opened: a closed section costs the page nothing)
    with st.sidebar.expander("修改密码", key="own_password_open", on_change="rerun") as box:
        if box.open:
            _change_password_form(p, key="own_password")
    if st.sidebar.button("退出登录", key="signout"):
        auth.sign_out(_engine(), st.session_state.get(TOKEN_KEY))
        for key in (TOKEN_KEY, PRINCIPAL_KEY, _COOKIE_WANTED):
            st.session_state.pop(key, None)
        st.session_state[_COOKIE_OP] = ("clear",)
        st.rerun()


def change_password_section(p: Principal) -> None:
    with st.expander("修改我的密码"):
        _change_password_form(p)
