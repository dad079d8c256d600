"""冻结季度数: the Roundtable presentation's figures for a quarter — live, frozen once reported, and the difference.

The presentation (pages/roundtable.py) and its .pptx (exports/roundtable_pptx.py) draw only from the frame
returned by `presentation_figures` (live) or `frozen_figures` (as reported), so a frozen quarter shows exactly the
numbers that were reported, with their as-of date and one-line 口径, even after late ledger corrections.
Only aggregates are in it: no name, ID or phone; per-subdistrict counts of people are suppressed at display.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from data.security.access import AccessDenied, Principal, query
from data.security.audit import record
from data.domain import headlines
from data.domain.figures import figure
from data.db.models import AID_PROGRAMMES, INSPECTION_SOURCES, Subdistrict
from data.db.models.frozen import FrozenFigure
from data.domain.period import Period, custom
from data.domain.units import percent_number
from data.queries import affairs, aid, facilities, findings
from data.queries.common import bump_data_version, frame

SUPPRESS_BELOW = 3  # counts of people below this, per subdistrict, are shown as "<3"

STEPS = {1: "设施布局", 2: "助餐覆盖", 3: "救助发放", 4: "整改进度", 5: "圆桌会议题"}
COLUMNS = ["step", "key", "name", "part", "label", "unit", "value", "definition", "suppressible"]


@dataclass(frozen=True)
class Spec:
    step: int
    label: str
    unit: str
    definition: str
    suppressible: bool = False  # a count of people or households in a small area


def _def(fid: str) -> str:
    return figure(fid).definition


SPECS: dict[str, Spec] = {
    "facilities_operating": Spec(1, "运营中养老服务设施", "个", "统计期末当日运营中（已开业且未关停）的各类养老服务设施数"),
    "key_planned": Spec(1, "年度重点建设任务", "个", _def("F01")),
    "key_built": Spec(1, "重点建设任务已建成运营", "个", _def("F02")),
    "facility_coverage": Spec(1, "社区养老服务设施覆盖率", "%",
                              "期末有运营中设施（位于本社区或助餐服务范围覆盖本社区）的社区 ÷ 社区总数"),
    "facilities_by_street": Spec(1, "运营中养老服务设施（按街道）", "个", "统计期末各街道运营中的各类养老服务设施数"),
    "meal_points": Spec(2, "已建成助餐点", "个", _def("F10")),
    "meal_coverage": Spec(2, "社区助餐服务覆盖率", "%", _def("F11")),
    "meals": Spec(2, "助餐份数", "份", "统计期内堂食与“幸福小蜜蜂”送餐份数之和"),
    "coverage_by_street": Spec(2, "助餐覆盖率（按街道）", "%", "各街道被期末运营中助餐点服务范围覆盖的社区 ÷ 该街道社区数"),
    "meal_points_by_street": Spec(2, "助餐点（按街道）", "个", "各街道统计期末运营中的社区助餐点数"),
    "aid_total": Spec(3, "救助发放总额", "万元", "发放日期在统计期内的各类社会救助发放金额之和（万元）"),
    "aid_amount": Spec(3, "救助发放金额", "万元", "发放日期在统计期内该项目的发放金额之和（万元）"),
    "aid_persons": Spec(3, "救助人数", "人", "发放日期在统计期内该项目发放记录中不同的人数"),
    "dibao_households_by_street": Spec(3, "低保户数（按街道）", "户",
                                       "发放日期在统计期内各街道低保发放记录中不同的家庭数；少于3户不显示", True),
    "findings_found": Spec(4, "查出问题", "个", "发现日期在统计期内的各类检查问题数"),
    "findings_rectified": Spec(4, "已整改", "个", "上述问题中整改完成日期不晚于统计期末的个数"),
    "findings_overdue": Spec(4, "逾期未整改", "个", headlines.headline("findings_overdue").definition),
    "rectification_rate": Spec(4, "整改率", "%", "已整改 ÷ 查出问题"),
    "found_by_source": Spec(4, "查出问题（按来源）", "个", "发现日期在统计期内、该来源的问题数"),
    "rectified_by_source": Spec(4, "已整改（按来源）", "个", "该来源问题中整改完成日期不晚于统计期末的个数"),
    "rt_meetings": Spec(5, "召开圆桌会", "次", _def("F73")),
    "rt_raised": Spec(5, "提出问题诉求", "个", "会议日期在统计期内的圆桌会上提出的问题诉求数"),
    "rt_resolved": Spec(5, "协调解决问题诉求", "个", _def("F74")),
    "rt_meetings_ytd": Spec(5, "年初以来召开圆桌会", "次", "会议日期在当年 1 月 1 日至统计期末的圆桌会次数（全区口径）"),
    "rt_resolved_ytd": Spec(5, "年初以来协调解决问题诉求", "个",
                            "解决日期在当年 1 月 1 日至统计期末的圆桌会问题诉求数（不论在哪次会议提出）"),
}


def split_key(key: str) -> tuple[str, str | None]:
    """'meal_coverage@360103001' → ('meal_coverage', '360103001'); 'aid_amount:dibao' → ('aid_amount', 'dibao')."""
    for sep in ("@", ":"):
        if sep in key:
            name, part = key.split(sep, 1)
            return name, part
    return key, None


def _row(rows: list, name: str, value, part: str | None = None, part_label: str | None = None, sep: str = "@"):
    s = SPECS[name]
    key = name if part is None else f"{name}{sep}{part}"
    label = s.label if part_label is None else part_label
    rows.append({"step": s.step, "key": key, "name": name, "part": part, "label": label, "unit": s.unit,
                 "value": None if value is None else float(value), "definition": s.definition,
                 "suppressible": s.suppressible})


def presentation_figures(engine: Engine, quarter: Period) -> pd.DataFrame:
    """The live figures of the five presentation views for the period (a quarter), district-wide, aggregates only."""
    on, rows = quarter.end, []
    names = dict(frame(engine, select(Subdistrict.code, Subdistrict.name).order_by(Subdistrict.code))
                 .itertuples(index=False, name=None))
    # 1 facility layout
    fac = facilities.facilities_on(engine, on)
    operating = fac[fac["status"] == "operating"]
    key = facilities.key_facilities(engine, on.year, on)
    _row(rows, "facilities_operating", len(operating))
    _row(rows, "key_planned", len(key))
    _row(rows, "key_built", int((key["status"] == "operating").sum()))
    _row(rows, "facility_coverage", facilities.facility_coverage_rate(engine, on) * 100)
    per_street = operating.groupby("subdistrict_code").size().to_dict()
    for code, name in names.items():
        _row(rows, "facilities_by_street", per_street.get(code, 0), code, name)
    # 2 meal coverage
    meals = facilities.meals_served(engine, quarter)
    _row(rows, "meal_points", facilities.meal_points_operating(engine, on))
    _row(rows, "meal_coverage", facilities.meal_coverage_rate(engine, on) * 100)
    _row(rows, "meals", int(meals["dine_in"].sum() + meals["delivered"].sum()) if len(meals) else 0)
    cov = facilities.coverage_by_subdistrict(engine, on)
    for r in cov.itertuples():
        _row(rows, "coverage_by_street", r.coverage_rate * 100, r.subdistrict_code, r.subdistrict_name)
    for r in cov.itertuples():
        _row(rows, "meal_points_by_street", r.meal_points, r.subdistrict_code, r.subdistrict_name)
    # 3 aid
    totals = aid.aid_totals(engine, quarter)
    _row(rows, "aid_total", round(int(totals["amount_fen"].sum()) / 1_000_000, 2))
    for r in totals.itertuples():
        _row(rows, "aid_amount", r.amount_wan, r.programme, AID_PROGRAMMES.get(r.programme, r.name), sep=":")
    for r in totals.itertuples():
        _row(rows, "aid_persons", r.persons, r.programme, AID_PROGRAMMES.get(r.programme, r.name), sep=":")
    for r in aid.aid_by_subdistrict(engine, quarter, programme="dibao").itertuples():
        _row(rows, "dibao_households_by_street", r.households, r.subdistrict_code, r.subdistrict_name)
    # 4 rectification
    s = findings.findings_summary(engine, quarter)
    _row(rows, "findings_found", s["found"])
    _row(rows, "findings_rectified", s["rectified"])
    _row(rows, "findings_overdue", headlines.headline("findings_overdue").value(engine, quarter, None, None))
    _row(rows, "rectification_rate", s["rectification_rate"] * 100)
    by_source = findings.findings_by_source(engine, quarter)
    for r in by_source.itertuples():
        _row(rows, "found_by_source", r.found, r.source, INSPECTION_SOURCES.get(r.source, r.source), sep=":")
    for r in by_source.itertuples():
        _row(rows, "rectified_by_source", r.rectified, r.source, INSPECTION_SOURCES.get(r.source, r.source), sep=":")
    # 5 roundtable
    rt = affairs.roundtable(engine, quarter)
    ytd = affairs.roundtable(engine, custom(on.replace(month=1, day=1), on))
    _row(rows, "rt_meetings", rt["meetings"])
    _row(rows, "rt_raised", rt["issues_raised"])
    _row(rows, "rt_resolved", rt["issues_resolved"])
    _row(rows, "rt_meetings_ytd", ytd["meetings"])
    _row(rows, "rt_resolved_ytd", ytd["issues_resolved"])
    return pd.DataFrame(rows, columns=COLUMNS)


# --- freezing -----------------------------------------------------------------------------------------

class AlreadyFrozen(ValueError):
    """The period is frozen already; the message is Chinese."""


def freeze(engine: Engine, principal: Principal, quarter: Period, frozen_by: str | None = None, *,
           as_of: date | None = None, replace: bool = False, now: datetime | None = None) -> int:
    """冻结: store the period's live presentation figures as reported; returns the number of figures stored.

    Only roles that may freeze (局领导, 业务科室: `principal.can_freeze`) may; anyone else gets AccessDenied.
    `frozen_by` is the name recorded with the figures (default: the principal's display name). Refuses a period
    already frozen unless replace=True (then the old figures are replaced in the same transaction). Audited
    ("freeze") and the data version bumped in the same transaction; a re-freeze's entry carries the figures, as-of
    date, 冻结人 and time it replaced (before) beside the new ones (after). A re-freeze that would store exactly what
    is frozen (same figures, as-of date and 冻结人) is refused (AlreadyFrozen): nothing written, no audit entry.
    A role that may not freeze is refused (AccessDenied), and the refusal audited once."""
    from data.writes.edits import audited_refusal  # the edit path's one refusal audit (data.writes.edits imports this package)

    with audited_refusal(engine, principal, "freeze", f"frozen_figures:{quarter.key}", {"period": quarter.key}):
        if not principal.can_freeze:
            raise AccessDenied(f"{principal.role_label}账号不能冻结季度数据（仅局领导、业务科室可以冻结）。")
    frozen_by = (frozen_by if frozen_by is not None else (principal.display_name or principal.username)).strip()
    if not frozen_by:
        raise ValueError("请填写冻结人。")
    live = presentation_figures(engine, quarter)
    now = now or datetime.now()
    as_of = as_of or now.date()
    new_values = {r.key: r.value for r in live.itertuples()}
    with engine.begin() as conn:
        old = conn.execute(select(FrozenFigure.figure_key, FrozenFigure.value, FrozenFigure.as_of,
                                  FrozenFigure.frozen_by, FrozenFigure.frozen_at)
                           .where(FrozenFigure.period_key == quarter.key).order_by(FrozenFigure.id)).all()
        exists = bool(old)
        if exists and not replace:
            raise AlreadyFrozen(f"{quarter.label}的数据已冻结；如需重新冻结，请先确认替换原冻结数。")
        before = None
        changes = {}
        if exists:
            old_values = {k: None if v is None else float(v) for k, v, *_ in old}
            before = {"as_of": _iso_day(old[0].as_of), "frozen_by": old[0].frozen_by,
                      "frozen_at": _iso_time(old[0].frozen_at), "figures": len(old)}
            changes = {k: {"before": old_values.get(k), "after": new_values.get(k)}
                       for k in dict.fromkeys([*old_values, *new_values])
                       if k not in old_values or k not in new_values or not _same(old_values[k], new_values[k])}
            if not changes and before["as_of"] == as_of.isoformat() and before["frozen_by"] == frozen_by:
                raise AlreadyFrozen(f"{quarter.label}的冻结数与当前实时数、截至日期和冻结人完全相同，无需重新冻结。")
        conn.execute(delete(FrozenFigure).where(FrozenFigure.period_key == quarter.key))
        conn.execute(insert(FrozenFigure), [
            {"period_key": quarter.key, "figure_key": r.key, "label": r.label, "value": r.value, "unit": r.unit,
             "definition": r.definition, "as_of": as_of, "frozen_by": frozen_by, "frozen_at": now}
            for r in live.itertuples()])
        record(conn, principal, "freeze", f"frozen_figures:{quarter.key}",
               {"period": quarter.key, "as_of": as_of.isoformat(), "frozen_by": frozen_by, "replaced": exists,
                "figures": len(live), "before": before,
                "after": {"as_of": as_of.isoformat(), "frozen_by": frozen_by, "frozen_at": _iso_time(now),
                          "figures": len(live)},
                # the figures whose frozen value this changed (a re-freeze), each with its old and new value
                "changes": changes})
        bump_data_version(conn)
    return len(live)


def _iso_day(v) -> str | None:
    return None if v is None else (v.isoformat() if isinstance(v, date) else str(v)[:10])


def _iso_time(v) -> str | None:
    return None if v is None else (v.isoformat(sep=" ", timespec="seconds") if isinstance(v, datetime) else str(v))


def _same(a, b) -> bool:
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return (a is None or pd.isna(a)) and (b is None or pd.isna(b))
    return abs(float(a) - float(b)) <= 1e-9


def unfreeze(engine: Engine, quarter: Period, principal: Principal | None = None) -> int:
    """解除冻结: delete the period's frozen figures (bumps the data version); returns how many were deleted.
    Audited ("freeze", op "unfreeze") with what was frozen (before), by `principal` (None: the command line)."""
    with engine.begin() as conn:
        old = conn.execute(select(FrozenFigure.figure_key, FrozenFigure.value, FrozenFigure.as_of,
                                  FrozenFigure.frozen_by, FrozenFigure.frozen_at)
                           .where(FrozenFigure.period_key == quarter.key).order_by(FrozenFigure.id)).all()
        if not old:
            return 0
        n = conn.execute(delete(FrozenFigure).where(FrozenFigure.period_key == quarter.key)).rowcount
        record(conn, principal or "system", "freeze", f"frozen_figures:{quarter.key}",
               {"period": quarter.key, "op": "unfreeze",
                "before": {"as_of": _iso_day(old[0].as_of), "frozen_by": old[0].frozen_by,
                           "frozen_at": _iso_time(old[0].frozen_at), "figures": len(old),
                           "values": {k: None if v is None else float(v) for k, v, *_ in old}},
                "after": None})
        bump_data_version(conn)
    return int(n or 0)


def frozen_info(engine: Engine, quarter: Period) -> dict | None:
    """When and by whom the period was frozen, and the as-of date; None when it is not frozen."""
    stmt = (select(FrozenFigure.as_of, FrozenFigure.frozen_by, FrozenFigure.frozen_at)
            .where(FrozenFigure.period_key == quarter.key).limit(1))
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    as_of = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0])[:10])
    return {"as_of": as_of, "frozen_by": row[1], "frozen_at": row[2]}


def frozen_figures(engine: Engine, quarter: Period) -> pd.DataFrame:
    """The period's figures as frozen, in the same shape as presentation_figures (empty when not frozen)."""
    df = frame(engine, select(FrozenFigure.figure_key, FrozenFigure.label, FrozenFigure.value, FrozenFigure.unit,
                              FrozenFigure.definition)
               .where(FrozenFigure.period_key == quarter.key).order_by(FrozenFigure.id))
    rows = []
    for key, label, value, unit, definition in df.itertuples(index=False, name=None):
        name, part = split_key(key)
        spec = SPECS.get(name)
        rows.append({"step": spec.step if spec else 0, "key": key, "name": name, "part": part, "label": label,
                     "unit": unit, "value": None if value is None or pd.isna(value) else float(value),
                     "definition": definition, "suppressible": bool(spec and spec.suppressible)})
    return pd.DataFrame(rows, columns=COLUMNS)


@query(scope="district")
def compare(engine: Engine, quarter: Period) -> pd.DataFrame:
    """实时与冻结对比: every figure with its live value, frozen value and the difference (live − frozen)."""
    live = presentation_figures(engine, quarter)
    frozen = frozen_figures(engine, quarter)[["key", "value"]].rename(columns={"value": "frozen"})
    out = live.rename(columns={"value": "live"}).merge(frozen, on="key", how="left")
    out["difference"] = [None if pd.isna(f) else round(lv - f, 4) for lv, f in zip(out["live"], out["frozen"])]
    out["changed"] = [d is not None and abs(d) > 1e-9 for d in out["difference"]]
    return out


@query(scope="district")
def comparison_table(engine: Engine, quarter: Period) -> pd.DataFrame:
    """实时数与冻结数对比表, as staff read it: page, figure, unit, live and frozen values written as presented (small
    counts of people suppressed) and the difference — one row per figure, formatted once per data version."""
    cmp = compare(engine, quarter)
    return pd.DataFrame({
        "页": [STEPS.get(s, "") for s in cmp["step"]], "指标": cmp["label"], "单位": cmp["unit"],
        "实时数": [fmt_value(v, u, s) for v, u, s in zip(cmp["live"], cmp["unit"], cmp["suppressible"])],
        "冻结数": [fmt_value(v, u, s) for v, u, s in zip(cmp["frozen"], cmp["unit"], cmp["suppressible"])],
        "差额（实时−冻结）": ["—" if d is None or pd.isna(d) or (s and (is_suppressed(lv, s) or is_suppressed(fv, s)))
                       else f"{d:+,.2f}".rstrip("0").rstrip(".") for d, s, lv, fv in
                       zip(cmp["difference"], cmp["suppressible"], cmp["live"], cmp["frozen"])]})


@query(scope="district")
def figures_for_display(engine: Engine, quarter: Period) -> tuple[pd.DataFrame, dict | None]:
    """What the presentation shows: the frozen figures when the period is frozen, else the live ones."""
    info = frozen_info(engine, quarter)
    return (frozen_figures(engine, quarter) if info else presentation_figures(engine, quarter)), info


# --- display --------------------------------------------------------------------------------------------

def is_suppressed(value, suppressible: bool, threshold: int = SUPPRESS_BELOW) -> bool:
    return bool(suppressible) and value is not None and 0 < float(value) < threshold


def fmt_value(value, unit: str, suppressible: bool = False, threshold: int = SUPPRESS_BELOW) -> str:
    """How a presentation figure is written: 57.0% (units.percent_number), 1,398.75万元, 47个; small counts of people as "<3"."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if is_suppressed(value, suppressible, threshold):
        return f"<{threshold}"
    if unit == "%":
        return percent_number(value) + "%"
    if unit == "万元":
        return f"{value:,.2f}万元"
    return f"{int(round(value)):,}{unit}"


def value_of(figs: pd.DataFrame, key: str):
    hit = figs.loc[figs["key"] == key, "value"]
    return None if hit.empty else hit.iloc[0]


def series(figs: pd.DataFrame, name: str) -> pd.DataFrame:
    """The per-part rows of one figure (by subdistrict, programme or source): part, label, value, suppressible."""
    return figs[figs["name"] == name][["part", "label", "value", "unit", "suppressible"]].reset_index(drop=True)
