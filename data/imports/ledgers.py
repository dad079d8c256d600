"""The ledgers (台账) that can be imported: their Chinese columns, types, natural keys and example rows.

A ledger is declared, not coded: `Col` says how one Chinese column is read and checked, `Ledger` which table it
fills and which columns identify a record (the natural key). The generic reader, validator and writer of this
package work from these declarations; what is particular to one ledger (resolving an elder's ID number to the
roster, a meal point being open on the day …) lives in data.imports.validation.HOOKS.

Column kinds:
  text, int, float, money (元, stored as 分), date, bool (是/否), choice (label or code → code),
  idcard (GB 11643), phone, street (name or code → subdistrict_code), community (name, short name or code →
  community_code, within the row's street), facility (code or name → facility_id), lon, lat (WGS-84, or GCJ-02
  converted when the user says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Table

from data.db.models import (
    AID_PROGRAMMES,
    FACILITY_KINDS,
    HOME_SERVICE_TYPES,
    INSPECTION_SOURCES,
    AidHousehold,
    AidPayment,
    AidPerson,
    Community,
    Facility,
    Finding,
    HomeServiceVisit,
    LivingAloneElder,
    LivingAloneVisit,
    MealRecord,
    VacantRoom,
)
from geo.site_selection import OWNER_TYPES, ROOM_STATUSES

EARLIEST_EVENT = date(2000, 1, 1)     # no ledger event (meal, visit, payment, finding …) is older than this
EARLIEST_BIRTH = date(1900, 1, 1)
MAX_MEALS_PER_DAY = 5_000             # one meal point, one day: more is a typing error
MAX_PAYMENT_YUAN = 200_000            # one payment to one person
MAX_COMMUNITY_POP = 100_000
MAX_CAPACITY = 5_000
MAX_AREA_M2 = 20_000
MAX_RENT = 1_000_000
FLOOR_RANGE = (-3, 60)

RELATIONS = {"户主": "户主", "配偶": "配偶", "子女": "子女", "父母": "父母", "孙子女": "孙子女",
             "兄弟姐妹": "兄弟姐妹", "其他": "其他"}
VISIT_TYPES = {"巡访": "巡访", "探访": "探访"}
SEVERITIES = {"一般": "一般", "较重": "较重", "严重": "严重"}
PLACE_TYPES = {"养老机构": "养老机构", "养老服务设施": "养老服务设施", "助餐点": "助餐点", "服务商": "服务商",
               "村": "村", "社区": "社区"}
PAYMENT_SUBTYPES = {"living": "基本生活", "care": "照料护理", "back_pay": "补发"}


@dataclass(frozen=True)
class Col:
    """One column of a ledger as the user sees it."""
    field: str            # name in the cleaned frame (a table column, or a reference resolved by a hook)
    header: str           # the Chinese header, exactly as in the template
    kind: str
    required: bool = False
    choices: dict[str, str] | None = None   # stored value -> label (choice)
    lo: float | None = None
    hi: float | None = None
    max_len: int | None = None
    future: bool = False  # dates: may lie after today
    lo_exclusive: bool = False  # numbers: `lo` itself is refused too (must be greater than lo)
    range_hint: str = ""  # numbers: said after a value out of [lo, hi] (how to fill the column in)
    default: object = None
    example: object = ""
    note: str = ""


@dataclass(frozen=True)
class Ledger:
    key: str
    title: str
    sheet: str
    table: Table
    columns: tuple[Col, ...]
    natural_key: tuple[str, ...]          # table columns identifying a record
    key_headers: tuple[str, ...]          # the same, as the user knows them
    fields: tuple[str, ...]               # table columns the import writes (natural key included)
    date_order: tuple[tuple[str, str], ...] = ()   # (earlier, later) field pairs
    insert: bool = True                   # new records may be added (False: update existing only)
    versioned: bool = False               # the table has a `version` column (optimistic concurrency)
    date_field: str | None = None         # narrows the existing rows loaded for comparison
    description: str = ""

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def col(self, f: str) -> Col:
        return next(c for c in self.columns if c.field == f)

    def header_of(self, f: str) -> str:
        return next((c.header for c in self.columns if c.field == f), f)

    @property
    def has_coordinates(self) -> bool:
        return any(c.kind == "lon" for c in self.columns)


def _street(example="南浦街道"):
    return Col("subdistrict_code", "街道", "street", True, example=example, note="街道名称，如“南浦街道”（也可填统计用区划代码）")


def _community(required=True, example="二郎庙社区居委会"):
    return Col("community_code", "社区", "community", required, example=example,
               note="社区（村）名称，全称或简称均可，须属于所填街道")


def _bool(f, header, note=""):
    return Col(f, header, "bool", False, default=False, example="否", note=note or "填“是”或“否”，空白视为“否”")


FACILITIES = Ledger(
    key="facilities", title="养老服务设施", sheet="设施", table=Facility.__table__,
    columns=(
        Col("code", "设施编号", "text", True, max_len=40, example="SS-示例-001", note="每个设施唯一；已存在的编号将更新该设施"),
        Col("name", "设施名称", "text", True, max_len=120, example="南浦街道示例社区助餐点"),
        Col("kind", "设施类型", "choice", True, choices=FACILITY_KINDS, example="社区助餐点"),
        _street(), _community(required=False),
        Col("address", "地址", "text", max_len=200, example="南昌市西湖区南浦街道示例路1号"),
        Col("operator", "运营方", "text", max_len=120, example="示例养老服务有限公司"),
        Col("capacity", "床位/餐位数", "int", lo=0, hi=MAX_CAPACITY, example=40),
        Col("lon", "经度", "lon", True, example=115.874549, note="WGS-84（天地图、GPS）；高德坐标请在导入时勾选“是GCJ-02坐标”"),
        Col("lat", "纬度", "lat", True, example=28.65667),
        _bool("public", "公办"),
        Col("plan_year", "规划年度", "int", lo=2000, hi=2100, example=2024),
        _bool("key_project", "重点项目"), _bool("reserve_project", "储备项目"), _bool("showcase", "参观点位"),
        _bool("offers_delivery", "幸福小蜜蜂送餐"), _bool("safety_supervised", "安全监管对象"),
        Col("planned_on", "规划日期", "date", example="2024-01-10"),
        Col("construction_started_on", "开工日期", "date", example="2024-03-01"),
        Col("opened_on", "开业日期", "date", example="2024-06-01"),
        Col("closed_on", "关停日期", "date", example=""),
    ),
    natural_key=("code",), key_headers=("设施编号",),
    fields=("code", "name", "kind", "subdistrict_code", "community_code", "address", "operator", "capacity", "lon",
            "lat", "public", "plan_year", "key_project", "reserve_project", "showcase", "offers_delivery",
            "safety_supervised", "planned_on", "construction_started_on", "opened_on", "closed_on"),
    date_order=(("planned_on", "construction_started_on"), ("construction_started_on", "opened_on"),
                ("planned_on", "opened_on"), ("opened_on", "closed_on")),
    versioned=True,
    description="每行一个设施，以“设施编号”识别。新社区助餐点自动登记其所在社区为服务范围。",
)

MEAL_RECORDS = Ledger(
    key="meal_records", title="助餐记录", sheet="助餐记录", table=MealRecord.__table__,
    columns=(
        Col("facility_id", "助餐点", "facility", True, example="南浦街道示例社区助餐点", note="助餐点名称或设施编号"),
        Col("served_on", "日期", "date", True, lo=None, example="2024-06-03"),
        Col("dine_in", "堂食份数", "int", True, lo=0, hi=MAX_MEALS_PER_DAY, example=56),
        Col("delivered", "送餐份数", "int", False, lo=0, hi=MAX_MEALS_PER_DAY, default=0, example=8,
            note="幸福小蜜蜂送餐份数，空白视为 0"),
    ),
    natural_key=("facility_id", "served_on"), key_headers=("助餐点", "日期"),
    fields=("facility_id", "served_on", "dine_in", "delivered"),
    date_field="served_on",
    description="每行为一个助餐点一天的助餐份数，以（助餐点，日期）识别；同一天重复导入则更新份数。",
)

HOME_SERVICES = Ledger(
    key="home_services", title="居家上门服务", sheet="居家服务", table=HomeServiceVisit.__table__,
    columns=(
        Col("visited_on", "服务日期", "date", True, example="2024-06-03"),
        Col("service_type", "服务类型", "choice", True, choices=HOME_SERVICE_TYPES, example="80周岁两小时上门服务"),
        _street(), _community(),
        Col("elder_name", "老人姓名", "text", True, max_len=50, example="张示例"),
        Col("provider", "服务商", "text", max_len=120, example="示例居家养老服务有限公司"),
    ),
    natural_key=("visited_on", "service_type", "community_code", "elder_name"),
    key_headers=("服务日期", "服务类型", "社区", "老人姓名"),
    fields=("visited_on", "service_type", "subdistrict_code", "community_code", "elder_name", "provider"),
    date_field="visited_on",
    description="每行一人次上门服务，以（服务日期，服务类型，社区，老人姓名）识别：同一老人同一天同一类服务只记一次。",
)

LIVING_ALONE = Ledger(
    key="living_alone", title="独居老人名册", sheet="独居老人名册", table=LivingAloneElder.__table__,
    columns=(
        Col("name", "姓名", "text", True, max_len=50, example="李示例"),
        Col("id_number", "身份证号", "idcard", True, example="999999194501010012", note="18 位，末位校验码须正确（GB 11643）"),
        Col("phone", "联系电话", "phone", example="13800000000"),
        Col("address", "住址", "text", max_len=200, example="南昌市西湖区南浦街道示例小区1栋1单元101室"),
        Col("birth_date", "出生日期", "date", lo=None, example="1945-01-01", note="可空，按身份证号计算；填写则须与身份证号一致"),
        _street(), _community(),
        Col("enrolled_on", "纳入日期", "date", True, example="2023-03-01"),
        Col("left_on", "退出日期", "date", example="", note="去世、迁出或不再独居的日期；在册则空白"),
    ),
    natural_key=("id_number",), key_headers=("身份证号",),
    fields=("name", "id_number", "phone", "address", "birth_date", "subdistrict_code", "community_code",
            "enrolled_on", "left_on"),
    date_order=(("birth_date", "enrolled_on"), ("enrolled_on", "left_on")),
    description="每行一位独居老人，以身份证号识别。",
)

LIVING_ALONE_VISITS = Ledger(
    key="living_alone_visits", title="独居老人巡访记录", sheet="巡访记录", table=LivingAloneVisit.__table__,
    columns=(
        Col("elder_id_number", "身份证号", "idcard", True, example="999999194501010012", note="被巡访老人的身份证号，须已在独居老人名册中"),
        Col("elder_name", "老人姓名", "text", False, max_len=50, example="李示例", note="可空；填写则须与名册一致"),
        Col("visited_on", "巡访日期", "date", True, example="2024-06-05"),
        Col("visit_type", "巡访类型", "choice", True, choices=VISIT_TYPES, example="巡访"),
        Col("visitor", "巡访人", "text", max_len=50, example="王示例"),
    ),
    natural_key=("elder_id", "visited_on", "visit_type"), key_headers=("身份证号", "巡访日期", "巡访类型"),
    fields=("elder_id", "visited_on", "subdistrict_code", "visit_type", "visitor"),
    date_field="visited_on",
    description="每行一次巡访或探访，以（身份证号，巡访日期，巡访类型）识别；老人须已在名册中。",
)

AID_HOUSEHOLDS = Ledger(
    key="aid_households", title="救助家庭", sheet="救助家庭", table=AidHousehold.__table__,
    columns=(
        Col("household_no", "户编号", "text", True, max_len=40, example="DB-示例-0001"),
        Col("head_name", "户主姓名", "text", True, max_len=50, example="赵示例"),
        Col("head_id_number", "户主身份证号", "idcard", True, example="999999198001010017"),
        Col("phone", "联系电话", "phone", example="13900000000"),
        Col("address", "住址", "text", max_len=200, example="南昌市西湖区南浦街道示例小区2栋1单元201室"),
        _street(), _community(),
    ),
    natural_key=("household_no",), key_headers=("户编号",),
    fields=("household_no", "head_name", "head_id_number", "phone", "address", "subdistrict_code", "community_code"),
    description="每行一户救助家庭，以户编号识别。先导入家庭，再导入救助对象（成员）和发放记录。",
)

AID_PERSONS = Ledger(
    key="aid_persons", title="救助对象", sheet="救助对象", table=AidPerson.__table__,
    columns=(
        Col("household_no", "户编号", "text", True, max_len=40, example="DB-示例-0001", note="须已在救助家庭中"),
        Col("name", "姓名", "text", True, max_len=50, example="赵示例"),
        Col("id_number", "身份证号", "idcard", True, example="999999198001010017"),
        Col("relation", "与户主关系", "choice", True, choices=RELATIONS, example="户主"),
        Col("phone", "联系电话", "phone", example=""),
    ),
    natural_key=("id_number",), key_headers=("身份证号",),
    fields=("household_id", "name", "id_number", "phone", "relation"),
    description="每行一位救助对象（家庭成员），以身份证号识别。",
)

AID_PAYMENTS = Ledger(
    key="aid_payments", title="救助发放", sheet="救助发放", table=AidPayment.__table__,
    columns=(
        Col("person_id_number", "身份证号", "idcard", True, example="999999198001010017", note="领取人身份证号，须已在救助对象中"),
        Col("programme", "救助项目", "choice", True, choices=AID_PROGRAMMES, example="最低生活保障（低保）"),
        Col("subtype", "子项", "choice", choices=PAYMENT_SUBTYPES, example="", note="特困供养、残疾人两项补贴须填（基本生活/照料护理），补发填“补发”"),
        Col("paid_on", "发放日期", "date", True, example="2024-06-10"),
        Col("amount_fen", "金额(元)", "money", True, lo=0, hi=MAX_PAYMENT_YUAN, example=750.00, note="单位：元，最多两位小数"),
    ),
    natural_key=("person_id", "programme", "subtype", "paid_on"), key_headers=("身份证号", "救助项目", "子项", "发放日期"),
    fields=("programme", "subtype", "household_id", "person_id", "subdistrict_code", "paid_on", "amount_fen"),
    date_field="paid_on",
    description="每行一笔发放，以（身份证号，救助项目，子项，发放日期）识别；重复导入同一笔则更新金额。",
)

FINDINGS = Ledger(
    key="findings", title="检查与整改问题", sheet="整改问题", table=Finding.__table__,
    columns=(
        Col("code", "问题编号", "text", True, max_len=40, example="ZG-示例-0001", note="每个问题唯一；已存在的编号将更新该问题（如填写整改日期）"),
        Col("source", "检查来源", "choice", True, choices=INSPECTION_SOURCES, example="局检查组安全检查"),
        Col("inspected_on", "检查日期", "date", example="2024-05-20", note="可空；填写则归入同来源同日的检查（没有则新建）"),
        Col("group_no", "检查组", "int", lo=1, hi=20, example=1),
        Col("place_type", "场所类型", "choice", True, choices=PLACE_TYPES, example="养老机构"),
        Col("place_name", "场所名称", "text", True, max_len=120, example="南浦街道示例养老院"),
        Col("facility_id", "设施", "facility", False, example="", note="可空；设施名称或设施编号"),
        _street(), _community(required=False, example=""),
        Col("category", "问题类别", "text", True, max_len=40, example="消防安全"),
        Col("severity", "严重程度", "choice", True, choices=SEVERITIES, example="一般"),
        Col("description", "问题描述", "text", max_len=2000, example="消防通道堆放杂物"),
        Col("found_on", "发现日期", "date", True, example="2024-05-20"),
        Col("deadline", "整改期限", "date", True, future=True, example="2024-06-20"),
        Col("rectified_on", "整改日期", "date", example="2024-06-05", note="未整改则空白"),
        _bool("referred_to_discipline", "移交纪检"),
        Col("note", "备注", "text", max_len=2000, example=""),
    ),
    natural_key=("code",), key_headers=("问题编号",),
    fields=("code", "inspection_id", "source", "place_type", "place_name", "facility_id", "community_code",
            "subdistrict_code", "category", "severity", "description", "found_on", "deadline", "rectified_on",
            "referred_to_discipline", "note"),
    date_order=(("inspected_on", "found_on"), ("found_on", "deadline"), ("found_on", "rectified_on")),
    versioned=True,
    description="每行一个问题，以问题编号识别；整改后重新导入（填写整改日期）即更新该问题。",
)

VACANT_ROOMS = Ledger(
    key="vacant_rooms", title="闲置用房", sheet="闲置用房", table=VacantRoom.__table__,
    columns=(
        Col("code", "用房编号", "text", True, max_len=40, example="XZ-示例-001"),
        Col("address", "地址", "text", True, max_len=200, example="南浦街道某路 1 号一层"),
        _street(), _community(required=False, example=""),
        Col("lon", "经度", "lon", True, example=115.874549, note="WGS-84；高德坐标请在导入时勾选“是GCJ-02坐标”"),
        Col("lat", "纬度", "lat", True, example=28.65667),
        Col("area_m2", "面积(m²)", "float", True, lo=0, lo_exclusive=True, hi=MAX_AREA_M2, example=150),
        Col("floor", "楼层", "int", True, lo=FLOOR_RANGE[0], hi=FLOOR_RANGE[1], example=1, note="一层填 1，地下一层填 -1，不能为 0",
            range_hint=f"应在 {FLOOR_RANGE[0]} 至 {FLOOR_RANGE[1]} 之间（一层填 1，地下一层填 -1）"),
        _bool("has_lift", "有无电梯", "填“是”（有）或“否”（无）"),
        Col("owner_type", "产权类型", "choice", True, choices=OWNER_TYPES, example="国有"),
        Col("monthly_rent", "月租金(元/月)", "float", True, lo=0, hi=MAX_RENT, example=0, note="无租金填 0"),
        Col("available_from", "可用日期", "date", future=True, example="2025-01-01"),
        Col("status", "状态", "choice", choices=ROOM_STATUSES, default="candidate", example="候选",
            note="空白视为“候选”；“已转为设施”只能在选址分析页操作"),
    ),
    natural_key=("code",), key_headers=("用房编号",),
    fields=("code", "address", "subdistrict_code", "community_code", "lon", "lat", "area_m2", "floor", "has_lift",
            "owner_type", "monthly_rent", "available_from", "status"),
    versioned=True,
    description="每行一间闲置用房，以用房编号识别（与选址分析页导出的台账格式相同）。",
)

POPULATION = Ledger(
    key="population", title="社区老年人口", sheet="社区老年人口", table=Community.__table__,
    columns=(
        _street(), _community(),
        Col("pop_60", "60周岁以上人口", "int", True, lo=0, hi=MAX_COMMUNITY_POP, example=1200),
        Col("pop_80", "80周岁以上人口", "int", True, lo=0, hi=MAX_COMMUNITY_POP, example=180),
        Col("living_alone", "独居老人数", "int", True, lo=0, hi=MAX_COMMUNITY_POP, example=12),
    ),
    natural_key=("code",), key_headers=("社区",),
    fields=("code", "pop_60", "pop_80", "living_alone"),
    insert=False,
    description="每行一个社区（村）的老年人口，以社区识别；只更新已有社区的人数，不新增社区。",
)

LEDGERS: dict[str, Ledger] = {lg.key: lg for lg in (
    FACILITIES, MEAL_RECORDS, HOME_SERVICES, LIVING_ALONE, LIVING_ALONE_VISITS, AID_HOUSEHOLDS, AID_PERSONS,
    AID_PAYMENTS, FINDINGS, VACANT_ROOMS, POPULATION)}
