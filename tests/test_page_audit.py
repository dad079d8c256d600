"""审计日志 through AppTest: administrators and leaders see sign-ins and failures newest first, filter by
action and user; other roles are refused."""
from __future__ import annotations

from cards import cards

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from auth_helpers import TEST_PASSWORD, ensure_user, principal, sign_in_apptest
from data.security import auth
from data.security.audit import audit_entry_count
from data.db.engine import get_engine

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/audit_log.py"


def open_page(monkeypatch, url, role="admin"):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in_apptest(at, url, role=role)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def log_table(at):
    return next(df.value for df in at.dataframe if "操作" in df.value.columns)


def count_shown(at) -> str:
    return next(m.value for m in cards(at) if m.label == "符合条件的记录")


@pytest.fixture
def activity(db_url):
    """A leader signs in, someone mistypes a password, someone tries a name that does not exist."""
    engine = get_engine(db_url)
    ensure_user(db_url, "leader")
    auth.sign_in(engine, "t_leader", TEST_PASSWORD)
    for username in ("t_leader", "ghost"):
        with pytest.raises(auth.AuthError):
            auth.sign_in(engine, username, "wrong-password-9")
    return db_url


def test_admin_sees_sign_ins_newest_first(monkeypatch, activity):
    at = open_page(monkeypatch, activity)
    assert "审计日志" in [t.value for t in at.title]
    table = log_table(at)
    assert list(table.columns) == ["时间", "用户", "角色", "操作", "对象", "详情", "结果"]
    assert table.iloc[0]["操作"] == "登录" and table.iloc[0]["用户"] == "t_admin"  # this admin's own sign-in
    assert table.iloc[0]["角色"] == "管理员"
    assert table["时间"].tolist() == sorted(table["时间"], reverse=True)
    assert {"登录", "登录失败", "新建账号"} <= set(table["操作"])
    failed = table[table["操作"] == "登录失败"]
    assert set(failed["用户"]) == {"t_leader", "ghost"} and set(failed["结果"]) == {"失败"}
    total = audit_entry_count(get_engine(activity))
    assert count_shown(at) == f"{total:,} 条" and len(table) == total
    assert any(b.label == "下载 Excel" for b in at.get("download_button"))


def test_filter_by_action_and_user(monkeypatch, activity):
    at = open_page(monkeypatch, activity)
    at.multiselect(key="audit_actions").set_value(["signin_failed"]).run()
    table = log_table(at)
    assert set(table["操作"]) == {"登录失败"} and len(table) == 2
    assert count_shown(at) == "2 条"

    at.selectbox(key="audit_user").set_value("t_leader").run()
    table = log_table(at)
    assert table["用户"].tolist() == ["t_leader"] and count_shown(at) == "1 条"

    at.multiselect(key="audit_actions").set_value(["signin"]).run()
    assert log_table(at)["操作"].tolist() == ["登录"]

    at.multiselect(key="audit_actions").set_value(["restore"]).run()
    assert count_shown(at) == "0 条" and any("没有审计记录" in i.value for i in at.info)


def test_leader_may_read_the_log(monkeypatch, db_url):
    at = open_page(monkeypatch, db_url, role="leader")
    assert not at.error
    assert log_table(at).iloc[0]["角色"] == "局领导"


