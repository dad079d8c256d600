"""演示城区的督办与站点考核历史（2024）: supervision orders that the weekly reviews of 2024 would have issued, their
steps through the loop, the stations' monthly entries and dispatch meetings, and the published monthly scores.

Built after the ledgers (build_demo calls `build`), read from them and never changing them: overdue findings become
orders (closed on the day the finding was rectified, or still open at the year's end), elders under-visited in a
month, meal points and ledgers that went silent in the last week, roundtable requests (closed on the day the request
was resolved, so F74 counts what the loop closed), monthly dispatch tasks and 群众诉求 to the stations. Replica 0 is
generated once and copied to every replica (ids offset, codes suffixed), so a ×N demo has exactly N times the rows;
the same seed gives the same rows. Nobody in it is a person: 责任人 are posts (站长, 负责人), actors are accounts.
"""
from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from data.db import models as m
from data.db.models.supervision import (DispatchRecord, StationEntry, StationScore, SupervisionEvent,
                                        SupervisionEvidence, SupervisionOrder)
from data.domain import supervision as rules
from data.domain.period import custom, week_of
from data.queries import supervision as sq
from data.queries import services, weekly

YEAR_START, END = date(2024, 1, 1), date(2024, 12, 31)
OFFICE = "office"        # the demo 业务科室 account
NANPU, NANPU_ACCOUNT = "360103001", "street"  # the demo 街道 account's subdistrict
SEED_OFFSET = 21
CHUNK = 2000

DECISIONS = ["通报上月服务内容清单完成情况，部署本月独居老人巡访和困难群众摸排", "研究助餐点运营督查发现问题的整改",
             "部署“四个一”救助窗口规范化检查", "研究高龄独居老人春节前走访慰问安排", "部署防汛期间特殊困难群体排查",
             "研究政策宣讲进社区计划", "通报台账报送及时性，明确各社区报送责任", "部署冬季取暖和用电安全排查"]
DISPATCH_TASKS = [("开展高龄独居老人集中走访", "对辖区 80 周岁以上独居老人逐户走访，建立走访记录。"),
                  ("完成困难群众动态摸排", "对低保边缘、支出型困难家庭开展入户摸排，录入摸排台账。"),
                  ("组织政策宣讲进社区", "在各社区开展社会救助、养老服务政策宣讲，留存活动照片和签到表。"),
                  ("规范社区救助窗口设置", "对照“四个一”标准检查各社区救助窗口，缺项的一周内补齐。"),
                  ("开展助餐点食品安全巡查", "对辖区运营助餐点逐一巡查留样、健康证、消毒记录。"),
                  ("补齐台账报送", "按周报送助餐、巡访、救助发放台账，不得断报。")]
COMPLAINTS = ["居民反映助餐点饭菜偏咸", "居民反映独居老人家中无人巡访", "群众反映低保申请进度慢",
              "居民反映社区救助窗口无人值守", "家属反映上门服务时长不足", "居民反映助餐点送餐不及时"]
RETURN_REASONS = ["整改照片不清晰，请补充整改后现场照片。", "整改说明未写明完成时间和措施，请补充后重新反馈。",
                  "反馈内容与台账记录不一致，请核对后重新反馈。"]
PHOTO_COLOURS = [(120, 160, 200), (160, 190, 140), (210, 180, 130)]


