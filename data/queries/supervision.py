"""督办与站点考核: supervision orders as they stood on a day (status, warning level), the weekly summary and the
items that could become orders, the stations' task board, monthly scores and the published assessment.

An order's state on a day is read from its history (supervision_events), not from its current columns, so every
view "as of" a day — the weekly review's week end, the 督办 page's 截至日期 — shows the order as it was then. A 街道
account reads only orders whose responsible unit is its own subdistrict (scope "street" / "rows"); orders given to a
department or a service provider belong to the district and are read by the office and the leadership.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, exists, func, or_, select, union
from sqlalchemy.orm import aliased
from sqlalchemy.engine import Engine

from data.domain.units import pct
from data.db import rollups
from data.db.models import (AidPayment, AidWindow, DailyTotal, Facility, Finding, HomeServiceVisit, LivingAloneElder,
                            LivingAloneVisit, MealRecord, Meta, RoundtableIssue, RoundtableMeeting, Screening,
                            ServiceStation, StationEntry, StationScore, Subdistrict)
from data.db.models.supervision import (DispatchRecord, ServiceTask, SupervisionEvent, SupervisionEvidence,
                                        SupervisionOrder)
from data.domain import supervision as rules
from data.domain.period import Period, custom
from data.security.access import query
from data.queries.common import as_date_series, frame, scalar, street_filter, week_start

BUSINESS = frozenset({"leader", "office", "street"})        # read orders, their text and files
COUNTS = frozenset({"leader", "office", "street", "display"})  # counts and scores, never a person's name
DISTRICT = frozenset({"leader", "office"})
SETTINGS_KEY = "duban.settings"
OTHER_UNITS = "区直部门和服务商"
STATION_LEVELS = ("subdistrict", "street")

ORDER_COLUMNS = ["id", "code", "source_kind", "source_name", "source_ref", "finding_id", "facility_id",
                 "roundtable_issue_id", "dispatch_id", "title", "requirement", "unit_kind", "unit_kind_name",
                 "unit_name", "subdistrict_code", "subdistrict_name", "assignee", "issued_on", "deadline", "issued_by",
                 "status", "status_name", "returned", "reported_on", "accepted_report_on", "closed_on", "days_left",
                 "level", "level_name", "reason", "overdue", "current", "passed_on", "current_status", "version"]


def _day(v):
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


# --- settings ------------------------------------------------------------------------------------------------

def settings_from_text(text: str | None) -> rules.Settings:
    """The stored settings (compact JSON in the meta table); the defaults where nothing usable was saved."""
    if not text:
        return rules.Settings()
    try:
        raw = json.loads(text)
        s = rules.Settings(blue_days=raw["b"], orange_days=raw["o"], orange_returns=raw["or"], red_days=raw["r"],
                           red_share=raw["rs"], evidence_max_mb=raw["mb"], weights=dict(raw["w"]))
        return rules.check_settings(s)
    except (ValueError, KeyError, TypeError, rules.SettingsError):
        return rules.Settings()


def settings_to_text(s: rules.Settings) -> str:
    return json.dumps({"b": s.blue_days, "o": s.orange_days, "or": s.orange_returns, "r": s.red_days,
                       "rs": s.red_share, "mb": s.evidence_max_mb, "w": s.weights}, separators=(",", ":"))


@query(scope="public")
def supervision_settings(engine: Engine) -> rules.Settings:
    """督办预警阈值、附件上限与考核权重: the saved settings, or the documented defaults."""
    return settings_from_text(scalar(engine, select(Meta.value).where(Meta.key == SETTINGS_KEY)))


# --- orders as on a day ---------------------------------------------------------------------------------------

def _order_rows(engine: Engine, on: date, street: str | None, where=True) -> pd.DataFrame:
    o = SupervisionOrder
    stmt = (select(o.id, o.code, o.source_kind, o.source_ref, o.finding_id, o.facility_id, o.roundtable_issue_id,
                   o.dispatch_id, o.title, o.requirement, o.unit_kind, o.unit_name, o.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), o.assignee, o.issued_on, o.deadline, o.issued_by,
                   o.status.label("current_status"), o.version, o.returned.label("stored_returned"),
                   o.reported_on.label("stored_reported_on"),
                   o.accepted_report_on.label("stored_accepted_report_on"), o.closed_on.label("stored_closed_on"))
            .outerjoin(Subdistrict, Subdistrict.code == o.subdistrict_code)
            .where(o.issued_on <= on, street_filter(o.subdistrict_code, street), where)
            .order_by(o.deadline, o.code))
    return frame(engine, stmt)


def _events_until(engine: Engine, on: date, street: str | None, where=True) -> pd.DataFrame:
    """Every event up to the end of day `on` of the orders issued by then: order_id, action, day — in each order's
    order of events (at, then id)."""
    e, o = SupervisionEvent, SupervisionOrder
    stmt = (select(e.order_id, e.action, e.at)
            .join(o, o.id == e.order_id)
            .where(e.at < datetime.combine(on + timedelta(days=1), datetime.min.time()),
                   o.issued_on <= on, street_filter(o.subdistrict_code, street), where)
            .order_by(e.order_id, e.at, e.id))
    with engine.connect() as conn:
        rows = conn.execute(stmt).fetchall()
    oids, actions, ats = zip(*rows) if rows else ((), (), ())
    return pd.DataFrame({"order_id": pd.Series(oids, dtype="int64"), "action": pd.Series(actions, dtype=object),
                         "day": pd.Series(pd.to_datetime(pd.Series(ats, dtype=object)).dt.date, dtype=object)})


_TARGET = {rules.ISSUE: "pending", **{k: step.target for k, step in rules.STEPS.items()}}
STATE_COLUMNS = ["status", "returned", "reported_on", "accepted_report_on", "passed_on", "closed_on"]


def _states(ev: pd.DataFrame) -> pd.DataFrame:
    """rules.state_after of every order with events, computed on all events at once (index: order id): the status
    the last event led to, times returned, the last report's day, the day of the report standing at the (last) pass
    and that pass's day, the day closed."""
    oid, action = ev["order_id"], ev["action"]

    def last_day(mask):
        return ev["day"].where(mask).groupby(oid, sort=False).last()

    reported_so_far = ev["day"].where(action == "report").groupby(oid, sort=False).ffill()
    out = pd.DataFrame({
        "status": action.groupby(oid, sort=False).last().map(_TARGET),
        "returned": (action == "return").groupby(oid, sort=False).sum().astype(int),
        "reported_on": last_day(action == "report"),
        "accepted_report_on": reported_so_far.where(action == "pass").groupby(oid, sort=False).last(),
        "passed_on": last_day(action == "pass"), "closed_on": last_day(action == "close")})
    return out


