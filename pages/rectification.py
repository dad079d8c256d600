"""整改进度: problems found by every inspection source — headline, per source, weekly burn-down, ageing, the places with
most open or overdue problems and their findings; overdue problems are highlighted wherever they appear."""
from __future__ import annotations

import streamlit as st

from components import charts, edit_forms, filters, finding_charts
from components import finding_tables as tables
from components.auth_ui import principal
from components.kpis import Kpi, kpi_row
from components.styled_tables import pick_table, show_styled_table
from components.text import md
from data.db import cache
from data.writes import edits
from data.queries.access import AccessDenied, call
from data.domain.figures import figure
from data.db.models import INSPECTION_SOURCES, SAFETY_SOURCES
from data.queries import findings as fq
from data.domain.units import fmt_int, pct

PLACES_LISTED = 20
MAX_LIST_ROWS = 2000  # a longer period list is cut (overdue first) so the highlighted table stays responsive

f = filters.current()
p, on = f.period, f.period.end
slug = f"{f.scope}_{p.key.replace('~', '至')}"  # for file names
st.title("整改进度")
st.caption(f"{f.scope} · {p.label}（{p.start:%Y-%m-%d} 至 {on:%Y-%m-%d}） · 问题按发现日期计入统计期；整改状态截至期末"
           f"（{on:%Y年%m月%d日}）：期末之后才整改的问题计为未整改，超过整改期限仍未整改的为逾期（表中标红）。")

chosen = st.multiselect("问题来源", list(INSPECTION_SOURCES), default=list(INSPECTION_SOURCES), key="rect_sources",
                        format_func=INSPECTION_SOURCES.get, placeholder="请选择问题来源")
if not chosen:
    st.info("请至少选择一个问题来源。")
    st.stop()
sources = None if set(chosen) >= set(INSPECTION_SOURCES) else tuple(s for s in INSPECTION_SOURCES if s in chosen)


# --- headline -------------------------------------------------------------------------------------

head = cache.q(fq.findings_headline, p, f.street, sources)
kpi_row([
    Kpi("查出问题（个）", fmt_int(head["found"]), help="所选来源中发现日期在统计期内的问题数"),
    Kpi("已整改（个）", fmt_int(head["rectified"]), help="其中整改完成日期不晚于期末的问题数"),
    Kpi("整改中（个）", fmt_int(head["in_progress"]), help="期末尚未整改、整改期限未过的问题数"),
    Kpi("逾期未整改（个）", fmt_int(head["overdue"]), help="期末尚未整改、整改期限早于期末的问题数"),
    Kpi("整改率", pct(head["rectification_rate"], 1) if head["found"] else "—", help="已整改 ÷ 查出问题"),
    Kpi("移送纪检部门线索（条）", fmt_int(head["referred"]), help="所选来源中移送纪检部门的问题线索数（“三资”监督）"),
])

safety = cache.q(fq.findings_headline, p, f.street, SAFETY_SOURCES)
sanzi = cache.q(fq.findings_headline, p, f.street, ("sanzi",))
st.markdown("**工作报告口径**（安全检查 = 局检查组安全检查 + 养老机构安全生产联合大检查；不受上方来源选择影响）")
kpi_row([
    Kpi("安全检查查出问题（个）", fmt_int(safety["found"]), help=figure("F32").definition),
    Kpi("安全检查已整改（个）", fmt_int(safety["rectified"]), help=figure("F33").definition,
        delta=f"整改率 {pct(safety['rectification_rate'])}" if safety["found"] else None, delta_color="off"),
    Kpi("“三资”查出问题（条）", fmt_int(sanzi["found"]), help=figure("F34").definition),
    Kpi("“三资”已整改（条）", fmt_int(sanzi["rectified"]), help=figure("F35").definition,
        delta=f"整改率 {pct(sanzi['rectification_rate'])}" if sanzi["found"] else None, delta_color="off"),
    Kpi("“三资”移送纪检线索（条）", fmt_int(sanzi["referred"]), help=figure("F36").definition),
])

st.subheader("分来源整改情况")
table, overdue = tables.source_table(cache.q(fq.findings_by_source, p, f.street, sources))
show_styled_table(table, key="rect_sources_tbl", file_name=f"分来源整改情况_{slug}", highlight=overdue,
                  title=f"分来源整改情况（{f.scope}，{p.label}，状态截至 {on:%Y-%m-%d}）")


# --- burn-down and ageing ---------------------------------------------------------------------------

st.subheader("未整改问题走势（按周）")
burn = cache.q(fq.findings_burndown, p, f.street, sources)
charts.show(finding_charts.burndown(burn), key="rect_burn_chart")
st.caption("折线：未整改问题数（不论何时发现），起点为期初，之后为每周末；柱：每周新发现（向上）和已整改（向下）的问题数。")
with st.expander("逐周明细表", key="rect_burn_open", on_change="rerun") as box:
    if box.open:  # built only when opened: a closed section costs the page nothing
        show_styled_table(tables.burndown_table(burn), key="rect_burn", file_name=f"未整改问题逐周走势_{slug}")

st.subheader(f"未整改问题账龄（截至 {on:%Y-%m-%d}）")
age = cache.q(fq.open_findings_ageing, on, f.street, sources)
c_chart, c_table = st.columns([3, 2])
with c_chart:
    charts.show(finding_charts.ageing(age), key="rect_age_chart")
