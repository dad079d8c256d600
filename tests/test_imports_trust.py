"""Imports at the user's hands (issue 17, items 15, 16, 17, 23, 24), on SQLite and PostgreSQL with real files:

- the template's example row is never imported, whatever its headers became (renamed, moved);
- one guarded reader: a crafted .xlsx (a row bomb, a forged sheet size) is refused or read in little memory, in a
  separate process measured for memory; the room import of the site-selection page goes through it;
- full-width digits and Excel serial dates are read (xlsx and csv);
- NUL bytes, formula, external-link and error cells are refused by file, row and column, not stored or read blank;
- a refusal quotes cells only as short masked excerpts: a 5 MB cell makes neither a large problem nor a large audit row.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from data.db.engine import get_engine
from data.security.idcard import make_id
from data.imports import ImportRefused, import_file, reading
from exports.templates import template_bytes
from data.db.models import AidPayment, LivingAloneElder, MealRecord, VacantRoom
from data.db.models.auth import AuditEntry, ImportBatch
from test_imports import OFFICE, PERSON_ID, VALID, csv_bytes, dump, meal, problem, refused, seed, xlsx_bytes

ROOT = Path(__file__).resolve().parents[1]
FULL_WIDTH = str.maketrans("0123456789X.-/", "０１２３４５６７８９Ｘ．－／")


@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    seed(eng)
    return eng


def _codes(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(VacantRoom.code)).scalars())


def _save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- item 15: the template's example row ------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["rename one optional header", "rename two optional headers", "move the example"])
def test_template_example_row_is_never_imported_whatever_the_headers(engine, change):
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(engine, "vacant_rooms")))
    ws = wb["闲置用房"]
    headers = [c.value for c in ws[1]]
    assert ws.cell(2, 1).value == "XZ-示例-001"   # the example row as the template has it
    data = [VALID["vacant_rooms"][0].get(h, "") for h in headers]
    if change == "move the example":   # a user who sorted the sheet: the example now stands under the data
        ws.insert_rows(2)
        for i, v in enumerate(data, start=1):
            ws.cell(2, i, v)
    else:
        renamed = {"有无电梯": "电梯"} if change == "rename one optional header" else {"状态": "当前状态", "可用日期": "启用日期"}
        for cell in ws[1]:
            cell.value = renamed.get(cell.value, cell.value)
        ws.append(data)
    r = import_file(engine, OFFICE, "vacant_rooms", "闲置用房.xlsx", _save(wb))
    assert (r.rows_total, r.rows_added) == (1, 1)
    assert _codes(engine) == ["XZ-001"]


def test_a_row_that_differs_from_the_example_is_data(engine):
    """Only the example itself is skipped: the example edited into a real room is imported."""
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(engine, "vacant_rooms")))
    ws = wb["闲置用房"]
    ws.cell(2, 1).value = "XZ-真实-009"
    r = import_file(engine, OFFICE, "vacant_rooms", "闲置用房.xlsx", _save(wb))
    assert r.rows_added == 1 and _codes(engine) == ["XZ-真实-009"]


# --- item 16: one guarded reader -----------------------------------------------------------------------------------

PROBE = r"""
import json, resource, sys, time
import openpyxl, pandas
from data.imports import reading
content = open(sys.argv[1], "rb").read()
limit = 3 * 1024 ** 3   # keep the machine safe should the reader ever regress
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    sheet = reading.read_upload(sys.argv[2], content, "助餐记录")
    out = {"rows": len(sheet.frame)}
except reading.FileRefused as exc:
    out = {"refused": str(exc)}
except MemoryError:
    out = {"memory_error": True}
