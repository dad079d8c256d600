"""汇总表: per-day totals of the large record tables, kept by database triggers in the transaction of every write
(migration 0010; data/db/rollups.py says which record tables, and how the district-wide figures read them)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, PrimaryKeyConstraint, String
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