def _stored_states(engine: Engine, df: pd.DataFrame, on: date, street: str | None, where=True):
    """The states as the orders store them (status, returned, report days, closed day; written with every step in
    the same transaction as its event), with the day of each order's last pass from its events — the state on `on`
    when no event of these orders is later than `on` (the usual case: the page's default day is the last activity).
    None when some event is later: the history is replayed up to `on` instead (_states)."""
    e, o = SupervisionEvent, SupervisionOrder
    scope = and_(o.issued_on <= on, street_filter(o.subdistrict_code, street), where)
    with engine.connect() as conn:
        last = conn.execute(select(func.max(e.at)).join(o, o.id == e.order_id).where(scope)).scalar()
        if last is not None and _day(last) > on:
            return None
        passes = conn.execute(select(e.order_id, func.max(e.at)).join(o, o.id == e.order_id)
                              .where(scope, e.action == "pass").group_by(e.order_id)).fetchall()
    passed = {int(oid): _day(at) for oid, at in passes}
    out = pd.DataFrame({"status": df["current_status"].tolist(), "returned": df["stored_returned"].astype(int).tolist(),
                        **{c: [_day(v) for v in df[f"stored_{c}"]] for c in ("reported_on", "accepted_report_on",
                                                                            "closed_on")},
                        "passed_on": [passed.get(int(i)) for i in df["id"]]}, index=df["id"].astype("int64"))
    return out[STATE_COLUMNS]


def _orders_on(engine: Engine, on: date, street: str | None = None, where=True,
              settings: rules.Settings | None = None) -> pd.DataFrame:
    """Every order issued on or before `on` (of the subdistrict, when given) as it stood at the end of that day:
    status, times returned, report days, warning level and its reason (ORDER_COLUMNS)."""
    s = settings or supervision_settings(engine)
    df = _order_rows(engine, on, street, where)
    if df.empty:
        return pd.DataFrame(columns=ORDER_COLUMNS)
    states = _stored_states(engine, df, on, street, where)
    if states is None:
        states = _states(_events_until(engine, on, street, where))
    issued_only = rules.state_after([(rules.ISSUE, None)])  # an order without events
    ids = df["id"].astype("int64")
    has = ids.isin(states.index).tolist()
    aligned = states.reindex(ids.to_numpy()) if len(states) else pd.DataFrame(index=ids, columns=STATE_COLUMNS)
    for col in STATE_COLUMNS:
        got = aligned[col].astype(object)
        got = got.where(got.notna(), None).tolist()  # a missing day is None (one vectorised isna, not one per row)
        kind = int if col == "returned" else (lambda v: v)
        df[col] = [(None if v is None else kind(v)) if h else issued_only[col] for h, v in zip(has, got)]
    df["issued_on"] = [_day(v) for v in df["issued_on"]]
    df["deadline"] = [_day(v) for v in df["deadline"]]
    df["days_left"] = [(d - on).days for d in df["deadline"]]
    levels = [rules.order_level(st, dl, on, rt, rep, s)
              for st, dl, rt, rep in zip(df["status"], df["deadline"], df["returned"], df["reported_on"])]
    df["level"] = [lv for lv, _ in levels]
    df["reason"] = [why for _, why in levels]
    df["overdue"] = [rules.is_overdue(lv, why) for lv, why in levels]
    df["current"] = [rules.is_current(st, p, on) for st, p in zip(df["status"], df["passed_on"])]
    _raise_red_subdistricts(df, s)
    df["status_name"] = df["status"].map(rules.STATUSES)
    df["level_name"] = df["level"].map(rules.LEVELS).fillna("")
    df["source_name"] = df["source_kind"].map(rules.SOURCES).fillna(df["source_kind"])
    df["unit_kind_name"] = df["unit_kind"].map(rules.UNIT_KINDS).fillna(df["unit_kind"])
    df["returned"] = df["returned"].astype(int)
    return df[ORDER_COLUMNS]


def _weekly_horizon(week: Period) -> date:
    """The first day that matters to a week's summary: an order closed before it, and issued and due before it, is
    in none of the week's figures — not issued, due or closed in the week, not open at its end, and not among its
    subdistrict's current orders (verified more than RED_WINDOW_DAYS before the week's end)."""
    return min(week.start, week.end - timedelta(days=rules.RED_WINDOW_DAYS))


def _in_play_since(day: date):
    """Orders not settled before `day`: no 办结 before it (closed is final), or issued or due on or after it. A city
    keeps years of closed orders; the weekly review need not rebuild each one's history."""
    o, e = SupervisionOrder, aliased(SupervisionEvent)
    closed_before = exists().where(e.order_id == o.id, e.action == "close",
                                   e.at < datetime.combine(day, datetime.min.time()))
    return or_(~closed_before, o.issued_on >= day, o.deadline >= day)


def _units_until(engine: Engine, on: date, street: str | None) -> pd.DataFrame:
    """The responsible units (unit_kind, subdistrict code and name) of the orders issued on or before `on`."""
    o = SupervisionOrder
    return frame(engine, select(o.unit_kind, o.subdistrict_code, Subdistrict.name.label("subdistrict_name"))
                 .outerjoin(Subdistrict, Subdistrict.code == o.subdistrict_code)
                 .where(o.issued_on <= on, street_filter(o.subdistrict_code, street)).distinct())


def _raise_red_subdistricts(df: pd.DataFrame, s: rules.Settings) -> None:
    """红 for every overdue order of a subdistrict with more than `red_share` of its current orders overdue."""
    mine = df["current"] & (df["unit_kind"] == "subdistrict")
    if not mine.any():
        return
    got = df[mine].groupby("subdistrict_code")["overdue"]
    notes = {code: f"；所在街道逾期占比 {pct(late / n)}"
             for code, n, late in zip(got.size().index, got.size(), got.sum().astype(int))
             if rules.subdistrict_red(int(n), int(late), s)}
    if not notes:
        return
    idx = df.index[mine & df["overdue"] & df["subdistrict_code"].isin(list(notes))]
    df.loc[idx, "reason"] = [r if r.endswith(notes[c]) else r + notes[c]
                             for r, c in zip(df.loc[idx, "reason"], df.loc[idx, "subdistrict_code"])]
    df.loc[idx, "level"] = "red"


