"""Editing through the pages (AppTest on the demo district): a finding marked rectified is counted as rectified, a
conflicting save shows the conflict and the current values, read-only roles see no edit form, the freeze button
is for 局领导 / 业务科室 only. Every test puts the shared demo rows back as they were."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from auth_helpers import open_section, sign_in_apptest
from data.audit import audit_entries
from data.engine import get_engine
from data.models import Facility, Finding

ROOT = Path(__file__).resolve().parent.parent
SAVE = "FormSubmitter:rect_edit_form-保存"


def run_page(monkeypatch, url, page, role=None, account_street=None, **params) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    if role:
        sign_in_apptest(at, url, role=role, street=account_street)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at) -> str:
    parts = [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def metric(at, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label).replace(",", ""))


def open_finding(url, street: str | None = None) -> dict:
    """A finding found in December 2024, still open: the one the tests edit."""
    stmt = (select(*Finding.__table__.c).where(Finding.found_on >= date(2024, 12, 1), Finding.rectified_on.is_(None))
            .order_by(Finding.code).limit(1))
    if street:
        stmt = stmt.where(Finding.subdistrict_code == street)
    with get_engine(url).connect() as conn:
        return dict(conn.execute(stmt).mappings().one())


@contextmanager
def restored(url, model, row: dict, fields: tuple[str, ...]):
    """Put the shared demo row back afterwards (values and version)."""
    try:
        yield
    finally:
        with get_engine(url).begin() as conn:
            conn.execute(update(model).where(model.id == row["id"])
                         .values(**{f: row[f] for f in fields}, version=row["version"]))


def test_office_marks_a_finding_rectified_and_it_is_counted(monkeypatch, demo_url):
    finding = open_finding(demo_url)
    with restored(demo_url, Finding, finding, ("rectified_on", "note")):
        at = run_page(monkeypatch, demo_url, "pages/rectification.py", period="2024-12")
        rectified = metric(at, "已整改（个）")
        at.text_input(key="rect_edit_code").input(finding["code"]).run()
        assert not at.exception, [e.value for e in at.exception]
        assert f"**{finding['code']}**" in texts(at) and "当前：未整改" in texts(at)
        at.date_input(key="rect_edit_w_day").set_value(date(2024, 12, 20))
        at.text_area(key="rect_edit_w_note").input("已按要求整改，复查合格")
        at.button(key=SAVE).click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("已标记为已整改（2024-12-20）" in s.value for s in at.success)
        assert metric(at, "已整改（个）") == rectified + 1
        with get_engine(demo_url).connect() as conn:
            got = conn.execute(select(Finding.rectified_on, Finding.note, Finding.version)
                               .where(Finding.id == finding["id"])).one()
        assert tuple(got) == (date(2024, 12, 20), "已按要求整改，复查合格", finding["version"] + 1)
        entry = audit_entries(get_engine(demo_url), actions=("edit",)).iloc[0]
        assert entry["target"] == f"findings:{finding['code']}" and entry["username"] == "t_office"


def test_a_conflicting_save_shows_the_message_and_current_values(monkeypatch, demo_url):
    finding = open_finding(demo_url)
    with restored(demo_url, Finding, finding, ("rectified_on", "note")):
        at = run_page(monkeypatch, demo_url, "pages/rectification.py", period="2024-12")
        at.text_input(key="rect_edit_code").input(finding["code"]).run()
        # someone else saves between the two runs
        with get_engine(demo_url).begin() as conn:
            conn.execute(update(Finding).where(Finding.id == finding["id"])
                         .values(rectified_on=date(2024, 12, 18), note="他人填写的说明", version=Finding.version + 1))
        at.date_input(key="rect_edit_w_day").set_value(date(2024, 12, 20))
        at.text_area(key="rect_edit_w_note").input("我的说明")
        at.button(key=SAVE).click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("该记录已被他人修改" in e.value for e in at.error)
        current = next(df.value for df in at.dataframe if "项目" in df.value.columns).set_index("项目")["内容"]
        assert current["整改完成日期"] == "2024-12-18" and current["整改说明"] == "他人填写的说明"
        assert current["版本"] == str(finding["version"] + 1)
        with get_engine(demo_url).connect() as conn:  # the other user's save is intact
            assert conn.execute(select(Finding.note).where(Finding.id == finding["id"])).scalar() == "他人填写的说明"
        assert audit_entries(get_engine(demo_url), actions=("edit_conflict",))["target"].iloc[0] \
            == f"findings:{finding['code']}"
        # having seen the current values, the user edits on them and saves
        at.button(key="rect_edit_reload").click().run()
        assert not any("该记录已被他人修改" in e.value for e in at.error)
        at.text_area(key="rect_edit_w_note").input("核对后的说明")
        at.button(key=SAVE).click().run()
        assert not at.exception and any("已标记为已整改" in s.value for s in at.success)
        with get_engine(demo_url).connect() as conn:
            got = conn.execute(select(Finding.note, Finding.version).where(Finding.id == finding["id"])).one()
        assert tuple(got) == ("核对后的说明", finding["version"] + 2)


def test_leader_sees_no_edit_form(monkeypatch, demo_url):
    finding = open_finding(demo_url)
    at = run_page(monkeypatch, demo_url, "pages/rectification.py", role="leader", period="2024-12")
    assert "局领导账号只能查看整改情况，不能修改整改状态" in texts(at)
    keys = {getattr(e, "key", None) for e in at.text_input}
    assert "rect_edit_code" not in keys
    assert not [b for b in at.button if (b.key or "").startswith("FormSubmitter:rect_edit")]
    with get_engine(demo_url).connect() as conn:
        assert conn.execute(select(Finding.version).where(Finding.id == finding["id"])).scalar() == finding["version"]


def test_street_account_cannot_open_another_subdistricts_finding(monkeypatch, demo_url):
    other = open_finding(demo_url, street="360103004")
    at = run_page(monkeypatch, demo_url, "pages/rectification.py", role="street", account_street="360103001",
                  period="2024-12")
    at.text_input(key="rect_edit_code").input(other["code"]).run()
    assert not at.exception
    assert any("本街道" in w.value for w in at.warning)
    assert not [b for b in at.button if (b.key or "").startswith("FormSubmitter:rect_edit")]


def test_office_edits_a_facilitys_status_dates(monkeypatch, demo_url):
    with get_engine(demo_url).connect() as conn:
        fac = dict(conn.execute(select(*Facility.__table__.c).where(
            Facility.opened_on.is_not(None), Facility.closed_on.is_(None), Facility.subdistrict_code == "360103014")
            .order_by(Facility.code).limit(1)).mappings().one())
    with restored(demo_url, Facility, fac, ("construction_started_on", "opened_on", "closed_on")):
        at = run_page(monkeypatch, demo_url, "pages/facilities.py", street="360103014", period="2024-12")
        assert "fac_edit_pick" not in {s.key for s in at.selectbox}  # the edit section is built when opened
        open_section(at, "fac_edit_open")
        at.selectbox(key="fac_edit_pick").set_value(fac["id"]).run()
        assert not at.exception, [e.value for e in at.exception]
        at.date_input(key="fac_edit_w_closed_on").set_value(date(2024, 12, 31))
        at.button(key="FormSubmitter:fac_edit_form-保存").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("状态日期已保存" in s.value for s in at.success), (texts(at), fac, [e.value for e in at.error])
        assert "当前状态：已关停" in texts(at)
        with get_engine(demo_url).connect() as conn:
            got = conn.execute(select(Facility.closed_on, Facility.version).where(Facility.id == fac["id"])).one()
        assert tuple(got) == (date(2024, 12, 31), fac["version"] + 1)
        # a closing day before the opening day is refused with the reason
        at.date_input(key="fac_edit_w_closed_on").set_value(fac["opened_on"].replace(day=1) if fac["opened_on"].day > 1
                                                            else date(2000, 1, 1))
        at.button(key="FormSubmitter:fac_edit_form-保存").click().run()
        assert any("关停日期" in e.value and "不能早于开业日期" in e.value for e in at.error), (texts(at), fac)


@pytest.mark.parametrize("role, can", [("leader", True), ("display", False)])
def test_freeze_button_only_for_roles_that_may_freeze(monkeypatch, demo_url, role, can):
    at = run_page(monkeypatch, demo_url, "pages/roundtable.py", role=role, period="2024-Q2")
    open_section(at, "rt_staff_open")
    keys = {b.key for b in at.button}
    assert ("rt_freeze" in keys) is can
    if not can:
        assert any("冻结季度数据仅限局领导、业务科室账号" in c.value for c in at.caption)
