"""设施布局: every facility on the map by kind and status, as on a chosen day; card on click; table below."""
from __future__ import annotations

from datetime import date

import streamlit as st

from components import edit_forms, filters, maps
from components.auth_ui import principal
from components.kpis import Kpi, kpi_row
from components.session import reader
from components.tables import show_table
from components.text import md
from views import facilities as view

f = filters.current()
st.title("设施布局")
st.caption(f"{f.scope} · 按“截至日期”显示当日的设施布局（状态由规划、开工、开业、关停日期推算）"
           " · 点击设施查看详情卡片，点击街道范围选中该街道")

# the "as on" day follows the sidebar period until the user picks another day
if st.session_state.get("fac_on_for") != f.period.key:
    st.session_state["fac_on"] = f.period.end
    st.session_state["fac_on_for"] = f.period.key


@st.fragment
def body() -> None:
    # first screen at 1600×900: the cards in one line, then the map with its filters beside it (not above it)
    cards, (map_col, side) = st.container(), st.columns([4, 1])
    on: date = side.date_input("截至日期", key="fac_on", min_value=date(2000, 1, 1), max_value=date(2099, 12, 31),
                               help="默认是侧边栏统计周期的最后一天；改为今天即可查看当前布局。")
    kinds = side.multiselect("设施类型", list(view.KINDS), default=list(view.KINDS), key="fac_kinds",
                             format_func=view.KINDS.get, placeholder="全部类型")
    statuses = side.multiselect("状态", list(view.STATUSES), default=view.SHOWN_STATUSES, key="fac_statuses",
                                format_func=view.STATUSES.get, placeholder="全部状态")
    frame = maps.DistrictMap("fac", select="fac_sel", locked=f.street, clear_on_new_scope=True, card="fac_card")
    args = (reader(), on, f.street, tuple(kinds or view.KINDS), tuple(statuses or view.STATUSES))
    before = frame.selected
    v = view.build(*args, before, f.scope)
    frame.read_click(v.points)  # a facility opens its card, a subdistrict is selected (again: unselected)
    if frame.selected != before:
        v = view.build(*args, frame.selected, f.scope)
    with cards:
        kpi_row([Kpi(*k) for k in v.kpis])
    if v.selected and not f.street:
        side.info(f"已在地图上选中：{v.names.get(v.selected, v.selected)}（指标和下表只含该街道）。")
        side.button("取消选择", key="fac_clear", on_click=frame.clear)
    with map_col:
        frame.show(v.boundaries, maps.facilities_picture(v.shown, communities=v.communities,
                                                         aggregates=v.counts, last_month_label=v.last_month_label))
    _card(frame, on)
    st.subheader("设施清单")
    if v.aggregate:
        st.caption("设施较多，地图按街道汇总显示；点击地图上的街道或在侧边栏选择街道后可查看每个设施。")
        show_table(v.table, key="fac_counts", file_name=f"设施数量_{on:%Y%m%d}")
    else:
        show_table(v.table, key="fac_table", file_name=f"设施布局_{on:%Y%m%d}")
    _edit(v.scope)


def _card(frame: maps.DistrictMap, on: date) -> None:
    if not frame.card:
        st.caption("点击地图上的设施查看详情卡片；点击街道范围可选中该街道，再次点击取消。")
        return
    card = view.card(reader(), frame.card, on)
    if card is None:
        return
    with st.container(border=True, key="fac_card_box"):
        head, close = st.columns([6, 1])
        head.markdown(f"#### {md(card.name)}")
        close.button("关闭", key="fac_card_close", on_click=frame.close_card)
        cols = st.columns(4)
        for i, (label, shown) in enumerate(card.fields):
            cols[i % 4].text(f"{label}：{shown}")
        if card.meals:
            kpi_row([Kpi(card.meals.label, card.meals.value, help=card.meals.help)], columns=3, key="fac_card_meals")
        elif card.note:
            st.caption(card.note)


def _edit(scope) -> None:
    """修改设施状态 (开工 / 开业 / 关停日期): write roles only, a 街道 account only its own subdistrict's facilities."""
    who = principal()
    with st.expander("修改设施状态（开工、开业、关停日期）", key="fac_edit_open", on_change="rerun") as box:
        if not box.open:  # built only when opened: a closed section costs the page nothing
            return
        if not who.can_write:
            st.caption(f"{who.role_label}账号只能查看设施布局，不能修改设施状态。")
            return
        if scope is None or scope.empty:
            st.caption("设施较多时请先在侧边栏或地图上选择街道，再选择要修改的设施。" if scope is None
                       else "当前筛选下没有设施。")
            return
        r = reader()
        labels = view.edit_choices(r, scope)
        card = st.session_state.get("fac_card")
        if card in labels and st.session_state.get("fac_edit_for_card") != card:  # a clicked facility is preselected
            st.session_state["fac_edit_pick"] = card
            st.session_state["fac_edit_for_card"] = card
        picked = st.session_state.get("fac_edit_pick")
        record = view.editable(r, picked) if picked is not None else None
        if picked is not None and record is None:
            st.session_state["fac_edit_pick"] = None
        elif record is not None and picked not in labels:  # edited out of the filter (e.g. now closed): keep it listed
            labels[picked] = view.out_of_filter_label(record)
        st.session_state.setdefault("fac_edit_pick", None)
        fid = st.selectbox("选择设施（当前地图和清单中的设施）", list(labels), format_func=labels.get,
                           key="fac_edit_pick", placeholder="请选择设施")
        if fid is None:
            return
        if record is None or int(record["id"]) != fid:
            record, refused = view.for_edit(r, fid)
            if refused:
                st.warning(md(refused))
                return
        if record is None:
            st.warning("该设施已不存在。")
            return
        edit_forms.facility_form(record, key="fac_edit",
                                 on_save=lambda i, version, values: view.save_status(r, i, version, values))


body()