def _photo(i: int) -> bytes:
    """A tiny placeholder photo (PNG): the demo's evidence files."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), PHOTO_COLOURS[i % len(PHOTO_COLOURS)]).save(buf, format="PNG")
    return buf.getvalue()


class _History:
    """Replica 0's orders, events, evidence, entries and dispatch meetings, as plain rows."""

    def __init__(self, rng, names: dict, diligence: dict):
        self.rng, self.names, self.diligence = rng, names, diligence
        self.orders: list[dict] = []
        self.entries: list[dict] = []
        self.dispatches: list[dict] = []

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def days(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))

    def unit_actor(self, unit_kind: str, code: str | None) -> tuple[str, str]:
        if unit_kind != "subdistrict":
            return OFFICE, "office"
        return (NANPU_ACCOUNT if code == NANPU else f"{self.names[code]}民政服务站"), "street"

    def order(self, *, issued: date, deadline: date, kind: str, ref: str | None, unit_kind: str, unit_name: str,
              code: str | None, title: str, requirement: str, steps: list, **links) -> None:
        """One order and its steps [(action, day, note, photos)], keeping only what happened by the demo's end."""
        steps = [s for s in steps if s[1] <= END]
        assignee = f"{unit_name}民政服务站站长" if unit_kind == "subdistrict" else f"{unit_name}负责人"
        self.orders.append(dict(issued=issued, deadline=deadline, kind=kind, ref=ref, unit_kind=unit_kind,
                                unit_name=unit_name, code=code, title=title, requirement=requirement,
                                assignee=assignee[:50], steps=steps, links=links))

    def loop(self, issued: date, done: date | None, report: str, returns: int = 0, photos: int = 1,
             close_on: date | None = None) -> list:
        """Steps of an order issued on `issued` whose work was done (finally reported) on `done` (None: not yet):
        signed, reported (returned `returns` times first), verified and closed (on `close_on` when given)."""
        sign = issued + timedelta(days=self.days(0, 2))
        if done is not None:
            sign = max(issued, min(sign, done))
        steps = [("sign", sign, "已签收，立即部署整改。", 0)]
        if done is None:
            if returns:
                first = sign + timedelta(days=self.days(2, 6))
                steps += [("report", first, report, photos),
                          ("return", first + timedelta(days=self.days(1, 2)), RETURN_REASONS[self.days(0, 2)], 0)]
            return steps
        cur = sign
        for n in range(returns):
            early = max(cur, done - timedelta(days=2 * (returns - n) + 1))
            steps += [("report", early, report, photos), ("return", early + timedelta(days=1), RETURN_REASONS[n % 3], 0)]
            cur = early + timedelta(days=1)
        final = max(done, cur)
        steps.append(("report", final, report, photos))
        if close_on is not None and close_on >= final:
            passed = max(final, close_on - timedelta(days=1))
            return steps + [("pass", passed, "经复查，整改到位。", 0), ("close", close_on, "办结归档。", 0)]
        passed = final + timedelta(days=self.days(1, 3))
        return steps + [("pass", passed, "经复查，整改到位。", 0),
                        ("close", passed + timedelta(days=self.days(0, 2)), "办结归档。", 0)]


def _monday_after(d: date) -> date:
    return d + timedelta(days=7 - d.weekday())


def _findings(h: _History, engine: Engine, base: list[str]) -> None:
    f = m.Finding
    df = pd.read_sql(select(f.id, f.code, f.subdistrict_code, f.place_name, f.category, f.description, f.deadline,
                            f.rectified_on).where(f.subdistrict_code.in_(base), f.deadline >= date(2023, 12, 20),
                                                  f.deadline < END).order_by(f.deadline, f.code), engine)
    for r in df.itertuples(index=False):
        deadline = pd.Timestamp(r.deadline).date()
        fixed = None if r.rectified_on is None or pd.isna(r.rectified_on) else pd.Timestamp(r.rectified_on).date()
        issued = _monday_after(deadline)  # the weekly review after it fell overdue
        if issued > END or (fixed is not None and fixed <= issued + timedelta(days=1)):
            continue
        name = h.names[r.subdistrict_code]
        returns = 2 if h.chance(0.15) else (1 if h.chance(0.25) else 0)
        h.order(issued=issued, deadline=issued + timedelta(days=10), kind="finding", ref=r.code, unit_kind="subdistrict",
                unit_name=name, code=r.subdistrict_code, finding_id=int(r.id),
                title=f"逾期问题整改：{r.place_name}（{r.category}，{r.code}）",
                requirement=f"{r.description or r.category}。整改期限 {deadline:%Y-%m-%d}，已逾期。请立即整改，反馈整改情况并上传整改后的照片。",
                steps=h.loop(issued, fixed, f"已完成整改：{r.description or r.category}问题已落实整改，整改后照片见附件。", returns))