@query(scope="street", roles=BUSINESS)
def orders(engine: Engine, on: date, street: str | None = None) -> pd.DataFrame:
    """督办单（截至某日）: every order issued on or before the day, with its status and warning level on that day."""
    return _orders_on(engine, on, street)


def _unit_label(df: pd.DataFrame) -> pd.Series:
    return df["subdistrict_name"].where(df["unit_kind"] == "subdistrict", OTHER_UNITS)


COUNT_COLUMNS = ["unit", "subdistrict_code", "issued", "open", "pending", "working", "reported", "returned_now",
                 "done", "blue", "yellow", "orange", "red", "overdue", "current", "overdue_share", "red_unit"]


def _unit_groups(df: pd.DataFrame):
    """The orders' responsible units as count_by_unit and weekly_summary group them: each subdistrict, and the
    departments and providers together (code "")."""
    return [_unit_label(df), df["subdistrict_code"].where(df["unit_kind"] == "subdistrict").fillna("")]


def _unit_frame(sums: pd.DataFrame) -> pd.DataFrame:
    """Grouped sums (index: unit, code) as rows: unit, subdistrict_code (None for departments and providers), the
    sums as integers; subdistricts by code, then the departments and providers."""
    out = sums.astype(int).reset_index(names=["unit", "subdistrict_code"])
    out["subdistrict_code"] = [c or None for c in out["subdistrict_code"]]
    out["_o"] = out["subdistrict_code"].isna()
    return out.sort_values(["_o", "subdistrict_code"]).drop(columns="_o").reset_index(drop=True)


def count_by_unit(df: pd.DataFrame, s: rules.Settings) -> pd.DataFrame:
    """Per responsible unit (each subdistrict; departments and providers together): orders and where they stand."""
    if df.empty:
        return pd.DataFrame(columns=COUNT_COLUMNS)
    status = df["status"]
    open_ = status.isin(rules.OPEN_STATUSES)
    flags = pd.DataFrame({
        "issued": 1, "open": open_, "pending": status == "pending", "working": status == "working",
        "reported": status == "reported", "returned_now": status == "returned",
        "done": status.isin(rules.DONE_STATUSES), **{lv: open_ & (df["level"] == lv) for lv in rules.LEVEL_ORDER},
        "overdue": open_ & df["overdue"].astype(bool), "current": df["current"].astype(bool)}, index=df.index)
    out = _unit_frame(flags.groupby(_unit_groups(df), sort=False).sum())
    out["overdue_share"] = [o / c if c else 0.0 for o, c in zip(out["overdue"], out["current"])]
    out["red_unit"] = [pd.notna(code) and rules.subdistrict_red(int(c), int(o), s)
                       for code, c, o in zip(out["subdistrict_code"], out["current"], out["overdue"])]
    return out[COUNT_COLUMNS]


@query(scope="street", roles=COUNTS)
def order_counts(engine: Engine, on: date, street: str | None = None) -> pd.DataFrame:
    """督办单数（按责任单位，截至某日）: counts only — by status and warning level, overdue share, 红 subdistricts."""
    s = supervision_settings(engine)
    return count_by_unit(_orders_on(engine, on, street, settings=s), s)


@query(scope="street", roles=COUNTS)
def last_activity(engine: Engine, street: str | None = None) -> date | None:
    """The last day any order (of the subdistrict) was issued or moved: the 督办 page's default 截至日期 — the same
    day for every role that sees the counts (a date, nothing of an order's text or people)."""
    e, o = SupervisionEvent, SupervisionOrder
    at = scalar(engine, select(func.max(e.at)).join(o, o.id == e.order_id)
                .where(street_filter(o.subdistrict_code, street)))
    return _day(at)


# --- one order ------------------------------------------------------------------------------------------------

def order_row(conn, order_id: int | None = None, code: str | None = None) -> dict | None:
    """One order's current columns (with its subdistrict's name), by id or code; None when there is none."""
    o = SupervisionOrder
    stmt = select(*o.__table__.c, Subdistrict.name.label("subdistrict_name")).outerjoin(
        Subdistrict, Subdistrict.code == o.subdistrict_code)
    stmt = stmt.where(o.id == int(order_id)) if order_id is not None else stmt.where(o.code == code)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    out = dict(row)
    for k in ("issued_on", "deadline", "reported_on", "accepted_report_on", "closed_on"):
        out[k] = _day(out[k])
    out["status_name"] = rules.STATUSES.get(out["status"], out["status"])
    out["unit_kind_name"] = rules.UNIT_KINDS.get(out["unit_kind"], out["unit_kind"])
    out["source_name"] = rules.SOURCES.get(out["source_kind"], out["source_kind"])
    return out


@query(scope="rows", roles=BUSINESS)
def order_detail(engine: Engine, order_id: int | None = None, order_code: str | None = None) -> dict | None:
    """One 督办单 now: its columns, history (流转记录) and evidence list (without the files), by id or code."""
    order_code = (order_code or "").strip() or None
    if order_id is None and order_code is None:
        return None
    with engine.connect() as conn:
        row = order_row(conn, order_id, order_code)
        if row is None:
            return None
        e = SupervisionEvent
        res = conn.execute(select(e.id, e.at, e.action, e.from_status, e.to_status, e.actor, e.actor_role, e.note)
                           .where(e.order_id == row["id"]).order_by(e.at, e.id))
        events = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        v = SupervisionEvidence
        res = conn.execute(select(v.id, v.event_id, v.file_name, v.media_type, v.size_bytes, v.uploaded_by,
                                  v.uploaded_at).where(v.order_id == row["id"]).order_by(v.id))
        evidence = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
    events["action_name"] = events["action"].map(rules.ACTION_LABELS)
    events["to_name"] = events["to_status"].map(rules.STATUSES)
    events["from_name"] = events["from_status"].map(rules.STATUSES).fillna("")
    return {**row, "events": events, "evidence": evidence}


