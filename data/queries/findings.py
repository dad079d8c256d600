"""检查与整改: inspections, the problems they found, their rectification, and village asset verification."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import and_, case, distinct, func, literal, select, true
from sqlalchemy.engine import Engine

from data.security.access import query
from data.db.models import (INSPECTION_SOURCES, SAFETY_SOURCES, AssetVerification, Community, Finding, Inspection,
                         Subdistrict)
from data.domain.period import Period
from data.queries.common import frame, scalar, street_filter

__all__ = ["SAFETY_SOURCES", "inspections_count", "inspections_by_source", "findings_summary", "findings_list",
           "findings_by_subdistrict", "open_findings_on", "asset_verifications_count"]


def _sources(column, sources):
    if sources is None:
        return true()
    if isinstance(sources, str):
        sources = (sources,)
    return column.in_(list(sources))


def _in(column, period: Period):
    return and_(column >= period.start, column <= period.end)


def rectified_by(day: date):
    """已整改（截至某日）: rectified_on on or before the day."""
    return and_(Finding.rectified_on.is_not(None), Finding.rectified_on <= day)


def _overdue_by(day: date):
    """逾期未整改: not rectified by the day and its deadline already passed (deadline < day)."""
    return and_(~rectified_by(day), Finding.deadline < day)


# --- inspections -----------------------------------------------------------------------------

@query(scope="street")
def inspections_count(engine: Engine, period: Period, street: str | None = None, sources=None) -> int:
    """检查次数（F30、F31）：指定来源、inspected_on 在统计期内的检查记录数。"""
    stmt = select(func.count()).select_from(Inspection).where(
        _in(Inspection.inspected_on, period), _sources(Inspection.source, sources),
        street_filter(Inspection.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def inspections_by_source(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """检查次数（按来源）: every source listed, zero when none."""
    got = dict(frame(engine, select(Inspection.source, func.count().label("n"))
                     .where(_in(Inspection.inspected_on, period), street_filter(Inspection.subdistrict_code, street))
                     .group_by(Inspection.source)).itertuples(index=False, name=None))
    return pd.DataFrame({"source": list(INSPECTION_SOURCES), "source_name": list(INSPECTION_SOURCES.values()),
                         "inspections": [int(got.get(s, 0)) for s in INSPECTION_SOURCES]})


# --- findings ---------------------------------------------------------------------------------

def _summary_columns(period: Period):
    end = period.end
    return [func.count().label("found"),
            func.coalesce(func.sum(case((rectified_by(end), 1), else_=0)), 0).label("rectified"),
            func.coalesce(func.sum(case((_overdue_by(end), 1), else_=0)), 0).label("overdue"),
            func.coalesce(func.sum(case((Finding.referred_to_discipline.is_(True), 1), else_=0)), 0).label("referred")]


def _summary_dict(found: int, rectified: int, overdue: int, referred: int) -> dict:
    found, rectified, overdue, referred = int(found or 0), int(rectified or 0), int(overdue or 0), int(referred or 0)
    return {"found": found, "rectified": rectified, "open": found - rectified, "overdue": overdue, "referred": referred,
            "rectification_rate": rectified / found if found else 0.0}


@query(scope="street")
def findings_summary(engine: Engine, period: Period, street: str | None = None, sources=None) -> dict:
    """整改情况（F32–F36）：found_on 在统计期内的问题数，其中期末前已整改（rectified_on ≤ 期末）、未整改、逾期（deadline 早于期末且期末仍未整改）、移送纪检的条数；整改率 = 已整改 ÷ 查出（无问题时为 0）。"""
    stmt = select(*_summary_columns(period)).select_from(Finding).where(
        _in(Finding.found_on, period), _sources(Finding.source, sources),
        street_filter(Finding.subdistrict_code, street))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    return _summary_dict(*row)


@query(scope="street")
def findings_by_subdistrict(engine: Engine, period: Period, street: str | None = None, sources=None) -> pd.DataFrame:
    """整改情况（按街道）: the findings_summary of each subdistrict, every subdistrict listed."""
    stmt = (select(Finding.subdistrict_code, *_summary_columns(period))
            .where(_in(Finding.found_on, period), _sources(Finding.source, sources),
                   street_filter(Finding.subdistrict_code, street))
            .group_by(Finding.subdistrict_code))
    got = {r[0]: _summary_dict(*r[1:]) for r in frame(engine, stmt).itertuples(index=False, name=None)}
    subs = frame(engine, select(Subdistrict.code, Subdistrict.name).where(street_filter(Subdistrict.code, street))
                 .order_by(Subdistrict.code))
    rows = [{"subdistrict_code": c, "subdistrict_name": n, **got.get(c, _summary_dict(0, 0, 0, 0))}
            for c, n in subs.itertuples(index=False, name=None)]
    return pd.DataFrame(rows, columns=["subdistrict_code", "subdistrict_name", "found", "rectified", "open", "overdue",
                                       "referred", "rectification_rate"])


_LIST_COLUMNS = ["id", "code", "source", "source_name", "place_type", "place_name", "facility_id", "community_code",
                 "subdistrict_code", "subdistrict_name", "category", "severity", "description", "found_on", "deadline",
                 "rectified_on", "referred_to_discipline", "status", "status_name", "overdue"]
_STATUS_NAMES = {"rectified": "已整改", "open": "整改中", "overdue": "逾期未整改"}


def _finding_frame(engine: Engine, where, as_of: date) -> pd.DataFrame:
    status = case((rectified_by(as_of), literal("rectified")), (Finding.deadline < as_of, literal("overdue")),
                  else_=literal("open"))
    stmt = (select(Finding.id, Finding.code, Finding.source, Finding.place_type, Finding.place_name,
                   Finding.facility_id, Finding.community_code, Finding.subdistrict_code,
                   Subdistrict.name.label("subdistrict_name"), Finding.category, Finding.severity, Finding.description,
                   Finding.found_on, Finding.deadline,
                   Finding.rectified_on, Finding.referred_to_discipline, status.label("status"))
            .join(Subdistrict, Subdistrict.code == Finding.subdistrict_code)
            .where(where).order_by(Finding.found_on, Finding.code))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=_LIST_COLUMNS)
    df["referred_to_discipline"] = df["referred_to_discipline"].astype(bool)
    # a rectification after `as_of` is not known yet on that day
    df["rectified_on"] = [r if s == "rectified" else None for r, s in zip(df["rectified_on"], df["status"])]
    df["source_name"] = df["source"].map(INSPECTION_SOURCES).fillna(df["source"])
    df["status_name"] = df["status"].map(_STATUS_NAMES)
    df["overdue"] = df["status"] == "overdue"
    return df[_LIST_COLUMNS]


@query(scope="street")
def findings_list(engine: Engine, period: Period, street: str | None = None, sources=None) -> pd.DataFrame:
    """问题清单: the problems found in the period with their status at its end (已整改 / 整改中 / 逾期未整改)."""
    return _finding_frame(engine, and_(_in(Finding.found_on, period), _sources(Finding.source, sources),
                                       street_filter(Finding.subdistrict_code, street)), period.end)


@query(scope="street")
def open_findings_on(engine: Engine, on: date, street: str | None = None, sources=None) -> pd.DataFrame:
    """未整改问题（截至某日）: every problem found on or before the day and not rectified by then, whenever found."""
    return _finding_frame(engine, and_(Finding.found_on <= on, ~rectified_by(on), _sources(Finding.source, sources),
                                       street_filter(Finding.subdistrict_code, street)), on)


# --- village assets ---------------------------------------------------------------------------------

@query(scope="street")
def asset_verifications_count(engine: Engine, period: Period, street: str | None = None) -> int:
    """完成清产核资的村（F37）：completed_on 在统计期内有清产核资记录的村委会个数（去重）。"""
    stmt = (select(func.count(distinct(AssetVerification.community_code)))
            .join(Community, Community.code == AssetVerification.community_code)
            .where(_in(AssetVerification.completed_on, period), Community.kind == "村委会",
                   street_filter(Community.subdistrict_code, street)))
    return int(scalar(engine, stmt) or 0)


# --- the 整改进度 page: headline, per source, burn-down, ageing, places --------------------------------

from datetime import timedelta  # noqa: E402  (appended section; see the page pages/rectification.py)

from data.queries.common import as_date_series, week_start  # noqa: E402


def _scope(street: str | None, sources):
    return and_(_sources(Finding.source, sources), street_filter(Finding.subdistrict_code, street))


def _with_in_progress(summary: dict) -> dict:
    """整改中 = still open and not (yet) overdue; open = in progress + overdue."""
    return {**summary, "in_progress": summary["open"] - summary["overdue"]}


@query(scope="street")
def findings_headline(engine: Engine, period: Period, street: str | None = None, sources=None) -> dict:
    """整改进度总览: findings_summary (found in the period; rectified / overdue / referred at its end) plus 整改中
    (open and not overdue at the end of the period)."""
    return _with_in_progress(findings_summary(engine, period, street, sources))


@query(scope="street")
def findings_by_source(engine: Engine, period: Period, street: str | None = None, sources=None) -> pd.DataFrame:
    """整改情况（按来源）: findings_headline of each source, every chosen source listed in INSPECTION_SOURCES order
    (zeros when it found nothing in the period)."""
    stmt = (select(Finding.source, *_summary_columns(period))
            .where(_in(Finding.found_on, period), _scope(street, sources)).group_by(Finding.source))
    got = {r[0]: _summary_dict(*r[1:]) for r in frame(engine, stmt).itertuples(index=False, name=None)}
    if sources is None:
        chosen = list(INSPECTION_SOURCES) + sorted(set(got) - set(INSPECTION_SOURCES))
    else:
        wanted = {sources} if isinstance(sources, str) else set(sources)
        chosen = [s for s in INSPECTION_SOURCES if s in wanted] + sorted(wanted - set(INSPECTION_SOURCES))
    rows = [{"source": s, "source_name": INSPECTION_SOURCES.get(s, s),
             **_with_in_progress(got.get(s, _summary_dict(0, 0, 0, 0)))} for s in chosen]
    return pd.DataFrame(rows, columns=["source", "source_name", "found", "rectified", "open", "in_progress", "overdue",
                                       "referred", "rectification_rate"])


def _count_by_week(engine: Engine, column, where) -> dict:
    wk = week_start(column)
    df = frame(engine, select(wk.label("week"), func.count().label("n")).where(where).group_by(wk))
    if df.empty:
        return {}
    return dict(zip(as_date_series(df["week"]), df["n"].astype(int)))


@query(scope="street")
def findings_burndown(engine: Engine, period: Period, street: str | None = None, sources=None) -> pd.DataFrame:
    """未整改问题走势（按周）: for each ISO week of the period (clipped to it), problems found and problems rectified in
    it (counted per week in SQL), and the problems open — found, not yet rectified, whenever found — before and
    after it, cumulated from the number open on the day before the period starts.

    The last open_after equals the number of rows of open_findings_on(period.end)."""
    scope = _scope(street, sources)
    day_before = period.start - timedelta(days=1)
    open_start = int(scalar(engine, select(func.count()).select_from(Finding).where(
        Finding.found_on <= day_before, ~rectified_by(day_before), scope)) or 0)
    found = _count_by_week(engine, Finding.found_on, and_(_in(Finding.found_on, period), scope))
    rectified = _count_by_week(engine, Finding.rectified_on,
                               and_(Finding.rectified_on.is_not(None), _in(Finding.rectified_on, period), scope))
    rows, open_now = [], open_start
    monday = period.start - timedelta(days=period.start.weekday())
    while monday <= period.end:
        f, r = int(found.get(monday, 0)), int(rectified.get(monday, 0))
        rows.append({"week_start": monday, "first_day": max(monday, period.start),
                     "last_day": min(monday + timedelta(days=6), period.end), "found": f, "rectified": r,
                     "open_before": open_now, "open_after": open_now + f - r})
        open_now += f - r
        monday += timedelta(days=7)
    return pd.DataFrame(rows, columns=["week_start", "first_day", "last_day", "found", "rectified", "open_before",
                                       "open_after"])


AGEING_BUCKETS = (("0–15天", 0, 15), ("16–30天", 16, 30), ("31–60天", 31, 60), ("61–90天", 61, 90),
                  ("90天以上", 91, None))


@query(scope="street")
def open_findings_ageing(engine: Engine, on: date, street: str | None = None, sources=None) -> pd.DataFrame:
    """未整改问题账龄: problems open at the end of `on` (found on or before it, not rectified by it, whenever found) by
    days open = on − found_on (0–15, 16–30, 31–60, 61–90, over 90 days), and how many of them are overdue
    (deadline before `on`); every bucket listed."""
    columns = []
    for i, (_, lo, hi) in enumerate(AGEING_BUCKETS):
        cond = Finding.found_on <= on - timedelta(days=lo)
        if hi is not None:
            cond = and_(cond, Finding.found_on >= on - timedelta(days=hi))
        columns += [func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(f"open_{i}"),
                    func.coalesce(func.sum(case((and_(cond, Finding.deadline < on), 1), else_=0)), 0)
                    .label(f"overdue_{i}")]
    stmt = select(*columns).select_from(Finding).where(Finding.found_on <= on, ~rectified_by(on),
                                                       _scope(street, sources))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    return pd.DataFrame([{"bucket": label, "min_days": lo, "max_days": hi, "open": int(row[2 * i] or 0),
                          "overdue": int(row[2 * i + 1] or 0)} for i, (label, lo, hi) in enumerate(AGEING_BUCKETS)],
                        columns=["bucket", "min_days", "max_days", "open", "overdue"])


@query(scope="street")
def places_with_open_findings(engine: Engine, on: date, street: str | None = None, sources=None, *,
                              limit: int = 20) -> pd.DataFrame:
    """问题较多的点位: places (institution, village, meal point, provider — by subdistrict, place type and name) with
    problems open at the end of `on`, their open and overdue counts and the oldest open problem's found date;
    most overdue first, then most open, then longest open; at most `limit` rows."""
    n_open = func.count().label("open")
    n_overdue = func.coalesce(func.sum(case((Finding.deadline < on, 1), else_=0)), 0).label("overdue")
    oldest = func.min(Finding.found_on).label("oldest_found_on")
    stmt = (select(Finding.subdistrict_code, Subdistrict.name.label("subdistrict_name"), Finding.place_type,
                   Finding.place_name, n_open, n_overdue, oldest)
            .join(Subdistrict, Subdistrict.code == Finding.subdistrict_code)
            .where(Finding.found_on <= on, ~rectified_by(on), _scope(street, sources))
            .group_by(Finding.subdistrict_code, Subdistrict.name, Finding.place_type, Finding.place_name)
            .order_by(n_overdue.desc(), n_open.desc(), oldest, Finding.place_name)
            .limit(max(int(limit), 0)))
    df = frame(engine, stmt)
    columns = ["subdistrict_code", "subdistrict_name", "place_type", "place_name", "open", "overdue",
               "oldest_found_on"]
    if df.empty:
        return pd.DataFrame(columns=columns)
    df["open"] = df["open"].astype(int)
    df["overdue"] = df["overdue"].astype(int)
    df["oldest_found_on"] = as_date_series(df["oldest_found_on"])
    return df[columns]


@query(scope="street")
def place_findings(engine: Engine, on: date, *, subdistrict_code: str, place_type: str, place_name: str,
                   sources=None) -> pd.DataFrame:
    """点位问题清单: every problem of one place found on or before `on`, with its status at the end of that day."""
    return _finding_frame(engine, and_(Finding.found_on <= on, Finding.subdistrict_code == subdistrict_code,
                                       Finding.place_type == place_type, Finding.place_name == place_name,
                                       _sources(Finding.source, sources)), on)


# --- headline counts (data.domain.headlines): 逾期未整改 is a stock at a day, 完成整改 a flow over a period ---------

@query(scope="street")
def overdue_count(engine: Engine, on: date, street: str | None = None, sources=None) -> int:
    """逾期未整改（截至某日）：当日及以前发现、当日仍未整改且整改期限早于当日的问题数，不论在哪个统计期发现 —
    the count of open_findings_on(on) marked overdue, the list the weekly review and 整改进度 show."""
    stmt = select(func.count()).select_from(Finding).where(
        Finding.found_on <= on, _overdue_by(on), _sources(Finding.source, sources),
        street_filter(Finding.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def rectified_count(engine: Engine, period: Period, street: str | None = None, sources=None) -> int:
    """完成整改问题：整改完成日期在统计期内的问题数（不论何时发现）。"""
    stmt = select(func.count()).select_from(Finding).where(
        Finding.rectified_on.is_not(None), _in(Finding.rectified_on, period), _sources(Finding.source, sources),
        street_filter(Finding.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)
