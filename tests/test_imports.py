"""台账导入 (data.imports) on SQLite and PostgreSQL: every ledger imports, bad files are refused with every problem
named by file / sheet / row / column and leave the database exactly as it was, re-imports change nothing,
corrected files update, 街道 accounts import only their own rows, and 100,000 rows import whole, with progress."""
from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select, update

import data.db.models as m
import factories as fx
from auth_helpers import principal
from data.security.access import AccessDenied, Principal
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.security.idcard import make_id
from data.imports import LEDGERS, ImportRefused, import_file, import_history, stored_file
from exports.templates import template_bytes
from data.db.models import (
    Base,
    Community,
    Facility,
    Finding,
    Inspection,
    MealPointCommunity,
    MealRecord,
)
from data.db.models.auth import ImportBatch, ImportFile
from data.queries.common import data_version
from geo.gcj02 import wgs84_to_gcj02

NANPU, CHAOYANG = "360103001", "360103002"
OFFICE = principal("office")
NANPU_USER = principal("street", NANPU)
ELDER_ID = make_id("999999", date(1940, 5, 6), 12)
PERSON_ID = make_id("999999", date(1980, 1, 2), 21)
OTHER_PERSON_ID = make_id("999999", date(1975, 3, 4), 31)
# schematic community points (geo/communities_schematic.csv), inside the district
COMS = [
    ("360103001001", "二郎庙社区居委会", "二郎庙", NANPU, 115.864077, 28.658440),
    ("360103001002", "象山社区居委会", "象山", NANPU, 115.887102, 28.668910),
    ("360103002001", "朝阳小区社区居委会", "朝阳小区", CHAOYANG, 115.860016, 28.657416),
]
EDGE_WGS = (115.862, 28.604)   # inside the district near its southern edge; its GCJ-02 twin (~600 m off) is outside
EXCLUDED_FROM_DUMP = {"audit_log"}   # a refusal is audited: that is the one row a refused file adds


def seed(engine) -> None:
    """Two subdistricts, three communities, two meal points, an elder on the roster, a household with two members."""
    fx.subdistricts(engine, (NANPU, "南浦街道"), (CHAOYANG, "朝阳洲街道"))
    fx.insert(engine, "Community", *[dict(code=c, name=n, short_name=s, kind="社区居委会", subdistrict_code=sd,
                                          lon=lon, lat=lat, pop_60=800, pop_80=120, living_alone=10)
                                     for c, n, s, sd, lon, lat in COMS])
    base = dict(kind="meal_point", address=None, operator=None, capacity=40, public=False, plan_year=None,
                key_project=False, reserve_project=False, showcase=False, offers_delivery=False,
                safety_supervised=False, planned_on=None, construction_started_on=None, closed_on=None,
                vacant_room_id=None, version=1)
    fx.insert(engine, "Facility",
              dict(base, code="MP-001", name="二郎庙社区助餐点", subdistrict_code=NANPU,
                   community_code=COMS[0][0], lon=COMS[0][4], lat=COMS[0][5], opened_on=date(2023, 1, 1)),
              dict(base, code="MP-002", name="朝阳小区社区助餐点", subdistrict_code=CHAOYANG,
                   community_code=COMS[2][0], lon=COMS[2][4], lat=COMS[2][5], opened_on=date(2023, 1, 1)))
    fx.insert(engine, "LivingAloneElder", dict(name="李甲", id_number=ELDER_ID, phone=None, address=None,
                                               birth_date=date(1940, 5, 6), subdistrict_code=NANPU,
                                               community_code=COMS[0][0], enrolled_on=date(2022, 1, 1), left_on=None))
    fx.insert(engine, "AidHousehold", dict(household_no="DB-0001", head_name="赵乙", head_id_number=PERSON_ID,
                                           phone=None, address=None, subdistrict_code=NANPU,
                                           community_code=COMS[0][0]))
    with engine.connect() as conn:
        hid = conn.execute(select(func.max(m.AidHousehold.id))).scalar()
    fx.insert(engine, "AidPerson", dict(household_id=hid, name="赵乙", id_number=PERSON_ID, phone=None,
                                        relation="户主"),
              dict(household_id=hid, name="赵丙", id_number=OTHER_PERSON_ID, phone=None, relation="配偶"))


@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    seed(eng)
    return eng


def facility_id(engine, code: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(Facility.id).where(Facility.code == code)).scalar()


