"""督办 and station assessment (issue 21): the loop's rules, warnings and the 100-point score in plain Python; the
score of a small hand-made district checked against a hand computation, a 督办单 walked through its whole life, every
refusal (bad input, wrong role, another street, a stale step) and the street scope — on SQLite and PostgreSQL; and
the demo's 2024 history (F74 comes out of the loop)."""
from __future__ import annotations

import io
import json
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

import factories as fx
from data.db.engine import get_engine
from data.db.models import (Community, Finding, RoundtableIssue, RoundtableMeeting, ServiceStation,
                            SupervisionEvent, SupervisionEvidence, SupervisionOrder)
from data.domain import supervision as rules
from data.queries import supervision as sq
from data.security.access import AccessDenied, Principal, Reader, call
from data.security.audit import audit_entries
from data.writes import supervision as writes
from data.writes.edits import EditError, StaleEdit

A, B = "360103901", "360103902"
OFFICE = Principal("t_office", "office")
STREET_A = Principal("t_street_a", "street", A)
STREET_B = Principal("t_street_b", "street", B)
LEADER = Principal("t_leader", "leader")
DISPLAY = Principal("t_display", "display")
JUNE = "2024-06"
TODAY = date.today()


def png(colour=(10, 120, 200), size=(32, 24)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- rules in plain Python -------------------------------------------------------------------------------------------

def test_each_step_belongs_to_one_side():
    sign, report, pass_, ret, close = (rules.STEPS[k] for k in ("sign", "report", "pass", "return", "close"))
    # a subdistrict's order: its own street account signs and reports, the office verifies and archives
    assert rules.may_act(sign, "street", "subdistrict", A, A) and rules.may_act(report, "street", "subdistrict", A, A)
    assert not rules.may_act(sign, "street", "subdistrict", A, B)       # another street
    assert not rules.may_act(sign, "office", "subdistrict", A, None)    # the office does not sign for a street
    assert not rules.may_act(sign, "leader", "subdistrict", A, None)
    assert all(rules.may_act(s, "office", "subdistrict", A, None) for s in (pass_, ret, close))
    assert not any(rules.may_act(s, "street", "subdistrict", A, A) for s in (pass_, ret, close))
    # a department has no account: the office records its steps
    assert rules.may_act(sign, "office", "department", None, None) and not rules.may_act(sign, "street", "department",
                                                                                       None, A)
    assert [s.action for s in rules.allowed_steps("reported", "office", "subdistrict", A, None)] == ["pass", "return"]
    assert [s.action for s in rules.allowed_steps("returned", "street", "subdistrict", A, A)] == ["report"]
    assert rules.allowed_steps("closed", "office", "subdistrict", A, None) == []


def test_state_after_a_history():
    d = date(2024, 6, 1)
    history = [("issue", d), ("sign", d), ("report", d + timedelta(3)), ("return", d + timedelta(4)),
               ("report", d + timedelta(6)), ("pass", d + timedelta(7)), ("close", d + timedelta(8))]
    assert rules.state_after(history) == {"status": "closed", "returned": 1, "reported_on": d + timedelta(6),
                                          "accepted_report_on": d + timedelta(6), "passed_on": d + timedelta(7),
                                          "closed_on": d + timedelta(8)}
    assert rules.state_after(history[:4])["status"] == "returned"


@pytest.mark.parametrize("status,deadline_offset,returned,reported_offset,level", [
    ("working", 5, 0, None, None),         # due in 5 days: no warning
    ("working", 3, 0, None, "blue"),       # due within 3 days
    ("pending", 0, 0, None, "blue"),       # due today
    ("working", -1, 0, None, "yellow"),    # overdue
    ("working", -7, 0, None, "yellow"),    # overdue exactly 7 days: still yellow
    ("working", -8, 0, None, "orange"),    # overdue more than 7 days
    ("returned", 10, 2, None, "orange"),   # returned twice, not overdue
    ("working", -15, 0, None, "orange"),
    ("working", -16, 0, None, "red"),      # overdue more than 15 days
    ("reported", -20, 0, -21, None),       # reported on time, waiting for review: not late
    ("reported", -20, 0, 0, "red"),        # reported 20 days late
    ("passed", -30, 0, -31, None),         # verified: no warning
])
def test_warning_levels_follow_the_deadline(status, deadline_offset, returned, reported_offset, level):
    on = date(2024, 12, 31)
    deadline = on + timedelta(days=deadline_offset)
    reported = None if reported_offset is None else on + timedelta(days=reported_offset)
    assert rules.order_level(status, deadline, on, returned, reported)[0] == level


def test_thresholds_are_settings():
    on = date(2024, 12, 31)
    strict = rules.Settings(blue_days=5, orange_days=2, red_days=4)
    assert rules.order_level("working", on + timedelta(5), on, s=strict)[0] == "blue"
    assert rules.order_level("working", on - timedelta(3), on, s=strict)[0] == "orange"
    assert rules.order_level("working", on - timedelta(5), on, s=strict)[0] == "red"
    assert rules.subdistrict_red(10, 4) and not rules.subdistrict_red(10, 3) and not rules.subdistrict_red(0, 0)
    assert rules.is_current("passed", on - timedelta(30), on) and not rules.is_current("passed", on - timedelta(31), on)


@pytest.mark.parametrize("change,field", [
    ({"blue_days": 0}, "蓝色预警：距期限天数"), ({"red_days": 7}, "红色预警：逾期天数"),
    ({"red_share": 1.5}, "红色预警：街道逾期占比"), ({"evidence_max_mb": 51}, "附件大小上限"),
    ({"weights": {**rules.DEFAULT_WEIGHTS, "tasks": 50}}, "合计应为 100 分"),
])
def test_bad_settings_name_the_field(change, field):
    with pytest.raises(rules.SettingsError, match=field):
        rules.check_settings(rules.Settings(**{**rules.Settings().__dict__, **change}))
    assert rules.check_settings(rules.Settings()) == rules.Settings()


def test_score_and_rank_by_hand():
    rates = {"tasks": 0.5, "on_time": None, "ledger": 0.8, "visits": 0.25, "requests": 1.0}
    score, points = rules.station_score(rates, rules.DEFAULT_WEIGHTS)
    assert points == {"tasks": 20.0, "on_time": 20.0, "ledger": 12.0, "visits": 3.75, "requests": 10.0}
    assert score == 65.8  # 20 + 20 (nothing due: full marks) + 12 + 3.75 + 10 = 65.75 → 65.8
    assert rules.rank({"a": 90.0, "b": 80.5, "c": 90.0, "d": 70.0}) == {"a": 1, "c": 1, "b": 3, "d": 4}
    assert [w[1] for w in rules.weeks_of_month("2024-06")] == [date(2024, 6, d) for d in (2, 9, 16, 23, 30)]
    assert rules.planned(2, "per_elder", {"per_elder": 4}) == 8 and rules.planned(15, "fixed", {}) == 15
    assert rules.completion(5, 9) == 1.0 and rules.completion(0, 3) is None
    assert "任务完成率 × 40" in rules.formula_text(rules.DEFAULT_WEIGHTS)


# --- a small district on both engines --------------------------------------------------------------------------------

def _district(engine) -> None:
    """Two subdistricts; A's station opened before June 2024, B's after (not assessed in June)."""
    fx.subdistricts(engine, (A, "甲街道"), (B, "乙街道"))
    with engine.begin() as conn:
        conn.execute(insert(Community), [dict(code=c + "001", name=f"{n}一社区", short_name="一", kind="社区居委会",
                                              subdistrict_code=c, lon=115.9, lat=28.6) for c, n in ((A, "甲"), (B, "乙"))])
        conn.execute(insert(ServiceStation), [
            dict(id=1, name="甲街道民政服务站", level="subdistrict", subdistrict_code=A, opened_on=date(2024, 1, 1)),
            dict(id=2, name="乙街道民政服务站", level="subdistrict", subdistrict_code=B, opened_on=date(2024, 7, 1))])
        conn.execute(insert(Finding), [dict(id=1, code="FA1", source="inspection_group", place_type="养老机构",
                                            place_name="甲院", subdistrict_code=A, category="消防安全", severity="一般",
                                            found_on=date(2024, 10, 1), deadline=date(2024, 10, 31))])
        conn.execute(insert(RoundtableMeeting), [dict(held_on=date(2024, 9, 26), title="第三季度圆桌会")])
        conn.execute(insert(RoundtableIssue), [dict(meeting_id=1, raised_by="甲公司", topic="助餐补贴拨付")])


@pytest.fixture
def small(db_url):
    engine = get_engine(db_url)
    _district(engine)
    return engine


def _june_ledgers(engine) -> None:
    """A in June 2024: 4 elders (visited 2, 3, 1, 0 times on 6 days in 3 of the month's 5 weeks), 12 screenings,
    2 aid windows (1 complete), 1 meal point, entries 政策宣讲 1 and 助餐点巡查 2, and 3 orders due in June."""
    born = date(1940, 1, 1)
    fx.insert(engine, "LivingAloneElder", *[dict(id=i, name=f"甲{i}", id_number=f"99999919400101{i:03d}X", phone=None,
                                                 address=None, birth_date=born, subdistrict_code=A,
                                                 community_code=A + "001", enrolled_on=date(2023, 1, 1))
                                            for i in range(1, 5)])
    days = {1: [3, 20], 2: [5, 12, 21], 3: [13]}
    fx.insert(engine, "LivingAloneVisit", *[dict(elder_id=e, visited_on=date(2024, 6, d), subdistrict_code=A,
                                                 visit_type="巡访") for e, ds in days.items() for d in ds])
    fx.insert(engine, "Screening", *[dict(screened_on=date(2024, 6, 10 + i), subdistrict_code=A,
                                          community_code=A + "001", person_name="某", category="低收入")
                                     for i in range(12)])
    fx.insert(engine, "AidWindow", dict(name="甲窗口", subdistrict_code=A, has_sign=True, has_list_rack=True,
                                        has_leaflet_rack=True, has_intake_book=True),
              dict(name="甲社区窗口", subdistrict_code=A, has_sign=True, has_list_rack=False, has_leaflet_rack=True,
                   has_intake_book=True))
    fx.insert(engine, "Facility", dict(id=5, code="MP-A", name="甲助餐点", kind="meal_point", subdistrict_code=A,
                                       lon=115.9, lat=28.6, opened_on=date(2024, 1, 1)))
    first = date(2024, 6, 1)
    fx.insert(engine, "StationEntry", *[dict(month=first, subdistrict_code=A, task_code=t, done=d, entered_by="x",
                                             entered_at=datetime(2024, 6, 30), version=1)
                                        for t, d in (("policy", 1), ("meal_patrol", 2))])

    def order(i, kind, deadline, accepted):
        return dict(id=i, code=f"DB-2024-{i:04d}", source_kind=kind, title="事项", requirement="要求",
                    unit_kind="subdistrict", unit_name="甲街道", subdistrict_code=A, assignee="站长",
                    issued_on=date(2024, 6, 1), deadline=deadline, issued_by="x",
                    status="passed" if accepted else "working", returned=0, accepted_report_on=accepted, version=1)

    fx.insert(engine, "SupervisionOrder", order(1, "finding", date(2024, 6, 10), date(2024, 6, 10)),
              order(2, "dispatch", date(2024, 6, 20), None), order(3, "complaint", date(2024, 6, 15), date(2024, 6, 12)),
              order(4, "finding", date(2024, 7, 5), None))  # due in July: not June's


def test_station_score_matches_a_hand_computation(small):
    _june_ledgers(small)
    board = call(OFFICE, sq.station_board, small, JUNE).set_index(["subdistrict_code", "task_code"])
    a = board.loc[A]
    # planned: 2 × 4 elders, 15, 2, 1 × 2 windows, 2 × 1 meal point, 1 × 5 weeks; done from the ledgers / entries
    assert a["planned"].to_dict() == {"visits": 8, "screening": 15, "policy": 2, "windows": 2, "meal_patrol": 2,
                                      "ledger": 5}
    assert a["done"].to_dict() == {"visits": 6, "screening": 12, "policy": 1, "windows": 1, "meal_patrol": 2,
                                   "ledger": 3}
    assert a.loc["visits", "source_name"].startswith("独居老人巡访记录") and a.loc["policy", "source_name"] == "站点填报"
    s = call(OFFICE, sq.station_scores, small, JUNE).set_index("subdistrict_code")
    tasks = (6 / 8 + 12 / 15 + 1 / 2 + 1 / 2 + 2 / 2 + 3 / 5) / 6
    hand = 40 * tasks + 20 * (1 / 2) + 15 * (3 / 5) + 15 * (2 / 4) + 10 * 1
    assert s.loc[A, "rate_tasks"] == pytest.approx(tasks)
    assert (s.loc[A, "due"], s.loc[A, "on_time"], s.loc[A, "requests_due"], s.loc[A, "requests_on_time"]) == (2, 1, 1, 1)
    assert s.loc[A, "score"] == round(hand, 1) == 64.2
    assert not bool(s.loc[B, "assessed"])
    # the weights are settings: all on visits, the score is the visit compliance
    writes.save_settings(small, OFFICE, rules.Settings(weights={"tasks": 0, "on_time": 0, "ledger": 0, "visits": 100,
                                                                "requests": 0}))
    assert call(OFFICE, sq.station_scores, small, JUNE).set_index("subdistrict_code").loc[A, "score"] == 50.0
    # published: ranked among the assessed stations; the street sees its own row and rank only
    writes.save_settings(small, OFFICE, rules.Settings())
    writes.publish_assessment(small, OFFICE, JUNE)
    ranking = call(OFFICE, sq.assessment, small, JUNE)
    assert ranking["published"] and list(ranking["rows"]["subdistrict_code"]) == [A]
    mine = call(STREET_A, sq.published_scores, small)
    assert list(mine["subdistrict_code"]) == [A] and mine["rank"].iloc[0] == 1 and mine["score"].iloc[0] == 64.2
    with pytest.raises(AccessDenied):
        call(STREET_A, sq.assessment, small, JUNE)
    with pytest.raises(EditError, match="考核结果已发布"):
        writes.save_station_entry(small, OFFICE, JUNE, A, "policy", 2, None, 1)
    with pytest.raises(EditError, match="尚未结束"):
        writes.publish_assessment(small, OFFICE, rules.month_key(TODAY))


def _issue(engine, who=OFFICE, **kw):
    values = dict(unit=f"subdistrict:{A}", assignee="甲街道民政服务站站长", deadline=TODAY + timedelta(days=7),
                  title="逾期问题整改：甲院（消防安全，FA1）", requirement="请立即整改并上传照片。", source_kind="finding",
                  source_ref="FA1", finding_id=1)
    values.update(kw)
    return writes.issue_order(engine, who, **values)


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar()


def test_a_order_goes_office_street_office_and_closes_its_finding(small):
    order = _issue(small)
    assert order["code"] == f"DB-{TODAY.year}-0001" and order["status"] == "pending" and order["version"] == 1
    order = writes.transition(small, STREET_A, order["id"], 1, "sign")
    order = writes.transition(small, STREET_A, order["id"], 2, "report", note="已更换灭火器",
                              files=[writes.Evidence("现场.png", png()), writes.Evidence("验收.pdf", PDF)])
    assert order["status"] == "reported" and order["reported_on"] == TODAY
    order = writes.transition(small, OFFICE, order["id"], 3, "return", note="照片不清晰")
    order = writes.transition(small, STREET_A, order["id"], 4, "report", note="已补充照片",
                              files=[writes.Evidence("现场2.jpg", _jpeg())])
    order = writes.transition(small, OFFICE, order["id"], 5, "pass")
    order = writes.transition(small, OFFICE, order["id"], 6, "close")
    assert (order["status"], order["returned"], order["accepted_report_on"], order["version"]) == \
        ("closed", 1, TODAY, 7)
    with small.connect() as conn:
        finding = conn.execute(select(Finding.rectified_on, Finding.note, Finding.version)).one()
        events = conn.execute(select(SupervisionEvent.action).order_by(SupervisionEvent.id)).scalars().all()
    assert finding.rectified_on == TODAY and "复查通过" in finding.note and finding.version == 2
    assert events == ["issue", "sign", "report", "return", "report", "pass", "close"]
    assert _count(small, SupervisionEvidence) == 3
    log = audit_entries(small, actions=("duban_issue", "duban_step"))
    assert len(log) == 7 and log["ok"].all()
    last = json.loads(log.iloc[0]["detail"])
    assert (last["from"], last["to"], last["finding"]) == ("passed", "closed", "FA1")
    assert len(audit_entries(small, actions=("edit",))) == 1  # the finding's rectification, as an edit
    # the history as of a day: before the report, the order was 整改中
    got = call(OFFICE, sq.orders, small, TODAY).set_index("code")
    assert got.loc[order["code"], "status"] == "closed" and got.loc[order["code"], "level"] is None
    # evidence: the street and the office read it, another street and the display role cannot
    ev = call(OFFICE, sq.order_detail, small, order_id=order["id"])["evidence"]
    first = int(ev["id"].iloc[0])
    assert call(STREET_A, sq.evidence_file, small, first)["content"] == png()
    with pytest.raises(AccessDenied):
        call(STREET_B, sq.evidence_file, small, first)
    with pytest.raises(AccessDenied):
        call(DISPLAY, sq.evidence_file, small, first)


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buf, format="JPEG")
    return buf.getvalue()


