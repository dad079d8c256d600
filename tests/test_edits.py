"""修改记录 with optimistic concurrency (data/edits.py) on SQLite and PostgreSQL: two sessions, two threads, no lost
update; authorisation on the record's own subdistrict; audit entries; date validation."""
from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select

from auth_helpers import principal
from data.writes import edits
from data.security.access import AccessDenied, call
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.db.models import Community, Facility, Finding, Subdistrict, VacantRoom
from data.queries.common import data_version
from data.writes.site import update_room

A, B = "360103001", "360103002"
OFFICE = principal("office")


@pytest.fixture
def engine(db_url):
    """Two subdistricts, a finding and a facility in each, a vacant room in B."""
    eng = get_engine(db_url)
    with eng.begin() as conn:
        conn.execute(insert(Subdistrict), [{"code": A, "name": "南浦街道"}, {"code": B, "name": "朝阳洲街道"}])
        conn.execute(insert(Community), [
            {"code": A + "001", "name": "甲一社区", "short_name": "甲一", "kind": "社区居委会", "subdistrict_code": A,
             "lon": 115.9, "lat": 28.6}])
        for values in [
            {"id": 1, "code": "FA", "source": "inspection_group", "place_type": "养老机构", "place_name": "甲院",
             "subdistrict_code": A, "category": "消防", "severity": "一般", "found_on": date(2024, 11, 1),
             "deadline": date(2024, 12, 1)},
            {"id": 2, "code": "FB", "source": "inspection_group", "place_type": "养老机构", "place_name": "乙院",
             "subdistrict_code": B, "category": "消防", "severity": "较重", "found_on": date(2024, 11, 5),
             "deadline": date(2024, 12, 5), "rectified_on": date(2024, 11, 20), "note": "已更换灭火器"}]:
            conn.execute(insert(Finding).values(**values))
        for values in [
            {"id": 1, "code": "PA", "name": "甲助餐点", "kind": "meal_point", "subdistrict_code": A, "lon": 115.9,
             "lat": 28.6, "planned_on": date(2024, 3, 1)},
            {"id": 2, "code": "PB", "name": "乙养老院", "kind": "care_institution", "subdistrict_code": B,
             "lon": 115.9, "lat": 28.6, "construction_started_on": date(2023, 5, 1), "opened_on": date(2024, 1, 1)}]:
            conn.execute(insert(Facility).values(**values))
        conn.execute(insert(VacantRoom).values(
            id=1, code="VR-B", address="朝阳洲某路 1 号", subdistrict_code=B, lon=115.88, lat=28.65, area_m2=120,
            floor=1, has_lift=False, owner_type="state", monthly_rent=0, status="candidate", version=1))
    return eng


def row(engine, model, rid: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(*model.__table__.c).where(model.id == rid)).mappings().one())


def log(engine, action: str | None = None):
    return audit_entries(engine, actions=(action,) if action else ())


# --- findings --------------------------------------------------------------------------------------------------

def test_rectify_and_reopen_a_finding(engine):
    v0 = data_version(engine)
    saved = edits.update_finding(engine, OFFICE, 1, 1, rectified_on=date(2024, 12, 10), note="已整改完毕")
    assert saved["rectified_on"] == date(2024, 12, 10) and saved["note"] == "已整改完毕" and saved["version"] == 2
    assert data_version(engine) == v0 + 1
    entry = log(engine, "edit").iloc[0]
    detail = json.loads(entry["detail"])
    assert entry["target"] == "findings:FA" and entry["username"] == OFFICE.username
    assert detail["changes"] == {"rectified_on": {"before": None, "after": "2024-12-10"},
                                 "note": {"before": None, "after": "已整改完毕"}}
    assert detail["version"] == {"before": 1, "after": 2}
    # reopen: rectified_on cleared, note kept unless a new one is given
    saved = edits.update_finding(engine, OFFICE, 1, 2, rectified_on=None, note="复查发现未整改到位")
    assert saved["rectified_on"] is None and saved["version"] == 3 and saved["note"] == "复查发现未整改到位"
    detail = json.loads(log(engine, "edit").iloc[0]["detail"])
    assert detail["action"] == "reopen" and detail["changes"]["rectified_on"] == {"before": "2024-12-10", "after": None}


