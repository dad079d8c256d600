"""Issue 17 item 11: no audit entry holds a full ID number or mobile number in clear — not in its detail, its target
or its user name, and not in the audit log page nor its Excel — whatever wrote it (imports with personal data,
corrections, refused files, edits, disclosures, sign-in attempts). data.security.audit.record masks at the one place
entries are written; the tests grep everything the log holds, on both engines."""
from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, text
from streamlit.testing.v1 import AppTest

from auth_helpers import principal, sign_in_apptest
from exports.xlsx import excel_bytes
from data.security import auth
from data.security.access import grant_reveal
from data.security.audit import record_now
from data.writes.edits import StaleEdit, finding_for_edit, update_finding
from data.db.engine import get_engine
from data.security.idcard import make_id
from data.imports import LEDGERS, ImportRefused, import_file
from data.security.masking import mask_personal, mask_personal_text
from data.db.models.auth import AuditEntry
from test_imports import VALID, csv_bytes, seed, xlsx_bytes

ROOT = Path(__file__).resolve().parent.parent
ID_RE = re.compile(r"\d{17}[\dXx]")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
DIGEST_RE = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{64}(?![0-9A-Za-z])")  # a file's SHA-256: not a person
OFFICE = principal("office")
LEADER = principal("leader")
NEW_ID = VALID["living_alone"][0]["身份证号"]
HEAD_ID = VALID["aid_households"][0]["户主身份证号"]
PHONE, PHONE2 = "13812345678", "15987654321"


def in_clear(value) -> list[str]:
    s = DIGEST_RE.sub("#", "" if value is None else str(value))
    return ID_RE.findall(s) + MOBILE_RE.findall(s)


def personal_activity(engine) -> None:
    """Imports, corrections, refusals, a disclosure, an edit and sign-in attempts, all carrying ID numbers and
    mobile numbers — in cells, keys, file names, messages, reasons and typed user names."""
    sheet = LEDGERS["living_alone"].sheet
    rows = [dict(VALID["living_alone"][0], 联系电话=PHONE)]
    import_file(engine, OFFICE, "living_alone", f"{NEW_ID}_名单.xlsx", xlsx_bytes(rows, sheet=sheet))
    rows2 = [dict(rows[0], 联系电话=PHONE2)]  # a correction: the audit sample lists the key and the old/new phone
    r = import_file(engine, OFFICE, "living_alone", f"独居老人_{PHONE2}.xlsx", xlsx_bytes(rows2, sheet=sheet))
    assert r.rows_updated == 1
    hh = [dict(VALID["aid_households"][0], 联系电话=PHONE)]
    import_file(engine, OFFICE, "aid_households", "低保户.xlsx", xlsx_bytes(hh, sheet=LEDGERS["aid_households"].sheet))
    import_file(engine, OFFICE, "aid_households", "低保户2.xlsx",
                xlsx_bytes([dict(hh[0], 联系电话=PHONE2)], sheet=LEDGERS["aid_households"].sheet))
    # a refused file: its messages quote the bad values (a wrong check digit, a phone that is too long, a bad date)
    bad_id = NEW_ID[:17] + ("0" if NEW_ID[17] != "0" else "1")
    bad = [dict(VALID["living_alone"][0], 身份证号=bad_id, 联系电话=PHONE + "9"),
           dict(VALID["living_alone"][0], 纳入日期=f"{PHONE}号", 联系电话=f"电话{PHONE}")]
    with pytest.raises(ImportRefused):
        import_file(engine, OFFICE, "living_alone", f"退回_{bad_id}.csv", csv_bytes(bad))
    grant_reveal(engine, LEADER, f"核对 {NEW_ID} 的电话 {PHONE}", f"独居老人名册:{NEW_ID}")
    # an edit through the edit path, its note naming a person's numbers (and a conflict quoting the attempt)
    import_file(engine, OFFICE, "findings", "问题.xlsx", xlsx_bytes(VALID["findings"], sheet=LEDGERS["findings"].sheet))
    finding = finding_for_edit(engine, code=VALID["findings"][0]["问题编号"])
    note = f"已电话联系 {PHONE}，当事人身份证 {NEW_ID}"
    update_finding(engine, OFFICE, finding["id"], finding["version"], rectified_on=date(2024, 6, 1), note=note)
    with pytest.raises(StaleEdit):
        update_finding(engine, OFFICE, finding["id"], finding["version"], rectified_on=date(2024, 6, 2),
                       note=note + "。")
    # free text and a nested structure from any writer, and a user name typed as a phone number
    record_now(engine, OFFICE, "edit", f"findings:{PHONE}",
               {"note": f"已联系户主（身份证 {HEAD_ID.lower()}，手机 {PHONE}）", "ids": [NEW_ID, int(PHONE)],
                "changes": {"phone": {"before": PHONE, "after": PHONE2}, NEW_ID: {"head_id_number": HEAD_ID}}})
    record_now(engine, OFFICE, "settings", "说明", f"备注 {NEW_ID}，{PHONE2}")
    with pytest.raises(auth.AuthError):
        auth.sign_in(engine, PHONE, "Wrong#pass-1")
    with pytest.raises(auth.AuthError):
        auth.sign_in(engine, NEW_ID, "Wrong#pass-1")