@query(scope="rows", roles=BUSINESS)
def evidence_file(engine: Engine, evidence_id: int) -> dict | None:
    """One evidence file (bytes, name, type) with its order's subdistrict: a 街道 account gets its own only."""
    v, o = SupervisionEvidence, SupervisionOrder
    with engine.connect() as conn:
        row = conn.execute(select(v.id, v.file_name, v.media_type, v.size_bytes, v.content, o.code.label("order_code"),
                                  o.subdistrict_code).join(o, o.id == v.order_id)
                           .where(v.id == int(evidence_id))).mappings().first()
    return dict(row) if row is not None else None


# --- the weekly review: summary, chase list, items to turn into orders ------------------------------------------

def _in(column, period: Period):
    return and_(column >= period.start, column <= period.end)


WEEKLY_COLUMNS = ["unit", "subdistrict_code", "issued", "due", "blue", "yellow", "orange", "red", "closed", "open"]


@query(scope="street", roles=BUSINESS)
def weekly_summary(engine: Engine, week: Period, street: str | None = None) -> dict:
    """周度研判的督办摘要: per responsible unit — issued, due and closed in the week, open orders by warning level at
    the week's end — and the chase list (open orders at 黄 or worse, the worst first)."""
    s = supervision_settings(engine)
    df = _orders_on(engine, week.end, street, where=_in_play_since(_weekly_horizon(week)), settings=s)
    closed_in_week = set()
    if not df.empty:
        e, o = SupervisionEvent, SupervisionOrder
        ev = frame(engine, select(e.order_id).join(o, o.id == e.order_id)
                   .where(e.action == "close", e.at >= datetime.combine(week.start, datetime.min.time()),
                          e.at < datetime.combine(week.end + timedelta(days=1), datetime.min.time()),
                          street_filter(o.subdistrict_code, street)))
        closed_in_week = set(ev["order_id"].astype(int))
    if df.empty:
        by_unit = pd.DataFrame(columns=WEEKLY_COLUMNS)
    else:
        open_ = df["status"].isin(rules.OPEN_STATUSES)
        flags = pd.DataFrame({
            "issued": [week.contains(d) for d in df["issued_on"]], "due": [week.contains(d) for d in df["deadline"]],
            **{lv: open_ & (df["level"] == lv) for lv in rules.LEVEL_ORDER},
            "closed": df["id"].isin(closed_in_week), "open": open_}, index=df.index)
        sums = flags.groupby(_unit_groups(df), sort=False).sum()
        units = _units_until(engine, week.end, street)  # a unit whose orders were all settled earlier: a row of 0
        by_unit = _unit_frame(sums.reindex(sums.index.append(pd.MultiIndex.from_arrays(_unit_groups(units)))
                                           .unique(), fill_value=0))[WEEKLY_COLUMNS]
    chase = df[df["level"].isin(("yellow", "orange", "red"))].copy()
    chase["_rank"] = chase["level"].map({lv: i for i, lv in enumerate(rules.LEVEL_ORDER)})
    chase = chase.sort_values(["_rank", "days_left", "code"], ascending=[False, True, True]).drop(columns="_rank")
    return {"by_unit": by_unit, "chase": chase.reset_index(drop=True)}


CANDIDATE_COLUMNS = ["kind", "kind_name", "ref", "finding_id", "facility_id", "roundtable_issue_id", "unit",
                     "subdistrict_code", "unit_label", "title", "requirement", "detail", "existing_code",
                     "existing_status"]


def candidate_rows(week: Period, street: str | None, overdue: pd.DataFrame, below_by_subdistrict: pd.DataFrame,
                   silent_points: pd.DataFrame, silent_ledgers: pd.DataFrame,
                   requests: pd.DataFrame | None = None) -> pd.DataFrame:
    """待督办事项: what the weekly review lists as needing action at the week's end — overdue findings, subdistricts
    with elders visited fewer than twice this month, meal points with no record for 7 days, subdistricts whose
    ledgers were not updated in the week, roundtable requests still open (district only) — each with a drafted
    order. Built from the review's own lists (data.queries.weekly), which the review page has already read: the two
    share one read of each. `with_covering` adds the open order that already covers an item."""
    from data.queries import weekly

    rows = []
    for r in overdue.itertuples():
        what = r.description or r.category
        rows.append(dict(kind="finding", ref=r.code, finding_id=int(r.id), unit=f"subdistrict:{r.subdistrict_code}",
                         subdistrict_code=r.subdistrict_code, unit_label=r.subdistrict_name,
                         title=f"逾期问题整改：{r.place_name}（{r.category}，{r.code}）",
                         requirement=f"{what}。整改期限 {_day(r.deadline):%Y-%m-%d}，截至 {week.end:%Y-%m-%d} 已逾期 "
                                     f"{r.days_overdue} 天。请立即整改，反馈整改情况并上传整改后的照片。",
                         detail=f"逾期 {r.days_overdue} 天"))
    month = weekly.month_to_week_end(week)
    for r in below_by_subdistrict.itertuples():
        rows.append(dict(kind="visits", ref=f"{r.subdistrict_code}:{rules.month_key(week.end)}",
                         unit=f"subdistrict:{r.subdistrict_code}", subdistrict_code=r.subdistrict_code,
                         unit_label=r.subdistrict_name,
                         title=f"独居老人巡访不足：{r.subdistrict_name}{week.end.month}月有 {r.below} 人巡访不足两次",
                         requirement=f"{month.start:%m月%d日}至{month.end:%m月%d日}，在册独居老人 {r.roster} 人中有 {r.below} 人"
                                     "巡访不足两次。请于期限内完成补访（每人每月不少于两次）并录入巡访台账。",
                         detail=f"{r.below} 人"))
    for r in silent_points.itertuples():
        last = _day(r.last_served_on)
        rows.append(dict(kind="meal_point", ref=r.code, facility_id=int(r.id), unit=f"subdistrict:{r.subdistrict_code}",
                         subdistrict_code=r.subdistrict_code, unit_label=r.subdistrict_name,
                         title=f"助餐点无助餐记录：{r.name}",
                         requirement=(f"该助餐点连续 {weekly.SILENT_MEAL_DAYS} 天以上无助餐记录（最近记录 "
                                      f"{last:%Y-%m-%d}）" if last else "该助餐点没有任何助餐记录")
                                     + "。请核实运营情况，补录助餐台账或说明停业原因。",
                         detail=f"最近记录 {last:%Y-%m-%d}" if last else "无记录"))
    for r in silent_ledgers.itertuples():
        rows.append(dict(kind="ledger", ref=f"{r.subdistrict_code}:{week.key}", unit=f"subdistrict:{r.subdistrict_code}",
                         subdistrict_code=r.subdistrict_code, unit_label=r.subdistrict_name,
                         title=f"台账未更新：{r.subdistrict_name}{week.label}无任何台账记录",
                         requirement=f"{week.label}（{week.start:%m月%d日}至{week.end:%m月%d日}）未报送任何台账。"
                                     "请核实并补报助餐、上门服务、巡访、救助发放等台账。",
                         detail=week.label))
    if street is None and requests is not None:
        for r in requests.itertuples():
            rows.append(dict(kind="roundtable", ref=f"RT-{r.id}", roundtable_issue_id=int(r.id),
                             unit=f"department:{rules.DEPARTMENTS[0]}", subdistrict_code=None,
                             unit_label=rules.DEPARTMENTS[0], title=f"圆桌会诉求：{r.topic}",
                             requirement=f"{r.raised_by}在{_day(r.held_on):%Y年%m月%d日}“幸福圆桌会”上提出：{r.topic}。"
                                         "请牵头协调解决并反馈结果。",
                             detail=f"{_day(r.held_on):%Y-%m-%d} 提出"))
    df = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    if len(df):
        df["kind_name"] = df["kind"].map(rules.SOURCES)
    return df


