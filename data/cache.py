"""The one module of data/ that imports Streamlit: cached access to the named queries.

Every cached result is keyed on the database URL and its data version (meta.data_version,
bumped in the same transaction as every write), so an import is visible on the next rerun
and nobody sees stale figures.
"""
from __future__ import annotations

import importlib

import streamlit as st

from data import access
from data.engine import database_url, get_engine
from data.queries.common import data_version


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


def q(fn, *args, **kwargs):
    """Call a named query `fn(engine, *args, **kwargs)` through the cache, as the signed-in user: the
    access rules of data.access decide the arguments (街道 forced to its own subdistrict) and what of
    the result comes back (other subdistricts' rows removed, persons masked unless revealed)."""
    who = principal()
    url = database_url()
    args, kwargs = access.prepare(who, fn, args, kwargs, get_engine(url))
    version = data_version(get_engine(url))
    result = _cached(fn.__module__, fn.__name__, url, version, args, tuple(sorted(kwargs.items())))
    return access.restrict(who, fn, result)
