"""The 数据导入 page (AppTest, a fresh database on each engine): template download, upload, the validation report of a
refused file, the result of an accepted one, the GCJ-02 box where coordinates apply, the import history with the
original file, and a 街道 account's rows of another subdistrict refused."""
from __future__ import annotations

from cards import cards

from pathlib import Path

from streamlit.testing.v1 import AppTest

from auth_helpers import sign_in_apptest
from data.db.engine import get_engine
from test_imports import NANPU, VALID, csv_bytes, dump, meal, seed, xlsx_bytes

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/data_import.py"


def open_page(monkeypatch, url, role=None, street=None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if role:
        sign_in_apptest(at, url, role=role, street=street)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at) -> str:
    parts = [f"{m.label} {m.value}" for m in cards(at)]
    for kind in ("title", "subheader", "markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def upload(at, ledger: str, name: str, content: bytes, gcj02: bool | None = None) -> AppTest:
    at.selectbox(key="imp_ledger").set_value(ledger).run()
    if gcj02 is not None:
        at.checkbox(key="imp_gcj02").set_value(gcj02)
    at.file_uploader(key=f"imp_file_{ledger}").set_value((name, content, "application/octet-stream"))
    at.run()
    at.button(key="imp_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frames(at) -> list:
    return [d.value for d in at.dataframe]


def test_office_imports_sees_the_result_and_the_history(monkeypatch, db_url):
    engine = get_engine(db_url)
    seed(engine)
    at = open_page(monkeypatch, db_url)
    assert at.title[0].value == "数据导入"
    assert "还没有导入记录" in texts(at)
    labels = [b.label for b in at.get("download_button")]
    assert "下载“养老服务设施”导入模板" in labels
    assert not at.checkbox(key="imp_gcj02").value   # facilities carry coordinates: the box is there
    at.selectbox(key="imp_ledger").set_value("meal_records").run()
    assert not [c for c in at.checkbox if c.key == "imp_gcj02"]
    assert "下载“助餐记录”导入模板" in [b.label for b in at.get("download_button")]
    upload(at, "meal_records", "六月助餐.xlsx", xlsx_bytes([meal(), meal(day="2024-06-04")]))
    t = texts(at)
    assert "已导入助餐记录" in t and "新增 2 行" in t and "新增（行） 2" in t
    history = frames(at)[-1]
    assert list(history["文件名"]) == ["六月助餐.xlsx"] and list(history["新增"]) == [2]
    # the original is offered only after asking for it (audited): no download of it up front
    assert not any(b.label.startswith("下载原始文件") for b in at.get("download_button"))
    at.button(key="imp_original_ask").click().run()
    assert any(b.label.startswith("下载原始文件") for b in at.get("download_button"))
    # the same file again: nothing changes, and the page says so
    upload(at, "meal_records", "六月助餐.xlsx", xlsx_bytes([meal(), meal(day="2024-06-04")]))
    assert "完全一致" in texts(at)
    assert list(frames(at)[-1]["未变"]) == [2, 0]


def test_refused_file_shows_every_problem_and_writes_nothing(monkeypatch, db_url):
    engine = get_engine(db_url)
    seed(engine)
    at = open_page(monkeypatch, db_url)
    before = dump(engine)
    bad = [meal(point="二郎庙助餐点"), meal(dine=-5, day="2024-06-04"), meal(day="2024-06-04")]
    upload(at, "meal_records", "坏文件.csv", csv_bytes(bad))
    assert "“坏文件.csv”未导入：发现 3 个问题，数据库未作任何修改" in texts(at)
    report = next(f for f in frames(at) if "问题" in f.columns)
    assert list(report.columns) == ["文件", "工作表", "行", "列", "问题"]
    assert list(report["行"]) == [2, 3, 4] and list(report["列"]) == ["助餐点", "堂食份数", "助餐点"]
    assert "您是不是要找：二郎庙社区助餐点" in report["问题"].iloc[0]
    assert "与第 3 行重复" in report["问题"].iloc[2]
    summary = next(f for f in frames(at) if "问题数" in f.columns)
    assert dict(zip(summary["列"], summary["问题数"])) == {"助餐点": 2, "堂食份数": 1}
    after = dump(engine)
    assert after == before


def test_gcj02_box_converts_coordinates(monkeypatch, db_url):
    from geo.gcj02 import wgs84_to_gcj02
    from test_imports import EDGE_WGS

    engine = get_engine(db_url)
    seed(engine)
    at = open_page(monkeypatch, db_url)
    g_lon, g_lat = wgs84_to_gcj02(*EDGE_WGS)
    row = dict(VALID["vacant_rooms"][0], 经度=round(g_lon, 6), 纬度=round(g_lat, 6))
    upload(at, "vacant_rooms", "用房.csv", csv_bytes([row]), gcj02=False)
    assert "勾选“是GCJ-02坐标”" in next(f for f in frames(at) if "问题" in f.columns)["问题"].iloc[0]
    upload(at, "vacant_rooms", "用房.csv", csv_bytes([row]), gcj02=True)
    assert "新增 1 行" in texts(at) and "GCJ-02" in texts(at)


def test_street_account_rows_of_another_street_are_refused(monkeypatch, db_url):
    engine = get_engine(db_url)
    seed(engine)
    at = open_page(monkeypatch, db_url, role="street", street=NANPU)
    assert "街道账号只能导入本街道的数据" in texts(at)
    upload(at, "meal_records", "助餐.csv", csv_bytes([meal(), meal(point="朝阳小区社区助餐点")]))
    report = next(f for f in frames(at) if "问题" in f.columns)
    assert list(report["行"]) == [3] and "街道账号只能导入本街道（南浦街道）" in report["问题"].iloc[0]
    upload(at, "meal_records", "助餐.csv", csv_bytes([meal()]))
    assert "新增 1 行" in texts(at)