def _visits(h: _History, engine: Engine, base: list[str]) -> None:
    """Each month, the week containing the 20th: the two subdistricts with the most elders under-visited so far."""
    for month in range(1, 13):
        wk = week_of(date(2024, month, 20))
        so_far = custom(date(2024, month, 1), wk.end)
        comp = services.living_alone_visit_compliance(engine, so_far, None)
        comp = comp[comp["subdistrict_code"].isin(base)]
        below = (~comp["compliant"].astype(bool)).groupby(comp["subdistrict_code"]).sum().sort_values(
            ascending=False, kind="stable")
        issued = wk.end + timedelta(days=1)
        _, month_end = rules.month_bounds(rules.month_key(wk.end))
        for code, n in below.head(2).items():
            if n < 3:
                continue
            name = h.names[code]
            on_time = h.chance(h.diligence[code])
            done = month_end - timedelta(days=h.days(0, 4)) if on_time else month_end + timedelta(days=h.days(2, 9))
            h.order(issued=issued, deadline=month_end, kind="visits", ref=f"{code}:{rules.month_key(wk.end)}",
                    unit_kind="subdistrict", unit_name=name, code=code,
                    title=f"独居老人巡访不足：{name}{wk.end.month}月有 {int(n)} 人巡访不足两次",
                    requirement=f"截至{wk.end:%m月%d日}，有 {int(n)} 名在册独居老人本月巡访不足两次。请于月底前完成补访并录入巡访台账。",
                    steps=h.loop(issued, done, f"已完成补访 {int(n)} 人，巡访台账已录入。",
                                 photos=0))


def _silent(h: _History, engine: Engine, base: list[str]) -> None:
    """The last weekly review of the year: silent meal points and a silent ledger, issued on 12-30, due 2025-01-03."""
    week = week_of(date(2024, 12, 29))
    issued, due = date(2024, 12, 30), date(2025, 1, 3)
    for r in weekly.silent_meal_points(engine, week, None).itertuples(index=False):
        if r.subdistrict_code not in base:
            continue
        h.order(issued=issued, deadline=due, kind="meal_point", ref=r.code, unit_kind="subdistrict",
                unit_name=h.names[r.subdistrict_code], code=r.subdistrict_code, facility_id=int(r.id),
                title=f"助餐点无助餐记录：{r.name}",
                requirement=f"该助餐点连续 {weekly.SILENT_MEAL_DAYS} 天以上无助餐记录。请核实运营情况，补录助餐台账或说明停业原因。",
                steps=[])
    for r in weekly.silent_ledgers(engine, week, None).itertuples(index=False):
        if r.subdistrict_code not in base:
            continue
        h.order(issued=issued, deadline=due, kind="ledger", ref=f"{r.subdistrict_code}:{week.key}",
                unit_kind="subdistrict", unit_name=h.names[r.subdistrict_code], code=r.subdistrict_code,
                title=f"台账未更新：{r.subdistrict_name}{week.label}无任何台账记录",
                requirement="本周未报送任何台账。请核实并补报助餐、上门服务、巡访、救助发放等台账。",
                steps=[("sign", issued, "已签收。", 0)])


def _roundtable(h: _History, engine: Engine, n_meetings: int) -> None:
    """Every request still open on 2024-01-01 or raised in 2024 went to a department (the office records its steps)."""
    i, mt = m.RoundtableIssue, m.RoundtableMeeting
    df = pd.read_sql(select(i.id, i.raised_by, i.topic, i.resolved_on, mt.held_on).join(mt, mt.id == i.meeting_id)
                     .where(mt.id <= n_meetings).order_by(mt.held_on, i.id), engine)
    for r in df.itertuples(index=False):
        held = pd.Timestamp(r.held_on).date()
        solved = None if r.resolved_on is None or pd.isna(r.resolved_on) else pd.Timestamp(r.resolved_on).date()
        if solved is not None and solved < YEAR_START:
            continue
        issued = held + timedelta(days=1)
        dept = rules.DEPARTMENTS[int(h.rng.integers(len(rules.DEPARTMENTS)))]
        if solved is not None:
            steps = h.loop(issued, solved - timedelta(days=min(2, (solved - issued).days)),
                           f"已与{r.raised_by}对接，{r.topic}事项已协调落实。", photos=0, close_on=solved)
        else:
            steps = h.loop(issued, None, "")
            if h.chance(0.5) and issued + timedelta(days=20) <= END:
                steps.append(("report", issued + timedelta(days=20), f"正在与{r.raised_by}协商{r.topic}事项，已形成初步方案。", 0))
        h.order(issued=issued, deadline=issued + timedelta(days=45), kind="roundtable", ref=f"RT-{int(r.id)}",
                unit_kind="department", unit_name=dept, code=None, roundtable_issue_id=int(r.id),
                title=f"圆桌会诉求：{r.topic}",
                requirement=f"{r.raised_by}在{held:%Y年%m月%d日}“幸福圆桌会”上提出：{r.topic}。请牵头协调解决并反馈结果。",
                steps=steps)


