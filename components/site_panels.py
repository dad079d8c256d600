"""选址分析's sections on screen, drawn from its page model (views.site_selection): the page's own controls, 需求与缺口,
the 优化选址 form and result, 方案比较 and the 闲置用房台账 with its forms.

Drawing only: a write is the page's callback (a view action returning the message to flash), run here when its
button is pressed; the message shows after the rerun (`flash`)."""
from __future__ import annotations

from typing import Callable

import streamlit as st


from components import edit_forms, locale, maps, site_map
from components.auth_ui import principal
from components.kpis import Kpi, kpi_row
from components.ledger_import import template_download
from components.tables import show_table
from components.text import md
from views.site_selection import (
    ACCESS_RULES,
    MAX_RADIUS_M,
    MAX_SHOWN,
    MIN_RADIUS_M,
    MODES,
    OWNER_TYPES,
    ROOM_FORM_STATUSES,
    SECTIONS,
    WEIGHTS,
    AccessDenied,
    ImportRefused,
    Metric,
    RoomForm,
    RoomWriteError,
    ScenarioCard,
    ScenarioError,
    SitePage,
    Solution,
)

FLASH = "site_flash"
Action = Callable[[], str]


# --- the page's own controls and messages ----------------------------------------------------------------------

def flash() -> None:
    """The message of the last write (kept over its rerun)."""
    if msg := st.session_state.pop(FLASH, None):
        st.success(md(msg))


def _act(action: Action) -> None:
    """Run a write; its message is flashed after a rerun, a refusal shown here."""
    try:
        msg = action()
    except RoomWriteError as exc:
        st.error(md("；".join(exc.messages)))
        return
    except (ScenarioError, AccessDenied) as exc:
        st.error(md(exc))
        return
    st.session_state[FLASH] = msg
    st.rerun()


def read_only_note(what: str) -> None:
    st.caption(f"{principal().role_label}账号只能查看，不能{what}（需业务科室或本街道账号）。")


def controls(default_radius: int) -> tuple[int, str, str]:
    """步行半径, 需求权重 and the section shown: (radius, weight, section)."""
    c1, c2 = st.columns([1, 1])
    radius = c1.number_input("步行半径（米）", MIN_RADIUS_M, MAX_RADIUS_M, int(default_radius), step=50,
                             key="site_radius", help="默认值取自地图设置；覆盖按直线距离计算。")
    weight = c2.selectbox("需求权重", list(WEIGHTS), format_func=WEIGHTS.get, key="site_weight",
                          help="覆盖率按所选人群人数加权，而不是按社区个数。", placeholder=locale.PICK)
    section = st.radio("内容", list(SECTIONS), horizontal=True, key="site_section", label_visibility="collapsed")
    return radius, weight, section


def metrics(items: tuple[Metric, ...], columns: int | None = None) -> None:
    kpi_row([Kpi(m.label, m.value, delta=m.delta, help=m.help) for m in items], columns=columns)


# --- 需求与缺口 ----------------------------------------------------------------------------------------------------

def demand(page: SitePage, frame: maps.DistrictMap) -> None:
    metrics(page.metrics)
    site_map.show(frame, page.demand_map)
    st.subheader("未覆盖的社区")
    show_table(page.gaps, key="site_gaps", file_name="未覆盖社区")


# --- 优化选址 -----------------------------------------------------------------------------------------------------

