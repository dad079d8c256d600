"""Editing through the pages (AppTest on the demo district): a finding marked rectified is counted as rectified, a
conflicting save shows the conflict and the current values, read-only roles see no edit form, the freeze button
is for 局领导 / 业务科室 only. Every test puts the shared demo rows back as they were."""
from __future__ import annotations

from cards import cards

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from auth_helpers import open_section, sign_in_apptest
from components.edit_forms import widget_key
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.db.models import Facility, Finding

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
    parts = [f"{m.label} {m.value}" for m in cards(at)]
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def metric(at, label: str) -> int:
    return int(next(m.value for m in cards(at) if m.label == label).replace(",", ""))


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
    """Put the shared demo row back afterwards (values and version; the data version bumped, so no page cache keeps
    the edited row)."""
    from data.queries.common import bump_data_version

    try:
        yield
    finally:
        with get_engine(url).begin() as conn:
            conn.execute(update(model).where(model.id == row["id"])
                         .values(**{f: row[f] for f in fields}, version=row["version"]))
            bump_data_version(conn)


def test_office_marks_a_finding_rectified_and_it_is_counted(monkeypatch, demo_url):
    finding = open_finding(demo_url)
    with restored(demo_url, Finding, finding, ("rectified_on", "note")):
        at = run_page(monkeypatch, demo_url, "pages/rectification.py", period="2024-12")
        rectified = metric(at, "已整改（个）")
        at.text_input(key="rect_edit_code").input(finding["code"]).run()
        assert not at.exception, [e.value for e in at.exception]
        assert f"**{finding['code']}**" in texts(at) and "当前：未整改" in texts(at)
        at.date_input(key=widget_key("rect_edit", finding, "day")).set_value(date(2024, 12, 20))
        at.text_area(key=widget_key("rect_edit", finding, "note")).input("已按要求整改，复查合格")
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
        at.date_input(key=widget_key("rect_edit", finding, "day")).set_value(date(2024, 12, 20))
        at.text_area(key=widget_key("rect_edit", finding, "note")).input("我的说明")
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
        reloaded = {"id": finding["id"], "version": finding["version"] + 1}  # the widgets of the version now held
        assert at.text_area(key=widget_key("rect_edit", reloaded, "note")).value == "他人填写的说明"
        at.text_area(key=widget_key("rect_edit", reloaded, "note")).input("核对后的说明")
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
    def refusals() -> int:
        got = audit_entries(get_engine(demo_url), actions=("read_refused",))
        return sum(str(t).endswith("finding_for_edit") for t in got["target"])

    before = refusals()
    at.text_input(key="rect_edit_code").input(other["code"]).run()
    assert not at.exception
    refused = " ".join(w.value for w in at.warning)
    assert not [b for b in at.button if (b.key or "").startswith("FormSubmitter:rect_edit")]
    # the same words as for a code that does not exist (another street's code is not confirmed) …
    at.text_input(key="rect_edit_code").input("AQ19990101").run()
    missing = " ".join(w.value for w in at.warning)
    assert refused.replace(other["code"], "X") == missing.replace("AQ19990101", "X")
    assert "或本账号无权查看" in refused
    # … and the refused read is in the audit log, as every refused read of a page is
    assert refusals() == before + 1


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
        at.date_input(key=widget_key("fac_edit", fac, "closed_on")).set_value(date(2024, 12, 31))
        at.button(key="FormSubmitter:fac_edit_form-保存").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("状态日期已保存" in s.value for s in at.success), (texts(at), fac, [e.value for e in at.error])
        assert "当前状态：已关停" in texts(at)
        with get_engine(demo_url).connect() as conn:
            got = conn.execute(select(Facility.closed_on, Facility.version).where(Facility.id == fac["id"])).one()
        assert tuple(got) == (date(2024, 12, 31), fac["version"] + 1)
        # a closing day before the opening day is refused with the reason
        saved = {"id": fac["id"], "version": fac["version"] + 1}
        at.date_input(key=widget_key("fac_edit", saved, "closed_on")).set_value(
            fac["opened_on"].replace(day=1) if fac["opened_on"].day > 1 else date(2000, 1, 1))
        at.button(key="FormSubmitter:fac_edit_form-保存").click().run()
        assert any("关停日期" in e.value and "不能早于开业日期" in e.value for e in at.error), (texts(at), fac)


@pytest.mark.parametrize("role, can", [("leader", True), ("display", False)])
def test_freeze_button_only_for_roles_that_may_freeze(monkeypatch, demo_url, role, can):
    """The staff panel (live vs frozen, freeze, export) sits behind the control bar's 工作人员 toggle, which only roles
    that may freeze get; the projected canvas never shows it."""
    at = run_page(monkeypatch, demo_url, "pages/roundtable.py", role=role, period="2024-Q2")
    assert ("rt_staff" in {t.key for t in at.toggle}) is can
    if can:
        at.toggle(key="rt_staff").set_value(True).run()
        open_section(at, "rt_staff_open")
    assert ("rt_freeze" in {b.key for b in at.button}) is can


# --- vacant rooms (选址分析): the same optimistic rule as findings (issue 17 item 7) ------------------------------

ROOM_FIELDS = ("code", "address", "subdistrict_code", "community_code", "lon", "lat", "area_m2", "floor", "has_lift",
               "owner_type", "monthly_rent", "available_from", "status")
