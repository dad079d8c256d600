"""设施布局: every facility on the map by kind and status, as on a chosen day; card on click; table below."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from shapely.geometry import mapping

from components import edit_forms, filters, maps
from components.auth_ui import principal
from components.kpis import Kpi, kpi_row
from components.tables import show_table
from components.text import md
from data.db import cache
from data.writes import edits
from data.domain import period as periods
from data.queries.access import AccessDenied, call
from data.db.models import FACILITY_KINDS, FACILITY_STATUSES
from data.queries import facilities as fq
from data.queries import geography
from data.queries import maps as mq
from data.ops.settings import map_settings
from geo import layers

SHOWN_STATUSES = ["operating", "building", "planned"]

f = filters.current()
st.title("设施布局")
st.caption(f"{f.scope} · 按“截至日期”显示当日的设施布局（状态由规划、开工、开业、关停日期推算）"
           " · 点击设施查看详情卡片，点击街道范围选中该街道")

# the "as on" day follows the sidebar period until the user picks another day
if st.session_state.get("fac_on_for") != f.period.key:
    st.session_state["fac_on"] = f.period.end
    st.session_state["fac_on_for"] = f.period.key
if st.session_state.get("fac_sel_for") != f.street:  # a new sidebar subdistrict clears the map selection
    st.session_state["fac_sel"] = None
    st.session_state["fac_card"] = None
    st.session_state["fac_sel_for"] = f.street


def _remember_click() -> None:
    st.session_state["fac_click"] = st.session_state.get("fac_map")


def _set(key: str, value) -> None:
    st.session_state[key] = value


@st.fragment
def body() -> None:
    settings = cache.q(map_settings)
    basemap = maps.Basemap(settings.basemap, settings.tianditu_key)
    c1, c2, c3 = st.columns([1, 2, 2])
    on: date = c1.date_input("截至日期", key="fac_on", min_value=date(2000, 1, 1), max_value=date(2099, 12, 31),
                             help="默认是侧边栏统计周期的最后一天；改为今天即可查看当前布局。")
    kinds = c2.multiselect("设施类型", list(FACILITY_KINDS), default=list(FACILITY_KINDS), key="fac_kinds",
                           format_func=FACILITY_KINDS.get, placeholder="全部类型")
    statuses = c3.multiselect("状态", list(FACILITY_STATUSES), default=SHOWN_STATUSES, key="fac_statuses",
                              format_func=FACILITY_STATUSES.get, placeholder="全部状态")
    kinds = tuple(kinds or FACILITY_KINDS)
    statuses = tuple(statuses or FACILITY_STATUSES)

    names = cache.q(geography.subdistrict_names)
    size = cache.q(mq.counts)
    big = size["facilities"] > maps.AGGREGATE_FACILITIES_ABOVE  # province scale: one subdistrict's points at a time

    def load(sel: str | None):
        street = f.street or (sel if big else None)
        if big and street is None:
            counts = cache.q(mq.facility_counts_by_subdistrict, on, None, kinds=kinds, statuses=statuses)
            return True, counts, pd.DataFrame(columns=["id", "name", "kind", "status", "subdistrict_code", "lon", "lat"])
        all_fac = cache.q(fq.facilities_on, on, street, kinds=kinds)
        return False, None, all_fac[all_fac["status"].isin(statuses)].reset_index(drop=True)

    before = st.session_state.get("fac_sel")
    aggregate, counts, in_view = load(before)
    _read_click(in_view, names, basemap)
    selected = f.street or st.session_state.get("fac_sel")
    if big and selected != (f.street or before):
        aggregate, counts, in_view = load(selected)
    scope = in_view if not selected or aggregate else in_view[in_view["subdistrict_code"] == selected]
    _kpis(scope if not aggregate else None, counts if aggregate else None, selected, names)

    if selected and not f.street:
        c_sel, c_btn = st.columns([5, 1])
        c_sel.info(f"已在地图上选中：{names.get(selected, selected)}（指标和下表只含该街道）。")
        c_btn.button("取消选择", key="fac_clear", on_click=_set, args=("fac_sel", None))

    communities = cache.q(geography.communities, selected) if (selected or size["communities"] <= maps.MAX_COMMUNITY_POINTS) \
        else None
    last_first, _ = mq.last_complete_month(on)
    shown = in_view
    if not aggregate and len(in_view) and (in_view["kind"] == "meal_point").any():
        meals = cache.q(fq.meals_by_point, periods.month(last_first.year, last_first.month),
                        f.street or (selected if big else None))
        shown = in_view.merge(meals.assign(meals_last_month=meals["dine_in"] + meals["delivered"])[
            ["id", "meals_last_month"]], on="id", how="left")
    # too many subdistricts to outline and one chosen: its outline only (the rule of 救助发放 and 助餐覆盖)
    boundaries = cache.q(geography.subdistrict_boundaries,
                         selected if selected and len(names) > maps.MAX_MAP_SUBDISTRICTS else None)
    m = maps.facilities_map(
        shown, boundaries, outline=mapping(layers.district_outline()), communities=communities,
        aggregates=counts if aggregate else None, basemap=basemap, selected=selected,
        last_month_label=f"{last_first.year}年{last_first.month}月")
    maps.show_map(m, key="fac_map", returned_objects=["last_object_clicked", "last_object_clicked_tooltip"],
                  on_change=_remember_click)
    _card(on)

    st.subheader("设施清单")
    if aggregate:
        st.caption("设施较多，地图按街道汇总显示；点击地图上的街道或在侧边栏选择街道后可查看每个设施。")
        show_table(_count_table(counts), key="fac_counts", file_name=f"设施数量_{on:%Y%m%d}")
    else:
        show_table(_facility_table(scope), key="fac_table", file_name=f"设施布局_{on:%Y%m%d}")
    _edit(None if aggregate else scope)


def _edit(scope: pd.DataFrame | None) -> None:
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
        own = scope[[who.may_write_street(c) for c in scope["subdistrict_code"]]]
        labels = {int(r.id): f"{r.name}（{r.kind_name}，{r.subdistrict_name}，{r.status_name}）"
                  for r in own.itertuples(index=False)}
        card = st.session_state.get("fac_card")
        if card in labels and st.session_state.get("fac_edit_for_card") != card:  # a clicked facility is preselected
            st.session_state["fac_edit_pick"] = card
            st.session_state["fac_edit_for_card"] = card
        picked = st.session_state.get("fac_edit_pick")
        record = None
        if picked is not None:
            try:
                record = call(who, edits.facility_for_edit, cache.engine(), picked)
            except AccessDenied:
                record = None
            if record is None or not who.may_write_street(record["subdistrict_code"]):
                st.session_state["fac_edit_pick"] = None
                record = None
            elif picked not in labels:  # edited out of the current filter (e.g. now closed): keep it in the list
                labels[picked] = f"{record['name']}（{record['kind_name']}，{record['subdistrict_name']}，" \
                                 f"{record['status_name']}，不在当前筛选中）"
        if st.session_state.get("fac_edit_pick") is None:
            st.session_state["fac_edit_pick"] = None
        fid = st.selectbox("选择设施（当前地图和清单中的设施）", list(labels), format_func=labels.get,
                           key="fac_edit_pick", placeholder="请选择设施")
        if fid is None:
            return
        if record is None or int(record["id"]) != fid:
            try:
                record = call(who, edits.facility_for_edit, cache.engine(), fid)
            except AccessDenied as exc:
                st.warning(md(exc))
                return
        if record is None:
            st.warning("该设施已不存在。")
            return
        edit_forms.facility_form(
            record, key="fac_edit",
            on_save=lambda i, version, values: edits.update_facility_status(cache.engine(), who, i, version, **values))


def _read_click(points: pd.DataFrame, names: dict[str, str], basemap: maps.Basemap) -> None:
    """A new map click (recorded by the component's on_change): a facility opens its card, a subdistrict is selected."""
    event = st.session_state.pop("fac_click", None)
    if not event:
        return
    hit = maps.clicked_facility(event, points, basemap)
    if hit is not None:
        st.session_state["fac_card"] = int(hit["id"])
        return
    code = maps.clicked_subdistrict(event, names)
    if code and not f.street:
        st.session_state["fac_sel"] = None if st.session_state.get("fac_sel") == code else code


def _kpis(scope: pd.DataFrame | None, counts: pd.DataFrame | None, selected: str | None, names) -> None:
    if scope is not None:
        by_status = scope["status"].value_counts()
        meal = int(((scope["kind"] == "meal_point") & (scope["status"] == "operating")).sum())
    else:
        by_status = counts.groupby("status")["n"].sum()
        meal = int(counts[(counts["kind"] == "meal_point") & (counts["status"] == "operating")]["n"].sum())
    where = names.get(selected, "") if selected else f.scope
    kpi_row([
        Kpi("运营中的设施", f"{int(by_status.get('operating', 0)):,} 处", help=f"{where}：截至所选日期已开业、未关停"),
        Kpi("其中助餐点", f"{meal:,} 个", help="运营中的社区助餐点"),
        Kpi("建设中", f"{int(by_status.get('building', 0)):,} 处", help="已开工、未开业"),
        Kpi("规划中", f"{int(by_status.get('planned', 0)):,} 处", help="已列入规划、未开工"),
    ])


def _card(on: date) -> None:
    fid = st.session_state.get("fac_card")
    if not fid:
        st.caption("点击地图上的设施查看详情卡片；点击街道范围可选中该街道，再次点击取消。")
        return
    card = cache.q(mq.facility_card, fid, on)
    if not card:
        return
    with st.container(border=True, key="fac_card_box"):
        head, close = st.columns([6, 1])
        head.markdown(f"#### {md(card['name'])}")
        close.button("关闭", key="fac_card_close", on_click=_set, args=("fac_card", None))
        rows = [("类型", card["kind_name"]), ("状态", card["status_name"]), ("街道", card["subdistrict_name"]),
                ("社区", card.get("community_name")),
                ("运营方", card.get("operator")), ("餐位" if card["kind"] == "meal_point" else "床位", card.get("capacity")),
                ("开业日期", card.get("opened_on")), ("地址", card.get("address"))]
        cols = st.columns(4)
        for i, (label, value) in enumerate(rows):
            shown = "—" if value is None or (isinstance(value, float) and pd.isna(value)) else value
            cols[i % 4].text(f"{label}：{shown}")
        if card["kind"] == "meal_point":
            m = card["last_month"]
            if card["served_last_month"]:
                st.metric(f"{m.year}年{m.month}月助餐", f"{card['meals']:,} 份",
                          help=f"堂食 {card['meals_dine_in']:,} 份，送餐（幸福小蜜蜂）{card['meals_delivered']:,} 份")
            else:
                st.caption(f"{m.year}年{m.month}月底尚未开业，没有助餐记录。")


def _count_table(counts: pd.DataFrame) -> pd.DataFrame:
    t = counts.pivot_table(index=["code", "name"], columns="kind", values="n", aggfunc="sum", fill_value=0)
    t = t.rename(columns=FACILITY_KINDS).reset_index().rename(columns={"code": "街道代码", "name": "街道"})
    t["合计"] = t.drop(columns=["街道代码", "街道"]).sum(axis=1)
    return t


def _facility_table(df: pd.DataFrame) -> pd.DataFrame:
    cols = {"name": "设施名称", "kind_name": "类型", "status_name": "状态", "subdistrict_name": "街道",
            "community_name": "社区", "operator": "运营方", "capacity": "床位/餐位（个）", "opened_on": "开业日期",
            "address": "地址"}
    out = df[[c for c in cols if c in df.columns]].rename(columns=cols)
    return out.sort_values(["类型", "设施名称"]) if len(out) else out


body()