def dump(engine) -> dict[str, list]:
    """Every row of every table (but the audit log), sorted: equal dumps = an unchanged database."""
    out = {}
    with engine.connect() as conn:
        for t in Base.metadata.sorted_tables:
            if t.name in EXCLUDED_FROM_DUMP:
                continue
            out[t.name] = sorted((tuple(map(repr, r)) for r in conn.execute(select(t)).all()))
    return out


def csv_bytes(rows: list[dict], encoding: str = "utf-8") -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode(encoding)


def xlsx_bytes(rows: list[dict], sheet: str = "Sheet1", title_row: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    if title_row:
        ws.append([title_row])
    headers = list(dict.fromkeys(h for r in rows for h in r))
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h) for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def meal(point="二郎庙社区助餐点", day="2024-06-03", dine=50, delivered=5) -> dict:
    return {"助餐点": point, "日期": day, "堂食份数": dine, "送餐份数": delivered}


def refused(engine, ledger, name, content, who=OFFICE, **kw) -> ImportRefused:
    before = dump(engine)
    with pytest.raises(ImportRefused) as info:
        import_file(engine, who, ledger, name, content, **kw)
    assert dump(engine) == before, "a refused file must leave the database unchanged"
    return info.value


def problem(exc: ImportRefused, row, column, *words) -> None:
    """Some problem names this row and column and contains every word."""
    rows = exc.problems
    hits = rows[(rows["row"].astype("float").fillna(-1) == (row if row is not None else -1))
                & ((rows["column"] == column) if column else rows["column"].isna())]
    assert len(hits), f"no problem at row {row} column {column}: {exc.messages()}"
    assert any(all(w in p for w in words) for p in hits["problem"]), (words, list(hits["problem"]))


# --- every ledger imports, re-imports unchanged, corrected file updates -----------------------------------------

VALID = {
    "facilities": [{"设施编号": "MP-100", "设施名称": "象山社区助餐点", "设施类型": "社区助餐点", "街道": "南浦街道",
                    "社区": "象山", "经度": 115.887, "纬度": 28.6689, "开业日期": "2024-05-01", "幸福小蜜蜂送餐": "是"}],
    "meal_records": [meal(), meal(day="2024-06-04", dine=60)],
    "home_services": [{"服务日期": "2024-06-03", "服务类型": "80周岁两小时上门服务", "街道": "南浦街道", "社区": "二郎庙",
                       "老人姓名": "王丁", "服务商": "某服务公司"}],
    "living_alone": [{"姓名": "孙戊", "身份证号": make_id("999999", date(1938, 2, 3), 45), "街道": "南浦街道",
                      "社区": "象山社区居委会", "纳入日期": "2023-04-01"}],
    "living_alone_visits": [{"身份证号": ELDER_ID, "老人姓名": "李甲", "巡访日期": "2024-06-05", "巡访类型": "巡访",
                             "巡访人": "社工甲"}],
    "aid_households": [{"户编号": "DB-0002", "户主姓名": "钱己", "户主身份证号": make_id("999999", date(1970, 7, 8), 51),
                        "街道": "南浦街道", "社区": "二郎庙"}],
    "aid_persons": [{"户编号": "DB-0001", "姓名": "赵丁", "身份证号": make_id("999999", date(2010, 9, 9), 62),
                     "与户主关系": "子女"}],
    "aid_payments": [{"身份证号": PERSON_ID, "救助项目": "最低生活保障（低保）", "发放日期": "2024-06-10", "金额(元)": 750},
                     {"身份证号": OTHER_PERSON_ID, "救助项目": "特困人员供养", "子项": "基本生活", "发放日期": "2024-06-10",
                      "金额(元)": "1297.5"}],
    "findings": [{"问题编号": "ZG-0001", "检查来源": "局检查组安全检查", "检查日期": "2024-05-20", "检查组": 1,
                  "场所类型": "助餐点", "场所名称": "二郎庙社区助餐点", "设施": "MP-001", "街道": "南浦街道",
                  "问题类别": "消防安全", "严重程度": "一般", "发现日期": "2024-05-20", "整改期限": "2024-06-20"}],
    "vacant_rooms": [{"用房编号": "XZ-001", "地址": "南浦街道某路 1 号", "街道": "南浦街道", "社区": "二郎庙",
                      "经度": 115.8641, "纬度": 28.6585, "面积(m²)": 150, "楼层": 1, "有无电梯": "否",
                      "产权类型": "国有", "月租金(元/月)": 0}],
    "population": [{"街道": "南浦街道", "社区": "二郎庙", "60周岁以上人口": 900, "80周岁以上人口": 130, "独居老人数": 12}],
}
CORRECTION = {  # one cell changed: the re-import updates exactly one row
    "facilities": ("设施名称", "象山社区长者食堂"), "meal_records": ("堂食份数", 61), "home_services": ("服务商", "另一公司"),
    "living_alone": ("联系电话", "13800000001"), "living_alone_visits": ("巡访人", "社工乙"),
    "aid_households": ("住址", "某小区 1 栋"), "aid_persons": ("联系电话", "13900000002"),
    "aid_payments": ("金额(元)", 760), "findings": ("整改日期", "2024-06-05"), "vacant_rooms": ("月租金(元/月)", 1500),
    "population": ("独居老人数", 13),
}


