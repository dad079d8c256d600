"""账号管理 through AppTest: an administrator creates, disables, resets and unlocks accounts, and what those
accounts can then do at the sign-in; other roles are refused."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from auth_helpers import principal, sign_in_apptest
from data.security import auth
from data.security.audit import audit_entries
from data.security.auth import MAX_FAILURES
from data.db.engine import get_engine
from factories import subdistricts

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/accounts.py"
STREET = ("360103901", "甲街道")
PASSWORD = "Start#2024a"


@pytest.fixture
def url(db_url):
    subdistricts(get_engine(db_url), STREET, ("360103902", "乙街道"))
    return db_url


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


def listed(at) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if "用户名" in df.value.columns)


def widget(items, label):
    return next(w for w in items if w.label == label)


def edit_name(at):
    return next(w for w in at.text_input if (w.key or "").startswith("acct_e_name_"))


def pick(at, username):
    at.selectbox(key="acct_edit_pick").set_value(username).run()
    assert not at.exception, [e.value for e in at.exception]


def save(at):
    widget(at.button, "保存修改").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_admin_creates_a_street_account_that_can_sign_in(monkeypatch, url):
    at = open_page(monkeypatch, url)
    assert "账号管理" in [t.value for t in at.title]
    at.text_input(key="acct_new_username").input("jia_street")
    at.text_input(key="acct_new_name").input("甲街道民政办")
    at.selectbox(key="acct_new_role").set_value("street")
    at.selectbox(key="acct_new_street").set_value(STREET[0])
    at.text_input(key="acct_new_password").input(PASSWORD)
    at.text_input(key="acct_new_password2").input(PASSWORD)
    widget(at.button, "新建账号").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("已新建账号“jia_street”（街道，甲街道）" in s.value for s in at.success)
    row = listed(at).set_index("用户名").loc["jia_street"]
    assert (row["角色"], row["所属街道"], row["状态"], row["下次登录须改密码"]) == ("街道", "甲街道", "启用", "是")

    signed = auth.sign_in(get_engine(url), "jia_street", PASSWORD)
    assert (signed.principal.role, signed.principal.subdistrict_code) == ("street", STREET[0])
    assert signed.must_change_password  # accounts made here change their password at first sign-in
    entry = audit_entries(get_engine(url), actions=("user_create",)).iloc[0]
    assert (entry.username, entry.target) == ("t_admin", "jia_street")


def test_create_is_refused_with_chinese_reasons(monkeypatch, url):
    at = open_page(monkeypatch, url)
    at.text_input(key="acct_new_username").input("no_street")
    at.selectbox(key="acct_new_role").set_value("street")
    at.text_input(key="acct_new_password").input(PASSWORD)
    at.text_input(key="acct_new_password2").input(PASSWORD)
    widget(at.button, "新建账号").click().run()
    assert any("必须选择所属街道" in e.value for e in at.error)
    at.text_input(key="acct_new_username").input("weak")
    at.selectbox(key="acct_new_role").set_value("office")
    at.text_input(key="acct_new_password").input("short")
    at.text_input(key="acct_new_password2").input("short")
    widget(at.button, "新建账号").click().run()
    assert any("密码至少 8 位" in e.value for e in at.error)
    assert set(listed(at)["用户名"]) == {"t_admin"}


def test_a_refused_create_keeps_what_was_typed_but_the_passwords(monkeypatch, url):
    """A mistyped second password must not wipe the username, display name, role and subdistrict; after a create
    that succeeds the form is empty for the next account."""
    at = open_page(monkeypatch, url)
    at.text_input(key="acct_new_username").input("jia_street")
    at.text_input(key="acct_new_name").input("甲街道民政办")
    at.selectbox(key="acct_new_role").set_value("street")
    at.selectbox(key="acct_new_street").set_value(STREET[0])
    at.text_input(key="acct_new_password").input(PASSWORD)
    at.text_input(key="acct_new_password2").input(PASSWORD + "x")
    widget(at.button, "新建账号").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("两次输入的初始密码不一致" in e.value for e in at.error)
    assert (at.text_input(key="acct_new_username").value, at.text_input(key="acct_new_name").value) == \
        ("jia_street", "甲街道民政办")
    assert (at.selectbox(key="acct_new_role").value, at.selectbox(key="acct_new_street").value) == ("street", STREET[0])
    assert at.text_input(key="acct_new_password").value == "" and at.text_input(key="acct_new_password2").value == ""
    at.text_input(key="acct_new_password").input(PASSWORD)
    at.text_input(key="acct_new_password2").input(PASSWORD)
    widget(at.button, "新建账号").click().run()
    assert any("已新建账号“jia_street”" in s.value for s in at.success)
    assert not at.error
    assert at.text_input(key="acct_new_username").value == "" and at.text_input(key="acct_new_name").value == ""


def test_a_disabled_account_cannot_sign_in(monkeypatch, url):
    engine = get_engine(url)
    auth.create_user(engine, "leaving", PASSWORD, "office", by="system")
    at = open_page(monkeypatch, url)
    pick(at, "leaving")
    widget(at.checkbox, "启用").uncheck()
    save(at)
    assert any("已保存账号“leaving”的修改" in s.value for s in at.success)
    assert listed(at).set_index("用户名").at["leaving", "状态"] == "停用"
    with pytest.raises(auth.AuthError, match="已停用"):
        auth.sign_in(engine, "leaving", PASSWORD)


def test_reset_password_and_unlock(monkeypatch, url):
    engine = get_engine(url)
    auth.create_user(engine, "forgetful", PASSWORD, "leader", by="system")
    for _ in range(MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.sign_in(engine, "forgetful", "wrong-password-1")
    at = open_page(monkeypatch, url)
    assert listed(at).set_index("用户名").at["forgetful", "锁定"].startswith("锁定至")
    pick(at, "forgetful")
    widget(at.checkbox, "解除锁定").check()
    save(at)
    assert listed(at).set_index("用户名").at["forgetful", "锁定"] == "—"
    assert not auth.sign_in(engine, "forgetful", PASSWORD).must_change_password

    pick(at, "forgetful")
    widget(at.text_input, "重置密码（留空则不改）").input("Reset#2024b")
    save(at)
    assert any("新密码须在下次登录时修改" in s.value for s in at.success)
    with pytest.raises(auth.AuthError):
        auth.sign_in(engine, "forgetful", PASSWORD)
    assert auth.sign_in(engine, "forgetful", "Reset#2024b").must_change_password


def test_change_made_meanwhile_is_refused(monkeypatch, url):
    engine = get_engine(url)
    auth.create_user(engine, "shared", PASSWORD, "office", by="system")
    at = open_page(monkeypatch, url)
    pick(at, "shared")
    # another administrator changes the account while this one has it open
    other = principal("admin")
    auth.update_user(engine, other, "shared", 1, role="leader")
    at.run()
    assert any("已被他人修改" in w.value for w in at.warning)
    edit_name(at).input("我的改动")
    save(at)
    assert any("已被他人修改，请刷新后重试" in e.value for e in at.error)
    row = auth.users(engine).set_index("username").loc["shared"]
    assert (row["role"], row["display_name"]) == ("leader", "shared")
    widget(at.button, "刷新").click().run()
    edit_name(at).input("我的改动")
    save(at)
    assert auth.users(engine).set_index("username").at["shared", "display_name"] == "我的改动"


def test_other_roles_are_refused(monkeypatch, url):
    # in navigation, the page is not offered to a 业务科室 account …
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in_apptest(at, url, role="office")
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    # … and the page itself refuses when reached anyway (defence in depth)
    monkeypatch.setenv("DATABASE_URL", url)
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    page.session_state["_principal"] = principal("office")
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    assert any("只有管理员可以管理账号" in e.value for e in page.error)
    assert not page.dataframe and not [b for b in page.button if b.label == "新建账号"]


def test_admin_changes_own_password(monkeypatch, url):
    at = open_page(monkeypatch, url)
    widget(at.text_input, "原密码").input("Test#pass-2024")
    widget(at.text_input, "新密码（至少 8 位，含字母、数字、符号中的两类）").input("Mine#2024new")
    widget(at.text_input, "再次输入新密码").input("Mine#2024new")
    widget(at.button, "修改密码").click().run()
    assert any("密码已修改" in s.value for s in at.success)
    assert auth.sign_in(get_engine(url), "t_admin", "Mine#2024new").principal.is_admin


def test_a_save_that_changes_nothing_writes_no_audit_row_and_a_change_records_before_and_after(monkeypatch, url):
    """Issue 17 item 25 (accounts): every change audited once with its values before and after; none for no change."""
    import json

    engine = get_engine(url)
    auth.create_user(engine, "steady", PASSWORD, "office", display_name="原名", by="system")
    at = open_page(monkeypatch, url)
    pick(at, "steady")
    before = len(audit_entries(engine, actions=("user_update",)))
    save(at)
    assert any("未作修改" in i.value for i in at.info) and not at.error
    assert len(audit_entries(engine, actions=("user_update",))) == before
    assert int(auth.users(engine).set_index("username").at["steady", "version"]) == 1
    edit_name(at).input("新名")
    save(at)
    entries = audit_entries(engine, actions=("user_update",))
    assert len(entries) == before + 1
    assert json.loads(entries.iloc[0]["detail"])["changes"] == {"display_name": {"before": "原名", "after": "新名"}}
