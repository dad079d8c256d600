"""汇总表: per-day totals of the large record tables (migration 0010) and the months each aid recipient was paid in
(migration 0011), kept by database triggers in the transaction of every write (data/db/rollups.py says which
record tables, and how the figures read them)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from data.db.models.core import Base


class DailyTotal(Base):
    """One day × subdistrict × measure (and up to two keys of the measure, e.g. programme and subtype): the number
    of records `n` and the sums `v1`, `v2` of the measure's amounts. Never written by the program: the triggers of
    migration 0010 keep it equal to the records (a row whose count drops to 0 is deleted)."""
    __tablename__ = "daily_totals"
    measure: Mapped[str] = mapped_column(String(24), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(String(20), nullable=False)  # '' for a district-wide record
    k1: Mapped[str] = mapped_column(String(30), nullable=False)
    k2: Mapped[str] = mapped_column(String(20), nullable=False)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)
    v1: Mapped[int] = mapped_column(BigInteger, nullable=False)
    v2: Mapped[int] = mapped_column(BigInteger, nullable=False)
    __table_args__ = (PrimaryKeyConstraint("measure", "day", "subdistrict_code", "k1", "k2", name="pk_daily_totals"),)


class DistrictDailyTotal(Base):
    """One day × measure × keys for the whole district: daily_totals summed over its subdistricts. Never written by
    the program: the triggers of migration 0013 on daily_totals keep it equal to their sum, in the same
    transaction (a row whose count drops to 0 is deleted). District-wide figures that do not break down by
    subdistrict read it: a half-year is 181 rows per key instead of 181 × the subdistricts (data/db/rollups.py)."""
    __tablename__ = "district_daily_totals"
    measure: Mapped[str] = mapped_column(String(24), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    k1: Mapped[str] = mapped_column(String(30), nullable=False)
    k2: Mapped[str] = mapped_column(String(20), nullable=False)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)
    v1: Mapped[int] = mapped_column(BigInteger, nullable=False)
    v2: Mapped[int] = mapped_column(BigInteger, nullable=False)
    __table_args__ = (PrimaryKeyConstraint("measure", "day", "k1", "k2", name="pk_district_daily_totals"),)


MONTHS = tuple(f"m{i:02d}" for i in range(1, 13))


class AidPersonYear(Base):
    """One person × programme × year × the subdistrict and household the payments carry: the number of payments in
    each month (m01…m12) and in the year (n). Never written by the program: the triggers of migration 0011 keep it
    equal to aid_payments (a row whose year count drops to 0 is deleted). Distinct households and persons paid in
    whole months are counted here (data/db/rollups.py)."""
    __tablename__ = "aid_person_years"
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(String(20), nullable=False)
    programme: Mapped[str] = mapped_column(String(20), nullable=False)
    person_id: Mapped[int] = mapped_column(Integer, nullable=False)
    household_id: Mapped[int] = mapped_column(Integer, nullable=False)
    n: Mapped[int] = mapped_column(Integer, nullable=False)
    m01: Mapped[int] = mapped_column(Integer, nullable=False)
    m02: Mapped[int] = mapped_column(Integer, nullable=False)
    m03: Mapped[int] = mapped_column(Integer, nullable=False)
    m04: Mapped[int] = mapped_column(Integer, nullable=False)
    m05: Mapped[int] = mapped_column(Integer, nullable=False)
    m06: Mapped[int] = mapped_column(Integer, nullable=False)
    m07: Mapped[int] = mapped_column(Integer, nullable=False)
    m08: Mapped[int] = mapped_column(Integer, nullable=False)
    m09: Mapped[int] = mapped_column(Integer, nullable=False)
    m10: Mapped[int] = mapped_column(Integer, nullable=False)
    m11: Mapped[int] = mapped_column(Integer, nullable=False)
    m12: Mapped[int] = mapped_column(Integer, nullable=False)
    __table_args__ = (PrimaryKeyConstraint("year", "subdistrict_code", "programme", "person_id", "household_id",
                                           name="pk_aid_person_years"),)


class AidPeriodCount(Base):
    """Distinct households and persons paid in one standard run of whole months of a year (a month, quarter, half
    or the year: first_month..last_month), per programme ('' = all programmes) and subdistrict ('' = the district),
    each counted once across what '' spans. Recomputed as a whole from aid_person_years (migration 0012,
    data/db/rollups.py refresh_period_counts) and read only while aid_counts_state says it is current."""
    __tablename__ = "aid_period_counts"
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    first_month: Mapped[int] = mapped_column(Integer, nullable=False)
    last_month: Mapped[int] = mapped_column(Integer, nullable=False)
    programme: Mapped[str] = mapped_column(String(20), nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(String(20), nullable=False)
    households: Mapped[int] = mapped_column(Integer, nullable=False)
    persons: Mapped[int] = mapped_column(Integer, nullable=False)
    __table_args__ = (PrimaryKeyConstraint("year", "first_month", "last_month", "programme", "subdistrict_code",
                                           name="pk_aid_period_counts"),)


class AidCountsState(Base):
    """One row (id 1): payments_version, bumped by a trigger with every write of aid_payments (migration 0012), and
    counted_version, the payments_version aid_period_counts was computed at (-1: never)."""
    __tablename__ = "aid_counts_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payments_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    counted_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