out["mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
out["seconds"] = time.perf_counter() - started
print(json.dumps(out, ensure_ascii=False))
"""


def _probe(tmp_path, name: str, content: bytes) -> dict:
    """Read the file with the guarded reader in a fresh process: its outcome, peak memory growth and time."""
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    try:
        done = subprocess.run([sys.executable, "-c", PROBE, str(path), name], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "mb": float("inf")}
    assert done.returncode == 0 or "MemoryError" in done.stderr, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {"memory_error": True}


def _with_sheet(sheet_xml_chunks) -> bytes:
    """A real workbook (openpyxl) whose first sheet is replaced by the given XML, streamed into the zip."""
    wb = openpyxl.Workbook()
    wb.active.title = "助餐记录"
    wb.active.append(["助餐点", "日期", "堂食份数"])
    base = zipfile.ZipFile(io.BytesIO(_save(wb)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for item in base.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with zf.open(item.filename, "w", force_zip64=True) as f:
                    for chunk in sheet_xml_chunks:
                        f.write(chunk)
            else:
                zf.writestr(item, base.read(item.filename))
    return out.getvalue()


def _row_bomb(rows: int):
    yield (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
           b'spreadsheetml/2006/main"><sheetData>')
    for start in range(1, rows + 1, 20_000):
        yield "".join(f'<row r="{i}"><c r="A{i}"><v>{i % 9973}</v></c></row>'
                      for i in range(start, min(rows, start + 19_999) + 1)).encode()
    yield b"</sheetData></worksheet>"


def test_a_row_bomb_is_refused_before_parsing_in_little_memory(tmp_path):
    content = _with_sheet(_row_bomb(1_048_576 + 50_000))   # more rows than Excel (and the reader) allows
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo("xl/worksheets/sheet1.xml")
    assert len(content) < 10 * 1024 * 1024 and info.file_size < reading.MAX_UNCOMPRESSED_BYTES
    assert info.file_size < reading.MAX_ZIP_RATIO * info.compress_size   # not a ratio the old check refused
    out = _probe(tmp_path, "炸弹.xlsx", content)
    assert "refused" in out, out
    assert "超过上限 1,048,576 行" in out["refused"] and "已拒绝" in out["refused"]
    assert out["mb"] < 100 and out["seconds"] < 30, out


def test_a_forged_sheet_size_does_not_inflate_the_rows(tmp_path):
    """A cell at XFD1048576 (made by openpyxl itself) declares a sheet of 1,048,576 × 16,384 cells: the reader keeps
    to what the rows hold (the data row is read), in little memory."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "助餐记录"
    ws.append(["助餐点", "日期", "堂食份数"])
    ws.append(["二郎庙社区助餐点", "2024-06-03", 5])
    ws.cell(row=1_048_576, column=16_384, value="x")
    content = _save(wb)
    assert len(content) < 20_000
    out = _probe(tmp_path, "尺寸.xlsx", content)
    assert out.get("rows") == 1, out
    assert out["mb"] < 100 and out["seconds"] < 30, out


def test_cell_row_and_text_budgets_refuse_before_parsing(engine, monkeypatch):
    monkeypatch.setattr(reading, "MAX_CELLS", 5_000)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "助餐记录"
    ws.append(["助餐点", "日期", "堂食份数"] + [f"备注{i}" for i in range(97)])
    for _ in range(60):
        ws.append(["二郎庙社区助餐点", "2024-06-03", 5] + ["x"] * 97)
    exc = refused(engine, "meal_records", "宽.xlsx", _save(wb))
    assert "单元格" in exc.messages()[0] and "超过上限 5,000 个" in exc.messages()[0]
    monkeypatch.setattr(reading, "MAX_CELLS", 1_000_000)
    monkeypatch.setattr(reading, "MAX_SHARED_STRINGS", 50)   # openpyxl holds every distinct text in memory
    import xlsxwriter   # (openpyxl writes inline strings; Excel and XlsxWriter a shared-string table)

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("助餐记录")
    sheet.write_row(0, 0, ["助餐点", "日期", "堂食份数", "备注"])
    for i in range(1, 61):
        sheet.write_row(i, 0, ["二郎庙社区助餐点", f"2024-05-{i % 28 + 1:02d}", 5])
        sheet.write_string(i, 3, f"备注{i}")
    book.close()
    exc = refused(engine, "meal_records", "文字.xlsx", buf.getvalue())
    assert "不同的文字" in exc.messages()[0] and "超过上限 50 个" in exc.messages()[0]
    monkeypatch.setattr(reading, "MAX_ROWS", 10)
    exc = refused(engine, "meal_records", "长.csv", csv_bytes([meal(day=f"2024-06-{d:02d}") for d in range(1, 21)]))
    assert "超过上限 10 行" in exc.messages()[0]


def test_the_room_import_goes_through_the_guarded_reader_and_the_ledger(engine, monkeypatch):
    """The site-selection room import: a bomb refused in Chinese and audited; a good file is an import batch and an
    audit entry of the vacant_rooms ledger."""
    def import_rooms_excel(engine, who, content, file_name):   # the page's room import: the vacant_rooms ledger
        return import_file(engine, who, "vacant_rooms", file_name, content)

    monkeypatch.setattr(reading, "MAX_ROWS", 1_000)
    bomb = _with_sheet(_row_bomb(1_010))
    with pytest.raises(ImportRefused) as info:
        import_rooms_excel(engine, OFFICE, bomb, "用房.xlsx")
    assert "超过上限" in info.value.messages()[0] and _codes(engine) == []
    r = import_rooms_excel(engine, OFFICE, xlsx_bytes(VALID["vacant_rooms"]), "用房.xlsx")
    assert r.rows_added == 1 and _codes(engine) == ["XZ-001"]
    with engine.connect() as conn:
        batch = conn.execute(select(ImportBatch.ledger, ImportBatch.file_name, ImportBatch.rows_added)).all()
        actions = conn.execute(select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.id)).all()
    assert [tuple(b) for b in batch] == [("vacant_rooms", "用房.xlsx", 1)]
    assert [tuple(a) for a in actions] == [("import_refused", "vacant_rooms:用房.xlsx"), ("import", "vacant_rooms:用房.xlsx")]


