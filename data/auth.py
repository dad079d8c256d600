"""账号与登录: accounts in the database, Argon2id password hashes (argon2-cffi), lockout after repeated
failures, and server-side sessions that expire when idle and after a fixed lifetime.

Every sign-in, failed sign-in, lockout and account change is written to the audit log in the same
transaction as the change it records.
"""
from __future__ import annotations

import functools
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from data.access import ROLES, Principal
from data.audit import record
from data.models import Subdistrict
from data.models_auth import User, UserSession
from data.queries.common import guarded_update

MAX_FAILURES = 5                      # failed sign-ins in a row before the account locks
LOCKOUT = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("MZ_SESSION_IDLE_MINUTES", "30")))
SESSION_LIFETIME = timedelta(hours=int(os.environ.get("MZ_SESSION_HOURS", "10")))
MIN_PASSWORD = 8

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters

@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong username costs as long as a wrong password
    (made on first use, not at import: importing this module is on every page's cold path)."""
    return _hasher.hash("no-such-user-" + secrets.token_hex(8))

DEMO_ACCOUNTS = [  # (username, display name, role, subdistrict code, password) — documented in README
    ("leader", "局领导（演示）", "leader", None, "Lingdao#2024"),
    ("office", "业务科室（演示）", "office", None, "Keshi#2024"),
    ("street", "南浦街道（演示）", "street", "360103001", "Nanpu#2024"),
    ("display", "圆桌会展示（演示）", "display", None, "Zhanshi#2024"),
    ("admin", "管理员（演示）", "admin", None, "Guanli#2024"),
]


class AuthError(ValueError):
    """Sign-in or account change refused; the message is Chinese and safe to show."""


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    token: str
    must_change_password: bool


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str, username: str = "") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"密码至少 {MIN_PASSWORD} 位。")
    kinds = sum([any(c.isdigit() for c in password), any(c.isalpha() for c in password),
                 any(not c.isalnum() for c in password)])
    if kinds < 2:
        raise AuthError("密码须包含字母、数字、符号中的至少两类。")
    if username and username.lower() in password.lower():
        raise AuthError("密码不能包含用户名。")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(row) -> Principal:
    return Principal(username=row.username, role=row.role, subdistrict_code=row.subdistrict_code,
                     display_name=row.display_name)


def create_user(engine: Engine, username: str, password: str, role: str, *, display_name: str | None = None,
                subdistrict_code: str | None = None, by: Principal | str | None = None,
                must_change_password: bool = False, check_strength: bool = True) -> int:
    username = (username or "").strip()
    if not username or len(username) > 50 or any(c.isspace() for c in username):
        raise AuthError("用户名不能为空、不能含空格，最长 50 个字符。")
    if role not in ROLES:
        raise AuthError(f"角色“{role}”不存在，可选：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}。")
    if role == "street" and not subdistrict_code:
        raise AuthError("街道账号必须指定所属街道。")
    if role != "street":
        subdistrict_code = None
    if check_strength:
        check_password_strength(password, username)
    with engine.begin() as conn:
        if conn.execute(select(User.id).where(User.username == username)).first():
            raise AuthError(f"用户名“{username}”已存在。")
        if subdistrict_code and not conn.execute(select(Subdistrict.code)
                                                 .where(Subdistrict.code == subdistrict_code)).first():
            raise AuthError(f"街道代码“{subdistrict_code}”不存在。")
        now = datetime.now()
        new_id = conn.execute(insert(User).values(
            username=username, display_name=display_name or username, role=role, subdistrict_code=subdistrict_code,
            password_hash=hash_password(password), active=True, failed_attempts=0,
            must_change_password=must_change_password, created_at=now, password_changed_at=now, version=1,
        )).inserted_primary_key[0]
        record(conn, by or "system", "user_create", username,
               {"role": role, "subdistrict_code": subdistrict_code})
    return int(new_id)


def sign_in(engine: Engine, username: str, password: str, *, now: datetime | None = None) -> SignedIn:
    """Check the password; on success start a session and return its token. Failures are counted,
    audited, and lock the account for LOCKOUT after MAX_FAILURES in a row."""
    now = now or datetime.now()
    username = (username or "").strip()
    refused: str | None = None
    with engine.begin() as conn:  # failures are committed (counter, audit) before the refusal is raised
        refused, signed = _sign_in(conn, username, password, now)
    if refused:
        raise AuthError(refused)
    return signed


