"""民政一张图 — entry point: page config, shared sidebar filters, navigation."""
from datetime import date
from pathlib import Path

import streamlit as st

from components import auth_ui, filters
from data import cache
from data.access import ROLES, AccessDenied
from data.engine import DatabaseError
from data.migrate import ensure_current
from data.queries import geography, meta

st.set_page_config(page_title="民政一张图 · 西湖区民政局", layout="wide")


@st.cache_resource(show_spinner=False)
def _schema_checked(url: str) -> bool:
    ensure_current(cache.engine())  # raises a Chinese explanation; failures are not cached
    return True


try:
    from data.engine import database_url

    _schema_checked(database_url())
    who = auth_ui.require_signed_in()  # draws the sign-in form and stops until someone signs in
    span = cache.q(meta.record_date_range)
    streets = cache.q(geography.subdistrict_names)
except DatabaseError as exc:
    st.error(str(exc))
    st.stop()

with st.sidebar:
    st.markdown("## 民政一张图\n西湖区民政局")
if span is None:
    st.sidebar.info("数据库中暂无台账记录。请导入台账，或运行 python -m data init --demo 加载演示数据。")
    span = (date.today(), date.today())

st.session_state["_filters"] = filters.sidebar_filters(span[0], span[1], streets, locked=who.street_locked)
auth_ui.sidebar_card(who, streets)

# (file, title, url path, roles that see it); the first page a role may open is its home page.
ALL, BUSINESS = set(ROLES), {"leader", "office", "street"}
PAGES = {
    "综合": [
        ("pages/weekly_review.py", "周度研判", "weekly_review", BUSINESS),
        ("pages/roundtable.py", "圆桌会模式", "roundtable", {"leader", "office", "display", "admin"}),
        ("pages/overview.py", "总览", "overview", ALL),
        ("pages/report_figures.py", "工作总结数据", "report_figures", {"leader", "office", "display", "admin"}),
    ],
    "专题": [
        ("pages/facilities.py", "设施布局", "facilities", ALL),
        ("pages/meal_coverage.py", "助餐覆盖", "meal_coverage", ALL),
        ("pages/site_selection.py", "选址分析", "site_selection", BUSINESS),
        ("pages/aid.py", "救助发放", "aid", ALL),
        ("pages/rectification.py", "整改进度", "rectification", ALL),
    ],
    "管理": [
        ("pages/data_import.py", "数据导入", "data_import", {"office", "street"}),
        ("pages/accounts.py", "账号管理", "accounts", {"admin"}),
        ("pages/audit_log.py", "审计日志", "audit_log", {"admin", "leader"}),
        ("pages/map_settings.py", "地图设置", "map_settings", {"office", "admin"}),
    ],
}
nav, first = {}, True
for section, pages in PAGES.items():
    allowed = [(f, t, u) for f, t, u, roles in pages if who.role in roles and Path(f).exists()]
    if allowed:
        nav[section] = [st.Page(f, title=t, url_path=u, default=(first and i == 0)) for i, (f, t, u) in enumerate(allowed)]
        first = False
try:
    st.navigation(nav).run()
except AccessDenied as exc:
    st.warning(str(exc))
