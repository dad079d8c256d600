"""Accounts and sessions (data.security.auth) on both engines: Argon2id hashes, lockout, expiry, audit of every attempt."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from data.security import auth
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.db.models.auth import User
from factories import subdistricts

ROOT = Path(__file__).resolve().parent.parent
PW = "Xihu#2024pass"


@pytest.fixture
def engine(db_url):
    engine = get_engine(db_url)
    subdistricts(engine, ("360103001", "南浦街道"), ("360103014", "桃花街道"))
    return engine


def test_password_is_stored_as_argon2id_never_in_clear(engine):
    auth.create_user(engine, "wang", PW, "office")
    with engine.connect() as conn:
        stored = conn.execute(select(User.password_hash).where(User.username == "wang")).scalar()
    assert stored.startswith("$argon2id$") and PW not in stored
    assert auth.sign_in(engine, "wang", PW).principal.role == "office"


def test_weak_passwords_and_bad_accounts_are_refused_in_chinese(engine):
    with pytest.raises(auth.AuthError, match="至少 8 位"):
        auth.create_user(engine, "li", "a1!", "office")
    with pytest.raises(auth.AuthError, match="两类"):
        auth.create_user(engine, "li", "abcdefghij", "office")
    with pytest.raises(auth.AuthError, match="街道账号必须指定所属街道"):
        auth.create_user(engine, "li", PW, "street")
    with pytest.raises(auth.AuthError, match="不存在"):
        auth.create_user(engine, "li", PW, "street", subdistrict_code="999999999")
    auth.create_user(engine, "li", PW, "office")
    with pytest.raises(auth.AuthError, match="已存在"):
        auth.create_user(engine, "li", PW, "leader")


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(engine):
    auth.create_user(engine, "zhao", PW, "office")
    t0 = datetime(2024, 7, 1, 9, 0)
    for _ in range(auth.MAX_FAILURES - 1):
        with pytest.raises(auth.AuthError) as refused:
            auth.sign_in(engine, "zhao", "wrong-password-1", now=t0)
        assert str(refused.value) == auth.WRONG_CREDENTIALS
    with pytest.raises(auth.AuthError, match="已锁定"):
        auth.sign_in(engine, "zhao", "wrong-password-1", now=t0)
    with pytest.raises(auth.AuthError, match="已锁定"):  # even the right password, while locked
        auth.sign_in(engine, "zhao", PW, now=t0 + timedelta(minutes=14))
    assert auth.sign_in(engine, "zhao", PW, now=t0 + timedelta(minutes=16)).principal.username == "zhao"
    log = audit_entries(engine, username="zhao")
    assert list(log["action"]).count("signin_failed") == auth.MAX_FAILURES + 1
    assert "lockout" in set(log["action"]) and log.iloc[0]["action"] == "signin"
    assert not log[log["action"] == "signin_failed"]["ok"].any()


def test_unknown_user_and_disabled_account_cannot_sign_in(engine):
    with pytest.raises(auth.AuthError, match="用户名或密码错误"):
        auth.sign_in(engine, "nobody", PW)
    auth.create_user(engine, "admin1", PW, "admin")
    auth.create_user(engine, "sun", PW, "office")
    admin = auth.sign_in(engine, "admin1", PW).principal
    signed = auth.sign_in(engine, "sun", PW)
    version = int(auth.users(engine).set_index("username").loc["sun", "version"])
    auth.update_user(engine, admin, "sun", version, active=False)
    assert auth.resume(engine, signed.token) is None  # the open session ends with the account
    with pytest.raises(auth.AuthError, match="已停用"):
        auth.sign_in(engine, "sun", PW)


def test_sessions_expire_when_idle_and_after_their_lifetime(engine):
    auth.create_user(engine, "zhou", PW, "leader")
    t0 = datetime(2024, 7, 1, 8, 0)
    token = auth.sign_in(engine, "zhou", PW, now=t0).token
    assert auth.resume(engine, token, now=t0 + auth.IDLE_TIMEOUT - timedelta(minutes=1)) is not None
    # kept alive by use, the session still ends at its lifetime
    t = t0
    while t < t0 + auth.SESSION_LIFETIME - timedelta(minutes=5):
        t += auth.IDLE_TIMEOUT / 2
        if t >= t0 + auth.SESSION_LIFETIME:
            break
        assert auth.resume(engine, token, now=t) is not None
    assert auth.resume(engine, token, now=t0 + auth.SESSION_LIFETIME + timedelta(seconds=1)) is None
    token2 = auth.sign_in(engine, "zhou", PW, now=t0).token
    assert auth.resume(engine, token2, now=t0 + auth.IDLE_TIMEOUT + timedelta(seconds=1)) is None
    assert auth.resume(engine, token2, now=t0 + timedelta(minutes=1)) is None  # an ended session stays ended
    assert "session_expired" in set(audit_entries(engine, username="zhou")["action"])


def test_sign_out_ends_the_session_and_is_audited(engine):
    auth.create_user(engine, "wu", PW, "office")
    token = auth.sign_in(engine, "wu", PW).token
    auth.sign_out(engine, token)
    assert auth.resume(engine, token) is None
    assert audit_entries(engine, username="wu").iloc[0]["action"] == "signout"


def test_change_password_needs_the_old_one(engine):
    auth.create_user(engine, "zheng", PW, "office", must_change_password=True)
    assert auth.sign_in(engine, "zheng", PW).must_change_password
    with pytest.raises(auth.AuthError, match="原密码不正确"):
        auth.change_password(engine, "zheng", "wrong-old-1", "New#pass-2025")
    auth.change_password(engine, "zheng", PW, "New#pass-2025")
    signed = auth.sign_in(engine, "zheng", "New#pass-2025")
    assert not signed.must_change_password
    actions = list(audit_entries(engine, username="zheng", actions=("password_change",))["ok"])
    assert actions == [True, False]


def test_audit_log_is_append_only_in_the_database(engine):
    auth.create_user(engine, "feng", PW, "office")
    with pytest.raises(Exception, match="审计日志只能追加"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
    with pytest.raises(Exception, match="审计日志只能追加"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET username = 'x'"))
    assert len(audit_entries(engine)) >= 1


def _cli(url, *args, input_text=None):
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, input=input_text)


def test_create_admin_command_makes_the_first_administrator(engine, db_url):
    out = _cli(db_url, "create-admin", "--username", "chief", "--password", "Xihu#Admin-2024")
    assert out.returncode == 0, out.stderr
    assert "已创建管理员账号：chief" in out.stdout
    assert auth.sign_in(engine, "chief", "Xihu#Admin-2024").principal.is_admin
    again = _cli(db_url, "create-admin", "--username", "chief", "--password", "Xihu#Admin-2024")
    assert again.returncode == 2 and "已存在" in again.stderr
    weak = _cli(db_url, "create-admin", "--username", "chief2", "--password", "123")
    assert weak.returncode == 2 and "至少 8 位" in weak.stderr


def test_demo_accounts_one_per_role_sign_in_with_the_documented_passwords(demo_url):
    engine = get_engine(demo_url)
    auth.create_demo_accounts(engine)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    roles = set()
    for username, _name, role, _code, password in auth.DEMO_ACCOUNTS:
        assert f"`{username}`" in readme and f"`{password}`" in readme
        roles.add(auth.sign_in(engine, username, password).principal.role)
    assert roles == {"leader", "office", "street", "display", "admin"}
    assert auth.create_demo_accounts(engine) == []  # idempotent