def _stations(h: _History, engine: Engine, base: list[str], stations: pd.DataFrame) -> None:
    """Per station and month: its entries for the hand-entered duties, its dispatch meeting (tasks → orders) and the
    群众诉求 given to it."""
    tasks = sq._tasks(engine, "2024-01")
    manual = tasks[tasks["source"] == "manual"]
    for month in range(1, 13):
        key = f"2024-{month:02d}"
        first, last = rules.month_bounds(key)
        counts = sq._station_counts(engine, key, None)
        counts = counts[counts["subdistrict_code"].isin(base)].set_index("subdistrict_code")
        for code in base:
            opened = stations.get(code)
            if opened is None or opened > last:
                continue
            keen = h.diligence[code]
            row = counts.loc[code]
            basis = {b: row[col] for b, col in sq.BASIS_COUNT.items()}
            for t in manual.itertuples(index=False):
                plan = rules.planned(t.quantity, t.basis, basis)
                done = float(round(plan * min(1.15, h.rng.uniform(keen - 0.25, keen + 0.15))))
                h.entries.append(dict(month=first, subdistrict_code=code, task_code=t.code, done=max(done, 0.0),
                                      note=None, entered_by=NANPU_ACCOUNT if code == NANPU else OFFICE,
                                      entered_at=datetime.combine(last, time(17, 30)), version=1))
            held = first + timedelta(days=h.days(2, 6))
            held = max(held, opened)
            if held > last:
                continue
            did = len(h.dispatches) + 1
            h.dispatches.append(dict(id=did, subdistrict_code=code, month=first, held_on=held,
                                     attendees=f"区民政局业务科室、{h.names[code]}分管领导、民政服务站站长及驻站社工、各社区民政专干",
                                     decisions=DECISIONS[(month + did) % len(DECISIONS)], created_by=OFFICE,
                                     created_at=datetime.combine(held, time(16, 0))))
            for n in range(1 + int(h.chance(0.5))):
                title, req = DISPATCH_TASKS[int(h.rng.integers(len(DISPATCH_TASKS)))]
                deadline = last - timedelta(days=h.days(0, 6))
                on_time = h.chance(keen)
                done = deadline - timedelta(days=h.days(0, 5)) if on_time else deadline + timedelta(days=h.days(2, 12))
                h.order(issued=held, deadline=deadline, kind="dispatch", ref=f"D-{did}-{n + 1}", unit_kind="subdistrict",
                        unit_name=h.names[code], code=code, dispatch_id=did, title=title, requirement=req,
                        steps=h.loop(held, max(done, held), f"{title}已完成，相关记录见附件。",
                                     returns=int(not on_time and h.chance(0.4))))
            for _ in range(int(h.rng.poisson(0.8))):
                issued = first + timedelta(days=h.days(0, 24))
                if issued < opened:
                    continue
                what = COMPLAINTS[int(h.rng.integers(len(COMPLAINTS)))]
                on_time = h.chance(keen)
                done = issued + timedelta(days=h.days(2, 7) if on_time else h.days(9, 16))
                h.order(issued=issued, deadline=issued + timedelta(days=7), kind="complaint", ref=None,
                        unit_kind="subdistrict", unit_name=h.names[code], code=code, title=f"群众诉求：{what}",
                        requirement=f"12345 热线转办：{what}。请于 7 日内核实处理并答复群众。",
                        steps=h.loop(issued, done, "已核实处理并电话答复诉求人，诉求人表示满意。",
                                     photos=0))


