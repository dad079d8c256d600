"""选址分析的写入: vacant rooms (add and edit on the page's form, with optimistic concurrency), conversion into a
planned meal point, and saved scenarios. Every write runs in one transaction that also bumps the data version.

A vacant room (闲置用房) has one pipeline, whether it comes from the form or from an Excel file: its rules — fields,
ranges, choices, dates and their Chinese messages — are the "vacant_rooms" ledger's (data.imports.ledgers.VACANT_ROOMS
and data.imports.validation; the form's values are checked by data.imports.records.validate_record), and every room
is written by data.imports.writing.store under the one optimistic rule of data.writes.edits (a stale version is
refused with `stale_message` and the room as it is now). Files are imported by data.imports.import_file, ledger
"vacant_rooms". "converted" is reached only through mark_converted, which creates the planned facility; basement
rooms may be registered but are never proposed as meal points (see geo.site_selection).

Every write takes the signed-in `principal` (data.security.access.Principal) and is authorised here on the room's own
subdistrict (a 街道 account writes only its own subdistrict's rooms and scenarios; 局领导 / 展示 / 管理员 cannot
write), and audited (data.security.audit) in the same transaction; a refused stale update is audited as a conflict (with
the values attempted), a refused attempt (data.writes.edits.audited_refusal) once, and a save that changes nothing is
refused before writing (no audit entry, no version bump).
"""
from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from data.db.models import Facility, VacantRoom
from data.db.models.site import SiteScenario
from data.imports.ledgers import VACANT_ROOMS
from data.imports.records import validate_record
from data.imports.validation import ROOM_CONVERTED
from data.imports.writing import EXPECTED, IDENT, WriteConflict, store
from data.security.access import AccessDenied, Principal, require_write
from data.queries.common import bump_data_version
from data.security.audit import record, record_now
from data.writes.edits import EditError, StaleEdit, audited_refusal, stale_message
from geo.site_selection import ROOM_STATUSES

GONE = "该用房已不存在（可能已被删除）。"


class RoomWriteError(EditError):
    """A room write refused; `messages` are Chinese, each naming the field. An EditError of the edit path
    (`message` is the messages joined), so the edit forms handle it like a finding's."""

    def __init__(self, messages: list[str], current: dict | None = None):
        super().__init__("；".join(messages), current)  # current: the room as it is now in the database
        self.messages = messages


class StaleRoomError(RoomWriteError, StaleEdit):
    """Someone else saved the room after it was loaded: nothing was written; `current` holds the new values."""


class ScenarioError(ValueError):
    """A scenario cannot be saved; the message is Chinese."""


def _checked(conn: Connection, values: dict, stored: dict | None = None) -> tuple[dict, list[str]]:
    """The room's values by the vacant_rooms ledger's rules: (clean values, ["“列”problem", …])."""
    clean, problems = validate_record(conn, VACANT_ROOMS, values, stored=stored)
    return clean, [f"“{column}”{problem}" for column, problem in problems]


def _code_taken(conn: Connection, code: str) -> str | None:
    if conn.execute(select(VacantRoom.id).where(VacantRoom.code == code)).first():
        return f"“{VACANT_ROOMS.header_of('code')}”“{code}”已存在"
    return None


def _current(conn, room_id: int) -> dict | None:
    row = conn.execute(select(*VacantRoom.__table__.c).where(VacantRoom.id == room_id)).mappings().first()
    return dict(row) if row else None


def _update(conn: Connection, room_id: int, expected_version: int, values: dict) -> None:
    """One room's fields set through the ledger's one write (data.imports.writing.store), only while the room still
    has `expected_version`; WriteConflict otherwise."""
    store(conn, VACANT_ROOMS, updated=pd.DataFrame([{IDENT: room_id, EXPECTED: expected_version, **values}]),
          fields=list(values))


# --- rooms -------------------------------------------------------------------------------------------------------

