"""选址分析的写入: vacant rooms (add, edit with optimistic concurrency, Excel import), conversion into a planned
meal point, and saved scenarios. Every write runs in one transaction that also bumps the data version.

Rules for a vacant room (闲置用房), each refusal naming the field in Chinese:
- 用房编号 and 地址 required; 街道 must exist; 社区, when given, must belong to that 街道;
- 经度/纬度 required, WGS-84, inside the district outline (with a small tolerance for the simplified outline);
- 面积 > 0 and ≤ 20,000 m²; 楼层 an integer from -3 to 60 and not 0 (1 = ground floor, -1 = first basement) —
  basement rooms may be registered but are never proposed as meal points (see geo.site_selection);
- 产权类型 one of state / community / enterprise / private; 月租金 ≥ 0; 状态 candidate / negotiating / rejected —
  "converted" is reached only through mark_converted, which creates the planned facility.

Every write takes the signed-in `principal` (data.queries.access.Principal) and is authorised here on the room's own
subdistrict (a 街道 account writes only its own subdistrict's rooms and scenarios; 局领导 / 展示 / 管理员 cannot
write), and audited (data.security.audit) in the same transaction; a refused stale update is audited as a conflict (with
the values attempted), a refused attempt (data.writes.edits.audited_refusal) once, and a save that changes nothing is
refused before writing (no audit entry, no version bump).
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from data.queries.access import AccessDenied, Principal, require_write
from data.security.audit import record, record_now
from data.writes.edits import EditError, StaleEdit, audited_refusal, stale_message
from data.db.models import Community, Facility, Subdistrict, VacantRoom
from data.db.models.site import SiteScenario
from data.queries.common import bump_data_version, guarded_update
from geo import layers
from geo.site_selection import OWNER_TYPES, ROOM_STATUSES

EDITABLE_STATUSES = ("candidate", "negotiating", "rejected")
FIELD_LABELS = {
    "code": "用房编号", "address": "地址", "subdistrict_code": "街道", "community_code": "社区",
    "lon": "经度", "lat": "纬度", "area_m2": "面积(m²)", "floor": "楼层", "has_lift": "有无电梯",
    "owner_type": "产权类型", "monthly_rent": "月租金(元/月)", "available_from": "可用日期", "status": "状态",
}
# The registry's columns as shown, exported and imported (a downloaded registry can be imported again).
REGISTRY_HEADERS = {
    "code": "用房编号", "address": "地址", "subdistrict_name": "街道", "community_name": "社区",
    "lon": "经度", "lat": "纬度", "area_m2": "面积(m²)", "floor": "楼层", "has_lift": "有无电梯",
    "owner_type": "产权类型", "monthly_rent": "月租金(元/月)", "available_from": "可用日期", "status": "状态",
}
MAX_AREA_M2 = 20_000
MAX_RENT = 1_000_000
FLOOR_RANGE = (-3, 60)


class RoomWriteError(EditError):
    """A room write refused; `messages` are Chinese, each naming the field (and row, for imports). An EditError of
    the edit path (`message` is the messages joined), so the edit forms handle it like a finding's."""

    def __init__(self, messages: list[str], current: dict | None = None):
        super().__init__("；".join(messages), current)  # current: the room as it is now in the database
        self.messages = messages


class StaleRoomError(RoomWriteError, StaleEdit):
    """Someone else saved the room after it was loaded: nothing was written; `current` holds the new values."""


class ScenarioError(ValueError):
    """A scenario cannot be saved; the message is Chinese."""


# --- validation --------------------------------------------------------------------------------------------------

def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()) \
        or v is pd.NaT


def _number(v):
    if isinstance(v, bool):
        raise ValueError
    n = float(str(v).strip().replace(",", "")) if isinstance(v, str) else float(v)
    if not math.isfinite(n):
        raise ValueError
    return n


def _bool(v) -> bool:
    if isinstance(v, bool):
        return v
    text = str(v).strip().lower()
    if text in ("是", "有", "true", "1", "1.0", "yes", "y"):
        return True
    if text in ("否", "无", "没有", "false", "0", "0.0", "no", "n"):
        return False
    raise ValueError


def _date(v) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, pd.Timestamp):
        return v.date()
    return date.fromisoformat(str(v).strip()[:10].replace("/", "-"))


def _choice(v, options: dict[str, str]) -> str:
    text = str(v).strip()
    if text in options:
        return text
    by_label = {label: key for key, label in options.items()}
    if text in by_label:
        return by_label[text]
    raise ValueError


