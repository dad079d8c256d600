"""冻结口径: a quarter's presentation figures frozen once reported, on the shared declarative Base."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.db.models.core import Base


class FrozenFigure(Base):
    """冻结数: one presentation figure of one period as it was reported (value, unit, 口径, as-of date, who, when)."""
    __tablename__ = "frozen_figures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_key: Mapped[str] = mapped_column(String(30), index=True, nullable=False)  # e.g. 2024-Q2
    figure_key: Mapped[str] = mapped_column(String(80), nullable=False)  # e.g. meal_coverage@360103001
    label: Mapped[str] = mapped_column(String(120), nullable=False)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    definition: Mapped[str] = mapped_column(Text, nullable=False)  # one-line 口径
    as_of: Mapped[date] = mapped_column(Date, nullable=False)  # the data as on this day were frozen
    frozen_by: Mapped[str] = mapped_column(String(50), nullable=False)
    frozen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    __table_args__ = (UniqueConstraint("period_key", "figure_key", name="uq_frozen_figures_period_figure"),)