ROOM_SAVE = "FormSubmitter:site_room_form-保存"


def candidate_room(url) -> dict:
    from data.db.models import VacantRoom

    with get_engine(url).connect() as conn:
        return dict(conn.execute(select(*VacantRoom.__table__.c).where(VacantRoom.status == "candidate")
                                 .order_by(VacantRoom.code).limit(1)).mappings().one())


def open_room(monkeypatch, url, code: str) -> AppTest:
    at = run_page(monkeypatch, url, "pages/site_selection.py", period="2024-12")
    at.radio(key="site_section").set_value("闲置用房台账").run()
    open_section(at, "site_room_open")
    at.selectbox(key="site_edit_pick").set_value(code).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_second_planners_room_save_is_refused_with_the_message_and_audited(monkeypatch, demo_url):
    """Two planners edit the same room: the second save is not dropped silently — it is refused with "该记录已被他人
    修改" and the room's current values, the first save is intact, both attempts are in the audit log, and the second
    planner saves on the current values afterwards."""
    import json

    from auth_helpers import principal
    from data.writes import site as site_writes
    from data.db.models import VacantRoom

    room = candidate_room(demo_url)
    engine = get_engine(demo_url)
    with restored(demo_url, VacantRoom, room, ROOM_FIELDS):
        at = open_room(monkeypatch, demo_url, room["code"])
        held = {"id": room["id"], "version": room["version"]}
        assert at.number_input(key=widget_key("site_room", held, "monthly_rent")).value == room["monthly_rent"]
        # the first planner (another session) saves between the second planner's two runs
        first = {k: room[k] for k in ROOM_FIELDS}
        site_writes.update_room(engine, principal("office"), room["id"], {**first, "monthly_rent": 1111.0},
                                room["version"])
        at.number_input(key=widget_key("site_room", held, "monthly_rent")).set_value(2222.0)
        at.button(key=ROOM_SAVE).click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("该记录已被他人修改" in e.value for e in at.error), [e.value for e in at.error]
        current = next(df.value for df in at.dataframe if "项目" in df.value.columns).set_index("项目")["内容"]
        assert current["月租金(元/月)"] == "1111.0" and current["版本"] == str(room["version"] + 1)
        with engine.connect() as conn:  # the first save is intact
            assert conn.execute(select(VacantRoom.monthly_rent).where(VacantRoom.id == room["id"])).scalar() == 1111
        log = audit_entries(engine, actions=("room_edit", "edit_conflict"))
        assert list(log["action"][:2]) == ["edit_conflict", "room_edit"]
        conflict = json.loads(log["detail"].iloc[0])
        assert log["target"].iloc[0] == f"vacant_rooms:{room['code']}" and log["username"].iloc[0] == "t_office"
        assert conflict["attempted"]["monthly_rent"] == 2222.0 and conflict["expected_version"] == room["version"]
        # having seen the current values, the second planner edits on them and saves
        at.button(key="site_room_reload").click().run()
        assert not any("该记录已被他人修改" in e.value for e in at.error)
        now = {"id": room["id"], "version": room["version"] + 1}
        assert at.number_input(key=widget_key("site_room", now, "monthly_rent")).value == 1111.0
        at.number_input(key=widget_key("site_room", now, "monthly_rent")).set_value(2222.0)
        at.button(key=ROOM_SAVE).click().run()
        assert not at.exception and any("已保存" in s.value for s in at.success), [e.value for e in at.error]
        with engine.connect() as conn:
            got = conn.execute(select(VacantRoom.monthly_rent, VacantRoom.version)
                               .where(VacantRoom.id == room["id"])).one()
        assert tuple(got) == (2222, room["version"] + 2)


def test_switching_rooms_starts_the_form_from_the_chosen_room(monkeypatch, demo_url):
    """The room form's widgets belong to the room chosen (issue 17 item 6): after choosing another room, the form
    shows that room's values, and saving writes them to that room only."""
    from data.db.models import VacantRoom

    with get_engine(demo_url).connect() as conn:
        a, b = [dict(r) for r in conn.execute(select(*VacantRoom.__table__.c).where(VacantRoom.status == "candidate")
                                              .order_by(VacantRoom.code).limit(2)).mappings()]
    with restored(demo_url, VacantRoom, a, ROOM_FIELDS), restored(demo_url, VacantRoom, b, ROOM_FIELDS):
        at = open_room(monkeypatch, demo_url, a["code"])
        at.text_input(key=widget_key("site_room", a, "address")).input("甲用房改过的地址")
        at.selectbox(key="site_edit_pick").set_value(b["code"]).run()
        assert at.text_input(key=widget_key("site_room", b, "address")).value == b["address"]
        at.number_input(key=widget_key("site_room", b, "area_m2")).set_value(float(b["area_m2"]) + 1)
        at.button(key=ROOM_SAVE).click().run()
        assert not at.exception and any("已保存" in s.value for s in at.success), [e.value for e in at.error]
        with get_engine(demo_url).connect() as conn:
            got = {r.id: r for r in conn.execute(select(VacantRoom.id, VacantRoom.address, VacantRoom.area_m2,
                                                        VacantRoom.version).where(VacantRoom.id.in_([a["id"], b["id"]])))}
        assert (got[a["id"]].address, got[a["id"]].version) == (a["address"], a["version"])
        assert (got[b["id"]].address, got[b["id"]].area_m2) == (b["address"], float(b["area_m2"]) + 1)
