"""First screen first: a short pause after a page's headline, on the page's first run of a visit.

Streamlit sends a page's elements as the script makes them, and the browser's frontend draws what has arrived in
batches: when the tables, charts and map of a page arrive right behind its headline, the browser draws them in the
same busy stretch and the headline shows late with them. A pause of about a tenth of a second after the headline
lets the browser draw the headline on its own first (`python -m bench.timeline`, paired runs on the ×1 demo:
救助 first screen ×1.62 → ×1.39 of an empty page, 总览 ×1.39 → ×1.28, 站点 ×1.50 → ×1.26; README "首屏").

Only a page's first run in a visit pauses — opening it from the menu or by its address — never a rerun caused by a
filter or a button, where the headline is already on the screen. `MZ_FIRST_SCREEN_PAUSE_MS` sets the pause
(default 120, 0 turns it off; at most 1000).

app.py calls `page_started` before it runs the page; `components.kpis.kpi_row` calls `headline_drawn` after every
row of cards (the first call in a run pauses, if the run is a first one).
"""
from __future__ import annotations

import os
import time

import streamlit as st

ENV = "MZ_FIRST_SCREEN_PAUSE_MS"
DEFAULT_MS = 120
_PAGE, _DUE = "_first_screen_page", "_first_screen_due"


def pause_ms() -> int:
    """The pause from the environment: an integer number of milliseconds, 0…1000; anything else the default."""
    raw = os.environ.get(ENV, "").strip()
    try:
        ms = int(raw) if raw else DEFAULT_MS
    except ValueError:
        return DEFAULT_MS
    return min(max(ms, 0), 1000)


def page_started(page: str) -> None:
    """Called once per run with the page the run draws: a run of another page than the last run's is a first run."""
    state = st.session_state
    state[_DUE] = state.get(_PAGE) != page
    state[_PAGE] = page


def headline_drawn() -> bool:
    """After a headline: pause once if this is the page's first run. True when it paused."""
    if not st.session_state.pop(_DUE, False):
        return False
    ms = pause_ms()
    if ms:
        _sleep(ms / 1000)
    return bool(ms)


def _sleep(seconds: float) -> None:  # one place, so a test can count the pauses
    time.sleep(seconds)
