"""督办 on screen: warning chips and counts, the order list, one order's panel with the steps the user may take
(feedback with evidence files), the issue form and the week's to-do items, the map of open orders, the 街道 inbox
badge, the weekly review's 督办 section, the roundtable request form and the settings form.

Everything a user typed (titles, requirements, feedback, names) reaches the screen through components.text; tables
are exported only through components.tables (exports.xlsx); evidence files only through components.downloads, read
as the signed-in principal (the query layer refuses a role that may not see the order). A step is taken on the order
as it was first shown (its held version): when someone else moved it meanwhile the step is refused with the conflict
message and the order as it is now, and the user decides again.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

import pandas as pd
import streamlit as st

from components import locale
from components.downloads import download_button
from components.kpis import Kpi, kpi_row
from components.styled_tables import STYLE_MAX_ROWS, pick_table, show_styled_table
from components.tables import show_table
from components.text import html_text, md
from data.security.access import AccessDenied
from views import supervision as view

PAGE = "pages/supervision.py"
NO_LEVEL = "none"
LIST_ROWS = 500  # rows of a pickable list drawn on screen: a district's whole list (the Excel holds them all)
LEVEL_FILTER = {**{k: f"{v}色" for k, v in view.LEVELS.items()}, NO_LEVEL: "无预警"}


BADGE_COLOURS = {"blue": "blue", "yellow": "yellow", "orange": "orange", "red": "red"}


def chip(level: str | None) -> str:
    """A Markdown badge in the level's colour (constant text: the level's name)."""
    if level not in view.LEVELS:
        return ":gray-badge[无预警]"
    return f":{BADGE_COLOURS[level]}-badge[{view.LEVELS[level]}色预警]"


def _flash(key: str) -> None:
    if msg := st.session_state.pop(f"{key}_flash", None):
        st.success(md(msg))


def _attempt(key: str, write: Callable[[], object], success: Callable[[object], str]) -> bool:
    """Run a write; on success remember the message and rerun, else show why (nothing was written)."""
    try:
        saved = write()
    except view.StaleEdit as exc:
        st.session_state[f"{key}_conflict"] = exc.message
        st.rerun()
    except (view.EditError, AccessDenied) as exc:
        st.error(f"未执行：{md(getattr(exc, 'message', exc))}")
        return False
    st.session_state[f"{key}_flash"] = success(saved)
    st.rerun()
    return True


# --- counts, list, map ---------------------------------------------------------------------------------------------

def level_row(page: view.SupervisionPage) -> None:
    s, c = page.settings, page.level_counts
    kpi_row([Kpi("红色预警（件）", str(c["red"]), help=f"逾期超过 {s.red_days} 天，或所在街道逾期占比超过 {s.red_share:.0%}"),
             Kpi("橙色预警（件）", str(c["orange"]), help=f"逾期超过 {s.orange_days} 天，或退回 {s.orange_returns} 次"),
             Kpi("黄色预警（件）", str(c["yellow"]), help="已过整改期限"),
             Kpi("蓝色预警（件）", str(c["blue"]), help=f"{s.blue_days} 天内到期"),
             Kpi("待签收（件）", str(page.status_counts["pending"])),
             Kpi("整改中（件）", str(page.status_counts["working"] + page.status_counts["returned"])),
             Kpi("待复查（件）", str(page.status_counts["reported"])),
             Kpi("已复查/办结（件）", str(page.status_counts["done"]))], columns=4)


def chosen_filters(key: str) -> dict:
    """The list filters as chosen (read before the page model is built; drawn by `list_filters`)."""
    got = st.session_state

    def value(name: str) -> tuple:
        return tuple(got.get(name, got.get(f"_kept_{name}", ())))

    return {"levels": value(f"{key}_lv"), "units": value(f"{key}_unit"), "statuses": value(f"{key}_st")}


def list_filters(units: list[str], key: str) -> None:
    """The list's filters. Their tab is built only when open (pages/supervision.py), and Streamlit forgets the
    values of widgets a run did not draw: the chosen values are kept beside them and put back when the tab opens."""
    names = [f"{key}_lv", f"{key}_unit", f"{key}_st"]
    for name in names:
        if name not in st.session_state and f"_kept_{name}" in st.session_state:
            st.session_state[name] = st.session_state[f"_kept_{name}"]
    a, b, c = st.columns(3)
    a.multiselect("预警等级", list(LEVEL_FILTER), format_func=LEVEL_FILTER.get, key=f"{key}_lv", placeholder=locale.PICK_MANY)
    chosen = [u for u in st.session_state.get(f"{key}_unit", ()) if u not in units]
    b.multiselect("责任单位", list(units) + chosen, key=f"{key}_unit", placeholder=locale.PICK_MANY)
    c.multiselect("状态", list(view.STATUSES), format_func=view.STATUSES.get, key=f"{key}_st", placeholder=locale.PICK_MANY)
    for name in names:
        st.session_state[f"_kept_{name}"] = st.session_state[name]


def order_list(page: view.SupervisionPage, key: str, on_pick: Callable[[str], None]) -> None:
    if page.table.empty:
        st.info("没有符合条件的督办单。")
        return
    n = len(page.table)
    more = (f"表中列出预警最重的前 {LIST_ROWS:,} 件，可用上方筛选缩小范围，下载的 Excel 含全部 {n:,} 件；"
            if n > LIST_ROWS else "")
    st.caption(f"共 {n:,} 件，红、橙色预警行标出；{more}点击一行查看详情和办理。")
    pick_table(page.table, key=key, file_name=f"督办单_截至{page.on:%Y%m%d}",
               on_pick=lambda i: on_pick(page.codes[i]), highlight=page.table["预警"].isin(["红", "橙"]),
               title=f"督办单（截至 {page.on:%Y-%m-%d}）", max_rows=LIST_ROWS)


def unit_counts(page: view.SupervisionPage, key: str) -> None:
    red = page.by_unit["街道红色预警"] == "是"
    if len(page.by_unit) > STYLE_MAX_ROWS:  # province scale: drawn plain, the 街道红色预警 column marks the red ones
        st.caption(f"共 {len(page.by_unit):,} 个责任单位，其中 {int(red.sum()):,} 个街道为红色预警（见“街道红色预警”列）。")
        red = None
    show_styled_table(page.by_unit, key=key, file_name=f"督办单按责任单位_截至{page.on:%Y%m%d}",
                      highlight=red, title=f"督办单按责任单位（截至 {page.on:%Y-%m-%d}）")


def open_map(model: view.MapModel | None, key: str, locked: str | None = None) -> None:
    """Open orders by subdistrict, coloured by how many (departments and providers are not on the map)."""
    if model is None or model.boundaries.empty:
        return
    from components import maps

    frame = maps.DistrictMap(key, locked=locked, clicks=False)
    frame.show(model.boundaries, maps.value_picture(model.boundaries, model.values, title="未办结督办单（件）",
                                                    fmt=lambda v: f"{v:,.0f}", details=model.details,
                                                    zero_label="无未办结督办单"), height=420)


# --- one order --------------------------------------------------------------------------------------------------

def _held(key: str, order: dict) -> dict:
    """The order's version and status as first shown in this session: the steps offered and the version they are
    taken on, kept until the user takes a step or reloads (a step on a version someone else moved is refused)."""
    k = f"{key}_held_{order['id']}"
    if k not in st.session_state:
        st.session_state[k] = {"version": order["version"], "status": order["status"]}
    return st.session_state[k]


def _hold(key: str, order: dict) -> None:
    st.session_state[f"{key}_held_{order['id']}"] = {"version": order["version"], "status": order["status"]}


def order_panel(ov: view.OrderView, *, key: str, evidence: Callable[[int, object], dict | None],
                on_act: Callable[[dict, str, str | None, list], dict]) -> None:
    """One order: its facts, level, history, evidence files and a form for each step the user may take."""
    o = ov.order
    held = _held(key, o)
    _flash(key)
    st.markdown(f"#### {md(o['code'])} {md(o['title'])}")
    st.markdown(f"{chip(ov.level)} {md(ov.reason)} · 当前状态：{md(o['status_name'])} · 版本 {int(o['version'])}")
    if conflict := st.session_state.get(f"{key}_conflict"):
        st.error(md(conflict))
        if st.button("以最新状态重新办理", key=f"{key}_reload"):
            st.session_state.pop(f"{key}_conflict", None)
            _hold(key, o)
            st.rerun()
    elif held["version"] != o["version"]:
        st.warning(f"该督办单在您打开后已有新的办理（当前版本 {o['version']}），办理将被拒绝；请核对后以最新状态重新办理。")
        if st.button("以最新状态重新办理", key=f"{key}_refresh"):
            _hold(key, o)
            st.rerun()
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(ov.facts, hide_index=True, width="stretch", key=f"{key}_facts")
        st.markdown("**流转记录**")
        st.dataframe(ov.history, hide_index=True, width="stretch", key=f"{key}_hist")
    with right:
        st.markdown(f"**附件（{len(ov.evidence)} 个）**")
        for row in ov.evidence.head(12).itertuples(index=False):
            eid = int(row.id)
            if eid in ov.images[:6]:
                got = evidence(eid, None)
                if got:
                    st.image(got["content"], caption=md(row.文件), width=240)
            download_button(f"下载 {row.文件}", lambda who, eid=eid: evidence(eid, who)["content"],
                            file_name=row.文件, mime=row.类型, key=f"{key}_ev_{eid}")
        steps = ov.steps_by_status.get(held["status"], ov.steps)
        for step in steps:
            _step_form(ov, step, held["version"], key, on_act)
        if not steps:
            st.caption("当前没有需要您办理的步骤。")


def _step_form(ov: view.OrderView, step, held: int, key: str, on_act) -> None:
    o = ov.order
    with st.form(f"{key}_{step.action}_{o['id']}", border=True):
        st.markdown(f"**{step.label}**")
        note = st.text_area(step.note_label + ("（必填）" if step.needs_note else "（可不填）"), max_chars=2000,
                            key=f"{key}_{step.action}_note_{o['id']}_{held}")
        files = []
        if step.action == "report":
            files_key = f"{key}_files_{o['id']}_{held}"
            mb = int(ov.evidence_max_mb)
            # the box's own hint in Chinese with this limit (components.locale puts the importer's 50 MB on every
            # other uploader); the browser refuses a larger file before sending it (max_upload_size)
            st.html(f'<style>.st-key-{html_text(files_key)} [data-testid="stFileUploaderDropzoneInstructions"] '
                    f'> div::after {{ content: "可将文件拖到此处；最多 {html_text(view.MAX_FILES)} 个，每个不超过 '
                    f'{html_text(mb)} MB"; }}</style>')
            files = st.file_uploader(f"整改照片、扫描件（JPG、PNG、PDF，最多 {view.MAX_FILES} 个，每个不超过 "
                                     f"{mb} MB）", type=["jpg", "jpeg", "png", "pdf"], accept_multiple_files=True,
                                     max_upload_size=mb, key=files_key, help=locale.UPLOAD_FILES) or []
        go = st.form_submit_button(step.label, type="primary")
    if go:
        upload = [view.Evidence(f.name, f.getvalue()) for f in files]

        def act():
            saved = on_act({"id": o["id"], "version": held}, step.action, note, upload)
            _hold(key, saved)  # the user's own step: go on from it
            return saved

        _attempt(key, act, lambda saved: f"督办单 {saved['code']} 已{step.label}，当前状态：{saved['status_name']}。")


# --- issuing -------------------------------------------------------------------------------------------------------

def issue_form(values: dict, units: pd.DataFrame, *, key: str, on_issue: Callable[[dict], dict],
               today: date | None = None) -> None:
    """派单: the drafted order (from a to-do item or empty), every field editable; one click issues it."""
    today = today or date.today()
    _flash(key)
    keys = list(units["key"])
    labels = dict(zip(units["key"], units["label"]))
    start = values.get("unit")
    ident = f"{values.get('source_kind')}_{values.get('source_ref')}"
    with st.form(f"{key}_form"):
        unit = st.selectbox("责任单位", keys, format_func=labels.get, key=f"{key}_unit_{ident}",
                            index=keys.index(start) if start in keys else None, placeholder="选择街道、区直部门或服务商")
        a, b = st.columns(2)
        assignee = a.text_input("责任人", values.get("assignee", ""), max_chars=50, key=f"{key}_who_{ident}",
                                help="填写岗位或姓名，如“南浦街道民政服务站站长”")
        deadline = b.date_input("整改期限", values.get("deadline") or today + timedelta(days=7), min_value=today,
                                key=f"{key}_due_{ident}")
        title = st.text_input("督办事项", values.get("title", ""), max_chars=200, key=f"{key}_title_{ident}")
        requirement = st.text_area("整改要求", values.get("requirement", ""), max_chars=2000, key=f"{key}_req_{ident}")
        go = st.form_submit_button("派发督办单", type="primary")
    if go:
        sent = {**values, "unit": unit, "assignee": assignee, "deadline": deadline, "title": title,
                "requirement": requirement}
        _attempt(key, lambda: on_issue(sent), lambda saved: f"已派发督办单 {saved['code']}（待{saved['unit_name']}签收）。")


def todo_key(item) -> str:
    """The identity of a to-do item ("finding|AQ20240195"): what a link from the weekly review names."""
    return f"{item['kind']}|{item['ref']}"


def todo_item(todo: pd.DataFrame, chosen: str | None) -> dict | None:
    """The to-do item whose todo_key is `chosen` (None when there is none)."""
    keys = [f"{k}|{r}" for k, r in zip(todo["kind"], todo["ref"])] if len(todo) else []
    return todo.iloc[keys.index(chosen)].to_dict() if chosen in keys else None


def todo_list(todo: pd.DataFrame, *, key: str, on_pick: Callable[[int], None]) -> None:
    """待督办事项 of the week: those already under an open order show its number; click a row to draft one."""
    if todo.empty:
        st.info("本周没有需要督办的事项。")
        return
    shown = pd.DataFrame({"类别": todo["kind_name"], "事项": todo["title"], "责任单位": todo["unit_label"],
                          "情况": todo["detail"], "已有督办单": todo["existing_code"].fillna("—"),
                          "督办单状态": todo["existing_status"].fillna("—")})
    if len(shown) > LIST_ROWS:
        st.caption(f"共 {len(shown):,} 项，表中列出前 {LIST_ROWS:,} 项（尚无督办单的在前），下载的 Excel 含全部事项。")
    pick_table(shown, key=key, file_name="待督办事项", on_pick=on_pick, highlight=todo["existing_code"].isna(),
               title="待督办事项", max_rows=LIST_ROWS)


def request_form(meetings: pd.DataFrame, units: pd.DataFrame, *, key: str, on_record: Callable[[dict], dict],
                 today: date | None = None) -> None:
    """登记圆桌会诉求: a request raised at a meeting, given at once to a responsible unit as a 督办单."""
    today = today or date.today()
    _flash(key)
    if meetings.empty:
        st.info("尚无圆桌会记录。")
        return
    ids = [int(i) for i in meetings["id"]]
    names = {int(i): f"{pd.Timestamp(d):%Y-%m-%d} {t}" for i, d, t in zip(meetings["id"], meetings["held_on"],
                                                                           meetings["title"])}
    keys, labels = list(units["key"]), dict(zip(units["key"], units["label"]))
    with st.form(f"{key}_form"):
        meeting = st.selectbox("圆桌会", ids, format_func=names.get, key=f"{key}_meeting", placeholder=locale.PICK)
        a, b = st.columns(2)
        raised_by = a.text_input("提出单位", max_chars=120, key=f"{key}_by")
        topic = b.text_input("诉求内容", max_chars=200, key=f"{key}_topic")
        unit = a.selectbox("责任单位", keys, format_func=labels.get, index=None, key=f"{key}_unit", placeholder=locale.PICK)
        assignee = b.text_input("责任人", max_chars=50, key=f"{key}_who")
        deadline = a.date_input("办理期限", today + timedelta(days=30), min_value=today, key=f"{key}_due")
        go = st.form_submit_button("登记并派发督办单", type="primary")
    if go:
        values = {"meeting_id": meeting, "raised_by": raised_by, "topic": topic, "unit": unit, "assignee": assignee,
                  "deadline": deadline}
        _attempt(key, lambda: on_record(values), lambda saved: f"已登记诉求并派发督办单 {saved['code']}。")


def settings_form(s: view.Settings, *, key: str, on_save: Callable[[dict], object]) -> None:
    """督办预警阈值、附件上限和考核权重 (业务科室)."""
    _flash(key)
    with st.form(f"{key}_form"):
        a, b, c = st.columns(3)
        v = {"blue_days": a.number_input(view.SETTING_LABELS["blue_days"], 1, 30, s.blue_days, key=f"{key}_b"),
             "orange_days": b.number_input(view.SETTING_LABELS["orange_days"], 1, 90, s.orange_days, key=f"{key}_o"),
             "orange_returns": c.number_input(view.SETTING_LABELS["orange_returns"], 1, 10, s.orange_returns,
                                              key=f"{key}_or"),
             "red_days": a.number_input(view.SETTING_LABELS["red_days"], 2, 180, s.red_days, key=f"{key}_r"),
             "red_share": b.number_input(view.SETTING_LABELS["red_share"], 0.05, 0.95, float(s.red_share), 0.05,
                                         key=f"{key}_rs"),
             "evidence_max_mb": c.number_input(view.SETTING_LABELS["evidence_max_mb"], 1, 50, s.evidence_max_mb,
                                               key=f"{key}_mb")}
        st.markdown("**考核权重（合计 100 分）**")
        cols = st.columns(len(view.SCORE_PARTS))
        for col, (k, (label, _)) in zip(cols, view.SCORE_PARTS.items()):
            v[f"w_{k}"] = col.number_input(label, 0, 100, int(s.weights[k]), key=f"{key}_w_{k}")
        go = st.form_submit_button("保存设置", type="primary")
    if go:
        _attempt(key, lambda: on_save(v), lambda _s: "设置已保存。")


# --- the 街道 inbox and the weekly review's section --------------------------------------------------------------------

def inbox_badge(inbox: view.Inbox | None, *, key: str = "sv_inbox") -> None:
    """The 街道 account's inbox on its home page: one line of counts in the colour of its worst warning, the items,
    and a link to the 督办 page."""
    if inbox is None:
        return
    with st.container(border=True, key=key):
        st.markdown(f"**我的督办** {chip(inbox.worst)} {md(inbox.headline)}")
        if len(inbox.items):
            show_table(inbox.items.head(10), key=f"{key}_items", file_name="我的督办")
        st.page_link(PAGE, label="打开督办页面办理")


def weekly_section(summary: view.WeeklySupervision, *, key: str = "wr_duban") -> None:
    """周度研判的督办摘要: issued / due / closed this week and open orders by level, per unit; the chase list with a
    link to each order; the week's items not yet under an order."""
    st.subheader("督办")
    st.markdown(md(summary.headline) + "。")
    if len(summary.by_unit):
        show_styled_table(summary.by_unit, key=f"{key}_units", file_name=f"督办摘要_{summary.week.key}",
                          title=f"督办摘要（{summary.week.label}）")
    if len(summary.chase):
        st.markdown(f"**催办清单（黄色及以上预警，{len(summary.chase)} 件）**")
        red = summary.chase["预警"] == "红"  # province scale: drawn plain, the 预警 column says 红
        show_styled_table(summary.chase, key=f"{key}_chase", file_name=f"催办清单_{summary.week.key}",
                          highlight=red if len(summary.chase) <= STYLE_MAX_ROWS else None)
        cols = st.columns(4)
        for i, code in enumerate(summary.chase["编号"].head(12)):
            cols[i % 4].page_link(PAGE, label=f"督办单 {code}", query_params={"order": code})
    if len(summary.candidates):
        st.markdown(f"**尚未督办的事项：{len(summary.candidates)} 件**（点击即打开已填好的督办单，核对后派发）")
        for _, row in summary.candidates.head(12).iterrows():
            st.page_link(PAGE, label=f"督办：{md(row['title'])}", query_params={"todo": todo_key(row)})
    st.page_link(PAGE, label="打开督办页面")