def with_covering(todo: pd.DataFrame, covering: pd.DataFrame) -> pd.DataFrame:
    """The 待督办事项 with the code and status of the open order that already covers each (None where none does);
    `covering` is `covering_orders` of their kinds."""
    known = {(k, r): (c, st) for k, r, c, st in covering[["source_kind", "source_ref", "code", "status"]]
             .itertuples(index=False, name=None)}
    todo = todo.copy()
    todo["existing_code"] = [known.get((k, r), (None, None))[0] for k, r in zip(todo["kind"], todo["ref"])]
    todo["existing_status"] = [rules.STATUSES.get(known.get((k, r), (None, None))[1])
                               for k, r in zip(todo["kind"], todo["ref"])]
    return todo


@query(scope="street", roles=DISTRICT)
def covering_orders(engine: Engine, kinds: tuple[str, ...], street: str | None = None) -> pd.DataFrame:
    """Orders not yet closed whose source is of one of `kinds` (an item already under an order is not drafted
    again)."""
    o = SupervisionOrder
    return frame(engine, select(o.source_kind, o.source_ref, o.code, o.status)
                 .where(o.status != "closed", o.source_kind.in_(sorted(kinds)),
                        street_filter(o.subdistrict_code, street)).order_by(o.id))


@query(scope="district", roles=DISTRICT)
def open_requests(engine: Engine, on: date) -> pd.DataFrame:
    """Roundtable requests raised on or before `on` and not resolved by then."""
    i, m = RoundtableIssue, RoundtableMeeting
    return frame(engine, select(i.id, i.raised_by, i.topic, m.held_on).join(m, m.id == i.meeting_id)
                 .where(m.held_on <= on, (i.resolved_on.is_(None)) | (i.resolved_on > on)).order_by(m.held_on, i.id))


@query(scope="district", roles=DISTRICT)
def unit_options(engine: Engine) -> pd.DataFrame:
    """责任单位 that an order may be given to: every subdistrict, the district's departments, and service providers
    (operators of facilities, companies and bodies that raised roundtable requests)."""
    sd = frame(engine, select(Subdistrict.code, Subdistrict.name).order_by(Subdistrict.code))
    rows = [(f"subdistrict:{c}", "subdistrict", n, c) for c, n in sd.itertuples(index=False, name=None)]
    rows += [(f"department:{d}", "department", d, None) for d in rules.DEPARTMENTS]
    ops = frame(engine, select(Facility.operator.label("name")).where(Facility.operator.is_not(None)).distinct())
    raisers = frame(engine, select(RoundtableIssue.raised_by.label("name")).distinct())
    names = sorted((set(ops["name"]) | set(raisers["name"])) - set(rules.DEPARTMENTS) - {""})
    rows += [(f"provider:{n}", "provider", n, None) for n in names]
    df = pd.DataFrame(rows, columns=["key", "kind", "name", "subdistrict_code"])
    df["label"] = [f"{rules.UNIT_KINDS[k]} · {n}" for k, n in zip(df["kind"], df["name"])]
    return df


@query(scope="district", roles=DISTRICT)
def roundtable_requests(engine: Engine) -> dict:
    """圆桌会诉求 in the loop: every meeting, and every request with its 督办单 (code, status) and resolution day."""
    m, i, o = RoundtableMeeting, RoundtableIssue, SupervisionOrder
    meetings = frame(engine, select(m.id, m.held_on, m.title).order_by(m.held_on.desc()))
    reqs = frame(engine, select(i.id, m.held_on, m.title.label("meeting"), i.raised_by, i.topic, i.resolved_on,
                                o.code.label("order_code"), o.status.label("order_status"))
                 .join(m, m.id == i.meeting_id).outerjoin(o, o.roundtable_issue_id == i.id)
                 .order_by(m.held_on.desc(), i.id))
    reqs["order_status"] = reqs["order_status"].map(rules.STATUSES)
    return {"meetings": meetings, "requests": reqs}


# --- stations: the duty list, the month's figures, scores ---------------------------------------------------------

TASK_COLUMNS = ["position", "code", "name", "unit", "quantity", "basis", "source", "month_from", "revision"]


def _tasks(engine: Engine, month: str) -> pd.DataFrame:
    """The 服务内容清单 version in force for the month: the latest saved version starting on or before it (the
    built-in list, revision 0, when none was saved)."""
    first, _ = rules.month_bounds(month)
    t = ServiceTask
    start = select(func.max(t.month_from)).where(t.month_from <= first).scalar_subquery()
    df = frame(engine, select(t.position, t.code, t.name, t.unit, t.quantity, t.basis, t.source, t.month_from,
                              t.revision).where(t.month_from == start).order_by(t.position))
    if df.empty:
        df = pd.DataFrame([(i + 1, c, n, u, float(q), b, s, None, 0) for i, (c, n, u, q, b, s)
                           in enumerate(rules.DEFAULT_TASKS)], columns=TASK_COLUMNS)
    df["month_from"] = [_day(v) for v in df["month_from"]]
    df["quantity"] = df["quantity"].astype(float)
    return df[TASK_COLUMNS]


