"""督办 page model: the orders as they stood on a day (filtered by level, unit and status), counts by unit and level,
the map of open orders, one order's detail with the steps the user may take, the items of the week that could become
orders, the street account's inbox and the weekly review's 督办 summary. No Streamlit.

The display role gets counts only (no order, no text, no name); a 街道 account gets its own subdistrict's orders
(the query layer forces it). Writes go through data.writes.supervision as the reader's principal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from data.domain.units import pct
from data.domain import supervision as rules
from data.domain.period import Period, latest_complete
from data.queries import geography
from data.queries import supervision as sq
from data.queries import weekly
from data.security.access import AccessDenied, Reader
from data.writes import supervision as writes
from data.writes import edits
from views import map_scale

STATUSES = rules.STATUSES
LEVELS = rules.LEVELS
LEVEL_ORDER = rules.LEVEL_ORDER
SOURCES = rules.SOURCES
STEPS = rules.STEPS
UNIT_KINDS = rules.UNIT_KINDS
SCORE_PARTS = rules.SCORE_PARTS
SETTING_LABELS = rules.SETTING_LABELS
Settings = rules.Settings
Evidence = writes.Evidence
EditError, StaleEdit = edits.EditError, edits.StaleEdit  # what a refused write raises (the components catch them)
MAX_FILES = writes.MAX_FILES
OTHER_UNITS = sq.OTHER_UNITS
DEFAULT_DAYS = 7  # a drafted order is due a week after it is issued


@dataclass(frozen=True)
class MapModel:
    """What the map of open orders by subdistrict needs (drawn on the DistrictMap frame)."""
    boundaries: pd.DataFrame
    values: pd.DataFrame            # code, value (open orders)
    details: dict                   # code → lines of text


@dataclass(frozen=True)
class Inbox:
    """A 街道 account's own inbox: what it must sign, what is due soon, overdue, returned, waiting for review."""
    to_sign: int
    due_soon: int
    overdue: int
    returned: int
    waiting: int
    worst: str | None
    items: pd.DataFrame

    @property
    def headline(self) -> str:
        return (f"待签收 {self.to_sign} 件 · 即将到期 {self.due_soon} 件 · 已逾期 {self.overdue} 件 · "
                f"被退回 {self.returned} 件 · 待复查 {self.waiting} 件")


@dataclass(frozen=True)
class SupervisionPage:
    on: date
    counts_only: bool               # 展示: counts and levels only
    can_issue: bool
    street_locked: str | None
    table: pd.DataFrame             # the orders shown (Chinese headers), empty for the display role
    ids: list                       # order id of each row of `table`
    codes: list
    level_counts: dict              # level → open orders
    status_counts: dict
    by_unit: pd.DataFrame           # Chinese headers
    unit_choices: list
    map: MapModel | None
    inbox: Inbox | None
    settings: rules.Settings
    note: str = ""


def _days(n) -> str:
    return "—" if n is None or pd.isna(n) else str(int(n))


def default_day(reader: Reader, last_data_day: date | None, today: date | None = None) -> date:
    """The day the page reads the orders on: the later of the last day with ledger records and the last day an order
    (of the reader's scope) moved, never after today."""
    today = today or date.today()
    moved = reader.q(sq.last_activity, None)
    days = [d for d in (last_data_day, moved) if d is not None]
    return min(max(days), today) if days else today


def order_table(df: pd.DataFrame) -> pd.DataFrame:
    """The order list as the page and its Excel show it."""
    return pd.DataFrame({
        "编号": df["code"], "预警": df["level_name"].replace("", "—"), "状态": df["status_name"],
        "督办事项": df["title"], "来源": df["source_name"], "责任单位": df["unit_name"], "责任人": df["assignee"],
        "派单日期": [d.isoformat() for d in df["issued_on"]], "整改期限": [d.isoformat() for d in df["deadline"]],
        "剩余天数": df["days_left"], "退回次数": df["returned"], "预警原因": df["reason"].replace("", "—")})


