"""总览: the period's headline figures beside the previous period, and the year's targets with their pace."""
import pandas as pd
import streamlit as st

from components import filters
from components.auth_ui import principal
from components.kpis import Kpi, kpi_row
from components.tables import show_table
from data.db.cache import q
from data.queries import overview
from data.domain.targets import pace
from data.domain.units import fmt_delta, fmt_wan, pct

f = filters.current()
st.title("总览")
st.caption(f"{f.scope} · {f.period.label}（{f.period.start} 至 {f.period.end}），与上一期（{f.period.previous().label}）比较")


def show_value(key: str, value) -> str:
    if key == "aid_fen":
        return fmt_wan(value)
    if key == "meal_coverage":
        return pct(value)
    return f"{int(value):,}"


def show_delta(key: str, now, before) -> str:
    if key == "aid_fen":
        return fmt_delta(round(now / 1e6, 2), round(before / 1e6, 2), "万元")
    if key == "meal_coverage":
        return fmt_delta(round(now * 100, 1), round(before * 100, 1), "个百分点")
    return fmt_delta(int(now), int(before))


rows = q(overview.headline, f.period, f.street)
kpis = [Kpi(r.label, show_value(r.key, r.value), show_delta(r.key, r.value, r.previous), r.definition,
            "inverse" if r.rise_is_bad else "normal") for r in rows.itertuples()]
kpi_row(kpis[:4])
kpi_row(kpis[4:])

st.subheader("年度目标进度")
if principal().street_locked:
    st.info("年度目标为全区指标，街道账号不显示；以上数字均为本街道数据。")
    st.stop()
st.caption(f"截至 {f.period.end}（全区）；进度按从基期到期限匀速推进计算，低于应达进度即为“进度滞后”。")
targets = q(overview.targets_progress, f.period.end)
table = []
for t in targets.itertuples():
    p = pace(t, t.current, t.baseline_value, f.period.end)
    table.append({"目标": t.name, "目标值": t.value, "单位": t.unit, "期限": pd.Timestamp(t.deadline).date().isoformat(),
                  "当前值": round(t.current, 1), "差距": round(max(p.gap, 0), 1), "应达进度": round(p.expected, 1),
                  "状态": p.status})
table = pd.DataFrame(table)
show_table(table, key="overview_targets", file_name=f"年度目标进度_{f.period.key}",
           highlight=table["状态"].eq("进度滞后") if len(table) else None, title="年度目标进度")
