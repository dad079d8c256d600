"""What the app and its pages need of the session: the signed-in user, a reader to hand a page model (views/), and
for app.py the database check, the shared filters' data and the end-of-run housekeeping.

Pages import views and components only; this is their one way to the data (a cached, access-checked reader)."""
from __future__ import annotations

from datetime import date

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from components.auth_ui import principal
from data.db import cache
from data.db.engine import DatabaseError, database_url, explain
from data.db.migrate import ensure_current
from data.ops import runtime_gc
from data.queries import geography, meta
from data.security.access import AccessDenied, Principal, Reader
from data.security.auth import DEMO_ACCOUNTS

__all__ = ["DATABASE_ERRORS", "AccessDenied", "check_schema", "end_of_run", "explain", "is_demo_account",
           "reader", "shared_filter_data"]

DATABASE_ERRORS = (DatabaseError, SQLAlchemyError)  # missing, unreadable, locked or unreachable: `explain` says which
DEMO_USERNAMES = frozenset(a[0] for a in DEMO_ACCOUNTS)


def reader() -> Reader:
    """The signed-in user's cached reader for this run (access rules applied to every query)."""
    return cache.CachedReader(cache.engine(), principal())


@st.cache_resource(show_spinner=False)
def _schema_checked(url: str) -> bool:
    ensure_current(cache.engine())  # raises a Chinese explanation; failures are not cached
    return True


def check_schema() -> None:
    """Raise (DATABASE_ERRORS) when the database is missing, unreachable or its schema is not this code's; checked
    once per server process and database once it passes."""
    _schema_checked(database_url())


def shared_filter_data() -> tuple[tuple[date, date] | None, dict[str, str]]:
    """What the sidebar's shared filters offer: the span of the ledger records (None: no record yet) and the
    subdistricts (code → name), as the signed-in user may read them."""
    return cache.q(meta.record_date_range), cache.q(geography.subdistrict_names)


def is_demo_account(p: Principal) -> bool:
    """A demo account, whose password the README publishes."""
    return p.username in DEMO_USERNAMES


def end_of_run() -> None:
    """After every run of app.py (also after st.stop / st.rerun / st.switch_page in a page)."""
    runtime_gc.freeze_new_imports()  # the libraries this run imported: out of every later full collection


class Ahead:
    """A page model read in a worker thread while the script goes on: `Ahead(fn, *args)` starts `fn(*args)` (a
    view's build: cached, access-checked reads, no drawing) and `.result()` waits for it and returns it, or raises
    what it raised. The thread carries this run's context, so its reads use the run's cache and data version.
    Used where a page needs two independent models whose reads wait on the database (周度研判: the review and the
    督办 summary), so one waits while the other works."""

    def __init__(self, fn, *args, **kwargs):
        import threading

        from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

        self._value = self._error = None

        def run():
            try:
                self._value = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - handed to the script's thread by result()
                self._error = e

        self._thread = threading.Thread(target=run, name="mz-ahead", daemon=True)
        ctx = get_script_run_ctx(suppress_warning=True)
        if ctx is not None:
            add_script_run_ctx(self._thread, ctx)
        self._thread.start()

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