def unit_table(counts: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "责任单位": counts["unit"], "督办单": counts["issued"], "未办结": counts["open"], "待签收": counts["pending"],
        "整改中": counts["working"], "已反馈": counts["reported"], "退回": counts["returned_now"],
        "已复查/办结": counts["done"], "蓝": counts["blue"], "黄": counts["yellow"], "橙": counts["orange"],
        "红": counts["red"], "逾期占比": [pct(float(s)) for s in counts["overdue_share"]],
        "街道红色预警": ["是" if r else "" for r in counts["red_unit"]]})


def _map(reader: Reader, counts: pd.DataFrame, street: str | None) -> MapModel | None:
    """Open orders per subdistrict on the map (none at province scale unless one subdistrict is chosen)."""
    names = reader.q(geography.subdistrict_names)
    if len(names) > map_scale.MAX_MAP_SUBDISTRICTS and street is None:
        return None
    sub = counts[counts["subdistrict_code"].notna()]
    details = {c: [f"未办结 {o} 件：蓝 {b}、黄 {y}、橙 {a}、红 {r}"] + (["街道红色预警：逾期占比超过阈值"] if red else [])
               for c, o, b, y, a, r, red in zip(sub["subdistrict_code"], sub["open"], sub["blue"], sub["yellow"],
                                                sub["orange"], sub["red"], sub["red_unit"])}
    return MapModel(boundaries=reader.q(geography.subdistrict_boundaries, street),
                    values=pd.DataFrame({"code": sub["subdistrict_code"], "value": sub["open"].astype(float)}),
                    details=details)


def build(reader: Reader, *, on: date, street: str | None = None, levels=(), units=(), statuses=(),
          with_map: bool = True) -> SupervisionPage:
    """The 督办 page on day `on` for the sidebar's subdistrict (`street`), filtered by warning level (keys of LEVELS,
    "none" for no warning), responsible unit (labels of `unit_choices`) and status (keys of STATUSES)."""
    who = reader.principal
    settings = reader.q(sq.supervision_settings)
    counts_only = who.role == "display"
    every = None if counts_only else reader.q(sq.orders, on, street)
    # the counts of the orders read anyway (the same scope as order_counts), not a second reading of their history
    counts = reader.q(sq.order_counts, on, street) if counts_only else sq.count_by_unit(every, settings)
    level_counts = {lv: int(counts[lv].sum()) if len(counts) else 0 for lv in LEVEL_ORDER}
    status_counts = {k: int(counts[c].sum()) if len(counts) else 0 for k, c in
                     (("pending", "pending"), ("working", "working"), ("reported", "reported"),
                      ("returned", "returned_now"), ("done", "done"))}
    unit_choices = list(counts["unit"]) if len(counts) else []
    table, ids, codes = pd.DataFrame(), [], []
    if not counts_only:
        df = every
        if levels:
            df = df[df["level"].fillna("none").isin(levels)]
        if units:
            df = df[df["subdistrict_name"].where(df["unit_kind"] == "subdistrict", OTHER_UNITS).isin(units)]
        if statuses:
            df = df[df["status"].isin(statuses)]
        rank = {lv: i for i, lv in enumerate(LEVEL_ORDER)}
        df = df.assign(_r=df["level"].map(rank).fillna(-1)).sort_values(
            ["_r", "days_left", "code"], ascending=[False, True, True])
        table, ids, codes = order_table(df), [int(i) for i in df["id"]], list(df["code"])
    return SupervisionPage(
        on=on, counts_only=counts_only, can_issue=who.role in rules.ISSUE_ROLES, street_locked=who.street_locked,
        table=table.reset_index(drop=True), ids=ids, codes=codes, level_counts=level_counts,
        status_counts=status_counts, by_unit=unit_table(counts), unit_choices=unit_choices,
        map=_map(reader, counts, street) if with_map else None,
        inbox=inbox(reader, on) if who.role == "street" else None, settings=settings,
        note=f"状态与预警截至 {on:%Y-%m-%d}；预警：蓝 = {settings.blue_days} 天内到期，黄 = 已逾期，橙 = 逾期超过 "
             f"{settings.orange_days} 天或退回 {settings.orange_returns} 次，红 = 逾期超过 {settings.red_days} 天，"
             f"或所在街道当前督办单（未办结及近 {rules.RED_WINDOW_DAYS} 天内复查通过的）逾期占比超过 "
             f"{settings.red_share:.0%}。")