def _sign_in(conn, username: str, password: str, now: datetime) -> tuple[str | None, SignedIn | None]:
    row = conn.execute(select(User).where(User.username == username)).first()
    if row is None:
        try:
            _hasher.verify(_dummy_hash(), password or "")
        except VerificationError:
            pass
        record(conn, username or None, "signin_failed", username, {"reason": "no such user"}, ok=False)
        return "用户名或密码错误。", None
    if not row.active:
        record(conn, row.username, "signin_failed", username, {"reason": "disabled"}, ok=False)
        return "该账号已停用，请联系管理员。", None
    if row.locked_until and row.locked_until > now:
        record(conn, row.username, "signin_failed", username, {"reason": "locked"}, ok=False)
        minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
        return f"密码连续错误 {MAX_FAILURES} 次，账号已锁定，请 {minutes} 分钟后再试或联系管理员。", None
    try:
        _hasher.verify(row.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        failures = row.failed_attempts + 1
        locked = now + LOCKOUT if failures >= MAX_FAILURES else None
        conn.execute(update(User).where(User.id == row.id)
                     .values(failed_attempts=0 if locked else failures, locked_until=locked))
        record(conn, row.username, "signin_failed", username, {"failures": failures}, ok=False)
        if locked:
            record(conn, row.username, "lockout", username, {"until": locked.isoformat(timespec="minutes")}, ok=False)
            return f"密码连续错误 {MAX_FAILURES} 次，账号已锁定 {int(LOCKOUT.total_seconds() // 60)} 分钟。", None
        return f"用户名或密码错误（再错 {MAX_FAILURES - failures} 次将锁定账号）。", None
    values = {"failed_attempts": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    conn.execute(update(User).where(User.id == row.id).values(**values))
    token = secrets.token_urlsafe(32)
    conn.execute(insert(UserSession).values(token_hash=_token_hash(token), user_id=row.id, created_at=now,
                                            last_seen_at=now, expires_at=now + SESSION_LIFETIME))
    principal = _principal(row)
    record(conn, principal, "signin", username)
    return None, SignedIn(principal, token, bool(row.must_change_password))


def resume(engine: Engine, token: str | None, *, now: datetime | None = None) -> SignedIn | None:
    """The session behind `token` if it is still valid (not ended, not idle too long, not past its
    lifetime, account active); touches it. None otherwise (an expiry is audited once)."""
    if not token:
        return None
    now = now or datetime.now()
    h = _token_hash(token)
    with engine.begin() as conn:
        row = conn.execute(
            select(UserSession.created_at, UserSession.last_seen_at, UserSession.expires_at, UserSession.ended_at,
                   User.username, User.role, User.subdistrict_code, User.display_name, User.active,
                   User.must_change_password)
            .join(User, User.id == UserSession.user_id).where(UserSession.token_hash == h)).first()
        if row is None or row.ended_at is not None:
            return None
        principal = _principal(row)
        if not row.active or now >= row.expires_at or now - row.last_seen_at >= IDLE_TIMEOUT:
            conn.execute(update(UserSession).where(UserSession.token_hash == h).values(ended_at=now))
            record(conn, principal, "session_expired", principal.username,
                   {"reason": "disabled" if not row.active else ("lifetime" if now >= row.expires_at else "idle")})
            return None
        if now - row.last_seen_at > timedelta(seconds=30):  # touch at most twice a minute
            conn.execute(update(UserSession).where(UserSession.token_hash == h).values(last_seen_at=now))
    return SignedIn(principal, token, bool(row.must_change_password))


def sign_out(engine: Engine, token: str | None) -> None:
    if not token:
        return
    h = _token_hash(token)
    with engine.begin() as conn:
        row = conn.execute(select(User.username, User.role, User.subdistrict_code, User.display_name)
                           .join(UserSession, UserSession.user_id == User.id)
                           .where(UserSession.token_hash == h, UserSession.ended_at.is_(None))).first()
        if row is None:
            return
        conn.execute(update(UserSession).where(UserSession.token_hash == h).values(ended_at=datetime.now()))
        record(conn, _principal(row), "signout", row.username)


def change_password(engine: Engine, username: str, old: str, new: str) -> None:
    with engine.begin() as conn:
        row = conn.execute(select(User).where(User.username == username)).first()
        if row is None:
            raise AuthError("账号不存在。")
        try:
            _hasher.verify(row.password_hash, old or "")
            wrong = False
        except (VerificationError, InvalidHashError):
            record(conn, row.username, "password_change", username, {"reason": "wrong old password"}, ok=False)
            wrong = True
    if wrong:  # the failed attempt is committed (audited) before the refusal
        raise AuthError("原密码不正确。")
    with engine.begin() as conn:
        if old == new:
            raise AuthError("新密码不能与原密码相同。")
        check_password_strength(new, username)
        conn.execute(update(User).where(User.id == row.id).values(
            password_hash=hash_password(new), must_change_password=False, password_changed_at=datetime.now(),
            version=User.version + 1))
        record(conn, _principal(row), "password_change", username)


def update_user(engine: Engine, by: Principal, username: str, expected_version: int, *, role: str | None = None,
                subdistrict_code: str | None = None, active: bool | None = None, display_name: str | None = None,
                reset_password: str | None = None, unlock: bool = False) -> int:
    """An administrator's change to an account (optimistic: refused if someone changed it meanwhile)."""
    if not by.is_admin:
        raise AuthError("只有管理员可以管理账号。")
    with engine.begin() as conn:
        row = conn.execute(select(User).where(User.username == username)).first()
        if row is None:
            raise AuthError(f"账号“{username}”不存在。")
        if row.version != expected_version:
            raise AuthError(f"账号“{username}”已被他人修改，请刷新后重试。")
        values: dict = {}
        new_role = role or row.role
        if role and role not in ROLES:
            raise AuthError(f"角色“{role}”不存在。")
        if role:
            values["role"] = role
        code = subdistrict_code if subdistrict_code is not None else row.subdistrict_code
        if new_role == "street" and not code:
            raise AuthError("街道账号必须指定所属街道。")
        values["subdistrict_code"] = code if new_role == "street" else None
        if active is not None:
            if not active and username == by.username:
                raise AuthError("不能停用自己的账号。")
            values["active"] = active
        if display_name:
            values["display_name"] = display_name
        if reset_password:
            check_password_strength(reset_password, username)
            values.update(password_hash=hash_password(reset_password), must_change_password=True,
                          password_changed_at=datetime.now())
        if unlock or reset_password:
            values.update(failed_attempts=0, locked_until=None)
        if not guarded_update(conn, User, row.id, expected_version, values):
            raise AuthError(f"账号“{username}”已被他人修改，请刷新后重试。")
        if active is False or reset_password or (role and role != row.role):
            conn.execute(update(UserSession).where(UserSession.user_id == row.id, UserSession.ended_at.is_(None))
                         .values(ended_at=datetime.now()))
        shown = {k: v for k, v in values.items() if k != "password_hash"}
        if reset_password:
            shown["password"] = "reset"
        record(conn, by, "user_update", username, shown)
    return expected_version + 1


def users(engine: Engine) -> pd.DataFrame:
    t = User.__table__
    stmt = (select(t.c.username, t.c.display_name, t.c.role, t.c.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), t.c.active, t.c.failed_attempts, t.c.locked_until,
                   t.c.must_change_password, t.c.created_at, t.c.password_changed_at, t.c.version)
            .outerjoin(Subdistrict, Subdistrict.code == t.c.subdistrict_code).order_by(t.c.id))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def user_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(User)).scalar() or 0)


def create_demo_accounts(engine: Engine) -> list[str]:
    """One account per role with the README's demo passwords, marked to be changed at first sign-in
    in a real deployment (skipped when the name exists)."""
    made = []
    with engine.connect() as conn:
        existing = set(conn.execute(select(User.username)).scalars())
        streets = set(conn.execute(select(Subdistrict.code)).scalars())
    for username, name, role, code, password in DEMO_ACCOUNTS:
        if username in existing or (code and code not in streets):
            continue
        create_user(engine, username, password, role, display_name=name, subdistrict_code=code, by="system")
        made.append(username)
    return made
