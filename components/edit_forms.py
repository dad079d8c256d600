"""Edit forms with optimistic concurrency: a finding's rectification status and a facility's status dates.

The forms take the record as a dict (as read by data.edits) and an `on_save(record_id, expected_version, values)`
callback that writes and returns the record as saved — never a database handle. The version a user edits is the
one *held* in the session when the record was first shown (not whatever the page reads on the submitting rerun),
so a save that someone else beat is refused by the data layer; the refusal and the record's current values stay
on screen until the user loads the latest values and decides again.
"""
from __future__ import annotations

from datetime import date
from typing import Callable

import pandas as pd
import streamlit as st

from data.access import AccessDenied
from data.edits import FIELD_LABELS, EditError, StaleEdit

OnSave = Callable[[int, int, dict], dict]

RECTIFY, REOPEN = "rectify", "reopen"
FINDING_ACTIONS = {RECTIFY: "已整改（填写整改完成日期和说明）", REOPEN: "重新打开（改为未整改）"}
FINDING_SHOWN = ("code", "place_name", "subdistrict_name", "found_on", "deadline", "status_name", "rectified_on",
                 "note", "version")
FACILITY_SHOWN = ("code", "name", "kind_name", "subdistrict_name", "status_name", "planned_on",
                  "construction_started_on", "opened_on", "closed_on", "version")


# --- the held version, the conflict and the flash message --------------------------------------------------------

