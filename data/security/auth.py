"""账号与登录: accounts in the database, Argon2id password hashes (argon2-cffi), lockout after repeated
failures, and server-side sessions that expire when idle and after a fixed lifetime.

Every sign-in, failed sign-in, lockout and account change is written to the audit log in the same
transaction as the change it records.
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.engine import Engine

from data.security.access import ROLES, Principal
from data.security.audit import record
from data.db.models import Subdistrict
from data.db.models.auth import User, UserSession
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
                must_change_password: bool = False) -> int:
    username = (username or "").strip()
    if not username or len(username) > 50 or any(c.isspace() for c in username):
        raise AuthError("用户名不能为空、不能含空格，最长 50 个字符。")
    if role not in ROLES:
        raise AuthError(f"角色“{role}”不存在，可选：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}。")
    if role == "street" and not subdistrict_code:
        raise AuthError("街道账号必须指定所属街道。")
    if role != "street":
        subdistrict_code = None
    check_password_strength(password, username)  # every account, benchmark and demo ones included
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
               {"after": {"display_name": display_name or username, "role": role, "subdistrict_code": subdistrict_code,
                          "active": True, "must_change_password": must_change_password}})
    return int(new_id)


WRONG_CREDENTIALS = (f"用户名或密码错误。连续错误 {MAX_FAILURES} 次账号将锁定 "
                     f"{int(LOCKOUT.total_seconds() // 60)} 分钟。")  # the same for an unknown name and a wrong password


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))  # a fresh lock says LOCKOUT's 15, not 16
    return f"密码连续错误 {MAX_FAILURES} 次，账号已锁定，请 {minutes} 分钟后再试或联系管理员。"


def _verify(password_hash: str, password: str | None) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def sign_in(engine: Engine, username: str, password: str, *, now: datetime | None = None) -> SignedIn:
    """Check the password; on success start a session and return its token. Failures are counted,
    audited, and lock the account for LOCKOUT after MAX_FAILURES in a row.

    An unknown user name and a wrong password get the same message after the same work (an Argon2 verify against
    a dummy hash), and nothing about an account — not even that it is disabled — is told before its password is
    right; only a lock shows (it is the point of the lock). The failure count is one atomic UPDATE … RETURNING, so
    parallel wrong passwords each count and the one that reaches MAX_FAILURES locks the account; a right password
    signs in only through an UPDATE conditional on the account being unlocked, active and its hash unchanged."""
    now = now or datetime.now()
    username = (username or "").strip()
    with engine.connect() as conn:
        row = conn.execute(select(User).where(User.username == username)).first()
    if row is not None and row.locked_until and row.locked_until > now:
        _audit_now(engine, row.username, "signin_failed", username, {"reason": "locked"})
        raise AuthError(_locked_message(row.locked_until, now))
    right = _verify(row.password_hash if row is not None else _dummy_hash(), password)
    if row is None:
        _audit_now(engine, username or None, "signin_failed", username, {"reason": "no such user"})
        raise AuthError(WRONG_CREDENTIALS)
    if not right:
        raise AuthError(_count_failure(engine, row, username, now))
    if not row.active:
        _audit_now(engine, row.username, "signin_failed", username, {"reason": "disabled"})
        raise AuthError("该账号已停用，请联系管理员。")
    refused, signed = None, None
    with engine.begin() as conn:
        values = {"failed_attempts": 0, "locked_until": None}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = hash_password(password)
        done = conn.execute(update(User).where(
            User.id == row.id, User.active.is_(True), User.password_hash == row.password_hash,
            or_(User.locked_until.is_(None), User.locked_until <= now)).values(**values))
        if done.rowcount != 1:  # changed since it was read: locked by parallel failures, disabled, or a new password
            now_row = conn.execute(select(User.active, User.locked_until, User.password_hash)
                                   .where(User.id == row.id)).first()
            if now_row is not None and now_row.locked_until and now_row.locked_until > now:
                refused, reason = _locked_message(now_row.locked_until, now), "locked"
            elif now_row is not None and not now_row.active:
                refused, reason = "该账号已停用，请联系管理员。", "disabled"
            else:
                refused, reason = WRONG_CREDENTIALS, "password changed meanwhile"
            record(conn, row.username, "signin_failed", username, {"reason": reason}, ok=False)
        else:
            token = secrets.token_urlsafe(32)
            conn.execute(insert(UserSession).values(token_hash=_token_hash(token), user_id=row.id, created_at=now,
                                                    last_seen_at=now, expires_at=now + SESSION_LIFETIME))
            principal = _principal(row)
            record(conn, principal, "signin", username)
            signed = SignedIn(principal, token, bool(row.must_change_password))
    if refused:  # committed (audited) before the refusal is raised
        raise AuthError(refused)
    return signed


def _audit_now(engine: Engine, who, action: str, target: str, detail: dict) -> None:
    with engine.begin() as conn:
        record(conn, who, action, target, detail, ok=False)


def _count_failure(engine: Engine, row, username: str, now: datetime) -> str:
    """Count one wrong password atomically (one UPDATE … RETURNING; the database serialises parallel ones) and
    lock the account when the count reaches MAX_FAILURES; audited in the same transaction. Returns the message."""
    t = User.__table__
    until = now + LOCKOUT
    lock_over = and_(t.c.locked_until.is_not(None), t.c.locked_until <= now)  # an ended lock: count afresh
    still_locked = and_(t.c.locked_until.is_not(None), t.c.locked_until > now)
    count = case((lock_over, 1), else_=t.c.failed_attempts + 1)
    with engine.begin() as conn:
        failures, locked_until = conn.execute(
            update(t).where(t.c.id == row.id)
            .values(failed_attempts=count,
                    locked_until=case((still_locked, t.c.locked_until), (count >= MAX_FAILURES, until), else_=None))
            .returning(t.c.failed_attempts, t.c.locked_until)).one()
        record(conn, row.username, "signin_failed", username, {"failures": failures}, ok=False)
        if locked_until is None or locked_until <= now:
            return WRONG_CREDENTIALS
        if failures == MAX_FAILURES:  # this failure locked it (later ones, already in flight, count on)
            record(conn, row.username, "lockout", username,
                   {"until": locked_until.isoformat(timespec="minutes"), "failures": failures}, ok=False)
            return f"密码连续错误 {MAX_FAILURES} 次，账号已锁定 {int(LOCKOUT.total_seconds() // 60)} 分钟。"
    return _locked_message(locked_until, now)


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


def change_password(engine: Engine, username: str, old: str, new: str, *, keep_token: str | None = None) -> int:
    """The account's own password change (needs the old password). Ends every other session of the account — all of
    them, or all but `keep_token` (the session the change is made from). Returns how many sessions it ended."""
    with engine.begin() as conn:
        row = conn.execute(select(User).where(User.username == username)).first()
        if row is None:
            raise AuthError("账号不存在。")
        wrong = not _verify(row.password_hash, old)
        if wrong:
            record(conn, row.username, "password_change", username, {"reason": "wrong old password"}, ok=False)
    if wrong:  # the failed attempt is committed (audited) before the refusal
        raise AuthError("原密码不正确。")
    if old == new:
        raise AuthError("新密码不能与原密码相同。")
    check_password_strength(new, username)
    now = datetime.now()
    with engine.begin() as conn:
        done = conn.execute(update(User).where(User.id == row.id, User.password_hash == row.password_hash).values(
            password_hash=hash_password(new), must_change_password=False, password_changed_at=now,
            version=User.version + 1))
        if done.rowcount != 1:
            raise AuthError("密码已在别处被修改，请重新登录后再试。")
        others = [UserSession.user_id == row.id, UserSession.ended_at.is_(None)]
        if keep_token:
            others.append(UserSession.token_hash != _token_hash(keep_token))
        ended = conn.execute(update(UserSession).where(*others).values(ended_at=now)).rowcount
        detail = {"password": "changed", "other_sessions_ended": int(ended)}
        if row.must_change_password:
            detail["must_change_password"] = {"before": True, "after": False}
        record(conn, _principal(row), "password_change", username, detail)
    return int(ended)


_AUDITED_FIELDS = ("display_name", "role", "subdistrict_code", "active", "must_change_password", "failed_attempts",
                   "locked_until")


def _audit_value(v):
    return v.isoformat(timespec="minutes") if isinstance(v, datetime) else v


def update_user(engine: Engine, by: Principal, username: str, expected_version: int, *, role: str | None = None,
                subdistrict_code: str | None = None, active: bool | None = None, display_name: str | None = None,
                reset_password: str | None = None, unlock: bool = False) -> int:
    """An administrator's change to an account (optimistic: refused if someone changed it meanwhile). Returns the
    account's version: `expected_version` unchanged — nothing written, nothing audited — when the save changes
    nothing. Every change is audited with each field's value before and after; refusals are audited too."""
    if not by.is_admin:
        _audit_refusal(engine, by, username, "not an administrator")
        raise AuthError("只有管理员可以管理账号。")
    refused = None
    with engine.begin() as conn:
        row = conn.execute(select(User).where(User.username == username)).first()
        if row is None:
            raise AuthError(f"账号“{username}”不存在。")
        if row.version != expected_version:
            refused = f"账号“{username}”已被他人修改，请刷新后重试。"
        else:
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
            changes = {f: {"before": _audit_value(getattr(row, f)), "after": _audit_value(values[f])}
                       for f in _AUDITED_FIELDS if f in values and values[f] != getattr(row, f)}
            if reset_password:
                changes["password"] = {"before": "（不记录）", "after": "已重置"}
            if not changes:
                return expected_version  # a save that changes nothing: no write, no audit row
            values = {k: v for k, v in values.items() if k in changes or k in ("password_hash", "password_changed_at")}
            if not guarded_update(conn, User, row.id, expected_version, values):
                refused = f"账号“{username}”已被他人修改，请刷新后重试。"
            else:
                ended = 0
                if active is False or reset_password or (role and role != row.role):
                    ended = conn.execute(update(UserSession).where(UserSession.user_id == row.id,
                                                                   UserSession.ended_at.is_(None))
                                         .values(ended_at=datetime.now())).rowcount
                detail = {"changes": changes, "version": {"before": expected_version, "after": expected_version + 1}}
                if ended:
                    detail["sessions_ended"] = int(ended)
                record(conn, by, "user_update", username, detail)
    if refused:
        _audit_refusal(engine, by, username, "changed by someone else", expected_version=expected_version)
        raise AuthError(refused)
    return expected_version + 1


def _audit_refusal(engine: Engine, by: Principal, username: str, reason: str, **extra) -> None:
    with engine.begin() as conn:
        record(conn, by, "user_update", username, {"reason": reason, **extra}, ok=False)


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