def _audit_values(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _room_changes(before: dict, after: dict) -> dict:
    return {k: {"before": _audit_values({k: before.get(k)})[k], "after": _audit_values({k: v})[k]}
            for k, v in after.items() if _differs(before.get(k), v)}


def _room_conflict(engine: Engine, principal: Principal, room: dict | None, room_id: int, expected_version: int,
                   what: str, attempted: dict | None = None) -> None:
    """A save refused because someone else saved first: audited with what this user tried to write (so nothing
    typed is lost), in its own transaction since the write was abandoned."""
    target = f"vacant_rooms:{room['code']}" if room else f"vacant_rooms:{room_id}"
    detail = {"table": "vacant_rooms", "id": room_id, "op": what, "expected_version": expected_version,
              "current_version": room["version"] if room else None}
    if attempted is not None:
        detail["attempted"] = _audit_values(attempted)
    record_now(engine, principal, "edit_conflict", target, detail, ok=False)


def _stale(current: dict | None, expected_version: int, what: str = "您的修改未保存") -> StaleRoomError:
    """A refused stale write of a room, with data.writes.edits' one message."""
    if current is None:
        return StaleRoomError([GONE])
    return StaleRoomError([stale_message(current, expected_version, what)], current=current)


def _differs(old, new) -> bool:
    if isinstance(old, float) or isinstance(new, float):
        return old is None or new is None or abs(float(old) - float(new)) > 1e-9
    return old != new


def add_room(engine: Engine, principal: Principal, values: dict) -> int:
    """新增闲置用房: checked by the vacant_rooms ledger's rules and inserted by its one write; returns the new id.
    Raises AccessDenied, or RoomWriteError with every problem."""
    code = str(values.get("code") or "").strip()[:40]
    with audited_refusal(engine, principal, "room_add", f"vacant_rooms:{code}",
                         {"table": "vacant_rooms", "attempted": _audit_values(values)}), engine.begin() as conn:
        require_write(principal)
        clean, problems = _checked(conn, values)
        require_write(principal, street=clean.get("subdistrict_code"))
        if not problems and (taken := _code_taken(conn, clean["code"])):
            problems.append(taken)
        if problems:
            raise RoomWriteError(problems)
        try:
            store(conn, VACANT_ROOMS, added=pd.DataFrame([clean], columns=list(VACANT_ROOMS.fields)))
        except IntegrityError as exc:
            raise RoomWriteError([f"“{VACANT_ROOMS.header_of('code')}”“{clean['code']}”已存在"]) from exc
        new_id = conn.execute(select(VacantRoom.id).where(VacantRoom.code == clean["code"])).scalar_one()
        record(conn, principal, "room_add", f"vacant_rooms:{clean['code']}",
               {"table": "vacant_rooms", "id": int(new_id), "values": _audit_values(clean)})
        bump_data_version(conn)
    return int(new_id)


def update_room(engine: Engine, principal: Principal, room_id: int, values: dict, expected_version: int) -> int:
    """修改闲置用房 with optimistic concurrency: only if its version is still `expected_version`.

    Returns the new version. A stale version raises StaleRoomError carrying the current values (audited as a
    conflict, with the values attempted); a 街道 account may neither edit another subdistrict's room nor move a room
    out of its own (refused and audited once). Values equal to the room's as it is are refused (RoomWriteError):
    nothing written, no audit entry, no version bump.
    """
    room_id, expected_version = int(room_id), int(expected_version)
    try:
        with audited_refusal(engine, principal, "room_edit", f"vacant_rooms:{room_id}",
                             {"table": "vacant_rooms", "id": room_id, "attempted": _audit_values(values)}) as attempt, \
                engine.begin() as conn:
            current = _current(conn, room_id)
            if current is None:
                raise RoomWriteError([GONE])
            attempt.target = f"vacant_rooms:{current['code']}"
            require_write(principal, street=current["subdistrict_code"])
            if current["version"] != expected_version:
                raise _stale(current, expected_version)
            if current["status"] == "converted":
                raise RoomWriteError([f"{ROOM_CONVERTED}。"], current=current)
            clean, problems = _checked(conn, values, stored=current)
            require_write(principal, street=clean.get("subdistrict_code"))
            if not problems and clean["code"] != current["code"] and (taken := _code_taken(conn, clean["code"])):
                problems.append(taken)
            if problems:
                raise RoomWriteError(problems, current=current)
            changes = _room_changes(current, clean)
            if not changes:
                raise RoomWriteError(["内容与当前记录相同，未保存。"], current=current)
            try:
                _update(conn, room_id, expected_version, {k: clean[k] for k in changes})
            except WriteConflict:  # saved meanwhile
                raise _stale(_current(conn, room_id), expected_version) from None
            record(conn, principal, "room_edit", f"vacant_rooms:{current['code']}",
                   {"table": "vacant_rooms", "id": room_id,
                    "version": {"before": expected_version, "after": expected_version + 1}, "changes": changes})
            bump_data_version(conn)
    except StaleRoomError as exc:
        _room_conflict(engine, principal, exc.current, room_id, expected_version, "room_edit", values)
        raise
    return expected_version + 1


def mark_converted(engine: Engine, principal: Principal, room_id: int, expected_version: int,
                   planned_on: date | None = None, facility_name: str | None = None) -> int:
    """标记为已转为设施: the room becomes "converted" and a planned meal point is created from it, in one
    transaction. Returns the new facility's id."""
    planned_on = planned_on or date.today()
    room_id, expected_version = int(room_id), int(expected_version)
    try:
        with audited_refusal(engine, principal, "room_convert", f"vacant_rooms:{room_id}",
                             {"table": "vacant_rooms", "id": room_id}) as attempt, engine.begin() as conn:
            room = _current(conn, room_id)
            if room is None:
                raise RoomWriteError([GONE])
            attempt.target = f"vacant_rooms:{room['code']}"
            require_write(principal, street=room["subdistrict_code"])
            if room["version"] != expected_version:
                raise _stale(room, expected_version, "未转为设施")
            if room["status"] not in ("candidate", "negotiating"):
                raise RoomWriteError([f"该用房状态为“{ROOM_STATUSES.get(room['status'], room['status'])}”，"
                                      "只有候选或洽谈中的用房可以转为设施。"], current=room)
            try:
                _update(conn, room_id, expected_version, {"status": "converted"})
            except WriteConflict:
                raise _stale(_current(conn, room_id), expected_version, "未转为设施") from None
            code = f"MP-VR-{room['code']}"[:40]
            if conn.execute(select(Facility.id).where(Facility.code == code)).first():
                raise RoomWriteError([f"设施编号“{code}”已存在，请先核对设施台账。"], current=room)
            name = (facility_name or "").strip() or f"{room['address']}助餐点"
            fid = conn.execute(insert(Facility).values(
                code=code, name=name[:120], kind="meal_point", subdistrict_code=room["subdistrict_code"],
                community_code=room["community_code"], address=room["address"], lon=room["lon"], lat=room["lat"],
                planned_on=planned_on, vacant_room_id=room["id"], version=1)).inserted_primary_key[0]
            record(conn, principal, "room_convert", f"vacant_rooms:{room['code']}",
                   {"table": "vacant_rooms", "id": room_id,
                    "version": {"before": expected_version, "after": expected_version + 1},
                    "changes": {"status": {"before": room["status"], "after": "converted"}},
                    "facility": {"id": int(fid), "code": code, "name": name[:120],
                                 "planned_on": planned_on.isoformat()}})
            bump_data_version(conn)
    except StaleRoomError as exc:
        _room_conflict(engine, principal, exc.current, room_id, expected_version, "room_convert",
                       {"status": "converted"})
        raise
    return int(fid)


# --- scenarios ---------------------------------------------------------------------------------------------------

def _scenario_street(principal: Principal, street: str | None) -> None:
    """A 街道 account writes only scenarios of its own subdistrict (a district-wide one is not its own)."""
    require_write(principal, street=street)
    if principal.role == "street" and street != principal.subdistrict_code:
        raise AccessDenied("街道账号只能保存或删除本街道的选址方案。")


def save_scenario(engine: Engine, principal: Principal, name: str, parameters: dict, result: dict, *,
                  street: str | None = None, data_version: int | None = None, created_by: str | None = None) -> int:
    """保存选址方案 (parameters and result as JSON); names are unique. Returns the new id.

    `street` is the subdistrict filter in force (None = 全区; a 街道 account's scenarios are always its own
    subdistrict's). `created_by` defaults to the principal's name."""
    if principal.role == "street" and street is None:
        street = principal.subdistrict_code
    with audited_refusal(engine, principal, "scenario_save", f"site_scenarios:{(name or '').strip()[:100]}",
                         {"table": "site_scenarios", "op": "save", "street": street}):
        _scenario_street(principal, street)
    created_by = created_by or principal.display_name or principal.username
    name = (name or "").strip()
    if not name:
        raise ScenarioError("请填写方案名称。")
    if len(name) > 100:
        raise ScenarioError("方案名称不能超过 100 个字。")
    params_text = json.dumps(parameters, ensure_ascii=False, allow_nan=False, default=str)
    result_text = json.dumps(result, ensure_ascii=False, allow_nan=False, default=str)
    with engine.begin() as conn:
        if conn.execute(select(SiteScenario.id).where(SiteScenario.name == name)).first():
            raise ScenarioError(f"已有同名方案“{name}”，请换一个名称。")
        try:
            sid = conn.execute(insert(SiteScenario).values(
                name=name, created_at=datetime.now().replace(microsecond=0), created_by=created_by, street=street,
                data_version=data_version, parameters_json=params_text,
                result_json=result_text)).inserted_primary_key[0]
        except IntegrityError as exc:
            raise ScenarioError(f"已有同名方案“{name}”，请换一个名称。") from exc
        record(conn, principal, "scenario_save", f"site_scenarios:{name}",
               {"table": "site_scenarios", "op": "save", "id": int(sid), "name": name, "street": street,
                "data_version": data_version, "parameters": parameters})
        bump_data_version(conn)
    return int(sid)


def delete_scenario(engine: Engine, principal: Principal, scenario_id: int) -> bool:
    """删除选址方案; False when it no longer exists. Audited as an edit of site_scenarios (op "delete") with the
    scenario as it was (before); a refused attempt is audited once."""
    with audited_refusal(engine, principal, "edit", f"site_scenarios:{scenario_id}",
                         {"table": "site_scenarios", "op": "delete", "id": int(scenario_id)}) as attempt, \
            engine.begin() as conn:
        require_write(principal)
        row = conn.execute(select(SiteScenario.name, SiteScenario.street, SiteScenario.created_by,
                                  SiteScenario.data_version, SiteScenario.parameters_json)
                           .where(SiteScenario.id == scenario_id)).first()
        if row is None:
            return False
        attempt.target = f"site_scenarios:{row.name}"
        _scenario_street(principal, row.street)
        gone = conn.execute(SiteScenario.__table__.delete().where(SiteScenario.id == scenario_id)).rowcount
        if gone:
            record(conn, principal, "edit", f"site_scenarios:{row.name}",
                   {"table": "site_scenarios", "op": "delete", "id": int(scenario_id), "name": row.name,
                    "street": row.street,
                    "before": {"name": row.name, "street": row.street, "created_by": row.created_by,
                               "data_version": row.data_version, "parameters": json.loads(row.parameters_json)},
                    "after": None})
            bump_data_version(conn)
    return bool(gone)