def test_two_sessions_second_save_is_refused_and_first_is_intact(engine):
    # both users load version 1
    first = call(OFFICE, edits.finding_for_edit, engine, code="FA")
    second = call(principal("street", A), edits.finding_for_edit, engine, 1)
    assert first["version"] == second["version"] == 1
    edits.update_finding(engine, OFFICE, 1, first["version"], rectified_on=date(2024, 12, 3), note="甲的整改说明")
    v1 = data_version(engine)
    with pytest.raises(edits.StaleEdit) as info:
        edits.update_finding(engine, principal("street", A), 1, second["version"], rectified_on=date(2024, 12, 9),
                             note="乙的整改说明")
    assert "该记录已被他人修改" in info.value.message and "当前版本 2" in info.value.message
    current = info.value.current
    assert current["version"] == 2 and current["rectified_on"] == date(2024, 12, 3) and current["note"] == "甲的整改说明"
    got = row(engine, Finding, 1)  # the first user's update is intact
    assert (got["rectified_on"], got["note"], got["version"]) == (date(2024, 12, 3), "甲的整改说明", 2)
    assert data_version(engine) == v1
    conflict = log(engine, "edit_conflict")
    assert len(conflict) == 1 and conflict["username"].iloc[0] == "t_street" and not conflict["ok"].iloc[0]
    assert json.loads(conflict["detail"].iloc[0])["expected_version"] == 1
    # seeing the current values, the second user saves on version 2
    edits.update_finding(engine, principal("street", A), 1, current["version"], rectified_on=date(2024, 12, 9),
                         note="乙核对后的整改说明")
    assert row(engine, Finding, 1)["version"] == 3


def _race(fn, n: int = 2):
    """Run fn(i) in n threads released together; return (results, errors) by thread."""
    gate = threading.Barrier(n)
    results, errors = [None] * n, [None] * n

    def run(i):
        gate.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # collected and asserted by the test
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_two_writers_in_threads_exactly_one_wins_on_a_finding(engine):
    days = [date(2024, 12, 2), date(2024, 12, 4)]
    results, errors = _race(lambda i: edits.update_finding(engine, OFFICE, 1, 1, rectified_on=days[i],
                                                           note=f"写入者{i}"))
    winners = [i for i in range(2) if errors[i] is None]
    assert len(winners) == 1, errors
    loser = 1 - winners[0]
    assert isinstance(errors[loser], edits.StaleEdit), errors[loser]
    got = row(engine, Finding, 1)
    assert got["version"] == 2 and got["note"] == f"写入者{winners[0]}" and got["rectified_on"] == days[winners[0]]
    assert errors[loser].current["note"] == f"写入者{winners[0]}"
    assert len(log(engine, "edit")) == 1 and len(log(engine, "edit_conflict")) == 1


def test_two_writers_in_threads_exactly_one_wins_on_a_facility(engine):
    days = [date(2024, 4, 1), date(2024, 4, 2)]
    results, errors = _race(lambda i: edits.update_facility_status(engine, OFFICE, 1, 1,
                                                                   construction_started_on=days[i]))
    assert sum(e is None for e in errors) == 1, errors
    assert sum(isinstance(e, edits.StaleEdit) for e in errors) == 1
    winner = next(r for r in results if r is not None)
    got = row(engine, Facility, 1)
    assert got["version"] == 2 and got["construction_started_on"] == winner["construction_started_on"]