def _widget_keys(key: str) -> list[str]:
    return [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{key}_w_")]


def _hold(key: str, record: dict) -> None:
    st.session_state[f"{key}_held"] = dict(record)
    for k in _widget_keys(key):  # the form starts again from the held values
        del st.session_state[k]


def _held(key: str, record: dict) -> dict:
    """The record as loaded for editing: kept until saved, reloaded, or another record is chosen."""
    held = st.session_state.get(f"{key}_held")
    if held is None or held.get("id") != record.get("id"):
        _hold(key, record)
        st.session_state.pop(f"{key}_conflict", None)
        held = st.session_state[f"{key}_held"]
    return held


def _reload(key: str) -> None:
    conflict = st.session_state.pop(f"{key}_conflict", None)
    if conflict and conflict.get("current"):
        _hold(key, conflict["current"])


def record_table(record: dict, fields: tuple[str, ...]) -> pd.DataFrame:
    """One record as a two-column table with Chinese labels (dates as YYYY-MM-DD, empty as —)."""
    def text(v):
        if v is None or (isinstance(v, float) and pd.isna(v)) or v == "":
            return "—"
        return v.isoformat() if isinstance(v, date) else str(v)

    return pd.DataFrame({"项目": [FIELD_LABELS.get(f, f) for f in fields if f in record],
                         "内容": [text(record[f]) for f in fields if f in record]})


def _conflict_box(key: str, fields: tuple[str, ...]) -> None:
    conflict = st.session_state.get(f"{key}_conflict")
    if not conflict:
        return
    with st.container(border=True, key=f"{key}_conflict_box"):
        st.error(conflict["message"])
        if conflict.get("current"):
            st.markdown("**该记录当前的内容（他人保存后）：**")
            st.dataframe(record_table(conflict["current"], fields), hide_index=True, key=f"{key}_conflict_tbl")
            st.button("以最新内容重新修改", key=f"{key}_reload", on_click=_reload, args=(key,))


def _save(key: str, on_save: OnSave, held: dict, values: dict, success: str) -> None:
    try:
        saved = on_save(int(held["id"]), int(held["version"]), values)
    except StaleEdit as exc:
        st.session_state[f"{key}_conflict"] = {"message": exc.message, "current": exc.current}
        st.rerun()
    except (EditError, AccessDenied) as exc:
        st.error(f"未保存：{exc}")
        return
    st.session_state.pop(f"{key}_conflict", None)
    _hold(key, saved)
    st.session_state[f"{key}_flash"] = success
    st.rerun()


def _flash(key: str) -> None:
    if msg := st.session_state.pop(f"{key}_flash", None):
        st.success(msg)


# --- findings ----------------------------------------------------------------------------------------------------

def finding_form(record: dict, *, key: str, on_save: OnSave, today: date | None = None) -> None:
    """修改整改状态 of one finding: mark it rectified on a day with a note, or reopen it.

    `on_save(id, expected_version, {"rectified_on": date | None, "note": str | None})` writes and returns the
    finding as saved (raising data.edits.StaleEdit / EditError, data.access.AccessDenied)."""
    today = today or date.today()
    held = _held(key, record)
    _flash(key)
    _conflict_box(key, FINDING_SHOWN)
    if record.get("version") != held.get("version") and not st.session_state.get(f"{key}_conflict"):
        st.warning(f"该问题在您打开后已被他人修改（当前版本 {record['version']}），保存时将被拒绝；"
                   "请先核对最新内容。")
        st.button("以最新内容重新修改", key=f"{key}_refresh", on_click=_hold, args=(key, record))
    state = (f"已整改（{held['rectified_on']:%Y-%m-%d}）" if held.get("rectified_on") else "未整改")
    st.markdown(f"**{held['code']}** · {held.get('place_name') or ''}（{held.get('subdistrict_name') or ''}）· "
                f"发现于 {held['found_on']:%Y-%m-%d}，整改期限 {held['deadline']:%Y-%m-%d} · 当前：{state} · 版本 "
                f"{held['version']}")
    if held.get("description"):
        st.caption(f"问题描述：{held['description']}")
    found = held["found_on"]
    default_day = held.get("rectified_on") or today
    with st.form(f"{key}_form"):
        action = st.radio("修改为", list(FINDING_ACTIONS), format_func=FINDING_ACTIONS.get, key=f"{key}_w_action",
                          horizontal=True)
        day = st.date_input("整改完成日期", value=default_day, min_value=min(found, default_day),
                            max_value=max(today, found, default_day),
                            key=f"{key}_w_day", help="不能早于发现日期，不能晚于今天；重新打开时不使用。")
        note = st.text_area("整改情况说明（重新打开时填写原因）", value=held.get("note") or "", max_chars=1000,
                            key=f"{key}_w_note")
        submitted = st.form_submit_button("保存", type="primary")
    if submitted:
        values = {"rectified_on": day if action == RECTIFY else None, "note": note}
        _save(key, on_save, held, values,
              f"问题 {held['code']} 已" + (f"标记为已整改（{day:%Y-%m-%d}）。" if action == RECTIFY else "重新打开。"))


# --- facilities --------------------------------------------------------------------------------------------------

def facility_form(record: dict, *, key: str, on_save: OnSave, today: date | None = None) -> None:
    """修改设施状态 of one facility: its 开工 / 开业 / 关停 dates (an empty date is cleared).

    `on_save(id, expected_version, {"construction_started_on": …, "opened_on": …, "closed_on": …})` writes and
    returns the facility as saved."""
    today = today or date.today()
    held = _held(key, record)
    _flash(key)
    _conflict_box(key, FACILITY_SHOWN)
    if record.get("version") != held.get("version") and not st.session_state.get(f"{key}_conflict"):
        st.warning(f"该设施在您打开后已被他人修改（当前版本 {record['version']}），保存时将被拒绝；"
                   "请先核对最新内容。")
        st.button("以最新内容重新修改", key=f"{key}_refresh", on_click=_hold, args=(key, record))
    planned = f"，规划日期 {held['planned_on']:%Y-%m-%d}" if held.get("planned_on") else ""
    st.markdown(f"**{held['name']}**（{held.get('kind_name') or ''}，{held.get('subdistrict_name') or ''}）· "
                f"当前状态：{held.get('status_name') or ''}{planned} · 版本 {held['version']}")
    st.caption("状态由日期推算：规划中 → 建设中（有开工日期）→ 运营中（有开业日期）→ 已关停（有关停日期）；"
               "日期须依次不早于前一项、不晚于今天。清空某个日期即撤销该状态。")
    with st.form(f"{key}_form"):
        cols = st.columns(3)
        values = {}
        for col, field in zip(cols, ("construction_started_on", "opened_on", "closed_on")):
            values[field] = col.date_input(FIELD_LABELS[field], value=held.get(field), min_value=date(1949, 10, 1),
                                           max_value=max(today, held.get(field) or today), key=f"{key}_w_{field}")
        submitted = st.form_submit_button("保存", type="primary")
    if submitted:
        _save(key, on_save, held, values, f"设施“{held['name']}”的状态日期已保存。")
