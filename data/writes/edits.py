"""修改记录 with optimistic concurrency: a finding's rectification status and a facility's status dates.

Every edit is one ``UPDATE … WHERE id = ? AND version = ?`` that also sets ``version = version + 1``, in the
same transaction as its audit entry (before/after of the changed fields) and the data-version bump. When the
row's version is no longer the one the user loaded, nothing is written: `StaleEdit` carries a Chinese
message and the record as it is now, the conflict is audited ("edit_conflict", in its own transaction since
the write was abandoned), and the user decides again on the current values — no update is ever lost.

Authorisation is checked here, on the record's own subdistrict (data.security.access.require_write), whatever the page
sends: a 街道 account can change only its own subdistrict's records; 局领导 / 展示 / 管理员 cannot write.
Every refused write attempt is audited once (`audited_refusal`, used by every write of the edit path: findings,
facilities, vacant rooms, scenarios, frozen figures), as a failed entry of the action that was attempted; a save
that changes nothing is refused before writing: no audit entry, no version bump.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from data.security.access import AccessDenied, Principal, require_write, query
from data.security.audit import record, record_now
from data.db.models import FACILITY_KINDS, FACILITY_STATUSES, Facility, Finding, Subdistrict
from data.queries.common import bump_data_version, guarded_update

MAX_NOTE = 1000

FINDING_FIELDS = ("id", "code", "source", "place_type", "place_name", "subdistrict_code", "category", "severity",
                  "description", "found_on", "deadline", "rectified_on", "note", "version")
FACILITY_FIELDS = ("id", "code", "name", "kind", "subdistrict_code", "planned_on", "construction_started_on",
                   "opened_on", "closed_on", "version")
FIELD_LABELS = {
    "code": "编号", "name": "名称", "place_name": "点位", "subdistrict_name": "街道", "subdistrict_code": "街道代码",
    "category": "问题类别", "severity": "严重程度", "description": "问题描述", "found_on": "发现日期",
    "deadline": "整改期限", "rectified_on": "整改完成日期", "note": "整改说明", "status_name": "状态",
    "kind_name": "类型", "planned_on": "规划日期", "construction_started_on": "开工日期", "opened_on": "开业日期",
    "closed_on": "关停日期", "version": "版本",
}
FACILITY_DATES = ("construction_started_on", "opened_on", "closed_on")


class _Unset:
    """A facility date not passed to update_facility_status: left as it is."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


class EditError(ValueError):
    """An edit refused (nothing written); the message is Chinese. `current` is the record as it is now."""

    def __init__(self, message: str, current: dict | None = None):
        super().__init__(message)
        self.message = message
        self.current = current


class StaleEdit(EditError):
    """Someone else saved the record after it was loaded: nothing written; `current` holds the new values."""


# --- refused attempts: audited once ---------------------------------------------------------------------------

@dataclass
class Attempt:
    """What a write is about, for the audit entry of its refusal; the write fills in `target` once it knows it."""
    action: str
    target: str | None = None
    detail: dict = field(default_factory=dict)


@contextmanager
def audited_refusal(engine: Engine, principal: Principal, action: str, target: str | None = None,
                    detail: dict | None = None) -> Iterator[Attempt]:
    """Around one write: an AccessDenied raised inside (a role without write permission, a 街道 account writing
    another subdistrict's record) is audited once — a failed `action` entry with the reason, in its own transaction
    since the write's own was rolled back — and re-raised. Nested writes audit the refusal only once."""
    attempt = Attempt(action, target, dict(detail or {}))
    try:
        yield attempt
    except AccessDenied as exc:
        if not getattr(exc, "audited", False):
            exc.audited = True
            try:
                record_now(engine, principal, attempt.action, attempt.target,
                           {**attempt.detail, "refused": str(exc)}, ok=False)
            except SQLAlchemyError:  # the refusal stands even when it cannot be written down
                pass
        raise


# --- reading one record (for an edit form) ---------------------------------------------------------------------

def _finding_row(conn: Connection, finding_id: int | None = None, code: str | None = None) -> dict | None:
    cols = [getattr(Finding, f) for f in FINDING_FIELDS]
    stmt = (select(*cols, Subdistrict.name.label("subdistrict_name"))
            .join(Subdistrict, Subdistrict.code == Finding.subdistrict_code))
    stmt = stmt.where(Finding.id == int(finding_id)) if finding_id is not None else stmt.where(Finding.code == code)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    out = {k: _as_date(v) if k in ("found_on", "deadline", "rectified_on") else v for k, v in row.items()}
    out["status_name"] = "已整改" if out["rectified_on"] else "未整改"
    return out