def params_form() -> dict | None:
    """The optimisation's conditions; the values of the last “运行优化” (None before the first)."""
    with st.form("site_params_form"):
        a, b, c = st.columns(3)
        form = {
            "mode": a.radio("求解方式", list(MODES), format_func=MODES.get, key="sp_mode"),
            "k": a.number_input("新增点位数 k（间）", 1, 500, 5, key="sp_k"),
            "target": b.slider("覆盖目标（%）", 1, 100, 65, key="sp_target"),
            "max_rooms": b.number_input("最多间数（0 = 不限）", 0, 500, 0, key="sp_max_rooms"),
            "time_limit": b.number_input("求解时间上限（秒）", 1, 120, 10, key="sp_time"),
            "min_area": c.number_input("最小面积（m²）", 0, 5000, 60, step=10, key="sp_area"),
            "access": c.selectbox("无障碍要求", list(ACCESS_RULES), index=1, format_func=ACCESS_RULES.get,
                                  key="sp_access", placeholder=locale.PICK),
            "owners": c.multiselect("允许的产权类型", list(OWNER_TYPES), default=list(OWNER_TYPES),
                                    format_func=OWNER_TYPES.get, key="sp_owners", placeholder=locale.PICK_MANY),
            "service_area": st.checkbox("已纳入助餐点服务范围（官方口径）的社区也视为已覆盖", key="sp_service_area"),
        }
        d, e = st.columns(2)
        form["rent_each"] = d.number_input("单间月租金上限（元，0 = 不限）", 0, 1_000_000, 0, step=500, key="sp_rent_each")
        form["budget"] = e.number_input("月租金总预算（元，0 = 不限）", 0, 10_000_000, 0, step=1000, key="sp_budget")
        if st.form_submit_button("运行优化", type="primary"):
            st.session_state["site_params"] = form
    return st.session_state.get("site_params")


def solution(sol: Solution | None, frame: maps.DistrictMap) -> None:
    if sol is None:
        st.info("设置条件后点击“运行优化”。")
        return
    if sol.problems:
        st.error(" ".join(sol.problems))
        return
    metrics(sol.metrics)
    for kind, text in sol.notes:
        getattr(st, kind)(text)
    st.caption(sol.model_note)
    site_map.show(frame, sol.map)
    st.subheader("选址短名单（按边际增益排序）")
    show_table(sol.shortlist, key="site_shortlist", file_name="选址短名单", title="选址短名单")
    if sol.exact_short is not None:
        st.subheader("精确解与贪心解不同")
        for col, title, table in zip(st.columns(2), (sol.exact_title, sol.greedy_title),
                                     (sol.exact_short, sol.greedy_short)):
            with col:
                st.markdown(title)
                st.dataframe(table, hide_index=True)
    else:
        st.caption(sol.greedy_note)
    if sol.blind is not None:
        st.subheader("盲区社区")
        show_table(sol.blind, key="site_blind", file_name="盲区社区")


def save_and_convert(sol: Solution, *, save: Callable[[str], str], convert: Callable[[str | None], str]) -> None:
    """保存方案 (`save(name)`) and 标记为已转为设施 (`convert(code)`), for an account that may write."""
    st.subheader("保存方案与转为设施")
    if not principal().can_write:
        read_only_note("保存方案或把用房转为设施")
        return
    a, b = st.columns(2)
    with a.form("site_save_form", clear_on_submit=True):
        name = st.text_input("方案名称", max_chars=100, key="site_scn_name")
        if st.form_submit_button("保存方案"):
            _act(lambda: save(name))
    codes = sol.result.exact.codes
    with b.form("site_convert_form"):
        code = st.selectbox("选中用房", codes, key="site_convert_code", placeholder=locale.PICK)
        st.caption("标记后该用房状态变为“已转为设施”，并新建一个“规划中”的助餐点（规划日期为今天）。")
        if st.form_submit_button("标记为已转为设施", disabled=not codes):
            _act(lambda: convert(code))


# --- 方案比较 -----------------------------------------------------------------------------------------------------

