"""The shared sidebar filters (period, subdistrict), kept in sync with the URL's query parameters.

Drawn once, in app.py, so every page honours them and every view can be bookmarked:
?period=2024-H1 | 2024-Q2 | 2024-06 | 2024-W23 | 2024 | 2024-01-01~2024-03-31, &street=<NBS code>.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from components import locale
from data.domain import period as periods
from data.domain.period import Period, PeriodError

ALL_STREETS = ""


@dataclass(frozen=True)
class Filters:
    period: Period
    street: str | None  # subdistrict code, None = 全区
    street_name: str
    last_data_day: date

    @property
    def scope(self) -> str:
        return self.street_name or "全区"


def _shown_code(code: str) -> str:
    """A subdistrict code from the URL, quoted in a message only when it is one (digits): the rest of the URL never
    reaches the page's Markdown. Read after "链接中的街道": 链接中的街道代码“360103099”… / 链接中的街道代码…"""
    return f"代码“{code}”" if code.isascii() and code.isdigit() and len(code) <= 20 else "代码"


def clamp_range(chosen: Period, first_day: date, last_day: date) -> tuple[Period, str | None]:
    """A custom range limited to the days with records (first_day … last_day), and the notice saying so (None when
    it was inside). A range wholly outside them becomes the latest complete month with records."""
    start, end = max(chosen.start, first_day), min(chosen.end, last_day)
    if start == chosen.start and end == chosen.end:
        return chosen, None
    asked = f"{chosen.start:%Y-%m-%d} 至 {chosen.end:%Y-%m-%d}"
    span = f"{first_day:%Y-%m-%d} 至 {last_day:%Y-%m-%d}"
    if start > end:
        shown = periods.latest_complete("month", last_day)
        return shown, (f"链接中的统计期 {asked} 不在台账日期范围（{span}）内，已改为显示{shown.label}"
                       f"（{shown.start:%Y-%m-%d} 至 {shown.end:%Y-%m-%d}）。")
    shown = periods.custom(start, end)
    return shown, f"链接中的统计期 {asked} 超出台账日期范围（{span}），已限定为 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}。"


def outside_records(chosen: Period, first_day: date, last_day: date) -> tuple[Period, str | None]:
    """A month, quarter, half-year, year or week wholly before the first or after the last day with records becomes
    the latest complete period of its kind with records, and the notice says so (None when it has records). A period
    that overlaps the records stays (e.g. the year whose second half is still to come)."""
    if chosen.end >= first_day and chosen.start <= last_day:
        return chosen, None
    shown = periods.latest_complete(chosen.kind, last_day)
    if shown == chosen:  # no records at all (the span is today): the default period stays, with nothing to say
        return chosen, None
    span = f"{first_day:%Y-%m-%d} 至 {last_day:%Y-%m-%d}"
    return shown, (f"链接中的统计期“{chosen.label}”（{chosen.start:%Y-%m-%d} 至 {chosen.end:%Y-%m-%d}）不在台账日期范围"
                   f"（{span}）内，没有可统计的记录，已改为显示{shown.label}（{shown.start:%Y-%m-%d} 至 {shown.end:%Y-%m-%d}）。")


def _reconnected_tab() -> bool:
    """This session belongs to a browser tab that reconnected after its server went away: Streamlit's frontend
    then asks to resume its old session by id, the third entry of the websocket's subprotocols (a new tab sends
    two). A server that still has that session resumes it (with its state); one that has not starts a new one."""
    try:
        offered = st.context.headers.get("Sec-WebSocket-Protocol") or ""
    except Exception:  # noqa: BLE001 - no browser behind this session (bare mode, AppTest)
        return False
    return isinstance(offered, str) and len([p for p in offered.split(",") if p.strip()]) >= 3