@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    seed(eng)
    return eng


def test_no_audit_entry_holds_an_id_number_or_a_mobile_in_clear(engine):
    personal_activity(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEntry.action, AuditEntry.username, AuditEntry.target,
                                   AuditEntry.detail)).all()
    actions = [r.action for r in rows]
    assert actions.count("import") == 5 and actions.count("import_refused") == 1 and actions.count("edit") == 2
    assert {"reveal_personal", "edit_conflict", "settings", "signin_failed"} <= set(actions)
    leaks = [(r.action, field, hit) for r in rows for field in ("username", "target", "detail")
             for hit in in_clear(getattr(r, field))]
    assert leaks == []
    everything = "\n".join(f"{r.username} {r.target} {r.detail}" for r in rows)
    # masked, not dropped: what the entries say is still there
    assert NEW_ID[:6] + "*" * 8 + NEW_ID[-4:] in everything
    assert "138****5678" in everything and "159****4321" in everything
    correction = next(json.loads(r.detail) for r in rows if r.action == "import" and PHONE2[-4:] in (r.target or ""))
    assert correction["updated"], correction  # the sample of the correction is kept, masked
    assert "138****5678" in json.dumps(correction, ensure_ascii=False)


def test_the_audit_log_page_and_its_excel_show_no_id_number_or_mobile(monkeypatch, engine, db_url):
    personal_activity(engine)
    # an entry written before the rule (straight into the table): the page masks it on the way out as well
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_log (at, username, role, action, target, detail, ok) "
                          "VALUES (CURRENT_TIMESTAMP, 'old', 'office', 'edit', :t, :d, :ok)"),
                     {"t": f"旧记录 {NEW_ID}", "d": json.dumps({"phone": PHONE}), "ok": True})
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in_apptest(at, db_url, role="admin")
    at.run()
    at.switch_page("pages/audit_log.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(df.value for df in at.dataframe if "操作" in df.value.columns)
    assert len(table) >= 12 and "旧记录 " + NEW_ID[:6] + "*" * 8 + NEW_ID[-4:] in set(table["对象"])
    assert [hit for col in table.columns for v in table[col] for hit in in_clear(v)] == []
    # the file the page's "下载 Excel" serves: the same table through the project's Excel writer
    assert any(b.label == "下载 Excel" for b in at.get("download_button"))
    wb = openpyxl.load_workbook(io.BytesIO(excel_bytes(table, title="审计日志")))
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any("138****5678" in str(v) for v in cells)
    assert [hit for v in cells for hit in in_clear(v)] == []


def test_masking_of_free_text_and_structures():
    nid = make_id("999999", date(1950, 1, 2), 7)
    s = mask_personal_text(f"a{nid}b 电话{PHONE}、0791-88123456、{PHONE}0 社区 360103001001 2024-07-01 共 12 户")
    assert in_clear(s) == [] and "360103001001" in s and "2024-07-01" in s and "0791-88123456" in s
    digest = "ab" * 10 + PHONE + "c" * 33
    assert mask_personal_text(f"sha {digest}") == f"sha {digest}"  # a file reference stays whole
    out = mask_personal({"head_name": "张三丰", "phone": {"before": "0791-88123456", "after": None},
                         "n": 3, "ok": True, nid: [int(PHONE), 12.5]})
    assert out["head_name"] == "张*丰" and out["phone"] == {"before": "********3456", "after": None}
    assert out["n"] == 3 and out["ok"] is True and in_clear(json.dumps(out)) == []


@pytest.mark.parametrize("stored, shown", [
    ({"added_keys": ["HX-0101"], "batch_id": 1, "file": "findings_ok.csv", "gcj02": False, "ledger": "findings",
      "rows_added": 1, "rows_total": 1, "rows_unchanged": 0, "rows_updated": 0, "title": "检查与整改问题", "updated": {}},
     "新增记录编号：HX-0101；导入批次号：1；文件：findings_ok.csv；坐标由GCJ-02换算：否；台账：问题；新增行数：1；文件行数：1；"
     "未变行数：0；更新行数：0；标题：检查与整改问题；更新：无"),
    ({"must_change_password": {"after": False, "before": True}, "other_sessions_ended": 0, "password": "changed"},
     "须改密码：是 → 否；结束的其他登录会话数：0；密码：已修改"),
    ({"code": "DB-2026-0001", "source": "manual", "source_ref": None, "title": "楼道堆物"},
     "编号：DB-2026-0001；来源：其他事项；来源记录：空；标题：楼道堆物"),
    ({"asked_street": "360103014", "query": "data.queries.supervision.order_detail"},
     "所请求的街道：360103014；查询（系统内部名称）：data.queries.supervision.order_detail"),
])
def test_the_audit_details_of_imports_password_changes_orders_and_refusals_read_in_chinese(stored, shown):
    """What an import, a password change, a 督办单 and a refused read store is shown field by field in Chinese (these
    read "其他：1；其他：0 …" before); a refused read names the internal query it was, marked as such."""
    from data.security.audit import readable_detail

    got = readable_detail(json.dumps(stored, ensure_ascii=False))
    assert got == shown
    assert "其他：" not in got
