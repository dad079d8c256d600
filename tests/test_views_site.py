"""选址分析's page model (views.site_selection) on a small hand-made district, on SQLite and PostgreSQL — and the one
vacant-room pipeline: the form's save and the ledger import refuse a bad value with the same Chinese problem and
store the same row for the same good input."""
from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import delete, select

import factories as fx
from auth_helpers import principal
from data.db.engine import get_engine
from data.db.models import VacantRoom
from data.imports import ImportRefused
from data.security.access import AccessDenied, Reader
from views import site_selection as view

STREET, OTHER = "360103001", "360103002"
ON = date(2024, 6, 30)
# schematic community points (geo/communities_schematic.csv): 象山 and 西书院 are 231 m apart, the others ≥ 1.5 km
COMS = [("360103001001", "二郎庙", 115.864077, 28.658440, 100), ("360103001002", "象山", 115.887102, 28.668910, 300),
        ("360103001004", "西书院", 115.886191, 28.666985, 200), ("360103001005", "淘沙塘", 115.878101, 28.652580, 50)]
OFFICE = principal("office")
FORM = {"mode": "max_cover", "k": 1, "target": 65, "max_rooms": 0, "time_limit": 10, "min_area": 60,
        "access": "ground_or_lift", "owners": list(view.OWNER_TYPES), "service_area": False, "rent_each": 0,
        "budget": 0}


def _room(code, com, **over) -> dict:
    c = next(c for c in COMS if c[0] == com)
    return {"code": code, "address": f"{c[1]}路 1 号", "subdistrict_code": STREET, "community_code": com,
            "lon": c[2], "lat": c[3], "area_m2": 150.0, "floor": 1, "has_lift": False, "owner_type": "state",
            "monthly_rent": 2000.0, "available_from": None, "status": "candidate", "version": 1, **over}


