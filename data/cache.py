"""The one module of data/ that imports Streamlit: cached access to the named queries.

Every cached result is keyed on the database URL and its data version (meta.data_version,
bumped in the same transaction as every write), so an import is visible on the next rerun
and nobody sees stale figures.
"""
from __future__ import annotations

import importlib

import streamlit as st

from data.engine import database_url, get_engine
from data.queries.common import data_version


def engine():
    """The process-wide engine for DATABASE_URL (or the SQLite file)."""
    return get_engine(database_url())


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(module: str, name: str, url: str, version: int, args: tuple, kwargs: tuple):
    fn = getattr(importlib.import_module(module), name)
    return fn(get_engine(url), *args, **dict(kwargs))


def q(fn, *args, **kwargs):
    """Call a named query `fn(engine, *args, **kwargs)` through the cache."""
    url = database_url()
    version = data_version(get_engine(url))
    return _cached(fn.__module__, fn.__name__, url, version, args, tuple(sorted(kwargs.items())))
