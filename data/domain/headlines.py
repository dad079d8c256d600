"""口径登记（页面头条）: the headline figures several screens and documents show — 逾期未整改, 整改率, 助餐覆盖率,
救助发放总额, 新开助餐点, 巡访人次 … — each with exactly one definition and one function.

总览, 整改进度, 周度研判 and the Word weekly review read these through `headline_values` (a named query), so one
figure is one number wherever it appears. A headline is either a flow (counted over the period: 统计期内) or a stock
(its state on the period's last day: 截至期末); `as_of` says which, in the words a card shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from sqlalchemy.engine import Engine

from data.domain.period import Period
from data.domain.units import show_change, show_number
from data.queries import aid, facilities, findings, services
from data.security.access import query


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    unit: str            # 个 / 份 / 人次 / 万元 (kept in 分) / % (kept as a share 0–1)
    definition: str      # 口径, in the bureau's words
    stock: bool          # True: the state at the period's end; False: counted over the period
    value: Callable      # (engine, period, street, sources) -> number
    rise_is_bad: bool = False

    def as_of(self, period: Period) -> str:
        """截至2024年12月31日 (a stock) or 2024年12月1日至31日 (a flow)."""
        if self.stock:
            return f"截至{day(period.end)}"
        return f"{day(period.start)}至{day(period.end)}"

    def show(self, value, money_unit: bool = False) -> str:
        return show_number(self.unit, value, money_unit)

    def change(self, now, before) -> str | None:
        return show_change(self.unit, now, before)


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _overdue(engine, period, street, sources):
    return findings.overdue_count(engine, period.end, street, sources)


def _rate(engine, period, street, sources):
    return findings.findings_summary(engine, period, street, sources)["rectification_rate"]


def _found(engine, period, street, sources):
    return findings.findings_summary(engine, period, street, sources)["found"]


H = Headline
HEADLINES: dict[str, Headline] = {h.key: h for h in [
    H("meal_points", "运营助餐点", "个", "期末正在运营的社区助餐点数", True,
      lambda e, p, s, src: facilities.meal_points_operating(e, p.end, s)),
    H("meal_coverage", "助餐社区覆盖率", "%", "期末处在至少一个运营中助餐点服务范围内的社区占全部社区的比例", True,
      lambda e, p, s, src: facilities.meal_coverage_rate(e, p.end, s)),
    H("meals", "助餐份数", "份", "统计期内堂食与“幸福小蜜蜂”送餐份数之和", False,
      lambda e, p, s, src: facilities.meals_total(e, p, s)),
    H("meal_points_opened", "新开助餐点", "个", "统计期内开业的社区助餐点数", False,
      lambda e, p, s, src: facilities.meal_points_opened(e, p, s)),
    H("home_visits", "居家上门服务", "人次", "统计期内80周岁两小时、五类人群、家庭养老床位上门服务人次", False,
      lambda e, p, s, src: services.home_service_visits(e, p, s)),
    H("living_alone_visits", "独居老人巡访", "人次", "统计期内对独居老人的巡访、探访人次", False,
      lambda e, p, s, src: services.living_alone_visits(e, p, s)),
    H("aid_fen", "救助发放总额", "万元", "统计期内各类社会救助发放金额之和", False,
      lambda e, p, s, src: aid.aid_amount_all(e, p, s)),
    H("findings_found", "新发现问题", "个", "统计期内各类检查发现的问题数", False, _found, rise_is_bad=True),
    H("findings_closed", "完成整改问题", "个", "统计期内完成整改的问题数（不论何时发现）", False,
      lambda e, p, s, src: findings.rectified_count(e, p, s, src)),
    H("rectification_rate", "整改率", "%", "统计期内发现的问题中，期末前已完成整改的比例", True, _rate),
    H("findings_overdue", "逾期未整改", "个",
      "期末仍未整改且已过整改期限的问题数（不论在哪个统计期发现）", True, _overdue, rise_is_bad=True),
]}


def headline(key: str) -> Headline:
    """The registered headline with this key."""
    return HEADLINES[key]


@query(scope="street")
def headline_values(engine: Engine, period: Period, street: str | None = None, keys=None, sources=None) -> dict:
    """The value of each headline (all when keys is None) for the period: {key: number}; money in 分, rates 0–1."""
    return {k: HEADLINES[k].value(engine, period, street, sources) for k in (keys or HEADLINES)}
