"""督办 in Chromium (issue 21): one 督办单 through its whole life — the office issues it from the 督办 page, the 南浦街道
account signs it and reports back with a photo, the office sees the photo, verifies and archives it — with no page
error, no console error and no request leaving the machine at any step."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from auth_helpers import TEST_PASSWORD, ensure_user
from browser import Probe, wait_streamlit_idle
from data.db.engine import get_engine
from data.db.models import SupervisionEvent, SupervisionEvidence, SupervisionOrder

ROOT = Path(__file__).resolve().parent.parent
OWN = "360103001"  # 南浦街道
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
LONG = 90_000  # a generous wait: two shared cores


@pytest.fixture
def own_demo(tmp_path):
    """A SQLite demo of its own: this test writes, and the shared demo must stay as built."""
    from data.db.migrate import upgrade
    from data.demo import build_demo

    url = f"sqlite:///{tmp_path}/demo.db"
    engine = get_engine(url)
    upgrade(engine)
    build_demo(engine, scale=1)
    return url


def _photo() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (120, 90), (60, 140, 90)).save(buf, format="PNG")
    return buf.getvalue()


def _form(page, button: str):
    """The form holding the submit button `button` (several forms on the page share field labels)."""
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name=button, exact=True))
    form.first.wait_for(timeout=LONG)
    return form.first


def _choose(page, where, label: str, text: str) -> None:
    box = where.get_by_label(label, exact=True)
    box.wait_for(timeout=LONG)
    box.click()
    page.keyboard.type(text)
    page.get_by_role("option").filter(has_text=text).first.click()
    wait_streamlit_idle(page)


def _fill(where, label: str, text: str) -> None:
    box = where.get_by_label(label, exact=True)
    box.wait_for(timeout=LONG)
    box.fill(text)


def _submit(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    wait_streamlit_idle(page)


def _order(url: str, code: str) -> dict:
    with get_engine(url).connect() as conn:
        return dict(conn.execute(select(SupervisionOrder.__table__).where(SupervisionOrder.code == code)).mappings().one())


def _checked(probe: Probe) -> None:
    result = probe.result()
    assert result.ok, result.problems


def test_one_order_office_street_office_with_a_photo(app_server, browser, own_demo):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": own_demo})
    street_user = ensure_user(own_demo, "street", OWN)

    # 1. the office issues a 督办单 to 南浦街道 from the 督办 page
    office = Probe(browser, f"{base}/supervision?period=2024-12")
    try:
        office.goto()
        page = office.page
        page.get_by_role("tab", name="派单").click()
        wait_streamlit_idle(page)
        form = _form(page, "派发督办单")
        _choose(page, form, "责任单位", "街道 · 南浦街道")
        _fill(form, "责任人", "南浦街道民政服务站站长")
        _fill(form, "督办事项", "群众诉求：助餐点周边楼道堆物")
        _fill(form, "整改要求", "请三日内清理楼道堆物，反馈并上传清理后照片。")
        _submit(page, "派发督办单")
        flash = page.get_by_text(re.compile(r"已派发督办单 DB-\d{4}-\d{4}"))
        flash.first.wait_for(timeout=LONG)
        code = re.search(r"DB-\d{4}-\d{4}", flash.first.inner_text()).group(0)
        _checked(office)
    finally:
        office.close()
    assert _order(own_demo, code)["status"] == "pending"

    # 2. the street signs it and reports back with a photo
    street = Probe(browser, f"{base}/supervision?period=2024-12&order={code}", credentials=(street_user, TEST_PASSWORD))
    try:
        street.goto()
        page = street.page
        page.get_by_text("我的督办").first.wait_for(timeout=LONG)
        _submit(page, "签收")
        page.get_by_text(f"督办单 {code} 已签收").first.wait_for(timeout=LONG)
        _fill(_form(page, "反馈整改情况"), "整改情况（必填）", "楼道堆物已全部清理，照片见附件。")
        # the box's own hint is in Chinese and names the evidence limit (10 MB), not the importer's 50 MB
        hint = page.locator('[data-testid="stFileUploaderDropzoneInstructions"] > div').first
        hint.wait_for(state="attached", timeout=LONG)  # its own text is 0 px: the Chinese ::after is what shows
        page.wait_for_function("""() => { const s = document.querySelector(
            '[data-testid="stFileUploaderDropzoneInstructions"] > div');
            return s && getComputedStyle(s, '::after').content.includes('10 MB'); }""", timeout=LONG)
        shown = hint.evaluate("s => getComputedStyle(s, '::after').content")
        assert "每个不超过 10 MB" in shown and "50" not in shown, shown
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            files=[{"name": "清理后.png", "mimeType": "image/png", "buffer": _photo()}])
        page.locator('[data-testid="stFileUploader"]').get_by_text("清理后.png", exact=True).first.wait_for()
        wait_streamlit_idle(page)
        _submit(page, "反馈整改情况")
        page.get_by_text(f"督办单 {code} 已反馈整改情况").first.wait_for(timeout=LONG)
        _checked(street)
    finally:
        street.close()
    got = _order(own_demo, code)
    assert (got["status"], got["version"]) == ("reported", 3)

    # 3. the office sees the photo, verifies and archives
    office = Probe(browser, f"{base}/supervision?period=2024-12&order={code}")
    try:
        office.goto()
        page = office.page
        page.get_by_role("button", name="下载 清理后.png").wait_for(timeout=LONG)
        # the photo is drawn by a lazily loaded element script a moment after the buttons: wait for it
        page.locator('[data-testid="stImage"] img').first.wait_for(state="visible", timeout=LONG)
        _submit(page, "复查通过")
        page.get_by_text(f"督办单 {code} 已复查通过").first.wait_for(timeout=LONG)
        _submit(page, "办结归档")
        page.get_by_text(f"督办单 {code} 已办结归档").first.wait_for(timeout=LONG)
        _checked(office)
    finally:
        office.close()
    got = _order(own_demo, code)
    assert (got["status"], got["version"], got["returned"]) == ("closed", 5, 0)
    with get_engine(own_demo).connect() as conn:
        steps = conn.execute(select(SupervisionEvent.action, SupervisionEvent.actor).where(
            SupervisionEvent.order_id == got["id"]).order_by(SupervisionEvent.id)).all()
        files = conn.execute(select(SupervisionEvidence.file_name, SupervisionEvidence.media_type,
                                    SupervisionEvidence.content).where(SupervisionEvidence.order_id == got["id"])).all()
    assert [a for a, _ in steps] == ["issue", "sign", "report", "pass", "close"]
    assert [w for _, w in steps] == ["t_office", street_user, street_user, "t_office", "t_office"]
    assert [(f.file_name, f.media_type, f.content) for f in files] == [("清理后.png", "image/png", _photo())]