def test_finding_date_validation(engine):
    with pytest.raises(edits.EditError, match="不能早于发现日期（2024-11-01）"):
        edits.update_finding(engine, OFFICE, 1, 1, rectified_on=date(2024, 10, 31), note="说明")
    with pytest.raises(edits.EditError, match="不能晚于今天"):
        edits.update_finding(engine, OFFICE, 1, 1, rectified_on=date.today() + timedelta(days=1), note="说明")
    with pytest.raises(edits.EditError, match="请填写整改情况说明"):
        edits.update_finding(engine, OFFICE, 1, 1, rectified_on=date(2024, 12, 1), note="  ")
    with pytest.raises(edits.EditError, match="相同"):
        edits.update_finding(engine, OFFICE, 1, 1, rectified_on=None, note=None)  # already open
    with pytest.raises(edits.EditError, match="不存在"):
        edits.update_finding(engine, OFFICE, 99, 1, rectified_on=None, note=None)
    # the found day itself and today are allowed
    edits.update_finding(engine, OFFICE, 1, 1, rectified_on=date(2024, 11, 1), note="当日整改")
    edits.update_finding(engine, OFFICE, 1, 2, rectified_on=date.today(), note=None)  # the note is kept
    got = row(engine, Finding, 1)
    assert got["version"] == 3 and got["rectified_on"] == date.today() and got["note"] == "当日整改"
    assert log(engine, "edit_conflict").empty


# --- facilities ------------------------------------------------------------------------------------------------

def test_facility_status_follows_its_dates(engine):
    assert edits.facility_for_edit(engine, 1)["status"] == "planned"
    saved = edits.update_facility_status(engine, OFFICE, 1, 1, construction_started_on=date(2024, 4, 1))
    assert saved["status"] == "building" and saved["version"] == 2
    saved = edits.update_facility_status(engine, OFFICE, 1, 2, opened_on=date(2024, 9, 1))
    assert saved["status"] == "operating" and saved["construction_started_on"] == date(2024, 4, 1)
    saved = edits.update_facility_status(engine, OFFICE, 1, 3, closed_on=date(2024, 12, 31))
    assert saved["status"] == "closed" and saved["status_name"] == "已关停"
    detail = json.loads(log(engine, "edit").iloc[0]["detail"])
    assert detail["changes"] == {"closed_on": {"before": None, "after": "2024-12-31"},
                                 "status": {"before": "operating", "after": "closed"}}
    # None clears a date: reopened
    saved = edits.update_facility_status(engine, OFFICE, 1, 4, closed_on=None)
    assert saved["status"] == "operating" and saved["version"] == 5
    assert len(log(engine, "edit")) == 4


@pytest.mark.parametrize("dates, words", [
    ({"construction_started_on": date(2024, 2, 1)}, "开工日期（2024-02-01）不能早于规划日期（2024-03-01）"),
    ({"construction_started_on": date(2024, 5, 1), "opened_on": date(2024, 4, 1)}, "开业日期（2024-04-01）不能早于开工日期"),
    ({"opened_on": date(2024, 5, 1), "closed_on": date(2024, 4, 30)}, "关停日期（2024-04-30）不能早于开业日期"),
    ({"closed_on": date(2024, 5, 1)}, "填写关停日期前须先填写开业日期"),
    ({"opened_on": date.today() + timedelta(days=3)}, "开业日期"),
    ({"construction_started_on": "2024-13-01"}, "应为日期"),
])
def test_facility_date_validation(engine, dates, words):
    with pytest.raises(edits.EditError) as info:
        edits.update_facility_status(engine, OFFICE, 1, 1, **dates)
    assert words in info.value.message, info.value.message
    assert row(engine, Facility, 1)["version"] == 1 and log(engine, "edit").empty


def test_stale_facility_edit_keeps_the_first_update(engine):
    edits.update_facility_status(engine, OFFICE, 2, 1, closed_on=date(2024, 6, 30))
    with pytest.raises(edits.StaleEdit) as info:
        edits.update_facility_status(engine, principal("street", B), 2, 1, opened_on=date(2024, 2, 1))
    assert info.value.current["closed_on"] == date(2024, 6, 30) and info.value.current["status"] == "closed"
    got = row(engine, Facility, 2)
    assert got["closed_on"] == date(2024, 6, 30) and got["opened_on"] == date(2024, 1, 1) and got["version"] == 2
    assert len(log(engine, "edit_conflict")) == 1


# --- authorisation ---------------------------------------------------------------------------------------------