def sidebar_filters(first_day: date, last_day: date, streets: dict[str, str], locked: str | None = None) -> Filters:
    """Draw the period and subdistrict selectors; return the chosen filters. `locked`: a 街道 account's own
    subdistrict — the only one it can choose (the query layer enforces it as well)."""
    qp = st.query_params
    # A tab that lost its server and reconnected to another replica (or a restarted server) gets a new, empty
    # session, and its next page change carries no query string — but it does carry the sidebar widgets' values,
    # which the widgets take up when nothing is seeded over them: the filters survive the move.
    carried = not qp.get("period") and _reconnected_tab()
    if "flt_kind" not in st.session_state and not carried:
        chosen, problems = None, []
        if qp.get("period"):
            try:
                chosen = periods.parse(qp["period"])
            except PeriodError as exc:
                problems.append(f"{exc} 已显示{periods.latest_complete('month', last_day).label}。")
        chosen = chosen or periods.latest_complete("month", last_day)
        # a period is limited to the records: a custom range is clamped (the date picker allows no other), any other
        # kind wholly outside them is replaced by the latest complete one of its kind
        chosen, note = (clamp_range if chosen.kind == "range" else outside_records)(chosen, first_day, last_day)
        problems += [note] if note else []
        st.session_state.flt_kind = chosen.kind
        st.session_state[f"flt_p_{chosen.kind}"] = chosen.key
        if chosen.kind == "range":
            st.session_state.flt_range = (chosen.start, chosen.end)
        street = qp.get("street", ALL_STREETS)
        if locked and street not in (ALL_STREETS, locked):  # a 街道 account sees its own subdistrict, whatever the URL
            problems.append(f"链接中的街道{_shown_code(street)}不是本账号所属街道，已显示{streets.get(locked, '本街道')}。")
            street = locked
        elif street and street not in streets:
            problems.append(f"链接中的街道{_shown_code(street)}不存在，已显示全区。")
            street = ALL_STREETS
        st.session_state.flt_street = street
        st.session_state.flt_problem = "\n\n".join(problems) or None  # each problem of the link, not only the last

    with st.sidebar:
        st.markdown("### 筛选")
        kind = st.selectbox("统计周期", list(periods.KINDS), format_func=periods.KINDS.get, key="flt_kind", placeholder=locale.PICK)
        if kind == "range":
            default = st.session_state.get("flt_range") or (periods.latest_complete("month", last_day).start, last_day)
            picked = st.date_input("起止日期", value=default, min_value=first_day, max_value=max(last_day, date.today()),
                                   key="flt_range_widget")
            if isinstance(picked, (tuple, list)) and len(picked) == 2:
                chosen = periods.custom(picked[0], picked[1])
            else:
                chosen = periods.custom(default[0], default[1])
        else:
            latest = periods.latest_complete(kind, last_day)
            key = f"flt_p_{kind}"
            if not st.session_state.get(key) and not carried:
                st.session_state[key] = latest.key
            # a bookmarked period outside the data span is still shown (newest first: without a value the latest)
            options = periods.options(latest, first_day, limit=400, keep=st.session_state.get(key))
            chosen = periods.parse(st.selectbox("统计期", options, format_func=periods.label, key=key,
                                                placeholder=locale.PICK))
        if locked:
            st.session_state.flt_street = locked
            codes = [locked]
        else:
            codes = [ALL_STREETS] + list(streets)
        street = st.selectbox("街道", codes, format_func=lambda c: streets.get(c, "全区"), key="flt_street",
                              disabled=bool(locked), help="街道账号只能查看本街道" if locked else None, placeholder=locale.PICK)
        if st.session_state.get("flt_problem"):
            st.warning(st.session_state.flt_problem)

    qp["period"] = chosen.key
    if street:
        qp["street"] = street
    elif "street" in qp:
        del qp["street"]
    return Filters(period=chosen, street=street or None, street_name=streets.get(street, ""), last_data_day=last_day)


def ensure_entry_script() -> None:
    """Make sure this run went through app.py, not the legacy `pages/` runner.

    Streamlit decides once per process whether the app uses the legacy pages-directory mode: because a
    `pages/` folder sits beside app.py, the very first run of a fresh server executes the requested page
    file on its own (skipping app.py's shared filters and navigation). app.py's st.navigation switches
    that mode off for the process, so when a page finds the mode still on, switch it off and rerun —
    the rerun goes through app.py to the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def current() -> Filters:
    """The filters chosen in the sidebar for this run (set by app.py)."""
    ensure_entry_script()
    return st.session_state["_filters"]