def scenarios(labels: dict, *, load: Callable[[int], ScenarioCard | None], delete: Callable[[ScenarioCard], str],
              compare: Callable[[ScenarioCard, ScenarioCard], tuple[str, str, str]]) -> None:
    """Two saved scenarios side by side (`labels`: id → label; `load(id)` the scenario, None once deleted)."""
    if not labels:
        st.info("还没有保存的方案。在“优化选址”中运行后可以保存。")
        return
    ids = list(labels)
    a, b = st.columns(2)
    left = a.selectbox("方案 A", ids, format_func=labels.get, key="site_scn_a", placeholder=locale.PICK)
    right = b.selectbox("方案 B", ids, index=min(1, len(ids) - 1), format_func=labels.get, key="site_scn_b", placeholder=locale.PICK)
    shown = []
    for col, sid in ((a, left), (b, right)):
        card = load(sid)
        if card is None:
            col.warning("该方案已被删除。")
            continue
        shown.append(card)
        with col:
            st.markdown(f"**{md(card.name)}** · {card.heading}")
            metrics(card.metrics, columns=3)
            st.caption(card.conditions)
            show_table(card.table, key=f"site_scn_tbl_{col is b}", file_name=f"选址短名单_{card.name}",
                       title=f"选址短名单：{card.name}")
            if card.may_delete and st.button("删除该方案", key=f"site_scn_del_{col is b}"):
                _act(lambda card=card: delete(card))
    if len(shown) == 2 and left != right:
        only_a, only_b, both = compare(*shown)
        st.markdown(f"**仅方案 A 选中**：{md(only_a)}　**仅方案 B 选中**：{md(only_b)}　**两者都选**：{md(both)}")


# --- 闲置用房台账 ---------------------------------------------------------------------------------------------------

def registry(page: SitePage, *, form: Callable[[], RoomForm], on_save, on_add,
             on_import: Callable[[str, bytes, bool], str]) -> None:
    """The registry, then (for an account that may write) 新增或修改用房 and 从 Excel 导入, each built only when
    opened: a closed section costs the page nothing. on_save / on_add: as components.edit_forms.room_form;
    on_import(file name, bytes, gcj02) imports a file and returns the message to flash."""
    st.caption("闲置用房台账：新增、修改和导入需业务科室账号，街道账号只能维护本街道的用房。"
               "地下室用房可以登记，但不会被推荐为助餐点。")
    show_table(page.registry_table, key="site_registry", file_name="闲置用房台账")
    if not principal().can_write:
        read_only_note("新增、修改或导入闲置用房")
        return
    with st.expander("新增或修改用房", key="site_room_open", on_change="rerun") as box:
        if box.open:
            _room_editor(form(), on_save, on_add)
    with st.expander("从 Excel 导入", key="site_import_open", on_change="rerun") as box:
        if box.open:
            _room_import(on_import)


def _room_editor(form: RoomForm, on_save, on_add) -> None:
    """新增或修改用房 through the shared edit form: the version edited is the one held when the room was chosen, so a
    save someone else beat is refused with the current values, and audited."""
    pick = st.selectbox("选择用房", form.codes, key="site_edit_pick", placeholder=locale.PICK)
    row = form.row(pick)
    edit_forms.room_form(None if row is None else edit_forms.room_record(row), key="site_room", on_save=on_save,
                         on_add=on_add, streets=form.streets, communities=form.communities, owner_types=OWNER_TYPES,
                         statuses=ROOM_FORM_STATUSES, default_street=form.default_street)


def _room_import(on_import: Callable[[str, bytes, bool], str]) -> None:
    """The one ledger pipeline (ledger "vacant_rooms"): its template (the example row is skipped), all or nothing."""
    template_download("vacant_rooms", "下载导入模板", file_name="闲置用房导入模板.xlsx", key="site_template")
    up = st.file_uploader("选择 Excel 或 CSV 文件（表头与台账相同；全部无误才写入）", type=["xlsx", "csv"], key="site_upload", help=locale.UPLOAD_LEDGER)
    gcj02 = st.checkbox("是GCJ-02坐标", key="site_import_gcj02",
                        help="坐标取自高德地图（GCJ-02）时勾选：导入时转换为 WGS-84 再保存。")
    if up is None or not st.button("导入", key="site_import", type="primary"):
        return
    try:
        msg = on_import(up.name, up.getvalue(), gcj02)
    except ImportRefused as exc:
        st.error(f"文件未导入：发现 {exc.total:,} 个问题，数据库未作任何修改。请按下表修改后重新上传。")
        st.dataframe(exc.table(MAX_SHOWN), hide_index=True, key="site_import_problems")
        return
    except AccessDenied as exc:
        st.error(md(exc))
        return
    st.session_state[FLASH] = msg
    st.rerun()