def _facility_row(conn: Connection, facility_id: int) -> dict | None:
    cols = [getattr(Facility, f) for f in FACILITY_FIELDS]
    stmt = (select(*cols, Subdistrict.name.label("subdistrict_name"))
            .join(Subdistrict, Subdistrict.code == Facility.subdistrict_code)
            .where(Facility.id == int(facility_id)))
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    out = {k: _as_date(v) if k.endswith("_on") else v for k, v in row.items()}
    out["kind_name"] = FACILITY_KINDS.get(out["kind"], out["kind"])
    out["status"] = facility_status(out, date.today())
    out["status_name"] = FACILITY_STATUSES[out["status"]]
    return out


@query(scope="rows")  # the record carries its subdistrict: a 街道 account opens its own only
def finding_for_edit(engine: Engine, finding_id: int | None = None, code: str | None = None) -> dict | None:
    """One finding as an edit form needs it (by id or by its 问题编号), with its subdistrict and version;
    None when there is none. Read it through data.security.access so a 街道 account gets only its own."""
    code = (code or "").strip() or None
    if finding_id is None and code is None:
        return None
    with engine.connect() as conn:
        return _finding_row(conn, finding_id, code)


@query(scope="rows")  # the record carries its subdistrict: a 街道 account opens its own only
def facility_for_edit(engine: Engine, facility_id: int) -> dict | None:
    """One facility's status dates, status today, subdistrict and version; None when there is none."""
    with engine.connect() as conn:
        return _facility_row(conn, facility_id)


# --- helpers ---------------------------------------------------------------------------------------------------

def _as_date(v):
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _day(v, label: str) -> date | None:
    if v is None:
        return None
    if hasattr(v, "to_pydatetime"):  # pandas Timestamp
        v = v.to_pydatetime()
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v).strip()[:10])
    except ValueError:
        raise EditError(f"“{label}”应为日期，如 2024-09-01。") from None


def _iso(v):
    return v.isoformat() if isinstance(v, date) else v


def _changes(before: dict, after: dict) -> dict:
    return {k: {"before": _iso(before.get(k)), "after": _iso(v)} for k, v in after.items() if before.get(k) != v}


def facility_status(values: dict, on: date) -> str:
    """planned → building → operating → closed, from the dates as on a day (as data.queries.facilities.status_on)."""
    if values.get("closed_on") and values["closed_on"] <= on:
        return "closed"
    if values.get("opened_on") and values["opened_on"] <= on:
        return "operating"
    if values.get("construction_started_on") and values["construction_started_on"] <= on:
        return "building"
    return "planned"


def stale_message(current: dict, expected_version: int, what: str = "您的修改未保存") -> str:
    """The one message of a write refused because someone else saved the record first (findings, facilities,
    vacant rooms)."""
    return (f"该记录已被他人修改（当前版本 {current['version']}，您编辑的是版本 {expected_version}），{what}。"
            "请核对下方最新内容后重新修改。")


def _conflict(engine: Engine, principal: Principal, target: str, exc: StaleEdit, expected_version: int,
              attempted: dict) -> None:
    record_now(engine, principal, "edit_conflict", target,
               {"expected_version": expected_version,
                "current_version": exc.current.get("version") if exc.current else None,
                "attempted": {k: _iso(v) for k, v in attempted.items()}}, ok=False)


# --- findings --------------------------------------------------------------------------------------------------

def update_finding(engine: Engine, principal: Principal, finding_id: int, expected_version: int, *,
                   rectified_on: date | None, note: str | None) -> dict:
    """修改整改状态: mark the finding rectified on `rectified_on` (not before it was found, not in the future) with a
    note, or reopen it (rectified_on=None). ``note=None`` keeps the note as it is; a note is required when marking
    rectified. Returns the finding as saved. Raises AccessDenied, EditError, StaleEdit (nothing written)."""
    finding_id, expected_version = int(finding_id), int(expected_version)
    rectified_on = _day(rectified_on, "整改完成日期")
    note = None if note is None else str(note).strip()
    target = f"findings:{finding_id}"
    attempted = {"rectified_on": _iso(rectified_on), "note": note}
    try:
        with audited_refusal(engine, principal, "edit", target,
                             {"table": "findings", "id": finding_id, "attempted": attempted}) as attempt, \
                engine.begin() as conn:
            current = _finding_row(conn, finding_id)
            if current is None:
                raise EditError("该问题已不存在（可能已被删除）。")
            target = attempt.target = f"findings:{current['code']}"
            require_write(principal, street=current["subdistrict_code"])
            if current["version"] != expected_version:
                raise StaleEdit(stale_message(current, expected_version), current=current)
            if rectified_on is not None:
                if rectified_on < current["found_on"]:
                    raise EditError(f"整改完成日期（{rectified_on:%Y-%m-%d}）不能早于发现日期（{current['found_on']:%Y-%m-%d}）。",
                                    current)
                if rectified_on > date.today():
                    raise EditError(f"整改完成日期（{rectified_on:%Y-%m-%d}）不能晚于今天。", current)
                if not (note if note is not None else current["note"] or ""):
                    raise EditError("请填写整改情况说明。", current)
            if note is not None and len(note) > MAX_NOTE:
                raise EditError(f"整改说明不能超过 {MAX_NOTE} 个字。", current)
            after = {"rectified_on": rectified_on}
            if note is not None:
                after["note"] = note or None
            changes = _changes(current, after)
            if not changes:
                raise EditError("内容与当前记录相同，未保存。", current)
            values = {k: after[k] for k in changes}
            if not guarded_update(conn, Finding, finding_id, expected_version, values):
                now = _finding_row(conn, finding_id)
                if now is None:
                    raise EditError("该问题已不存在（可能已被删除）。")
                raise StaleEdit(stale_message(now, expected_version), current=now)
            record(conn, principal, "edit", target,
                   {"table": "findings", "id": finding_id, "code": current["code"],
                    "action": "rectify" if rectified_on else "reopen",
                    "version": {"before": expected_version, "after": expected_version + 1}, "changes": changes})
            bump_data_version(conn)
            saved = _finding_row(conn, finding_id)
    except StaleEdit as exc:
        _conflict(engine, principal, target, exc, expected_version, {"rectified_on": rectified_on, "note": note})
        raise
    return saved


