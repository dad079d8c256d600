"""The benchmark's own account: the app needs a sign-in (data.auth), so every measured session signs in as
``bench`` (业务科室, sees every page the office sees). Created in the benchmark database when missing."""
from __future__ import annotations

USERNAME = "bench"
PASSWORD = "Bench#2024pw"
ROLE = "office"


def ensure_user(url: str) -> None:
    """Create the bench account in the database at `url` unless it is there."""
    from sqlalchemy import select

    from data import auth
    from data.engine import get_engine
    from data.models_auth import User

    engine = get_engine(url)
    with engine.connect() as conn:
        if conn.execute(select(User.id).where(User.username == USERNAME)).first():
            return
    # the password contains the user name, which the strength rule refuses for real accounts: benchmark databases only
    auth.create_user(engine, USERNAME, PASSWORD, ROLE, display_name="性能测试", by="system", check_strength=False)


def token(url: str) -> str:
    """A fresh session token of the bench account (what app.py finds in st.session_state["_auth_token"])."""
    from data import auth
    from data.engine import get_engine

    ensure_user(url)
    return auth.sign_in(get_engine(url), USERNAME, PASSWORD).token
