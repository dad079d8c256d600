"""督办的写入: issue an order (from a weekly-review item, a finding, a roundtable request, a dispatch meeting or by
hand), move it one step of the loop, and keep the stations' duty list, their entries, the monthly dispatch meetings,
the published monthly assessment and the settings.

The house rules of every write (as data.writes.edits): one transaction holds the change, its audit entry and the
data-version bump, so nothing is ever half-written; input is checked before anything is written and refused with a
Chinese message naming the field (EditError); who may write is checked here, whatever the page sends (AccessDenied,
audited once by data.writes.edits.audited_refusal); a step on an order someone else moved since it was loaded is
refused with the one stale message (data.writes.edits.stale_message) and the order as it is now (StaleEdit), the
conflict audited — the user decides again, nothing is lost.

Evidence files (附件) are JPEG, PNG or PDF, checked by their content (the magic bytes, and an image must decode), not
by their name; at most `Settings.evidence_max_mb` each and MAX_FILES per feedback; kept in the database
(supervision_evidence) and read back only through data.queries.supervision.evidence_file (roles that may see the
order). Closing (办结) an order about a finding marks the finding rectified on the day of the accepted report, and
one about a roundtable request marks the request resolved: F74 (协调解决问题诉求) counts what the loop closed.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from data.db.models import Finding, Meta, RoundtableIssue, RoundtableMeeting, ServiceStation, Subdistrict
from data.db.models.supervision import (DispatchRecord, ServiceTask, StationEntry, StationScore, SupervisionEvent,
                                        SupervisionEvidence, SupervisionOrder)
from data.domain import supervision as rules
from data.queries import supervision as sq
from data.security.access import AccessDenied, Principal, require_write
from data.queries.common import bump_data_version, guarded_update
from data.security.audit import record, record_now
from data.writes.edits import EditError, StaleEdit, audited_refusal, stale_message

MAX_TITLE = 200
MAX_TEXT = 2000
MAX_ASSIGNEE = 50
MAX_FILES = 5
MAX_FILE_NAME = 120
DEADLINE_HORIZON = timedelta(days=366)
CODE_ATTEMPTS = 3

EVIDENCE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf"}
MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "application/pdf": b"%PDF-"}
TYPE_LABELS = {"image/jpeg": "JPEG 图片", "image/png": "PNG 图片", "application/pdf": "PDF 文件"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Evidence:
    """One uploaded file as the page hands it over: its name and bytes."""
    name: str
    content: bytes


# --- checks --------------------------------------------------------------------------------------------------

def _text(value, label: str, limit: int, required: bool = True) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise EditError(f"请填写“{label}”。")
        return None
    if _CONTROL.search(text):
        raise EditError(f"“{label}”含有不可见的控制字符，请删除后重新填写。")
    if len(text) > limit:
        raise EditError(f"“{label}”不能超过 {limit} 个字（现有 {len(text)} 个字）。")
    return text


def _date(value, label: str) -> date:
    if value is None or value == "":
        raise EditError(f"请填写“{label}”。")
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise EditError(f"“{label}”应为日期，如 2024-09-01。") from None


def _deadline(value, today: date, label: str = "整改期限") -> date:
    day = _date(value, label)
    if day < today:
        raise EditError(f"“{label}”（{day:%Y-%m-%d}）不能早于今天（{today:%Y-%m-%d}）。")
    if day > today + DEADLINE_HORIZON:
        raise EditError(f"“{label}”（{day:%Y-%m-%d}）不能晚于一年以后。")
    return day


def _unit(engine: Engine, key) -> dict:
    """The responsible unit chosen ("subdistrict:360103001", "department:…", "provider:…"), or EditError."""
    key = "" if key is None else str(key).strip()
    if not key:
        raise EditError("请选择“责任单位”。")
    options = sq.unit_options(engine)
    hit = options[options["key"] == key]
    if hit.empty:
        shown = key.split(":", 1)[-1][:40]
        raise EditError(f"“责任单位”中的“{shown}”不存在，请从列表中选择街道、区直部门或服务商。")
    row = hit.iloc[0]
    return {"unit_kind": row["kind"], "unit_name": row["name"],
            "subdistrict_code": row["subdistrict_code"] if row["kind"] == "subdistrict" else None}


def check_evidence(name: str, content: bytes, max_bytes: int) -> tuple[str, str]:
    """(clean file name, media type) of one evidence file, or EditError naming the file: only JPEG, PNG and PDF, the
    content must be what the extension says (magic bytes; an image must decode, a PDF must end), within the limit."""
    raw = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = _CONTROL.sub("", raw).strip()[:MAX_FILE_NAME] or "附件"
    ext = ("." + clean.rsplit(".", 1)[-1].lower()) if "." in clean else ""
    media = EVIDENCE_TYPES.get(ext)
    if media is None:
        raise EditError(f"附件“{clean}”：只接受 JPG、PNG 图片和 PDF 文件。")
    if not content:
        raise EditError(f"附件“{clean}”是空文件。")
    if len(content) > max_bytes:
        raise EditError(f"附件“{clean}”大小为 {len(content) / 1048576:.1f} MB，超过上限 {max_bytes / 1048576:.0f} MB。")
    if not content.startswith(MAGIC[media]):
        actual = next((TYPE_LABELS[m] for m, magic in MAGIC.items() if content.startswith(magic)), "无法识别的内容")
        raise EditError(f"附件“{clean}”的内容不是扩展名所示的{TYPE_LABELS[media]}（实际为{actual}），未上传。")
    if media == "application/pdf":
        if b"%%EOF" not in content[-2048:]:
            raise EditError(f"附件“{clean}”不是完整的 PDF 文件。")
    else:
        from PIL import Image

        try:
            with Image.open(io.BytesIO(content)) as img:
                img.verify()
        except Exception:  # noqa: BLE001 - any decoder failure means the file is not a usable image
            raise EditError(f"附件“{clean}”不是可以打开的{TYPE_LABELS[media]}。") from None
    return clean, media


def _checked_files(engine: Engine, files) -> list[tuple[str, str, bytes]]:
    files = list(files or ())
    if len(files) > MAX_FILES:
        raise EditError(f"每次反馈最多上传 {MAX_FILES} 个附件（现有 {len(files)} 个）。")
    limit = sq.supervision_settings(engine).evidence_max_bytes
    out = []
    for f in files:
        name, media = check_evidence(f.name, f.content, limit)
        out.append((name, media, bytes(f.content)))
    return out


def _require_office(principal: Principal, what: str) -> None:
    if principal.role != "office":
        raise AccessDenied(f"只有业务科室可以{what}。")


def _require_step(principal: Principal, step: rules.Step, order: dict) -> None:
    if rules.may_act(step, principal.role, order["unit_kind"], order["subdistrict_code"], principal.subdistrict_code):
        return
    if step.side == rules.OFFICE:
        raise AccessDenied(f"只有业务科室可以{step.label}。")
    if order["unit_kind"] != "subdistrict" and principal.role in ("street", "leader"):
        raise AccessDenied(f"该督办单的责任单位是{order['unit_kind_name']}（{order['unit_name']}），"
                           "由业务科室代为签收和反馈。")
    if principal.role == "street":
        raise AccessDenied("街道账号只能办理本街道的督办单。")
    if principal.role == "office" and order["unit_kind"] == "subdistrict":
        raise AccessDenied(f"该督办单由{order['unit_name']}签收和反馈，业务科室不能代为{step.label}。")
    raise AccessDenied(f"{principal.role_label}账号不能办理督办单。")


# --- issuing -------------------------------------------------------------------------------------------------

def _next_code(conn, year: int) -> str:
    prefix = f"DB-{year}-"
    top = conn.execute(select(func.max(SupervisionOrder.code)).where(SupervisionOrder.code.like(prefix + "%"))).scalar()
    n = int(top[len(prefix):]) + 1 if top and top[len(prefix):].isdigit() else 1
    return f"{prefix}{n:04d}"


def _retrying(write):
    """Run a write that numbers new orders; when two writers took the same number, the later one runs again."""
    for attempt in range(CODE_ATTEMPTS):
        try:
            return write()
        except IntegrityError as exc:
            if "uq_supervision_orders_code" not in str(exc) and "supervision_orders.code" not in str(exc) \
                    or attempt == CODE_ATTEMPTS - 1:
                raise


def _check_source(conn, fields: dict) -> None:
    kind = fields["source_kind"]
    if kind not in rules.SOURCES:
        raise EditError(f"未知的督办来源“{kind}”。")
    if fields.get("finding_id") is not None and conn.execute(
            select(Finding.id).where(Finding.id == int(fields["finding_id"]))).first() is None:
        raise EditError("所督办的问题已不存在。")
    if fields.get("roundtable_issue_id") is not None:
        issue = conn.execute(select(RoundtableIssue.resolved_on).where(
            RoundtableIssue.id == int(fields["roundtable_issue_id"]))).first()
        if issue is None:
            raise EditError("所督办的圆桌会诉求已不存在。")
        if issue[0] is not None:
            raise EditError("该圆桌会诉求已协调解决，不必再督办。")
    if fields.get("source_ref"):
        o = SupervisionOrder
        open_ = conn.execute(select(o.code, o.status).where(o.source_kind == kind, o.source_ref == fields["source_ref"],
                                                          o.status != "closed")).first()
        if open_ is not None:
            raise EditError(f"该事项已有督办单 {open_[0]}（{rules.STATUSES[open_[1]]}），不必重复派发。")


def _insert_order(conn, principal: Principal, fields: dict, today: date, now: datetime) -> dict:
    """Number and insert one order with its 派单 event and audit entry (inside the caller's transaction)."""
    _check_source(conn, fields)
    code = _next_code(conn, today.year)
    values = dict(fields, code=code, issued_on=today, issued_by=principal.username, status="pending", returned=0,
                  version=1)
    order_id = conn.execute(insert(SupervisionOrder).values(**values).returning(SupervisionOrder.id)).scalar_one()
    conn.execute(insert(SupervisionEvent).values(order_id=order_id, at=now, action=rules.ISSUE, from_status=None,
                                                 to_status="pending", actor=principal.username,
                                                 actor_role=principal.role, note=fields["requirement"][:MAX_TEXT]))
    record(conn, principal, "duban_issue", f"督办单:{code}",
           {"code": code, "source": fields["source_kind"], "source_ref": fields.get("source_ref"),
            "unit": fields["unit_name"], "deadline": fields["deadline"], "title": fields["title"]})
    return sq.order_row(conn, order_id)


def _order_fields(engine: Engine, today: date, *, unit, assignee, deadline, title, requirement, label: str = "") -> dict:
    return {**_unit(engine, unit), "assignee": _text(assignee, f"{label}责任人", MAX_ASSIGNEE),
            "deadline": _deadline(deadline, today, f"{label}整改期限"),
            "title": _text(title, f"{label}督办事项", MAX_TITLE),
            "requirement": _text(requirement, f"{label}整改要求", MAX_TEXT)}


def issue_order(engine: Engine, principal: Principal, *, unit: str, assignee: str, deadline, title: str,
                requirement: str, source_kind: str = "manual", source_ref: str | None = None,
                finding_id: int | None = None, facility_id: int | None = None, roundtable_issue_id: int | None = None,
                today: date | None = None) -> dict:
    """派单: a new 督办单 (待签收) to `unit`, numbered DB-<year>-<n>; returns it as saved. Office only. Refused with a
    Chinese message naming the field: an unknown unit, a deadline in the past, empty text; an item that already has
    an open order. Raises AccessDenied, EditError (nothing written)."""
    today = today or date.today()
    with audited_refusal(engine, principal, "duban_issue", "督办单", {"title": str(title)[:100]}):
        _require_office(principal, "派发督办单")
    fields = _order_fields(engine, today, unit=unit, assignee=assignee, deadline=deadline, title=title,
                           requirement=requirement)
    fields.update(source_kind=source_kind, source_ref=(source_ref or None),
                  finding_id=int(finding_id) if finding_id is not None else None,
                  facility_id=int(facility_id) if facility_id is not None else None,
                  roundtable_issue_id=int(roundtable_issue_id) if roundtable_issue_id is not None else None)

    def write():
        with engine.begin() as conn:
            saved = _insert_order(conn, principal, fields, today, datetime.now())
            bump_data_version(conn)
            return saved

    return _retrying(write)


def record_request(engine: Engine, principal: Principal, *, meeting_id: int, raised_by: str, topic: str, unit: str,
                   assignee: str, deadline, requirement: str | None = None, today: date | None = None) -> dict:
    """登记圆桌会诉求: a request raised at a roundtable meeting, recorded and at once given to a responsible unit as a
    督办单 (one transaction). Office only. Returns the order."""
    today = today or date.today()
    with audited_refusal(engine, principal, "duban_issue", "圆桌会诉求", {"topic": str(topic)[:100]}):
        _require_office(principal, "登记圆桌会诉求")
    raised_by = _text(raised_by, "提出单位", 120)
    topic = _text(topic, "诉求内容", 200)
    requirement = _text(requirement, "整改要求", MAX_TEXT, required=False) or \
        f"{raised_by}在“幸福圆桌会”上提出：{topic}。请牵头协调解决并反馈结果。"
    fields = _order_fields(engine, today, unit=unit, assignee=assignee, deadline=deadline,
                           title=f"圆桌会诉求：{topic}"[:MAX_TITLE], requirement=requirement)

    def write():
        with engine.begin() as conn:
            held = conn.execute(select(RoundtableMeeting.held_on).where(RoundtableMeeting.id == int(meeting_id))).scalar()
            if held is None:
                raise EditError("请选择“圆桌会”：所选会议不存在。")
            issue_id = conn.execute(insert(RoundtableIssue).values(meeting_id=int(meeting_id), raised_by=raised_by,
                                                                   topic=topic, resolved_on=None)
                                    .returning(RoundtableIssue.id)).scalar_one()
            saved = _insert_order(conn, principal, dict(fields, source_kind="roundtable", source_ref=f"RT-{issue_id}",
                                                        roundtable_issue_id=issue_id), today, datetime.now())
            bump_data_version(conn)
            return saved

    return _retrying(write)


# --- one step of the loop ------------------------------------------------------------------------------------------

def _conflict(engine: Engine, principal: Principal, target: str, exc: StaleEdit, expected: int, attempted: dict):
    record_now(engine, principal, "edit_conflict", target,
               {"expected_version": expected, "current_version": (exc.current or {}).get("version"),
                "attempted": attempted}, ok=False)


def _close_effects(conn, principal: Principal, order: dict, today: date) -> dict:
    """What 办结 settles beyond the order: its finding rectified (on the day of the accepted report) and its
    roundtable request resolved (today), each only when still open."""
    effects = {}
    if order["finding_id"] is not None:
        f = conn.execute(select(Finding.id, Finding.code, Finding.found_on, Finding.rectified_on, Finding.note,
                                Finding.version).where(Finding.id == order["finding_id"])).mappings().first()
        if f is not None and f["rectified_on"] is None:
            day = max(order["accepted_report_on"] or today, sq._day(f["found_on"]))
            report = conn.execute(select(SupervisionEvent.note).where(
                SupervisionEvent.order_id == order["id"], SupervisionEvent.action == "report")
                .order_by(SupervisionEvent.at.desc(), SupervisionEvent.id.desc())).scalar() or ""
            note = f["note"] or f"督办单 {order['code']} 复查通过：{report}"[:1000]
            if not guarded_update(conn, Finding, f["id"], f["version"], {"rectified_on": day, "note": note}):
                raise EditError(f"问题 {f['code']} 正在被他人修改，未办结，请稍后重试。")
            record(conn, principal, "edit", f"findings:{f['code']}",
                   {"table": "findings", "id": f["id"], "code": f["code"], "action": "rectify",
                    "via": order["code"], "version": {"before": f["version"], "after": f["version"] + 1},
                    "changes": {"rectified_on": {"before": None, "after": day.isoformat()},
                                **({} if f["note"] else {"note": {"before": None, "after": note}})}})
            effects["finding"] = f["code"]
    if order["roundtable_issue_id"] is not None:
        done = conn.execute(update(RoundtableIssue).where(RoundtableIssue.id == order["roundtable_issue_id"],
                                                          RoundtableIssue.resolved_on.is_(None))
                            .values(resolved_on=today))
        if done.rowcount:
            effects["roundtable_request"] = order["roundtable_issue_id"]
    return effects


def transition(engine: Engine, principal: Principal, order_id: int, expected_version: int, action: str, *,
               note: str | None = None, files=(), today: date | None = None) -> dict:
    """One step of the loop (签收 / 反馈 / 复查通过 / 退回 / 办结) on the order as the user loaded it
    (`expected_version`). A 反馈 needs the text of what was done and may carry evidence files; a 退回 needs its
    reason. Returns the order as saved. Raises AccessDenied, EditError, StaleEdit (nothing written)."""
    today = today or date.today()
    step = rules.STEPS.get(action)
    if step is None:
        raise EditError("未知的督办操作。")
    order_id, expected_version = int(order_id), int(expected_version)
    note = _text(note, step.note_label, MAX_TEXT, required=step.needs_note)
    if files and action != "report":
        raise EditError("只有反馈整改情况时可以上传附件。")
    checked = _checked_files(engine, files)
    target = f"督办单:{order_id}"
    attempted = {"action": action, "note": (note or "")[:200], "files": [n for n, _, _ in checked]}
    try:
        with audited_refusal(engine, principal, "duban_step", target, {"attempted": attempted}) as attempt, \
                engine.begin() as conn:
            current = sq.order_row(conn, order_id)
            if current is None:
                raise EditError("该督办单不存在。")
            target = attempt.target = f"督办单:{current['code']}"
            _require_step(principal, step, current)
            if current["version"] != expected_version:
                raise StaleEdit(stale_message(current, expected_version, "您的操作未执行"), current=current)
            if current["status"] not in step.sources:
                raise EditError(f"该督办单当前为“{current['status_name']}”，不能{step.label}。", current)
            values = {"status": step.target}
            if action == "report":
                values["reported_on"] = today
            elif action == "return":
                values["returned"] = current["returned"] + 1
            elif action == "pass":
                values["accepted_report_on"] = current["reported_on"]
            elif action == "close":
                values["closed_on"] = today
            if not guarded_update(conn, SupervisionOrder, order_id, expected_version, values):
                now_row = sq.order_row(conn, order_id)
                raise StaleEdit(stale_message(now_row, expected_version, "您的操作未执行"), current=now_row)
            now = datetime.now()
            event_id = conn.execute(insert(SupervisionEvent).values(
                order_id=order_id, at=now, action=action, from_status=current["status"], to_status=step.target,
                actor=principal.username, actor_role=principal.role, note=note).returning(SupervisionEvent.id)).scalar_one()
            for name, media, content in checked:
                conn.execute(insert(SupervisionEvidence).values(
                    order_id=order_id, event_id=event_id, file_name=name, media_type=media, size_bytes=len(content),
                    sha256=hashlib.sha256(content).hexdigest(), content=content, uploaded_by=principal.username,
                    uploaded_at=now))
            effects = _close_effects(conn, principal, {**current, **values}, today) if action == "close" else {}
            record(conn, principal, "duban_step", target,
                   {"code": current["code"], "action": action, "from": current["status"], "to": step.target,
                    "version": {"before": expected_version, "after": expected_version + 1},
                    "note": (note or "")[:200], "files": [n for n, _, _ in checked], **effects})
            bump_data_version(conn)
            saved = sq.order_row(conn, order_id)
    except StaleEdit as exc:
        _conflict(engine, principal, target, exc, expected_version, attempted)
        raise
    return saved


# --- settings -------------------------------------------------------------------------------------------------

def save_settings(engine: Engine, principal: Principal, settings: rules.Settings) -> rules.Settings:
    """Save the warning thresholds, the evidence size limit and the score weights (office only), audited with the
    values before and after. Raises AccessDenied, EditError (a value out of range, naming it; nothing changed)."""
    with audited_refusal(engine, principal, "settings", "督办与考核设置"):
        _require_office(principal, "修改督办与考核设置")
    try:
        settings = rules.check_settings(settings)
    except rules.SettingsError as exc:
        raise EditError(str(exc)) from None
    before = sq.supervision_settings(engine)
    if before == settings:
        raise EditError("内容与当前设置相同，未保存。")
    text = sq.settings_to_text(settings)
    now = datetime.now()
    with engine.begin() as conn:
        if conn.execute(update(Meta).where(Meta.key == sq.SETTINGS_KEY).values(value=text, updated_at=now)).rowcount == 0:
            conn.execute(insert(Meta).values(key=sq.SETTINGS_KEY, value=text, updated_at=now))
        record(conn, principal, "settings", "督办与考核设置",
               {"before": json.loads(sq.settings_to_text(before)), "after": json.loads(text)})
        bump_data_version(conn)
    return settings


# --- stations: duty list, entries, dispatch meetings, the published assessment --------------------------------------

def _published_months(conn) -> list[date]:
    return [sq._day(m) for m in conn.execute(select(StationScore.month).distinct()).scalars()]


def _check_task(i: int, t: dict) -> dict:
    label = f"第 {i} 项"
    name = _text(t.get("name"), f"{label}“任务名称”", 40)
    unit = _text(t.get("unit"), f"{label}“单位”", 10)
    try:
        quantity = float(t.get("quantity"))
    except (TypeError, ValueError):
        raise EditError(f"{label}“{name}”的“每月数量”应为数字。") from None
    if not 0 <= quantity <= 10000 or quantity != quantity:
        raise EditError(f"{label}“{name}”的“每月数量”应在 0–10000 之间。")
    basis, source = t.get("basis"), t.get("source")
    if basis not in rules.BASES:
        raise EditError(f"{label}“{name}”的“计划基数”应为：" + "、".join(rules.BASES.values()) + "之一。")
    if source not in rules.TASK_SOURCES:
        raise EditError(f"{label}“{name}”的“数据来源”不在可选范围内。")
    code = str(t.get("code") or "").strip() or None
    return {"code": code, "name": name, "unit": unit, "quantity": quantity, "basis": basis, "source": source}


def save_service_tasks(engine: Engine, principal: Principal, month: str, tasks: list[dict], expected_revision: int,
                       today: date | None = None) -> pd.DataFrame:
    """Save the 服务内容清单 as the version that applies from `month` (office only). `expected_revision`: the revision
    of that month's version the user edited (0: none yet). Months already assessed and published keep their list.
    Returns the version as saved. Raises AccessDenied, EditError, StaleEdit (nothing written)."""
    with audited_refusal(engine, principal, "station_tasks", f"服务内容清单:{month}"):
        _require_office(principal, "修改服务内容清单")
    try:
        first, _ = rules.month_bounds(month)
    except ValueError as exc:
        raise EditError(f"“生效月份”：{exc}") from None
    rows = [t for t in (tasks or []) if any(str(v or "").strip() for k, v in t.items() if k in ("name", "unit"))]
    if not rows:
        raise EditError("服务内容清单至少要有一项任务。")
    if len(rows) > 20:
        raise EditError("服务内容清单最多 20 项任务。")
    checked = [_check_task(i + 1, t) for i, t in enumerate(rows)]
    names = [t["name"] for t in checked]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise EditError(f"任务名称“{dup}”重复。")
    used = {t["code"] for t in checked if t["code"]}
    for n, t in enumerate(checked, start=1):
        if not t["code"]:
            t["code"] = next(f"t{k}" for k in range(n, n + 100) if f"t{k}" not in used)
            used.add(t["code"])
    expected_revision = int(expected_revision)
    with engine.begin() as conn:
        published = [m for m in _published_months(conn) if m >= first]
        if published:
            raise EditError(f"{rules.month_key(max(published))} 的考核结果已发布，服务内容清单只能从之后的月份起修改。")
        revision = conn.execute(select(func.max(ServiceTask.revision)).where(ServiceTask.month_from == first)).scalar() or 0
        if revision != expected_revision:
            raise StaleEdit(stale_message({"version": revision}, expected_revision, "服务内容清单未保存"),
                            current={"version": revision})
    before = sq._tasks(engine, month)
    same = before[["code", "name", "unit", "quantity", "basis", "source"]].to_dict("records") == \
        [{k: t[k] for k in ("code", "name", "unit", "quantity", "basis", "source")} for t in checked]
    if same and (before["month_from"].iloc[0] == first):
        raise EditError("内容与当前清单相同，未保存。")
    now = datetime.now()
    try:
        with engine.begin() as conn:
            revision = conn.execute(select(func.max(ServiceTask.revision))
                                    .where(ServiceTask.month_from == first)).scalar() or 0
            if revision != expected_revision:
                raise StaleEdit(stale_message({"version": revision}, expected_revision, "服务内容清单未保存"),
                                current={"version": revision})
            conn.execute(delete(ServiceTask).where(ServiceTask.month_from == first))
            conn.execute(insert(ServiceTask), [dict(t, month_from=first, position=i + 1, revision=revision + 1,
                                                    saved_by=principal.username, saved_at=now)
                                               for i, t in enumerate(checked)])
            record(conn, principal, "station_tasks", f"服务内容清单:{month}",
                   {"month_from": month, "revision": {"before": revision, "after": revision + 1},
                    "before": before[["name", "quantity", "basis", "source"]].to_dict("records"),
                    "after": [{k: t[k] for k in ("name", "quantity", "basis", "source")} for t in checked]})
            bump_data_version(conn)
    except IntegrityError:
        raise StaleEdit(stale_message({"version": expected_revision + 1}, expected_revision, "服务内容清单未保存"),
                        current={"version": expected_revision + 1}) from None
    return sq._tasks(engine, month)


def save_station_entry(engine: Engine, principal: Principal, month: str, subdistrict_code: str, task_code: str,
                       done, note: str | None, expected_version: int, today: date | None = None) -> dict:
    """站点填报: what a station did in the month for a duty no ledger records (office, or the station's own 街道
    account). `expected_version`: the entry's version as loaded (0: none yet). Raises AccessDenied, EditError,
    StaleEdit (nothing written)."""
    today = today or date.today()
    target = f"站点填报:{subdistrict_code}:{month}:{task_code}"
    with audited_refusal(engine, principal, "station_entry", target):
        if principal.role == "leader":
            raise AccessDenied("局领导账号不能填报站点数据。")
        require_write(principal, subdistrict_code)
    try:
        first, _ = rules.month_bounds(month)
    except ValueError as exc:
        raise EditError(f"“月份”：{exc}") from None
    if first > today:
        raise EditError(f"{month} 尚未开始，不能填报。")
    tasks = sq._tasks(engine, month)
    task = tasks[tasks["code"] == task_code]
    if task.empty:
        raise EditError("该任务不在本月的服务内容清单中。")
    if task["source"].iloc[0] != "manual":
        raise EditError(f"“{task['name'].iloc[0]}”由台账自动统计，不需要填报。")
    try:
        value = float(done)
    except (TypeError, ValueError):
        raise EditError("“完成数”应为数字。") from None
    if not 0 <= value <= 100000 or value != value:
        raise EditError("“完成数”应在 0–100000 之间。")
    note = _text(note, "说明", 500, required=False)
    expected_version = int(expected_version)
    e = StationEntry
    with engine.begin() as conn:
        if conn.execute(select(Subdistrict.code).where(Subdistrict.code == subdistrict_code)).first() is None:
            raise EditError("“站点”不存在。")
        if first in _published_months(conn):
            raise EditError(f"{month} 的考核结果已发布，不能再修改填报。")
        row = conn.execute(select(e.id, e.done, e.note, e.version).where(
            e.month == first, e.subdistrict_code == subdistrict_code, e.task_code == task_code)).mappings().first()
        current = {"version": row["version"] if row else 0, "done": row["done"] if row else None,
                   "note": row["note"] if row else None}
        if current["version"] != expected_version:
            raise StaleEdit(stale_message(current, expected_version), current=current)
        if row and float(row["done"]) == value and (row["note"] or None) == note:
            raise EditError("内容与当前记录相同，未保存。", current)
        now = datetime.now()
        if row is None:
            try:
                conn.execute(insert(e).values(month=first, subdistrict_code=subdistrict_code, task_code=task_code,
                                              done=value, note=note, entered_by=principal.username, entered_at=now,
                                              version=1))
            except IntegrityError:
                raise StaleEdit(stale_message({"version": 1}, expected_version), current={"version": 1}) from None
        elif not guarded_update(conn, e, row["id"], expected_version,
                                {"done": value, "note": note, "entered_by": principal.username, "entered_at": now}):
            raise StaleEdit(stale_message({"version": expected_version + 1}, expected_version),
                            current={"version": expected_version + 1})
        record(conn, principal, "station_entry", target,
               {"month": month, "task": task_code, "done": {"before": current["done"], "after": value},
                "version": {"before": expected_version, "after": expected_version + 1}})
        bump_data_version(conn)
    return {"done": value, "note": note, "version": expected_version + 1}


def save_dispatch(engine: Engine, principal: Principal, *, subdistrict_code: str, held_on, attendees: str,
                  decisions: str, tasks: list[dict] = (), today: date | None = None) -> dict:
    """一月一调度: record a station's monthly dispatch meeting (office only); each task assigned at it becomes a
    督办单 to the station — all in one transaction. One meeting per station and month. Returns the record with the
    codes of its orders."""
    today = today or date.today()
    target = f"一月一调度:{subdistrict_code}"
    with audited_refusal(engine, principal, "dispatch", target):
        _require_office(principal, "记录一月一调度")
    held = _date(held_on, "调度日期")
    if held > today:
        raise EditError(f"“调度日期”（{held:%Y-%m-%d}）不能晚于今天。")
    attendees = _text(attendees, "参加人员", 500)
    decisions = _text(decisions, "调度事项和决定", MAX_TEXT)
    unit = f"subdistrict:{subdistrict_code}"
    orders = []
    for n, t in enumerate([t for t in (tasks or []) if any(str(v or "").strip() for v in t.values())], start=1):
        orders.append(_order_fields(engine, today, unit=unit, assignee=t.get("assignee"), deadline=t.get("deadline"),
                                    title=t.get("title"), requirement=t.get("requirement") or t.get("title"),
                                    label=f"第 {n} 项任务的"))
    if not orders:
        _unit(engine, unit)  # the station must exist even without tasks
    month = held.replace(day=1)

    def write():
        with engine.begin() as conn:
            station = conn.execute(select(ServiceStation.id).where(ServiceStation.subdistrict_code == subdistrict_code,
                                                                   ServiceStation.level.in_(sq.STATION_LEVELS))).first()
            if station is None:
                raise EditError("“站点”不存在：该街道没有民政服务站。")
            if conn.execute(select(DispatchRecord.id).where(DispatchRecord.subdistrict_code == subdistrict_code,
                                                            DispatchRecord.month == month)).first():
                raise EditError(f"该站点 {rules.month_key(month)} 的调度记录已存在（每站每月一次）。")
            did = conn.execute(insert(DispatchRecord).values(
                subdistrict_code=subdistrict_code, month=month, held_on=held, attendees=attendees, decisions=decisions,
                created_by=principal.username, created_at=datetime.now()).returning(DispatchRecord.id)).scalar_one()
            codes = []
            for n, fields in enumerate(orders, start=1):
                saved = _insert_order(conn, principal, dict(fields, source_kind="dispatch", source_ref=f"D-{did}-{n}",
                                                            dispatch_id=did), today, datetime.now())
                codes.append(saved["code"])
            record(conn, principal, "dispatch", target, {"month": rules.month_key(month), "held_on": held,
                                                         "orders": codes})
            bump_data_version(conn)
            return {"id": did, "month": rules.month_key(month), "orders": codes}

    return _retrying(write)


def publish_assessment(engine: Engine, principal: Principal, month: str, today: date | None = None) -> pd.DataFrame:
    """发布月度考核结果: compute every assessed station's score for a month that is over, rank them and store the
    result (office only; publishing again replaces it, audited with the scores before and after)."""
    today = today or date.today()
    with audited_refusal(engine, principal, "assessment_publish", f"月度考核:{month}"):
        _require_office(principal, "发布月度考核结果")
    try:
        first, last = rules.month_bounds(month)
    except ValueError as exc:
        raise EditError(f"“考核月份”：{exc}") from None
    if last >= today:
        raise EditError(f"{month} 尚未结束，不能发布考核结果。")
    settings = sq.supervision_settings(engine)
    scores = sq.station_scores(engine, month)
    scores = scores[scores["assessed"].astype(bool)]
    if scores.empty:
        raise EditError(f"{month} 没有可考核的站点。")
    ranks = rules.rank(dict(zip(scores["subdistrict_code"], scores["score"])))
    now = datetime.now()
    rows = []
    for r in scores.to_dict("records"):
        parts = {"rates": {k: _plain(r[f"rate_{k}"]) for k in rules.SCORE_PARTS},
                 "points": {k: _plain(r[f"points_{k}"]) for k in rules.SCORE_PARTS}, "weights": settings.weights}
        rows.append(dict(month=first, subdistrict_code=r["subdistrict_code"], score=float(r["score"]),
                         rank=ranks[r["subdistrict_code"]], ranked=len(scores), published_by=principal.username,
                         published_at=now, parts_json=json.dumps(parts, ensure_ascii=False)))
    with engine.begin() as conn:
        before = {c: s for c, s in conn.execute(select(StationScore.subdistrict_code, StationScore.score)
                                                .where(StationScore.month == first)).all()}
        conn.execute(delete(StationScore).where(StationScore.month == first))
        conn.execute(insert(StationScore), rows)
        record(conn, principal, "assessment_publish", f"月度考核:{month}",
               {"month": month, "before": before, "after": {r["subdistrict_code"]: r["score"] for r in rows}})
        bump_data_version(conn)
    return pd.DataFrame(rows).drop(columns=["parts_json"])


def _plain(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    return float(v)
