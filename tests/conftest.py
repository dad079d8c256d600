"""Test databases on both engines: SQLite files and PostgreSQL schemas (TEST_DATABASE_URL), never mocked.

Each PostgreSQL database used by a test is a fresh schema of its own, dropped afterwards,
so parallel workers and repeated runs never see each other's rows.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from data.db.engine import get_engine
from data.db.migrate import upgrade

pytest_plugins = ["browser_fixtures"]

# AppTest has no browser to draw a first screen: no pause after headlines in-process (tests/test_first_screen.py
# turns it on where it is counted; the servers of the browser tests run with the product's default)
os.environ.setdefault("MZ_FIRST_SCREEN_PAUSE_MS", "0")

ENGINES = ["sqlite", "postgresql"]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@contextmanager
def fresh_database(kind: str, tmp_dir):
    """Yield the URL of a new, empty database of the given engine kind; clean it up afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_dir}/t_{uuid.uuid4().hex[:8]}.db"
        return
    admin_url = pg_admin_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in admin_url else "?"
    url = f"{admin_url}{sep}options={quote('-csearch_path=' + schema)}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path):
    """An empty database at the latest schema, on each engine in turn."""
    with fresh_database(request.param, tmp_path) as url:
        upgrade(get_engine(url))
        yield url


@pytest.fixture(params=ENGINES)
def bare_db_url(request, tmp_path):
    """A database with no schema at all (for migration tests): on SQLite an empty file, as an administrator would
    create (the dashboard never creates a missing SQLite file itself)."""
    with fresh_database(request.param, tmp_path) as url:
        if request.param == "sqlite":
            path = url.removeprefix("sqlite:///")
            open(path, "xb").close()
            os.chmod(path, 0o600)
        yield url


@pytest.fixture(scope="session", params=ENGINES)
def demo_url(request, tmp_path_factory):
    """The demo district (×1) on each engine, built once per test session and worker."""
    from data.demo import build_demo

    with fresh_database(request.param, tmp_path_factory.mktemp("demo")) as url:
        engine = get_engine(url)
        upgrade(engine)
        build_demo(engine, scale=1)
        yield url


@pytest.fixture
def demo_engine(demo_url):
    return get_engine(demo_url)


@pytest.fixture(autouse=True)
def _apptest_signs_in(request, monkeypatch):
    """Every AppTest session is signed in as a 业务科室 test account (a real account and session in the
    test database) unless the test signed in itself (tests/auth_helpers.sign_in_apptest) or is marked
    `anonymous` (tests of the sign-in screen)."""
    if request.node.get_closest_marker("anonymous"):
        return
    from streamlit.testing.v1 import app_test

    original = app_test.AppTest.run

    def run(self, *args, **kwargs):
        url = os.environ.get("DATABASE_URL")
        if url and "_auth_token" not in self.session_state:
            from auth_helpers import sign_in_apptest
            from data.db.migrate import current_revision, head_revision

            try:
                ready = current_revision(get_engine(url)) == head_revision()
            except Exception:  # an unreachable or broken database: the app shows its own message
                ready = False
            if ready:
                sign_in_apptest(self, url)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(app_test.AppTest, "run", run)


@pytest.fixture(autouse=True)
def _apptest_runs_the_entry_script(monkeypatch):
    """AppTest resets PagesManager.uses_pages_directory before every run, so with a `pages/` folder beside
    app.py its reruns take the legacy multipage path and execute the page file alone, skipping app.py
    (sidebar filters, navigation). A running server does not: st.navigation switches the flag off for the
    process. Make AppTest behave like the server, so every rerun goes through app.py."""
    from streamlit.runtime import pages_manager
    from streamlit.testing.v1 import app_test

    class ServerLikePagesManager(pages_manager.PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pages_manager.PagesManager.uses_pages_directory = False

    monkeypatch.setattr(app_test, "PagesManager", ServerLikePagesManager)