@query(scope="public")
def service_tasks(engine: Engine, month: str) -> pd.DataFrame:
    """服务内容清单（某月适用的版本）: each duty of a subdistrict station with its monthly quantity and basis, where its
    figure comes from, the month the version applies from and its revision."""
    return _tasks(engine, month)


@query(scope="public")
def service_task_versions(engine: Engine) -> pd.DataFrame:
    """服务内容清单的各个版本: the month each applies from, how many duties, who saved it and when."""
    t = ServiceTask
    df = frame(engine, select(t.month_from, func.count().label("tasks"), func.max(t.revision).label("revision"),
                              func.max(t.saved_by).label("saved_by"), func.max(t.saved_at).label("saved_at"))
               .group_by(t.month_from).order_by(t.month_from.desc()))
    df["month_from"] = [_day(v) for v in df["month_from"]]
    return df


def _stations(engine: Engine, street: str | None) -> pd.DataFrame:
    st = ServiceStation
    return frame(engine, select(Subdistrict.code.label("subdistrict_code"), Subdistrict.name.label("subdistrict_name"),
                                st.name.label("station_name"), st.opened_on)
                 .join(st, and_(st.subdistrict_code == Subdistrict.code, st.level.in_(STATION_LEVELS)))
                 .where(street_filter(Subdistrict.code, street)).order_by(Subdistrict.code))


@query(scope="street", roles=COUNTS)
def station_names(engine: Engine, street: str | None = None) -> pd.DataFrame:
    """街道民政服务站: each subdistrict's station (code, station name), in code order."""
    return _stations(engine, street)[["subdistrict_code", "station_name"]]


def _grouped(engine: Engine, stmt) -> dict:
    return {c: int(n) for c, n in frame(engine, stmt).itertuples(index=False, name=None)}


def _ledger_weeks(engine: Engine, month: str, street: str | None) -> dict:
    """Per subdistrict, how many of the month's weeks have a record of any ledger kind (as 台账未更新 is judged).

    District-wide the four rolled-up ledgers are read from the daily totals (a row exists for a day and subdistrict
    exactly when a record does), the findings from their table; one subdistrict's view reads its records."""
    weeks = rules.weeks_of_month(month)
    if not weeks:
        return {}
    span = custom(weeks[0][0], weeks[-1][1])

    def one(code_col, day_col, base=None, on=None):
        stmt = select(code_col.label("code"), week_start(day_col).label("wk"))
        if base is not None:
            stmt = stmt.select_from(base).join(code_col.class_, on)
        return stmt.where(_in(day_col, span), street_filter(code_col, street)).distinct()

    if rollups.in_use(street):
        t = DailyTotal
        active = union(
            select(t.subdistrict_code.label("code"), week_start(t.day).label("wk"))
            .where(t.measure.in_(LEDGER_MEASURES), _in(t.day, span), t.subdistrict_code != "").distinct(),
            one(Finding.subdistrict_code, Finding.found_on),
        ).subquery()
    else:
        active = union(
            one(Facility.subdistrict_code, MealRecord.served_on, MealRecord, Facility.id == MealRecord.facility_id),
            one(HomeServiceVisit.subdistrict_code, HomeServiceVisit.visited_on),
            one(LivingAloneVisit.subdistrict_code, LivingAloneVisit.visited_on),
            one(AidPayment.subdistrict_code, AidPayment.paid_on),
            one(Finding.subdistrict_code, Finding.found_on),
        ).subquery()
    df = frame(engine, select(active.c.code, active.c.wk).distinct())
    if df.empty:
        return {}
    df["wk"] = as_date_series(df["wk"])
    return df.groupby("code")["wk"].nunique().astype(int).to_dict()


# the ledgers of 台账及时 / 台账未更新 that the daily totals hold (findings are read from their table)
LEDGER_MEASURES = ("meal_records", "home_service_visits", "living_alone_visits", "aid_payments")


def _station_counts(engine: Engine, month: str, street: str | None = None) -> pd.DataFrame:
    """Per station (subdistrict), what the month's tasks and score are computed from, each from its ledger."""
    first, last = rules.month_bounds(month)
    period = custom(first, last)
    st = _stations(engine, street)
    if st.empty:
        return st
    from data.queries.facilities import operating_on
    from data.queries.services import on_roster, visit_compliance_by_subdistrict

    roster = _grouped(engine, select(LivingAloneElder.subdistrict_code, func.count())
                      .where(on_roster(last), street_filter(LivingAloneElder.subdistrict_code, street))
                      .group_by(LivingAloneElder.subdistrict_code))
    visits = _grouped(engine, select(LivingAloneVisit.subdistrict_code, func.count())
                      .where(_in(LivingAloneVisit.visited_on, period),
                             street_filter(LivingAloneVisit.subdistrict_code, street))
                      .group_by(LivingAloneVisit.subdistrict_code))
    comp = visit_compliance_by_subdistrict(engine, period, street)
    compliant = dict(zip(comp["subdistrict_code"], comp["compliant"]))
    screenings = _grouped(engine, select(Screening.subdistrict_code, func.count())
                          .where(_in(Screening.screened_on, period), street_filter(Screening.subdistrict_code, street))
                          .group_by(Screening.subdistrict_code))
    w = AidWindow
    windows = frame(engine, select(w.subdistrict_code, w.has_sign, w.has_list_rack, w.has_leaflet_rack,
                                   w.has_intake_book).where(street_filter(w.subdistrict_code, street)))
    if len(windows):
        windows["complete"] = windows[["has_sign", "has_list_rack", "has_leaflet_rack", "has_intake_book"]].astype(bool).all(axis=1)
    win_all = windows.groupby("subdistrict_code").size().to_dict() if len(windows) else {}
    win_ok = windows[windows["complete"]].groupby("subdistrict_code").size().to_dict() if len(windows) else {}
    meal_points = _grouped(engine, select(Facility.subdistrict_code, func.count())
                           .where(Facility.kind == "meal_point", operating_on(last),
                                  street_filter(Facility.subdistrict_code, street))
                           .group_by(Facility.subdistrict_code))
    weeks_updated = _ledger_weeks(engine, month, street)
    n_weeks = len(rules.weeks_of_month(month))
    codes = st["subdistrict_code"]
    st["opened_on"] = [_day(v) for v in st["opened_on"]]
    st["assessed"] = [o is not None and o <= last for o in st["opened_on"]]
    for col, got in (("roster", roster), ("visits", visits), ("compliant", compliant), ("screenings", screenings),
                     ("windows", win_all), ("windows_complete", win_ok), ("meal_points", meal_points),
                     ("weeks_updated", weeks_updated)):
        st[col] = [int(got.get(c, 0)) for c in codes]
    st["weeks"] = n_weeks
    return st


