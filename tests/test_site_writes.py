"""Vacant-room writes, conversion, scenarios and the site_scenarios migration — on SQLite and PostgreSQL."""
from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, insert, inspect, select

from auth_helpers import principal
from data.security.access import AccessDenied
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.imports import ImportRefused, import_file
from data.db.migrate import current_revision, downgrade, upgrade
from data.db.models import Community, Facility, Subdistrict, VacantRoom
from data.db.models.auth import ImportBatch
from data.queries import site as q
from data.queries.common import data_version
from data.imports.ledgers import VACANT_ROOMS
from data.writes.site import (
    RoomWriteError,
    ScenarioError,
    StaleRoomError,
    add_room,
    delete_scenario,
    mark_converted,
    save_scenario,
    update_room,
)
from geo.layers import communities_df
from views.site_selection import registry_frame


def import_rooms_excel(engine, who, data: bytes, file_name: str = "闲置用房.xlsx"):
    """The room import: the vacant_rooms ledger of data.imports (what the page's import runs)."""
    return import_file(engine, who, "vacant_rooms", file_name, data)


def template_frame() -> pd.DataFrame:
    """导入模板's example row (the vacant_rooms ledger's)."""
    return pd.DataFrame([{c.header: c.example for c in VACANT_ROOMS.columns}])


STREET = "360103001"
OTHER = "360103002"
OFFICE = principal("office")


@pytest.fixture
def engine(db_url):
    """An empty database at head with one subdistrict and its first two communities (schematic points)."""
    eng = get_engine(db_url)
    coms = communities_df()
    coms = coms[coms["subdistrict_code"] == STREET].head(2)
    with eng.begin() as conn:
        conn.execute(insert(Subdistrict).values(code=STREET, name="南浦街道", boundary_official=False))
        for r in coms.itertuples():
            conn.execute(insert(Community).values(code=r.code, name=r.name, short_name=r.short_name, kind=r.kind,
                                                  subdistrict_code=STREET, lon=r.lon, lat=r.lat, pop_60=500,
                                                  pop_80=80, living_alone=20))
    return eng


def room(engine, **over) -> dict:
    c = communities_df()
    c = c[c["subdistrict_code"] == STREET].iloc[0]
    values = {"code": "VR-001", "address": "南浦街道测试路 1 号", "subdistrict_code": STREET,
              "community_code": c["code"], "lon": float(c["lon"]), "lat": float(c["lat"]), "area_m2": 150,
              "floor": 1, "has_lift": False, "owner_type": "state", "monthly_rent": 2000,
              "available_from": date(2025, 1, 1), "status": "candidate"}
    values.update(over)
    return values


def count_rooms(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(VacantRoom)).scalar()


def test_add_room_and_read_it_back(engine):
    v0 = data_version(engine)
    rid = add_room(engine, OFFICE, room(engine))
    df = q.vacant_rooms(engine)
    assert df["code"].tolist() == ["VR-001"] and int(df["id"].iloc[0]) == rid
    assert df["subdistrict_name"].iloc[0] == "南浦街道" and df["version"].iloc[0] == 1
    assert data_version(engine) == v0 + 1
    assert q.vacant_rooms(engine, street="360103002").empty
    assert q.vacant_rooms(engine, statuses=("rejected",)).empty


@pytest.mark.parametrize("over, field, words", [
    ({"lon": 116.40, "lat": 39.90}, "经度", "不在西湖区"),       # Beijing
    ({"lon": None, "lat": None}, "经度", "必须填写"),
    ({"area_m2": -20}, "面积", "大于 0"),
    ({"floor": -5}, "楼层", "-3 至 60"),
    ({"floor": 0}, "楼层", "不能为 0"),
    ({"owner_type": "外星"}, "产权类型", "应为"),
    ({"status": "converted"}, "状态", "标记为已转为设施"),
    ({"community_code": "999999999999"}, "社区", "不是南浦街道的社区"),   # the import ledger's words (one pipeline)
])
def test_bad_rooms_are_refused_naming_the_field(engine, over, field, words):
    with pytest.raises(RoomWriteError) as info:
        add_room(engine, OFFICE, room(engine, **over))
    text = "；".join(info.value.messages)
    assert field in text and words in text, text
    assert count_rooms(engine) == 0


def test_duplicate_code_is_refused(engine):
    add_room(engine, OFFICE, room(engine))
    with pytest.raises(RoomWriteError, match="已存在"):
        add_room(engine, OFFICE, room(engine))


