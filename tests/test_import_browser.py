"""数据导入 in Chromium, as a subdistrict station would use it: sign in, download the ledger's template, fill it
in, upload it through the page and see the result; a file with a mistake is refused naming row and column."""
from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from auth_helpers import TEST_PASSWORD, ensure_user
from browser import Probe, wait_streamlit_idle
from data.db.engine import get_engine
from data.db.models import Community

ROOT = Path(__file__).resolve().parent.parent
OWN = "360103001"  # 南浦街道
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _choose_ledger(page, title: str) -> None:
    page.get_by_label("台账", exact=True).click()
    page.get_by_role("option", name=title, exact=True).click()
    wait_streamlit_idle(page)


_CHINESE_HINT_JS = """() => {
    const d = document.querySelector('[data-testid="stFileUploaderDropzoneInstructions"] > div');
    return !!d && getComputedStyle(d, '::after').content.includes('单个文件不超过 50 MB'); }"""


def _upload(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    # the button is already enabled when an earlier file is still in the uploader: wait until the new file has
    # arrived (its name shows) and the rerun it causes is over, or the click imports the earlier file
    page.locator('[data-testid="stFileUploader"]').get_by_text(path.name, exact=True).first.wait_for()
    wait_streamlit_idle(page)
    page.get_by_role("button", name="校验并导入").wait_for()
    page.wait_for_function("() => { const b = [...document.querySelectorAll('button')]"
                           ".find(x => x.innerText.includes('校验并导入')); return b && !b.disabled; }")
    page.get_by_role("button", name="校验并导入").click()
    wait_streamlit_idle(page)


@pytest.fixture
def own_demo(tmp_path):
    """A SQLite demo of its own (built in ~3 s): this test writes, and the shared demo must stay as built."""
    from data.demo import build_demo
    from data.db.migrate import upgrade

    url = f"sqlite:///{tmp_path}/demo.db"
    engine = get_engine(url)
    upgrade(engine)
    build_demo(engine, scale=1)
    return url


def test_station_signs_in_downloads_fills_and_uploads_a_template(app_server, browser, own_demo, tmp_path):
    demo_url = own_demo
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    user = ensure_user(demo_url, "street", OWN)
    engine = get_engine(demo_url)
    with engine.connect() as conn:
        code, name = conn.execute(select(Community.code, Community.name)
                                  .where(Community.subdistrict_code == OWN).order_by(Community.code)).first()
    probe = Probe(browser, f"{base}/data_import", credentials=(user, TEST_PASSWORD))
    try:
        probe.goto()
        page = probe.page
        try:
            page.get_by_label("台账", exact=True).wait_for(timeout=60_000)
        except Exception as exc:  # noqa: BLE001 - say what the page showed instead
            raise AssertionError(f"{page.url}\n{probe.result().text[:1500]}\n{probe.result().problems}") from exc
        _choose_ledger(page, "社区老年人口")
        with page.expect_download() as download:
            page.get_by_role("button", name="下载“社区老年人口”导入模板").click()
        template = tmp_path / "template.xlsx"
        download.value.save_as(template)
        book = openpyxl.load_workbook(template)
        sheet = book["社区老年人口"]
        headers = [c.value for c in sheet[1]]
        assert headers[:5] == ["街道", "社区", "60周岁以上人口", "80周岁以上人口", "独居老人数"]
        sheet.delete_rows(2, sheet.max_row)  # drop the example row, fill in our community
        sheet.append(["南浦街道", name, 1888, 277, 31])
        filled = tmp_path / "南浦街道老年人口.xlsx"
        book.save(filled)

        _upload(page, filled)
        page.get_by_text("已导入").first.wait_for()
        text = page.locator("body").inner_text()
        assert "更新 1 行" in text or "更新 1" in text, text[:2000]
        with engine.connect() as conn:
            assert conn.execute(select(Community.pop_60).where(Community.code == code)).scalar() == 1888

        # the kept original comes back byte for byte, after asking for it, which is audited (it may hold personal
        # data)
        page.get_by_role("button", name="准备下载原始文件（含未脱敏个人信息，将记入审计日志）").click()
        wait_streamlit_idle(page)
        with page.expect_download() as download:
            page.get_by_role("button", name="下载原始文件（含未脱敏个人信息，已记入审计日志）").click()
        assert Path(download.value.path()).read_bytes() == filled.read_bytes()
        wait_streamlit_idle(page)
        from data.security.audit import audit_entries
        taken = audit_entries(engine, actions=("export_personal",))
        assert len(taken) == 1 and taken.iloc[0]["username"] == user and filled.name in taken.iloc[0]["target"]

        sheet.cell(row=2, column=3, value=-5)  # a negative population: refused, naming the row and column
        bad = tmp_path / "有错误.xlsx"
        book.save(bad)
        _upload(page, bad)
        page.get_by_text("未导入").first.wait_for()
        assert "数据库未作任何修改" in page.locator("body").inner_text()
        with page.expect_download() as download:  # the problem list, exactly as shown on the page
            page.get_by_role("button", name="下载 Excel").first.click()
        problems = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
        rows = [[str(c.value) for c in row] for row in problems.iter_rows()]
        flat = " ".join(" ".join(r) for r in rows)
        assert "有错误.xlsx" in flat and "社区老年人口" in flat and "60周岁以上人口" in flat, rows
        assert any("2" in r and "60周岁以上人口" in r for r in rows), rows  # row 2 as Excel shows it
        with engine.connect() as conn:
            assert conn.execute(select(Community.pop_60).where(Community.code == code)).scalar() == 1888
        result = probe.result()
        assert not result.external_requests and not result.exceptions and not result.page_errors, result.problems
    finally:
        probe.close()


def test_a_large_meal_file_through_the_page_on_postgresql(app_server, browser, tmp_path):
    """The office imports a 120-row meal file through the page on PostgreSQL — above the size where the importer
    COPYs and writes in one statement — then a corrected copy with more days: the page says what was added and updated, the records
    hold the new numbers and the daily totals still equal the records."""
    import pandas as pd
    from sqlalchemy import func

    from conftest import fresh_database
    from data.db import rollups
    from data.db.migrate import upgrade
    from data.db.models import Facility, MealRecord

    with fresh_database("postgresql", tmp_path) as url:
        engine = get_engine(url)
        upgrade(engine)
        with engine.begin() as conn:   # a district of one subdistrict, one community and one meal point
            conn.execute(Facility.__table__.metadata.tables["subdistricts"].insert(), [dict(code=OWN, name="南浦街道")])
            conn.execute(Community.__table__.insert(), [dict(code=OWN + "001", name="二郎庙社区居委会",
                                                             short_name="二郎庙", kind="社区居委会",
                                                             subdistrict_code=OWN, lon=115.864, lat=28.658,
                                                             pop_60=800, pop_80=120, living_alone=10)])
            conn.execute(Facility.__table__.insert(), [dict(
                code="MP-001", name="二郎庙社区助餐点", kind="meal_point", capacity=40, public=False,
                key_project=False, reserve_project=False, showcase=False, offers_delivery=False,
                safety_supervised=False, subdistrict_code=OWN, community_code=OWN + "001", lon=115.864,
                lat=28.658, opened_on=pd.Timestamp("2023-01-01").date(), version=1)])
        base = app_server(ROOT / "app.py", env={"DATABASE_URL": url})
        probe = Probe(browser, f"{base}/data_import", credentials=(ensure_user(url, "office"), TEST_PASSWORD))
        days = pd.date_range("2024-01-01", periods=120).strftime("%Y-%m-%d")
        frame = pd.DataFrame({"助餐点": "二郎庙社区助餐点", "日期": days, "堂食份数": 30, "送餐份数": 2})
        try:
            probe.goto()
            page = probe.page
            page.get_by_label("台账", exact=True).wait_for(timeout=60_000)
            _choose_ledger(page, "助餐记录")
            # the drop box's hint shows in Chinese (Streamlit's own English "50MB per file" is hidden under it)
            page.wait_for_function(_CHINESE_HINT_JS)
            first = tmp_path / "一季度助餐.csv"
            frame.to_csv(first, index=False)
            _upload(page, first)
            page.get_by_text("已导入").first.wait_for()
            assert "新增 120 行" in page.locator("body").inner_text()
            fixed = tmp_path / "一季度助餐（更正）.csv"
            later = pd.DataFrame({"助餐点": "二郎庙社区助餐点", "日期": pd.date_range("2024-05-01", periods=60)
                                  .strftime("%Y-%m-%d"), "堂食份数": 5, "送餐份数": 0})
            # every row corrected (none stays 30), and 60 more days: both kinds of write in one file
            pd.concat([frame.assign(堂食份数=frame.index % 25 + 31), later]).to_csv(fixed, index=False)
            _upload(page, fixed)
            page.get_by_text("新增 60 行，更新 120 行").first.wait_for()
            with engine.connect() as conn:
                assert conn.execute(select(func.count(), func.sum(MealRecord.dine_in))).one() == (
                    180, int(sum(i % 25 + 31 for i in range(120))) + 5 * 60)
                assert rollups.differences(conn) == []
            result = probe.result()
            assert not result.external_requests and not result.exceptions and not result.page_errors, \
                result.problems
        finally:
            probe.close()