def _entries(engine: Engine, month: str, street: str | None) -> pd.DataFrame:
    first, _ = rules.month_bounds(month)
    e = StationEntry
    return frame(engine, select(e.id, e.subdistrict_code, e.task_code, e.done, e.note, e.entered_by, e.entered_at,
                                e.version).where(e.month == first, street_filter(e.subdistrict_code, street)))


BOARD_COLUMNS = ["subdistrict_code", "subdistrict_name", "station_name", "assessed", "position", "task_code",
                 "task_name", "unit", "quantity", "basis", "basis_name", "planned", "done", "rate", "source",
                 "source_name", "entered"]
SOURCE_COUNT = {"living_alone_visits": "visits", "screenings": "screenings", "aid_windows": "windows_complete",
                "ledger_weeks": "weeks_updated"}
BASIS_COUNT = {"per_elder": "roster", "per_window": "windows", "per_week": "weeks", "per_meal_point": "meal_points"}


def board_frame(tasks: pd.DataFrame, counts: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """Planned vs done for every station and task (BOARD_COLUMNS): plain pandas over the month's counts."""
    entered = {(c, t): float(d) for c, t, d in zip(entries["subdistrict_code"], entries["task_code"], entries["done"])}
    rows = []
    task_rows = list(tasks.itertuples(index=False))  # once, not once per station
    for st in counts.itertuples(index=False):
        basis_counts = {b: getattr(st, col) for b, col in BASIS_COUNT.items()}
        for t in task_rows:
            plan = rules.planned(t.quantity, t.basis, basis_counts)
            if t.source == "manual":
                done, has = entered.get((st.subdistrict_code, t.code)), (st.subdistrict_code, t.code) in entered
                done = done or 0.0
            else:
                done, has = float(getattr(st, SOURCE_COUNT[t.source])), True
            rows.append([st.subdistrict_code, st.subdistrict_name, st.station_name, bool(st.assessed), int(t.position),
                         t.code, t.name, t.unit, float(t.quantity), t.basis, rules.BASES[t.basis], plan, done,
                         rules.completion(plan, done), t.source, rules.TASK_SOURCES[t.source], has])
    return pd.DataFrame(rows, columns=BOARD_COLUMNS)


@query(scope="street", roles=COUNTS)
def station_board(engine: Engine, month: str, street: str | None = None) -> pd.DataFrame:
    """站点任务看板: every station's planned and done quantity of each duty in the month, the completion rate and
    where the figure comes from (a ledger, or the station's own entry)."""
    counts = _station_counts(engine, month, street)
    if counts.empty:
        return pd.DataFrame(columns=BOARD_COLUMNS)
    return board_frame(_tasks(engine, month), counts, _entries(engine, month, street))


SCORE_COLUMNS = ["subdistrict_code", "subdistrict_name", "station_name", "assessed",
                 *[f"rate_{k}" for k in rules.SCORE_PARTS], *[f"points_{k}" for k in rules.SCORE_PARTS], "score",
                 "tasks_assessed", "due", "on_time", "requests_due", "requests_on_time", "weeks", "weeks_updated",
                 "roster", "compliant"]


def _due_orders(engine: Engine, month: str, street: str | None) -> pd.DataFrame:
    first, last = rules.month_bounds(month)
    o = SupervisionOrder
    df = frame(engine, select(o.subdistrict_code, o.source_kind, o.deadline, o.accepted_report_on)
               .where(o.unit_kind == "subdistrict", o.deadline >= first, o.deadline <= last,
                      street_filter(o.subdistrict_code, street)))
    df["on_time"] = [a is not None and not pd.isna(a) and _day(a) <= _day(d)
                     for a, d in zip(df["accepted_report_on"], df["deadline"])]
    df["request"] = df["source_kind"].isin(rules.REQUEST_SOURCES)
    return df


def score_frame(board: pd.DataFrame, counts: pd.DataFrame, due: pd.DataFrame, weights: dict) -> pd.DataFrame:
    """The monthly score of every station (SCORE_COLUMNS) from the board, the counts and the orders due."""
    rated = board[board["rate"].notna()]
    task_rates = rated.groupby("subdistrict_code", sort=False)["rate"].agg(list).to_dict() if len(rated) else {}
    # per station and kind (诉求 or not): orders due, and of them on time
    if len(due):
        got = due.assign(on_time=due["on_time"].astype(int)).groupby(["subdistrict_code", "request"])["on_time"]
        n_due, n_on_time = got.size().to_dict(), got.sum().to_dict()
    else:
        n_due, n_on_time = {}, {}
    rows = []
    for st in counts.itertuples(index=False):
        code = st.subdistrict_code
        rates_of_tasks = task_rates.get(code, [])
        regular, regular_on_time = int(n_due.get((code, False), 0)), int(n_on_time.get((code, False), 0))
        req, req_on_time = int(n_due.get((code, True), 0)), int(n_on_time.get((code, True), 0))
        rates = {"tasks": rules.mean(rates_of_tasks),
                 "on_time": rules.share(regular_on_time, regular),
                 "ledger": rules.share(int(st.weeks_updated), int(st.weeks)),
                 "visits": rules.share(int(st.compliant), int(st.roster)),
                 "requests": rules.share(req_on_time, req)}
        score, points = rules.station_score(rates, weights)
        rows.append([code, st.subdistrict_name, st.station_name, bool(st.assessed),
                     *[rates[k] for k in rules.SCORE_PARTS], *[points[k] for k in rules.SCORE_PARTS], score,
                     len(rates_of_tasks), regular, regular_on_time, req, req_on_time,
                     int(st.weeks), int(st.weeks_updated), int(st.roster), int(st.compliant)])
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _month_figures(engine: Engine, month: str, street: str | None = None, weights: dict | None = None) -> dict:
    """The month's board and live scores from one reading of the ledgers ({"board", "scores"})."""
    counts = _station_counts(engine, month, street)
    if counts.empty:
        return {"board": pd.DataFrame(columns=BOARD_COLUMNS), "scores": pd.DataFrame(columns=SCORE_COLUMNS)}
    board = board_frame(_tasks(engine, month), counts, _entries(engine, month, street))
    weights = weights or supervision_settings(engine).weights
    return {"board": board, "scores": score_frame(board, counts, _due_orders(engine, month, street), weights)}


def _live_scores(engine: Engine, month: str, street: str | None = None, weights: dict | None = None) -> pd.DataFrame:
    return _month_figures(engine, month, street, weights)["scores"]


@query(scope="street", roles=COUNTS)
def station_scores(engine: Engine, month: str, street: str | None = None) -> pd.DataFrame:
    """月度考核（试算）: each station's rate and points of every part and its 100-point score for the month, computed
    now from the ledgers, its entries and its orders (the formula: data.domain.supervision.station_score)."""
    return _live_scores(engine, month, street)


@query(scope="street", roles=COUNTS)
def station_month(engine: Engine, month: str, street: str | None = None) -> dict:
    """站点任务看板与月度考核（试算）: station_board and station_scores of the month ({"board", "scores"}), from one
    reading of the ledgers (what the 站点任务与考核 page shows together)."""
    return _month_figures(engine, month, street)


PUBLISHED_COLUMNS = ["month", "subdistrict_code", "subdistrict_name", "score", "rank", "ranked", "published_at",
                     *[f"points_{k}" for k in rules.SCORE_PARTS], *[f"rate_{k}" for k in rules.SCORE_PARTS]]


def _published(engine: Engine, street: str | None, month: str | None = None) -> pd.DataFrame:
    s = StationScore
    stmt = (select(s.month, s.subdistrict_code, Subdistrict.name.label("subdistrict_name"), s.score, s.rank, s.ranked,
                   s.published_at, s.parts_json).join(Subdistrict, Subdistrict.code == s.subdistrict_code)
            .where(street_filter(s.subdistrict_code, street)).order_by(s.month, s.rank, s.subdistrict_code))
    if month:
        stmt = stmt.where(s.month == rules.month_bounds(month)[0])
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    df["month"] = [rules.month_key(_day(v)) for v in df["month"]]
    parts = [json.loads(p) for p in df["parts_json"]]
    for k in rules.SCORE_PARTS:
        df[f"points_{k}"] = [p["points"][k] for p in parts]
        df[f"rate_{k}"] = [p["rates"][k] for p in parts]
    return df[PUBLISHED_COLUMNS]


@query(scope="street", roles=COUNTS)
def published_scores(engine: Engine, street: str | None = None) -> pd.DataFrame:
    """已发布的月度考核结果: every published month's score, rank and the number of stations ranked (a 街道 account:
    its own station's rows — its rank among the stations, not the others' scores)."""
    return _published(engine, street)


RANKING_COLUMNS = ["rank", "subdistrict_code", "subdistrict_name", "score", "previous", "change",
                   *[f"points_{k}" for k in rules.SCORE_PARTS], *[f"rate_{k}" for k in rules.SCORE_PARTS]]


def _ranking(engine: Engine, month: str) -> dict:
    """The month's ranking of the assessed stations: the published result when the month was published, else the
    live computation; with the previous month's score (published or live) and the change."""
    published = _published(engine, None, month)
    live = None
    if published.empty:
        live = _live_scores(engine, month)
        live = live[live["assessed"].astype(bool)].copy()
        ranks = rules.rank(dict(zip(live["subdistrict_code"], live["score"])))
        live["rank"] = live["subdistrict_code"].map(ranks)
        rows = live
    else:
        rows = published
    prev_month = rules.previous_month(month)
    prev = _published(engine, None, prev_month)
    if prev.empty:
        prev = _live_scores(engine, prev_month)
        prev = prev[prev["assessed"].astype(bool)]
    before = dict(zip(prev["subdistrict_code"], prev["score"]))
    out = rows.copy()
    out["previous"] = out["subdistrict_code"].map(before)
    out["change"] = out["score"] - out["previous"]
    out = out.sort_values(["rank", "subdistrict_code"]).reset_index(drop=True)
    at = published["published_at"].max() if len(published) else None
    return {"month": month, "rows": out[RANKING_COLUMNS], "published": not published.empty,
            "published_at": at if at is None or pd.isna(at) else pd.Timestamp(at).to_pydatetime()}


@query(scope="district", roles=COUNTS - {"street"})
def assessment(engine: Engine, month: str) -> dict:
    """月度考核排名（全区）: the assessed stations ranked by score for the month — as published, or computed now when
    the month was not published — with last month's score and the change."""
    return _ranking(engine, month)


@query(scope="street", roles=BUSINESS)
def dispatch_records(engine: Engine, month: str, street: str | None = None) -> pd.DataFrame:
    """一月一调度: each station's dispatch meeting of the month, with the 督办单 its tasks became."""
    first, _ = rules.month_bounds(month)
    d, o = DispatchRecord, SupervisionOrder
    df = frame(engine, select(d.id, d.subdistrict_code, Subdistrict.name.label("subdistrict_name"), d.held_on,
                              d.attendees, d.decisions, d.created_by)
               .join(Subdistrict, Subdistrict.code == d.subdistrict_code)
               .where(d.month == first, street_filter(d.subdistrict_code, street)).order_by(d.subdistrict_code))
    if df.empty:
        return pd.DataFrame(columns=list(df.columns) + ["orders"])
    tasks = frame(engine, select(o.dispatch_id, o.code, o.title, o.status).where(o.dispatch_id.in_(
        [int(i) for i in df["id"]])).order_by(o.code))
    listed = {}
    for did, code, title, status in tasks.itertuples(index=False, name=None):
        listed.setdefault(int(did), []).append(f"{code} {title}（{rules.STATUSES.get(status, status)}）")
    df["orders"] = ["；".join(listed.get(int(i), [])) for i in df["id"]]
    df["held_on"] = [_day(v) for v in df["held_on"]]
    return df


@query(scope="street", roles=BUSINESS)
def station_entries(engine: Engine, month: str, street: str | None = None) -> pd.DataFrame:
    """站点填报: what each station entered for the month's duties that no ledger records (with version, for editing)."""
    return _entries(engine, month, street)