# --- facilities ------------------------------------------------------------------------------------------------

def _check_facility_dates(dates: dict, today: date) -> None:
    label = FIELD_LABELS
    for f in FACILITY_DATES:
        if dates.get(f) and dates[f] > today:
            raise EditError(f"{label[f]}（{dates[f]:%Y-%m-%d}）不能晚于今天。")
    if dates.get("closed_on") and not dates.get("opened_on"):
        raise EditError("填写关停日期前须先填写开业日期（设施状态依次为：规划中 → 建设中 → 运营中 → 已关停）。")
    chain = [f for f in ("planned_on", *FACILITY_DATES) if dates.get(f)]
    for earlier, later in zip(chain, chain[1:]):
        if dates[later] < dates[earlier]:
            raise EditError(f"{label[later]}（{dates[later]:%Y-%m-%d}）不能早于{label[earlier]}"
                            f"（{dates[earlier]:%Y-%m-%d}）。")


def update_facility_status(engine: Engine, principal: Principal, facility_id: int, expected_version: int, *,
                           construction_started_on=UNSET, opened_on=UNSET, closed_on=UNSET) -> dict:
    """修改设施状态: set the facility's 开工 / 开业 / 关停 dates (None clears a date; a date not passed is kept).
    The status follows from the dates — 规划中 → 建设中 → 运营中 → 已关停 — so they must keep that order (and not
    precede the planning date), none may be in the future, and a closing date needs an opening date.
    Returns the facility as saved. Raises AccessDenied, EditError, StaleEdit (nothing written)."""
    facility_id, expected_version = int(facility_id), int(expected_version)
    asked = {f: _day(v, FIELD_LABELS[f]) for f, v in (("construction_started_on", construction_started_on),
                                                      ("opened_on", opened_on), ("closed_on", closed_on))
             if v is not UNSET}
    target = f"facilities:{facility_id}"
    try:
        with audited_refusal(engine, principal, "edit", target,
                             {"table": "facilities", "id": facility_id,
                              "attempted": {k: _iso(v) for k, v in asked.items()}}) as attempt, \
                engine.begin() as conn:
            current = _facility_row(conn, facility_id)
            if current is None:
                raise EditError("该设施已不存在（可能已被删除）。")
            target = attempt.target = f"facilities:{current['code']}"
            require_write(principal, street=current["subdistrict_code"])
            if current["version"] != expected_version:
                raise StaleEdit(stale_message(current, expected_version), current=current)
            today = date.today()
            try:
                _check_facility_dates({**current, **asked}, today)
            except EditError as exc:
                raise EditError(exc.message, current) from None
            changes = _changes(current, asked)
            if not changes:
                raise EditError("内容与当前记录相同，未保存。", current)
            if not guarded_update(conn, Facility, facility_id, expected_version, {k: asked[k] for k in changes}):
                now = _facility_row(conn, facility_id)
                if now is None:
                    raise EditError("该设施已不存在（可能已被删除）。")
                raise StaleEdit(stale_message(now, expected_version), current=now)
            after_status = facility_status({**current, **asked}, today)
            if after_status != current["status"]:
                changes["status"] = {"before": current["status"], "after": after_status}
            record(conn, principal, "edit", target,
                   {"table": "facilities", "id": facility_id, "code": current["code"],
                    "version": {"before": expected_version, "after": expected_version + 1}, "changes": changes})
            bump_data_version(conn)
            saved = _facility_row(conn, facility_id)
    except StaleEdit as exc:
        _conflict(engine, principal, target, exc, expected_version, asked)
        raise
    return saved
