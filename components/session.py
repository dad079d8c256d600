"""What a page needs of the signed-in session: the user and a reader to hand its page model (views/).

Pages import views and components only; this is their one way to the data (a cached, access-checked reader)."""
from __future__ import annotations

from components.auth_ui import principal
from data.db import cache
from data.queries.access import Reader


def reader() -> Reader:
    """The signed-in user's cached reader for this run (access rules applied to every query)."""
    return cache.CachedReader(cache.engine(), principal())