# --- item 17: full-width digits and Excel serial dates -------------------------------------------------------------

def _serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_full_width_digits_and_excel_serial_dates_are_read(engine, kind):
    elder = next(i for i in (make_id("999999", date(1938, 2, 3), s) for s in range(1, 999)) if i.endswith("X"))
    text = kind == "csv"

    def serial(d: date):
        return str(_serial(d)) if text else _serial(d)

    files = {
        "meal_records": [{"助餐点": "二郎庙社区助餐点", "日期": serial(date(2024, 6, 3)), "堂食份数": "５６",
                          "送餐份数": "１２"}],
        "living_alone": [{"姓名": "孙戊", "身份证号": elder.translate(FULL_WIDTH), "联系电话": "１３８００１３８０００",
                          "街道": "南浦街道", "社区": "象山社区居委会", "纳入日期": serial(date(2023, 4, 1))}],
        "aid_payments": [{"身份证号": PERSON_ID.translate(FULL_WIDTH), "救助项目": "最低生活保障（低保）",
                          "发放日期": "２０２４／６／１０", "金额(元)": "７５０．５０"}],
    }
    for ledger, rows in files.items():
        content = csv_bytes(rows) if text else xlsx_bytes(rows)
        r = import_file(engine, OFFICE, ledger, f"{ledger}.{kind}", content)
        assert r.rows_added == 1, ledger
    with engine.connect() as conn:
        assert conn.execute(select(MealRecord.served_on, MealRecord.dine_in, MealRecord.delivered)).one() == \
            (date(2024, 6, 3), 56, 12)
        assert conn.execute(select(LivingAloneElder.id_number, LivingAloneElder.phone, LivingAloneElder.enrolled_on)
                            .where(LivingAloneElder.name == "孙戊")).one() == (elder, "13800138000", date(2023, 4, 1))
        assert conn.execute(select(AidPayment.paid_on, AidPayment.amount_fen)).one() == (date(2024, 6, 10), 75050)


