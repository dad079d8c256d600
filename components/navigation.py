"""The app's pages, their sections and which roles see each (app.py builds st.navigation from this)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALL = frozenset({"leader", "office", "street", "display", "admin"})
BUSINESS = frozenset({"leader", "office", "street"})
DISTRICT_VIEWERS = frozenset({"leader", "office", "display", "admin"})
HOME_PATH = "home"  # the hidden default page at "/" (app.py): it forwards to the role's home page


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    url_path: str
    roles: frozenset
    section: str


PAGES = [
    PageSpec("pages/weekly_review.py", "周度研判", "weekly_review", BUSINESS, "综合"),
    PageSpec("pages/roundtable.py", "圆桌会模式", "roundtable", DISTRICT_VIEWERS, "综合"),
    PageSpec("pages/overview.py", "总览", "overview", ALL, "综合"),
    PageSpec("pages/report_figures.py", "工作总结数据", "report_figures", DISTRICT_VIEWERS, "综合"),
    PageSpec("pages/supervision.py", "督办", "supervision", BUSINESS | {"display"}, "综合"),
    PageSpec("pages/stations.py", "站点任务与考核", "stations", BUSINESS | {"display"}, "综合"),
    PageSpec("pages/facilities.py", "设施布局", "facilities", ALL, "专题"),
    PageSpec("pages/meal_coverage.py", "助餐覆盖", "meal_coverage", ALL, "专题"),
    PageSpec("pages/site_selection.py", "选址分析", "site_selection", BUSINESS, "专题"),
    PageSpec("pages/aid.py", "救助发放", "aid", ALL, "专题"),
    PageSpec("pages/rectification.py", "整改进度", "rectification", ALL, "专题"),
    PageSpec("pages/data_import.py", "数据导入", "data_import", frozenset({"office", "street"}), "管理"),
    PageSpec("pages/accounts.py", "账号管理", "accounts", frozenset({"admin"}), "管理"),
    PageSpec("pages/audit_log.py", "审计日志", "audit_log", frozenset({"admin", "leader"}), "管理"),
    PageSpec("pages/map_settings.py", "地图设置", "map_settings", frozenset({"office", "admin"}), "管理"),
]


def pages_for(role: str) -> dict[str, list[PageSpec]]:
    """The sections and pages a role sees, in order (the first page is the role's home page)."""
    out: dict[str, list[PageSpec]] = {}
    for spec in PAGES:
        if role in spec.roles and (ROOT / spec.file).exists():
            out.setdefault(spec.section, []).append(spec)
    return out


def role_for(file: str) -> str:
    """A role that may open the page (the broadest business role first) — for tests and the benchmark."""
    spec = next(s for s in PAGES if s.file == file)
    return next(r for r in ("office", "leader", "admin", "street", "display") if r in spec.roles)


def gate(draw) -> None:
    """Run `draw` as whichever page the URL names, with the navigation hidden, then stop the script: for states in
    which no page can be shown (the database missing, locked or unreachable). Navigation is always built, so
    Streamlit never falls back to listing the pages/ folder."""
    import streamlit as st

    pages = [st.Page(draw, title="民政一张图", url_path=HOME_PATH, default=True)]
    pages += [st.Page(draw, title="民政一张图", url_path=spec.url_path) for spec in PAGES]
    st.navigation(pages, position="hidden").run()
    st.stop()


METRICS_PATH = "/_stcore/metrics"
_metrics_closed = False


def close_metrics_endpoint() -> int:
    """Take Streamlit's /_stcore/metrics route (unauthenticated: sessions, caches, memory) out of this server.

    Streamlit 1.67 has no option to switch it off, and builds its routes before any app code runs, so the first
    run of app.py in the server process removes the route from the running Starlette app's router (found once
    through the garbage collector). Returns how many routes were removed; later calls do nothing."""
    global _metrics_closed
    if _metrics_closed:
        return 0
    _metrics_closed = True
    import gc

    try:
        from starlette.applications import Starlette
        from starlette.routing import Route
    except ImportError:  # no Starlette server in this process (AppTest)
        return 0
    removed = 0
    for obj in gc.get_objects():
        if isinstance(obj, Starlette):
            routes = obj.router.routes
            keep = [r for r in routes if not (isinstance(r, Route) and r.path.rstrip("/").endswith(METRICS_PATH))]
            removed += len(routes) - len(keep)
            routes[:] = keep
    return removed