@pytest.fixture
def engine(db_url):
    """南浦街道 with four communities; a meal point at 二郎庙 serving it; room R1 at 象山 (reaches 象山 and 西书院),
    room R2 at 淘沙塘 rejected (淘沙塘 is a blind spot)."""
    eng = get_engine(db_url)
    fx.subdistricts(eng, (STREET, "南浦街道"), (OTHER, "朝阳洲街道"))
    fx.insert(eng, "Community", *[dict(code=c, name=f"{s}社区居委会", short_name=s, kind="社区居委会",
                                       subdistrict_code=STREET, lon=lon, lat=lat, pop_60=w, pop_80=w // 5,
                                       living_alone=w // 10) for c, s, lon, lat, w in COMS])
    fx.insert(eng, "Facility", dict(
        code="MP-001", name="二郎庙社区助餐点", kind="meal_point", subdistrict_code=STREET, community_code=COMS[0][0],
        address=None, operator=None, capacity=40, lon=COMS[0][2], lat=COMS[0][3], public=False, plan_year=None,
        key_project=False, reserve_project=False, showcase=False, offers_delivery=False, safety_supervised=False,
        planned_on=None, construction_started_on=None, opened_on=date(2023, 1, 1), closed_on=None,
        vacant_room_id=None, version=1))
    with eng.connect() as conn:
        from data.db.models import Facility
        fid = conn.execute(select(Facility.id)).scalar()
    fx.insert(eng, "MealPointCommunity", dict(facility_id=fid, community_code=COMS[0][0]))
    fx.insert(eng, "VacantRoom", _room("R1", COMS[1][0]), _room("R2", COMS[3][0], status="rejected"))
    return eng


def _reader(engine, who=OFFICE) -> Reader:
    return Reader(engine, who)


def _metrics(items) -> dict[str, str]:
    return {m.label: m.value for m in items}


def test_demand_shows_coverage_gaps_and_blind_spots(engine):
    page = view.build(_reader(engine), None, ON, 500, "pop_60", "需求与缺口")
    assert _metrics(page.metrics) == {"运营中的助餐点": "1 个", "官方口径覆盖率": "25.0%", "步行半径内的社区": "1 / 4",
                                      "60岁及以上老人覆盖率": "15.4%", "未覆盖老人": "550 人", "盲区社区": "1 个"}
    assert page.gaps["社区"].tolist() == ["象山", "西书院", "淘沙塘"]          # most elderly first
    assert page.gaps["60岁及以上老人(人)"].tolist() == [300, 200, 50]
    assert page.gaps["情况"].iloc[2] == "盲区" and page.gaps["半径内可用用房(间)"].tolist()[:2] == [1, 1]
    assert page.gaps["在助餐服务范围内（官方口径）"].tolist() == ["否", "否", "否"]
    sm = page.demand_map
    assert sm.points == 4 + 2 + 1 and sm.chosen == () and not sm.official
    assert page.scenarios is None and page.registry_table is None   # only what the section shows


def test_optimise_picks_the_room_and_reports_the_gain(engine):
    page = view.build(_reader(engine), None, ON, 500, "pop_60", "优化选址")
    assert view.solve(page, None) is None
    sol = view.solve(page, FORM)
    m = _metrics(sol.metrics)
    assert (m["覆盖率（优化前）"], m["覆盖率（优化后）"], m["新增覆盖老人"], m["选中用房"]) == \
        ("15.4%", "92.3%", "500 人", "1 间")
    assert m["求解状态"] == "最优" and sol.notes[0][0] == "success"
    assert sol.shortlist["用房编号"].tolist() == ["R1"] and sol.shortlist["新增覆盖社区"].iloc[0] == "象山、西书院"
    assert sol.map.chosen == ("R1",) and sol.greedy_note.startswith("贪心解与精确解相同")
    assert sol.blind["社区"].tolist() == ["淘沙塘"]
    assert view.solve(page, FORM).result is sol.result   # the same inputs and parameters are solved once
    refused = view.solve(page, dict(FORM, k=0))
    assert refused.result is None and refused.problems == ("新增点位数 k 必须是正整数。",)


def test_a_saved_scenario_is_compared_and_deleted(engine):
    reader = _reader(engine)
    page = view.build(reader, None, ON, 500, "pop_60", "优化选址")
    sol = view.solve(page, FORM)
    assert view.save_scenario(reader, page, " 方案一 ", sol) == "方案“方案一”已保存。"
    with pytest.raises(view.ScenarioError, match="同名"):
        view.save_scenario(reader, page, "方案一", sol)
    listed = view.build(reader, None, ON, 500, "pop_60", "方案比较").scenarios
    (sid, label), = listed.items()
    assert label.startswith("方案一（")
    card = view.scenario(reader, page, sid)
    assert card.heading == "给定间数：覆盖最多老人 · 半径 500 米 · 60岁及以上老人" and card.may_delete
    assert _metrics(card.metrics) == {"覆盖率（后）": "92.3%", "选中用房": "1 间", "状态": "已证明最优"}
    assert card.conditions == "条件：新增 ≤ 1 间；面积 ≥ 60 m²；须在一层或有电梯；产权：国有、社区（村）集体、企业、个人"
    assert card.table["用房编号"].tolist() == ["R1"]
    assert view.compare_text(card, card) == ("无", "无", "R1")
    assert not view.scenario(_reader(engine, principal("leader")), page, sid).may_delete
    with pytest.raises(AccessDenied):
        view.delete_scenario(_reader(engine, principal("street", STREET)), card)   # a district-wide scenario
    assert view.delete_scenario(reader, card) == "方案“方案一”已删除。"
    assert view.scenario(reader, page, sid) is None


def test_registry_and_room_writes(engine):
    reader = _reader(engine)
    page = view.build(reader, None, ON, 500, "pop_60", "闲置用房台账")
    table = page.registry_table
    assert list(table.columns) == ["用房编号", "地址", "街道", "社区", "经度", "纬度", "面积(m²)", "楼层", "有无电梯",
                                   "产权类型", "月租金(元/月)", "可用日期", "状态"]
    assert table[["用房编号", "街道", "社区", "产权类型", "状态"]].values.tolist() == [
        ["R1", "南浦街道", "象山", "国有", "候选"], ["R2", "南浦街道", "淘沙塘", "国有", "已否决"]]
    street_form = view.room_form(_reader(engine, principal("street", STREET)), page)
    assert street_form.streets == {STREET: "南浦街道"} and street_form.codes == [view.NEW_ROOM, "R1", "R2"]
    assert street_form.row(view.NEW_ROOM) is None and street_form.row("R1")["community_code"] == COMS[1][0]
    assert view.room_form(reader, page).streets == {STREET: "南浦街道", OTHER: "朝阳洲街道"}
    rid = view.add_room(reader, dict(_room("R3", COMS[2][0]), version=None))
    saved = view.save_room(reader, rid, 1, dict(_room("R3", COMS[2][0]), monthly_rent=1500.0))
    assert saved["monthly_rent"] == 1500.0 and saved["version"] == 2
    page = view.build(reader, None, ON, 500, "pop_60", "闲置用房台账")
    assert view.convert_room(reader, page, "R3") == "用房 R3 已转为规划中的助餐点。"
    with pytest.raises(view.RoomWriteError, match="找不到该用房"):
        view.convert_room(reader, page, "R9")
    content = _xlsx([_cells(_room("R4", COMS[2][0]))])
    assert view.import_rooms(reader, "用房.xlsx", content) == "导入完成：新增 1 间，更新 0 间，未变 0 间（已记入导入记录）。"


# --- one vacant-room pipeline ----------------------------------------------------------------------------------

def _cells(values: dict) -> dict:
    """A room as a user fills in the import template (labels, not codes)."""
    labels = {"subdistrict_code": {STREET: "南浦街道", OTHER: "朝阳洲街道"}, "owner_type": view.OWNER_TYPES,
              "status": view.ROOM_STATUSES, "has_lift": {True: "是", False: "否"},
              "community_code": {c[0]: c[1] for c in COMS}}
    out = {}
    for c in view.VACANT_ROOMS.columns:
        v = values.get(c.field)
        v = labels.get(c.field, {}).get(v, v) if not isinstance(v, (list, dict)) else v
        out[c.header] = "" if v is None else v.isoformat() if isinstance(v, date) else v
    return out


def _xlsx(rows: list[dict]) -> bytes:
    buf = io.BytesIO()
    pd.DataFrame(rows).to_excel(buf, index=False)
    return buf.getvalue()


BAD = [
    ("floor", -5), ("floor", 0), ("floor", 1.5), ("area_m2", -20), ("area_m2", 0), ("area_m2", 50_000),
    ("owner_type", "外星"), ("status", "converted"), ("monthly_rent", -1), ("code", "X" * 41),
    ("community_code", "999999999999"), ("subdistrict_code", "不存在街道"), ("available_from", date(2099, 1, 1)),
    ("address", None),
]


@pytest.mark.parametrize("field, value", BAD)
def test_a_bad_room_value_gets_the_same_message_from_the_form_and_the_import(engine, field, value):
    reader = _reader(engine)
    values = dict(_room("R5", COMS[2][0]), **{field: value})
    with pytest.raises(view.RoomWriteError) as form:
        view.add_room(reader, values)
    with pytest.raises(ImportRefused) as ledger:
        view.import_rooms(reader, "用房.xlsx", _xlsx([_cells(values)]))
    problems = ledger.value.problems
    assert problems["row"].tolist() == [2] * len(problems)   # the import names the row …
    # … and both name the column with the same problem, in the same words
    assert form.value.messages == [f"“{c}”{p}" for c, p in zip(problems["column"], problems["problem"])]
    with engine.connect() as conn:
        assert conn.execute(select(VacantRoom.code).where(VacantRoom.code == "R5")).first() is None


def test_the_coordinates_outside_the_district_get_the_same_message(engine):
    values = dict(_room("R5", COMS[2][0]), lon=116.40, lat=39.90)   # Beijing
    with pytest.raises(view.RoomWriteError) as form:
        view.add_room(_reader(engine), values)
    with pytest.raises(ImportRefused) as ledger:
        view.import_rooms(_reader(engine), "用房.xlsx", _xlsx([_cells(values)]))
    (column, problem), = ledger.value.problems[["column", "problem"]].values.tolist()
    assert form.value.messages == [f"“{column}”{problem}"] and "不在西湖区范围内" in problem


def _stored(engine, code: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(select(*VacantRoom.__table__.c).where(VacantRoom.code == code)).mappings().one()
    return {k: v for k, v in row.items() if k != "id"}


def test_the_same_good_room_is_stored_the_same_by_the_form_and_the_import(engine):
    reader = _reader(engine)
    values = dict(_room("R6", COMS[2][0]), version=None, lon=115.8861234, lat=28.6671234, area_m2=88.5, floor=-1,
                  has_lift=True, owner_type="community", monthly_rent=2500.5, available_from=date(2025, 3, 1),
                  status="negotiating")
    view.add_room(reader, values)
    by_form = _stored(engine, "R6")
    with engine.begin() as conn:
        conn.execute(delete(VacantRoom).where(VacantRoom.code == "R6"))
    view.import_rooms(reader, "用房.xlsx", _xlsx([_cells(values)]))
    by_import = _stored(engine, "R6")
    assert by_form == by_import
    assert by_form["floor"] == -1 and by_form["has_lift"] is True and by_form["available_from"] == date(2025, 3, 1)
    # an edit through either path is one optimistic write: a version read before it is refused afterwards
    rid = int(view.build(reader, None, ON, 500, "pop_60", "闲置用房台账").registry.set_index("code").loc["R6", "id"])
    view.import_rooms(reader, "改.xlsx", _xlsx([_cells(dict(values, monthly_rent=3000.0))]))
    with pytest.raises(view.RoomWriteError, match="已被他人修改（当前版本 2，您编辑的是版本 1）"):
        view.save_room(reader, rid, 1, dict(values, monthly_rent=3100.0))


def test_the_result_map_is_drawn_on_the_district_map_frame(engine):
    """The picture of the result map, on the one frame: the chosen room numbered with its walking circle, the rooms,
    the communities by state and the meal point with its ring; no corner note (the page's legend says it)."""
    from components import maps, site_map

    page = view.build(_reader(engine), None, ON, 500, "pop_60", "优化选址")
    sm = view.solve(page, FORM).map
    script = maps.draw(sm.boundaries, site_map.picture(sm)).get_root().render()
    layer = lambda name: json.dumps(name)[1:-1] in script   # noqa: E731  (layer names are JSON in the script)
    assert layer("选中用房（1）") and "<b>1. R1</b>" in script and '"dashArray": "6 4"' in script
    assert layer("新增覆盖") and layer("盲区") and layer("现有助餐点已覆盖") and layer("闲置用房")
    # the other room as a symbol with its tooltip in words (address, size, floor, status), no ledger code
    assert "mz-room" in script and "淘沙塘路 1 号" in script and "面积 150 平方米" in script and "已否决" in script
    assert "R2" not in script
    assert "L.control.layers" in script and '"mz-note"' not in script