def test_stale_update_is_refused_with_current_values(engine):
    rid = add_room(engine, OFFICE, room(engine))
    assert update_room(engine, OFFICE, rid, room(engine, monthly_rent=1500), expected_version=1) == 2
    with pytest.raises(StaleRoomError) as info:  # a second editor still holding version 1
        update_room(engine, OFFICE, rid, room(engine, monthly_rent=999), expected_version=1)
    assert "他人修改" in info.value.messages[0]
    assert info.value.current["monthly_rent"] == 1500 and info.value.current["version"] == 2
    assert q.vacant_room(engine, rid)["monthly_rent"] == 1500


def test_mark_converted_creates_a_planned_meal_point_in_one_go(engine):
    rid = add_room(engine, OFFICE, room(engine))
    v0 = data_version(engine)
    fid = mark_converted(engine, OFFICE, rid, expected_version=1, planned_on=date(2025, 3, 1))
    with engine.connect() as conn:
        fac = conn.execute(select(*Facility.__table__.c).where(Facility.id == fid)).mappings().one()
    assert fac["kind"] == "meal_point" and fac["vacant_room_id"] == rid
    assert fac["planned_on"] == date(2025, 3, 1) and fac["opened_on"] is None  # planned: no opening date yet
    assert fac["subdistrict_code"] == STREET and fac["lon"] == pytest.approx(room(engine)["lon"])
    got = q.vacant_room(engine, rid)
    assert got["status"] == "converted" and got["version"] == 2
    assert data_version(engine) == v0 + 1
    with pytest.raises(RoomWriteError, match="只有候选或洽谈中"):
        mark_converted(engine, OFFICE, rid, expected_version=2)
    with pytest.raises(RoomWriteError, match="不能再修改"):
        update_room(engine, OFFICE, rid, room(engine), expected_version=2)


def test_stale_conversion_is_refused_and_writes_nothing(engine):
    rid = add_room(engine, OFFICE, room(engine))
    update_room(engine, OFFICE, rid, room(engine, status="negotiating"), expected_version=1)
    with pytest.raises(StaleRoomError):
        mark_converted(engine, OFFICE, rid, expected_version=1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Facility)).scalar() == 0


def test_scenario_round_trip(engine):
    from geo.site_selection import SiteParams, SiteResult, optimise

    coms = communities_df().head(5).assign(pop_60=100, pop_80=10, living_alone=1)
    rooms = pd.DataFrame([{**room(engine), "code": "R1", "lon": coms["lon"].iloc[0], "lat": coms["lat"].iloc[0]}])
    params = SiteParams(k=1)
    result = optimise(coms, rooms, pd.DataFrame(columns=["lon", "lat"]), params)
    sid = save_scenario(engine, OFFICE, "方案一", params.to_dict(), result.to_dict(), street=STREET, data_version=3)
    listed = q.scenarios(engine)
    assert listed["name"].tolist() == ["方案一"] and listed["parameters"].iloc[0]["k"] == 1
    got = q.scenario(engine, sid)
    assert got["street"] == STREET and got["data_version"] == 3
    again = SiteResult.from_dict(got["result"])
    assert again.chosen == result.chosen == ["R1"]
    assert SiteParams.from_dict(got["parameters"]) == params
    with pytest.raises(ScenarioError, match="同名"):
        save_scenario(engine, OFFICE, "方案一", params.to_dict(), result.to_dict())
    with pytest.raises(ScenarioError, match="名称"):
        save_scenario(engine, OFFICE, "  ", params.to_dict(), result.to_dict())
    assert delete_scenario(engine, OFFICE, sid) and q.scenario(engine, sid) is None


