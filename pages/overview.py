"""总览: the period's headline figures beside the previous period, and the year's targets with their pace."""
import streamlit as st

from components import filters
from components.kpis import kpi_row
from components.session import reader
from components.tables import show_table
from views import overview

f = filters.current()
st.title("总览")
st.caption(f"{f.scope} · {f.period.label}（{f.period.start} 至 {f.period.end}），与上一期（{f.period.previous().label}）比较；"
           f"运营助餐点、覆盖率和逾期未整改为截至 {f.period.end} 的数")

page = overview.build(reader(), f.period, f.street)
kpi_row(page.cards[:4])
kpi_row(page.cards[4:])

st.subheader("年度目标进度")
if page.targets is None:
    st.info("年度目标为全区指标，街道账号不显示；以上数字均为本街道数据。")
    st.stop()
st.caption(f"截至 {f.period.end}（全区）；进度按从基期到期限匀速推进计算，低于应达进度即为“进度滞后”。")
show_table(page.targets, key="overview_targets", file_name=f"年度目标进度_{f.period.key}", highlight=page.behind,
           title="年度目标进度")