def test_street_account_cannot_edit_another_subdistricts_records(engine):
    other = principal("street", A)  # a 南浦 account; FB, PB and VR-B belong to 朝阳洲
    before = (row(engine, Finding, 2), row(engine, Facility, 2), row(engine, VacantRoom, 1))
    v0 = data_version(engine)
    with pytest.raises(AccessDenied, match="本街道"):
        edits.update_finding(engine, other, 2, 1, rectified_on=None, note="重新打开")
    with pytest.raises(AccessDenied, match="本街道"):
        edits.update_facility_status(engine, other, 2, 1, closed_on=date(2024, 6, 1))
    room = {k: v for k, v in before[2].items() if k not in ("id", "version")}
    with pytest.raises(AccessDenied, match="本街道"):
        update_room(engine, other, 1, {**room, "monthly_rent": 9}, 1)
    # a stale version does not leak the current values either: authorisation comes first
    with pytest.raises(AccessDenied):
        edits.update_finding(engine, other, 2, 7, rectified_on=None, note=None)
    with pytest.raises(AccessDenied, match="只能查看本街道"):
        call(other, edits.finding_for_edit, engine, code="FB")
    assert (row(engine, Finding, 2), row(engine, Facility, 2), row(engine, VacantRoom, 1)) == before
    assert data_version(engine) == v0
    # every refused attempt is audited once, as a failed entry naming the record and the reason (issue 17 item 25)
    # (the refused read for editing is audited by data.security.access as a refused read, not here)
    refused = log(engine).sort_values("id")
    refused = refused[refused["action"] != "read_refused"]
    assert list(refused["target"]) == ["findings:FB", "facilities:PB", "vacant_rooms:VR-B", "findings:FB"]
    assert list(refused["action"]) == ["edit", "edit", "room_edit", "edit"]
    assert not refused["ok"].any() and set(refused["username"]) == {"t_street"}
    assert all("本街道" in json.loads(d)["refused"] for d in refused["detail"])
    # its own subdistrict's records it may edit
    edits.update_finding(engine, other, 1, 1, rectified_on=date(2024, 12, 1), note="本街道整改")
    edits.update_facility_status(engine, other, 1, 1, construction_started_on=date(2024, 4, 1))


@pytest.mark.parametrize("role", ["leader", "display", "admin"])
def test_roles_without_write_permission_cannot_edit(engine, role):
    who = principal(role)
    with pytest.raises(AccessDenied, match="没有修改数据的权限"):
        edits.update_finding(engine, who, 1, 1, rectified_on=date(2024, 12, 1), note="说明")
    with pytest.raises(AccessDenied, match="没有修改数据的权限"):
        edits.update_facility_status(engine, who, 1, 1, construction_started_on=date(2024, 4, 1))
    assert row(engine, Finding, 1)["version"] == 1 and row(engine, Facility, 1)["version"] == 1
    refused = log(engine)  # each refused attempt audited once (issue 17 item 25)
    assert sorted(refused["target"]) == ["facilities:PA", "findings:FA"] and not refused["ok"].any()
    assert set(refused["role"]) == {role}


# --- vacant rooms: the same optimistic rule (issue 17 item 7) -----------------------------------------------------

def _room_values(engine, **over) -> dict:
    values = {k: v for k, v in row(engine, VacantRoom, 1).items() if k not in ("id", "version")}
    return {**values, **over}


