"""选址方案: saved site-selection scenarios (parameters and result as JSON), on the shared declarative Base."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.db.models.core import Base


class SiteScenario(Base):
    """选址方案: one saved optimisation run — its parameters and its result, both JSON text."""
    __tablename__ = "site_scenarios"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(50))
    street: Mapped[str | None] = mapped_column(String(20))  # subdistrict filter in force, None = 全区
    data_version: Mapped[int | None] = mapped_column(Integer)  # meta.data_version the result was computed on
    parameters_json: Mapped[str] = mapped_column(Text, nullable=False)
    result_json: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (UniqueConstraint("name", name="uq_site_scenarios_name"),)