def inbox(reader: Reader, on: date | None = None) -> Inbox | None:
    """The signed-in 街道 account's inbox on day `on` (today by default); None for other roles."""
    if reader.principal.role != "street":
        return None
    on = on or date.today()
    df = reader.q(sq.orders, on, None)
    open_ = df[df["status"].isin(rules.OPEN_STATUSES)]
    items = open_[(open_["status"].isin(("pending", "returned"))) | open_["level"].notna()]
    rank = {lv: i for i, lv in enumerate(LEVEL_ORDER)}
    items = items.assign(_r=items["level"].map(rank).fillna(-1)).sort_values(["_r", "days_left"],
                                                                             ascending=[False, True])
    return Inbox(to_sign=int((open_["status"] == "pending").sum()),
                 due_soon=int((open_["level"] == "blue").sum()), overdue=int(open_["overdue"].sum()),
                 returned=int((open_["status"] == "returned").sum()),
                 waiting=int((open_["status"] == "reported").sum()), worst=rules.worst(open_["level"]),
                 items=pd.DataFrame({"编号": items["code"], "督办事项": items["title"], "状态": items["status_name"],
                                     "整改期限": [d.isoformat() for d in items["deadline"]],
                                     "预警": items["level_name"].replace("", "—"), "预警原因": items["reason"]}))


# --- one order --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderView:
    order: dict                     # current columns (id, code, version, status …)
    facts: pd.DataFrame             # 项目 / 内容
    history: pd.DataFrame           # 流转记录 (Chinese)
    evidence: pd.DataFrame          # id, 文件, 类型, 大小, 上传人, 上传时间
    images: list                    # evidence ids of photos (shown inline)
    steps: list                     # rules.Step the user may take now
    level: str | None
    reason: str
    steps_by_status: dict = field(default_factory=dict)  # the steps the user may take from each status
    evidence_max_mb: int = rules.Settings().evidence_max_mb


def detail(reader: Reader, *, order_id: int | None = None, code: str | None = None,
           on: date | None = None) -> OrderView | None:
    """One order now (by id or code) with the steps the signed-in user may take and its warning level on day `on`
    (today by default); None when there is no such order (the query layer refuses other subdistricts' orders)."""
    try:
        got = reader.q(sq.order_detail, order_id=order_id, order_code=code)
    except AccessDenied:  # another subdistrict's order (the refusal is audited by the query layer)
        got = None
    if got is None:
        return None
    o = {k: v for k, v in got.items() if k not in ("events", "evidence")}
    who = reader.principal
    facts = pd.DataFrame({"项目": ["编号", "督办事项", "来源", "责任单位", "责任人", "派单", "整改期限", "状态", "退回次数",
                                   "整改要求"],
                          "内容": [o["code"], o["title"], f"{o['source_name']}" + (f"（{o['source_ref']}）" if o["source_ref"]
                                                                                  else ""),
                                 f"{o['unit_kind_name']} · {o['unit_name']}", o["assignee"],
                                 f"{o['issued_on']:%Y-%m-%d}（{o['issued_by']}）", f"{o['deadline']:%Y-%m-%d}",
                                 o["status_name"], str(o["returned"]), o["requirement"]]})
    ev = got["events"]
    history = pd.DataFrame({"时间": [pd.Timestamp(t).strftime("%Y-%m-%d %H:%M") for t in ev["at"]],
                            "操作": ev["action_name"], "状态": [f"{a} → {b}" if a else b
                                                             for a, b in zip(ev["from_name"], ev["to_name"])],
                            "操作人": ev["actor"], "说明": ev["note"].fillna("")})
    fx = got["evidence"]
    evidence = pd.DataFrame({"id": fx["id"], "文件": fx["file_name"], "类型": fx["media_type"],
                             "大小（KB）": [round(int(n) / 1024, 1) for n in fx["size_bytes"]],
                             "上传人": fx["uploaded_by"],
                             "上传时间": [pd.Timestamp(t).strftime("%Y-%m-%d %H:%M") for t in fx["uploaded_at"]]})
    by_status = {st: rules.allowed_steps(st, who.role, o["unit_kind"], o["subdistrict_code"], who.subdistrict_code)
                 for st in STATUSES}
    steps = by_status[o["status"]]
    settings = reader.q(sq.supervision_settings)
    level, reason = rules.order_level(o["status"], o["deadline"], on or date.today(), o["returned"], o["reported_on"],
                                      settings)
    return OrderView(order=o, facts=facts, history=history, evidence=evidence,
                     images=[int(i) for i, t in zip(fx["id"], fx["media_type"]) if str(t).startswith("image/")],
                     steps=steps, level=level, reason=reason, steps_by_status=by_status,
                     evidence_max_mb=settings.evidence_max_mb)


