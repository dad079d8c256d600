"""The benchmark's own account: the app needs a sign-in (data.security.auth), so every measured session signs in as
``bench`` (业务科室, sees every page the office sees). Created in the benchmark database when missing, through the
normal path: its password passes the same policy as every account's."""
from __future__ import annotations

USERNAME = "bench"
PASSWORD = "Xingneng#2024pw"
ROLE = "office"
_OLD_PASSWORD = "Bench#2024pw"  # benchmark databases made before the account went through the policy


def ensure_user(url: str) -> None:
    """Create the bench account in the database at `url` unless it is there (an account of an older benchmark
    database gets the current password by an ordinary password change)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError
    from sqlalchemy import select

    from data.security import auth
    from data.db.engine import get_engine
    from data.db.models.auth import User

    engine = get_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(select(User.password_hash).where(User.username == USERNAME)).scalar()
    if stored is None:
        auth.create_user(engine, USERNAME, PASSWORD, ROLE, display_name="性能测试", by="system")
        return
    try:
        PasswordHasher().verify(stored, PASSWORD)
    except (VerificationError, InvalidHashError):
        auth.change_password(engine, USERNAME, _OLD_PASSWORD, PASSWORD)


def token(url: str) -> str:
    """A fresh session token of the bench account (what app.py finds in st.session_state["_auth_token"])."""
    from data.security import auth
    from data.db.engine import get_engine

    ensure_user(url)
    return auth.sign_in(get_engine(url), USERNAME, PASSWORD).token