def _rows(h: _History) -> dict:
    """Number the orders by issue day (DB-<year>-<n>) and lay out replica 0's rows for every table."""
    out = {"dispatch_records": h.dispatches, "supervision_orders": [], "supervision_events": [],
           "supervision_evidence": [], "station_entries": [dict(r, id=i + 1) for i, r in enumerate(h.entries)]}
    per_year: Counter = Counter()
    photo = 0
    for oid, o in enumerate(sorted(h.orders, key=lambda o: (o["issued"], o["kind"], o["ref"] or "", o["title"])), 1):
        per_year[o["issued"].year] += 1
        code = f"DB-{o['issued'].year}-{per_year[o['issued'].year]:04d}"
        history = [(rules.ISSUE, o["issued"])] + [(a, d) for a, d, _, _ in o["steps"]]
        state = rules.state_after(history)
        links = o["links"]
        out["supervision_orders"].append(dict(
            id=oid, code=code, source_kind=o["kind"], source_ref=o["ref"], finding_id=links.get("finding_id"),
            facility_id=links.get("facility_id"), roundtable_issue_id=links.get("roundtable_issue_id"),
            dispatch_id=links.get("dispatch_id"), title=o["title"][:200], requirement=o["requirement"],
            unit_kind=o["unit_kind"], unit_name=o["unit_name"], subdistrict_code=o["code"], assignee=o["assignee"],
            issued_on=o["issued"], deadline=o["deadline"], issued_by=OFFICE, status=state["status"],
            returned=state["returned"], reported_on=state["reported_on"],
            accepted_report_on=state["accepted_report_on"], closed_on=state["closed_on"],
            version=len(history)))
        at = datetime.combine(o["issued"], time(9, 0)) + timedelta(minutes=7 * (oid % 60))
        prev = None
        for action, day, note, photos in [(rules.ISSUE, o["issued"], o["requirement"], 0)] + o["steps"]:
            at = max(at + timedelta(minutes=20), datetime.combine(day, time(9 + (oid + len(out["supervision_events"])) % 8, 0)))
            office_step = action == rules.ISSUE or rules.STEPS[action].side == rules.OFFICE
            who, role = (OFFICE, "office") if office_step else h.unit_actor(o["unit_kind"], o["code"])
            if o["unit_kind"] != "subdistrict" and action in ("sign", "report"):
                note = f"（代{o['unit_name']}）{note}"
            eid = len(out["supervision_events"]) + 1
            to = "pending" if action == rules.ISSUE else rules.STEPS[action].target
            out["supervision_events"].append(dict(id=eid, order_id=oid, at=at, action=action, from_status=prev,
                                                  to_status=to, actor=who, actor_role=role, note=note))
            for k in range(photos if action == "report" else 0):
                content = _photo(photo)
                photo += 1
                out["supervision_evidence"].append(dict(
                    id=len(out["supervision_evidence"]) + 1, order_id=oid, event_id=eid,
                    file_name=f"整改照片{k + 1}.png", media_type="image/png", size_bytes=len(content),
                    sha256=hashlib.sha256(content).hexdigest(), content=content, uploaded_by=who,
                    uploaded_at=at))
            prev = to
    return out


TABLES = [("dispatch_records", DispatchRecord), ("supervision_orders", SupervisionOrder),
          ("supervision_events", SupervisionEvent), ("supervision_evidence", SupervisionEvidence),
          ("station_entries", StationEntry)]


def _replica(rows: dict, k: int, offsets: dict, names: dict) -> dict:
    """Replica k of replica 0's rows: ids offset, subdistrict codes and order codes suffixed "-k", links moved."""
    if k == 0:
        return rows
    sfx = f"-{k}"
    n = {t: len(r) for t, r in rows.items()}

    def sd(code):
        return None if code is None else code + sfx

    out = {}
    out["dispatch_records"] = [dict(r, id=r["id"] + k * n["dispatch_records"], subdistrict_code=sd(r["subdistrict_code"]))
                               for r in rows["dispatch_records"]]
    orders = []
    for r in rows["supervision_orders"]:
        o = dict(r, id=r["id"] + k * n["supervision_orders"], code=r["code"] + sfx, subdistrict_code=sd(r["subdistrict_code"]),
                 source_ref=None if r["source_ref"] is None else r["source_ref"] + sfx)
        for col, table in (("finding_id", "findings"), ("facility_id", "facilities"),
                           ("roundtable_issue_id", "roundtable_issues")):
            if r[col] is not None:
                o[col] = r[col] + k * offsets[table]
        if r["dispatch_id"] is not None:
            o["dispatch_id"] = r["dispatch_id"] + k * n["dispatch_records"]
        if r["unit_kind"] == "subdistrict":
            o["unit_name"] = names[o["subdistrict_code"]]
        orders.append(o)
    out["supervision_orders"] = orders
    out["supervision_events"] = [dict(r, id=r["id"] + k * n["supervision_events"],
                                      order_id=r["order_id"] + k * n["supervision_orders"]) for r in rows["supervision_events"]]
    out["supervision_evidence"] = [dict(r, id=r["id"] + k * n["supervision_evidence"],
                                        order_id=r["order_id"] + k * n["supervision_orders"],
                                        event_id=r["event_id"] + k * n["supervision_events"])
                                   for r in rows["supervision_evidence"]]
    out["station_entries"] = [dict(r, id=r["id"] + k * n["station_entries"], subdistrict_code=sd(r["subdistrict_code"]))
                              for r in rows["station_entries"]]
    return out


