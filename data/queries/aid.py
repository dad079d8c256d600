"""社会救助与主动发现: payments per programme, and screenings that led to new enrolments."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import and_, case, distinct, func, or_, select, true
from sqlalchemy.engine import Engine

from data.security.access import PERSONAL_ROLES, query
from data.db.models import AID_PROGRAMMES, AidEnrolment, AidHousehold, AidPayment, Screening, Subdistrict
from data.domain.period import Period
from data.queries.common import as_date_series, frame, month_start, scalar, street_filter
from data.domain.units import fen_to_wan
from data.db import rollups
from data.db.models import AidPersonYear, DailyTotal
from data.db.models.rollups import MONTHS

TOTAL_COLUMNS = ["programme", "name", "households", "persons", "payments", "amount_fen", "amount_wan"]


def _paid_in(period: Period):
    return and_(AidPayment.paid_on >= period.start, AidPayment.paid_on <= period.end)


def _subtypes(subtypes):
    return true() if not subtypes else AidPayment.subtype.in_(list(subtypes))


# --- the summary path: distinct households and persons from aid_person_years, payments and amounts from
# daily_totals (both exact for any subdistrict; data/db/rollups.py) -------------------------------------------

def _distinct(engine: Engine, period: Period, street: str | None, *by: str, programme: str | None = None) -> dict:
    """{key of `by`: (households, persons)} of the payments in the period, counted distinct: a standard period
    (month, quarter, half, year) from aid_period_counts while it is current, else over paid()."""
    counted = rollups.period_counts(engine, period.start, period.end, street, by, programme)
    if counted is not None:
        return counted
    paid = rollups.paid(period.start, period.end, street, programme).subquery()
    stmt = (select(*[paid.c[b] for b in by], func.count(distinct(paid.c.household_id)),
                   func.count(distinct(paid.c.person_id))).group_by(*[paid.c[b] for b in by]))
    with engine.connect() as conn:
        return {tuple(r[:len(by)]): (int(r[-2]), int(r[-1])) for r in conn.execute(stmt)}


def _sums(engine: Engine, period: Period, street: str | None, *by, where=None) -> dict:
    """{key of `by` (daily_totals columns): (payments, amount in fen)} of the payments in the period."""
    t = DailyTotal
    cond = t.subdistrict_code == street if street else None
    if where is not None:
        cond = where if cond is None else and_(cond, where)
    stmt = rollups.district(rollups.totals("aid_payments", period.start, period.end, *by, func.sum(t.n),
                                           func.sum(t.v1), where=cond).group_by(*by))
    with engine.connect() as conn:
        return {tuple(r[:len(by)]): (int(r[-2] or 0), int(r[-1] or 0)) for r in conn.execute(stmt)}


@query(scope="street")
def aid_totals(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """救助发放（F40–F47）：各项目 paid_on 在统计期内的发放记录中不同家庭数、不同人数、笔数和金额（分；万元保留两位小数），无发放的项目记 0。"""
    stmt = (select(AidPayment.programme, func.count(distinct(AidPayment.household_id)).label("households"),
                   func.count(distinct(AidPayment.person_id)).label("persons"), func.count().label("payments"),
                   func.sum(AidPayment.amount_fen).label("amount_fen"))
            .where(_paid_in(period), street_filter(AidPayment.subdistrict_code, street))
            .group_by(AidPayment.programme))
    if rollups.persons_in_use():
        counts = _distinct(engine, period, street, "programme")
        sums = _sums(engine, period, street, DailyTotal.k1)
        got = {k[0]: counts.get(k, (0, 0)) + v for k, v in sums.items()}
    else:
        got = {r[0]: r[1:] for r in frame(engine, stmt).itertuples(index=False, name=None)}
    codes = list(AID_PROGRAMMES) + sorted(set(got) - set(AID_PROGRAMMES))
    rows = []
    for code in codes:
        households, persons, payments, fen = got.get(code, (0, 0, 0, 0))
        fen = int(fen or 0)
        rows.append({"programme": code, "name": AID_PROGRAMMES.get(code, code), "households": int(households),
                     "persons": int(persons), "payments": int(payments), "amount_fen": fen,
                     "amount_wan": fen_to_wan(fen)})
    return pd.DataFrame(rows, columns=TOTAL_COLUMNS)


@query(scope="street")
def aid_amount(engine: Engine, period: Period, street: str | None = None, *, programme: str, subtypes=None) -> int:
    """救助金额（分，F41、F43–F47）：某项目 paid_on 在统计期内的发放金额之和，可限子类（F43 取生活补贴与护理补贴）。"""
    if rollups.in_use(street):
        where = DailyTotal.k1 == programme
        if subtypes:
            where = and_(where, DailyTotal.k2.in_(list(subtypes)))
        stmt = rollups.district(rollups.totals("aid_payments", period.start, period.end,
                                               func.coalesce(func.sum(DailyTotal.v1), 0), where=where))
        return int(scalar(engine, stmt) or 0)
    stmt = select(func.coalesce(func.sum(AidPayment.amount_fen), 0)).where(
        AidPayment.programme == programme, _paid_in(period), _subtypes(subtypes),
        street_filter(AidPayment.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def aid_amount_all(engine: Engine, period: Period, street: str | None = None) -> int:
    """救助发放总额（分）：各项目 paid_on 在统计期内的发放金额之和（aid_overall 的 amount_fen，不数户数人数）。"""
    if rollups.in_use(street):
        stmt = rollups.district(rollups.totals("aid_payments", period.start, period.end,
                                               func.coalesce(func.sum(DailyTotal.v1), 0)))
    else:
        stmt = select(func.coalesce(func.sum(AidPayment.amount_fen), 0)).where(
            _paid_in(period), street_filter(AidPayment.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def aid_by_subdistrict(engine: Engine, period: Period, street: str | None = None, *, programme: str) -> pd.DataFrame:
    """救助发放（按街道）: households, persons and amount of one programme per subdistrict, every subdistrict listed."""
    if rollups.persons_in_use():
        df = _by_subdistrict(engine, period, street, programme)
        return df.drop(columns=["payments"])
    paid = (select(AidPayment.subdistrict_code, func.count(distinct(AidPayment.household_id)).label("households"),
                   func.count(distinct(AidPayment.person_id)).label("persons"),
                   func.sum(AidPayment.amount_fen).label("amount_fen"))
            .where(AidPayment.programme == programme, _paid_in(period))
            .group_by(AidPayment.subdistrict_code).subquery())
    stmt = (select(Subdistrict.code.label("subdistrict_code"), Subdistrict.name.label("subdistrict_name"),
                   func.coalesce(paid.c.households, 0).label("households"),
                   func.coalesce(paid.c.persons, 0).label("persons"),
                   func.coalesce(paid.c.amount_fen, 0).label("amount_fen"))
            .outerjoin(paid, paid.c.subdistrict_code == Subdistrict.code)
            .where(street_filter(Subdistrict.code, street)).order_by(Subdistrict.code))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["subdistrict_code", "subdistrict_name", "households", "persons", "amount_fen",
                                     "amount_wan"])
    df["amount_fen"] = df["amount_fen"].astype("int64")
    df["amount_wan"] = df["amount_fen"].map(fen_to_wan)
    return df


def _by_subdistrict(engine: Engine, period: Period, street: str | None, programme: str | None) -> pd.DataFrame:
    """The summary path of aid_by_subdistrict (one programme) and aid_all_by_subdistrict (programme None)."""
    counts = _distinct(engine, period, street, "subdistrict_code", programme=programme)
    sums = _sums(engine, period, street, DailyTotal.subdistrict_code,
                 where=DailyTotal.k1 == programme if programme else None)
    subs = frame(engine, select(Subdistrict.code, Subdistrict.name).where(street_filter(Subdistrict.code, street))
                 .order_by(Subdistrict.code))
    rows = []
    for code, name in subs.itertuples(index=False, name=None):
        households, persons = counts.get((code,), (0, 0))
        payments, fen = sums.get((code,), (0, 0))
        rows.append({"subdistrict_code": code, "subdistrict_name": name, "households": households, "persons": persons,
                     "payments": payments, "amount_fen": fen, "amount_wan": fen_to_wan(fen)})
    columns = ["subdistrict_code", "subdistrict_name", "households", "persons", "payments", "amount_fen",
               "amount_wan"]
    df = pd.DataFrame(rows, columns=columns)
    for col in ("households", "persons", "payments", "amount_fen"):
        df[col] = df[col].astype("int64")
    return df


def _as_date(value) -> date:
    """A month computed in SQL as a date (SQLite returns text)."""
    return date.fromisoformat(value[:10]) if isinstance(value, str) else date(value.year, value.month, value.day)


def _by_month_summary(engine: Engine, period: Period, street: str | None) -> pd.DataFrame:
    """The summary path of aid_by_month: persons per whole month from aid_person_years (a person counted once per
    programme and month however many rows they have), per month the period covers in part from the records;
    payments and amounts per month from daily_totals."""
    t = AidPersonYear
    whole, edges = rollups.split(period.start, period.end)
    persons: dict[tuple, int] = {}
    counted = rollups.month_persons(engine, whole, street) if whole else None
    if counted is not None:  # the one-month distinct counts, counted ahead (aid_period_counts)
        persons.update(counted)
    elif whole:
        per_person = (select(t.year, t.programme, t.person_id,
                             *[func.max(getattr(t, c)).label(c) for c in MONTHS])
                      .where(or_(*[and_(t.year == y, rollups.months_paid(a, b)) for y, a, b in whole]),
                             street_filter(t.subdistrict_code, street))
                      .group_by(t.year, t.programme, t.person_id).subquery())
        stmt = (select(per_person.c.year, per_person.c.programme,
                       *[func.sum(case((per_person.c[c] > 0, 1), else_=0)) for c in MONTHS])
                .group_by(per_person.c.year, per_person.c.programme))
        span = {y: (a, b) for y, a, b in whole}
        with engine.connect() as conn:
            for year, programme, *by_month in conn.execute(stmt):
                a, b = span[int(year)]
                for i in range(a, b + 1):
                    persons[(date(int(year), i, 1), programme)] = int(by_month[i - 1] or 0)
    for a, b in edges:
        mon = month_start(AidPayment.paid_on)
        stmt = (select(mon, AidPayment.programme, func.count(distinct(AidPayment.person_id)))
                .where(AidPayment.paid_on >= a, AidPayment.paid_on <= b,
                       street_filter(AidPayment.subdistrict_code, street))
                .group_by(mon, AidPayment.programme))
        with engine.connect() as conn:
            for mon_, programme, n in conn.execute(stmt):
                persons[(_as_date(mon_), programme)] = int(n)
    sums = _sums(engine, period, street, month_start(DailyTotal.day).label("month"), DailyTotal.k1)
    rows = []
    for (mon_, programme), (payments, fen) in sums.items():
        mon_ = _as_date(mon_)
        if payments:
            rows.append({"month": mon_, "programme": programme, "persons": persons.get((mon_, programme), 0),
                         "amount_fen": fen})
    rows.sort(key=lambda r: (r["month"], r["programme"]))
    return pd.DataFrame(rows, columns=["month", "programme", "persons", "amount_fen"])


@query(scope="street")
def aid_by_month(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """救助发放（按月）: per month and programme, persons paid and amount (分)."""
    mon = month_start(AidPayment.paid_on)
    stmt = (select(mon.label("month"), AidPayment.programme,
                   func.count(distinct(AidPayment.person_id)).label("persons"),
                   func.sum(AidPayment.amount_fen).label("amount_fen"))
            .where(_paid_in(period), street_filter(AidPayment.subdistrict_code, street))
            .group_by(mon, AidPayment.programme).order_by(mon, AidPayment.programme))
    df = _by_month_summary(engine, period, street) if rollups.persons_in_use() else frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["month", "programme", "name", "persons", "amount_fen"])
    df["month"] = as_date_series(df["month"])
    df["name"] = df["programme"].map(AID_PROGRAMMES).fillna(df["programme"])
    df["amount_fen"] = df["amount_fen"].astype("int64")
    return df[["month", "programme", "name", "persons", "amount_fen"]]


# --- proactive discovery ------------------------------------------------------------------------------

@query(scope="street")
def screenings_count(engine: Engine, period: Period, street: str | None = None) -> int:
    """主动摸排人次（F50）：screened_on 在统计期内的“九类”重点人员摸排记录数。"""
    stmt = select(func.count()).select_from(Screening).where(
        Screening.screened_on >= period.start, Screening.screened_on <= period.end,
        street_filter(Screening.subdistrict_code, street))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def enrolled_after_screening(engine: Engine, period: Period, street: str | None = None, *, programme: str) -> int:
    """摸排后纳入保障户数（F51、F52）：有摸排来源（screening_id 不为空）、start_date 在统计期内的纳入记录的家庭数。"""
    stmt = (select(func.count(distinct(AidEnrolment.household_id)))
            .join(AidHousehold, AidHousehold.id == AidEnrolment.household_id)
            .where(AidEnrolment.programme == programme, AidEnrolment.screening_id.is_not(None),
                   AidEnrolment.start_date >= period.start, AidEnrolment.start_date <= period.end,
                   street_filter(AidHousehold.subdistrict_code, street)))
    return int(scalar(engine, stmt) or 0)


@query(scope="street")
def proactive_discovery(engine: Engine, period: Period, street: str | None = None) -> dict:
    """主动发现（F50–F52）：统计期内摸排人次，及由摸排纳入低保、特困的家庭数。"""
    return {"screened": screenings_count(engine, period, street),
            "dibao_households": enrolled_after_screening(engine, period, street, programme="dibao"),
            "tekun_households": enrolled_after_screening(engine, period, street, programme="tekun")}


@query(scope="street")
def proactive_discovery_by_subdistrict(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """主动发现（按街道）: screenings and 低保 / 特困 households enrolled from screenings, every subdistrict listed."""
    screened = dict(frame(engine, select(Screening.subdistrict_code, func.count())
                          .where(Screening.screened_on >= period.start, Screening.screened_on <= period.end,
                                 street_filter(Screening.subdistrict_code, street))
                          .group_by(Screening.subdistrict_code)).itertuples(index=False, name=None))
    enrolled = frame(engine, select(AidHousehold.subdistrict_code, AidEnrolment.programme,
                                    func.count(distinct(AidEnrolment.household_id)).label("households"))
                     .join(AidHousehold, AidHousehold.id == AidEnrolment.household_id)
                     .where(AidEnrolment.screening_id.is_not(None), AidEnrolment.start_date >= period.start,
                            AidEnrolment.start_date <= period.end, AidEnrolment.programme.in_(["dibao", "tekun"]),
                            street_filter(AidHousehold.subdistrict_code, street))
                     .group_by(AidHousehold.subdistrict_code, AidEnrolment.programme))
    got = {(s, p): n for s, p, n in enrolled.itertuples(index=False, name=None)}
    subs = frame(engine, select(Subdistrict.code, Subdistrict.name).where(street_filter(Subdistrict.code, street))
                 .order_by(Subdistrict.code))
    rows = [{"subdistrict_code": c, "subdistrict_name": n, "screened": int(screened.get(c, 0)),
             "dibao_households": int(got.get((c, "dibao"), 0)), "tekun_households": int(got.get((c, "tekun"), 0))}
            for c, n in subs.itertuples(index=False, name=None)]
    return pd.DataFrame(rows, columns=["subdistrict_code", "subdistrict_name", "screened", "dibao_households",
                                       "tekun_households"])


# --- the 救助发放 page: totals over all programmes, per subdistrict, and the recipient list --------------

from data.db.models import AidPerson, Community  # noqa: E402  (appended section; see the page pages/aid.py)


@query(scope="street")
def aid_overall(engine: Engine, period: Period, street: str | None = None) -> dict:
    """救助发放合计: over every programme, distinct households and persons paid, payments and amount (分) in the
    period — a person paid under two programmes counts once."""
    stmt = (select(func.count(distinct(AidPayment.household_id)), func.count(distinct(AidPayment.person_id)),
                   func.count(), func.coalesce(func.sum(AidPayment.amount_fen), 0))
            .where(_paid_in(period), street_filter(AidPayment.subdistrict_code, street)))
    if rollups.persons_in_use():
        households, persons = _distinct(engine, period, street).get((), (0, 0))
        payments, fen = _sums(engine, period, street).get((), (0, 0))
    else:
        with engine.connect() as conn:
            households, persons, payments, fen = conn.execute(stmt).one()
    fen = int(fen or 0)
    return {"households": int(households or 0), "persons": int(persons or 0), "payments": int(payments or 0),
            "amount_fen": fen, "amount_wan": fen_to_wan(fen)}


@query(scope="street")
def aid_all_by_subdistrict(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """救助发放合计（按街道）: aid_overall of each subdistrict, every subdistrict listed (zero when nothing was paid)."""
    if rollups.persons_in_use():
        return _by_subdistrict(engine, period, street, None).drop(columns=["payments"])
    paid = (select(AidPayment.subdistrict_code, func.count(distinct(AidPayment.household_id)).label("households"),
                   func.count(distinct(AidPayment.person_id)).label("persons"),
                   func.sum(AidPayment.amount_fen).label("amount_fen"))
            .where(_paid_in(period), street_filter(AidPayment.subdistrict_code, street))
            .group_by(AidPayment.subdistrict_code).subquery())
    stmt = (select(Subdistrict.code.label("subdistrict_code"), Subdistrict.name.label("subdistrict_name"),
                   func.coalesce(paid.c.households, 0).label("households"),
                   func.coalesce(paid.c.persons, 0).label("persons"),
                   func.coalesce(paid.c.amount_fen, 0).label("amount_fen"))
            .outerjoin(paid, paid.c.subdistrict_code == Subdistrict.code)
            .where(street_filter(Subdistrict.code, street)).order_by(Subdistrict.code))
    df = frame(engine, stmt)
    columns = ["subdistrict_code", "subdistrict_name", "households", "persons", "amount_fen", "amount_wan"]
    if df.empty:
        return pd.DataFrame(columns=columns)
    for col in ("households", "persons", "amount_fen"):
        df[col] = df[col].astype("int64")
    df["amount_wan"] = df["amount_fen"].map(fen_to_wan)
    return df[columns]


RECIPIENT_COLUMNS = ["person_id", "household_no", "name", "id_number", "phone", "relation", "subdistrict_name",
                     "community_name", "programme", "programme_name", "payments", "amount_fen"]


def _recipients_grouped(period: Period, street: str | None, programme: str | None):
    return (select(AidPayment.person_id, AidPayment.programme, func.count().label("payments"),
                   func.sum(AidPayment.amount_fen).label("amount_fen"))
            .where(_paid_in(period), street_filter(AidPayment.subdistrict_code, street),
                   true() if not programme else AidPayment.programme == programme)
            .group_by(AidPayment.person_id, AidPayment.programme))


@query(scope="street", roles=PERSONAL_ROLES, personal={"name": "name", "id_number": "id_number", "phone": "phone"})
def aid_recipients(engine: Engine, period: Period, street: str | None = None, *, programme: str | None = None,
                   limit: int = 100, offset: int = 0) -> pd.DataFrame:
    """救助对象名单: one row per person and programme paid in the period (payments and amount grouped in SQL), a page
    of `limit` rows from `offset`, ordered by subdistrict, household number and person.

    The names, ID numbers and phones come back UNMASKED: a page must pass them through data.security.masking before showing.
    The phone is the person's own, else the household's."""
    paid = _recipients_grouped(period, street, programme).subquery()
    stmt = (select(AidPerson.id.label("person_id"), AidHousehold.household_no, AidPerson.name, AidPerson.id_number,
                   func.coalesce(AidPerson.phone, AidHousehold.phone).label("phone"), AidPerson.relation,
                   Subdistrict.name.label("subdistrict_name"), Community.name.label("community_name"),
                   paid.c.programme, paid.c.payments, paid.c.amount_fen)
            .join(AidPerson, AidPerson.id == paid.c.person_id)
            .join(AidHousehold, AidHousehold.id == AidPerson.household_id)
            .join(Subdistrict, Subdistrict.code == AidHousehold.subdistrict_code)
            .join(Community, Community.code == AidHousehold.community_code)
            .order_by(AidHousehold.subdistrict_code, AidHousehold.household_no, AidPerson.id, paid.c.programme)
            .limit(max(int(limit), 0)).offset(max(int(offset), 0)))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=RECIPIENT_COLUMNS)
    df["programme_name"] = df["programme"].map(AID_PROGRAMMES).fillna(df["programme"])
    df["payments"] = df["payments"].astype("int64")
    df["amount_fen"] = df["amount_fen"].astype("int64")
    return df[RECIPIENT_COLUMNS]


@query(scope="street")
def aid_recipients_count(engine: Engine, period: Period, street: str | None = None, *,
                         programme: str | None = None) -> int:
    """救助对象名单行数: person-and-programme pairs paid in the period (the length of the full aid_recipients list)."""
    if rollups.persons_in_use():
        paid = rollups.paid(period.start, period.end, street, programme).subquery()
        grouped = select(paid.c.person_id, paid.c.programme).distinct().subquery()
    else:
        grouped = _recipients_grouped(period, street, programme).subquery()
    return int(scalar(engine, select(func.count()).select_from(grouped)) or 0)
