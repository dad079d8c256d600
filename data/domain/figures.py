"""口径登记: every figure of the 2024 first-half work report (F01–F76), its definition, wording and computation.

Each figure is computed only through the named queries of data.queries, so a page, an export and a test
all show the same number. `compute(engine, period, street=None)` returns a dict of named values; `render`
fills the figure's wording in the report's own words (money in 万元 with two decimals, shares as whole %).

Several figures read the same query (F40/F42 the aid totals, F50–F52 the discovery counts, F11/F13 the
community coverage, every target figure the targets table, …). Inside `shared_queries()` — which compute_all
and data.domain.report.report_rows open — each named query runs once per distinct arguments and its result is reused;
outside it every call goes to the database as before. Results are shared, so figure code must not mutate them.
"""
from __future__ import annotations

import inspect
import string
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import SAFETY_SOURCES
from data.domain.period import Period, custom
from data.queries import affairs, aid, facilities, findings, services
from data.domain.targets import pace
from data.domain.units import fen_to_wan, pct, percent_number

# --- one run of each named query per computation (see the module docstring) ----------------------------

_MEMO: ContextVar[dict | None] = ContextVar("figures_shared_queries", default=None)


@contextmanager
def shared_queries():
    """Within the block, each named query called through the registry runs once per distinct arguments (the result
    is reused). Nested blocks share the outermost one; the memo is dropped when the outermost block ends."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _frozen(value):
    """A hashable stand-in for an argument (lists and sets of a query's options become tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(_frozen(v) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


class _Shared:
    """A query module whose functions go through the memo of shared_queries() when one is open. Arguments are
    bound to the function's signature with defaults filled, so f(e, day) and f(e, day, None) are one call."""

    def __init__(self, module):
        self._module = module
        self._calls: dict[str, Callable] = {}

    def __getattr__(self, name: str):
        call = self._calls.get(name)
        if call is None:
            fn = getattr(self._module, name)
            if not callable(fn):
                return fn
            sig = inspect.signature(fn)

            def call(engine, *args, _fn=fn, _sig=sig, **kwargs):
                memo = _MEMO.get()
                if memo is None:
                    return _fn(engine, *args, **kwargs)
                bound = _sig.bind(engine, *args, **kwargs)
                bound.apply_defaults()
                try:
                    key = (_fn.__module__, _fn.__qualname__, id(engine),
                           _frozen([(k, v) for k, v in bound.arguments.items() if v is not engine]))
                    hash(key)
                except TypeError:  # an argument that cannot be a key: no sharing for this call
                    return _fn(engine, *args, **kwargs)
                if key not in memo:
                    memo[key] = _fn(engine, *args, **kwargs)
                result = memo[key]
                return dict(result) if isinstance(result, dict) else result  # a figure may extend a returned dict

            self._calls[name] = call
        return call


_affairs, _aid, _facilities, _findings, _services = (_Shared(m) for m in (affairs, aid, facilities, findings,
                                                                           services))


SECTIONS = ("养老服务体系", "助餐", "居家上门服务", "安全监管", "三资监管", "社会救助", "慈善", "主动发现", "婚丧习俗",
            "民政服务站", "圆桌会")
PAGES = ("facilities", "meal_coverage", "aid", "rectification", "overview")


@dataclass(frozen=True)
class Figure:
    id: str
    section: str
    name: str
    unit: str
    wording: str          # the report's sentence with {placeholders}; see render()
    definition: str       # 口径, one line
    compute: Callable     # (engine, period, street=None) -> dict of named values
    page: str             # slug of the page that shows its detail
    by_street: bool = True  # False: a district-level figure, the street filter does not apply (district value shown)


# --- helpers ---------------------------------------------------------------------------------

def _whole(x) -> int:
    return int(Decimal(str(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _num(v):
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _target_row(engine: Engine, indicator: str, on: date) -> dict | None:
    """affairs.target(engine, indicator, on), picked from the targets table read once (data.queries.affairs.targets)
    instead of once per indicator; the same rule: the earliest deadline on or after `on`, else the latest."""
    df = _affairs.targets(engine)
    df = df[df["indicator"] == indicator].sort_values("deadline")
    if df.empty:
        return None
    ahead = df[df["deadline"] >= on]
    return (ahead if not ahead.empty else df.tail(1)).iloc[0].to_dict()


def _target(engine: Engine, indicator: str, period: Period, value: float,
            value_on: Callable[[date], float] | None = None, **extra) -> dict:
    """A target row and the progress at the period's end (in the target's unit); pace status when value_on is given."""
    row = _target_row(engine, indicator, period.end)
    out = {"target": None, "unit": None, "deadline": None, "progress": value, "status": None, **extra}
    if row is None:
        return out
    out.update(target=_num(float(row["value"])), unit=row["unit"], deadline=row["deadline"])
    if value_on is not None:
        p = pace(row, value, value_on(row["baseline_date"]), period.end)
        out["status"] = p.status
    else:
        out["status"] = "已达成" if value >= float(row["value"]) else "未达成"
    return out


def _amount(programme: str, subtypes=None):
    def compute(engine, period, street=None):
        return {"amount_fen": _aid.aid_amount(engine, period, street, programme=programme, subtypes=subtypes)}
    return compute


def _events(engine, period, street=None, *, kind: str) -> int:
    """affairs.civil_event_count, read from the per-kind counts of the period (affairs.civil_event_counts, the same
    definition): one query serves every kind the report reads for that period and street."""
    counts = _affairs.civil_event_counts(engine, period, street)
    return int(dict(zip(counts["kind"], counts["count"])).get(kind, 0))


def _event(key: str, kind: str):
    def compute(engine, period, street=None):
        return {key: _events(engine, period, street, kind=kind)}
    return compute


# --- 养老服务体系 -----------------------------------------------------------------------------------

def _f01(engine, period, street=None):
    df = _facilities.key_facilities(engine, period.end.year, period.end, street)
    counts = df["kind"].value_counts()
    return {"total": len(df), "embedded_nursing_home": int(counts.get("embedded_nursing_home", 0)),
            "home_care_center": int(counts.get("home_care_center", 0)), "meal_point": int(counts.get("meal_point", 0))}


def _f02(engine, period, street=None):
    df = _facilities.key_facilities(engine, period.end.year, period.end, street)
    operating = int((df["status"] == "operating").sum())
    return {"operating": operating, "total": len(df), "pending": len(df) - operating}


def _f03(engine, period, street=None):
    return {"institutions": len(_facilities.safety_supervised_institutions(engine, period.end, street))}


def _f04(engine, period, street=None):
    value = _facilities.facility_coverage_rate(engine, period.end, street) * 100
    return _target(engine, "facility_coverage", period, value,
                   lambda d: _facilities.facility_coverage_rate(engine, d, street) * 100)


def _f05(engine, period, street=None):
    df = _facilities.reserve_projects(engine, period.end, street, kinds=["embedded_nursing_home"], public_only=True)
    return {"reserve": len(df)}


def _f06(engine, period, street=None):
    df = _facilities.facilities_by_plan_year(engine, period.end.year, period.end, street, kinds=["day_care_center"])
    return {"day_care_centers": len(df), "operating": int((df["status"] == "operating").sum())}


def _enterprises(engine, day: date) -> int:
    return _events(engine, custom(date(day.year, 1, 1), day), kind="leading_enterprise")


def _f07(engine, period, street=None):
    return _target(engine, "leading_enterprise", period, _enterprises(engine, period.end),
                   lambda d: _enterprises(engine, d))


# --- 助餐 ---------------------------------------------------------------------------------------------

def _f10(engine, period, street=None):
    return {"meal_points": _facilities.meal_points_operating(engine, period.end, street)}


def _f11(engine, period, street=None):
    covered, n = _facilities.meal_coverage_counts(engine, period.end, street)
    return {"covered": covered, "communities": n, "rate": covered / n if n else 0.0}


def _f12(engine, period, street=None):
    return _target(engine, "meal_points", period, _facilities.meal_points_operating(engine, period.end),
                   lambda d: _facilities.meal_points_operating(engine, d))


def _meal_coverage_rate(engine, day: date, street=None) -> float:
    """facilities.meal_coverage_rate, from the (shared) community counts F11 reads too."""
    covered, n = _facilities.meal_coverage_counts(engine, day, street)
    return float(covered / n) if n else 0.0


def _f13(engine, period, street=None):
    return _target(engine, "meal_coverage", period, _meal_coverage_rate(engine, period.end, street) * 100,
                   lambda d: _meal_coverage_rate(engine, d, street) * 100)


def _f14(engine, period, street=None):
    meals = _facilities.meals_served(engine, period, street)
    return {"delivered": int(meals["delivered"].sum()) if len(meals) else 0,
            "delivery_points": _facilities.delivery_points_operating(engine, period.end, street)}


def _f15(engine, period, street=None):
    df = _facilities.showcase_meal_points(engine, period.end, street)
    return {"names": list(df["name"]), "count": len(df)}


# --- 居家上门服务 --------------------------------------------------------------------------------------

def _f20(engine, period, street=None):
    by_type = _services.home_service_visits_by_type(engine, period, street)
    return {"visits": _services.home_service_visits(engine, period, street),
            **{t: int(v) for t, v in zip(by_type["service_type"], by_type["visits"])}}


def _f21(engine, period, street=None):
    return {"elders": _services.living_alone_roster_count(engine, period.end, street)}


def _f22(engine, period, street=None):
    by_month = _services.living_alone_visits_by_month(engine, period, street)
    roster_months = int(by_month["roster"].sum())
    per_elder = float(by_month["visits"].sum()) / roster_months if roster_months else 0.0
    last = period.months()[-1]
    # counted per subdistrict in SQL: the same rows as the personal compliance list, no person read
    compliance = _services.visit_compliance_by_subdistrict(engine, custom(last, period.end), street)
    roster = int(compliance["roster"].sum())
    return _target(engine, "living_alone_visits_per_month", period, per_elder,
                   below_target_last_month=roster - int(compliance["compliant"].sum()), roster_last_month=roster)


def _f23(engine, period, street=None):
    return {"visits": _services.living_alone_visits(engine, period, street)}


# --- 安全监管 / 三资监管 --------------------------------------------------------------------------------

def _f30(engine, period, street=None):
    return {"inspections": _findings.inspections_count(engine, period, street, ("joint_safety",)),
            "institutions": len(_facilities.safety_supervised_institutions(engine, period.end, street))}


def _f31(engine, period, street=None):
    return {"inspections": _findings.inspections_count(engine, period, street, ("inspection_group",))}


def _f32(engine, period, street=None):
    return {"found": _findings.findings_summary(engine, period, street, SAFETY_SOURCES)["found"]}


def _f33(engine, period, street=None):
    s = _findings.findings_summary(engine, period, street, SAFETY_SOURCES)
    return {"rectified": s["rectified"], "found": s["found"], "open": s["open"], "overdue": s["overdue"],
            "rate": s["rectification_rate"]}


def _f34(engine, period, street=None):
    return {"found": _findings.findings_summary(engine, period, street, ("sanzi",))["found"]}


def _f35(engine, period, street=None):
    s = _findings.findings_summary(engine, period, street, ("sanzi",))
    return {"rectified": s["rectified"], "found": s["found"], "open": s["open"], "overdue": s["overdue"],
            "rate": s["rectification_rate"]}


def _f36(engine, period, street=None):
    return {"referred": _findings.findings_summary(engine, period, street, ("sanzi",))["referred"]}


def _f37(engine, period, street=None):
    return {"villages": _findings.asset_verifications_count(engine, period, street)}


# --- 社会救助 / 慈善 / 主动发现 ---------------------------------------------------------------------------

def _programme_row(engine, period, street, programme):
    df = _aid.aid_totals(engine, period, street)
    return df[df["programme"] == programme].iloc[0]


def _f40(engine, period, street=None):
    row = _programme_row(engine, period, street, "dibao")
    return {"households": int(row["households"]), "persons": int(row["persons"])}


def _f42(engine, period, street=None):
    return {"persons": int(_programme_row(engine, period, street, "tekun")["persons"])}


def _f50(engine, period, street=None):
    return {"screened": _aid.proactive_discovery(engine, period, street)["screened"]}


def _f51(engine, period, street=None):
    return {"households": _aid.proactive_discovery(engine, period, street)["dibao_households"]}


def _f52(engine, period, street=None):
    return {"households": _aid.proactive_discovery(engine, period, street)["tekun_households"]}


# --- 婚丧习俗 / 民政服务站 / 圆桌会 ------------------------------------------------------------------------

def _f62(engine, period, street=None):
    return {"ceremonies": _events(engine, period, kind="collective_ceremony"),
            "classes": _events(engine, period, kind="newlywed_class")}


def _f70(engine, period, street=None):
    return _affairs.service_station_counts(engine, period.end, street)


def _f71(engine, period, street=None):
    return {"social_workers": _affairs.social_workers_active(engine, period.end, street)}


def _f72(engine, period, street=None):
    return {"trainings": _events(engine, period, kind="social_worker_training")}


def _f73(engine, period, street=None):
    return {"meetings": _affairs.roundtable(engine, period)["meetings"]}


def _f74(engine, period, street=None):
    r = _affairs.roundtable(engine, period)
    return {"resolved": r["issues_resolved"], "raised": r["issues_raised"]}


def _f75(engine, period, street=None):
    s = _affairs.care_workers_status(engine, period.end, street)
    return _target(engine, "care_worker_certified", period, s["rate"] * 100,
                   lambda d: _affairs.care_worker_certified_rate(engine, d, street) * 100,
                   active=s["active"], certified=s["certified"])


def _f76(engine, period, street=None):
    windows = _affairs.aid_windows(engine, street)
    complete = int(windows["complete"].sum()) if len(windows) else 0
    out = _target(engine, "aid_window_items", period, _affairs.aid_window_compliance(engine, period.end, street) * 100,
                  windows=len(windows), complete=complete)
    out["status"] = "已达成" if len(windows) and complete == len(windows) else "未达成"
    return out


# --- the registry -----------------------------------------------------------------------------------

F = Figure
FIGURES: list[Figure] = [
    F("F01", "养老服务体系", "年度重点建设养老服务设施", "个",
      "重点打造{embedded_nursing_home}个社区嵌入式养老院、{home_care_center}个社区居家养老服务中心、{meal_point}个社区助餐服务点",
      "设施中列为重点建设项目、计划建设年度为统计期末所在年度的个数，按设施类型分列", _f01, "facilities"),
    F("F02", "养老服务体系", "重点建设任务已建成运营", "个",
      "{operating}个重点建设任务已建成并投入运营，{pending}个尚未投入运营",
      "F01 所列重点设施中，统计期末当日处于运营状态（开业日期不晚于期末且未关停）的个数", _f02, "facilities"),
    F("F03", "养老服务体系", "安全监管养老机构", "家", "对{institutions}家养老机构开展安全监管",
      "纳入安全监管、统计期末当日运营中的设施数（区福利院、嵌入式养老院和养老机构）", _f03, "facilities"),
    F("F04", "养老服务体系", "社区养老服务设施覆盖率（目标）", "%",
      "{deadline:year}年社区养老服务设施覆盖率达到{target}%（统计期末{progress:pctv}%）",
      "目标取自目标表“社区养老服务设施覆盖率”；进度 = 期末有运营中设施（位于本社区或助餐服务范围覆盖本社区）的社区 ÷ 社区总数",
      _f04, "facilities"),
    F("F05", "养老服务体系", "公办嵌入式养老院储备项目", "个", "谋划建设{reserve}所公办嵌入式养老院，纳入区储备项目",
      "类型为社区嵌入式养老院、公办且列为储备项目、统计期末尚未开业的设施数", _f05, "facilities"),
    F("F06", "养老服务体系", "区福利院日间照料中心", "个", "完成区福利院日间照料中心建设项目{day_care_centers}个，年内投入使用",
      "类型为日间照料中心、计划建设年度为统计期末所在年度的设施数", _f06, "facilities"),
    F("F07", "养老服务体系", "引进养老服务龙头企业（目标）", "家", "至少引进{target}家养老服务龙头企业（已引进{progress}家）",
      "目标取自目标表“引进养老服务龙头企业”；进度 = 统计期末所在年度 1 月 1 日至期末的“引进养老服务龙头企业”事务件数",
      _f07, "facilities", by_street=False),
    F("F10", "助餐", "已建成助餐点", "家", "目前已建成{meal_points}家",
      "类型为社区助餐点、统计期末当日运营中（开业日期不晚于期末，且未关停或关停日期晚于期末）的设施数", _f10, "meal_coverage"),
    F("F11", "助餐", "社区助餐服务覆盖率", "%", "社区服务覆盖率{rate:pct}%",
      "社区（村）中处于至少一个期末运营中助餐点登记服务范围内的个数 ÷ 社区（村）总数，报告取整数百分比", _f11,
      "meal_coverage"),
    F("F12", "助餐", "助餐点位（目标）", "家", "全区助餐点位达到{target}家（统计期末{progress}家）",
      "目标取自目标表“助餐点位”；进度 = 统计期末运营中助餐点数（全区口径）", _f12, "meal_coverage", by_street=False),
    F("F13", "助餐", "助餐服务覆盖率（目标）", "%", "服务覆盖率达到{target}%以上（统计期末{progress:pctv}%）",
      "目标取自目标表“助餐服务覆盖率”；进度 = 统计期末社区助餐服务覆盖率（同 F11）", _f13, "meal_coverage"),
    F("F14", "助餐", "“幸福小蜜蜂”送餐", "人次", "“幸福小蜜蜂”送餐服务：{delivery_points}个助餐点提供送餐，送餐{delivered}人次",
      "统计期内助餐记录送餐份数之和；期末运营中且提供送餐的助餐点数", _f14, "meal_coverage"),
    F("F15", "助餐", "参观示范助餐点", "个", "{names:list}作为参观点位之一",
      "列为示范参观点、统计期末运营中的助餐点名称", _f15, "meal_coverage"),
    F("F20", "居家上门服务", "居家上门服务人次", "人次",
      "开展80周岁两小时上门服务、“五类人群”上门服务和“家庭养老床位建设”上门服务{visits}人次",
      "服务日期在统计期内的居家上门服务记录数（三类服务合计）", _f20, "overview"),
    F("F21", "居家上门服务", "独居老人巡访名册", "人", "对{elders}名独居老人进行走访",
      "统计期末在册独居老人数（纳入名册日期不晚于期末，且未退出或退出日期晚于期末）", _f21, "overview"),
    F("F22", "居家上门服务", "独居老人每月巡访次数（规定）", "次", "各街道每月不低于{target}次（统计期内平均每人每月{progress:.2f}次）",
      "规定取自目标表“独居老人每月巡访次数”；进度 = 期内巡访人次 ÷ 各月月末在册人数之和；另列期末月份不足两次的人数",
      _f22, "overview"),
    F("F23", "居家上门服务", "巡访、探访独居老人人次", "人次", "共巡访、探访独居老人{visits}人次",
      "服务日期在统计期内的独居老人巡访、探访记录数", _f23, "overview"),
    F("F30", "安全监管", "安全生产联合大检查", "次", "对{institutions}家养老机构开展{inspections}次安全生产联合大检查",
      "来源为联合大检查、检查日期在统计期内的检查次数", _f30, "rectification"),
    F("F31", "安全监管", "检查组安全检查", "次", "区民政局组成四个检查组定期下到挂点街道开展安全检查{inspections}次",
      "来源为局检查组、检查日期在统计期内的检查次数", _f31, "rectification"),
    F("F32", "安全监管", "安全检查查出问题", "个", "查出问题{found}个",
      "来源为联合大检查或局检查组、发现日期在统计期内的问题数", _f32, "rectification"),
    F("F33", "安全监管", "安全检查问题整改", "个", "已整改{rectified}个，整改率{rate:pct}%",
      "F32 所列问题中 整改完成日期不晚于统计期末的个数", _f33, "rectification"),
    F("F34", "三资监管", "“三资”监督查出问题", "条", "目前查出问题{found}条",
      "来源为农村集体“三资”监督、发现日期在统计期内的问题数", _f34, "rectification"),
    F("F35", "三资监管", "“三资”问题整改", "条", "已整改{rectified}条",
      "F34 所列问题中 整改完成日期不晚于统计期末的条数", _f35, "rectification"),
    F("F36", "三资监管", "移送纪检部门线索", "条", "移送纪检部门线索{referred}条",
      "F34 所列问题中 已移送纪检部门的条数", _f36, "rectification"),
    F("F37", "三资监管", "完成清产核资的村", "个", "完成{villages}个村清产核资工作",
      "完成日期在统计期内有清产核资记录的村委会个数（去重）", _f37, "rectification"),
    F("F40", "社会救助", "低保保障户数、人数", "户/人", "低保保障{households}户{persons}人",
      "发放日期在统计期内的低保发放记录中不同的家庭数、不同的人数", _f40, "aid"),
    F("F41", "社会救助", "发放低保金", "万元", "发放低保金{amount_fen:wan}万元",
      "发放日期在统计期内的低保发放金额之和（以万元计，保留两位小数）", _amount("dibao"), "aid"),
    F("F42", "社会救助", "供养特困人员", "人", "供养特困人员{persons}人",
      "发放日期在统计期内的特困供养发放记录中不同的人数", _f42, "aid"),
    F("F43", "社会救助", "特困人员生活补贴、护理补贴", "万元", "发放生活补贴、护理补贴{amount_fen:wan}万元",
      "发放日期在统计期内、子类为生活补贴或护理补贴的特困发放金额之和", _amount("tekun", ("living", "care")), "aid"),
    F("F44", "社会救助", "临时救助金", "万元", "临时救助金{amount_fen:wan}万元",
      "发放日期在统计期内的临时救助发放金额之和", _amount("temporary"), "aid"),
    F("F45", "社会救助", "孤儿和事实无人抚养儿童基本生活保障金", "万元",
      "发放孤儿和事实无人抚养儿童基本生活保障金{amount_fen:wan}万元",
      "发放日期在统计期内的孤儿和事实无人抚养儿童基本生活保障发放金额之和", _amount("orphan"), "aid"),
    F("F46", "社会救助", "残疾人两项补贴", "万元", "残疾人两项补贴{amount_fen:wan}万元",
      "发放日期在统计期内的残疾人两项补贴（生活补贴、护理补贴，含补发）发放金额之和", _amount("disability"), "aid"),
    F("F47", "慈善", "慈善应急和人道救助", "万元", "开展应急救助与人道救助，发放救助款{amount_fen:wan}万元",
      "发放日期在统计期内的区慈善会救助发放金额之和", _amount("charity"), "aid"),
    F("F50", "主动发现", "主动摸排人次", "人次", "开展主动摸排{screened}人次",
      "摸排日期在统计期内的“九类”重点人员入户摸排记录数", _f50, "aid"),
    F("F51", "主动发现", "摸排后纳入低保", "户", "纳入低保{households}户",
      "由入户摸排发现、纳入日期在统计期内的低保纳入记录的家庭数", _f51, "aid"),
    F("F52", "主动发现", "摸排后纳入特困", "户", "特困{households}户",
      "由入户摸排发现、纳入日期在统计期内的特困纳入记录的家庭数", _f52, "aid"),
    F("F60", "婚丧习俗", "婚姻登记业务", "件", "办理婚姻登记业务{registrations}件",
      "办理日期在统计期内的婚姻登记业务记录数", _event("registrations", "marriage_registration"), "overview"),
    F("F61", "婚丧习俗", "婚事新办承诺书", "份", "引导新人签订婚事新办承诺书{pledges}份",
      "办理日期在统计期内的婚事新办承诺书记录数", _event("pledges", "wedding_pledge"), "overview"),
    F("F62", "婚丧习俗", "集体颁证活动、“新婚护航”主题课堂", "场",
      "举行集体颁证活动{ceremonies}场、“新婚护航”主题课堂{classes}场",
      "办理日期在统计期内的集体颁证活动、主题课堂场次（全区口径）", _f62, "overview", by_street=False),
    F("F63", "婚丧习俗", "占道殡葬提示函", "件", "发出提示函{letters}件",
      "办理日期在统计期内的占道殡葬提示函记录数", _event("letters", "funeral_prompt_letter"), "overview"),
    F("F64", "婚丧习俗", "阻止不文明丧俗", "起", "阻止不文明丧俗{stopped}起",
      "办理日期在统计期内的阻止不文明丧俗记录数", _event("stopped", "funeral_stopped"), "overview"),
    F("F70", "民政服务站", "民政服务站", "个", "设立区级民政服务总站{district}个和{subdistrict}个街道民政服务站",
      "设立日期不晚于统计期末的民政服务站数，按区级总站、街道站分列", _f70, "overview"),
    F("F71", "民政服务站", "驻站社工", "名", "配备{social_workers}名驻站社工",
      "统计期末在岗（上岗日期不晚于期末，且未离岗或离岗日期晚于期末）的驻站社工数", _f71, "overview"),
    F("F72", "民政服务站", "社工业务培训", "次", "组织社工业务培训{trainings}次",
      "办理日期在统计期内的社工业务培训场次（全区口径）", _f72, "overview", by_street=False),
    F("F73", "圆桌会", "康养产业“幸福圆桌会”", "次", "召开{meetings}次康养产业“幸福圆桌会”",
      "会议日期在统计期内的圆桌会次数（全区口径）", _f73, "overview", by_street=False),
    F("F74", "圆桌会", "圆桌会协调解决问题诉求", "个", "协调解决问题诉求{resolved}个",
      "解决日期在统计期内的圆桌会问题诉求数（不论在哪次会议提出）", _f74, "overview", by_street=False),
    F("F75", "养老服务体系", "养老护理员持证上岗率（目标）", "%", "力争持证上岗率达到{target}%（统计期末{progress:pctv}%）",
      "目标取自目标表“养老护理员持证上岗率”；进度 = 期末已取得证书的在岗护理员 ÷ 期末在岗护理员", _f75, "facilities"),
    F("F76", "社会救助", "救助窗口“四个一”（标准）", "项",
      "按照“四个一”要求（每个窗口{target}项）规范设置社会救助窗口（目前四项齐全的窗口占{progress:pctv}%）",
      "标准取自目标表“救助窗口‘四个一’”；进度 = 四项齐全的救助窗口 ÷ 救助窗口总数", _f76, "aid"),
]
_BY_ID = {f.id: f for f in FIGURES}


def figure(id: str) -> Figure:
    """The registered figure with this id (F01 …)."""
    try:
        return _BY_ID[id]
    except KeyError:
        raise KeyError(f"没有编号为 {id} 的指标。") from None


_lookup = figure


class _Formatter(string.Formatter):
    """Format specs of the wording: wan (分 → 万元, 2 decimals), pct (a share) and pctv (a percent) with units.pct's
    precision, int (round half up),
    list (joined with 、), year (a date's year); anything else is Python's own."""

    def format_field(self, value, spec):
        if value is None:
            return "—"
        if spec == "wan":  # the report's style: 1398.75, 19.79, but 187 and 6 (no ".00")
            text = f"{fen_to_wan(value):.2f}"
            return text[:-3] if text.endswith(".00") else text
        if spec == "pct":  # a share, written as every percentage is (units.pct: 57.0)
            return pct(value)[:-1]
        if spec == "pctv":  # a value already in percent, the same precision
            return percent_number(value)
        if spec == "int":
            return str(_whole(value))
        if spec == "list":
            return "、".join(str(v) for v in value) if value else "（无）"
        if spec == "year":
            return str(value.year)
        if not spec and isinstance(value, float):
            value = _num(round(value, 2))
        return super().format_field(value, spec)


def render(figure: Figure | str, values: dict) -> str:
    """The figure's wording filled with its values, e.g. 低保保障2059户2911人, 发放低保金1398.75万元."""
    fig = _lookup(figure) if isinstance(figure, str) else figure
    return _Formatter().format(fig.wording, **values)


@query(scope="district")
def compute_all(engine: Engine, period: Period, street: str | None = None) -> list[dict]:
    """Every figure for the period: id, section, name, unit, page, definition, values, the rendered text.
    Each named query runs once (shared_queries), however many figures read it."""
    out = []
    with shared_queries():
        for fig in FIGURES:
            values = fig.compute(engine, period, street if fig.by_street else None)
            out.append({"id": fig.id, "section": fig.section, "name": fig.name, "unit": fig.unit,
                        "page": fig.page, "definition": fig.definition, "by_street": fig.by_street,
                        "values": values, "text": render(fig, values)})
    return out
