"""民政一张图 — entry point: page config, shared sidebar filters, navigation."""
from datetime import date

import streamlit as st

from components import filters
from data import cache
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

st.session_state["_filters"] = filters.sidebar_filters(span[0], span[1], streets)

PAGES = {
    "综合": [
        st.Page("pages/weekly_review.py", title="周度研判", url_path="weekly_review", default=True),
        st.Page("pages/overview.py", title="总览", url_path="overview"),
        st.Page("pages/report_figures.py", title="工作总结数据", url_path="report_figures"),
        st.Page("pages/roundtable.py", title="圆桌会模式", url_path="roundtable"),
    ],
    "专题": [
        st.Page("pages/facilities.py", title="设施布局", url_path="facilities"),
        st.Page("pages/meal_coverage.py", title="助餐覆盖", url_path="meal_coverage"),
        st.Page("pages/site_selection.py", title="选址分析", url_path="site_selection"),
        st.Page("pages/aid.py", title="救助发放", url_path="aid"),
        st.Page("pages/rectification.py", title="整改进度", url_path="rectification"),
        st.Page("pages/map_settings.py", title="地图设置", url_path="map_settings"),
    ],
}
st.navigation(PAGES).run()