def test_other_roles_are_refused(monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()  # signed in as 业务科室 by conftest: the page is not in its navigation
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    for role, street in (("office", None), ("display", None), ("street", "360103001")):
        page = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
        page.session_state["_principal"] = principal(role, street)
        page.run()
        assert not page.exception, [e.value for e in page.exception]
        assert any("只有管理员和局领导可以查看审计日志" in e.value for e in page.error)
        assert not page.dataframe


def test_objects_read_in_words_not_table_names(monkeypatch, db_url):
    """A room edit is stored against `vacant_rooms:<code>`; the page shows 闲置用房：<code>, an import against the
    ledger's key shows the ledger's title, and a stored name the page has no word for shows 其他."""
    from data.security.audit import record_now

    engine = get_engine(db_url)
    record_now(engine, "system", "room_edit", "vacant_rooms:XZ36010300401501", {"table": "vacant_rooms"})
    record_now(engine, "system", "import", "aid_payments:发放.xlsx")
    record_now(engine, "system", "edit", "some_new_table:7")
    record_now(engine, "system", "edit_conflict", "vacant_rooms:XZ1", {"op": "room_edit", "attempted": {"note": "x"}},
               ok=False)
    record_now(engine, "system", "scenario_save", "site_scenarios:方案甲",
               {"op": "save", "parameters": {"mode": "max_cover", "access": "ground_or_lift", "weight": "pop_60",
                                             "owner_types": ["state"], "new_field": "some_new_code"},
                "created_by": "zhang_san"})
    at = open_page(monkeypatch, db_url)
    objects = log_table(at)["对象"].tolist()
    assert {"闲置用房：XZ36010300401501", "救助发放：发放.xlsx", "其他：7"} <= set(objects)
    assert not [o for o in objects if o.startswith(("vacant_rooms", "aid_payments", "some_new_table"))]
    details = log_table(at)["详情"].tolist()
    assert "数据表：闲置用房" in details
    assert not [d for d in details if "room_edit" in d] and any("操作：" in d for d in details)
    scenario = next(d for d in details if "参数" in d)
    assert "给定间数：覆盖最多老人" in scenario and "须在一层或有电梯" in scenario and "60岁及以上老人" in scenario
    assert "国有" in scenario and "创建人：zhang_san" in scenario  # an account name is shown as it is
    assert not re.search(r"[a-z]+_[a-z_]+", scenario.replace("zhang_san", "")), scenario


# --- 留存情况 (issue 22 part 3) -------------------------------------------------------------------------------------

def metric(at, label: str) -> str:
    return next(m.value for m in cards(at) if m.label == label)


def test_retention_shows_the_floor_archives_and_the_verification_on_demand(monkeypatch, db_url, tmp_path):
    from datetime import date, datetime, timedelta

    from data.ops.audit_archive import months_before
    from data.security.audit import record
    from test_audit_chain import tamper

    engine = get_engine(db_url)
    long_ago = datetime.combine(months_before(date.today()), datetime.min.time()) - timedelta(days=40)
    with engine.begin() as conn:
        for i in range(3):
            record(conn, "system", "backup", f"old-{i}.bak", at=long_ago + timedelta(days=i))
    at = open_page(monkeypatch, db_url)
    assert [s.value for s in at.subheader][:2] == ["留存情况", "审计记录"]
    assert metric(at, "最早记录时间") == long_ago.strftime("%Y-%m-%d %H:%M")
    assert metric(at, "记录条数") == f"{audit_entry_count(engine):,} 条"
    assert metric(at, "已归档") == "从未归档"
    assert metric(at, "是否已满6个月") == "是"
    assert metric(at, "最近一次核验") == "尚未核验"

    at.button(key="audit_verify").click().run()
    assert not at.exception
    assert any("结果：通过" in s.value for s in at.success) and metric(at, "最近一次核验") == "通过"
    assert log_table(at).iloc[0]["操作"] == "核验审计日志"

    # someone with the database owner's rights changes an old entry: the next verification names it
    victim = int(audit_entries_ids(engine)[1])
    tamper(engine, "UPDATE audit_log SET target = 'nothing.bak' WHERE id = :i", i=victim)
    at.button(key="audit_verify").click().run()
    shown = [e.value.replace("\\", "") for e in at.error]   # as read on screen (Markdown escapes resolved)
    assert any(f"第一处断裂在记录 #{victim}" in e for e in shown), shown
    assert metric(at, "最近一次核验") == "未通过"


def test_retention_on_a_log_younger_than_six_months(monkeypatch, db_url):
    at = open_page(monkeypatch, db_url, role="leader")
    assert metric(at, "是否已满6个月") == "否" and metric(at, "已归档") == "从未归档"
    assert any("启用不足六个月" in c.value for c in at.caption)


def test_retention_after_an_archive(monkeypatch, db_url, tmp_path):
    from datetime import date, datetime, timedelta

    from data.ops.audit_archive import archive, months_before
    from data.security.audit import record

    engine = get_engine(db_url)
    cutoff = months_before(date.today())
    with engine.begin() as conn:
        for i in range(4):
            record(conn, "system", "backup", f"old-{i}.bak",
                   at=datetime.combine(cutoff, datetime.min.time()) - timedelta(days=10 - i))
    (tmp_path / "out").mkdir()
    assert archive(engine, cutoff, tmp_path / "out" / "a.jsonl.gz").rows == 4
    at = open_page(monkeypatch, db_url)
    assert metric(at, "已归档") == f"1 次（最近截止 {cutoff}）"
    assert metric(at, "是否已满6个月") == "是"   # what is older than the cutoff is in the archive
    assert any(f"{cutoff} 以前的记录已归档" in c.value for c in at.caption)
    assert "归档审计日志" in set(log_table(at)["操作"])


def audit_entries_ids(engine):
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars().all()


def test_roles_in_details_read_in_chinese(monkeypatch, db_url):
    """An account created as 业务科室 and moved to 局领导: 详情 names both roles in Chinese, never `office`/`leader`."""
    engine = get_engine(db_url)
    admin = auth.sign_in(engine, ensure_user(db_url, "admin"), TEST_PASSWORD).principal
    auth.create_user(engine, "keyuan", TEST_PASSWORD, "office", by=admin)
    auth.update_user(engine, admin, "keyuan", 1, role="leader")
    at = open_page(monkeypatch, db_url)
    shown = [d for d in log_table(at)["详情"].tolist() if "角色" in d]
    assert any("角色：业务科室" in d for d in shown), shown
    assert any("角色：业务科室 → 局领导" in d for d in shown), shown
    assert not [d for d in shown if re.search(r"\b(office|leader|street|display|admin)\b", d)], shown
