"""Files the importer must read (CSV in UTF-8 / UTF-8 with BOM / GBK / GB18030, encoding detected) and files it must
refuse before parsing (too large, not xlsx/csv, encrypted, zip bombs) — with a Chinese message and nothing written."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from data.imports import ImportRefused, import_file, reading
from data.db.models import HomeServiceVisit
from data.db.engine import get_engine
from test_imports import OFFICE, VALID, csv_bytes, dump, refused, seed, xlsx_bytes

RARE = "𠀀"  # CJK Extension B: in GB18030, not in GBK


@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    seed(eng)
    return eng


def home_rows(name: str) -> list[dict]:
    return [dict(VALID["home_services"][0], 老人姓名=name, 服务商="南昌市西湖区某某居家养老服务中心")]


@pytest.mark.parametrize("encoding, label, name", [
    ("utf-8", "UTF-8", "王丁"),
    ("utf-8-sig", "UTF-8（带 BOM）", "王丁"),
    ("gbk", "GB18030/GBK", "王丁"),
    ("gb18030", "GB18030/GBK", f"王{RARE}"),
])
def test_csv_encodings_are_detected(engine, encoding, label, name):
    content = csv_bytes(home_rows(name) * 1, encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeEncodeError):
            f"王{RARE}".encode("gbk")
    r = import_file(engine, OFFICE, "home_services", f"居家服务-{encoding}.csv", content)
    assert r.rows_added == 1 and r.encoding == label
    with engine.connect() as conn:
        assert conn.execute(select(HomeServiceVisit.elder_name, HomeServiceVisit.provider)).one() == \
            (name, "南昌市西湖区某某居家养老服务中心")


def test_gbk_csv_with_many_rows_and_a_blank_line_keeps_row_numbers(engine):
    rows = home_rows("王丁") + [dict(home_rows("李戊")[0], 街道="南埔街道")]
    text = csv_bytes(rows, encoding="gbk").replace(b"\r\n", b"\n")
    lines = text.split(b"\n")
    content = b"\n".join(lines[:2] + [b""] + lines[2:])   # an empty line 3: the bad row is row 4
    exc = refused(engine, "home_services", "居家.csv", content)
    assert list(exc.problems["row"]) == [4] and "南浦街道" in exc.problems["problem"].iloc[0]


def test_too_large_a_file_is_refused(engine, monkeypatch):
    monkeypatch.setattr(reading, "MAX_BYTES", 1024)
    exc = refused(engine, "meal_records", "大.csv", b"x" * 2048)
    assert "超过上限" in exc.problems["problem"].iloc[0] and exc.problems["file"].iloc[0] == "大.csv"


def test_the_real_size_limit_is_50_mb(engine):
    exc = refused(engine, "meal_records", "大.xlsx", b"PK\x03\x04" + b"\0" * (50 * 1024 * 1024 + 1))
    assert "超过上限 50 MB" in exc.messages()[0]


@pytest.mark.parametrize("name, content, words", [
    ("台账.txt", b"a,b\n1,2\n", "只能导入 Excel（.xlsx）或 CSV（.csv）"),
    ("台账.pdf", b"%PDF-1.4", "只能导入"),
    ("台账.xls", b"\x09\x08\x10\x00", "另存为 .xlsx"),
    ("台账.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "设有打开密码"),
    ("台账.xlsx", b"this is not a zip", "不是有效的 .xlsx"),
    ("台账.xlsx", b"PK\x03\x04garbage", "不是有效的 .xlsx"),
    ("台账.csv", b"", "文件是空的"),
])
def test_unreadable_files_are_refused(engine, name, content, words):
    exc = refused(engine, "meal_records", name, content)
    assert exc.total == 1 and words in exc.problems["problem"].iloc[0], exc.messages()
    assert exc.problems["row"].isna().all()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in entries.items():
            zf.writestr(n, data)
    return buf.getvalue()


def test_zip_bomb_with_too_many_entries_is_refused(engine):
    content = _zip({"xl/workbook.xml": b"<workbook/>", **{f"xl/p{i}.xml": b"" for i in range(2_100)}})
    exc = refused(engine, "meal_records", "炸弹.xlsx", content)
    assert "疑似恶意文件" in exc.messages()[0]


def test_zip_bomb_by_size_is_refused_before_openpyxl_opens_it(engine, monkeypatch):
    opened = []
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    content = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\0" * (20 * 1024 * 1024)})
    exc = refused(engine, "meal_records", "炸弹.xlsx", content)
    assert "压缩" in exc.messages()[0] and not opened
    monkeypatch.setattr(reading, "MAX_ZIP_RATIO", 10**9)
    monkeypatch.setattr(reading, "MAX_UNCOMPRESSED_BYTES", 10 * 1024 * 1024)
    exc = refused(engine, "meal_records", "炸弹.xlsx", content)
    assert "解压后" in exc.messages()[0] and "压缩炸弹" in exc.messages()[0] and not opened


def test_an_empty_sheet_and_a_header_only_file(engine):
    exc = refused(engine, "meal_records", "空.csv", "助餐点,日期,堂食份数\n".encode())
    assert "没有数据行" in exc.messages()[0]
    exc = refused(engine, "meal_records", "空.xlsx", xlsx_bytes([]))
    assert "空" in exc.messages()[0] or "表头" in exc.messages()[0]


def test_sheet_chosen_by_name_else_the_first(engine):
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([{"说明": "本表为封面"}, {"说明": "x"}], sheet="封面")))
    ws = wb.create_sheet("助餐记录")
    ws.append(["助餐点", "日期", "堂食份数"])
    ws.append(["二郎庙社区助餐点", "2024-06-03", 5])
    buf = io.BytesIO()
    wb.save(buf)
    r = import_file(engine, OFFICE, "meal_records", "含封面.xlsx", buf.getvalue())
    assert r.sheet == "助餐记录" and r.rows_added == 1


def test_refused_file_named_in_every_problem(engine):
    rows = [dict(VALID["meal_records"][0], 堂食份数=-1), dict(VALID["meal_records"][0], 日期="2024-06-09", 送餐份数=-2)]
    exc = refused(engine, "meal_records", "六月.xlsx", xlsx_bytes(rows, sheet="助餐记录"))
    assert exc.total == 2
    for msg in exc.messages():
        assert msg.startswith("“六月.xlsx” 工作表“助餐记录” 第 ") and "列：" in msg
    assert isinstance(exc, ImportRefused) and "六月.xlsx" in str(exc)


def test_command_line_import_and_template(db_url, tmp_path, capsys):
    import argparse

    import openpyxl

    from auth_helpers import ensure_user
    from data.db.engine import get_engine
    from cli.imports import register_cli
    from test_imports import meal, seed

    seed(get_engine(db_url))
    user = ensure_user(db_url, "street", "360103001")
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=db_url)
    register_cli(parser.add_subparsers(dest="command", required=True))

    def run(*argv) -> int:
        args = parser.parse_args(["import", *argv])
        return args.func(args)

    tpl = tmp_path / "模板.xlsx"
    assert run("--ledger", "meal_records", "--template", str(tpl)) == 0
    assert openpyxl.load_workbook(tpl)["助餐记录"]["A1"].value == "助餐点"
    good = tmp_path / "助餐.csv"
    good.write_bytes(csv_bytes([meal()], encoding="gbk"))
    assert run("--ledger", "meal_records", "--file", str(good), "--user", user, "--quiet") == 0
    assert "新增 1" in capsys.readouterr().out
    bad = tmp_path / "坏.csv"
    bad.write_bytes(csv_bytes([meal(day="2024-06-05"), meal(point="朝阳小区社区助餐点")]))
    before = dump(get_engine(db_url))
    assert run("--ledger", "meal_records", "--file", str(bad), "--user", user, "--quiet") == 1
    err = capsys.readouterr().err
    assert "未导入：共 1 个问题" in err and "第 3 行 “助餐点”列：街道账号只能导入本街道" in err
    assert dump(get_engine(db_url)) == before
    with pytest.raises(ValueError, match="没有名为"):
        run("--ledger", "meal_records", "--file", str(good), "--user", "nobody")