@pytest.mark.parametrize("ledger", list(LEDGERS))
def test_each_ledger_imports_then_reimport_is_unchanged_and_a_correction_updates(engine, ledger):
    rows = VALID[ledger]
    content = xlsx_bytes(rows, sheet=LEDGERS[ledger].sheet)
    version = data_version(engine)
    r = import_file(engine, OFFICE, ledger, f"{ledger}.xlsx", content)
    expected_added = 0 if ledger == "population" else len(rows)
    assert (r.rows_total, r.rows_added, r.rows_unchanged) == (len(rows), expected_added, 0)
    assert r.rows_updated == (len(rows) if ledger == "population" else 0)
    assert data_version(engine) == version + 1
    # the same file again: nothing changes, but the attempt is registered
    before = dump(engine)
    again = import_file(engine, OFFICE, ledger, f"{ledger}.xlsx", content)
    assert (again.rows_added, again.rows_updated, again.rows_unchanged) == (0, 0, len(rows))
    after = dump(engine)
    assert after.pop("import_batches") != before.pop("import_batches")
    assert after == before and data_version(engine) == version + 1
    # a corrected file updates what changed, and only that
    col, value = CORRECTION[ledger]
    fixed = [dict(rows[0], **{col: value})] + rows[1:]
    r3 = import_file(engine, OFFICE, ledger, f"{ledger}-改.xlsx", xlsx_bytes(fixed, sheet=LEDGERS[ledger].sheet))
    assert (r3.rows_added, r3.rows_updated, r3.rows_unchanged) == (0, 1, len(rows) - 1)
    assert data_version(engine) == version + 2
    hist = import_history(engine, OFFICE)
    assert list(hist["file_name"]) == [f"{ledger}-改.xlsx", f"{ledger}.xlsx", f"{ledger}.xlsx"]
    assert list(hist["rows_updated"])[:2] == [1, 0]


def test_register_keeps_original_bytes_once_and_audits(engine):
    content = csv_bytes([meal()])
    r1 = import_file(engine, OFFICE, "meal_records", "助餐.csv", content)
    r2 = import_file(engine, OFFICE, "meal_records", "助餐（重传）.csv", content)
    with engine.connect() as conn:
        batches = conn.execute(select(ImportBatch).order_by(ImportBatch.id)).all()
        files = conn.execute(select(ImportFile.sha256, ImportFile.content)).all()
    assert [(b.file_name, b.imported_by, b.rows_added, b.rows_unchanged, b.size_bytes) for b in batches] == [
        ("助餐.csv", "t_office", 1, 0, len(content)), ("助餐（重传）.csv", "t_office", 0, 1, len(content))]
    assert len(files) == 1 and bytes(files[0].content) == content and files[0].sha256 == r1.sha256 == r2.sha256
    assert stored_file(engine, OFFICE, r2.batch_id) == ("助餐（重传）.csv", content)
    audit = audit_entries(engine, actions=("import",))
    assert len(audit) == 2 and set(audit["target"]) == {"meal_records:助餐.csv", "meal_records:助餐（重传）.csv"}
    assert '"rows_added": 1' in audit["detail"].iloc[-1]


