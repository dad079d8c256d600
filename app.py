"""民政一张图 — entry point: page config, shared sidebar filters, navigation."""
from datetime import date

import streamlit as st

from components import auth_ui, filters, first_screen, floor, locale, map_component, navigation, session, warmup  # noqa: F401

st.set_page_config(page_title="民政一张图 · 西湖区民政局", layout="wide")
warmup.start()  # once per process: the pages' libraries and geography files, in the background (components/warmup.py)
locale.chinese_widgets()  # the uploader's English words in Chinese, on every page
floor.serve_if_requested()  # the benchmark's empty page, only when its server is started for the benchmark
navigation.close_metrics_endpoint()  # Streamlit's unauthenticated /_stcore/metrics: not served by this app

try:
    session.check_schema()  # once per server process and database
    # draws the sign-in form (as the page the URL names) and stops until someone signs in
    who = auth_ui.require_signed_in([spec.url_path for spec in navigation.PAGES])
    span, streets = session.shared_filter_data()
except session.DATABASE_ERRORS as exc:  # missing, unreadable, locked or unreachable: say so, in Chinese
    message = session.explain(exc)
    navigation.gate(lambda: st.error(message))

with st.sidebar:
    st.markdown("## 民政一张图\n西湖区民政局")
if span is None:
    st.sidebar.info("数据库中暂无台账记录。请导入台账，或运行 python -m data init --demo 加载演示数据。")
    span = (date.today(), date.today())

st.session_state["_filters"] = filters.sidebar_filters(span[0], span[1], streets, locked=who.street_locked)
auth_ui.sidebar_card(who, streets)
if session.is_demo_account(who):
    st.sidebar.warning("正在使用演示账号（密码已公开在 README 中），仅供演示；正式部署前请由管理员停用或修改密码。")

nav = {section: [st.Page(spec.file, title=spec.title, url_path=spec.url_path) for spec in specs]
       for section, specs in navigation.pages_for(who.role).items()}
first_page = next(iter(nav.values()))[0]


def _home() -> None:
    """The bare address opens the role's home page under its own path, with the view parameters kept."""
    st.switch_page(first_page, query_params=st.query_params.to_dict())


# Streamlit serves its default page only at "/" (a bookmark of the default page's own path would be "not found"):
# the default is a hidden hop to the role's home page, so every real page keeps a path that works in a bookmark.
next(iter(nav.values())).insert(0, st.Page(_home, title="首页", url_path=navigation.HOME_PATH, default=True,
                                           visibility="hidden"))
try:
    page = st.navigation(nav, expanded=True)  # every page listed: more than twelve no longer hide behind "View more"
    first_screen.page_started(page.url_path)  # its first run pauses after the headline (components/first_screen.py)
    page.run()
except session.AccessDenied as exc:
    st.warning(str(exc))
except session.DATABASE_ERRORS as exc:  # a page's read failed: a Chinese message, never a traceback
    st.error(session.explain(exc))
finally:  # also after st.stop / st.rerun / st.switch_page in a page
    session.end_of_run()  # the libraries this run imported: frozen out of every later full garbage collection
