"""审计日志: append-only record of every write, sign-in, failed sign-in and disclosure of personal data.

`record` is called inside the writing transaction, so an audited change and its audit entry commit
together or not at all. It is the one place entries are written, and it masks personal data on the way in
(data.security.masking.mask_personal): no ID number or mobile number, wherever it stands in the detail, the target or a
typed user name, and no value of an ID/phone field, is ever stored in clear. The table refuses UPDATE and DELETE at the database level (migrations 0004, 0009: only rows a registered archive covers may
be deleted).

Tamper-evident (migration 0009): each row carries prev_hash, the row_hash of the row before it, and row_hash, the
SHA-256 of a canonical serialisation of its stored (masked) fields and prev_hash (`row_hash`). A changed, deleted or
inserted row breaks the chain; data.ops.audit_archive verifies it and moves rows older than six months to archives.

How the chain stays linear without making audit a source of deadlocks: `record` does not insert at once. It masks
and stamps the entry and keeps it with the connection; when the caller's transaction commits (SQLAlchemy's
`commit` event, below), `seal` takes the chain lock, reads the last row_hash, and inserts the entries chained to it,
just before the COMMIT. The chain lock is therefore the last lock a transaction takes and is held only for those
inserts and the commit: a transaction holding it never waits for a row lock, the import lock or anything else, so
it cannot be part of a deadlock, however long the caller's transaction (an import, a restore) ran before.
* PostgreSQL: pg_advisory_xact_lock(CHAIN_LOCK_KEY) — a fixed key, distinct from the import locks'
  (data.db.locks hashes the schema and "minzheng-import:<ledger>"); released by the commit itself.
* SQLite: the database's one write lock. A transaction that has written holds it already; one that has not (an
  entry recorded on its own) takes it with BEGIN IMMEDIATE before reading the last hash.
A rolled-back transaction drops its pending entries with it, as an inserted row would have been. On a connection in
AUTOCOMMIT mode (the SQLite restore drives its own BEGIN IMMEDIATE … COMMIT) entries are sealed at once.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import weakref
from datetime import date, datetime

import pandas as pd
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from data.security.access import ROLES
from data.security.masking import mask_personal, mask_personal_text
from data.db.models.auth import AuditArchive, AuditEntry

ACTIONS = {
    "signin": "登录",
    "signin_failed": "登录失败",
    "lockout": "账号锁定",
    "signout": "退出登录",
    "session_expired": "会话过期",
    "password_change": "修改密码",
    "user_create": "新建账号",
    "user_update": "修改账号",
    "import": "导入台账",
    "import_refused": "导入被拒",
    "edit": "修改记录",
    "edit_conflict": "修改冲突",
    "reveal_personal": "查看个人信息",
    "export_personal": "导出个人信息",
    "freeze": "冻结季度数据",
    "room_add": "新增闲置用房",
    "room_edit": "修改闲置用房",
    "room_convert": "用房转为设施",
    "scenario_save": "保存选址方案",
    "backup": "备份数据库",
    "restore": "恢复数据库",
    "settings": "修改设置",
    "read_refused": "拒绝查看",
    "duban_issue": "派发督办单",
    "duban_step": "督办单流转",
    "station_tasks": "修改服务内容清单",
    "station_entry": "站点填报",
    "dispatch": "一月一调度",
    "assessment_publish": "发布月度考核",
    "audit_verify": "核验审计日志",
    "audit_archive": "归档审计日志",
}


def _actor(who) -> tuple[str | None, str | None]:
    if who is None:
        return None, None
    if isinstance(who, str):
        return who, None
    return getattr(who, "username", None), getattr(who, "role", None)


def record(conn: Connection, who, action: str, target: str | None = None, detail: dict | str | None = None,
           ok: bool = True, *, at: datetime | None = None) -> None:
    """Append one entry when `conn`'s transaction commits (see the module docstring). `who` is a
    data.security.access.Principal, a username, or None (anonymous); `at` defaults to now."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    username, role = _actor(who)
    if detail is not None and not isinstance(detail, str):
        # through JSON first, so dates, decimals and numpy values are plain before they are masked
        detail = json.dumps(mask_personal(json.loads(json.dumps(detail, ensure_ascii=False, default=str))),
                            ensure_ascii=False, sort_keys=True)
    elif detail is not None:
        detail = mask_personal_text(detail)
    entry = dict(at=at or datetime.now(), username=mask_personal_text(username) if username else username,
                 role=role, action=action, target=(target or None) and mask_personal_text(str(target))[:200],
                 detail=detail, ok=bool(ok))
    if _autocommit(conn) or not conn.in_transaction():
        append_entries(conn, [entry])
        return
    _PENDING.setdefault(conn, []).append(entry)