def test_facility_meal_point_serves_its_own_community(engine):
    import_file(engine, OFFICE, "facilities", "f.xlsx", xlsx_bytes(VALID["facilities"]))
    with engine.connect() as conn:
        fid = conn.execute(select(Facility.id).where(Facility.code == "MP-100")).scalar()
        served = conn.execute(select(MealPointCommunity.community_code).where(MealPointCommunity.facility_id == fid)).all()
        offers = conn.execute(select(Facility.offers_delivery, Facility.version).where(Facility.id == fid)).one()
    assert served == [("360103001002",)] and tuple(offers) == (True, 1)


def test_findings_join_or_create_their_inspection(engine):
    import_file(engine, OFFICE, "findings", "f.xlsx", xlsx_bytes(VALID["findings"] + [
        dict(VALID["findings"][0], 问题编号="ZG-0002", 问题类别="用电安全")]))
    with engine.connect() as conn:
        insp = conn.execute(select(Inspection.id, Inspection.source, Inspection.facility_id)).all()
        found = conn.execute(select(Finding.inspection_id, Finding.facility_id, Finding.version)).all()
    fid = facility_id(engine, "MP-001")
    assert len(insp) == 1 and insp[0].source == "inspection_group" and insp[0].facility_id == fid
    assert {tuple(f) for f in found} == {(insp[0].id, fid, 1)}
    r = import_file(engine, OFFICE, "findings", "f2.xlsx", xlsx_bytes([dict(VALID["findings"][0], 整改日期="2024-06-01")]))
    assert r.rows_updated == 1
    with engine.connect() as conn:
        assert conn.execute(select(Finding.version, Finding.rectified_on).where(Finding.code == "ZG-0001")).one() \
            == (2, date(2024, 6, 1))
        assert conn.execute(select(func.count()).select_from(Inspection)).scalar() == 1


def test_gcj02_coordinates_converted_when_ticked(engine):
    lon, lat = wgs84_to_gcj02(115.8641, 28.6585)
    row = dict(VALID["vacant_rooms"][0], 经度=round(lon, 6), 纬度=round(lat, 6))
    r = import_file(engine, OFFICE, "vacant_rooms", "rooms.csv", csv_bytes([row]), gcj02=True)
    assert r.rows_added == 1 and any("GCJ-02" in n for n in r.notes)
    with engine.connect() as conn:
        got = conn.execute(select(Community.lon).limit(1)).scalar()
        from data.db.models import VacantRoom
        stored = conn.execute(select(VacantRoom.lon, VacantRoom.lat)).one()
    assert got and abs(stored.lon - 115.8641) < 1e-5 and abs(stored.lat - 28.6585) < 1e-5


# --- the corpus of bad files --------------------------------------------------------------------------------------

def test_missing_required_value_and_wrong_types(engine):
    rows = [meal(), meal(point="", day="2024-06-04"), meal(day="昨天"), meal(day="2024-06-05", dine="五十"),
            meal(day="2024-06-06", dine=12.5)]
    exc = refused(engine, "meal_records", "助餐.xlsx", xlsx_bytes(rows, sheet="助餐记录"))
    assert exc.total == 4
    assert set(exc.problems["file"]) == {"助餐.xlsx"} and set(exc.problems["sheet"]) == {"助餐记录"}
    problem(exc, 3, "助餐点", "必须填写")
    problem(exc, 4, "日期", "应为日期", "昨天")
    problem(exc, 5, "堂食份数", "应为整数", "五十")
    problem(exc, 6, "堂食份数", "应为整数")
    assert "“助餐.xlsx” 工作表“助餐记录” 第 3 行 “助餐点”列：必须填写" in exc.messages()


def test_dates_out_of_range_and_in_the_future(engine):
    today = date(2024, 12, 31)
    rows = [meal(day="2025-01-02"), meal(day="1999-12-31"), meal(day="2024-02-30")]
    exc = refused(engine, "meal_records", "m.csv", csv_bytes(rows), today=today)
    problem(exc, 2, "日期", "不能是将来的日期", "2024-12-31")
    problem(exc, 3, "日期", "早于 2000-01-01")
    problem(exc, 4, "日期", "应为日期")
    exc = refused(engine, "findings", "f.csv", csv_bytes([dict(VALID["findings"][0], 整改期限="2024-05-01")]))
    problem(exc, 2, "整改期限", "不能早于“发现日期”")


