"""总览: the headline figures of a period beside the previous period, composed from the domain queries."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Engine

from data.queries.access import query
from data.domain.period import Period
from data.queries import affairs, aid, facilities, findings, services


def _values(engine: Engine, period: Period, street: str | None) -> dict:
    summary = findings.findings_summary(engine, period, street)
    return {
        "meal_points": facilities.meal_points_operating(engine, period.end, street),
        "meal_coverage": facilities.meal_coverage_rate(engine, period.end, street),
        "meals": facilities.meals_total(engine, period, street),
        "home_visits": services.home_service_visits(engine, period, street),
        "living_alone_visits": services.living_alone_visits(engine, period, street),
        "aid_fen": aid.aid_overall(engine, period, street)["amount_fen"],
        "findings_found": summary["found"],
        "findings_overdue": summary["overdue"],
    }


HEADLINES = [
    # key, label, unit, definition (口径), whether a rise is bad
    ("meal_points", "运营助餐点", "个", "统计期末正在运营的社区助餐点数", False),
    ("meal_coverage", "助餐社区覆盖率", "%", "统计期末有运营助餐点服务（在其服务范围内）的社区占全部社区的比例", False),
    ("meals", "助餐份数", "份", "统计期内堂食与“幸福小蜜蜂”送餐份数之和", False),
    ("home_visits", "居家上门服务", "人次", "统计期内80周岁两小时、五类人群、家庭养老床位上门服务人次", False),
    ("living_alone_visits", "独居老人巡访", "人次", "统计期内对独居老人的巡访、探访人次", False),
    ("aid_fen", "救助发放总额", "万元", "统计期内各类社会救助发放金额之和", False),
    ("findings_found", "新发现问题", "个", "统计期内各类检查发现的问题数", True),
    ("findings_overdue", "逾期未整改", "个", "统计期末已过整改期限且仍未整改的问题数", True),
]


@query(scope="street")
def headline(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """One row per headline: key, label, unit, value, previous (the period before), definition, rise_is_bad."""
    now, before = _values(engine, period, street), _values(engine, period.previous(), street)
    rows = [{"key": k, "label": label, "unit": unit, "value": now[k], "previous": before[k], "definition": d,
             "rise_is_bad": bad} for k, label, unit, d, bad in HEADLINES]
    return pd.DataFrame(rows)


def _indicator_values(engine: Engine, on) -> dict:
    return {
        "meal_points": facilities.meal_points_operating(engine, on),
        "meal_coverage": facilities.meal_coverage_rate(engine, on) * 100,
        "facility_coverage": facilities.facility_coverage_rate(engine, on) * 100,
        "care_worker_certified": affairs.care_worker_certified_rate(engine, on) * 100,
    }


@query(scope="district")
def targets_progress(engine: Engine, on) -> pd.DataFrame:
    """Targets that have a measurable indicator, with the value on `on` and at the target's baseline date."""
    t = affairs.targets(engine)
    current = _indicator_values(engine, on)
    t = t[t["indicator"].isin(list(current))].copy().reset_index(drop=True)
    if t.empty:
        return t.assign(current=[], baseline_value=[])
    t["current"] = t["indicator"].map(current)
    t["baseline_value"] = [_indicator_values(engine, b - timedelta(days=1))[i]
                           for i, b in zip(t["indicator"], pd.to_datetime(t["baseline_date"]).dt.date)]
    return t