def build(engine: Engine, scale: int = 1, seed: int = 0) -> dict:
    """Write the 2024 督办 and station history for every replica, then publish every month's scores; rows per table."""
    rng = np.random.default_rng(seed + SEED_OFFSET)
    with engine.connect() as conn:
        names = dict(conn.execute(select(m.Subdistrict.code, m.Subdistrict.name)).all())
        totals = {t: conn.execute(select(func.count()).select_from(model)).scalar() // scale
                  for t, model in (("findings", m.Finding), ("facilities", m.Facility),
                                   ("roundtable_issues", m.RoundtableIssue),
                                   ("roundtable_meetings", m.RoundtableMeeting))}
        st = conn.execute(select(m.ServiceStation.subdistrict_code, m.ServiceStation.opened_on)
                          .where(m.ServiceStation.level.in_(sq.STATION_LEVELS))).all()
    base = sorted(c for c in names if "-" not in c)
    stations = {c: pd.Timestamp(d).date() for c, d in st if c in base}
    diligence = {c: float(rng.uniform(0.62, 0.97)) for c in base}
    h = _History(rng, names, diligence)
    _findings(h, engine, base)
    _visits(h, engine, base)
    _silent(h, engine, base)
    _roundtable(h, engine, totals["roundtable_meetings"])
    _stations(h, engine, base, stations)
    rows = _rows(h)
    counts: Counter = Counter()
    with engine.begin() as conn:
        for k in range(scale):
            rep = _replica(rows, k, totals, names)
            for table, model in TABLES:
                batch = rep[table]
                for i in range(0, len(batch), CHUNK):
                    conn.execute(model.__table__.insert(), batch[i:i + CHUNK])
                counts[table] += len(batch)
        if conn.dialect.name == "postgresql":
            for table, _model in TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"coalesce((SELECT max(id) FROM {table}), 1), (SELECT max(id) FROM {table}) IS NOT NULL)"))
    counts["station_scores"] = _publish_year(engine)
    return dict(counts)


def _publish_year(engine: Engine) -> int:
    """Publish every month of 2024 as the office would have, on the first working day of the next month."""
    n = 0
    rows = []
    for month in range(1, 13):
        key = f"2024-{month:02d}"
        first, last = rules.month_bounds(key)
        scores = sq.station_scores(engine, key)
        scores = scores[scores["assessed"].astype(bool)]
        ranks = rules.rank(dict(zip(scores["subdistrict_code"], scores["score"])))
        weights = sq.supervision_settings(engine).weights
        at = datetime.combine(last + timedelta(days=1), time(10, 0))
        while at.weekday() >= 5:
            at += timedelta(days=1)
        for r in scores.to_dict("records"):
            parts = {"rates": {k: _plain(r[f"rate_{k}"]) for k in rules.SCORE_PARTS},
                     "points": {k: _plain(r[f"points_{k}"]) for k in rules.SCORE_PARTS}, "weights": weights}
            rows.append(dict(month=first, subdistrict_code=r["subdistrict_code"], score=float(r["score"]),
                             rank=ranks[r["subdistrict_code"]], ranked=len(scores),
                             parts_json=json.dumps(parts, ensure_ascii=False), published_by=OFFICE,
                             published_at=at))
        n += len(scores)
    with engine.begin() as conn:
        for i in range(0, len(rows), CHUNK):
            conn.execute(StationScore.__table__.insert(), rows[i:i + CHUNK])
    return n


def _plain(v):
    return None if v is None or (isinstance(v, float) and v != v) else float(v)
