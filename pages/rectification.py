"""整改进度: problems found by every inspection source — headline, per source, weekly burn-down, ageing, the places with
most open or overdue problems and their findings; overdue problems are highlighted wherever they appear."""
from __future__ import annotations

import streamlit as st


from components import charts, edit_forms, filters, finding_charts, locale
from components.kpis import kpi_row
from components.session import reader
from components.styled_tables import pick_table, show_styled_table
from components.text import md
from views import rectification as rect

f = filters.current()
p, on = f.period, f.period.end
st.title("整改进度")
st.caption(f"{f.scope} · {p.label}（{p.start:%Y-%m-%d} 至 {on:%Y-%m-%d}） · 问题按发现日期计入统计期；整改状态截至期末"
           f"（{on:%Y年%m月%d日}）：期末之后才整改的问题计为未整改，超过整改期限仍未整改的为逾期（表中标红）。")

chosen = st.multiselect("问题来源", list(rect.SOURCES), default=list(rect.SOURCES), key="rect_sources",
                        format_func=rect.SOURCES.get, placeholder="请选择问题来源")
if not chosen:
    st.info("请至少选择一个问题来源。")
    st.stop()
read, sources = reader(), rect.chosen_sources(chosen)
page = rect.build(read, p, f.street, f.scope, sources)
slug = page.slug  # for file names

# --- headline -------------------------------------------------------------------------------------
kpi_row(page.cards)
st.markdown("**工作报告口径**（安全检查 = 局检查组安全检查 + 养老机构安全生产联合大检查；不受上方来源选择影响）")
kpi_row(page.report_cards)

st.subheader("分来源整改情况")
table, overdue = page.source_table
show_styled_table(table, key="rect_sources_tbl", file_name=f"分来源整改情况_{slug}", highlight=overdue,
                  title=f"分来源整改情况（{f.scope}，{p.label}，状态截至 {on:%Y-%m-%d}）")

# --- burn-down and ageing ---------------------------------------------------------------------------
st.subheader("未整改问题走势（按周）")
charts.show(finding_charts.burndown(page.burndown), key="rect_burn_chart")
st.caption("折线：未整改问题数（不论何时发现），起点为期初，之后为每周末；柱：每周新发现（向上）和已整改（向下）的问题数。")
with st.expander("逐周明细表", key="rect_burn_open", on_change="rerun") as box:
    if box.open:  # built only when opened: a closed section costs the page nothing
        show_styled_table(page.burndown_table, key="rect_burn", file_name=f"未整改问题逐周走势_{slug}")

st.subheader(f"未整改问题账龄（截至 {on:%Y-%m-%d}）")
c_chart, c_table = st.columns([3, 2])
with c_chart:
    charts.show(finding_charts.ageing(page.ageing), key="rect_age_chart")
with c_table:
    age_table, age_overdue = page.ageing_table
    show_styled_table(age_table, key="rect_age", file_name=f"未整改问题账龄_{slug}", highlight=age_overdue)
    st.caption("已挂账天数 = 期末日期 − 发现日期；含统计期之前发现、期末仍未整改的问题。")

# --- places with most open / overdue problems, click-through to their findings -----------------------------
st.subheader("问题较多的点位")
detail = None
if page.places.empty:
    st.success(f"截至 {on:%Y-%m-%d}，所选来源没有未整改的问题。")
else:
    labels = page.place_labels
    keys = list(labels)
    place_table, place_overdue = page.places_table
    pick_table(place_table, key="rect_places", file_name=f"问题较多的点位_{slug}",
               on_pick=lambda i: st.session_state.update(rect_place=keys[i]),
               highlight=place_overdue, title=f"未整改问题较多的点位（截至 {on:%Y-%m-%d}）")
    st.caption(f"按逾期问题数、未整改问题数排序，列出前 {rect.PLACES_LISTED} 个点位；点击表中一行或在下方选择点位，查看其问题清单。")
    if st.session_state.get("rect_place") not in keys:
        st.session_state["rect_place"] = keys[0]
    place = st.selectbox("查看点位的问题清单", keys, key="rect_place", format_func=labels.get, placeholder=locale.PICK)
    detail, (detail_table, detail_overdue) = rect.place_detail(read, on, place, sources)
    place_name = place.split("|", 2)[2]
    show_styled_table(detail_table, key="rect_place_findings", file_name=f"点位问题清单_{place_name}_{on:%Y%m%d}",
                      highlight=detail_overdue, title=f"{place_name} 问题清单（状态截至 {on:%Y-%m-%d}）")

# --- editing a finding's status (write roles, own subdistrict for 街道) --------------------------------------------
st.subheader("修改整改状态")
who = read.principal
if not who.can_write:
    st.caption(f"{who.role_label}账号只能查看整改情况，不能修改整改状态。")
else:
    picks = detail["code"].tolist() if detail is not None else []
    c_pick, c_code = st.columns(2)
    picked = c_pick.selectbox("选择问题（上方所选点位的问题）", picks, key="rect_edit_pick", index=None,
                              placeholder="请选择问题") if picks else None
    typed = c_code.text_input("或输入问题编号", key="rect_edit_code", placeholder="如 AQ20240296").strip()
    code = typed or picked
    finding = None
    if code:
        try:
            finding = rect.finding_for_edit(read, code)
        except rect.AccessDenied:  # audited; the same words as "none", so a code of another street is not confirmed
            finding = None
        if finding is None:
            st.warning(f"找不到问题编号“{md(code)}”，或本账号无权查看。")
    else:
        st.caption("选择或输入问题编号后，可标记为已整改（整改完成日期和说明）或重新打开。")
    if finding is not None:
        edit_forms.finding_form(finding, key="rect_edit",
                                on_save=lambda fid, version, values: rect.save_finding(read, fid, version, values))

# --- lists -------------------------------------------------------------------------------------------
n_open, n_overdue = page.open_counts
with st.expander(f"期末未整改问题清单（{n_open:,} 个，其中逾期 {n_overdue:,} 个）", key="rect_open_list",
                 on_change="rerun") as box:
    if box.open:  # the list is read and drawn only while the section is open
        open_table, open_overdue = rect.open_list(read, on, f.street, sources)
        show_styled_table(open_table, key="rect_open", file_name=f"期末未整改问题清单_{on:%Y%m%d}",
                          highlight=open_overdue, title=f"未整改问题清单（{f.scope}，截至 {on:%Y-%m-%d}）")

with st.expander(f"期内发现问题清单（{page.headline['found']:,} 个）", key="rect_found_list", on_change="rerun") as box:
    if box.open:  # the list is read and drawn only while the section is open
        list_table, list_overdue, cut = rect.found_list(read, p, f.street, sources)
        if cut:
            st.caption(f"问题较多，仅显示前 {rect.MAX_LIST_ROWS:,} 个（逾期在前）；可缩短统计期或选择街道。")
        show_styled_table(list_table, key="rect_list", file_name=f"期内发现问题清单_{slug}", highlight=list_overdue,
                          title=f"期内发现问题清单（{f.scope}，{p.label}，状态截至 {on:%Y-%m-%d}）")