def act(reader: Reader, order: dict, action: str, note: str | None = None, files=()) -> dict:
    """Take one step on the order as loaded (its id and version) as the reader's principal."""
    return writes.transition(reader.engine, reader.principal, order["id"], order["version"], action, note=note,
                             files=list(files))


def evidence_file(reader: Reader, evidence_id: int, who=None) -> dict | None:
    """One evidence file's bytes, read (not cached) as `who` (the reader's principal by default): a role that may not
    see the order gets a refusal from the query layer."""
    plain = Reader(reader.engine, who or reader.principal)
    return plain.q(sq.evidence_file, int(evidence_id))


# --- issuing ------------------------------------------------------------------------------------------------------

def candidate_week(on: date) -> Period:
    """The week whose to-do list the page offers to turn into orders: the latest complete week up to `on`."""
    return latest_complete("week", on, today=on + timedelta(days=1))


def candidates(reader: Reader, week: Period, street: str | None = None) -> pd.DataFrame:
    """待督办事项 of the week (office and leadership), with each item's drafted order and its covering order."""
    if reader.principal.role not in ("office", "leader"):
        return pd.DataFrame(columns=sq.CANDIDATE_COLUMNS)
    # the review's own lists, read through the same cached queries as the 周度研判 page (one read serves both)
    todo = sq.candidate_rows(week, street, reader.q(weekly.overdue_findings, week, street),
                             reader.q(weekly.visits_below_rule_by_subdistrict, week, street),
                             reader.q(weekly.silent_meal_points, week, street), reader.q(weekly.silent_ledgers, week, street),
                             reader.q(sq.open_requests, week.end) if street is None else None)
    if len(todo):
        todo = sq.with_covering(todo, reader.q(sq.covering_orders, tuple(sorted(set(todo["kind"]))), street))
    return todo.sort_values("existing_code", key=lambda c: c.notna(), kind="stable").reset_index(drop=True)


def draft(item: dict | None = None, today: date | None = None) -> dict:
    """The issue form's starting values: from a weekly-review item (a candidates row) or empty (a 群众诉求 or any
    other matter); due DEFAULT_DAYS after today."""
    today = today or date.today()
    item = item or {}
    links = {k: (int(item[k]) if item.get(k) is not None and not pd.isna(item.get(k)) else None)
             for k in ("finding_id", "facility_id", "roundtable_issue_id")}
    label, unit = item.get("unit_label") or "", item.get("unit") or None
    post = "民政服务站站长" if str(unit or "").startswith("subdistrict:") else "负责人"
    return {"source_kind": item.get("kind", "manual"), "source_ref": item.get("ref"), **links, "unit": unit,
            "assignee": f"{label}{post}" if label else "", "deadline": today + timedelta(days=DEFAULT_DAYS),
            "title": item.get("title", ""), "requirement": item.get("requirement", "")}


