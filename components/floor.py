"""The benchmark's floor (issue 8): an empty page served by the dashboard's own server, at a path of its own.

With ``MZ_BENCH_FLOOR_PAGE=1`` in the server's environment (bench/browser.py sets it; nothing else should), the
address ``/<FLOOR_PATH>`` is answered by a page that draws one line of text and nothing else: no database, no
sign-in, no sidebar. It is what the framework costs for a bookmarked address on this server — the browser
benchmark compares every page against it. Without the variable the address is like any other: sign in first.
"""
from __future__ import annotations

import os

import streamlit as st

ENV = "MZ_BENCH_FLOOR_PAGE"
FLOOR_PATH = "bench_floor"
FLOOR_TEXT = "空白页"


def enabled() -> bool:
    return os.environ.get(ENV, "").strip() == "1"


def requested(url: str | None) -> bool:
    """Whether a browser URL (``st.context.url``: no query string) names the floor page."""
    return bool(url) and url.rstrip("/").rsplit("/", 1)[-1] == FLOOR_PATH


def _draw() -> None:
    st.write(FLOOR_TEXT)


def serve_if_requested() -> None:
    """Run the floor page and stop the script when it is switched on and the URL names it; else do nothing."""
    if enabled() and requested(st.context.url):
        # Streamlit serves the default page only at "/": the floor is a second page, so it keeps its own address
        pages = [st.Page(_draw, title=FLOOR_TEXT, url_path="bench_floor_default", default=True),
                 st.Page(_draw, title=FLOOR_TEXT, url_path=FLOOR_PATH)]
        st.navigation(pages, position="hidden").run()
        st.stop()