def _xlsx(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    return buf.getvalue()


def test_excel_import_is_all_or_nothing_and_idempotent(engine):
    good = template_frame().assign(**{"用房编号": "IMP-1", "街道": "南浦街道"})
    c = communities_df()
    c = c[c["subdistrict_code"] == STREET].iloc[0]
    good[["经度", "纬度", "社区"]] = [float(c["lon"]), float(c["lat"]), c["short_name"]]
    bad = pd.concat([good, good.assign(**{"用房编号": "IMP-2", "面积(m²)": 0, "楼层": -5})], ignore_index=True)
    with pytest.raises(ImportRefused) as info:
        import_rooms_excel(engine, OFFICE, _xlsx(bad))
    msgs = info.value.messages()
    assert any("第 3 行 “面积(m²)”列：必须大于 0" in m for m in msgs)
    assert any("第 3 行 “楼层”列：不能小于 -3" in m for m in msgs)
    assert count_rooms(engine) == 0
    dup = pd.concat([good, good], ignore_index=True)
    with pytest.raises(ImportRefused, match="与第 2 行重复"):
        import_rooms_excel(engine, OFFICE, _xlsx(dup))

    rep = import_rooms_excel(engine, OFFICE, _xlsx(good))
    assert (rep.rows_added, rep.rows_updated, rep.rows_unchanged) == (1, 0, 0)
    df = q.vacant_rooms(engine)
    assert df["community_code"].iloc[0] == c["code"] and df["owner_type"].iloc[0] == "state"
    # the registry as exported imports again without change; an edited copy updates
    exported = registry_frame(df)
    assert import_rooms_excel(engine, OFFICE, _xlsx(exported)).rows_unchanged == 1
    rep = import_rooms_excel(engine, OFFICE, _xlsx(exported.assign(**{"月租金(元/月)": 3000})))
    assert rep.rows_updated == 1 and q.vacant_rooms(engine)["version"].iloc[0] == 2


def test_excel_import_refuses_a_non_excel_file(engine):
    with pytest.raises(ImportRefused, match="不是有效的 .xlsx"):
        import_rooms_excel(engine, OFFICE, b"not an excel file")
    with pytest.raises(ImportRefused, match="缺少必填列“地址”"):
        import_rooms_excel(engine, OFFICE, _xlsx(pd.DataFrame({"用房编号": ["X"], "备注": ["y"]})))


def test_migration_0002_up_and_down(bare_db_url):
    eng = get_engine(bare_db_url)
    upgrade(eng, "0001")
    assert not inspect(eng).has_table("site_scenarios")
    upgrade(eng, "0002")
    assert current_revision(eng) == "0002" and inspect(eng).has_table("site_scenarios")
    downgrade(eng, "0001")
    assert current_revision(eng) == "0001" and not inspect(eng).has_table("site_scenarios")
    assert inspect(eng).has_table("vacant_rooms")
    upgrade(eng)


# --- authorisation and audit ---------------------------------------------------------------------------------------

def _actions(engine) -> list[str]:
    return audit_entries(engine)["action"].tolist()[::-1]  # oldest first


def test_writes_are_audited(engine):
    rid = add_room(engine, OFFICE, room(engine))
    update_room(engine, OFFICE, rid, room(engine, monthly_rent=1800), expected_version=1)
    with pytest.raises(StaleRoomError):
        update_room(engine, OFFICE, rid, room(engine, monthly_rent=1), expected_version=1)
    mark_converted(engine, OFFICE, rid, expected_version=2, planned_on=date(2025, 3, 1))
    assert _actions(engine) == ["room_add", "room_edit", "edit_conflict", "room_convert"]
    log = audit_entries(engine).set_index("action")
    assert log.loc["room_edit", "target"] == "vacant_rooms:VR-001"
    assert '"monthly_rent": {"after": 1800.0, "before": 2000.0}' in log.loc["room_edit", "detail"]
    assert not log.loc["edit_conflict", "ok"] and '"current_version": 2' in log.loc["edit_conflict", "detail"]
    assert log.loc["room_convert", "username"] == OFFICE.username


@pytest.mark.parametrize("role, street", [("leader", None), ("display", None), ("admin", None)])
def test_read_only_roles_cannot_write_rooms(engine, role, street):
    rid = add_room(engine, OFFICE, room(engine))
    who = principal(role, street)
    v0 = data_version(engine)
    with pytest.raises(AccessDenied, match="没有修改数据的权限"):
        add_room(engine, who, room(engine, code="VR-002"))
    with pytest.raises(AccessDenied):
        update_room(engine, who, rid, room(engine, monthly_rent=1), expected_version=1)
    with pytest.raises(AccessDenied):
        mark_converted(engine, who, rid, expected_version=1)
    with pytest.raises(AccessDenied):
        import_rooms_excel(engine, who, b"")
    with pytest.raises(AccessDenied):
        save_scenario(engine, who, "方案", {}, {})
    assert count_rooms(engine) == 1 and q.vacant_room(engine, rid)["version"] == 1
    assert data_version(engine) == v0
    # each refused attempt is audited once, as a failed entry of what was attempted (issue 17 item 25; the room
    # import's refusals are the import ledger's)
    refused = audit_entries(engine)
    refused = refused[~refused["ok"].astype(bool) & ~refused["action"].str.startswith("import")]
    assert sorted(refused["action"]) == ["room_add", "room_convert", "room_edit", "scenario_save"]
    assert set(refused["role"]) == {role}
    assert set(refused.loc[refused["action"] != "scenario_save", "target"]) == {"vacant_rooms:VR-002",
                                                                                 "vacant_rooms:VR-001"}
    assert refused["detail"].str.contains("没有修改数据的权限").all()


def test_street_account_writes_only_its_own_subdistrict(engine):
    own, other = principal("street", STREET), principal("street", OTHER)
    rid = add_room(engine, own, room(engine))  # its own subdistrict: allowed
    assert update_room(engine, own, rid, room(engine, monthly_rent=100), expected_version=1) == 2
    with pytest.raises(AccessDenied, match="本街道"):
        add_room(engine, other, room(engine, code="VR-009"))
    with pytest.raises(AccessDenied, match="本街道"):
        update_room(engine, other, rid, room(engine, monthly_rent=1), expected_version=2)
    with pytest.raises(AccessDenied, match="本街道"):
        mark_converted(engine, other, rid, expected_version=2)
    good = template_frame().assign(**{"用房编号": "VR-001", "街道": "南浦街道", "经度": room(engine)["lon"],
                                      "纬度": room(engine)["lat"], "社区": ""})
    with pytest.raises(ImportRefused) as refused:   # another subdistrict's row: a problem naming it, nothing written
        import_rooms_excel(engine, other, _xlsx(good))
    assert any("第 2 行" in m and "街道账号只能导入本街道" in m for m in refused.value.messages())
    got = q.vacant_room(engine, rid)
    assert got["version"] == 2 and got["monthly_rent"] == 100 and got["status"] == "candidate"
    assert count_rooms(engine) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Facility)).scalar() == 0
    # scenarios: a 街道 account's are its own subdistrict's; it cannot delete another's or a district-wide one
    mine = save_scenario(engine, own, "南浦方案", {"k": 1}, {"chosen": []})
    assert q.scenario(engine, mine)["street"] == STREET
    district = save_scenario(engine, OFFICE, "全区方案", {"k": 1}, {"chosen": []})
    with pytest.raises(AccessDenied):
        save_scenario(engine, own, "别的街道方案", {}, {}, street=OTHER)
    with pytest.raises(AccessDenied):
        delete_scenario(engine, other, mine)
    with pytest.raises(AccessDenied):
        delete_scenario(engine, own, district)
    assert q.scenario(engine, mine) is not None and q.scenario(engine, district) is not None
    assert delete_scenario(engine, own, mine)
    log = audit_entries(engine)
    assert {"room_add", "room_edit", "scenario_save", "edit"} <= set(log["action"])
    assert (log.loc[log["action"] == "edit", "detail"].str.contains('"op": "delete"')).all()
    # every refusal above is audited once, by whom and on what (issue 17 item 25)
    refused = log[~log["ok"].astype(bool) & ~log["action"].str.startswith("import")].iloc[::-1]
    assert list(zip(refused["username"], refused["action"], refused["target"])) == [
        (other.username, "room_add", "vacant_rooms:VR-009"), (other.username, "room_edit", "vacant_rooms:VR-001"),
        (other.username, "room_convert", "vacant_rooms:VR-001"),
        (own.username, "scenario_save", "site_scenarios:别的街道方案"),
        (other.username, "edit", "site_scenarios:南浦方案"), (own.username, "edit", "site_scenarios:全区方案")]
    # the deletion carries the scenario as it was
    deleted = json.loads(log.loc[log["action"] == "edit"].iloc[0]["detail"])
    assert deleted["before"]["name"] == "南浦方案" and deleted["before"]["parameters"] == {"k": 1}
    assert deleted["after"] is None


def test_import_is_audited_with_an_import_batch(engine):
    """The room import is the ledger pipeline's: every attempt is an import batch and one audit entry."""
    c = communities_df()
    c = c[c["subdistrict_code"] == STREET].iloc[0]
    good = template_frame().assign(**{"用房编号": "IMP-9", "街道": "南浦街道", "经度": float(c["lon"]),
                                      "纬度": float(c["lat"]), "社区": ""})
    first = import_rooms_excel(engine, principal("street", STREET), _xlsx(good))
    again = import_rooms_excel(engine, OFFICE, _xlsx(good))  # unchanged: nothing written, the attempt registered
    assert (first.rows_added, again.rows_unchanged, again.rows_added) == (1, 1, 0)
    log = audit_entries(engine, actions=("import",))
    assert len(log) == 2 and "IMP-9" in log["detail"].iloc[-1] and "vacant_rooms" in log["target"].iloc[0]
    with engine.connect() as conn:
        batches = conn.execute(select(ImportBatch.ledger, ImportBatch.rows_added).order_by(ImportBatch.id)).all()
    assert [tuple(b) for b in batches] == [("vacant_rooms", 1), ("vacant_rooms", 0)]