def unit_options(reader: Reader) -> pd.DataFrame:
    return reader.q(sq.unit_options) if reader.principal.role in ("office", "leader") else pd.DataFrame(
        columns=["key", "kind", "name", "subdistrict_code", "label"])


def issue(reader: Reader, values: dict) -> dict:
    """派单 as the reader's principal from the issue form's values (see `draft`)."""
    v = dict(values)
    return writes.issue_order(reader.engine, reader.principal, unit=v.get("unit"), assignee=v.get("assignee"),
                              deadline=v.get("deadline"), title=v.get("title"), requirement=v.get("requirement"),
                              source_kind=v.get("source_kind") or "manual", source_ref=v.get("source_ref"),
                              finding_id=v.get("finding_id"), facility_id=v.get("facility_id"),
                              roundtable_issue_id=v.get("roundtable_issue_id"))


def roundtable(reader: Reader) -> dict:
    """Meetings and requests in the loop (office and leadership)."""
    return reader.q(sq.roundtable_requests)


def record_request(reader: Reader, values: dict) -> dict:
    return writes.record_request(reader.engine, reader.principal, **values)


def save_settings(reader: Reader, values: dict) -> rules.Settings:
    """Save thresholds, the evidence limit and weights (office) from the settings form's values."""
    current = reader.q(sq.supervision_settings)
    weights = {k: int(values.get(f"w_{k}", current.weights[k])) for k in rules.SCORE_PARTS}
    s = rules.Settings(blue_days=int(values.get("blue_days", current.blue_days)),
                       orange_days=int(values.get("orange_days", current.orange_days)),
                       orange_returns=int(values.get("orange_returns", current.orange_returns)),
                       red_days=int(values.get("red_days", current.red_days)),
                       red_share=float(values.get("red_share", current.red_share)),
                       evidence_max_mb=int(values.get("evidence_max_mb", current.evidence_max_mb)), weights=weights)
    return writes.save_settings(reader.engine, reader.principal, s)


# --- the weekly review's 督办 summary -------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeeklySupervision:
    """周度研判的督办摘要: totals, per unit, and the chase list (each row links to its order on the 督办 page)."""
    week: Period
    totals: dict                    # issued, due, blue, yellow, orange, red, closed, open
    by_unit: pd.DataFrame           # Chinese headers
    chase: pd.DataFrame             # Chinese headers, with 编号
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)  # 待督办事项 without an open order (office)

    @property
    def headline(self) -> str:
        t = self.totals
        return (f"本周派发 {t['issued']} 件、到期 {t['due']} 件、办结 {t['closed']} 件；周末未办结 {t['open']} 件，"
                f"其中红色 {t['red']}、橙色 {t['orange']}、黄色 {t['yellow']}、蓝色 {t['blue']} 件")


def weekly_summary(reader: Reader, week: Period, street: str | None = None) -> WeeklySupervision:
    """The 督办 section of the weekly review for the week (and the sidebar's subdistrict)."""
    got = reader.q(sq.weekly_summary, week, street)
    u, c = got["by_unit"], got["chase"]
    totals = {k: int(u[k].sum()) if len(u) else 0 for k in ("issued", "due", "blue", "yellow", "orange", "red",
                                                              "closed", "open")}
    by_unit = pd.DataFrame({"责任单位": u["unit"], "本周派发": u["issued"], "本周到期": u["due"], "红": u["red"],
                            "橙": u["orange"], "黄": u["yellow"], "蓝": u["blue"], "本周办结": u["closed"],
                            "未办结": u["open"]})
    chase = pd.DataFrame({"编号": c["code"], "预警": c["level_name"], "督办事项": c["title"], "责任单位": c["unit_name"],
                          "整改期限": [d.isoformat() for d in c["deadline"]], "状态": c["status_name"],
                          "预警原因": c["reason"]})
    todo = candidates(reader, week, street)
    if len(todo):
        todo = todo[todo["existing_code"].isna()].reset_index(drop=True)
    return WeeklySupervision(week=week, totals=totals, by_unit=by_unit, chase=chase, candidates=todo)