def test_negative_and_absurd_amounts(engine):
    rows = [meal(dine=-1), meal(day="2024-06-04", dine=80_000)]
    exc = refused(engine, "meal_records", "m.csv", csv_bytes(rows))
    problem(exc, 2, "堂食份数", "不能为负数")
    problem(exc, 3, "堂食份数", "数值过大")
    pay = VALID["aid_payments"][0]
    exc = refused(engine, "aid_payments", "p.csv", csv_bytes([dict(pay, **{"金额(元)": -5}),
                                                              dict(pay, 发放日期="2024-07-10", **{"金额(元)": 9_999_999}),
                                                              dict(pay, 发放日期="2024-08-10", **{"金额(元)": "12.345"}),
                                                              dict(pay, 发放日期="2024-09-10", **{"金额(元)": 0})]))
    problem(exc, 2, "金额(元)", "不能为负数")
    problem(exc, 3, "金额(元)", "数值过大", "单位")
    problem(exc, 4, "金额(元)", "两位小数")
    problem(exc, 5, "金额(元)", "必须大于 0")


def test_unknown_names_get_the_closest_match(engine):
    rows = [dict(VALID["home_services"][0], 街道="南埔街道"),
            dict(VALID["home_services"][0], 老人姓名="甲", 社区="二朗庙"),
            dict(VALID["home_services"][0], 老人姓名="乙", 社区="朝阳小区")]
    exc = refused(engine, "home_services", "h.csv", csv_bytes(rows))
    problem(exc, 2, "街道", "“南埔街道”不是本区的街道", "您是不是要找：南浦街道？")
    problem(exc, 3, "社区", "不是南浦街道的社区", "您是不是要找：二郎庙社区居委会？")
    problem(exc, 4, "社区", "不属于南浦街道", "朝阳洲街道")
    exc = refused(engine, "meal_records", "m.csv", csv_bytes([meal(point="二郎庙助餐点"), meal(point="MP-999")]))
    problem(exc, 2, "助餐点", "不是已登记的助餐点", "您是不是要找：二郎庙社区助餐点？")
    problem(exc, 3, "助餐点", "不是已登记的助餐点")


def test_id_numbers_failing_the_check_digit(engine):
    good = VALID["living_alone"][0]
    wrong_check = good["身份证号"][:17] + ("0" if good["身份证号"][17] != "0" else "1")
    rows = [dict(good, 身份证号=wrong_check), dict(good, 身份证号="99999919381"),
            dict(good, 身份证号="999999193802300451"), dict(good, 身份证号="9.99999E+17")]
    exc = refused(engine, "living_alone", "l.csv", csv_bytes(rows))
    problem(exc, 2, "身份证号", "校验位不符", good["身份证号"][17])
    problem(exc, 3, "身份证号", "应为 18 位")
    problem(exc, 4, "身份证号", "出生日期")
    problem(exc, 5, "身份证号", "科学计数法")


def test_coordinates_outside_the_district_and_gcj02_recognised(engine):
    g_lon, g_lat = wgs84_to_gcj02(*EDGE_WGS)
    rows = [dict(VALID["vacant_rooms"][0], 经度=116.2, 纬度=28.9),
            dict(VALID["vacant_rooms"][0], 用房编号="XZ-002", 经度=28.65, 纬度=115.87),
            dict(VALID["vacant_rooms"][0], 用房编号="XZ-003", 经度=round(g_lon, 6), 纬度=round(g_lat, 6))]
    exc = refused(engine, "vacant_rooms", "r.csv", csv_bytes(rows))
    problem(exc, 2, "经度/纬度", "不在西湖区范围内")
    problem(exc, 3, "经度", "填反")
    problem(exc, 4, "经度/纬度", "不在西湖区范围内", "看起来是高德（GCJ-02）坐标", "勾选")
    # ticked, the same point is converted and lies inside
    r = import_file(engine, OFFICE, "vacant_rooms", "r.csv", csv_bytes(rows[2:]), gcj02=True)
    assert r.rows_added == 1