def test_digits_of_other_scripts_in_an_id_number_are_a_problem_not_a_crash(engine):
    arabic = "".join("٠١٢٣٤٥٦٧٨٩"[int(c)] if c.isdigit() else c for c in PERSON_ID)
    exc = refused(engine, "aid_persons", "p.csv", csv_bytes([dict(VALID["aid_persons"][0], 身份证号=arabic)]))
    problem(exc, 2, "身份证号", "应为 18 位")


def test_a_number_that_is_no_serial_date_is_still_refused(engine):
    exc = refused(engine, "meal_records", "m.csv", csv_bytes([meal(day="2024"), meal(day="４５")]))
    problem(exc, 2, "日期", "应为日期")
    problem(exc, 3, "日期", "应为日期")


# --- item 23: NUL bytes, formulas, links to other workbooks, error values ---------------------------------------

def test_nul_and_control_characters_are_refused_by_file_row_and_column(engine):
    rows = [dict(VALID["home_services"][0]),
            dict(VALID["home_services"][0], 老人姓名="王\x00丙", 服务商="某服务\x00公司"),
            dict(VALID["home_services"][0], 老人姓名="李戊", 服务商="某\x07公司")]
    exc = refused(engine, "home_services", "含空字符.csv", csv_bytes(rows))
    problem(exc, 3, "老人姓名", "控制字符", "NUL")
    problem(exc, 3, "服务商", "控制字符")
    problem(exc, 4, "服务商", "控制字符")
    assert exc.total == 3
    assert all(m.startswith("“含空字符.csv” 工作表“CSV” 第 ") for m in exc.messages())
    with engine.connect() as conn:
        detail = conn.execute(select(AuditEntry.detail).where(AuditEntry.action == "import_refused")).scalar_one()
    assert "\x00" not in detail and "\\u0000" not in detail


def test_formula_link_and_error_cells_are_refused_by_row_and_column(engine):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "助餐记录"
    ws.append(["助餐点", "日期", "堂食份数", "送餐份数", "备注"])
    ws.append(["二郎庙社区助餐点", "2024-06-03", "=20+30", 5, "=A1"])   # a formula (no cached value), one ignored
    ws.append(["二郎庙社区助餐点", "2024-06-04", "=[1]Sheet1!C3", 5, None])  # a link to another workbook
    ws.append(["二郎庙社区助餐点", "2024-06-05", "#N/A", 5, None])            # an error value
    ws.append(["二郎庙社区助餐点", "=TODAY()", 7, 5, None])
    assert ws["C4"].data_type == "e" and ws["C2"].data_type == "f"
    exc = refused(engine, "meal_records", "公式.xlsx", _save(wb))
    problem(exc, 2, "堂食份数", "公式", "=20+30", "选择性粘贴")
    problem(exc, 3, "堂食份数", "其他工作簿", "外部链接")
    problem(exc, 4, "堂食份数", "错误值", "#N/A")
    problem(exc, 5, "日期", "公式", "=TODAY()")
    assert exc.total == 4, exc.messages()   # one problem per cell: no “必须填写” besides, nothing for 备注


def test_a_text_cell_beginning_with_equals_is_text(engine):
    wb = openpyxl.Workbook()
    ws = wb.active
    row = dict(VALID["home_services"][0], 服务商="=某服务公司")
    ws.append(list(row))
    ws.append(list(row.values()))
    ws["F2"].data_type = "s"   # a text cell, as an export that neutralised nothing would hold it
    r = import_file(engine, OFFICE, "home_services", "居家.xlsx", _save(wb))
    assert r.rows_added == 1


# --- item 24: short masked excerpts --------------------------------------------------------------------------------

