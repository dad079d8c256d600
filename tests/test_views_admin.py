"""The page models of the administration pages (views.accounts, views.audit_log, views.data_import) on a small
database of each engine: what the pages show, and their actions — create and change an account, import a ledger,
ask for an import's original file (audited) — with no Streamlit."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from auth_helpers import TEST_PASSWORD, ensure_user, principal
from data.db.engine import get_engine
from data.db.models.auth import User
from data.security.access import AccessDenied, Reader
from data.security import auth
from data.security.audit import audit_entries
from test_imports import NANPU, NANPU_USER, OFFICE, csv_bytes, meal, seed
from views import accounts, audit_log, data_import

ADMIN = principal("admin")
PASSWORD = "Start#2024a"


@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    seed(eng)  # 南浦街道 and 朝阳洲街道, three communities, two meal points
    return eng


# --- 账号管理 -----------------------------------------------------------------------------------------

def test_accounts_lists_every_account_as_the_page_shows_it(engine):
    auth.create_user(engine, "nanpu", PASSWORD, "street", subdistrict_code=NANPU, display_name="南浦民政办", by="system")
    auth.create_user(engine, "gone", PASSWORD, "office", by="system")
    auth.update_user(engine, ADMIN, "gone", 1, active=False)
    with engine.begin() as conn:
        conn.execute(update(User).where(User.username == "nanpu")
                     .values(locked_until=datetime.now() + timedelta(minutes=10)))
    page = accounts.build(Reader(engine, ADMIN))
    assert page.caption == "共 2 个账号，其中启用 1 个。"
    table = page.table.set_index("用户名")
    assert list(page.table.columns) == ["用户名", "显示名称", "角色", "所属街道", "状态", "锁定", "下次登录须改密码",
                                        "创建时间", "密码修改时间"]
    assert tuple(table.loc["nanpu", ["角色", "所属街道", "状态"]]) == ("街道", "南浦街道", "启用")
    assert table.at["nanpu", "锁定"].startswith("锁定至 ") and table.at["gone", "锁定"] == "—"
    assert tuple(table.loc["gone", ["角色", "所属街道", "状态"]]) == ("业务科室", "—", "停用")
    assert page.streets == {NANPU: "南浦街道", "360103002": "朝阳洲街道"}
    assert page.street_label("") == "（不适用）" and page.street_label(NANPU) == "南浦街道"
    assert "- **街道**：只能查看和维护本街道的数据" in page.roles_help
    assert accounts.is_locked(page.account("nanpu")["locked_until"])
    assert not accounts.is_locked(page.account("gone")["locked_until"])


def test_only_an_administrator_reads_or_creates_accounts(engine):
    with pytest.raises(accounts.AuthError, match="只有管理员"):
        accounts.build(Reader(engine, OFFICE))
    with pytest.raises(accounts.AuthError, match="只有管理员"):
        accounts.create_account(Reader(engine, OFFICE), username="x1", display_name="", role="office", street="",
                                password=PASSWORD, again=PASSWORD)
    assert auth.user_count(engine) == 0


def test_create_account_says_what_was_made_and_refuses_with_reasons(engine):
    reader = Reader(engine, ADMIN)
    made = accounts.create_account(reader, username=" jia ", display_name=" ", role="street", street=NANPU,
                                   password=PASSWORD, again=PASSWORD)
    assert made == "已新建账号“jia”（街道，南浦街道），首次登录时须修改密码。"
    signed = auth.sign_in(engine, "jia", PASSWORD)
    assert (signed.principal.subdistrict_code, signed.must_change_password) == (NANPU, True)
    assert audit_entries(engine, actions=("user_create",)).iloc[0]["username"] == "t_admin"
    assert accounts.create_account(reader, username="yi", display_name="乙", role="leader", street=NANPU,
                                   password=PASSWORD, again=PASSWORD) == \
        "已新建账号“yi”（局领导），首次登录时须修改密码。"
    for kw, reason in ((dict(again="Other#2024b"), "两次输入的初始密码不一致。"),
                       (dict(role="street", street=""), "街道账号必须选择所属街道。"),
                       (dict(password="short", again="short"), "密码至少 8 位")):
        wanted = dict(username="bing", display_name="", role="office", street="", password=PASSWORD,
                      again=PASSWORD) | kw
        with pytest.raises(accounts.AuthError, match=reason):
            accounts.create_account(reader, **wanted)
    assert set(accounts.build(reader).accounts["username"]) == {"jia", "yi"}


def test_save_account_changes_once_says_nothing_changed_and_refuses_a_stale_version(engine):
    auth.create_user(engine, "steady", PASSWORD, "office", display_name="原名", by="system")
    reader = Reader(engine, ADMIN)
    same = dict(display_name="原名", role="office", street="", active=True, unlock=False, reset_password="")
    assert accounts.save_account(reader, "steady", 1, **same) is None
    assert len(audit_entries(engine, actions=("user_update",))) == 0
    assert accounts.save_account(reader, "steady", 1, **(same | {"display_name": "新名"})) == "已保存账号“steady”的修改。"
    with pytest.raises(accounts.AuthError, match="已被他人修改，请刷新后重试"):
        accounts.save_account(reader, "steady", 1, **(same | {"active": False}))
    done = accounts.save_account(reader, "steady", 2,
                                 **(same | {"display_name": "新名", "reset_password": "Reset#2024b"}))
    assert done == "已保存账号“steady”的修改，新密码须在下次登录时修改。"
    assert auth.sign_in(engine, "steady", "Reset#2024b").must_change_password
    with pytest.raises(accounts.AuthError, match="街道账号必须选择所属街道"):
        accounts.save_account(reader, "steady", 3, **(same | {"role": "street"}))
    with pytest.raises(accounts.AuthError, match="只有管理员"):
        accounts.save_account(Reader(engine, OFFICE), "steady", 3, **same)


# --- 审计日志 -----------------------------------------------------------------------------------------

def test_audit_log_filters_counts_and_marks_failures(db_url):
    engine = get_engine(db_url)
    ensure_user(db_url, "leader")
    auth.sign_in(engine, "t_leader", TEST_PASSWORD)
    for username in ("t_leader", "ghost"):
        with pytest.raises(auth.AuthError):
            auth.sign_in(engine, username, "wrong-password-9")
    reader = Reader(engine, principal("leader"))
    assert audit_log.may_read(reader) and audit_log.may_read(Reader(engine, ADMIN))
    assert audit_log.usernames(reader) == ["ghost", "system", "t_leader"]
    page = audit_log.build(reader)
    assert page.total == 4 and not page.truncated
    assert list(page.table.columns) == ["时间", "用户", "角色", "操作", "对象", "详情", "结果"]
    assert page.table["操作"].tolist() == ["登录失败", "登录失败", "登录", "新建账号"]  # newest first
    assert page.table["结果"].tolist() == ["失败", "失败", "成功", "成功"] and page.failed.tolist() == [True, True, False, False]
    assert page.table["角色"].tolist() == ["—", "—", "局领导", "—"]  # a failed sign-in and the system have no role
    failed = audit_log.build(reader, date.today(), date.today(), None, ("signin_failed",))
    assert failed.total == 2 and set(failed.table["用户"]) == {"t_leader", "ghost"}
    assert audit_log.build(reader, username="t_leader", actions=("signin",)).table["操作"].tolist() == ["登录"]
    yesterday = date.today() - timedelta(days=1)
    assert audit_log.build(reader, yesterday, yesterday).table.empty


@pytest.mark.parametrize("role,street", [("office", None), ("display", None), ("street", NANPU)])
def test_audit_log_is_refused_to_other_roles(engine, role, street):
    reader = Reader(engine, principal(role, street))
    assert not audit_log.may_read(reader)
    with pytest.raises(AccessDenied, match="只有管理员和局领导可以查看审计日志"):
        audit_log.build(reader)
    with pytest.raises(AccessDenied):
        audit_log.usernames(reader)


# --- 数据导入 -----------------------------------------------------------------------------------------

def test_an_import_its_history_and_its_original_file(engine):
    reader = Reader(engine, OFFICE)
    assert data_import.build(reader).history.empty
    content = csv_bytes([meal(), meal(day="2024-06-04")])
    seen = []
    done = data_import.run_import(reader, "meal_records", "六月助餐.csv", content,
                                  progress=lambda fraction, text: seen.append(fraction))
    assert done.kind == "ok" and done.title == "助餐记录" and seen[-1] == 1.0
    assert (done.result.rows_total, done.result.rows_added, done.result.rows_unchanged) == (2, 2, 0)
    again = data_import.run_import(reader, "meal_records", "六月助餐.csv", content)
    assert (again.result.rows_added, again.result.rows_unchanged) == (0, 2)

    page = data_import.build(reader)
    assert list(page.history.columns) == ["编号", "台账", "文件名", "导入人", "导入时间", "总行数", "新增", "更新", "未变",
                                          "大小(KB)", "SHA-256（前12位）"]
    assert page.history["台账"].tolist() == ["助餐记录", "助餐记录"] and page.history["新增"].tolist() == [0, 2]
    assert page.history["大小(KB)"].iloc[0] == round(len(content) / 1024, 1)
    first = done.result.batch_id
    assert page.originals[first].startswith(f"{first} · 六月助餐.csv（")

    assert data_import.prepare_original(reader, first) == "六月助餐.csv"
    entry = audit_entries(engine, actions=("export_personal",)).iloc[0]
    assert (entry.username, entry.target) == ("t_office", f"导入原始文件 #{first} 六月助餐.csv")
    assert data_import.original_bytes(reader, first) == content
    # a 街道 account sees its own imports only; a reading role gets no original at all
    with pytest.raises(data_import.OriginalRefused, match="不存在，或当前账号无权下载") as refused:
        data_import.prepare_original(Reader(engine, NANPU_USER), first)
    assert not refused.value.busy
    with pytest.raises(data_import.OriginalRefused):
        data_import.prepare_original(Reader(engine, principal("leader")), first)
    with pytest.raises(AccessDenied, match="无权下载该原始文件"):
        data_import.original_bytes(Reader(engine, NANPU_USER), first)
    assert len(audit_entries(engine, actions=("export_personal",))) == 1


def test_a_refused_file_and_a_role_that_may_not_import(engine):
    bad = csv_bytes([meal(point="二郎庙助餐点"), meal(dine=-5, day="2024-06-04")])
    refused = data_import.run_import(Reader(engine, OFFICE), "meal_records", "坏文件.csv", bad)
    assert refused.kind == "refused" and refused.refused.total == 2 and refused.title == ""
    assert refused.refused.table()["行"].tolist() == [2, 3]
    denied = data_import.run_import(Reader(engine, principal("leader")), "meal_records", "助餐.csv", csv_bytes([meal()]))
    assert (denied.kind, denied.message) == ("denied", "局领导账号没有修改数据的权限。")
    assert data_import.build(Reader(engine, OFFICE)).history.empty


def test_ledger_note_and_titles():
    note = data_import.ledger_note("meal_records")
    assert note.startswith(data_import.LEDGERS["meal_records"].description)
    assert "以“助餐点、日期”识别记录" in note and f"不超过 {data_import.MAX_BYTES // (1024 * 1024)} MB" in note
    assert data_import.ledger_title("vacant_rooms") == "闲置用房" and data_import.ledger_title("gone") == "gone"
