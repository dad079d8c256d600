"""Edit forms with optimistic concurrency: a finding's rectification status, a facility's status dates and a vacant
room (选址分析's registry).

The forms take the record as a dict (as read by data.writes.edits / the room registry) and an
`on_save(record_id, expected_version, values)` callback that writes and returns the record as saved — never a
database handle. The version a user edits is the one *held* in the session when the record was first shown (not
whatever the page reads on the submitting rerun), so a save that someone else beat is refused by the data layer;
the refusal and the record's current values stay on screen until the user loads the latest values and decides again.

Every widget of every edit form is keyed by `widget_key`: the form, the record's identity and held version, the
field. Choosing another record (or loading a newer version) therefore draws new widgets with that record's values —
a widget keyed by the form alone kept, in the browser, the value typed for the previous record, and saving wrote it
onto the next one (issue 17 item 6). The form's own key stays fixed, so a submission is never lost because the page
read a newer version on the submitting rerun (item 7).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

import pandas as pd
import streamlit as st

from components import locale
from components.text import md
from data.security.access import AccessDenied
from data.writes.edits import FIELD_LABELS, EditError, StaleEdit

OnSave = Callable[[int, int, dict], dict]

RECTIFY, REOPEN = "rectify", "reopen"
FINDING_ACTIONS = {RECTIFY: "已整改（填写整改完成日期和说明）", REOPEN: "重新打开（改为未整改）"}
FINDING_SHOWN = ("code", "place_name", "subdistrict_name", "found_on", "deadline", "status_name", "rectified_on",
                 "note", "version")
FACILITY_SHOWN = ("code", "name", "kind_name", "subdistrict_name", "status_name", "planned_on",
                  "construction_started_on", "opened_on", "closed_on", "version")


# --- widget keys, the held version, the conflict and the flash message -------------------------------------------

def widget_key(key: str, record: dict | None, field: str) -> str:
    """The session key of one edit-form widget: the form's `key`, the identity and version of the record being
    edited (`record` None: a new record) and the field. The one way every edit form keys its widgets."""
    ident = "new" if record is None else f"{record.get('id')}v{record.get('version')}"
    return f"{key}_w_{ident}_{field}"


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


def record_table(record: dict, fields: tuple[str, ...], labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One record as a two-column table with Chinese labels (dates as YYYY-MM-DD, empty as —)."""
    labels = labels or FIELD_LABELS

    def text(v):
        if v is None or (isinstance(v, float) and pd.isna(v)) or v == "":
            return "—"
        if isinstance(v, datetime):
            v = v.date()
        return v.isoformat() if isinstance(v, date) else str(v)

    return pd.DataFrame({"项目": [labels.get(f, f) for f in fields if f in record],
                         "内容": [text(record[f]) for f in fields if f in record]})


def _conflict_box(key: str, fields: tuple[str, ...], labels: dict[str, str] | None = None,
                  shown: Callable[[dict], dict] | None = None) -> None:
    conflict = st.session_state.get(f"{key}_conflict")
    if not conflict:
        return
    with st.container(border=True, key=f"{key}_conflict_box"):
        st.error(md(conflict["message"]))
        if conflict.get("current"):
            st.markdown("**该记录当前的内容（他人保存后）：**")
            current = shown(conflict["current"]) if shown else conflict["current"]
            st.dataframe(record_table(current, fields, labels), hide_index=True, key=f"{key}_conflict_tbl")
            st.button("以最新内容重新修改", key=f"{key}_reload", on_click=_reload, args=(key,))


