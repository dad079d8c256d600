"""演示城区: a deterministic, record-level fictitious Xihu district for 2023-01-01 … 2024-12-31.

Every figure F01–F76 of the 2024 first-half work report, computed through data.queries for
2024-01-01 … 2024-06-30, equals the report exactly; 2023 is plausible (year-over-year works) and the
second half of 2024 moves towards the year's targets (68 meal points, ≥ 65 % coverage).

All persons are fictitious: placeholder given names (甲乙丙丁 + 一二三), ID numbers on the non-existent
area code 999999 with a correct GB 11643 check digit, phones 1990000xxxx.

`build_demo(engine, scale=N)` writes N replicas of the district (replica 0 carries the real codes;
replica k ≥ 1 has codes suffixed "-k", names suffixed "（副本k）" and coordinates shifted), so every
additive figure is exactly N times the report's. Replicas are generated once and streamed to the
database one after another, so memory stays bounded at any scale.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from data.db import models as m
from data.security.idcard import make_id

GEO_DIR = Path(__file__).resolve().parents[2] / "geo"

DEMO_START = date(2023, 1, 1)
DEMO_PERIOD_END = date(2024, 12, 31)
DEFAULT_SEED = 20240630
FAKE_AREA = "999999"  # no such area code exists: fictitious ID numbers can never be real ones

# The dashboard's warning signals at the end of the demo
SILENT_STREET = "360103010"           # 南站街道: no ledger record in the last week of 2024
SILENT_FROM = date(2024, 12, 23)
SILENT_MEAL_POINTS_LAST_DAY = date(2024, 12, 19)  # 2 meal points stop reporting (nothing in the last 10 days)
SHOWCASE_COMMUNITY = "360103014001"   # 桃花街道凉伞树社区: the visited showcase meal point
WELFARE_STREET = "360103011"          # 桃源街道: the district welfare institute

# Meal-point coverage checkpoints (communities in the service area of an operating point)
COVERED_MID_2024 = 98    # on 2024-06-30: 98 / 172 = 57 %
COVERED_END_2024 = 114   # on 2024-12-31: 114 / 172 = 66 % (target ≥ 65 %)

# service_stations.level is String(10) in the schema, too short for "subdistrict": subdistrict stations are "street"
STATION_LEVEL_STREET = "subdistrict"

REPLICA_DX, REPLICA_DY, REPLICA_COLS = 0.10, 0.09, 10
PERSONS_PER_BIRTH_DATE = 2   # per replica and sex; 499 sequence numbers per birth date and sex → at most ×249
MAX_SCALE = 499 // PERSONS_PER_BIRTH_DATE
CHUNK = 5000

HALVES = {
    "2023H1": (date(2023, 1, 1), date(2023, 6, 30)),
    "2023H2": (date(2023, 7, 1), date(2023, 12, 31)),
    "2024H1": (date(2024, 1, 1), date(2024, 6, 30)),
    "2024H2": (date(2024, 7, 1), date(2024, 12, 31)),
}
H1_START, H1_END = HALVES["2024H1"]

SURNAMES = list("张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文")
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛"]
GIVEN_1 = "甲乙丙丁戊己庚辛壬癸"
GIVEN_2 = "一二三四五六七八九十"

OLD_TOWN = {"360103001", "360103004", "360103007", "360103009", "360103010"}
UNIT_WORD = {"社区居委会": "社区", "家委会": "家委会", "村委会": "村"}

MEAL_COMPANIES = ["甲乙餐饮管理有限公司", "丙丁餐饮服务有限公司", "戊己养老服务有限公司", "庚辛物业服务有限公司",
                  "壬癸康养服务有限公司", "子丑餐饮管理有限公司"]
CARE_COMPANIES = ["甲丙养老服务有限公司", "乙丁康养集团有限公司", "戊庚健康管理有限公司", "己辛养老服务有限公司",
                  "壬甲护理院有限公司", "癸乙康养服务有限公司"]
HOME_PROVIDERS = {
    "age80_2h": ["甲乙居家养老服务有限公司", "丙丁家政服务有限公司"],
    "five_groups": ["戊己社会工作服务中心", "庚辛居家养老服务有限公司"],
    "family_bed": ["壬癸康养服务有限公司", "子丑护理服务有限公司"],
}
INSPECTION_GROUPS = {1: ["360103001", "360103004", "360103010"], 2: ["360103002", "360103011"],
                     3: ["360103007", "360103009"], 4: ["360103013", "360103014", "360103015"]}
JOINT_PARTNERS = "区消防救援大队、区卫生健康委员会、区市场监督管理局"
NINE_GROUPS = ["重病", "重残", "低收入", "低保边缘", "支出型困难", "失业", "困境儿童", "高龄独居", "因灾因意外"]

FINDING_TEXT = {
    "消防安全": ["灭火器压力不足未及时更换", "消防通道堆放杂物", "应急照明灯损坏", "烟感报警器失效", "消防演练记录缺失"],
    "食品安全": ["食品留样记录不全", "从业人员健康证过期", "生熟食品未分开存放", "餐具消毒记录不完整"],
    "设施设备": ["卫生间扶手松动", "紧急呼叫装置失灵", "走廊地面防滑措施不到位", "燃气报警器未安装"],
    "台账管理": ["安全巡查台账未及时更新", "值班记录不完整", "助餐登记台账与系统数据不一致"],
    "用电安全": ["私拉乱接电线", "电动车在室内充电", "配电箱未上锁"],
    "服务质量": ["菜品公示未更新", "服务时长不足", "老人满意度回访偏低"],
    "价格公示": ["助餐价格及补贴标准未公示"],
    "服务记录": ["上门服务记录缺少签字", "服务照片与记录不符"],
    "人员资质": ["服务人员未持证上岗", "服务人员信息未备案"],
    "资金管理": ["村集体资金未按规定审批支出", "大额资金使用未经民主程序", "白条入账"],
    "资产台账": ["集体资产台账登记不全", "闲置资产未登记入账", "资产处置未公开"],
    "合同管理": ["资源发包合同未经公开招标", "租赁合同到期未续签仍在使用"],
    "财务公开": ["村务财务未按季度公开", "公开内容不完整"],
}
SAFETY_CATEGORIES = ["消防安全", "食品安全", "设施设备", "台账管理", "用电安全"]
MEAL_CATEGORIES = ["食品安全", "台账管理", "服务质量", "价格公示", "设施设备"]
HOME_CATEGORIES = ["服务质量", "服务记录", "人员资质", "台账管理"]
SANZI_CATEGORIES = ["资金管理", "资产台账", "合同管理", "财务公开"]

ROUNDTABLE_TOPICS = [
    "养老机构消防改造资金补助申请", "助餐点食材集中采购渠道", "护理员职业技能培训补贴申领", "家庭养老床位改造标准",
    "医养结合签约医疗机构对接", "社区闲置用房用于助餐点", "送餐电动车通行与停放", "养老机构用水用电执行居民价格",
    "连锁品牌跨街道运营备案", "长期护理保险定点机构申请", "适老化改造产品目录", "助餐补贴资金拨付进度",
    "养老服务从业人员招聘渠道", "老年人能力评估结果互认", "社区食堂燃气安全改造", "康养企业与家政企业合作机制",
    "养老机构等级评定辅导", "居家上门服务平台数据对接", "助浴服务场地协调", "老年大学教学点设置",
    "养老服务协会会员服务清单", "机构内设医务室审批", "冬季取暖设备补贴", "银发经济招商政策解读",
    "养老机构综合责任保险", "社区助餐进村试点", "志愿服务积分兑换", "护理员住宿保障",
    "智慧养老设备试用", "养老机构食堂委托经营", "社区康复辅具租赁点", "老年人防诈骗宣传",
    "养老服务地方标准宣贯", "企业用工社保补贴", "重点项目施工进度协调",
]
ROUNDTABLE_RAISERS = ["区养老服务协会", "乙丁康养集团有限公司", "甲乙餐饮管理有限公司", "戊己养老服务有限公司",
                      "壬癸康养服务有限公司", "甲乙居家养老服务有限公司", "区卫生健康委员会", "子丑护理服务有限公司"]


# --- small helpers -------------------------------------------------------------------

def _days(a: date, b: date) -> int:
    return (b - a).days


def _monthly_days(day: int) -> list[date]:
    return [date(y, mo, day) for y in (2023, 2024) for mo in range(1, 13)]


def _half_of(d: date) -> str | None:
    for key, (a, b) in HALVES.items():
        if a <= d <= b:
            return key
    return None


def _to_dates(arr) -> list[date]:
    return np.asarray(arr, dtype="datetime64[D]").tolist()


def _shift_geometry(geom: dict, dx: float, dy: float) -> dict:
    def move(c):
        if isinstance(c[0], (int, float)):
            return [round(c[0] + dx, 6), round(c[1] + dy, 6)]
        return [move(x) for x in c]
    return {"type": geom["type"], "coordinates": move(geom["coordinates"])}


@dataclass(frozen=True)
class _Spec:
    """How one table's rows are turned into replica k's rows."""
    model: type
    fks: dict = field(default_factory=dict)   # column -> table whose ids it references
    codes: tuple = ()                          # suffixed "-k"
    names: tuple = ()                          # suffixed "（副本k）"
    coords: tuple = ()                         # (lon, lat) column pairs, shifted
    id_numbers: tuple = ()                     # person keys resolved to ID numbers per replica

    @property
    def has_id(self) -> bool:
        return "id" in self.model.__table__.c


SD, CM = ("subdistrict_code",), ("community_code",)
SPECS: dict[str, _Spec] = {
    "subdistricts": _Spec(m.Subdistrict, codes=("code", "code_mca"), names=("name",),
                          coords=(("label_lon", "label_lat"),)),
    "communities": _Spec(m.Community, codes=("code",) + SD, names=("name", "short_name"), coords=(("lon", "lat"),)),
    "vacant_rooms": _Spec(m.VacantRoom, codes=("code",) + SD + CM, coords=(("lon", "lat"),)),
    "facilities": _Spec(m.Facility, fks={"vacant_room_id": "vacant_rooms"}, codes=("code",) + SD + CM, names=("name",),
                        coords=(("lon", "lat"),)),
    "meal_point_communities": _Spec(m.MealPointCommunity, fks={"facility_id": "facilities"}, codes=CM),
    "meal_records": _Spec(m.MealRecord, fks={"facility_id": "facilities"}),
    "care_workers": _Spec(m.CareWorker, fks={"facility_id": "facilities"}),
    "home_service_visits": _Spec(m.HomeServiceVisit, codes=SD + CM),
    "living_alone_elders": _Spec(m.LivingAloneElder, codes=SD + CM, id_numbers=("id_number",)),
    "living_alone_visits": _Spec(m.LivingAloneVisit, fks={"elder_id": "living_alone_elders"}, codes=SD),
    "service_stations": _Spec(m.ServiceStation, codes=SD, names=("name",)),
    "social_workers": _Spec(m.SocialWorker, fks={"station_id": "service_stations"}),
    "inspections": _Spec(m.Inspection, fks={"facility_id": "facilities"}, codes=SD),
    "findings": _Spec(m.Finding, fks={"inspection_id": "inspections", "facility_id": "facilities"},
                      codes=("code",) + SD + CM, names=("place_name",)),
    "asset_verifications": _Spec(m.AssetVerification, codes=CM),
    "screenings": _Spec(m.Screening, codes=SD + CM, id_numbers=("id_number",)),
    "aid_households": _Spec(m.AidHousehold, codes=("household_no",) + SD + CM, id_numbers=("head_id_number",)),
    "aid_persons": _Spec(m.AidPerson, fks={"household_id": "aid_households"}, id_numbers=("id_number",)),
    "aid_enrolments": _Spec(m.AidEnrolment, fks={"household_id": "aid_households", "screening_id": "screenings"}),
    "aid_payments": _Spec(m.AidPayment, fks={"household_id": "aid_households", "person_id": "aid_persons"}, codes=SD),
    "civil_events": _Spec(m.CivilEvent, codes=SD),
    "aid_windows": _Spec(m.AidWindow, codes=SD, names=("name",)),
    "roundtable_meetings": _Spec(m.RoundtableMeeting),
    "roundtable_issues": _Spec(m.RoundtableIssue, fks={"meeting_id": "roundtable_meetings"}),
}
TABLE_ORDER = list(SPECS)  # parents before children (foreign keys are enforced on SQLite)


class _IdAllocator:
    """Unique fictitious ID numbers across all replicas: area 999999 + birth date + sequence + check digit."""

    def __init__(self):
        self.used: dict[tuple[date, bool], int] = {}

    def __call__(self, born: date, male: bool) -> str:
        key = (born, male)
        n = self.used.get(key, 0)
        self.used[key] = n + 1
        seq = 2 * n + 1 if male else 2 * n + 2  # odd = male, even = female (GB 11643)
        if seq > 999:
            raise RuntimeError(f"演示数据倍数过大：出生日期 {born} 的虚构身份证顺序码已用尽（最多约 ×249）。")
        return make_id(FAKE_AREA, born, seq)


def _free_visit(seen: set, elder: int, d: date, kind: str, lo: date, hi: date) -> tuple[date, str]:
    """The ledger's identity (a unique key since migration 0007): one visit of a kind per elder and day. A repeat
    takes the other kind, else the nearest free day of the same window (no random draw: the rest stays the same)."""
    other = "探访" if kind == "巡访" else "巡访"
    for shift in range(_days(lo, hi) + 1):
        for day in dict.fromkeys((d + timedelta(days=shift), d - timedelta(days=shift))):
            if lo <= day <= hi:
                for k in (kind, other):
                    if (elder, day, k) not in seen:
                        seen.add((elder, day, k))
                        return day, k
    raise RuntimeError(f"演示数据：独居老人 {elder} 在 {lo}–{hi} 的巡访次数多于可用日期。")


# --- the generator ----------------------------------------------------------------------

class _District:
    """One replica of the district, generated once; rows are plain dicts keyed by column name."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.t: dict[str, list[dict]] = {name: [] for name in TABLE_ORDER}
        self.persons: list[tuple[date, bool]] = []
        self._births: Counter = Counter()

    # ---- plumbing
    def add(self, table: str, **row) -> int:
        rows = self.t[table]
        if SPECS[table].has_id:
            row = {"id": len(rows) + 1, **row}
        rows.append(row)
        return row.get("id", 0)

    def person(self, born: date, male: bool) -> int:
        """A person key; at most 2 persons of a replica share a birth date and sex, so that the ID sequence numbers
        (about 500 per birth date and sex) last for up to 249 replicas."""
        while self._births[(born, male)] >= PERSONS_PER_BIRTH_DATE:
            born += timedelta(days=1)
        self._births[(born, male)] += 1
        self.persons.append((born, male))
        return len(self.persons) - 1

    def name(self) -> str:
        r = self.rng
        surname = COMPOUND_SURNAMES[r.integers(3)] if r.random() < 0.04 else SURNAMES[r.integers(len(SURNAMES))]
        given = GIVEN_1[r.integers(10)] + (GIVEN_2[r.integers(10)] if r.random() < 0.7 else "")
        return surname + given

    def pick(self, seq):
        """One element of a sequence, uniformly at random."""
        return seq[int(self.rng.integers(len(seq)))]

    def phone(self) -> str:
        return f"1990000{int(self.rng.integers(0, 10000)):04d}"

    def rand_date(self, a: date, b: date) -> date:
        return a + timedelta(days=int(self.rng.integers(0, _days(a, b) + 1)))

    def rand_weekday(self, a: date, b: date) -> date:
        for _ in range(50):
            d = self.rand_date(a, b)
            if d.weekday() < 5:
                return d
        return d

    def birth(self, age_lo: int, age_hi: int, on: date = date(2024, 6, 30)) -> date:
        return self.rand_date(date(on.year - age_hi, 1, 1), date(on.year - age_lo, 12, 28))

    def jitter(self, lon: float, lat: float, lo: float = 40, hi: float = 160) -> tuple[float, float]:
        d, a = self.rng.uniform(lo, hi), self.rng.uniform(0, 2 * math.pi)
        return (round(lon + d * math.cos(a) / (111_320 * math.cos(math.radians(lat))), 6),
                round(lat + d * math.sin(a) / 110_540, 6))

    def build(self) -> "_District":
        self._geography()
        self._facilities()
        self._meal_records()
        self._care_workers()
        self._home_services()
        self._stations()
        self._living_alone()
        self._inspections()
        self._asset_verifications()
        self._aid()
        self._civil_events()
        self._aid_windows()
        self._roundtable()
        return self

    # ---- geography and population
    def _geography(self):
        try:
            sd = pd.read_csv(GEO_DIR / "subdistricts.csv", dtype={"code": str, "code_mca": str})
            cm = pd.read_csv(GEO_DIR / "communities_schematic.csv", dtype={"code": str, "subdistrict_code": str})
            gj = json.loads((GEO_DIR / "subdistricts_schematic.geojson").read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise RuntimeError(f"缺少地理文件 {exc.filename}，无法生成演示数据（应由 geo/ 目录提供）。") from exc
        geoms = {f["properties"]["code"]: f["geometry"] for f in gj["features"]}
        sd = sd.sort_values("code").reset_index(drop=True)
        cm = cm.sort_values("code").reset_index(drop=True)
        self.sd_codes = list(sd["code"])
        self.sd_name = dict(zip(sd["code"], sd["name"]))
        for r in sd.itertuples():
            if r.code not in geoms:
                raise RuntimeError(f"示意边界文件中缺少街道 {r.code}（{r.name}）。")
            self.add("subdistricts", code=r.code, name=r.name, code_mca=r.code_mca, label_lon=float(r.label_lon),
                     label_lat=float(r.label_lat), boundary_geojson=geoms[r.code], boundary_official=False)

        rng = self.rng
        n = len(cm)
        self.n = n
        self.code = list(cm["code"])
        self.cname = list(cm["name"])
        self.short = list(cm["short_name"])
        self.kind = list(cm["kind"])
        self.csd = list(cm["subdistrict_code"])
        self.lon = cm["lon"].astype(float).to_numpy()
        self.lat = cm["lat"].astype(float).to_numpy()
        self.idx = {c: i for i, c in enumerate(self.code)}
        kind = np.array(self.kind)
        old = np.array([s in OLD_TOWN for s in self.csd])
        base = np.where(kind == "社区居委会", 420.0, np.where(kind == "家委会", 190.0, 300.0))
        raw = base * np.where(old, 1.15, 0.95) * rng.lognormal(0.0, 0.28, n)
        self.pop60 = np.maximum(np.round(raw * 60_000 / raw.sum()), 60).astype(int)
        self.pop80 = np.round(self.pop60 * rng.uniform(0.12, 0.19, n) * np.where(old, 1.08, 1.0)).astype(int)
        self.alone = np.round(self.pop60 * rng.uniform(0.035, 0.07, n)).astype(int) + 3
        self.place = [f"{self.sd_name[s]}{sh}{UNIT_WORD[k]}" for s, sh, k in zip(self.csd, self.short, self.kind)]
        for i in range(n):
            self.add("communities", code=self.code[i], name=self.cname[i], short_name=self.short[i], kind=self.kind[i],
                     subdistrict_code=self.csd[i], lon=float(self.lon[i]), lat=float(self.lat[i]),
                     pop_60=int(self.pop60[i]), pop_80=int(self.pop80[i]), living_alone=int(self.alone[i]))
        # nearest communities of the same subdistrict (approximate metres)
        x = self.lon * 111_320 * math.cos(math.radians(28.64))
        y = self.lat * 110_540
        self.near: list[list[int]] = []
        for i in range(n):
            same = [j for j in range(n) if j != i and self.csd[j] == self.csd[i]]
            same.sort(key=lambda j: (x[j] - x[i]) ** 2 + (y[j] - y[i]) ** 2)
            self.near.append(same)
        self.by_sd = {s: [i for i in range(n) if self.csd[i] == s] for s in self.sd_codes}
        self.villages = [i for i in range(n) if self.kind[i] == "村委会"]

    def pick_comm(self, weights: np.ndarray, size: int | None = None):
        return self.rng.choice(self.n, size=size, p=weights / weights.sum())

    # ---- facilities, service areas, vacant rooms
    def _facility(self, ci: int, kind: str, name: str, prefix: str, **kw) -> int:
        lon, lat = self.jitter(self.lon[ci], self.lat[ci])
        seq = sum(1 for f in self.t["facilities"] if f["code"].startswith(prefix + self.code[ci])) + 1
        row = dict(code=f"{prefix}{self.code[ci]}{seq:02d}", name=name, kind=kind, subdistrict_code=self.csd[ci],
                   community_code=self.code[ci], address=None, operator=None, capacity=None, lon=lon, lat=lat,
                   public=False, plan_year=None, key_project=False, reserve_project=False, showcase=False,
                   offers_delivery=False, safety_supervised=False, planned_on=None, construction_started_on=None,
                   opened_on=None, closed_on=None, vacant_room_id=None, version=1)
        row.update(kw)
        if row["address"] is None:
            row["address"] = f"南昌市西湖区{self.place[ci]}{int(self.rng.integers(1, 40))}号"
        return self.add("facilities", **row)

    def _dates_before(self, opened: date) -> tuple[date, date]:
        construction = opened - timedelta(days=int(self.rng.integers(30, 101)))
        planned = construction - timedelta(days=int(self.rng.integers(30, 151)))
        return planned, construction

    def _tune_coverage(self, operating: list[int], adjustable: list[int], area: dict, host: dict, target: int):
        """Add or drop neighbour communities of the adjustable points until exactly `target` are covered."""
        hosts = {host[p] for p in operating}
        while True:
            cnt = Counter(c for p in operating for c in area[p])
            if len(cnt) == target:
                return
            if len(cnt) > target:
                opts = [(p, c) for p in adjustable for c in area[p][1:] if cnt[c] == 1 and c not in hosts]
                if not opts:
                    raise RuntimeError("演示数据：无法把助餐覆盖社区数调到目标值。")
                p, c = self.pick(opts)
                area[p].remove(c)
            else:
                opts = [(p, c) for p in adjustable if len(area[p]) < 3 for c in self.near[host[p]][:6] if c not in cnt]
                if not opts:
                    raise RuntimeError("演示数据：无法把助餐覆盖社区数调到目标值。")
                p, c = self.pick(opts)
                area[p].append(c)

    def _facilities(self):
        rng, n = self.rng, self.n
        kind = np.array(self.kind)
        w = self.pop60 * np.where(kind == "村委会", 0.4, 1.0)
        showcase = self.idx[SHOWCASE_COMMUNITY]
        order = [int(i) for i in rng.choice(n, size=n, replace=False, p=w / w.sum()) if int(i) != showcase]
        # meal points by opening wave: A before 2023 (one closes in 2023), B 2023, C H1 2024, D H2 2024, E planned 2025
        A, B, C = order[:31], [showcase] + order[31:40], order[40:47]
        rest = order[47:]
        closed_host = self.pick(A)
        area = {}
        for h in A + B + C:
            k = int(rng.choice([0, 1, 1, 2]))
            area[h] = [h] + [int(c) for c in rng.permutation(self.near[h][:3])[:k]]
        host = {h: h for h in area}
        op_mid = [h for h in A + B + C if h != closed_host]
        self._tune_coverage(op_mid, op_mid, area, host, COVERED_MID_2024)
        covered = {c for p in op_mid for c in area[p]}
        uncovered = [c for c in rest if c not in covered]
        covered_free = [c for c in rest if c in covered]
        D = [int(c) for c in rng.permutation(uncovered[:15] + covered_free[:6])]
        for h in D:
            area[h] = [h] + [c for c in self.near[h][:2] if c not in covered][: int(rng.choice([0, 1, 1]))]
            host[h] = h
        self._tune_coverage(op_mid + D, D, area, host, COVERED_END_2024)
        covered_end = {c for p in op_mid + D for c in area[p]}
        taken = set(A + B + C + D)
        E = [c for c in rest if c not in covered_end and c not in taken][:6]
        for h in E:
            area[h] = [h] + self.near[h][:1]
            host[h] = h

        self.meal_points: list[int] = []   # facility ids
        self.mp_host: dict[int, int] = {}
        self.mp_area: dict[int, list[int]] = {}
        key23 = set(B[1:4])
        key24 = set(C[:5])
        july_key = D[0]
        for wave, hosts in (("A", A), ("B", B), ("C", C), ("D", D), ("E", E)):
            for h in hosts:
                community_run = rng.random() < 0.4
                kw = dict(capacity=int(rng.integers(4, 17)) * 5, public=community_run,
                          operator=self.cname[h] if community_run else self.pick(MEAL_COMPANIES),
                          offers_delivery=bool(rng.random() < 0.45) or h == showcase,
                          address=(f"南昌市西湖区{self.place[h]}党群服务中心一楼" if community_run
                                   else f"南昌市西湖区{self.place[h]}{int(rng.integers(1, 30))}栋"
                                        f"{int(rng.integers(1, 9))}号门面"))
                if wave == "A":
                    opened = self.rand_date(date(2019, 3, 1), date(2022, 12, 15))
                    planned, construction = self._dates_before(opened)
                    kw.update(opened_on=opened, planned_on=planned, construction_started_on=construction)
                    if h == closed_host:
                        kw.update(closed_on=date(2023, 9, 30), offers_delivery=False)
                elif wave == "B":
                    opened = (date(2023, 5, 18) if h == showcase
                              else self.rand_date(date(2023, 2, 1), date(2023, 12, 15)))
                    planned, construction = self._dates_before(opened)
                    kw.update(opened_on=opened, planned_on=planned, construction_started_on=construction,
                              plan_year=2023,
                              key_project=h in key23, showcase=h == showcase)
                elif wave == "C":
                    opened = self.rand_date(date(2024, 1, 8), date(2024, 6, 25))
                    planned, construction = self._dates_before(opened)
                    if h in key24:
                        planned = date(2023, 11, 20)
                        construction = max(date(2023, 12, 1), opened - timedelta(days=int(rng.integers(30, 101))))
                    kw.update(opened_on=opened, planned_on=planned, construction_started_on=construction,
                              plan_year=2024,
                              key_project=h in key24)
                elif wave == "D":
                    if h == july_key:
                        opened, planned, construction = date(2024, 7, 16), date(2023, 11, 20), date(2024, 3, 11)
                    else:
                        opened = self.rand_date(date(2024, 7, 1), date(2024, 12, 16))
                        planned, construction = self._dates_before(opened)
                    kw.update(opened_on=opened, planned_on=planned, construction_started_on=construction,
                              plan_year=2024,
                              key_project=h == july_key)
                else:
                    kw.update(planned_on=self.rand_date(date(2024, 8, 1), date(2024, 11, 30)), plan_year=2025,
                              offers_delivery=False)
                    if len([e for e in self.meal_points if self.t["facilities"][e - 1]["plan_year"] == 2025]) < 2:
                        kw["construction_started_on"] = self.rand_date(date(2024, 12, 2), date(2024, 12, 20))
                fid = self._facility(h, "meal_point", f"{self.place[h]}助餐点", "ZC", **kw)
                self.meal_points.append(fid)
                self.mp_host[fid] = h
                self.mp_area[fid] = area[h]
                for c in area[h]:
                    self.add("meal_point_communities", facility_id=fid, community_code=self.code[c])
        self.mp_wave_d = [f for f in self.meal_points if self.mp_host[f] in set(D)]

        # other facilities
        non_village = [i for i in order if self.kind[i] != "村委会"]
        welfare_c = [i for i in self.by_sd[WELFARE_STREET] if self.kind[i] == "社区居委会"]
        wc = self.pick(welfare_c)
        self.welfare_id = self._facility(
            wc, "welfare_institute", "西湖区社会福利院", "FL", public=True, operator="西湖区社会福利院", capacity=260,
            safety_supervised=True, opened_on=date(1996, 10, 1), address=f"南昌市西湖区{self.place[wc]}福利院路1号")
        self._facility(wc, "day_care_center", "西湖区社会福利院日间照料中心", "RZ", public=True, operator="西湖区社会福利院",
                       capacity=40, plan_year=2024, planned_on=date(2024, 2, 20),
                       construction_started_on=date(2024, 7, 22), opened_on=date(2024, 11, 18),
                       address=f"南昌市西湖区{self.place[wc]}福利院路1号附楼")
        spare = [i for i in reversed(non_village) if i != wc]
        old_town = [i for i in spare if self.csd[i] in OLD_TOWN]
        enh = old_town[0]
        self._facility(enh, "embedded_nursing_home", f"{self.place[enh]}嵌入式养老院", "QR",
                       operator=CARE_COMPANIES[1], capacity=48, plan_year=2024, key_project=True,
                       safety_supervised=True, planned_on=date(2023, 11, 20),
                       construction_started_on=date(2024, 1, 10), opened_on=date(2024, 5, 28))
        reserve = old_town[1]
        self._facility(reserve, "embedded_nursing_home", "西湖区社会福利院老城区分院（公办嵌入式养老院）", "QR",
                       public=True, operator="西湖区社会福利院", capacity=80, reserve_project=True,
                       planned_on=date(2024, 6, 25))
        hcc_key = old_town[2]
        self._facility(hcc_key, "home_care_center", f"{self.place[hcc_key]}居家养老服务中心", "JJ",
                       operator=CARE_COMPANIES[3], capacity=30, plan_year=2024, key_project=True,
                       planned_on=date(2023, 11, 20), construction_started_on=date(2024, 1, 15),
                       opened_on=date(2024, 4, 26))
        used = {wc, enh, reserve, hcc_key}
        pool = [i for i in spare if i not in used]
        hcc_2023 = pool[0]
        self._facility(hcc_2023, "home_care_center", f"{self.place[hcc_2023]}居家养老服务中心", "JJ",
                       operator=CARE_COMPANIES[5], capacity=24, plan_year=2023, key_project=True,
                       planned_on=date(2022, 11, 15), construction_started_on=date(2023, 3, 1),
                       opened_on=date(2023, 9, 12))
        for i in pool[1:7]:
            opened = self.rand_date(date(2019, 1, 1), date(2022, 10, 31))
            self._facility(i, "home_care_center", f"{self.place[i]}居家养老服务中心", "JJ",
                           operator=self.pick(CARE_COMPANIES), capacity=int(rng.integers(15, 36)),
                           opened_on=opened)
        suffixes = ["颐养院", "养老院", "康养中心"]
        for n_ci, i in enumerate(pool[7:13]):
            opened = self.rand_date(date(2008, 1, 1), date(2021, 6, 30))
            self._facility(i, "care_institution", f"西湖区{self.short[i]}{suffixes[n_ci % 3]}", "YL",
                           operator=CARE_COMPANIES[n_ci % len(CARE_COMPANIES)], capacity=int(rng.integers(6, 23)) * 10,
                           safety_supervised=True, opened_on=opened)
        for i in pool[13:31]:
            opened = self.rand_date(date(2013, 1, 1), date(2022, 12, 1))
            self._facility(i, "day_care_center", f"{self.place[i]}日间照料中心", "RZ", public=True, operator=self.cname[i],
                           capacity=int(rng.integers(10, 31)), opened_on=opened,
                           address=f"南昌市西湖区{self.place[i]}党群服务中心二楼")

        # vacant rooms: 6 already converted into H2-2024 meal points, the rest mostly where coverage is missing
        converted = self.mp_wave_d[1:7]
        final_uncovered = [c for c in order if c not in covered_end and c not in taken]
        room_comms = ([self.mp_host[f] for f in converted]
                      + [final_uncovered[i % len(final_uncovered)] for i in range(34)])
        statuses = ["converted"] * 6 + ["candidate"] * 16 + ["negotiating"] * 9 + ["rejected"] * 9
        owner_types = ["state", "community", "enterprise", "private"]
        seq: Counter = Counter()
        for k, (ci, status) in enumerate(zip(room_comms, statuses)):
            seq[ci] += 1
            floor = int(rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 6]))
            owner = owner_types[int(rng.choice(4, p=[0.3, 0.3, 0.2, 0.2]))]
            area_m2 = round(float(rng.uniform(35, 380)), 1)
            per_m2 = {"state": rng.uniform(6, 15), "community": rng.uniform(0, 4), "enterprise": rng.uniform(18, 35),
                      "private": rng.uniform(25, 55)}[owner]
            lon, lat = self.jitter(self.lon[ci], self.lat[ci], 60, 260)
            if status == "converted":
                fac = self.t["facilities"][converted[k] - 1]
                available = fac["construction_started_on"] - timedelta(days=int(rng.integers(20, 90)))
            else:
                available = None if rng.random() < 0.3 else self.rand_date(date(2024, 3, 1), date(2025, 9, 30))
            rid = self.add("vacant_rooms", code=f"XZ{self.code[ci]}{seq[ci]:02d}",
                           address=f"南昌市西湖区{self.place[ci]}{int(rng.integers(1, 40))}栋{int(rng.integers(1, 6))}号"
                                   + ("门面" if floor == 1 else f"{floor}楼"),
                           subdistrict_code=self.csd[ci], community_code=self.code[ci], lon=lon, lat=lat,
                           area_m2=area_m2,
                           floor=floor, has_lift=bool(floor > 1 and rng.random() < 0.35), owner_type=owner,
                           monthly_rent=float(round(area_m2 * per_m2 / 10) * 10), available_from=available,
                           status=status, version=1)
            if status == "converted":
                self.t["facilities"][converted[k] - 1]["vacant_room_id"] = rid

    def fac(self, fid: int) -> dict:
        return self.t["facilities"][fid - 1]

    def operating(self, f: dict, d: date) -> bool:
        return f["opened_on"] is not None and f["opened_on"] <= d and (f["closed_on"] is None or f["closed_on"] > d)

    # ---- meal records
    def _meal_records(self):
        rng = self.rng
        operating_end = [f for f in self.meal_points if self.operating(self.fac(f), DEMO_PERIOD_END)]
        candidates = [f for f in operating_end if self.fac(f)["subdistrict_code"] != SILENT_STREET
                      and self.fac(f)["opened_on"] < DEMO_START]
        silent = {candidates[int(i)] for i in rng.choice(len(candidates), size=2, replace=False)}
        festival = [(np.datetime64("2023-01-20"), np.datetime64("2023-01-28")),
                    (np.datetime64("2024-02-09"), np.datetime64("2024-02-17"))]
        for fid in self.meal_points:
            f = self.fac(fid)
            if f["opened_on"] is None or f["opened_on"] > DEMO_PERIOD_END:
                continue
            last = DEMO_PERIOD_END
            if f["closed_on"] is not None:
                last = f["closed_on"] - timedelta(days=1)
            if fid in silent:
                last = SILENT_MEAL_POINTS_LAST_DAY
            elif f["subdistrict_code"] == SILENT_STREET:
                last = min(last, SILENT_FROM - timedelta(days=1))
            first = max(f["opened_on"], DEMO_START)
            if first > last:
                continue
            days = np.arange(np.datetime64(first), np.datetime64(last) + 1)
            wd = (days.astype("int64") - 4) % 7  # 0 = Monday (1970-01-01 was a Thursday)
            if rng.random() < 0.3 and f["subdistrict_code"] != SILENT_STREET:
                days, wd = days[wd != 6], wd[wd != 6]  # closed on Sundays
            t = (days - np.datetime64(DEMO_START)).astype(int) / 365.0
            factor = (1 + 0.12 * t) * np.where(wd >= 5, 0.75, 1.0)
            for a, b in festival:
                factor = np.where((days >= a) & (days <= b), factor * 0.35, factor)
            ramp = (days - np.datetime64(f["opened_on"])).astype(int)
            factor = np.where(ramp < 30, factor * 0.6, factor)
            dine = rng.poisson(rng.uniform(25, 95) * factor)
            if f["offers_delivery"]:
                delivered = rng.poisson(rng.uniform(4, 15) * factor) + 1
            else:
                delivered = np.zeros(len(days), dtype=int)
            for d, a_, b_ in zip(_to_dates(days), dine.tolist(), delivered.tolist()):
                self.add("meal_records", facility_id=fid, served_on=d, dine_in=a_, delivered=b_)
        self.silent_meal_points = sorted(silent)

    # ---- care workers
    def _care_workers(self):
        rng = self.rng
        positions = {"welfare_institute": lambda f: 36, "care_institution": lambda f: max(6, f["capacity"] // 9),
                     "embedded_nursing_home": lambda f: 14, "home_care_center": lambda f: 6,
                     "day_care_center": lambda f: 4 if f["plan_year"] else 2}
        for f in self.t["facilities"]:
            if f["kind"] not in positions or f["opened_on"] is None:
                continue
            for _ in range(positions[f["kind"]](f)):
                start = f["opened_on"] if f["opened_on"] > date(2018, 1, 1) else \
                    date(2018, 1, 1) - timedelta(days=int(rng.integers(0, 1500)))
                while start <= DEMO_PERIOD_END:
                    left = start + timedelta(days=int(rng.exponential(1700)) + 60)
                    left_on = None if left > DEMO_PERIOD_END else left
                    certified = None
                    if rng.random() < (0.95 if start < DEMO_START else 0.75):
                        certified = start + timedelta(days=int(rng.integers(20, 240)))
                    if (certified is None or certified > date(2024, 7, 1)) and rng.random() < 0.85:
                        certified = self.rand_date(date(2024, 8, 1), date(2024, 12, 15))  # 护理员培训基地 in H2 2024
                    if certified is not None and (certified < start or (left_on and certified >= left_on)
                                                  or certified > DEMO_PERIOD_END):
                        certified = None
                    self.add("care_workers", name=self.name(), facility_id=f["id"], hired_on=start, left_on=left_on,
                             certified_on=certified)
                    if left_on is None:
                        break
                    start = left_on + timedelta(days=int(rng.integers(7, 46)))

    # ---- home services
    def _day_weights(self, a: date, b: date) -> tuple[np.ndarray, np.ndarray]:
        days = np.arange(np.datetime64(a), np.datetime64(b) + 1)
        wd = (days.astype("int64") - 4) % 7
        w = np.where(wd == 5, 0.45, np.where(wd == 6, 0.25, 1.0))
        for lo, hi in (("2023-01-20", "2023-01-28"), ("2024-02-09", "2024-02-17")):
            w = np.where((days >= np.datetime64(lo)) & (days <= np.datetime64(hi)), w * 0.3, w)
        for lo, hi in (("2023-10-01", "2023-10-07"), ("2024-10-01", "2024-10-07")):
            w = np.where((days >= np.datetime64(lo)) & (days <= np.datetime64(hi)), w * 0.5, w)
        return days, w / w.sum()

    def _home_services(self):
        rng = self.rng
        totals = {"2023H1": 10_386, "2023H2": 11_204, "2024H1": 12_247, "2024H2": 13_105}
        type_p = {"2023": [0.60, 0.30, 0.10], "2024": [0.52, 0.30, 0.18]}
        types = list(m.HOME_SERVICE_TYPES)
        pool = [self.name() for _ in range(3000)]
        w80 = self.pop80.astype(float)
        silent = np.array([s == SILENT_STREET for s in self.csd])
        w_not_silent = np.where(silent, 0.0, w80)
        sd_pos = {s: k for k, s in enumerate(self.sd_codes)}
        seen: set[tuple] = set()
        for key, total in totals.items():
            a, b = HALVES[key]
            days, p = self._day_weights(a, b)
            day_idx = np.sort(rng.choice(len(days), size=total, p=p))
            comm = self.pick_comm(w80, total)
            dd = days[day_idx]
            late = (dd >= np.datetime64(SILENT_FROM)) & silent[comm]
            if late.any():
                comm[late] = self.pick_comm(w_not_silent, int(late.sum()))
            ty = rng.choice(3, size=total, p=type_p[key[:4]])
            who = (comm * 17 + rng.integers(0, 17, size=total)) % len(pool)
            for d, c, t_, wi in zip(_to_dates(dd), comm.tolist(), ty.tolist(), who.tolist()):
                stype = types[t_]
                # the ledger's identity (a unique key since migration 0007): one service of a type per elder, community
                # and day — a repeat goes to the pool's next elder (no random draw, so the rest stays the same)
                while (d, stype, self.code[c], pool[wi]) in seen:
                    wi = (wi + 1) % len(pool)
                seen.add((d, stype, self.code[c], pool[wi]))
                provider = HOME_PROVIDERS[stype][sd_pos[self.csd[c]] % 2]
                self.add("home_service_visits", visited_on=d, service_type=stype, subdistrict_code=self.csd[c],
                         community_code=self.code[c], elder_name=pool[wi], provider=provider)

    # ---- service stations and social workers (before the roster: workers are the visitors)
    def _stations(self):
        rng = self.rng
        self.station_workers: dict[str | None, list[str]] = {}
        sid = self.add("service_stations", name="西湖区民政服务总站", level="district", subdistrict_code=None,
                       opened_on=date(2023, 6, 1))
        stations = [(sid, None, date(2023, 6, 1))]
        for k, s in enumerate(self.sd_codes):
            opened = self.rand_date(date(2023, 6, 5), date(2023, 12, 20)) if k < 6 else \
                self.rand_date(date(2024, 1, 8), date(2024, 3, 15))
            stations.append((self.add("service_stations", name=f"{self.sd_name[s]}民政服务站", level=STATION_LEVEL_STREET,
                                      subdistrict_code=s, opened_on=opened), s, opened))
        leavers = set(int(i) for i in rng.choice(len(stations), size=3, replace=False))
        for k, (sid, s, opened) in enumerate(stations):
            names = []
            for slot in range(2):
                nm = self.name()
                names.append(nm)
                if k in leavers and slot == 0:
                    end = self.rand_date(max(opened, date(2023, 12, 1)) + timedelta(days=60), date(2024, 5, 31))
                    self.add("social_workers", name=nm, station_id=sid, start_date=opened, end_date=end)
                    nm2 = self.name()
                    names.append(nm2)
                    self.add("social_workers", name=nm2, station_id=sid,
                             start_date=end + timedelta(days=int(rng.integers(5, 25))), end_date=None)
                else:
                    self.add("social_workers", name=nm, station_id=sid, start_date=opened, end_date=None)
            self.station_workers[s] = names

    # ---- living-alone roster and visits
    def _living_alone(self):
        rng = self.rng
        w = self.alone.astype(float)
        elders = []  # [community, enrolled, left]
        for _ in range(252):
            elders.append([int(self.pick_comm(w)), self.rand_date(date(2020, 3, 1), date(2022, 12, 31)), None])

        def churn(n_new, n_exit, a, b):
            active = [e for e in elders if e[1] < a and e[2] is None]
            for j in rng.choice(len(active), size=n_exit, replace=False):
                active[int(j)][2] = self.rand_date(a + timedelta(days=1), b)
            for _ in range(n_new):
                elders.append([int(self.pick_comm(w)), self.rand_date(a, b), None])

        churn(28, 15, date(2023, 1, 1), date(2023, 12, 31))
        churn(18, 8, H1_START, H1_END)
        churn(12, 7, date(2024, 7, 1), DEMO_PERIOD_END)
        ids = []
        for c, enrolled, left in elders:
            male = rng.random() < 0.35
            pk = self.person(self.birth(74, 96), male)
            ids.append(self.add("living_alone_elders", name=self.name(), id_number=pk,
                                phone=self.phone() if rng.random() < 0.6 else None,
                                address=f"南昌市西湖区{self.place[c]}{int(rng.integers(1, 40))}栋"
                                        f"{int(rng.integers(1, 6))}单元{int(rng.integers(1, 7))}0"
                                        f"{int(rng.integers(1, 4))}室",
                                birth_date=self.persons[pk][0], subdistrict_code=self.csd[c],
                                community_code=self.code[c], enrolled_on=enrolled, left_on=left))
        dist = {"2023H1": [0.30, 0.42, 0.22, 0.06], "2023H2": [0.27, 0.43, 0.24, 0.06],
                "2024H1": [0.28, 0.47, 0.21, 0.04], "2024H2": [0.01, 0.03, 0.84, 0.12]}
        visits = []  # (elder index, month start, month end, count)
        for y in (2023, 2024):
            for mo in range(1, 13):
                a = date(y, mo, 1)
                b = date(y + (mo == 12), mo % 12 + 1, 1) - timedelta(days=1)
                key = _half_of(a)
                for e, (c, enrolled, left) in enumerate(elders):
                    lo = max(a, enrolled)
                    hi = b if left is None else min(b, left - timedelta(days=1))
                    if self.csd[c] == SILENT_STREET and hi >= SILENT_FROM:
                        hi = SILENT_FROM - timedelta(days=1)
                    if lo > hi:
                        continue
                    visits.append([e, lo, hi, int(rng.choice(4, p=dist[key])), key])
        target = 1598
        h1 = [v for v in visits if v[4] == "2024H1"]
        diff = target - sum(v[3] for v in h1)
        while diff:
            v = self.pick(h1)
            if diff > 0 and v[3] < 3:
                v[3] += 1
                diff -= 1
            elif diff < 0 and v[3] > 0:
                v[3] -= 1
                diff += 1
        rows = []
        seen: set[tuple] = set()
        for e, lo, hi, cnt, _ in visits:
            c = elders[e][0]
            workers = self.station_workers.get(self.csd[c]) or self.station_workers[None]
            for _ in range(cnt):
                d = self.rand_date(lo, hi)
                vt = "巡访" if rng.random() < 0.6 else "探访"
                who = self.pick(workers)
                d, vt = _free_visit(seen, ids[e], d, vt, lo, hi)
                rows.append((d, ids[e], self.csd[c], vt, who))
        rows.sort(key=lambda r: (r[0], r[1]))
        for d, eid, s, vt, who in rows:
            self.add("living_alone_visits", elder_id=eid, visited_on=d, subdistrict_code=s, visit_type=vt, visitor=who)

    # ---- inspections and findings
    def _finding(self, source: str, prefix: str, inspection_id: int | None, place_type: str, place_name: str,
                 facility_id: int | None, ci: int | None, sd: str, category: str, found: date, deadline_days: int,
                 rectified: date | None, referred: bool = False, severity: str | None = None):
        rng = self.rng
        self._finding_seq[(prefix, found.year)] += 1
        severity = severity or str(rng.choice(["一般", "较重", "严重"], p=[0.7, 0.25, 0.05]))
        text = FINDING_TEXT[category]
        self.add("findings", code=f"{prefix}{found.year}{self._finding_seq[(prefix, found.year)]:04d}",
                 inspection_id=inspection_id, source=source, place_type=place_type, place_name=place_name,
                 facility_id=facility_id, community_code=self.code[ci] if ci is not None else None, subdistrict_code=sd,
                 category=category, severity=severity, description=self.pick(text), found_on=found,
                 deadline=found + timedelta(days=deadline_days), rectified_on=rectified,
                 referred_to_discipline=referred, note=None, version=1)

    def _deadline_days(self) -> int:
        return int(self.rng.choice([15, 30, 30, 45, 60]))

    def _rectify(self, found: date, deadline_days: int) -> tuple[date | None, int]:
        """(rectified_on, deadline days): usually within the deadline, sometimes late. A finding whose rectification
        falls after the demo ends stays open, with a deadline still ahead (only the chosen few are left overdue)."""
        rng = self.rng
        delay = int(rng.integers(1, deadline_days + 1))
        if rng.random() < 0.04:
            delay = deadline_days + int(rng.integers(3, 21))
        d = found + timedelta(days=delay)
        if d <= DEMO_PERIOD_END:
            return d, deadline_days
        left = _days(found, DEMO_PERIOD_END)
        if left > 55:  # found early enough: rectified late, before the year ends
            return DEMO_PERIOD_END - timedelta(days=int(rng.integers(0, 10))), deadline_days
        return None, max(deadline_days, left + 5)

    def _inspections(self):
        rng = self.rng
        self._finding_seq: Counter = Counter()
        facilities = self.t["facilities"]
        institutions = [f for f in facilities if f["safety_supervised"]]
        site_kinds = {"meal_point", "care_institution", "day_care_center", "home_care_center", "embedded_nursing_home",
                      "welfare_institute"}
        place_type = {"meal_point": "助餐点", "care_institution": "养老机构", "embedded_nursing_home": "养老机构",
                      "welfare_institute": "养老机构", "day_care_center": "养老服务设施", "home_care_center": "养老服务设施"}
        joint_dates = [date(2023, 1, 12), date(2023, 4, 20), date(2023, 8, 16), date(2023, 11, 9),
                       date(2024, 1, 18), date(2024, 3, 21), date(2024, 5, 9), date(2024, 6, 13),
                       date(2024, 8, 22), date(2024, 10, 17), date(2024, 12, 5)]
        group_counts = {"2023H1": 22, "2023H2": 24, "2024H1": 27, "2024H2": 26}
        safety_findings = {"2023H1": 142, "2023H2": 155, "2024H1": 178, "2024H2": 149}
        for key, (a, b) in HALVES.items():
            insp = []
            for d in [d for d in joint_dates if a <= d <= b]:
                iid = self.add("inspections", source="joint_safety", inspected_on=d, subdistrict_code=None,
                               group_no=None, facility_id=None, partners=JOINT_PARTNERS)
                insp.append((iid, "joint_safety", d, None))
            last = min(b, date(2024, 6, 21) if key == "2024H1" else b - timedelta(days=10))
            for k in range(group_counts[key]):
                g = k % 4 + 1
                s = self.pick(INSPECTION_GROUPS[g])
                d = self.rand_weekday(a + timedelta(days=6), last)
                sites = [f for f in facilities if f["kind"] in site_kinds and f["subdistrict_code"] == s
                         and self.operating(f, d)]
                site = self.pick(sites)
                iid = self.add("inspections", source="inspection_group", inspected_on=d, subdistrict_code=s, group_no=g,
                               facility_id=site["id"], partners=None)
                insp.append((iid, "inspection_group", d, site))
            total = safety_findings[key]
            weights = np.array([2.5 if i[1] == "joint_safety" else 1.0 for i in insp])
            per = rng.multinomial(total, weights / weights.sum())
            for (iid, source, d, site), k in zip(insp, per.tolist()):
                for _ in range(k):
                    if site is None:
                        ops = [x for x in institutions if self.operating(x, d)]
                        f = self.pick(ops)
                    else:
                        f = site
                    cat = self.pick(SAFETY_CATEGORIES)
                    if cat == "食品安全" and f["kind"] not in ("meal_point", "welfare_institute", "care_institution"):
                        cat = "消防安全"
                    dl = self._deadline_days()
                    if key == "2024H1":  # the report: all 178 rectified by 30 June
                        rect = d + timedelta(days=int(rng.integers(1, min(dl, _days(d, H1_END)) + 1)))
                    else:
                        rect, dl = self._rectify(d, dl)
                    ci = self.idx[f["community_code"]]
                    self._finding(source, "AQ", iid, place_type[f["kind"]], f["name"], f["id"], ci,
                                  f["subdistrict_code"], cat, d, dl, rect)
        self._supervision("meal_supervision", "ZC", {"2023H1": 18, "2023H2": 20, "2024H1": 24, "2024H2": 26}, overdue=4)
        self._supervision("home_care_supervision", "JJ", {"2023H1": 12, "2023H2": 14, "2024H1": 16, "2024H2": 18},
                          overdue=3)
        self._sanzi()

    def _supervision(self, source: str, prefix: str, counts: dict, overdue: int):
        """助餐点 / 居家上门服务 supervision: a few findings are left open and overdue at the end of 2024."""
        rng = self.rng
        facilities = self.t["facilities"]
        first_row = len(self.t["findings"])
        for key, n in counts.items():
            a, b = HALVES[key]
            for _ in range(n):
                d = self.rand_weekday(a + timedelta(days=5), b - timedelta(days=8))
                if source == "meal_supervision":
                    kinds = ({"meal_point"} if d < H1_START
                             else {"meal_point", "embedded_nursing_home", "home_care_center"})
                    sites = [f for f in facilities if f["kind"] in kinds and self.operating(f, d)]
                    site = self.pick(sites)
                    sd, ci = site["subdistrict_code"], self.idx[site["community_code"]]
                    ptype, pname, fid, cats = ("助餐点" if site["kind"] == "meal_point" else "养老服务设施",
                                               site["name"], site["id"], MEAL_CATEGORIES)
                else:
                    ci = int(rng.integers(self.n))
                    sd = self.csd[ci]
                    stype = list(HOME_PROVIDERS)[int(rng.integers(3))]
                    ptype, pname, fid, cats = ("服务商", HOME_PROVIDERS[stype][self.sd_codes.index(sd) % 2], None,
                                               HOME_CATEGORIES)
                iid = self.add("inspections", source=source, inspected_on=d, subdistrict_code=sd, group_no=None,
                               facility_id=fid, partners=None)
                for _ in range(int(rng.poisson(0.9))):
                    rect, dl = self._rectify(d, self._deadline_days())
                    self._finding(source, prefix, iid, ptype, pname, fid, ci, sd, self.pick(cats),
                                  d, dl, rect)
        # leave `overdue` findings from autumn 2024 unrectified with their deadline already passed
        late = [f for f in self.t["findings"][first_row:]
                if date(2024, 9, 1) <= f["found_on"] <= date(2024, 11, 15) and f["deadline"] < date(2024, 12, 20)]
        if len(late) < overdue:
            raise RuntimeError("演示数据：可设为逾期未整改的问题不足。")
        for j in rng.choice(len(late), size=overdue, replace=False):
            late[int(j)]["rectified_on"] = None

    def _sanzi(self):
        """农村集体“三资”监督: 23 problems found in H1 2024, 18 rectified, 2 referred; 5 stay open."""
        rng = self.rng
        insp = []
        for ci in self.villages:
            d = self.rand_weekday(date(2024, 3, 4), date(2024, 5, 31))
            insp.append((d, ci, self.add("inspections", source="sanzi", inspected_on=d, subdistrict_code=self.csd[ci],
                                         group_no=None, facility_id=None, partners="区农业农村局、街道纪工委")))
        insp.sort()
        per = [1] * len(insp)
        for j in rng.choice(len(insp), size=23 - len(insp), replace=True):
            per[int(j)] += 1
        items = [(d, ci, iid) for (d, ci, iid), k in zip(insp, per) for _ in range(k)]
        items.sort(key=lambda x: x[0])
        open_idx = {0, 1, len(items) - 3, len(items) - 2, len(items) - 1}   # 2 early (overdue by June), 3 late
        referred = {0, 5}
        for k, (d, ci, iid) in enumerate(items):
            dl = int(rng.choice([30, 45, 60]))
            if k in open_idx:
                rect = None
                if k > 1:
                    dl = max(60, _days(d, date(2024, 7, 5)))
            else:
                rect = d + timedelta(days=int(rng.integers(5, min(dl, _days(d, H1_END)) + 1)))
            self._finding("sanzi", "SZ", iid, "村", self.cname[ci], None, ci, self.csd[ci],
                          self.pick(SANZI_CATEGORIES), d, dl, rect, referred=k in referred,
                          severity="较重" if k in referred else None)

    def _asset_verifications(self):
        for year in (2023, 2024):
            for ci in self.villages:
                self.add("asset_verifications", community_code=self.code[ci],
                         completed_on=self.rand_weekday(date(year, 3, 1), date(year, 6, 28)))

    # ---- social assistance
    def _household(self, ci: int, members: list[tuple[str, int, int]],
                   no_prefix: str) -> tuple[int, list[int], list[int]]:
        """A household with members (relation, age_lo, age_hi); returns its id, person ids and person keys."""
        rng = self.rng
        keys = [self.person(self.birth(lo, hi), bool(rng.random() < 0.5)) for _, lo, hi in members]
        self._hh_seq += 1
        hid = self.add("aid_households", household_no=f"{no_prefix}{self.code[ci]}{self._hh_seq:05d}",
                       head_name="", head_id_number=keys[0], phone=self.phone(),
                       address=f"南昌市西湖区{self.place[ci]}{int(rng.integers(1, 40))}栋{int(rng.integers(1, 6))}单元"
                               f"{int(rng.integers(1, 7))}0{int(rng.integers(1, 4))}室",
                       subdistrict_code=self.csd[ci], community_code=self.code[ci])
        pids = []
        for (relation, _, _), key in zip(members, keys):
            nm = self.name()
            pids.append(self.add("aid_persons", household_id=hid, name=nm, id_number=key,
                                 phone=self.phone() if relation == "户主" else None, relation=relation))
            if relation == "户主":
                self.t["aid_households"][hid - 1]["head_name"] = nm
        return hid, pids, keys

    def _screening(self, ci: int, screened: date, name: str, key: int | None, category: str) -> int:
        self._screenings.append(dict(screened_on=screened, subdistrict_code=self.csd[ci], community_code=self.code[ci],
                                     person_name=name, id_number=key, category=category))
        return len(self._screenings) - 1

    def _enrol(self, programme, hid, pids, ci, start, end, screened: bool, category: str):
        sref = None
        if screened:
            d = max(DEMO_START, start - timedelta(days=int(self.rng.integers(10, 46))))
            head = self.t["aid_persons"][pids[0] - 1]
            sref = self._screening(ci, d, head["name"], head["id_number"], category)
        self._enrolments.append(dict(programme=programme, household_id=hid, start_date=start, end_date=end,
                                     screening_ref=sref))

    def _aid(self):
        self._hh_seq = 0
        self._screenings: list[dict] = []
        self._enrolments: list[dict] = []
        self._payments: list[tuple] = []   # (programme, subtype, household, person, subdistrict, paid_on, fen)
        self._dibao()
        self._tekun()
        self._orphans()
        self._disability()
        self._one_off("temporary", {"2023H1": (62, 158_600), "2023H2": (70, 171_200), "2024H1": (78, 197_900),
                                    "2024H2": (84, 212_300)}, [800, 1000, 1500, 2000, 2500, 3000, 5000], 100)
        self._one_off("charity", {"2023H1": (10, 38_000), "2023H2": (14, 52_500), "2024H1": (16, 60_000),
                                  "2024H2": (18, 71_500)}, [2000, 3000, 3500, 4000, 5000], 500)
        self._other_screenings()
        # screenings in date order, then enrolments pointing at them, then payments in date order
        order = sorted(range(len(self._screenings)), key=lambda i: (self._screenings[i]["screened_on"], i))
        new_id = {}
        for i in order:
            new_id[i] = self.add("screenings", **self._screenings[i])
        for e in sorted(self._enrolments, key=lambda e: (e["start_date"], e["household_id"])):
            ref = e.pop("screening_ref")
            self.add("aid_enrolments", **e, screening_id=new_id[ref] if ref is not None else None)
        self._payments.sort(key=lambda p: (p[5], p[0], p[3]))
        for prog, sub, hid, pid, sd, d, fen in self._payments:
            self.add("aid_payments", programme=prog, subtype=sub, household_id=hid, person_id=pid, subdistrict_code=sd,
                     paid_on=d, amount_fen=int(fen))

    def _timeline(self, groups) -> list[dict]:
        """Enrolment windows from (count, start range, end range or None, screened count, category)."""
        out = []
        for n, (s_lo, s_hi), end_range, n_screened in groups:
            for k in range(n):
                start = self.rand_date(s_lo, s_hi)
                end = None
                if end_range is not None:
                    e_lo = max(end_range[0], start + timedelta(days=45))
                    end = self.rand_date(e_lo, max(e_lo, end_range[1]))
                out.append(dict(start=start, end=end, screened=k < n_screened))
        return out

    @staticmethod
    def _paid_days(paydays: list[date], start: date, end: date | None) -> list[date]:
        return [d for d in paydays if start <= d and (end is None or d <= end)]

    def _fix_residual(self, payments: list[list], residual: int, step: int = 100):
        """Spread a residual of `residual` fen over H1-2024 payments, one `step` each (补发/扣减 of 1 元)."""
        rng = self.rng
        if residual == 0:
            return
        sign = 1 if residual > 0 else -1
        n = abs(residual) // step
        assert abs(residual) % step == 0
        idx = rng.permutation(len(payments))
        k = 0
        while n:
            p = payments[int(idx[k % len(idx)])]
            p[-1] += sign * step
            n -= 1
            k += 1

    def _dibao(self):
        """低保: 2059 households / 2911 persons paid in H1 2024, 1398.75 万元; 102 households enrolled after screening."""
        rng = self.rng
        paydays = _monthly_days(10)
        w = self.pop60 * np.array([1.3 if s in OLD_TOWN else 1.0 for s in self.csd])
        pre = (date(2012, 1, 1), date(2022, 12, 20))
        n0 = 1875
        groups = [
            (88, pre, (date(2023, 1, 10), date(2023, 12, 31)), 0),
            (37, pre, (H1_START + timedelta(days=9), H1_END), 0),
            (41, pre, (date(2024, 7, 10), DEMO_PERIOD_END), 0),
            (n0 - 88 - 37 - 41, pre, None, 0),
            (6, (date(2023, 1, 1), date(2023, 6, 30)), (date(2023, 3, 1), date(2023, 12, 31)), 0),
            (42, (date(2023, 1, 15), date(2023, 6, 30)), None, 42),
            (20, (date(2023, 1, 1), date(2023, 6, 30)), None, 0),
            (5, (date(2023, 7, 1), date(2023, 12, 31)), (date(2024, 1, 10), H1_END), 2),
            (50, (date(2023, 7, 1), date(2023, 12, 31)), None, 50),
            (17, (date(2023, 7, 1), date(2023, 12, 31)), None, 0),
            (3, (H1_START, date(2024, 6, 10)), (date(2024, 7, 10), DEMO_PERIOD_END), 0),
            (102, (H1_START, date(2024, 6, 10)), None, 102),
            (33, (H1_START, date(2024, 6, 10)), None, 0),
            (60, (date(2024, 7, 1), date(2024, 12, 10)), None, 60),
            (22, (date(2024, 7, 1), date(2024, 12, 10)), None, 0),
        ]
        hh = self._timeline(groups)
        sizes = rng.choice([1, 2, 3, 4], size=len(hh), p=[0.68, 0.21, 0.08, 0.03])
        h1_days = [d for d in paydays if H1_START <= d <= H1_END]
        paid_h1 = [i for i, h in enumerate(hh) if self._paid_days(h1_days, h["start"], h["end"])]
        assert len(paid_h1) == 2059, len(paid_h1)
        diff = 2911 - int(sizes[paid_h1].sum())
        while diff:
            i = self.pick(paid_h1)
            if diff > 0 and sizes[i] < 5:
                sizes[i] += 1
                diff -= 1
            elif diff < 0 and sizes[i] > 1:
                sizes[i] -= 1
                diff += 1
        raw = 950 * rng.uniform(0.72, 1.0, len(hh))
        person_months = np.array([sizes[i] * len(self._paid_days(h1_days, h["start"], h["end"]))
                                  for i, h in enumerate(hh)])
        per_person = np.round(raw * 13_987_500 / float((raw * person_months).sum())).astype(int)  # 元 per person-month
        rels = [("户主", 30, 80), ("配偶", 30, 80), ("子女", 1, 25), ("子女", 1, 25), ("父母", 70, 92)]
        june = []
        for i, h in enumerate(hh):
            ci = int(self.pick_comm(w))
            members = [rels[0]] + [rels[j] for j in range(1, sizes[i])] if sizes[i] <= 5 else [rels[0]]
            hid, pids, _ = self._household(ci, members, "DB")
            self._enrol("dibao", hid, pids, ci, h["start"], h["end"], h["screened"],
                        str(rng.choice(["低收入", "重病", "重残", "低保边缘", "支出型困难", "失业"])))
            h["hid"], h["pids"], h["ci"] = hid, pids, ci
            for d in self._paid_days(paydays, h["start"], h["end"]):
                amount = int(per_person[i]) if d >= H1_START else int(round(per_person[i] * 0.94))
                for pid in pids:
                    p = ["dibao", None, hid, pid, self.csd[ci], d, amount * 100]
                    self._payments.append(p)
                    if d == date(2024, 6, 10):
                        june.append(p)
        total = sum(p[-1] for p in self._payments if p[0] == "dibao" and H1_START <= p[5] <= H1_END)
        self._fix_residual(june, 1_398_750_000 - total)
        self.dibao_households = hh

    def _tekun(self):
        """特困: 164 persons paid in H1 2024, living + care subsidies 187 万元; 13 households after screening."""
        rng = self.rng
        paydays = _monthly_days(12)
        pre = (date(2010, 1, 1), date(2022, 12, 20))
        groups = [
            (9, pre, (date(2023, 1, 12), date(2023, 12, 31)), 0),
            (5, pre, (date(2024, 1, 12), H1_END), 0),
            (6, pre, (date(2024, 7, 12), DEMO_PERIOD_END), 0),
            (139 - 20, pre, None, 0),
            (1, (date(2023, 1, 1), date(2023, 5, 31)), (date(2023, 8, 1), date(2023, 12, 31)), 0),
            (6, (date(2023, 1, 15), date(2023, 6, 30)), None, 6),
            (7, (date(2023, 7, 1), date(2023, 12, 31)), None, 7),
            (4, (date(2023, 1, 1), date(2023, 12, 31)), None, 0),
            (13, (H1_START, date(2024, 6, 12)), None, 13),
            (4, (H1_START, date(2024, 6, 12)), None, 0),
            (8, (date(2024, 7, 1), date(2024, 12, 12)), None, 8),
            (3, (date(2024, 7, 1), date(2024, 12, 12)), None, 0),
        ]
        hh = self._timeline(groups)
        h1_days = [d for d in paydays if H1_START <= d <= H1_END]
        months = np.array([len(self._paid_days(h1_days, h["start"], h["end"])) for h in hh])
        assert int((months > 0).sum()) == 164, int((months > 0).sum())
        living = 1380
        level = rng.choice(3, size=len(hh), p=[0.40, 0.35, 0.25])
        care_raw = np.array([140.0, 550.0, 1100.0])[level] * rng.uniform(0.95, 1.05, len(hh))
        care_target = 1_870_000 - living * int(months.sum())
        care = np.round(care_raw * care_target / float((care_raw * months).sum())).astype(int)
        june = []
        w = self.pop60.astype(float)
        for i, h in enumerate(hh):
            ci = int(self.pick_comm(w))
            hid, pids, _ = self._household(ci, [("户主", 60, 92)], "TK")
            self._enrol("tekun", hid, pids, ci, h["start"], h["end"], h["screened"],
                        str(rng.choice(["重残", "重病", "高龄独居", "低收入"])))
            for d in self._paid_days(paydays, h["start"], h["end"]):
                factor = 1.0 if d >= H1_START else 0.94
                self._payments.append(["tekun", "living", hid, pids[0], self.csd[ci], d,
                                       int(round(living * factor)) * 100])
                p = ["tekun", "care", hid, pids[0], self.csd[ci], d, int(round(int(care[i]) * factor)) * 100]
                self._payments.append(p)
                if d == date(2024, 6, 12):
                    june.append(p)
        total = sum(p[-1] for p in self._payments if p[0] == "tekun" and H1_START <= p[5] <= H1_END)
        self._fix_residual(june, 187_000_000 - total)

    def _orphans(self):
        """孤儿和事实无人抚养儿童: 1,850 元 a month per child (2023: 1,750); 44.41 万元 in H1 2024."""
        rng = self.rng
        paydays = _monthly_days(15)
        pre = (date(2016, 1, 1), date(2022, 12, 1))
        groups = [
            (3, pre, (date(2023, 2, 1), date(2023, 12, 31)), 0),
            (1, pre, (date(2024, 2, 1), date(2024, 5, 31)), 0),
            (1, pre, (date(2024, 8, 1), DEMO_PERIOD_END), 0),
            (3, (date(2023, 3, 1), date(2023, 11, 30)), None, 0),
            (2, (date(2024, 2, 1), date(2024, 4, 30)), None, 0),
            (2, (date(2024, 8, 1), date(2024, 11, 30)), None, 0),
        ]
        hh = self._timeline(groups)
        h1_days = [d for d in paydays if H1_START <= d <= H1_END]
        months_other = sum(len(self._paid_days(h1_days, h["start"], h["end"])) for h in hh)
        target_yuan = 444_100
        stayers = (target_yuan - months_other * 1850) // (6 * 1850)
        hh += self._timeline([(stayers, pre, None, 0)])
        remainder = target_yuan - 1850 * sum(len(self._paid_days(h1_days, h["start"], h["end"])) for h in hh)
        extra_months, back_pay = divmod(remainder, 1850)
        if extra_months:  # one more child enrolled late in H1 2024
            hh.append(dict(start=date(2024, 7 - extra_months, 2), end=None, screened=False))
        w = self.pop60.astype(float)
        h1_payments = []
        for h in hh:
            ci = int(self.pick_comm(w))
            hid, pids, _ = self._household(ci, [("户主", 55, 80), ("孙子女", 3, 17)], "GE")
            self._enrol("orphan", hid, pids, ci, h["start"], h["end"], False, "困境儿童")
            for d in self._paid_days(paydays, h["start"], h["end"]):
                p = ["orphan", None, hid, pids[1], self.csd[ci], d, (1850 if d >= H1_START else 1750) * 100]
                self._payments.append(p)
                if H1_START <= d <= H1_END and h["start"] >= H1_START:
                    h1_payments.append(p)
        if back_pay:  # 补发 of a difference to the newest child
            p = h1_payments[-1]
            self._payments.append(["orphan", "back_pay", p[2], p[3], p[4], p[5], back_pay * 100])

    def _disability(self):
        """残疾人两项补贴: 生活补贴 110 元, 护理补贴 160/110 元 a month (2023: 100, 150/100); 222.22 万元 in H1 2024."""
        rng = self.rng
        paydays = _monthly_days(20)
        h1_days = [d for d in paydays if H1_START <= d <= H1_END]
        pre = (date(2014, 1, 1), date(2022, 12, 15))
        movers = self._timeline([
            (60, pre, (date(2023, 1, 20), date(2023, 12, 31)), 0),
            (30, pre, (date(2024, 1, 20), H1_END), 0),
            (32, pre, (date(2024, 7, 20), DEMO_PERIOD_END), 0),
            (90, (date(2023, 1, 1), date(2023, 12, 31)), None, 0),
            (48, (H1_START, date(2024, 6, 20)), None, 0),
            (50, (date(2024, 7, 1), date(2024, 12, 20)), None, 0),
        ])

        def kind():
            r = rng.random()
            care = 160 if rng.random() < 0.45 else 110
            return (110, 0) if r < 0.40 else ((0, care) if r < 0.75 else (110, care))

        people = [dict(h, amounts=kind()) for h in movers]
        remaining = 2_222_200 - sum(sum(p["amounts"]) * len(self._paid_days(h1_days, p["start"], p["end"]))
                                    for p in people)
        while True:
            amounts = kind()
            if 6 * sum(amounts) > remaining:
                break
            people.append(dict(start=self.rand_date(*pre), end=None, screened=False, amounts=amounts))
            remaining -= 6 * sum(amounts)
        # the remainder (under 1,620 元) is back pay (补发) to people enrolled in H1 2024
        order = rng.permutation(len(people))
        people = [people[int(i)] for i in order]
        w = self.pop60.astype(float)
        back_pay_to = []
        for p in people:
            ci = int(self.pick_comm(w))
            hid, pids, _ = self._household(ci, [("户主", 18, 88)], "CJ")
            self._enrol("disability", hid, pids, ci, p["start"], p["end"], False, "重残")
            life, care = p["amounts"]
            for d in self._paid_days(paydays, p["start"], p["end"]):
                old = d < H1_START
                if life:
                    self._payments.append(["disability", "living", hid, pids[0], self.csd[ci], d,
                                           (100 if old else life) * 100])
                if care:
                    self._payments.append(["disability", "care", hid, pids[0], self.csd[ci], d,
                                           ((150 if care == 160 else 100) if old else care) * 100])
            if H1_START <= p["start"] <= date(2024, 5, 31) and p["end"] is None:
                back_pay_to.append((hid, pids[0], self.csd[ci], p["start"]))
        k = 0
        while remaining > 0:
            hid, pid, sd, start = back_pay_to[k % len(back_pay_to)]
            amount = min(remaining, 200)
            paid = date(2024, 6, 20) if start > date(2024, 5, 20) else date(start.year, start.month + 1, 20)
            self._payments.append(["disability", "back_pay", hid, pid, sd, paid, amount * 100])
            remaining -= amount
            k += 1

    def _one_off(self, programme: str, plan: dict, levels: list[int], step: int):
        """临时救助 / 慈善救助: one-off payments to household heads, exact totals per half-year."""
        rng = self.rng
        w = self.pop60.astype(float)
        for key, (n, total) in plan.items():
            a, b = HALVES[key]
            amounts = rng.choice(levels, size=n)
            diff = total - int(amounts.sum())
            while diff:
                i = int(rng.integers(n))
                delta = step if diff > 0 else -step
                if amounts[i] + delta >= min(levels):
                    amounts[i] += delta
                    diff -= delta
            for amount in amounts.tolist():
                d = self.rand_weekday(a, min(b, SILENT_FROM - timedelta(days=1)))
                if rng.random() < 0.5:
                    h = self.pick(self._dibao_active(d))
                    hid, pid, ci = h["hid"], h["pids"][0], h["ci"]
                else:
                    ci = int(self.pick_comm(w))
                    size = int(rng.integers(1, 5))
                    members = [("户主", 25, 75), ("配偶", 25, 75), ("子女", 1, 25), ("子女", 1, 25)][:size]
                    hid, pids, _ = self._household(ci, members, "LS" if programme == "temporary" else "CS")
                    pid = pids[0]
                self._payments.append([programme, None, hid, pid, self.csd[ci], d, amount * 100])

    def _dibao_active(self, d: date) -> list[dict]:
        return [h for h in self.dibao_households if h["start"] <= d and (h["end"] is None or h["end"] >= d)]

    def _other_screenings(self):
        """主动摸排: 986 screenings in H1 2024 in all (those behind new enrolments included)."""
        rng = self.rng
        totals = {"2023H1": 820, "2023H2": 870, "2024H1": 986, "2024H2": 1040}
        have = Counter(_half_of(s["screened_on"]) for s in self._screenings)
        w = self.pop60.astype(float)
        for key, total in totals.items():
            a, b = HALVES[key]
            for _ in range(total - have.get(key, 0)):
                d = self.rand_weekday(a, b)
                if key == "2024H1" and rng.random() < 0.25:   # 社会救助政策宣传月 in May: door-to-door visits
                    d = self.rand_weekday(date(2024, 5, 1), date(2024, 5, 31))
                cat = self.pick(NINE_GROUPS)
                if rng.random() < 0.3:
                    h = self.pick(self._dibao_active(d))
                    head = self.t["aid_persons"][h["pids"][0] - 1]
                    self._screening(h["ci"], d, head["name"], head["id_number"], cat)
                else:
                    ci = int(self.pick_comm(w))
                    key_ = self.person(self.birth(8 if cat == "困境儿童" else 20, 17 if cat == "困境儿童" else 90),
                                       bool(rng.random() < 0.5)) if rng.random() < 0.9 else None
                    self._screening(ci, d, self.name(), key_, cat)

    # ---- marriage, funerals, training, enterprise
    def _civil_events(self):
        rng = self.rng
        plan = {
            "marriage_registration": (1203, 1087, 1141, 1058),
            "wedding_pledge": (602, 688, 809, 776),
            "collective_ceremony": (1, 2, 2, 2),
            "newlywed_class": (1, 1, 2, 2),
            "funeral_prompt_letter": (9, 8, 6, 5),
            "funeral_stopped": (7, 5, 6, 4),
            "social_worker_training": (0, 3, 4, 4),
        }
        local = {"marriage_registration", "wedding_pledge", "funeral_prompt_letter", "funeral_stopped"}
        special = {date(2023, 2, 14), date(2023, 5, 20), date(2023, 8, 22), date(2024, 2, 14), date(2024, 5, 20),
                   date(2024, 8, 10)}
        notes = {"collective_ceremony": "集体颁证活动", "newlywed_class": "“新婚护航”主题课堂",
                 "social_worker_training": "社工业务培训"}
        w = self.pop60.astype(float)
        sd_w = np.array([w[self.by_sd[s]].sum() for s in self.sd_codes])
        rows = []
        for kind, counts in plan.items():
            for key, n in zip(HALVES, counts):
                a, b = HALVES[key]
                days = np.arange(np.datetime64(a), np.datetime64(min(b, SILENT_FROM - timedelta(days=1))) + 1)
                wd = (days.astype("int64") - 4) % 7
                dl = _to_dates(days)
                p = np.where(wd >= 5, 0.05, 1.0) * np.array([8.0 if d in special else 1.0 for d in dl])
                if kind not in ("marriage_registration", "wedding_pledge"):
                    p = np.where(wd >= 5, 0.0, 1.0)
                chosen = np.sort(rng.choice(len(days), size=n, p=p / p.sum(), replace=kind in local))
                for j in chosen.tolist():
                    sd = None
                    if kind in local:
                        sd = self.sd_codes[int(rng.choice(len(self.sd_codes), p=sd_w / sd_w.sum()))]
                    rows.append((dl[j], kind, sd, notes.get(kind)))
        rows.append((date(2024, 10, 16), "leading_enterprise", None, "引进养老服务龙头企业：乙丁康养集团有限公司（虚构）"))
        rows.sort(key=lambda r: (r[0], r[1]))
        for d, kind, sd, note in rows:
            self.add("civil_events", kind=kind, happened_on=d, subdistrict_code=sd, note=note)

    def _aid_windows(self):
        rng = self.rng
        for s in self.sd_codes:
            self.add("aid_windows", name=f"{self.sd_name[s]}社会救助窗口", subdistrict_code=s, has_sign=True,
                     has_list_rack=True, has_leaflet_rack=True, has_intake_book=True,
                     demonstration=s in ("360103014", "360103001", "360103013"))
        comms = [int(i) for i in rng.choice([i for i in range(self.n) if self.kind[i] == "社区居委会"], size=20,
                                            replace=False)]
        for k, ci in enumerate(sorted(comms)):
            items = [True] * 4
            if k % 2 == 1 and k != 19:  # 9 of the 20 community windows lack one or two of the "four ones"
                for j in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
                    items[int(j)] = False
            self.add("aid_windows", name=f"{self.place[ci]}社会救助窗口", subdistrict_code=self.csd[ci],
                     has_sign=items[0], has_list_rack=items[1], has_leaflet_rack=items[2], has_intake_book=items[3],
                     demonstration=False)

    def _roundtable(self):
        rng = self.rng
        # (held_on, [resolved_on or None per issue])
        meetings = [
            (date(2023, 9, 14), [date(2023, 10, 20), date(2023, 11, 8), date(2023, 11, 30), date(2023, 12, 12),
                                 date(2023, 10, 9)]),
            (date(2023, 12, 14), [date(2023, 12, 28), date(2023, 12, 22), date(2024, 1, 19), date(2024, 2, 27),
                                  date(2024, 3, 15), date(2024, 8, 2)]),
            (date(2024, 3, 28), [date(2024, 4, 18), date(2024, 5, 10), date(2024, 5, 29), date(2024, 6, 14),
                                 date(2024, 9, 6), None]),
            (date(2024, 6, 20), [date(2024, 6, 27), date(2024, 6, 28), date(2024, 7, 30), date(2024, 10, 11), None]),
            (date(2024, 9, 26), [date(2024, 10, 24), date(2024, 11, 15), date(2024, 12, 6), None, None]),
            (date(2024, 12, 19), [date(2024, 12, 30), None, None, None]),
        ]
        topics = list(rng.permutation(ROUNDTABLE_TOPICS))
        k = 0
        for n, (held, resolved) in enumerate(meetings):
            q = (held.month - 1) // 3 + 1
            mid = self.add("roundtable_meetings", held_on=held, title=f"{held.year}年第{'一二三四'[q - 1]}季度康养产业“幸福圆桌会”",
                           attendees=int(rng.integers(22, 41)))
            for r in resolved:
                self.add("roundtable_issues", meeting_id=mid, raised_by=self.pick(ROUNDTABLE_RAISERS),
                         topic=str(topics[k % len(topics)]), resolved_on=r)
                k += 1


# --- writing replicas -------------------------------------------------------------------

def _targets(scale: int) -> list[dict]:
    base = date(2024, 1, 1)
    rows = [("key_facilities", "年度重点养老服务设施建设任务", date(2024, 12, 31), 8, "个", "F01", True),
            ("facility_coverage", "社区养老服务设施覆盖率", date(2025, 12, 31), 100, "%", "F04", False),
            ("leading_enterprise", "引进养老服务龙头企业", date(2024, 12, 31), 1, "家", "F07", True),
            ("meal_points", "助餐点位", date(2024, 12, 31), 68, "个", "F12", True),
            ("meal_coverage", "社区助餐服务覆盖率", date(2024, 12, 31), 65, "%", "F13", False),
            ("living_alone_visits_per_month", "独居老人每月巡访次数", date(2024, 12, 31), 2, "次", "F22", False),
            ("care_worker_certified", "养老护理员持证上岗率", date(2024, 12, 31), 100, "%", "F75", False),
            ("aid_window_items", "社会救助窗口“四个一”配置项", date(2024, 12, 31), 4, "项", "F76", False)]
    # counts grow with the number of replicas; rates and per-unit rules do not
    return [dict(id=i + 1, indicator=ind, name=name, baseline_date=base, deadline=dl,
                 value=float(v * scale if additive else v), unit=unit, figure_id=fid)
            for i, (ind, name, dl, v, unit, fid, additive) in enumerate(rows)]


class _Replicator:
    """Turn the generated district into replica k's rows (ids offset, codes/names suffixed, coordinates shifted)."""

    def __init__(self, district: _District):
        self.d = district
        self.counts = {t: len(rows) for t, rows in district.t.items()}
        self.alloc = _IdAllocator()

    def rows(self, k: int, ids: list[str]):
        dx, dy = (k % REPLICA_COLS) * REPLICA_DX, (k // REPLICA_COLS) * REPLICA_DY
        code_sfx, name_sfx = (f"-{k}", f"（副本{k}）") if k else ("", "")
        for table in TABLE_ORDER:
            spec, src = SPECS[table], self.d.t[table]
            id_off = k * self.counts[table]
            fk_off = {c: k * self.counts[ref] for c, ref in spec.fks.items()}
            out = []
            for row in src:
                r = dict(row)
                if k:
                    if spec.has_id:
                        r["id"] += id_off
                    for c, off in fk_off.items():
                        if r[c] is not None:
                            r[c] += off
                    for c in spec.codes:
                        if r[c] is not None:
                            r[c] = r[c] + code_sfx
                    for c in spec.names:
                        r[c] = r[c] + name_sfx
                    for lon_c, lat_c in spec.coords:
                        r[lon_c] = round(r[lon_c] + dx, 6)
                        r[lat_c] = round(r[lat_c] + dy, 6)
                for c in spec.id_numbers:
                    if r[c] is not None:
                        r[c] = ids[r[c]]
                if table == "subdistricts":
                    shifted = _shift_geometry(r["boundary_geojson"], dx, dy)
                    r["boundary_geojson"] = json.dumps(shifted, ensure_ascii=False)
                out.append(r)
            yield table, out

    def id_numbers(self) -> list[str]:
        return [self.alloc(born, male) for born, male in self.d.persons]


def _reset_sequences(conn) -> None:
    """PostgreSQL: move every serial sequence past the explicit ids written by the bulk insert."""
    for table in list(SPECS.values()) + [_Spec(m.Target)]:
        t = table.model.__table__
        if "id" not in t.c:
            continue
        seq = func.pg_get_serial_sequence(t.name, "id")
        top = select(func.max(t.c.id)).scalar_subquery()
        conn.execute(select(func.setval(seq, func.coalesce(top, 1), top.is_not(None))))


def build_demo(engine: Engine, scale: int = 1, seed: int = DEFAULT_SEED) -> dict:
    """Fill an empty database (latest schema) with `scale` replicas of the demo district; returns rows per table."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"演示数据倍数必须是 1–{MAX_SCALE} 之间的整数。")
    district = _District(seed).build()
    rep = _Replicator(district)
    counts: Counter = Counter()
    with engine.begin() as conn:
        for k in range(scale):
            for table, rows in rep.rows(k, rep.id_numbers()):
                ins = SPECS[table].model.__table__.insert()
                for i in range(0, len(rows), CHUNK):
                    conn.execute(ins, rows[i:i + CHUNK])
                counts[table] += len(rows)
        targets = _targets(scale)
        conn.execute(m.Target.__table__.insert(), targets)
        counts["targets"] += len(targets)
        now = datetime.now().replace(microsecond=0)
        meta = [dict(key=k, value=v, updated_at=now) for k, v in (("data_version", "1"), ("demo_scale", str(scale)),
                                                                  ("demo_seed", str(seed)),
                                                                  ("generated_at", now.isoformat()))]
        conn.execute(m.Meta.__table__.insert(), meta)
        counts["meta"] += len(meta)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    from data.demo import supervision  # the 2024 督办 and station history, read from the ledgers just written
    counts.update(supervision.build(engine, scale, seed))
    return dict(counts)
