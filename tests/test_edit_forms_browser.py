"""Edit forms in Chromium (issue 17 item 6): a form's widgets belong to the record chosen. Typing into the form of
record A and then choosing record B shows B's values — not what was typed for A — and saving B leaves A untouched
and writes nothing of A's onto B. Checked on every edit form with a record selector: 整改状态 (finding), 设施状态
(facility) and 闲置用房 (vacant room).

The defect lived in the browser: Streamlit identifies a keyed widget by its key, and the browser kept the value
typed under that key when the page drew the form for another record; AppTest does not reproduce it."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from browser import Probe, wait_streamlit_idle
from data.db.engine import get_engine
from data.db.models import Facility, Finding, VacantRoom

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
NOTE_LABEL = "整改情况说明（重新打开时填写原因）"


@pytest.fixture(scope="module")
def own_demo(tmp_path_factory):
    """A SQLite demo of its own: these tests write, and the shared demo must stay as built."""
    from data.demo import build_demo
    from data.db.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('edit_forms')}/demo.db"
    engine = get_engine(url)
    upgrade(engine)
    build_demo(engine, scale=1)
    return url


def _row(url, model, where) -> dict:
    with get_engine(url).connect() as conn:
        return dict(conn.execute(select(*model.__table__.c).where(where)).mappings().one())


def _enter(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    wait_streamlit_idle(page)


def _choose(page, label: str, text: str) -> None:
    """Pick an option of a st.selectbox like a user: open it, type the option's text (the list is long and drawn
    only in part), click the option holding it. A section opened just before is drawn by a rerun that may not have
    started when the page last looked idle, so the box is waited for (generously: CI's two cores are shared)."""
    box = page.get_by_label(label, exact=True)
    box.wait_for(timeout=90_000)
    box.click()
    page.keyboard.type(text)
    page.get_by_role("option").filter(has_text=text).first.click()
    wait_streamlit_idle(page)


def _type_date(page, label: str, digits: str) -> None:
    """Type a day into a st.date_input (a segmented field: year, month, day) like a user, then leave it."""
    page.get_by_label(label, exact=True).locator('[role="spinbutton"]').first.click()
    page.keyboard.type(digits)
    page.keyboard.press("Tab")


def _date_segments(page, label: str) -> list[str]:
    segments = page.get_by_label(label, exact=True).locator('[role="spinbutton"]')
    return [segments.nth(i).inner_text() for i in range(segments.count())]


def _open_section(page, title: str) -> None:
    page.get_by_text(title, exact=True).click()
    wait_streamlit_idle(page)


def test_finding_form_switching_from_a_to_b_keeps_nothing_of_a(app_server, browser, own_demo):
    engine = get_engine(own_demo)
    with engine.connect() as conn:
        a_code, b_code = conn.execute(select(Finding.code).where(Finding.found_on >= date(2024, 12, 1))
                                      .order_by(Finding.code).limit(2)).scalars().all()
    with engine.begin() as conn:  # B: rectified, with a note of its own
        conn.execute(update(Finding).where(Finding.code == b_code)
                     .values(rectified_on=date(2024, 12, 20), note="乙问题的整改说明"))
    a0, b0 = _row(own_demo, Finding, Finding.code == a_code), _row(own_demo, Finding, Finding.code == b_code)
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": own_demo})
    probe = Probe(browser, f"{base}/rectification?period=2024-12")
    try:
        probe.goto()
        page = probe.page
        _enter(page, "或输入问题编号", a_code)
        page.get_by_text(a_code, exact=True).first.wait_for()
        note = page.get_by_label(NOTE_LABEL, exact=True)
        note.fill("甲问题的说明（未保存）")  # typed for A, never saved
        _enter(page, "或输入问题编号", b_code)
        page.get_by_text(f"版本 {b0['version']}").first.wait_for()
        assert b_code in page.locator("body").inner_text()
        note = page.get_by_label(NOTE_LABEL, exact=True)
        assert note.input_value() == "乙问题的整改说明"  # B's own note, not what was typed for A
        page.get_by_text("重新打开（改为未整改）", exact=True).click()
        page.get_by_role("button", name="保存").click()
        wait_streamlit_idle(page)
        page.get_by_text(f"问题 {b_code} 已重新打开。").wait_for()
        a1, b1 = _row(own_demo, Finding, Finding.code == a_code), _row(own_demo, Finding, Finding.code == b_code)
        assert a1 == a0  # A untouched
        assert (b1["rectified_on"], b1["note"], b1["version"]) == (None, "乙问题的整改说明", b0["version"] + 1)
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()


def test_facility_form_switching_from_a_to_b_keeps_nothing_of_a(app_server, browser, own_demo):
    street = "360103014"
    with get_engine(own_demo).connect() as conn:
        ids = conn.execute(select(Facility.id).where(Facility.subdistrict_code == street,
                                                     Facility.opened_on.is_not(None), Facility.closed_on.is_(None))
                           .order_by(Facility.code).limit(2)).scalars().all()
    a0, b0 = _row(own_demo, Facility, Facility.id == ids[0]), _row(own_demo, Facility, Facility.id == ids[1])
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": own_demo})
    probe = Probe(browser, f"{base}/facilities?street={street}&period=2024-12")
    try:
        probe.goto()
        page = probe.page
        _open_section(page, "修改设施状态（开工、开业、关停日期）")
        label = "选择设施（当前地图和清单中的设施）"
        _choose(page, label, a0["name"])
        page.get_by_text(f"版本 {a0['version']}").first.wait_for()
        _type_date(page, "关停日期", "20241231")  # typed for A, never saved
        assert _date_segments(page, "关停日期") == ["2024", "12", "31"]
        _choose(page, label, b0["name"])
        page.get_by_text(f"版本 {b0['version']}").first.wait_for()
        assert _date_segments(page, "关停日期") == ["yyyy", "mm", "dd"]  # B has no closing day
        page.get_by_role("button", name="保存").click()
        wait_streamlit_idle(page)
        page.get_by_text("内容与当前记录相同").first.wait_for()  # nothing of A's to save onto B
        assert _row(own_demo, Facility, Facility.id == ids[0]) == a0
        assert _row(own_demo, Facility, Facility.id == ids[1]) == b0
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()


def test_room_form_switching_from_a_to_b_keeps_nothing_of_a(app_server, browser, own_demo):
    with get_engine(own_demo).connect() as conn:
        ids = conn.execute(select(VacantRoom.id).where(VacantRoom.status == "candidate")
                           .order_by(VacantRoom.code).limit(2)).scalars().all()
    a0, b0 = _row(own_demo, VacantRoom, VacantRoom.id == ids[0]), _row(own_demo, VacantRoom, VacantRoom.id == ids[1])
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": own_demo})
    probe = Probe(browser, f"{base}/site_selection?period=2024-12")
    try:
        probe.goto()
        page = probe.page
        page.get_by_text("闲置用房台账", exact=True).click()
        wait_streamlit_idle(page)
        _open_section(page, "新增或修改用房")
        _choose(page, "选择用房", a0["code"])
        page.get_by_text(f"正在修改 {a0['code']}").wait_for()
        page.get_by_label("地址", exact=True).fill("甲用房的新地址（未保存）")  # typed for A, never saved
        _choose(page, "选择用房", b0["code"])
        page.get_by_text(f"正在修改 {b0['code']}").wait_for()
        assert page.get_by_label("地址", exact=True).input_value() == b0["address"]
        page.get_by_role("button", name="保存").click()
        wait_streamlit_idle(page)
        page.get_by_text("内容与当前记录相同").first.wait_for()
        assert _row(own_demo, VacantRoom, VacantRoom.id == ids[0]) == a0
        assert _row(own_demo, VacantRoom, VacantRoom.id == ids[1]) == b0
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()


def test_second_planners_room_save_shows_the_conflict_in_the_browser(app_server, browser, own_demo):
    """Issue 17 item 7 where it happened: a planner has a room open, another planner saves it, the first one saves —
    and is told "该记录已被他人修改" with the current values (the old page dropped that save without a word)."""
    from auth_helpers import principal
    from data.writes import site as site_writes
    from data.security.audit import audit_entries

    engine = get_engine(own_demo)
    with engine.connect() as conn:
        rid = conn.execute(select(VacantRoom.id).where(VacantRoom.status == "candidate")
                           .order_by(VacantRoom.code.desc()).limit(1)).scalar_one()
    r0 = _row(own_demo, VacantRoom, VacantRoom.id == rid)
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": own_demo})
    probe = Probe(browser, f"{base}/site_selection?period=2024-12")
    try:
        probe.goto()
        page = probe.page
        page.get_by_text("闲置用房台账", exact=True).click()
        wait_streamlit_idle(page)
        _open_section(page, "新增或修改用房")
        _choose(page, "选择用房", r0["code"])
        page.wait_for_function("(a) => [...document.querySelectorAll('input')].some(e => e.value === a)", arg=r0["address"])
        values = {k: r0[k] for k in ("code", "address", "subdistrict_code", "community_code", "lon", "lat", "area_m2",
                                     "floor", "has_lift", "owner_type", "monthly_rent", "available_from", "status")}
        site_writes.update_room(engine, principal("street", r0["subdistrict_code"]), rid,
                                {**values, "address": "另一位规划人员保存的地址"}, r0["version"])
        page.get_by_label("地址", exact=True).fill("我的地址（后保存）")
        page.get_by_role("button", name="保存").click()
        wait_streamlit_idle(page)
        page.get_by_text("该记录已被他人修改").first.wait_for()
        page.get_by_text("该记录当前的内容（他人保存后）").wait_for()  # with the current values (a table)
        page.get_by_role("button", name="以最新内容重新修改").wait_for()
        r1 = _row(own_demo, VacantRoom, VacantRoom.id == rid)
        assert (r1["address"], r1["version"]) == ("另一位规划人员保存的地址", r0["version"] + 1)  # the first save stands
        conflict = audit_entries(engine, actions=("edit_conflict",)).iloc[0]
        assert conflict["target"] == f"vacant_rooms:{r0['code']}" and "我的地址（后保存）" in conflict["detail"]
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()