def test_a_huge_cell_makes_neither_a_large_problem_nor_a_large_audit_row(engine):
    huge = "13812345678 " + "很长的内容" * 350_000   # 5.25 MB in UTF-8
    big = huge[:200_000]
    rows = [dict(VALID["home_services"][0], 服务日期=huge, 服务类型=big, 街道=big, 服务商=huge)]
    content = csv_bytes(rows)
    assert 10 * 1024 * 1024 < len(content) < reading.MAX_BYTES
    exc = refused(engine, "home_services", "巨大.csv", content)
    assert exc.total >= 4
    for text in exc.messages():
        assert len(text) < 300, text[:400]
    table = exc.table(None)
    assert table.map(lambda v: len(str(v))).to_numpy().max() < 300
    assert "13812345678" not in "".join(exc.messages())
    with engine.connect() as conn:
        detail = conn.execute(select(AuditEntry.detail).where(AuditEntry.action == "import_refused")).scalar_one()
    assert len(detail) < 4_000 and "13812345678" not in detail


def test_id_numbers_and_phones_in_problems_are_masked(engine):
    wrong = [dict(VALID["living_alone"][0], 身份证号="11010119900307123", 联系电话="1381234567x")]
    exc = refused(engine, "living_alone", "名册.csv", csv_bytes(wrong))
    problem(exc, 2, "身份证号", "110101*******7123")
    problem(exc, 2, "联系电话", "格式不对")
    text = "".join(exc.messages())
    assert not re.search(r"\d{11,}", text) and "1381234567" not in text
    with engine.connect() as conn:
        detail = conn.execute(select(AuditEntry.detail).where(AuditEntry.action == "import_refused")).scalar_one()
        assert conn.execute(select(func.count()).select_from(ImportBatch)).scalar() == 0
    assert not re.search(r"(?<![0-9a-f])\d{11,}(?![0-9a-f])", detail)   # (the file's SHA-256 is hex, not a number)


def test_a_control_character_in_a_file_name_is_not_stored(engine):
    r = import_file(engine, OFFICE, "meal_records", "助餐\x00记录" + "长" * 300 + ".csv", csv_bytes([meal()]))
    assert "\x00" not in r.file_name and len(r.file_name) <= 120 and r.file_name.endswith(".csv")
    with engine.connect() as conn:
        assert conn.execute(select(ImportBatch.file_name)).scalar_one() == r.file_name
    assert dump(engine)["meal_records"]


def test_the_site_page_imports_rooms_through_the_ledger(monkeypatch, db_url):
    """选址分析 → 闲置用房台账 → 从 Excel 导入 (AppTest): a good file becomes an import batch and an audit entry of the
    vacant_rooms ledger; a bad one shows the problem list by row and column, nothing written."""
    from streamlit.testing.v1 import AppTest

    from auth_helpers import open_section, sign_in_apptest

    engine = get_engine(db_url)
    seed(engine)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["period"] = "2024-H1"
    sign_in_apptest(at, db_url, role="office")
    at.run()
    at.switch_page("pages/site_selection.py")
    at.run()
    at.radio(key="site_section").set_value("闲置用房台账").run()
    open_section(at, "site_import_open")

    def send(name: str, content: bytes):
        at.file_uploader(key="site_upload").set_value((name, content, "application/octet-stream"))
        at.run()
        at.button(key="site_import").click().run()
        assert not at.exception, [e.value for e in at.exception]

    bad = [dict(VALID["vacant_rooms"][0], 楼层=0)]
    send("坏用房.xlsx", xlsx_bytes(bad))
    assert any("文件未导入" in e.value for e in at.error)
    problems = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    assert list(problems["行"]) == [2] and list(problems["列"]) == ["楼层"]
    assert _codes(engine) == []
    send("用房.xlsx", xlsx_bytes(VALID["vacant_rooms"]))
    assert _codes(engine) == ["XZ-001"]
    with engine.connect() as conn:
        assert conn.execute(select(ImportBatch.ledger, ImportBatch.file_name)).all() == [("vacant_rooms", "用房.xlsx")]
        actions = conn.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions[-2:] == ["import_refused", "import"]