def record_now(engine: Engine, who, action: str, target: str | None = None, detail=None, ok: bool = True) -> None:
    """Append one entry in its own transaction (sign-in attempts, disclosures)."""
    with engine.begin() as conn:
        record(conn, who, action, target, detail, ok)


# --- the hash chain ------------------------------------------------------------------------------------------------

GENESIS = "0" * 64   # the prev_hash of the very first row
CHAIN_FIELDS = ("at", "username", "role", "action", "target", "detail", "ok")
# pg_advisory_xact_lock key of the chain: fixed and database-wide, unlike data.db.locks' per-schema keys — replicas of
# two versions run side by side while they are restarted one by one, and a chain lock they did not share would let
# both append after the same row (a broken chain); serialising the appends of two schemas only makes one wait a moment
CHAIN_LOCK_KEY = int.from_bytes(hashlib.sha256(b"minzheng-audit-chain").digest()[:8], "big", signed=True)

CHUNK = 1000
_PENDING: "weakref.WeakKeyDictionary[Connection, list[dict]]" = weakref.WeakKeyDictionary()


def canonical_at(at) -> str:
    """A stored `at` as the chain reads it (both engines keep microseconds)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.isoformat(sep=" ", timespec="microseconds")


def row_hash(row: dict, prev_hash: str | None = None) -> str:
    """SHA-256 (hex) of an entry's stored fields and the hash it continues: a JSON array, fields in CHAIN_FIELDS
    order then prev_hash, UTF-8, no spaces. `prev_hash` defaults to the row's own."""
    body = [canonical_at(row["at"]), row["username"], row["role"], row["action"], row["target"], row["detail"],
            bool(row["ok"]), row["prev_hash"] if prev_hash is None else prev_hash]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _autocommit(conn: Connection) -> bool:
    check = getattr(conn, "_is_autocommit_isolation", None)
    if check is not None:
        return bool(check())
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def lock_chain(conn: Connection) -> None:
    """Take the chain lock for the rest of `conn`'s transaction (PostgreSQL); on SQLite make sure the transaction
    holds the write lock. Take it as the LAST lock of a transaction (see the module docstring)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})
    elif conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def last_hash(conn: Connection) -> str:
    """The hash the next entry continues: the newest row's, else the newest archive's last one, else GENESIS."""
    t = AuditEntry.__table__
    last = conn.execute(select(t.c.row_hash).order_by(t.c.id.desc()).limit(1)).first()
    if last is not None and last[0]:
        return last[0]
    a = AuditArchive.__table__
    archived = conn.execute(select(a.c.last_hash).order_by(a.c.last_id.desc()).limit(1)).scalar()
    return archived or GENESIS


def append_entries(conn: Connection, entries: list[dict]) -> None:
    """Chain `entries` (dicts of CHAIN_FIELDS) after the last row and insert them, in order, now. The restore uses
    this for the live entries it carries over; everything else goes through `record`."""
    if not entries:
        return
    own = conn.dialect.name == "sqlite" and _autocommit(conn) and not conn.connection.driver_connection.in_transaction
    if conn.dialect.name == "postgresql" and _autocommit(conn):
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": CHAIN_LOCK_KEY})
    else:
        lock_chain(conn)
    try:
        prev, rows = last_hash(conn), []
        for e in entries:
            row = {c: e[c] for c in CHAIN_FIELDS}
            row["ok"] = bool(row["ok"])
            row["prev_hash"] = prev
            row["row_hash"] = prev = row_hash(row)
            rows.append(row)
        # ids must follow the chain's order: one statement per entry for the usual one to three; a restore's carried
        # entries go as a batch whose rows are numbered in order (checked, else inserted one by one)
        for start in range(0, len(rows), CHUNK):
            part = rows[start:start + CHUNK]
            if len(part) < 4:
                for row in part:
                    conn.execute(insert(AuditEntry).values(**row))
                continue
            t = AuditEntry.__table__
            got = conn.execute(insert(t).returning(t.c.id, t.c.row_hash, sort_by_parameter_order=True), part).all()
            if [h for _, h in sorted(got)] != [r["row_hash"] for r in part]:
                raise RuntimeError("audit entries were numbered out of order")
        if own:
            conn.exec_driver_sql("COMMIT")
    except BaseException:
        if own:
            conn.exec_driver_sql("ROLLBACK")
        raise
    finally:
        if conn.dialect.name == "postgresql" and _autocommit(conn):
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": CHAIN_LOCK_KEY})


def seal(conn: Connection) -> None:
    """Insert `conn`'s pending entries, chained (called by the commit event; harmless to call earlier)."""
    entries = _PENDING.pop(conn, None)
    if entries:
        append_entries(conn, entries)


@event.listens_for(Engine, "commit")
def _seal_before_commit(conn: Connection) -> None:
    if conn in _PENDING:
        seal(conn)