def test_duplicates_in_the_file_and_conflicts_with_the_database(engine):
    exc = refused(engine, "meal_records", "m.csv", csv_bytes([meal(), meal(dine=3), meal(point="MP-001", dine=4)]))
    problem(exc, 3, "助餐点", "与第 2 行重复")
    problem(exc, 4, "助餐点", "与第 2 行重复")
    # the database: a meal point not yet open on that day, a converted room, an elder not on the roster
    exc = refused(engine, "meal_records", "m.csv", csv_bytes([meal(day="2022-12-31")]))
    problem(exc, 2, "日期", "尚未开业", "2023-01-01")
    exc = refused(engine, "living_alone_visits", "v.csv", csv_bytes([
        dict(VALID["living_alone_visits"][0], 身份证号=VALID["living_alone"][0]["身份证号"]),
        dict(VALID["living_alone_visits"][0], 巡访日期="2021-06-01"),
        dict(VALID["living_alone_visits"][0], 巡访日期="2024-06-06", 老人姓名="李乙")]))
    problem(exc, 2, "身份证号", "名册中没有")
    problem(exc, 3, "巡访日期", "早于该老人纳入名册")
    problem(exc, 4, "老人姓名", "不一致")
    import_file(engine, OFFICE, "vacant_rooms", "r.csv", csv_bytes(VALID["vacant_rooms"]))
    with engine.begin() as conn:
        from data.db.models import VacantRoom
        conn.execute(VacantRoom.__table__.update().values(status="converted"))
    exc = refused(engine, "vacant_rooms", "r.csv", csv_bytes([dict(VALID["vacant_rooms"][0], 楼层=2)]))
    problem(exc, 2, "用房编号", "已转为设施")
    exc = refused(engine, "population", "p.csv", csv_bytes([dict(VALID["population"][0], **{"80周岁以上人口": 5000})]))
    problem(exc, 2, "80周岁以上人口", "不能多于")


def test_several_problems_together_are_all_reported(engine):
    rows = [meal(point="二郎庙助餐点", day="2031-01-01", dine=-1, delivered="x"), meal(), meal(), meal(day="")]
    exc = refused(engine, "meal_records", "m.xlsx", xlsx_bytes(rows))
    assert exc.total == 6, exc.messages()
    for row, col in ((2, "助餐点"), (2, "日期"), (2, "堂食份数"), (2, "送餐份数"), (4, "助餐点"), (5, "日期")):
        problem(exc, row, col)
    assert list(exc.summary()["问题数"]) == sorted(exc.summary()["问题数"], reverse=True)
    assert set(exc.table().columns) == {"文件", "工作表", "行", "列", "问题"}


def test_missing_columns_and_a_title_row(engine):
    exc = refused(engine, "meal_records", "m.csv", csv_bytes([{"助餐点": "二郎庙社区助餐点", "份数": 3}]))
    problem(exc, 1, "日期", "缺少必填列")
    problem(exc, 1, "堂食份数", "缺少必填列")
    r = import_file(engine, OFFICE, "meal_records", "m.xlsx", xlsx_bytes([dict(meal(), 备注="x")], title_row="6 月助餐台账"))
    assert r.rows_added == 1 and "备注" in r.notes[0]
    exc = refused(engine, "meal_records", "m.xlsx", xlsx_bytes([meal(day="x")], title_row="6 月助餐台账"))
    problem(exc, 3, "日期", "应为日期")   # the header sits on row 2, the data on row 3


def test_refusals_are_audited(engine):
    refused(engine, "meal_records", "坏.csv", csv_bytes([meal(dine=-1)]))
    audit = audit_entries(engine, actions=("import_refused",))
    assert len(audit) == 1 and audit["target"].iloc[0] == "meal_records:坏.csv" and not audit["ok"].iloc[0]
    assert "不能为负数" in audit["detail"].iloc[0]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ImportBatch)).scalar() == 0


# --- roles ------------------------------------------------------------------------------------------------------

def test_street_account_imports_only_its_own_rows(engine):
    exc = refused(engine, "meal_records", "m.csv", csv_bytes([meal(), meal(point="朝阳小区社区助餐点")]), who=NANPU_USER)
    assert exc.total == 1
    problem(exc, 3, "助餐点", "街道账号只能导入本街道（南浦街道）的数据", "朝阳洲街道")
    exc = refused(engine, "home_services", "h.csv", csv_bytes([dict(VALID["home_services"][0], 街道="朝阳洲街道",
                                                                    社区="朝阳小区")]), who=NANPU_USER)
    problem(exc, 2, "街道", "街道账号只能导入本街道")
    r = import_file(engine, NANPU_USER, "meal_records", "m.csv", csv_bytes([meal()]))
    assert r.rows_added == 1
    # another street's facility cannot be moved into one's own by re-registering its code
    exc = refused(engine, "facilities", "f.csv", csv_bytes([dict(VALID["facilities"][0], 设施编号="MP-002")]),
                  who=NANPU_USER)
    problem(exc, 2, "设施编号", "已登记在朝阳洲街道")
    assert list(import_history(engine, NANPU_USER)["file_name"]) == ["m.csv"]
    assert import_history(engine, Principal("t_street_chaoyang", "street", CHAOYANG)).empty


