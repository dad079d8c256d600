"""Signing tests in: real accounts in the test database, real sessions (nothing about auth is mocked)."""
from __future__ import annotations

from sqlalchemy import select

from data.security import auth
from data.security.access import Principal
from data.db.engine import get_engine
from data.db.models.auth import User

TEST_PASSWORD = "Test#pass-2024"


def ensure_user(url: str, role: str = "office", street: str | None = None) -> str:
    """Create (once per database) the test account for `role` (and subdistrict); return its username."""
    username = f"t_{role}" + (f"_{street}" if street else "")
    engine = get_engine(url)
    with engine.connect() as conn:
        exists = conn.execute(select(User.id).where(User.username == username)).first()
    if not exists:
        auth.create_user(engine, username, TEST_PASSWORD, role, subdistrict_code=street, display_name=username,
                         by="system")
    return username


def sign_in(url: str, role: str = "office", street: str | None = None) -> auth.SignedIn:
    return auth.sign_in(get_engine(url), ensure_user(url, role, street), TEST_PASSWORD)


def sign_in_apptest(at, url: str, role: str = "office", street: str | None = None) -> Principal:
    """Sign an AppTest session in as `role` before (or between) runs."""
    signed = sign_in(url, role, street)
    at.session_state["_auth_token"] = signed.token
    return signed.principal


def open_section(at, key: str):
    """Open a collapsed section (an st.expander with on_change="rerun") the way a click does, and rerun: its content
    is only built while it is open."""
    expander = next((e for e in at.expander if e.proto.id.endswith(f"-{key}")), None)
    assert expander is not None, f"no section with key {key!r} on the page"
    at.session_state[key] = True
    return at.run()


def principal(role: str = "office", street: str | None = None) -> Principal:
    return Principal(username=f"t_{role}", role=role, subdistrict_code=street)