with c_table:
    age_table, age_overdue = tables.ageing_table(age)
    show_styled_table(age_table, key="rect_age", file_name=f"未整改问题账龄_{slug}", highlight=age_overdue)
    st.caption("已挂账天数 = 期末日期 − 发现日期；含统计期之前发现、期末仍未整改的问题。")


# --- places with most open / overdue problems, click-through to their findings -----------------------------

st.subheader("问题较多的点位")
places = cache.q(fq.places_with_open_findings, on, f.street, sources, limit=PLACES_LISTED)
if places.empty:
    st.success(f"截至 {on:%Y-%m-%d}，所选来源没有未整改的问题。")
else:
    keys = [f"{r.subdistrict_code}|{r.place_type}|{r.place_name}" for r in places.itertuples(index=False)]
    labels = {k: f"{r.place_name}（{r.subdistrict_name}，未整改 {r.open} 个，逾期 {r.overdue} 个）"
              for k, r in zip(keys, places.itertuples(index=False))}

    def _pick(i: int) -> None:
        st.session_state["rect_place"] = keys[i]

    place_table, place_overdue = tables.places_table(places, on)
    pick_table(place_table, key="rect_places", file_name=f"问题较多的点位_{slug}", on_pick=_pick,
               highlight=place_overdue, title=f"未整改问题较多的点位（截至 {on:%Y-%m-%d}）")
    st.caption(f"按逾期问题数、未整改问题数排序，列出前 {PLACES_LISTED} 个点位；点击表中一行或在下方选择点位，查看其问题清单。")
    if st.session_state.get("rect_place") not in keys:
        st.session_state["rect_place"] = keys[0]
    place = st.selectbox("查看点位的问题清单", keys, key="rect_place", format_func=labels.get)
    sd, place_type, place_name = place.split("|", 2)
    detail = cache.q(fq.place_findings, on, subdistrict_code=sd, place_type=place_type, place_name=place_name,
                     sources=sources)
    detail_table, detail_overdue = tables.findings_table(detail, on)
    show_styled_table(detail_table, key="rect_place_findings", file_name=f"点位问题清单_{place_name}_{on:%Y%m%d}",
                      highlight=detail_overdue, title=f"{place_name} 问题清单（状态截至 {on:%Y-%m-%d}）")


# --- editing a finding's status (write roles, own subdistrict for 街道) --------------------------------------------

st.subheader("修改整改状态")
who = principal()
if not who.can_write:
    st.caption(f"{who.role_label}账号只能查看整改情况，不能修改整改状态。")
else:
    picks = detail["code"].tolist() if not places.empty else []
    c_pick, c_code = st.columns(2)
    picked = c_pick.selectbox("选择问题（上方所选点位的问题）", picks, key="rect_edit_pick", index=None,
                              placeholder="请选择问题") if picks else None
    typed = c_code.text_input("或输入问题编号", key="rect_edit_code", placeholder="如 AQ20240296").strip()
    code = typed or picked
    finding = None
    if code:
        try:
            finding = call(who, edits.finding_for_edit, cache.engine(), code=code)
        except AccessDenied as exc:
            st.warning(md(exc))
        else:
            if finding is None:
                st.warning(f"找不到问题编号“{md(code)}”。")
    else:
        st.caption("选择或输入问题编号后，可标记为已整改（整改完成日期和说明）或重新打开。")
    if finding is not None:
        edit_forms.finding_form(
            finding, key="rect_edit",
            on_save=lambda fid, version, values: edits.update_finding(cache.engine(), who, fid, version, **values))


# --- lists -------------------------------------------------------------------------------------------

n_open, n_overdue = int(age["open"].sum()), int(age["overdue"].sum())
with st.expander(f"期末未整改问题清单（{n_open:,} 个，其中逾期 {n_overdue:,} 个）", key="rect_open_list",
                 on_change="rerun") as box:
    if box.open:  # the list is read and drawn only while the section is open
        open_now = cache.q(fq.open_findings_on, on, f.street, sources)
        open_table, open_overdue = tables.findings_table(open_now, on)
        show_styled_table(open_table, key="rect_open", file_name=f"期末未整改问题清单_{on:%Y%m%d}",
                          highlight=open_overdue, title=f"未整改问题清单（{f.scope}，截至 {on:%Y-%m-%d}）")

with st.expander(f"期内发现问题清单（{head['found']:,} 个）", key="rect_found_list", on_change="rerun") as box:
    if box.open:  # the list is read and drawn only while the section is open
        listed = cache.q(fq.findings_list, p, f.street, sources)
        if len(listed) > MAX_LIST_ROWS:
            listed = (listed.sort_values(["overdue", "found_on"], ascending=[False, True], kind="stable")
                      .head(MAX_LIST_ROWS))
            st.caption(f"问题较多，仅显示前 {MAX_LIST_ROWS:,} 个（逾期在前）；可缩短统计期或选择街道。")
        list_table, list_overdue = tables.findings_table(listed, on)
        show_styled_table(list_table, key="rect_list", file_name=f"期内发现问题清单_{slug}", highlight=list_overdue,
                          title=f"期内发现问题清单（{f.scope}，{p.label}，状态截至 {on:%Y-%m-%d}）")