@pytest.mark.parametrize("role", ["leader", "display", "admin"])
def test_roles_without_write_cannot_import(engine, role):
    before = dump(engine)
    with pytest.raises(AccessDenied):
        import_file(engine, principal(role), "meal_records", "m.csv", csv_bytes([meal()]))
    assert dump(engine) == before


# --- templates ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ledger", list(LEDGERS))
def test_templates_have_chinese_headers_an_example_and_lists(engine, ledger):
    lg = LEDGERS[ledger]
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(engine, ledger, OFFICE)))
    ws = wb[lg.sheet]
    assert wb.sheetnames[0] == lg.sheet and "填写说明" in wb.sheetnames
    assert [c.value for c in ws[1]] == lg.headers
    example = [c.value for c in ws[2]]
    assert sum(v not in (None, "") for v in example) >= len(lg.headers) // 2
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists, "drop-down lists"
    for dv in lists:
        if dv.formula1.startswith('"'):
            assert all(v for v in dv.formula1.strip('"').split(","))
    if any(c.kind == "street" for c in lg.columns):
        assert any("南浦街道" in dv.formula1 for dv in lists)


def test_street_template_lists_only_its_own_street(engine):
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(engine, "home_services", NANPU_USER)))
    lists = " ".join(dv.formula1 for dv in wb["居家服务"].data_validations.dataValidation)
    assert "南浦街道" in lists and "朝阳洲街道" not in lists
    assert "二郎庙社区居委会" in lists and "象山社区居委会" in lists and "朝阳小区" not in lists


@pytest.mark.parametrize("ledger", ["meal_records", "facilities", "aid_payments"])
def test_a_filled_in_template_imports(engine, ledger):
    lg = LEDGERS[ledger]
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(engine, ledger, OFFICE)))
    ws = wb[lg.sheet]
    for r, row in enumerate(VALID[ledger], start=3):   # the example row 2 is left in place
        for c, h in enumerate(lg.headers, start=1):
            ws.cell(r, c, row.get(h))
    buf = io.BytesIO()
    wb.save(buf)
    r = import_file(engine, OFFICE, ledger, "模板.xlsx", buf.getvalue())
    assert (r.rows_total, r.rows_added, r.sheet) == (len(VALID[ledger]), len(VALID[ledger]), lg.sheet)


# --- 100,000 rows ----------------------------------------------------------------------------------------------

def test_a_file_changing_many_records_updates_every_one_and_keeps_the_totals(engine):
    """More changed records than data.imports.writing.SET_BASED_FROM: on PostgreSQL one UPDATE … FROM a staged copy
    (so the rollup triggers run once), row by row on SQLite — the same outcome: every record changed once, versions
    moved by one, the daily totals equal to the records."""
    from data.db import rollups
    from data.imports.writing import SET_BASED_FROM

    n = SET_BASED_FROM + 30
    days = [(date(2024, 1, 1) + timedelta(days=i)).isoformat() for i in range(n)]
    meals = [meal(day=d, dine=10 + i % 40) for i, d in enumerate(days)]
    import_file(engine, OFFICE, "meal_records", "m.xlsx", xlsx_bytes(meals, sheet="助餐记录"))
    more = [meal(day=(date(2024, 6, 1) + timedelta(days=i)).isoformat(), dine=7) for i in range(n)]
    seen = []
    r = import_file(engine, OFFICE, "meal_records", "m2.xlsx",
                    xlsx_bytes([dict(x, 堂食份数=x["堂食份数"] + 1) for x in meals] + more, sheet="助餐记录"),
                    progress=lambda f, text: seen.append(f))
    assert (r.rows_added, r.rows_updated, r.rows_unchanged) == (n, n, 0)
    assert seen == sorted(seen) and seen[-1] == 1.0   # the bar never steps back, through both kinds of write
    with engine.connect() as conn:
        assert conn.execute(select(func.sum(MealRecord.dine_in))).scalar() == sum(x["堂食份数"] + 1 for x in meals) + 7 * n
        assert rollups.differences(conn) == []
    # a versioned ledger: every facility renamed, each one version on
    points = [dict(VALID["facilities"][0], 设施编号=f"MP-{200 + i}", 设施名称=f"第{i}助餐点") for i in range(n)]
    import_file(engine, OFFICE, "facilities", "f.xlsx", xlsx_bytes(points, sheet="设施"))
    r = import_file(engine, OFFICE, "facilities", "f2.xlsx",
                    xlsx_bytes([dict(p, 设施名称=p["设施名称"] + "（新）") for p in points], sheet="设施"))
    assert r.rows_updated == n
    with engine.connect() as conn:
        got = conn.execute(select(Facility.name, Facility.version).where(Facility.code.like("MP-2%"))).all()
    assert sorted(got) == sorted((f"第{i}助餐点（新）", 2) for i in range(n))