@event.listens_for(Engine, "rollback")
def _drop_on_rollback(conn: Connection) -> None:
    _PENDING.pop(conn, None)


def _audit_where(stmt, t, start: date | None, end: date | None, username: str | None, actions: tuple[str, ...]):
    if start:
        stmt = stmt.where(t.c.at >= datetime.combine(start, datetime.min.time()))
    if end:
        stmt = stmt.where(t.c.at < datetime.combine(end, datetime.min.time()) + pd.Timedelta(days=1))
    if username:
        stmt = stmt.where(t.c.username == username)
    if actions:
        stmt = stmt.where(t.c.action.in_(actions))
    return stmt


def audit_entries(engine: Engine, *, start: date | None = None, end: date | None = None,
                  username: str | None = None, actions: tuple[str, ...] = (), limit: int = 500) -> pd.DataFrame:
    """The newest entries first, filtered by day range, user and action."""
    t = AuditEntry.__table__
    stmt = select(t.c.id, t.c.at, t.c.username, t.c.role, t.c.action, t.c.target, t.c.detail, t.c.ok)
    stmt = _audit_where(stmt, t, start, end, username, actions).order_by(t.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def audit_entry_count(engine: Engine, *, start: date | None = None, end: date | None = None,
                      username: str | None = None, actions: tuple[str, ...] = ()) -> int:
    """How many entries match the same filters as `audit_entries` (which returns at most `limit`)."""
    t = AuditEntry.__table__
    stmt = _audit_where(select(func.count()).select_from(t), t, start, end, username, actions)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def audit_usernames(engine: Engine) -> list[str]:
    """Every user name that appears in the audit log (for the page's user filter), sorted."""
    t = AuditEntry.__table__
    with engine.connect() as conn:
        names = conn.execute(select(t.c.username).where(t.c.username.is_not(None)).distinct()).scalars()
        return sorted(names)


# --- 详情 as a reader reads it -------------------------------------------------------------------------------------

DETAIL_WORDS = {
    "before": "修改前", "after": "修改后", "attempted": "尝试写入", "values": "内容", "changes": "改动", "table": "数据表",
    "id": "记录号", "version": "版本", "status": "状态", "reason": "原因", "code": "编号", "name": "名称",
    "username": "账号", "display_name": "姓名", "role": "角色", "active": "启用", "must_change_password": "须改密码",
    "subdistrict_code": "街道", "subdistrict_name": "街道", "community_code": "社区", "street": "街道",
    "rectified_on": "整改完成日期", "deadline": "整改期限", "found_on": "发现日期", "opened_on": "开业日期",
    "closed_on": "关停日期", "frozen_by": "冻结人", "frozen_at": "冻结时间", "as_of": "数据截至", "period": "统计期",
    "quarter": "季度", "figures": "指标数", "address": "地址", "phone": "电话", "owner_type": "产权类型",
    "monthly_rent": "月租金", "has_lift": "有电梯", "floor": "楼层", "area_m2": "面积（平方米）", "lon": "经度",
    "lat": "纬度", "available_from": "可用日期", "note": "备注", "file": "文件", "ledger": "台账", "rows": "行数",
    "row": "行", "column": "列", "problem": "问题", "n": "数量", "ok": "成功", "op": "操作", "label": "名称",
    "kind": "类型", "weight": "权重", "radius": "半径", "walk_radius_m": "步行半径（米）", "data_version": "数据版本",
    "os_user": "系统用户", "date": "日期", "range": "范围", "unit": "单位", "value": "数值", "key": "键",
    "tianditu_key": "天地图密钥", "gaode": "高德", "basemap": "底图", "count": "条数", "inserted": "新增",
    "updated": "更新", "deleted": "删除", "skipped": "跳过", "mode": "方式", "target": "对象",
    # a site-selection scenario's parameters (geo.site_selection.SiteParams)
    "parameters": "参数", "created_by": "创建人", "radius_m": "半径（米）", "k": "最多间数", "target_share": "覆盖目标",
    "max_rooms": "最多间数", "min_area_m2": "最小面积（平方米）", "access": "楼层要求", "owner_types": "产权类型",
    "max_rent_each": "单间租金上限（元/月）", "rent_budget": "租金总预算（元/月）", "time_limit_s": "求解时限（秒）",
    "count_service_area": "服务范围内社区计为已覆盖", "action": "操作", "from": "原状态", "to": "新状态",
    "current_version": "当前版本", "expected_version": "预期版本",
    "first_at": "最早时间", "last_at": "最晚时间", "broken_id": "断裂的记录号", "cutoff": "截止日期",
    "first_id": "起始记录号", "last_id": "终止记录号", "sha256": "SHA-256", "left": "留在表中",
    # a ledger import (data.imports): what the file added, changed and left as it was
    "added_keys": "新增记录编号", "batch_id": "导入批次号", "gcj02": "坐标由GCJ-02换算", "rows_added": "新增行数",
    "rows_total": "文件行数", "rows_unchanged": "未变行数", "rows_updated": "更新行数", "title": "标题",
    # an account's password change, a 督办单 issued, a refused read
    "other_sessions_ended": "结束的其他登录会话数", "password": "密码", "source": "来源", "source_ref": "来源记录",
    "asked_street": "所请求的街道", "query": "查询（系统内部名称）",
}
DETAIL_TABLES = {"findings": "问题", "vacant_rooms": "闲置用房", "users": "账号", "facilities": "设施",
                 "frozen_figures": "冻结数", "settings": "设置", "site_scenarios": "选址方案",
                 "meal_records": "助餐记录", "home_services": "居家上门服务", "living_alone": "独居老人名册",
                 "living_alone_visits": "独居老人巡访记录", "aid_households": "救助家庭", "aid_persons": "救助对象",
                 "aid_payments": "救助发放", "population": "社区老年人口", "supervision_orders": "督办单",
                 "station_entries": "站点台账"}


# stored codes a reader knows by their Chinese words, by the key they are stored under (e.g. role "office" → 业务科室)
@functools.cache
def _value_words() -> dict[str, dict]:
    """Words for the stored codes of a field, by field name (a scenario's parameters from geo.site_selection, read
    only when a detail is shown: the sign-in path does not load the geometry libraries)."""
    from data.domain.supervision import SOURCES
    from geo.site_selection import ACCESS_RULES, MODES, OWNER_TYPES, WEIGHTS

    return {"role": ROLES, "roles": ROLES, "principal_role": ROLES, "mode": MODES, "access": ACCESS_RULES,
            "weight": WEIGHTS, "owner_types": OWNER_TYPES, "owner_type": OWNER_TYPES, "source": SOURCES,
            "password": {"changed": "已修改", "reset": "已重置", "set": "已设置"}}
# a stored code that names an action (an edit conflict's "op": room_edit …, a step's "action") reads as that action
ACTION_WORDS = {**ACTIONS, "rectify": "整改完成", "reopen": "重新打开", "save": "保存", "delete": "删除", "add": "新增",
                "update": "修改", "convert": "转为设施"}
CODE = re.compile(r"[a-z]+(?:_[a-z0-9]+)+")  # a stored code (snake_case) with no word above: never shown as is
# fields that hold what a person typed or a name (an account like zhang_san, a file name): always shown as stored
AS_TYPED = {"username", "created_by", "frozen_by", "by", "display_name", "name", "label", "file", "note", "address",
            "reason", "os_user", "code", "error", "title", "added_keys", "query"}


def _detail_value(value, key=None) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value is None or value == "":
        return "空"
    if isinstance(value, (dict, list, tuple)) and not value:
        return "无"
    if isinstance(value, dict):
        if set(value) == {"before", "after"}:
            return f"{_detail_value(value['before'], key)} → {_detail_value(value['after'], key)}"
        return "，".join(f"{_detail_key(k)}：{_detail_value(v, k)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "、".join(_detail_value(v, key) for v in value)
    text = str(value)
    if str(key) in AS_TYPED:
        return text
    words = _value_words().get(str(key), {})
    shown = words.get(text) or DETAIL_TABLES.get(text) or ACTION_WORDS.get(text, text)
    return "其他" if CODE.fullmatch(shown) else shown


def _detail_key(key) -> str:
    key = str(key)
    return DETAIL_WORDS.get(key, key if not any("a" <= c <= "z" for c in key.lower()) else "其他")


def readable_detail(detail: str | None) -> str:
    """An audit entry's 详情 in words (修改前：… ；修改后：…) instead of its stored JSON; personal numbers masked."""
    if not isinstance(detail, str) or not detail:
        return ""
    try:
        parsed = json.loads(detail)
    except (TypeError, ValueError):
        return mask_personal_text(detail)
    if not isinstance(parsed, dict):
        return mask_personal_text(_detail_value(parsed))
    return mask_personal_text("；".join(f"{_detail_key(k)}：{_detail_value(v, k)}" for k, v in parsed.items()))


def readable_target(target: str | None) -> str:
    """An entry's 对象 as a reader reads it: a stored `vacant_rooms:VR-001` shows as `闲置用房：VR-001`; a table
    name without a Chinese word shows as 其他; personal numbers masked."""
    if not isinstance(target, str) or not target:
        return ""
    prefix, sep, rest = target.partition(":")
    if sep and prefix and all(c.islower() or c == "_" for c in prefix):
        return mask_personal_text(f"{DETAIL_TABLES.get(prefix, '其他')}：{rest}")
    return mask_personal_text(target)
