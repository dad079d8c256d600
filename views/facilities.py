"""设施布局: the page model — every facility as on a chosen day by kind and status, one subdistrict's when one is
selected, bubbles per subdistrict at province scale; the facility card; the status edit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.db.models import FACILITY_KINDS, FACILITY_STATUSES
from data.domain import period as periods
from data.queries import facilities as fq
from data.queries import geography
from data.queries import maps as mq
from data.security.access import AccessDenied, Reader, call
from data.writes import edits
from views import map_scale
from views.headline import Metric

KINDS, STATUSES = FACILITY_KINDS, FACILITY_STATUSES
SHOWN_STATUSES = ["operating", "building", "planned"]
_POINT_COLUMNS = ["id", "name", "kind", "status", "subdistrict_code", "lon", "lat"]
_TABLE_COLUMNS = {"name": "设施名称", "kind_name": "类型", "status_name": "状态", "subdistrict_name": "街道",
                  "community_name": "社区", "operator": "运营方", "capacity": "床位/餐位（个）", "opened_on": "开业日期",
                  "address": "地址"}


@dataclass(frozen=True)
class FacilitiesPage:
    on: date
    selected: str | None          # the sidebar's subdistrict or the one selected on the map
    names: dict[str, str]         # subdistrict code → name
    aggregate: bool               # province scale, nothing chosen: bubbles per subdistrict instead of points
    counts: pd.DataFrame | None   # per subdistrict, kind and status (aggregate only)
    points: pd.DataFrame          # the facilities on the map (what a click can hit)
    shown: pd.DataFrame           # the same with last month's meals of each meal point
    scope: pd.DataFrame | None    # the facilities of the figures, table and edit (None when aggregate)
    communities: pd.DataFrame | None
    boundaries: pd.DataFrame
    last_month_label: str         # e.g. 2024年6月
    kpis: tuple[Metric, ...]
    table: pd.DataFrame           # 设施清单, or the counts per subdistrict when aggregate


def _kpis(scope: pd.DataFrame | None, counts: pd.DataFrame | None, where: str) -> tuple[Metric, ...]:
    if scope is not None:
        by_status = scope["status"].value_counts()
        meal = int(((scope["kind"] == "meal_point") & (scope["status"] == "operating")).sum())
    else:
        by_status = counts.groupby("status")["n"].sum()
        meal = int(counts[(counts["kind"] == "meal_point") & (counts["status"] == "operating")]["n"].sum())
    return (Metric("运营中的设施", f"{int(by_status.get('operating', 0)):,} 处", None, f"{where}：截至所选日期已开业、未关停"),
            Metric("其中助餐点", f"{meal:,} 个", None, "运营中的社区助餐点"),
            Metric("建设中", f"{int(by_status.get('building', 0)):,} 处", None, "已开工、未开业"),
            Metric("规划中", f"{int(by_status.get('planned', 0)):,} 处", None, "已列入规划、未开工"))


def count_table(counts: pd.DataFrame) -> pd.DataFrame:
    t = counts.pivot_table(index=["code", "name"], columns="kind", values="n", aggfunc="sum", fill_value=0)
    t = t.rename(columns=FACILITY_KINDS).reset_index().rename(columns={"code": "街道代码", "name": "街道"})
    t["合计"] = t.drop(columns=["街道代码", "街道"]).sum(axis=1)
    return t


def facility_table(df: pd.DataFrame) -> pd.DataFrame:
    out = df[[c for c in _TABLE_COLUMNS if c in df.columns]].rename(columns=_TABLE_COLUMNS)
    return out.sort_values(["类型", "设施名称"]) if len(out) else out


def build(reader: Reader, on: date, street: str | None, kinds: tuple, statuses: tuple, selected: str | None,
          scope_name: str) -> FacilitiesPage:
    """The facilities as on `on` of the kinds and statuses asked; `selected`: the map's (or sidebar's) subdistrict."""
    names = reader.q(geography.subdistrict_names)
    size = reader.q(mq.counts)
    big = size["facilities"] > map_scale.AGGREGATE_FACILITIES_ABOVE  # province scale: one subdistrict at a time
    load_street = street or (selected if big else None)
    counts = None
    if big and load_street is None:
        counts = reader.q(mq.facility_counts_by_subdistrict, on, None, kinds=kinds, statuses=statuses)
        points = pd.DataFrame(columns=_POINT_COLUMNS)
    else:
        every = reader.q(fq.facilities_on, on, load_street, kinds=kinds)
        points = every[every["status"].isin(statuses)].reset_index(drop=True)
    aggregate = counts is not None
    scope = None if aggregate else (points[points["subdistrict_code"] == selected] if selected else points)
    near = selected or size["communities"] <= map_scale.MAX_COMMUNITY_POINTS
    last_first, _ = mq.last_complete_month(on)
    shown = points
    if not aggregate and len(points) and (points["kind"] == "meal_point").any():
        meals = reader.q(fq.meals_by_point, periods.containing("month", last_first), load_street)
        shown = points.merge(meals.assign(meals_last_month=meals["dine_in"] + meals["delivered"])[
            ["id", "meals_last_month"]], on="id", how="left")
    # too many subdistricts to outline and one chosen: its outline only (the rule of 救助发放 and 助餐覆盖)
    outlined = selected if selected and len(names) > map_scale.MAX_MAP_SUBDISTRICTS else None
    return FacilitiesPage(
        on=on, selected=selected, names=names, aggregate=aggregate, counts=counts, points=points, shown=shown,
        scope=scope, communities=reader.q(geography.communities, selected) if near else None,
        boundaries=reader.q(geography.subdistrict_boundaries, outlined),
        last_month_label=f"{last_first.year}年{last_first.month}月",
        kpis=_kpis(scope, counts, names.get(selected, "") if selected else scope_name),
        table=count_table(counts) if aggregate else facility_table(scope),
    )


# --- the facility card ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FacilityCard:
    name: str
    fields: tuple[tuple[str, str], ...]   # (label, shown value)
    meals: Metric | None                  # a meal point's last complete month, when it was open
    note: str | None                      # a meal point not yet open then


def card(reader: Reader, facility_id: int, on: date) -> FacilityCard | None:
    """设施卡片 of a clicked facility as on `on` (None when it is gone)."""
    c = reader.q(mq.facility_card, facility_id, on)
    if not c:
        return None
    rows = [("类型", c["kind_name"]), ("状态", c["status_name"]), ("街道", c["subdistrict_name"]),
            ("社区", c.get("community_name")), ("运营方", c.get("operator")),
            ("餐位" if c["kind"] == "meal_point" else "床位", c.get("capacity")),
            ("开业日期", c.get("opened_on")), ("地址", c.get("address"))]
    fields = tuple((label, "—" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value))
                   for label, value in rows)
    meals = note = None
    if c["kind"] == "meal_point":
        m = c["last_month"]
        if c["served_last_month"]:
            meals = Metric(f"{m.year}年{m.month}月助餐", f"{c['meals']:,} 份", None,
                           f"堂食 {c['meals_dine_in']:,} 份，送餐（幸福小蜜蜂）{c['meals_delivered']:,} 份")
        else:
            note = f"{m.year}年{m.month}月底尚未开业，没有助餐记录。"
    return FacilityCard(name=c["name"], fields=fields, meals=meals, note=note)


# --- 修改设施状态 -------------------------------------------------------------------------------------------

def edit_choices(reader: Reader, scope: pd.DataFrame) -> dict[int, str]:
    """The facilities of the current filter the principal may edit (a 街道 account: its own subdistrict's)."""
    who = reader.principal
    own = scope[[who.may_write_street(c) for c in scope["subdistrict_code"]]]
    return {int(r.id): f"{r.name}（{r.kind_name}，{r.subdistrict_name}，{r.status_name}）"
            for r in own.itertuples(index=False)}


def out_of_filter_label(record: dict) -> str:
    return (f"{record['name']}（{record['kind_name']}，{record['subdistrict_name']}，{record['status_name']}，"
            "不在当前筛选中）")


def for_edit(reader: Reader, facility_id: int) -> tuple[dict | None, str | None]:
    """(the facility as it is now, or None; the refusal when the principal may not read it). Read uncached: the
    form needs the current version."""
    try:
        return call(reader.principal, edits.facility_for_edit, reader.engine, facility_id,
                    audit_refusals=True), None  # a refused page read is audited, as every one
    except AccessDenied as exc:
        return None, str(exc)


def editable(reader: Reader, facility_id: int) -> dict | None:
    """The facility when it exists and the principal may change it, else None."""
    record, _ = for_edit(reader, facility_id)
    return record if record is not None and reader.principal.may_write_street(record["subdistrict_code"]) else None


def save_status(reader: Reader, facility_id: int, version: int, values: dict) -> dict:
    """修改设施状态 (开工 / 开业 / 关停日期) as the reader's principal; raises EditError / StaleEdit / AccessDenied."""
    return edits.update_facility_status(reader.engine, reader.principal, facility_id, version, **values)