def _save(key: str, on_save: OnSave, held: dict, values: dict, success: str) -> None:
    try:
        saved = on_save(int(held["id"]), int(held["version"]), values)
    except StaleEdit as exc:
        st.session_state[f"{key}_conflict"] = {"message": exc.message, "current": exc.current}
        st.rerun()
    except (EditError, AccessDenied) as exc:
        st.error(f"未保存：{md(exc)}")
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
    finding as saved (raising data.writes.edits.StaleEdit / EditError, data.security.access.AccessDenied)."""
    today = today or date.today()
    held = _held(key, record)
    _flash(key)
    _conflict_box(key, FINDING_SHOWN)
    if record.get("version") != held.get("version") and not st.session_state.get(f"{key}_conflict"):
        st.warning(f"该问题在您打开后已被他人修改（当前版本 {record['version']}），保存时将被拒绝；"
                   "请先核对最新内容。")
        st.button("以最新内容重新修改", key=f"{key}_refresh", on_click=_hold, args=(key, record))
    state = (f"已整改（{held['rectified_on']:%Y-%m-%d}）" if held.get("rectified_on") else "未整改")
    st.markdown(f"**{md(held['code'])}** · {md(held.get('place_name'))}（{md(held.get('subdistrict_name'))}）· "
                f"发现于 {held['found_on']:%Y-%m-%d}，整改期限 {held['deadline']:%Y-%m-%d} · 当前：{state} · 版本 "
                f"{held['version']}")
    if held.get("description"):
        st.caption(f"问题描述：{md(held['description'])}")
    found = held["found_on"]
    default_day = held.get("rectified_on") or today
    with st.form(f"{key}_form"):
        action = st.radio("修改为", list(FINDING_ACTIONS), format_func=FINDING_ACTIONS.get,
                          key=widget_key(key, held, "action"), horizontal=True)
        day = st.date_input("整改完成日期", value=default_day, min_value=min(found, default_day),
                            max_value=max(today, found, default_day),
                            key=widget_key(key, held, "day"), help="不能早于发现日期，不能晚于今天；重新打开时不使用。")
        note = st.text_area("整改情况说明（重新打开时填写原因）", value=held.get("note") or "", max_chars=1000,
                            key=widget_key(key, held, "note"))
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
    st.markdown(f"**{md(held['name'])}**（{md(held.get('kind_name'))}，{md(held.get('subdistrict_name'))}）· "
                f"当前状态：{held.get('status_name') or ''}{planned} · 版本 {held['version']}")
    st.caption("状态由日期推算：规划中 → 建设中（有开工日期）→ 运营中（有开业日期）→ 已关停（有关停日期）；"
               "日期须依次不早于前一项、不晚于今天。清空某个日期即撤销该状态。")
    with st.form(f"{key}_form"):
        cols = st.columns(3)
        values = {}
        for col, field in zip(cols, ("construction_started_on", "opened_on", "closed_on")):
            values[field] = col.date_input(FIELD_LABELS[field], value=held.get(field), min_value=date(1949, 10, 1),
                                           max_value=max(today, held.get(field) or today),
                                           key=widget_key(key, held, field))
        submitted = st.form_submit_button("保存", type="primary")
    if submitted:
        _save(key, on_save, held, values, f"设施“{held['name']}”的状态日期已保存。")


# --- vacant rooms (选址分析) --------------------------------------------------------------------------------------

ROOM_FIELDS = ("code", "address", "subdistrict_code", "community_code", "lon", "lat", "area_m2", "floor", "has_lift",
               "owner_type", "monthly_rent", "available_from", "status")
ROOM_SHOWN = (*ROOM_FIELDS, "version")
ROOM_LABELS = {"code": "用房编号", "address": "地址", "subdistrict_code": "街道", "community_code": "社区",
               "lon": "经度", "lat": "纬度", "area_m2": "面积(m²)", "floor": "楼层", "has_lift": "有无电梯",
               "owner_type": "产权类型", "monthly_rent": "月租金(元/月)", "available_from": "可用日期", "status": "状态",
               "version": "版本"}


def _plain(v):
    """A value of a registry row as a widget takes it: numpy scalars as Python, NaN / NaT as None, dates as date."""
    if v is None or v is pd.NaT or (not isinstance(v, (str, bytes)) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    if isinstance(v, (pd.Timestamp, datetime)):
        return v.date()
    return v.item() if hasattr(v, "item") else v


def _day(v):
    if isinstance(v, str):  # a date column read back as text
        try:
            return date.fromisoformat(v.strip()[:10])
        except ValueError:
            return None
    return v


def room_record(row) -> dict:
    """A registry row (a pandas Series or a dict) as a room record for `room_form`."""
    out = {k: _plain(v) for k, v in dict(row).items()}
    if "available_from" in out:
        out["available_from"] = _day(out["available_from"])
    return out


def room_form(record: dict | None, *, key: str, on_save: OnSave, on_add: Callable[[dict], object],
              streets: dict[str, str], communities: dict[str, str], owner_types: dict[str, str],
              statuses: dict[str, str], default_street: str | None = None) -> None:
    """新增或修改闲置用房: `record` None adds a room (`on_add(values)`), else edits the held version of `record`
    (`on_save(id, expected_version, values)` writes and returns the room as saved; a stale save raises
    data.writes.edits.StaleEdit — data.writes.site.StaleRoomError is one — carrying the room as it is now).

    streets / communities: code → label offered; owner_types / statuses: code → label."""
    if record is None:
        held = {"id": "new", "version": st.session_state.get(f"{key}_new_n", 0)}  # a fresh set after each add
        if msg := st.session_state.pop(f"{key}_added", None):
            st.success(md(msg))
    else:
        held = _held(key, record)
        _flash(key)

        def shown(room: dict) -> dict:
            room = room_record(room)
            return {**room, "subdistrict_code": streets.get(room.get("subdistrict_code"), room.get("subdistrict_code")),
                    "community_code": communities.get(room.get("community_code"), room.get("community_code")),
                    "has_lift": "是" if room.get("has_lift") else "否",
                    "owner_type": owner_types.get(room.get("owner_type"), room.get("owner_type")),
                    "status": statuses.get(room.get("status"), room.get("status"))}

        _conflict_box(key, ROOM_SHOWN, ROOM_LABELS, shown)
        if record.get("version") != held.get("version") and not st.session_state.get(f"{key}_conflict"):
            st.warning(f"该用房在您打开后已被他人修改（当前版本 {record['version']}），保存时将被拒绝；"
                       "请先核对最新内容。")
            st.button("以最新内容重新修改", key=f"{key}_refresh", on_click=_hold, args=(key, record))
        st.caption(f"正在修改 {md(held.get('code'))} · 版本 {held.get('version')}")

    def val(field, default=None):
        v = held.get(field)
        return default if v is None else v

    def k(field: str) -> str:
        return widget_key(key, held, field)

    street_codes, com_codes = list(streets), [None, *communities]
    start_street = val("subdistrict_code", default_street)
    with st.form(f"{key}_form"):
        a, b = st.columns(2)
        values = {
            "code": a.text_input("用房编号", val("code", ""), max_chars=40, key=k("code")),
            "address": b.text_input("地址", val("address", ""), max_chars=200, key=k("address")),
            "subdistrict_code": a.selectbox("街道", street_codes, format_func=streets.get, key=k("subdistrict_code"),
                                            index=street_codes.index(start_street) if start_street in street_codes
                                            else 0, placeholder=locale.PICK),
            "community_code": b.selectbox("社区（可不填）", com_codes, key=k("community_code"),
                                          format_func=lambda c: "（不填）" if c is None else communities.get(c, c),
                                          index=com_codes.index(val("community_code"))
                                          if val("community_code") in com_codes else 0, placeholder=locale.PICK),
            "lon": a.number_input("经度（WGS-84）", value=val("lon"), format="%.6f", step=0.0001, key=k("lon")),
            "lat": b.number_input("纬度（WGS-84）", value=val("lat"), format="%.6f", step=0.0001, key=k("lat")),
            "area_m2": a.number_input("面积（m²）", value=None if val("area_m2") is None else float(val("area_m2")),
                                      step=10.0, key=k("area_m2")),
            "floor": b.number_input("楼层（一层填 1，地下一层填 -1）", value=int(val("floor", 1)), step=1,
                                    key=k("floor")),
            "has_lift": a.checkbox("有电梯", bool(val("has_lift", False)), key=k("has_lift")),
            "owner_type": b.selectbox("产权类型", list(owner_types), format_func=owner_types.get, key=k("owner_type"),
                                      index=list(owner_types).index(val("owner_type"))
                                      if val("owner_type") in owner_types else 0, placeholder=locale.PICK),
            "monthly_rent": a.number_input("月租金（元/月）", value=float(val("monthly_rent", 0.0)), step=500.0,
                                           key=k("monthly_rent")),
            "available_from": b.date_input("可用日期", value=val("available_from"), key=k("available_from")),
            "status": a.selectbox("状态", list(statuses), format_func=statuses.get, key=k("status"),
                                  index=list(statuses).index(val("status")) if val("status") in statuses else 0, placeholder=locale.PICK),
        }
        submitted = st.form_submit_button("保存", type="primary")
    if not submitted:
        return
    if record is not None:
        _save(key, on_save, held, values, f"用房 {md(values['code'])} 已保存。")
        return
    try:
        on_add(values)
    except (EditError, AccessDenied) as exc:
        st.error(f"未保存：{md(getattr(exc, 'message', exc))}")
        return
    st.session_state[f"{key}_new_n"] = held["version"] + 1
    st.session_state[f"{key}_added"] = f"用房 {values['code']} 已保存。"
    st.rerun()