def test_a_roundtable_request_closed_in_the_loop_counts_in_f74(small):
    from data.domain.figures import figure
    from data.domain.period import custom

    period = custom(date(TODAY.year, 1, 1), TODAY)
    before = figure("F74").compute(small, period)["resolved"]
    order = _issue(small, unit=f"department:{rules.DEPARTMENTS[0]}", source_kind="roundtable", source_ref="RT-1",
                   finding_id=None, roundtable_issue_id=1, title="圆桌会诉求：助餐补贴拨付")
    # the department has no account: the office records its steps
    with pytest.raises(AccessDenied, match="由业务科室代为签收"):
        writes.transition(small, STREET_A, order["id"], 1, "sign")
    for v, action, note in [(1, "sign", None), (2, "report", "已拨付"), (3, "pass", None), (4, "close", None)]:
        writes.transition(small, OFFICE, order["id"], v, action, note=note)
    assert figure("F74").compute(small, period)["resolved"] == before + 1
    with small.connect() as conn:
        assert conn.execute(select(RoundtableIssue.resolved_on)).scalar() == TODAY
    # a request recorded at a meeting becomes an order at once
    new = writes.record_request(small, OFFICE, meeting_id=1, raised_by="乙公司", topic="送餐车辆停放",
                                unit=f"department:{rules.DEPARTMENTS[1]}", assignee="科长",
                                deadline=TODAY + timedelta(days=30))
    assert new["source_kind"] == "roundtable" and new["title"] == "圆桌会诉求：送餐车辆停放"
    assert _count(small, RoundtableIssue) == 2