def validate_room(values: dict, subdistricts: dict[str, str], communities: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
    """Clean a room's values; returns (clean values, [(field, problem in Chinese), …]).

    subdistricts: code -> name; communities: community code -> its subdistrict code.
    """
    clean, problems = {}, []

    def need(f):
        if _blank(values.get(f)):
            problems.append((f, "必须填写"))
            return False
        return True

    for f, limit in (("code", 40), ("address", 200)):
        if need(f):
            text = str(values[f]).strip()
            if len(text) > limit:
                problems.append((f, f"不能超过 {limit} 个字"))
            clean[f] = text
    if need("subdistrict_code"):
        code = str(values["subdistrict_code"]).strip()
        if code not in subdistricts:
            problems.append(("subdistrict_code", f"“{code}”不是本区的街道"))
        clean["subdistrict_code"] = code
    if not _blank(values.get("community_code")):
        code = str(values["community_code"]).strip()
        if code not in communities:
            problems.append(("community_code", f"“{code}”不是本区的社区"))
        elif clean.get("subdistrict_code") and communities[code] != clean["subdistrict_code"]:
            problems.append(("community_code", f"“{code}”不属于所填街道"))
        clean["community_code"] = code
    else:
        clean["community_code"] = None
    coords_ok = True
    for f, lo, hi in (("lon", -180, 180), ("lat", -90, 90)):
        if not need(f):
            coords_ok = False
            continue
        try:
            n = _number(values[f])
            if not lo <= n <= hi:
                raise ValueError
            clean[f] = n
        except (TypeError, ValueError):
            problems.append((f, f"应为 {lo} 至 {hi} 之间的数字（WGS-84 经纬度）"))
            coords_ok = False
    if coords_ok and not layers.inside_district([clean["lon"]], [clean["lat"]])[0]:
        problems.append(("lon", f"坐标（{clean['lon']:.6f}, {clean['lat']:.6f}）不在西湖区范围内"
                                "（请核对经纬度是否填反，或是否为高德 GCJ-02 坐标）"))
    if need("area_m2"):
        try:
            n = _number(values["area_m2"])
            if n <= 0:
                problems.append(("area_m2", "必须大于 0"))
            elif n > MAX_AREA_M2:
                problems.append(("area_m2", f"不能超过 {MAX_AREA_M2:,} m²"))
            clean["area_m2"] = n
        except (TypeError, ValueError):
            problems.append(("area_m2", "应为数字"))
    if need("floor"):
        try:
            n = _number(values["floor"])
            if n != int(n):
                raise ValueError
            n = int(n)
            if not FLOOR_RANGE[0] <= n <= FLOOR_RANGE[1]:
                problems.append(("floor", f"应在 {FLOOR_RANGE[0]} 至 {FLOOR_RANGE[1]} 之间（地下一层填 -1）"))
            elif n == 0:
                problems.append(("floor", "不能为 0：一层填 1，地下一层填 -1"))
            clean["floor"] = n
        except (TypeError, ValueError):
            problems.append(("floor", "应为整数（一层填 1，地下一层填 -1）"))
    if _blank(values.get("has_lift")):
        clean["has_lift"] = False
    else:
        try:
            clean["has_lift"] = _bool(values["has_lift"])
        except ValueError:
            problems.append(("has_lift", "应填“是”或“否”"))
    if need("owner_type"):
        try:
            clean["owner_type"] = _choice(values["owner_type"], OWNER_TYPES)
        except ValueError:
            problems.append(("owner_type", f"应为：{'、'.join(OWNER_TYPES.values())}"))
    if need("monthly_rent"):
        try:
            n = _number(values["monthly_rent"])
            if n < 0:
                problems.append(("monthly_rent", "不能为负数（无租金填 0）"))
            elif n > MAX_RENT:
                problems.append(("monthly_rent", f"不能超过 {MAX_RENT:,} 元/月"))
            clean["monthly_rent"] = n
        except (TypeError, ValueError):
            problems.append(("monthly_rent", "应为数字（无租金填 0）"))
    if _blank(values.get("available_from")):
        clean["available_from"] = None
    else:
        try:
            clean["available_from"] = _date(values["available_from"])
        except (TypeError, ValueError):
            problems.append(("available_from", "应为日期，如 2024-09-01"))
    if _blank(values.get("status")):
        clean["status"] = "candidate"
    else:
        try:
            status = _choice(values["status"], ROOM_STATUSES)
            if status == "converted":
                problems.append(("status", "不能直接改为“已转为设施”，请使用“标记为已转为设施”操作"))
            clean["status"] = status
        except ValueError:
            problems.append(("status", f"应为：{'、'.join(ROOM_STATUSES[s] for s in EDITABLE_STATUSES)}"))
    return clean, problems


def _field_messages(problems: list[tuple[str, str]]) -> list[str]:
    return [f"“{FIELD_LABELS.get(f, f)}”{p}" for f, p in problems]


def _lookups(conn) -> tuple[dict[str, str], dict[str, str]]:
    subs = dict(conn.execute(select(Subdistrict.code, Subdistrict.name)).all())
    coms = dict(conn.execute(select(Community.code, Community.subdistrict_code)).all())
    return subs, coms


def _current(conn, room_id: int) -> dict | None:
    row = conn.execute(select(*VacantRoom.__table__.c).where(VacantRoom.id == room_id)).mappings().first()
    return dict(row) if row else None


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
        return StaleRoomError(["该用房已不存在（可能已被删除）。"])
    return StaleRoomError([stale_message(current, expected_version, what)], current=current)


def add_room(engine: Engine, principal: Principal, values: dict) -> int:
    """新增闲置用房: validate and insert; returns the new id. Raises AccessDenied, or RoomWriteError with every
    problem."""
    code = str(values.get("code") or "").strip()[:40]
    with audited_refusal(engine, principal, "room_add", f"vacant_rooms:{code}",
                         {"table": "vacant_rooms", "attempted": _audit_values(values)}), engine.begin() as conn:
        require_write(principal)
        clean, problems = validate_room(values, *_lookups(conn))
        require_write(principal, street=clean.get("subdistrict_code"))
        if not problems and conn.execute(select(VacantRoom.id).where(VacantRoom.code == clean["code"])).first():
            problems.append(("code", f"“{clean['code']}”已存在"))
        if problems:
            raise RoomWriteError(_field_messages(problems))
        try:
            new_id = conn.execute(insert(VacantRoom).values(**clean, version=1)).inserted_primary_key[0]
        except IntegrityError as exc:
            raise RoomWriteError([f"“用房编号”“{clean['code']}”已存在"]) from exc
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
                raise RoomWriteError(["该用房已不存在（可能已被删除）。"])
            attempt.target = f"vacant_rooms:{current['code']}"
            require_write(principal, street=current["subdistrict_code"])
            if current["version"] != expected_version:
                raise _stale(current, expected_version)
            if current["status"] == "converted":
                raise RoomWriteError(["该用房已转为设施，不能再修改。"], current=current)
            clean, problems = validate_room(values, *_lookups(conn))
            require_write(principal, street=clean.get("subdistrict_code"))
            if not problems and clean["code"] != current["code"] and conn.execute(
                    select(VacantRoom.id).where(VacantRoom.code == clean["code"])).first():
                problems.append(("code", f"“{clean['code']}”已存在"))
            if problems:
                raise RoomWriteError(_field_messages(problems), current=current)
            changes = _room_changes(current, clean)
            if not changes:
                raise RoomWriteError(["内容与当前记录相同，未保存。"], current=current)
            if not guarded_update(conn, VacantRoom, room_id, expected_version,
                                  {k: clean[k] for k in changes}):  # saved meanwhile
                raise _stale(_current(conn, room_id), expected_version)
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
                raise RoomWriteError(["该用房已不存在（可能已被删除）。"])
            attempt.target = f"vacant_rooms:{room['code']}"
            require_write(principal, street=room["subdistrict_code"])
            if room["version"] != expected_version:
                raise _stale(room, expected_version, "未转为设施")
            if room["status"] not in ("candidate", "negotiating"):
                raise RoomWriteError([f"该用房状态为“{ROOM_STATUSES.get(room['status'], room['status'])}”，"
                                      "只有候选或洽谈中的用房可以转为设施。"], current=room)
            if not guarded_update(conn, VacantRoom, room_id, expected_version, {"status": "converted"}):
                raise _stale(_current(conn, room_id), expected_version, "未转为设施")
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


# --- Excel import ------------------------------------------------------------------------------------------------

def import_rooms_excel(engine: Engine, principal: Principal, data: bytes, file_name: str = "闲置用房.xlsx", *,
                       gcj02: bool = False):
    """导入闲置用房 through the one ledger pipeline (data.imports, ledger "vacant_rooms"): the one guarded reader
    (size, zip bomb, rows and cells), validation naming file / row / column, all or nothing, an import batch and an
    audit entry for every attempt. Returns data.imports.ImportResult; raises AccessDenied or data.imports.ImportRefused
    (a 街道 account's rows of another subdistrict are problems of the refusal, like any other)."""
    from data.imports import import_file

    return import_file(engine, principal, "vacant_rooms", file_name, data, gcj02=gcj02)


def _differs(old, new) -> bool:
    if isinstance(old, float) or isinstance(new, float):
        return old is None or new is None or abs(float(old) - float(new)) > 1e-9
    return old != new


def registry_frame(rooms: pd.DataFrame) -> pd.DataFrame:
    """The registry as shown and exported: Chinese headers, labels for codes (importable again as it is)."""
    out = pd.DataFrame({h: rooms[c] if c in rooms.columns else None for c, h in REGISTRY_HEADERS.items()})
    out["有无电梯"] = rooms["has_lift"].map({True: "是", False: "否"}) if len(rooms) else out["有无电梯"]
    out["产权类型"] = rooms["owner_type"].map(lambda v: OWNER_TYPES.get(v, v)) if len(rooms) else out["产权类型"]
    out["状态"] = rooms["status"].map(lambda v: ROOM_STATUSES.get(v, v)) if len(rooms) else out["状态"]
    return out


def template_frame() -> pd.DataFrame:
    """导入模板: the registry headers with one example row."""
    return pd.DataFrame([{
        "用房编号": "XZ-示例-001", "地址": "南浦街道某路 1 号一层", "街道": "南浦街道", "社区": "",
        "经度": 115.889, "纬度": 28.670, "面积(m²)": 150, "楼层": 1, "有无电梯": "否", "产权类型": "国有",
        "月租金(元/月)": 0, "可用日期": "2025-01-01", "状态": "候选",
    }], columns=list(REGISTRY_HEADERS.values()))


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
