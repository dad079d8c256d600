"""The one module of data/ that imports Streamlit: cached access to the named queries.

Every cached result is keyed on the database URL and its data version (meta.data_version,
bumped in the same transaction as every write), so an import is visible on the next rerun
and nobody sees stale figures.

The data version is read once per script run (not once per query): every q() of a run uses the
version read by its first q(), unless a transaction was committed in this process since then (a
write of this run, or of another session), in which case it is read again. The next run always
reads it afresh, so a write by another process shows on the next rerun as before.
"""
from __future__ import annotations

import importlib
import itertools
import os
import threading
import weakref
from pathlib import Path

import streamlit as st
from sqlalchemy import event
from sqlalchemy.engine import Engine
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from data.security import access
from data.db.engine import database_url, get_engine
from data.queries.common import data_version

# Bumped on every commit of any engine of this process: a version read before it may be stale.
_commits = itertools.count()
_commit_generation = 0
# Per script run (keyed on the run's own ParallelFragmentCoordinator, which Streamlit creates afresh at the start
# of every run and drops after it): url → (commit generation when read, data version).
_run_versions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@event.listens_for(Engine, "commit")
def _on_commit(_conn) -> None:
    global _commit_generation
    _commit_generation = next(_commits) + 1


def disk_persist() -> str | None:
    """"disk" when st.cache_data(persist="disk") can keep results in ~/.streamlit/cache on this server, else None.
    Streamlit raises on a failed write (a service account without a writable home would break the page), so a
    function kept on disk asks here where it is defined (in a page script: on each run, a mkdir and an access
    check) and falls back to memory only."""
    try:
        folder = Path.home() / ".streamlit" / "cache"
        folder.mkdir(parents=True, exist_ok=True)
        return "disk" if os.access(folder, os.W_OK | os.X_OK) else None
    except (OSError, RuntimeError):  # no home, or not writable
        return None


def engine():
    """The process-wide engine for DATABASE_URL (or the SQLite file)."""
    return get_engine(database_url())


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(module: str, name: str, url: str, version: int, args: tuple, kwargs: tuple):
    fn = getattr(importlib.import_module(module), name)
    return fn(get_engine(url), *args, **dict(kwargs))


def principal() -> access.Principal:
    p = st.session_state.get("_principal")
    if p is None:
        raise access.AccessDenied("请先登录。")
    return p


def _run_token():
    """An object that lives exactly as long as the current script run (None outside a script run)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return getattr(ctx, "parallel_coordinator", None) if ctx is not None else None


def current_version(url: str) -> int:
    """The data version for this script run: read from the database once per run and per URL, and again
    after any commit in this process."""
    token = _run_token()
    generation = _commit_generation
    if token is not None:
        with _lock:
            seen = _run_versions.get(token, {}).get(url)
        if seen is not None and seen[0] == generation:
            return seen[1]
    version = data_version(get_engine(url))
    if token is not None:
        with _lock:
            try:
                _run_versions.setdefault(token, {})[url] = (generation, version)
            except TypeError:  # a token that cannot be weakly referenced: no memo
                pass
    return version


def q(fn, *args, **kwargs):
    """Call a named query `fn(engine, *args, **kwargs)` through the cache, as the signed-in user: the
    access rules of data.security.access decide the arguments (街道 forced to its own subdistrict) and what of
    the result comes back (other subdistricts' rows removed, persons masked unless revealed)."""
    return q_as(principal(), fn, *args, **kwargs)


def q_as(who: access.Principal, fn, *args, **kwargs):
    """q() as the given principal: for work that runs outside the script run, where st.session_state is not
    there (a download built when its button is clicked, see components.downloads)."""
    url = database_url()
    eng = get_engine(url)
    args, kwargs = access.prepare(who, fn, args, kwargs, eng, audit=True)
    # by keyword: the same cache key as positionally, without Streamlit inspecting _cached's signature per argument
    result = _cached(module=fn.__module__, name=fn.__name__, url=url, version=current_version(url), args=args,
                     kwargs=tuple(sorted(kwargs.items())))
    return access.restrict(who, fn, result, eng, audit=True)


class CachedReader(access.Reader):
    """access.Reader whose reads go through the data-version cache (`q_as`): what pages hand their page model."""

    def q(self, fn, *args, **kwargs):
        return q_as(self.principal, fn, *args, **kwargs)