@pytest.mark.parametrize("change,message", [
    ({"deadline": TODAY - timedelta(days=1)}, "“整改期限”.*不能早于今天"),
    ({"unit": "subdistrict:999999999"}, "“责任单位”中的“999999999”不存在"),
    ({"unit": "provider:不存在的公司"}, "“责任单位”中的“不存在的公司”不存在"),
    ({"assignee": "  "}, "请填写“责任人”"),
    ({"title": ""}, "请填写“督办事项”"),
    ({"requirement": "x" * 2001}, "“整改要求”不能超过 2000 个字"),
])
def test_bad_orders_are_refused_naming_the_field(small, change, message):
    with pytest.raises(EditError, match=message):
        _issue(small, **change)
    assert _count(small, SupervisionOrder) == 0 and _count(small, SupervisionEvent) == 0


def test_bad_feedback_and_files_are_refused_and_nothing_is_written(small):
    order = _issue(small)
    writes.transition(small, STREET_A, order["id"], 1, "sign")
    cases = [({"note": ""}, "请填写“整改情况”"),
             ({"files": [writes.Evidence("照片.png", b"MZ\x90\x00" + b"\x00" * 64)]}, "不是扩展名所示的PNG 图片"),
             ({"files": [writes.Evidence("照片.jpg", png())]}, "实际为PNG 图片"),
             ({"files": [writes.Evidence("脚本.exe", b"MZ")]}, "只接受 JPG、PNG 图片和 PDF"),
             ({"files": [writes.Evidence("扫描.pdf", b"%PDF-1.4 no end")]}, "不是完整的 PDF"),
             ({"files": [writes.Evidence("坏图.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)]}, "不是可以打开的PNG 图片"),
             ({"files": [writes.Evidence(f"{i}.png", png()) for i in range(6)]}, "最多上传 5 个附件")]
    for change, message in cases:
        kw = {"note": "已整改", **change}
        with pytest.raises(EditError, match=message):
            writes.transition(small, STREET_A, order["id"], 2, "report", **kw)
    # over the size limit (a setting): 1 MB
    writes.save_settings(small, OFFICE, rules.Settings(evidence_max_mb=1))
    with pytest.raises(EditError, match="超过上限 1 MB"):
        writes.transition(small, STREET_A, order["id"], 2, "report", note="已整改",
                          files=[writes.Evidence("大图.png", png(size=(2000, 2000)) + b"\x00" * (1 << 20))])
    assert _count(small, SupervisionEvidence) == 0 and _count(small, SupervisionEvent) == 2
    with small.connect() as conn:
        assert conn.execute(select(SupervisionOrder.status, SupervisionOrder.version)).one() == ("working", 2)


def test_who_may_act_is_checked_in_the_write_and_audited(small):
    order = _issue(small)
    for who, message in [(STREET_B, "只能办理本街道的督办单"), (OFFICE, "由甲街道签收和反馈"),
                         (LEADER, "局领导账号不能办理督办单"), (DISPLAY, "展示账号不能办理督办单")]:
        with pytest.raises(AccessDenied, match=message):
            writes.transition(small, who, order["id"], 1, "sign")
    with pytest.raises(AccessDenied, match="只有业务科室可以派发督办单"):
        _issue(small, who=STREET_A, source_ref="other")
    writes.transition(small, STREET_A, order["id"], 1, "sign")
    with pytest.raises(AccessDenied, match="只有业务科室可以复查通过"):
        writes.transition(small, STREET_A, order["id"], 2, "pass")
    with pytest.raises(EditError, match="当前为“整改中”，不能办结归档"):
        writes.transition(small, OFFICE, order["id"], 2, "close")
    refused = audit_entries(small, actions=("duban_step", "duban_issue"))
    assert (~refused["ok"]).sum() == 6 and "refused" in refused.iloc[0]["detail"]
    # the same item cannot get a second open order
    with pytest.raises(EditError, match="该事项已有督办单"):
        _issue(small)


def test_two_people_acting_at_once_one_gets_the_conflict(small):
    order = _issue(small)
    writes.transition(small, STREET_A, order["id"], 1, "sign")
    writes.transition(small, STREET_A, order["id"], 2, "report", note="已整改")
    results = []

    def act(action, note):
        try:
            results.append(writes.transition(small, OFFICE, order["id"], 3, action, note=note)["status"])
        except StaleEdit as exc:
            results.append(exc)

    threads = [threading.Thread(target=act, args=a) for a in (("pass", None), ("return", "照片不清"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if isinstance(r, str)]
    lost = [r for r in results if isinstance(r, StaleEdit)]
    assert len(won) == 1 and len(lost) == 1
    assert "已被他人修改" in lost[0].message and lost[0].current["version"] == 4
    assert _count(small, SupervisionEvent) == 4  # issue, sign, report and the one step that won
    conflicts = audit_entries(small, actions=("edit_conflict",))
    assert len(conflicts) == 1 and not conflicts["ok"].any()


def test_a_street_account_reads_only_its_own_orders(small):
    mine = _issue(small)
    theirs = _issue(small, unit=f"subdistrict:{B}", source_ref="other", finding_id=None)
    dept = _issue(small, unit=f"department:{rules.DEPARTMENTS[0]}", source_ref="dept", finding_id=None)
    assert list(call(STREET_A, sq.orders, small, TODAY)["code"]) == [mine["code"]]
    assert set(call(OFFICE, sq.orders, small, TODAY)["code"]) == {mine["code"], theirs["code"], dept["code"]}
    with pytest.raises(AccessDenied):
        call(STREET_A, sq.orders, small, TODAY, B)
    for other in (theirs, dept):
        with pytest.raises(AccessDenied):
            call(STREET_A, sq.order_detail, small, order_id=other["id"])
    counts = call(STREET_A, sq.order_counts, small, TODAY)
    assert list(counts["unit"]) == ["甲街道"] and counts["pending"].iloc[0] == 1
    with pytest.raises(AccessDenied):
        call(DISPLAY, sq.orders, small, TODAY)  # counts only for the display role
    assert call(DISPLAY, sq.order_counts, small, TODAY)["issued"].sum() == 3


def test_settings_and_duty_list_are_saved_by_the_office_only(small):
    with pytest.raises(AccessDenied):
        writes.save_settings(small, STREET_A, rules.Settings(blue_days=5))
    saved = writes.save_settings(small, OFFICE, rules.Settings(blue_days=5))
    assert call(STREET_A, sq.supervision_settings, small).blue_days == 5 and saved.blue_days == 5
    with pytest.raises(EditError, match="相同"):
        writes.save_settings(small, OFFICE, rules.Settings(blue_days=5))
    month = rules.month_key(TODAY)
    rows = [dict(code=c, name=n, unit=u, quantity=q, basis=b, source=s) for c, n, u, q, b, s in rules.DEFAULT_TASKS]
    rows[1]["quantity"] = 20
    got = writes.save_service_tasks(small, OFFICE, month, rows, 0)
    assert got["quantity"].tolist()[1] == 20 and int(got["revision"].iloc[0]) == 1
    with pytest.raises(StaleEdit):
        writes.save_service_tasks(small, OFFICE, month, rows, 0)  # someone saved revision 1 meanwhile
    with pytest.raises(EditError, match="第 2 项“困难群众摸排”的“每月数量”应在 0–10000 之间"):
        writes.save_service_tasks(small, OFFICE, month, [rows[0], {**rows[1], "quantity": -1}], 1)
    with pytest.raises(EditError, match="计划基数"):
        writes.save_service_tasks(small, OFFICE, month, [{**rows[0], "basis": "x"}], 1)
    with pytest.raises(AccessDenied):
        writes.save_service_tasks(small, STREET_A, month, rows, 1)
    # the version applies from its month on; earlier months keep the built-in list
    assert call(OFFICE, sq.service_tasks, small, month)["quantity"].tolist()[1] == 20
    assert call(OFFICE, sq.service_tasks, small, "2020-01")["quantity"].tolist()[1] == 15


def test_entries_and_dispatch_meetings(small):
    month = rules.month_key(TODAY)
    saved = writes.save_station_entry(small, STREET_A, month, A, "policy", 3, "社区宣讲", 0)
    assert saved["version"] == 1
    with pytest.raises(StaleEdit):
        writes.save_station_entry(small, STREET_A, month, A, "policy", 4, None, 0)
    with pytest.raises(AccessDenied):
        writes.save_station_entry(small, STREET_B, month, A, "policy", 4, None, 1)
    with pytest.raises(EditError, match="由台账自动统计"):
        writes.save_station_entry(small, OFFICE, month, A, "visits", 4, None, 0)
    with pytest.raises(EditError, match="“完成数”应为数字"):
        writes.save_station_entry(small, OFFICE, month, A, "policy", "很多", None, 1)
    got = writes.save_dispatch(small, OFFICE, subdistrict_code=A, held_on=TODAY, attendees="站长、社工",
                               decisions="部署走访", tasks=[{"title": "高龄老人走访", "assignee": "站长",
                                                            "deadline": TODAY + timedelta(days=10)}])
    assert len(got["orders"]) == 1
    d = call(STREET_A, sq.dispatch_records, small, month)
    assert list(d["subdistrict_name"]) == ["甲街道"] and got["orders"][0] in d["orders"].iloc[0]
    with pytest.raises(EditError, match="调度记录已存在"):
        writes.save_dispatch(small, OFFICE, subdistrict_code=A, held_on=TODAY, attendees="x", decisions="y")
    with pytest.raises(EditError, match="第 1 项任务的整改期限"):
        writes.save_dispatch(small, OFFICE, subdistrict_code=B, held_on=TODAY, attendees="x", decisions="y",
                             tasks=[{"title": "t", "assignee": "a", "deadline": TODAY - timedelta(days=3)}])
    assert _count(small, SupervisionOrder) == 1


# --- the demo's 2024 --------------------------------------------------------------------------------------------------

def test_demo_history_feeds_the_roundtable_figure_and_every_screen(demo_engine):
    from data.domain.figures import figure
    from data.domain.period import parse

    h1 = parse("2024-H1")
    with demo_engine.connect() as conn:
        closed_h1 = conn.execute(select(func.count()).select_from(SupervisionOrder).where(
            SupervisionOrder.source_kind == "roundtable", SupervisionOrder.status == "closed",
            SupervisionOrder.closed_on.between(h1.start, h1.end))).scalar()
        mismatched = conn.execute(select(func.count()).select_from(SupervisionOrder).join(
            RoundtableIssue, RoundtableIssue.id == SupervisionOrder.roundtable_issue_id).where(
            SupervisionOrder.status == "closed", SupervisionOrder.closed_on != RoundtableIssue.resolved_on)).scalar()
    assert closed_h1 == figure("F74").compute(demo_engine, h1)["resolved"] == 9 and mismatched == 0
    end = date(2024, 12, 31)
    counts = call(OFFICE, sq.order_counts, demo_engine, end)
    assert counts[["blue", "yellow", "orange", "red"]].sum().gt(0).sum() >= 3  # graded warnings at the year's end
    assert counts["red_unit"].any()
    published = call(OFFICE, sq.published_scores, demo_engine)
    assert sorted(set(published["month"])) == [f"2024-{m:02d}" for m in range(1, 13)]
    assert (published.groupby("month").size().loc["2024-12"], published["ranked"].max()) == (10, 10)
    weekly = call(OFFICE, sq.weekly_summary, demo_engine, parse("2024-W52"))
    assert weekly["by_unit"]["issued"].sum() > 0 and len(weekly["chase"]) > 0


def test_views_on_the_demo_for_each_role(demo_engine):
    from views import stations, supervision

    end = date(2024, 12, 31)
    office = supervision.build(Reader(demo_engine, OFFICE), on=end, with_map=False)
    nanpu = Principal("t_street", "street", "360103001")
    street = supervision.build(Reader(demo_engine, nanpu), on=end, with_map=False)
    shown = supervision.build(Reader(demo_engine, DISPLAY), on=end, with_map=False)
    assert office.level_counts == shown.level_counts and shown.table.empty and shown.counts_only
    assert set(street.table["责任单位"]) == {"南浦街道"} and street.inbox is not None
    assert len(street.table) < len(office.table)
    assert street.inbox.to_sign + street.inbox.overdue + street.inbox.waiting >= 1
    red = office.table[office.table["预警"] == "红"]
    assert len(red) == office.level_counts["red"]
    page = stations.build(Reader(demo_engine, OFFICE), "2024-06")
    assert page.published and list(page.ranking["排名"])[:1] == [1] and len(page.ranking) == 10
    mine = stations.build(Reader(demo_engine, nanpu), "2024-06")
    assert mine.ranking is None and "在 10 个站点中排第" in mine.own_rank_text and len(mine.scores) == 1
    report = stations.report(Reader(demo_engine, OFFICE), "2024-06")
    assert report.title == "西湖区街道民政服务站2024年6月工作考核通报" and len(report.table) == 10
    from exports.assessment_docx import assessment_docx

    assert assessment_docx(report)[:2] == b"PK"


@pytest.mark.parametrize("street", [None, "360103010"])
def test_every_item_the_weekly_review_flags_is_drafted_or_already_under_an_open_order(demo_engine, street):
    """待督办事项 come from the review's own lists (the ones 周度研判 shows): each overdue finding, each subdistrict
    with elders under-visited, each silent meal point, each subdistrict whose ledgers were silent, and (district)
    each open roundtable request — no more, no fewer; an item an open order already covers names that order."""
    from data.domain.period import parse
    from views import supervision, weekly

    week = parse("2024-W52")
    reader = Reader(demo_engine, OFFICE)
    page = weekly.build(reader, week, street)
    todo = supervision.candidates(reader, week, street)
    want = ({("finding", c) for c in page.overdue["code"]}
            | {("visits", f"{c}:2024-12") for c in page.below_by_street["subdistrict_code"]}
            | {("meal_point", c) for c in page.silent_points["code"]}
            | {("ledger", f"{c}:{week.key}") for c in page.silent_ledgers["subdistrict_code"]})
    with demo_engine.connect() as conn:
        open_requests = conn.execute(select(RoundtableIssue.id).join(
            RoundtableMeeting, RoundtableMeeting.id == RoundtableIssue.meeting_id).where(
            RoundtableMeeting.held_on <= week.end,
            RoundtableIssue.resolved_on.is_(None) | (RoundtableIssue.resolved_on > week.end))).scalars().all()
        covering = conn.execute(select(SupervisionOrder.source_kind, SupervisionOrder.source_ref,
                                       SupervisionOrder.code).where(SupervisionOrder.status != "closed")).all()
    if street is None:
        want |= {("roundtable", f"RT-{i}") for i in open_requests}
    got = list(zip(todo["kind"], todo["ref"]))
    assert len(got) == len(set(got)) and set(got) == want and len(want) >= 3
    under = {(k, r): c for k, r, c in covering}
    assert [c if isinstance(c, str) else None for c in todo["existing_code"]] == \
        [under.get(item) for item in got]
    assert todo["kind_name"].notna().all()
    # each drafted order names its unit and says what to do
    assert todo["title"].str.len().gt(0).all() and todo["requirement"].str.len().gt(0).all()
    assert (todo["unit"].str.startswith("subdistrict:") | (todo["kind"] == "roundtable")).all()


def test_every_role_reads_the_orders_on_the_same_default_day(demo_engine):
    """The projected (display) page and the leader's page show the same 截至日期 and so the same warning counts: an
    order that moved after the last ledger day counts for the display role too (it was skipped for it, so the
    projected counts missed orders issued since)."""
    from datetime import date, timedelta

    from data.queries import supervision as sq
    from views import supervision as page_model

    last = sq.last_activity(demo_engine)
    ledger_end = last - timedelta(days=30)  # orders moved after the last day with ledger records
    for who in (OFFICE, DISPLAY):
        assert page_model.default_day(Reader(demo_engine, who), ledger_end, today=date(2099, 1, 1)) == last, who.role
