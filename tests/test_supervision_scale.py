"""The 督办, 站点考核 and 周度研判 figures computed the province-scale way (grouped in SQL or pandas, the daily totals
district-wide) are the figures of the per-unit, per-station computation they replaced: the earlier code is kept
here as the reference and both are run on the demo district (×1), on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data.db import rollups
from data.domain import supervision as rules
from data.domain.period import custom, parse
from data.domain.units import pct
from data.queries import supervision as sq
from data.queries import weekly
from data.queries.services import living_alone_visit_compliance

DAYS = [date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 15), date(2024, 12, 31)]
MONTHS = ["2024-02", "2024-06", "2024-11", "2024-12"]
WEEKS = ["2024-W10", "2024-W27", "2024-W45", "2024-W52"]


# --- the replaced computations, as they were ------------------------------------------------------------------

def old_raise_red(df, s):
    mine = df["current"] & (df["unit_kind"] == "subdistrict")
    for code, part in df[mine].groupby("subdistrict_code"):
        n, late = len(part), int(part["overdue"].sum())
        if rules.subdistrict_red(n, late, s):
            idx = part.index[part["overdue"]]
            note = f"；所在街道逾期占比 {pct(late / n)}"
            df.loc[idx, "reason"] = [r if r.endswith(note) else r + note for r in df.loc[idx, "reason"]]
            df.loc[idx, "level"] = "red"


def old_count_by_unit(df, s):
    d = df.assign(unit=sq._unit_label(df), code=df["subdistrict_code"].where(df["unit_kind"] == "subdistrict"))
    rows = []
    for (unit, code), part in d.groupby(["unit", d["code"].fillna("")], sort=False):
        open_ = part[part["status"].isin(rules.OPEN_STATUSES)]
        row = {"unit": unit, "subdistrict_code": code or None, "issued": len(part), "open": len(open_),
               "pending": int((part["status"] == "pending").sum()), "working": int((part["status"] == "working").sum()),
               "reported": int((part["status"] == "reported").sum()),
               "returned_now": int((part["status"] == "returned").sum()),
               "done": int(part["status"].isin(rules.DONE_STATUSES).sum()),
               **{lv: int((open_["level"] == lv).sum()) for lv in rules.LEVEL_ORDER},
               "overdue": int(open_["overdue"].sum()), "current": int(part["current"].sum())}
        row["overdue_share"] = row["overdue"] / row["current"] if row["current"] else 0.0
        row["red_unit"] = bool(code) and rules.subdistrict_red(row["current"], row["overdue"], s)
        rows.append(row)
    out = pd.DataFrame(rows, columns=sq.COUNT_COLUMNS)
    out["_o"] = out["subdistrict_code"].isna()
    return out.sort_values(["_o", "subdistrict_code"]).drop(columns="_o").reset_index(drop=True)


def old_weekly_by_unit(df, week, closed_in_week):
    d = df.assign(unit=sq._unit_label(df), code=df["subdistrict_code"].where(df["unit_kind"] == "subdistrict"))
    rows = []
    for (unit, code), part in d.groupby(["unit", d["code"].fillna("")], sort=False):
        open_ = part[part["status"].isin(rules.OPEN_STATUSES)]
        rows.append({"unit": unit, "subdistrict_code": code or None,
                     "issued": int(part["issued_on"].map(week.contains).sum()),
                     "due": int(part["deadline"].map(week.contains).sum()),
                     **{lv: int((open_["level"] == lv).sum()) for lv in rules.LEVEL_ORDER},
                     "closed": int(part["id"].isin(closed_in_week).sum()), "open": len(open_)})
    out = pd.DataFrame(rows, columns=sq.WEEKLY_COLUMNS)
    out["_o"] = out["subdistrict_code"].isna()
    return out.sort_values(["_o", "subdistrict_code"]).drop(columns="_o").reset_index(drop=True)


def old_score_frame(board, counts, due, weights):
    rows = []
    for st in counts.itertuples(index=False):
        mine = board[board["subdistrict_code"] == st.subdistrict_code]
        task_rates = [r for r in mine["rate"] if r is not None and not pd.isna(r)]
        d = due[due["subdistrict_code"] == st.subdistrict_code]
        regular, req = d[~d["request"]], d[d["request"]]
        rates = {"tasks": rules.mean(task_rates),
                 "on_time": rules.share(int(regular["on_time"].sum()), len(regular)),
                 "ledger": rules.share(int(st.weeks_updated), int(st.weeks)),
                 "visits": rules.share(int(st.compliant), int(st.roster)),
                 "requests": rules.share(int(req["on_time"].sum()), len(req))}
        score, points = rules.station_score(rates, weights)
        rows.append([st.subdistrict_code, st.subdistrict_name, st.station_name, bool(st.assessed),
                     *[rates[k] for k in rules.SCORE_PARTS], *[points[k] for k in rules.SCORE_PARTS], score,
                     len(task_rates), len(regular), int(regular["on_time"].sum()), len(req), int(req["on_time"].sum()),
                     int(st.weeks), int(st.weeks_updated), int(st.roster), int(st.compliant)])
    return pd.DataFrame(rows, columns=sq.SCORE_COLUMNS)


def same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(new.reset_index(drop=True), old.reset_index(drop=True), check_dtype=False)


# --- orders -----------------------------------------------------------------------------------------------------

def _unraised(engine, on, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(sq, "_raise_red_subdistricts", lambda df, s: None)
        return sq._orders_on(engine, on)


def test_red_subdistricts_counts_by_unit_and_the_weekly_summary_are_the_per_unit_figures(demo_engine, monkeypatch):
    s = sq.supervision_settings(demo_engine)
    raised = 0
    for on in DAYS:
        plain = _unraised(demo_engine, on, monkeypatch)
        assert len(plain) > 0
        old, new = plain.copy(), plain.copy()
        old_raise_red(old, s)
        sq._raise_red_subdistricts(new, s)
        same(new, old)
        raised += int((new["reason"] != plain["reason"]).sum())
        df = sq._orders_on(demo_engine, on, settings=s)
        counts = sq.count_by_unit(df, s)
        same(counts, old_count_by_unit(df, s))
        assert counts["issued"].sum() == len(df)
    assert raised > 0, "the demo should have a subdistrict over its red share on one of the days"
    pruned = 0
    for key in WEEKS:
        week = parse(key)
        got = sq.weekly_summary(demo_engine, week)
        df = sq._orders_on(demo_engine, week.end, settings=s)
        closed = set(df.loc[[d is not None and week.contains(d) for d in df["closed_on"]], "id"])
        same(got["by_unit"], old_weekly_by_unit(df, week, closed))
        # the chase list of every order's history (the summary reads only orders not settled before the week)
        chase = df[df["level"].isin(("yellow", "orange", "red"))]
        assert sorted(got["chase"]["code"]) == sorted(chase["code"])
        rest = got["chase"].columns.drop("code")
        same(_blank(got["chase"].set_index("code").sort_index()), _blank(chase.set_index("code").sort_index()[rest]))
        settled = len(df) - len(sq._orders_on(demo_engine, week.end, where=sq._in_play_since(sq._weekly_horizon(week))))
        pruned += settled
    assert pruned > 0, "some weeks should have orders settled before them (else the short cut is not exercised)"


def test_the_states_stored_with_the_orders_are_their_replayed_history(demo_engine, monkeypatch):
    """On or after the last activity (the 督办 page's default day) the orders' states are read as stored, not
    replayed from every event: both give the same list, with the same warnings; an earlier day replays."""
    from datetime import timedelta

    last = sq.last_activity(demo_engine)
    for on, street in ((last, None), (last + timedelta(days=45), None), (last, "360103014")):
        stored = sq._orders_on(demo_engine, on, street)
        with monkeypatch.context() as m:
            m.setattr(sq, "_stored_states", lambda *a, **k: None)
            replayed = sq._orders_on(demo_engine, on, street)
        assert len(stored) > 0
        if street is None:  # the district's orders in every state, some verified, some sent back
            assert stored["status"].nunique() > 2
            assert stored["passed_on"].notna().any() and (stored["returned"] > 0).any()
        same(_blank(stored), _blank(replayed))
    before = last - timedelta(days=20)
    assert sq._stored_states(demo_engine, sq._order_rows(demo_engine, before, None), before, None) is None


def _blank(d: pd.DataFrame) -> pd.DataFrame:
    return d.astype(object).where(d.notna(), None)  # an empty id or day is None or NaN alike


# --- stations ---------------------------------------------------------------------------------------------------

def test_station_counts_and_scores_are_the_per_station_figures(demo_engine):
    weights = sq.supervision_settings(demo_engine).weights
    for month in MONTHS:
        counts = sq._station_counts(demo_engine, month)
        first, last = rules.month_bounds(month)
        comp = living_alone_visit_compliance(demo_engine, custom(first, last))
        compliant = comp[comp["compliant"]].groupby("subdistrict_code").size().to_dict()
        assert list(counts["compliant"]) == [int(compliant.get(c, 0)) for c in counts["subdistrict_code"]]
        assert counts["compliant"].sum() > 0
        with rollups.from_records():
            by_records = sq._ledger_weeks(demo_engine, month, None)
        assert sq._ledger_weeks(demo_engine, month, None) == by_records and by_records
        board = sq.board_frame(sq._tasks(demo_engine, month), counts, sq._entries(demo_engine, month, None))
        due = sq._due_orders(demo_engine, month, None)
        same(sq.score_frame(board, counts, due, weights), old_score_frame(board, counts, due, weights))


def test_one_subdistrict_reads_its_own_records(demo_engine):
    code = sq._stations(demo_engine, None)["subdistrict_code"].iloc[0]
    for month in MONTHS:
        whole = sq._station_counts(demo_engine, month).set_index("subdistrict_code")
        one = sq._station_counts(demo_engine, month, code).set_index("subdistrict_code")
        assert list(one.index) == [code]
        same(one.loc[[code]], whole.loc[[code]])


def test_station_names_are_the_boards_stations(demo_engine):
    board = sq.station_board(demo_engine, "2024-06")
    same(sq.station_names(demo_engine), board[["subdistrict_code", "station_name"]].drop_duplicates())


# --- the weekly review -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", WEEKS + ["2024-W01", "2023-W30"])
def test_silent_ledgers_from_the_daily_totals_are_those_of_the_records(demo_engine, key):
    week = parse(key)
    got = weekly.silent_ledgers(demo_engine, week)
    with rollups.from_records():
        want = weekly.silent_ledgers(demo_engine, week)
    same(got, want)


@pytest.mark.parametrize("key", WEEKS)
def test_elders_below_the_visit_rule_by_subdistrict_are_those_of_the_per_elder_list(demo_engine, key):
    week = parse(key)
    df = living_alone_visit_compliance(demo_engine, weekly.month_to_week_end(week))
    df["below"] = ~df["compliant"].astype(bool)
    old = (df.groupby(["subdistrict_code", "subdistrict_name"]).agg(roster=("elder_id", "size"), below=("below", "sum"))
           .reset_index())
    old["below"] = old["below"].astype(int)
    old = old[old["below"] > 0].sort_values(["below", "subdistrict_code"], ascending=[False, True])
    got = weekly.visits_below_rule_by_subdistrict(demo_engine, week)
    assert len(got) > 0
    same(got, old[["subdistrict_code", "subdistrict_name", "roster", "below"]])


def test_the_pages_counts_are_the_order_counts_query(demo_engine):
    from data.security.access import Principal, Reader
    from views import supervision as view

    office = Reader(demo_engine, Principal("t_office", "office"))
    for on in DAYS[1:3]:
        page = view.build(office, on=on, with_map=False)
        counts = sq.order_counts(demo_engine, on)
        same(page.by_unit, view.unit_table(counts))
        assert page.level_counts == {lv: int(counts[lv].sum()) for lv in rules.LEVEL_ORDER}
        assert sum(page.level_counts.values()) > 0


def test_the_month_query_is_the_board_and_the_scores(demo_engine):
    for month in MONTHS[1:3]:
        got = sq.station_month(demo_engine, month)
        same(got["board"], sq.station_board(demo_engine, month))
        same(got["scores"], sq.station_scores(demo_engine, month))
        assert len(got["scores"]) > 0


def test_every_orders_state_is_that_of_its_history_step_by_step(demo_engine):
    for on in DAYS:
        ev = sq._events_until(demo_engine, on, None)
        states = sq._states(ev)
        assert len(states) > 0 and set(states["status"]) >= {"closed", "working"}
        for oid, part in ev.groupby("order_id"):
            want = rules.state_after(list(zip(part["action"], part["day"])))
            got = {k: (None if pd.isna(v) else v) for k, v in states.loc[oid].items()}
            assert got == want, oid


def test_states_follow_returns_and_repeated_reports():
    d = [date(2024, 5, i) for i in range(1, 10)]
    histories = {1: [("issue", d[0])],
                 2: [("issue", d[0]), ("sign", d[1]), ("report", d[2]), ("return", d[3]), ("report", d[4]),
                     ("return", d[5]), ("report", d[6]), ("pass", d[7]), ("close", d[8])],
                 3: [("issue", d[0]), ("sign", d[1]), ("report", d[2]), ("return", d[3])],
                 4: [("issue", d[0]), ("sign", d[1]), ("report", d[2]), ("pass", d[3])]}
    ev = pd.DataFrame([(oid, a, day) for oid, h in histories.items() for a, day in h],
                      columns=["order_id", "action", "day"])
    states = sq._states(ev)
    for oid, h in histories.items():
        got = {k: (None if pd.isna(v) else v) for k, v in states.loc[oid].items()}
        assert got == rules.state_after(h)
    assert states.loc[2, "accepted_report_on"] == d[6] and states.loc[2, "returned"] == 2