@pytest.mark.parametrize("rounds", [3])
def test_two_planners_in_threads_edit_the_same_room_exactly_one_wins(engine, rounds):
    """Two sessions hold the same version and save at the same moment, several times over: every time exactly one
    save lands, the other is refused with the conflict message and the current values, and both are audited —
    the winner as a change with before/after, the loser as a conflict carrying what it tried to write."""
    from data.writes.site import StaleRoomError

    b_office, b_street = principal("office"), principal("street", B)
    for n in range(rounds):
        version = row(engine, VacantRoom, 1)["version"]
        rents = [1000 + 10 * n, 2000 + 10 * n]
        who = [b_office, b_street]
        results, errors = _race(lambda i: update_room(engine, who[i], 1, _room_values(engine, monthly_rent=rents[i]),
                                                      version))
        winners = [i for i in range(2) if errors[i] is None]
        assert len(winners) == 1, errors
        w, loser = winners[0], 1 - winners[0]
        assert results[w] == version + 1
        exc = errors[loser]
        assert isinstance(exc, StaleRoomError) and isinstance(exc, edits.StaleEdit), exc
        assert "该记录已被他人修改" in exc.message and exc.current["monthly_rent"] == rents[w]
        got = row(engine, VacantRoom, 1)
        assert got["version"] == version + 1 and got["monthly_rent"] == rents[w]  # nothing half-written
        edit = log(engine, "room_edit").iloc[0]
        assert edit["username"] == who[w].username and bool(edit["ok"])
        assert json.loads(edit["detail"])["changes"]["monthly_rent"]["after"] == rents[w]
        conflict = log(engine, "edit_conflict").iloc[0]
        detail = json.loads(conflict["detail"])
        assert conflict["username"] == who[loser].username and not conflict["ok"]
        assert conflict["target"] == "vacant_rooms:VR-B" and detail["expected_version"] == version
        assert detail["attempted"]["monthly_rent"] == rents[loser]  # what the loser typed is not lost
    assert len(log(engine, "room_edit")) == rounds and len(log(engine, "edit_conflict")) == rounds


def test_a_save_that_changes_nothing_writes_nothing(engine):
    """No audit entry, no version bump, no data-version bump for a save equal to the record (issue 17 item 25)."""
    from data.writes.site import RoomWriteError

    v0 = data_version(engine)
    with pytest.raises(RoomWriteError, match="相同"):
        update_room(engine, OFFICE, 1, _room_values(engine), 1)
    with pytest.raises(edits.EditError, match="相同"):
        edits.update_finding(engine, OFFICE, 2, 1, rectified_on=date(2024, 11, 20), note="已更换灭火器")
    with pytest.raises(edits.EditError, match="相同"):
        edits.update_facility_status(engine, OFFICE, 2, 1, opened_on=date(2024, 1, 1), closed_on=None)
    assert data_version(engine) == v0 and log(engine).empty
    assert [row(engine, m, i)["version"] for m, i in ((VacantRoom, 1), (Finding, 2), (Facility, 2))] == [1, 1, 1]
    # a real change still lands, and its entry names only what changed, with before and after
    assert update_room(engine, OFFICE, 1, _room_values(engine, area_m2=130), 1) == 2
    changes = json.loads(log(engine, "room_edit").iloc[0]["detail"])["changes"]
    assert changes == {"area_m2": {"before": 120.0, "after": 130.0}}


# --- map settings: the same rules for a settings write (issue 17 item 25) -----------------------------------------

def test_map_settings_refusal_audited_once_change_with_before_after_and_no_op_writes_nothing(engine):
    from data.ops.settings import MapSettings, map_settings, save_map_settings

    with pytest.raises(AccessDenied, match="地图设置"):
        save_map_settings(engine, MapSettings("none", "", 900), by=principal("street", A))
    refused = log(engine, "settings")
    assert len(refused) == 1 and not refused["ok"].iloc[0] and refused["role"].iloc[0] == "street"
    assert map_settings(engine).walk_radius_m != 900
    save_map_settings(engine, MapSettings("tianditu", "0123456789abcdef", 900), by=principal("admin"))
    detail = json.loads(log(engine, "settings").iloc[0]["detail"])
    assert detail["before"] == {"basemap": "none", "walk_radius_m": 500, "tianditu_key": "", "tile_url": "", "tile_path": "", "tile_datum": "wgs84"}
    assert detail["after"] == {"basemap": "tianditu", "walk_radius_m": 900, "tianditu_key": "已设置", "tile_url": "", "tile_path": "", "tile_datum": "wgs84"}
    assert "0123456789abcdef" not in log(engine, "settings").iloc[0]["detail"]  # the key itself is never logged
    v = data_version(engine)  # the same settings again: nothing written, nothing audited
    save_map_settings(engine, MapSettings("tianditu", "0123456789abcdef", 900), by=principal("admin"))
    assert len(log(engine, "settings")) == 2 and data_version(engine) == v