def test_many_changes_where_one_record_moved_meanwhile_write_nothing(engine):
    """The optimistic rule holds for a large change too: one record whose version moved after it was read refuses
    the whole write, naming that record, and no other record changed."""
    from data.imports.ledgers import LEDGERS as ALL
    from data.imports.writing import EXPECTED, IDENT, SET_BASED_FROM, WriteConflict, store

    n = SET_BASED_FROM + 10
    points = [dict(VALID["facilities"][0], 设施编号=f"MP-{300 + i}", 设施名称=f"第{i}点") for i in range(n)]
    import_file(engine, OFFICE, "facilities", "f.xlsx", xlsx_bytes(points, sheet="设施"))
    with engine.connect() as conn:
        ids = conn.execute(select(Facility.id).where(Facility.code.like("MP-3%")).order_by(Facility.id)).scalars().all()
    moved = ids[n // 2]
    with engine.begin() as conn:   # someone else saved that record after the import had read it
        conn.execute(update(Facility).where(Facility.id == moved).values(version=Facility.version + 1))
    changes = pd.DataFrame({IDENT: ids, EXPECTED: [1] * n, "name": [f"改名{i}" for i in range(n)]})
    with pytest.raises(WriteConflict) as info:
        with engine.begin() as conn:
            store(conn, ALL["facilities"], updated=changes, fields=["name"])
    assert info.value.ident == moved
    with engine.connect() as conn:
        names = conn.execute(select(Facility.name).where(Facility.id.in_(ids))).scalars().all()
    assert not any(x.startswith("改名") for x in names)


def test_100k_meal_records_import_whole_with_progress_and_idempotent(engine):
    base = dict(kind="meal_point", address=None, operator=None, capacity=40, public=False, plan_year=None,
                key_project=False, reserve_project=False, showcase=False, offers_delivery=False,
                safety_supervised=False, planned_on=None, construction_started_on=None, closed_on=None,
                vacant_room_id=None, version=1, subdistrict_code=NANPU, community_code=COMS[0][0],
                lon=COMS[0][4], lat=COMS[0][5], opened_on=date(2020, 1, 1))
    fx.insert(engine, "Facility", *[dict(base, code=f"MP-B{i:03d}", name=f"批量助餐点{i:03d}")
                                    for i in range(137)])
    days = pd.date_range("2022-01-01", periods=730).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"助餐点": [f"MP-B{i:03d}" for i in range(137) for _ in range(730)],
                          "日期": list(days) * 137}).head(100_000)
    frame["堂食份数"] = (frame.index % 90) + 1
    frame["送餐份数"] = frame.index % 7
    content = frame.to_csv(index=False).encode("utf-8")
    seen = []
    # how long it takes is the benchmark's business, not a test's (a busy machine made a 60 s limit fail on
    # PostgreSQL, where each row's rollup triggers run; see issue 22's note)
    r = import_file(engine, OFFICE, "meal_records", "全年助餐.csv", content,
                    progress=lambda f, text: seen.append((f, text)))
    assert (r.rows_total, r.rows_added) == (100_000, 100_000)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) > 5
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(MealRecord)).scalar() == 100_000
        assert conn.execute(select(func.sum(MealRecord.dine_in))).scalar() == int(frame["堂食份数"].sum())
    # re-importing it changes nothing, and says so quickly
    again = import_file(engine, OFFICE, "meal_records", "全年助餐.csv", content)
    assert (again.rows_added, again.rows_updated, again.rows_unchanged) == (0, 0, 100_000)

