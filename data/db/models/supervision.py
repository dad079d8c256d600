"""督办与站点考核: supervision orders and their history and evidence, the stations' duty list (服务内容清单), their
monthly figures entered by hand, the monthly dispatch meetings (一月一调度) and the published monthly scores — on the
shared declarative Base (migration 0008)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from data.db.models.core import Base


class DispatchRecord(Base):
    """一月一调度: the monthly dispatch meeting of one subdistrict station (its tasks become 督办单)."""
    __tablename__ = "dispatch_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False)  # first day of the month
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    attendees: Mapped[str] = mapped_column(Text, nullable=False)
    decisions: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[str] = mapped_column(String(50), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    __table_args__ = (UniqueConstraint("subdistrict_code", "month", name="uq_dispatch_records_station_month"),)


class SupervisionOrder(Base):
    """督办单: one thing to put right, its responsible unit and person, deadline and requirement, and where it stands.

    The unit is a subdistrict (subdistrict_code set: its 街道 account acts on it), a 区直部门 or a service provider
    (unit_name; the office records their steps). The source links it to what it came from."""
    __tablename__ = "supervision_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False)  # DB-2024-0001
    source_kind: Mapped[str] = mapped_column(String(20), nullable=False)  # data.domain.supervision.SOURCES
    source_ref: Mapped[str | None] = mapped_column(String(80))  # what it came from, e.g. a finding's code
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    roundtable_issue_id: Mapped[int | None] = mapped_column(ForeignKey("roundtable_issues.id"))
    dispatch_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_records.id"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    requirement: Mapped[str] = mapped_column(Text, nullable=False)
    unit_kind: Mapped[str] = mapped_column(String(20), nullable=False)  # subdistrict / department / provider
    unit_name: Mapped[str] = mapped_column(String(120), nullable=False)
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("subdistricts.code"))
    assignee: Mapped[str] = mapped_column(String(50), nullable=False)  # 责任人
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    deadline: Mapped[date] = mapped_column(Date, nullable=False)
    issued_by: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # data.domain.supervision.STATUSES
    returned: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    reported_on: Mapped[date | None] = mapped_column(Date)
    accepted_report_on: Mapped[date | None] = mapped_column(Date)  # the report that passed review
    closed_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __table_args__ = (UniqueConstraint("code", name="uq_supervision_orders_code"),
                      Index("ix_supervision_orders_street_deadline", "subdistrict_code", "deadline"),
                      Index("ix_supervision_orders_source", "source_kind", "source_ref"))


class SupervisionEvent(Base):
    """督办流转记录: one step of one order — who, when, from which state to which, and what was said."""
    __tablename__ = "supervision_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("supervision_orders.id"), index=True, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)  # issue / sign / report / pass / return / close
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str] = mapped_column(String(50), nullable=False)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class SupervisionEvidence(Base):
    """督办附件: a photo or scan (JPEG, PNG or PDF, checked by content) handed in with a feedback, kept in the database."""
    __tablename__ = "supervision_evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("supervision_orders.id"), index=True, nullable=False)
    event_id: Mapped[int] = mapped_column(ForeignKey("supervision_events.id"), nullable=False)
    file_name: Mapped[str] = mapped_column(String(120), nullable=False)
    media_type: Mapped[str] = mapped_column(String(40), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(50), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class ServiceTask(Base):
    """服务内容清单: one duty of every subdistrict station, with its monthly quantity (量化工作任务). A version of the
    list is all rows of one `month_from`; the version in force for a month is the latest that starts on or before it."""
    __tablename__ = "service_tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month_from: Mapped[date] = mapped_column(Date, nullable=False)  # first day of the month it applies from
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    code: Mapped[str] = mapped_column(String(30), nullable=False)
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    unit: Mapped[str] = mapped_column(String(10), nullable=False)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    basis: Mapped[str] = mapped_column(String(20), nullable=False)  # data.domain.supervision.BASES
    source: Mapped[str] = mapped_column(String(30), nullable=False)  # data.domain.supervision.TASK_SOURCES
    revision: Mapped[int] = mapped_column(Integer, default=1, nullable=False)  # of this month's version
    saved_by: Mapped[str] = mapped_column(String(50), nullable=False)
    saved_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    __table_args__ = (UniqueConstraint("month_from", "code", name="uq_service_tasks_month_code"),)


class StationEntry(Base):
    """站点填报: what a station did in a month for a task no ledger records (e.g. 政策宣讲)."""
    __tablename__ = "station_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), nullable=False)
    task_code: Mapped[str] = mapped_column(String(30), nullable=False)
    done: Mapped[float] = mapped_column(Float, nullable=False)
    note: Mapped[str | None] = mapped_column(String(500))
    entered_by: Mapped[str] = mapped_column(String(50), nullable=False)
    entered_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __table_args__ = (UniqueConstraint("month", "subdistrict_code", "task_code", name="uq_station_entries_month_task"),)


class StationScore(Base):
    """月度考核结果: a station's published score and rank for one month (as 考核通报 reported it)."""
    __tablename__ = "station_scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    ranked: Mapped[int] = mapped_column(Integer, nullable=False)  # stations ranked that month
    parts_json: Mapped[str] = mapped_column(Text, nullable=False)  # rates and points of each part, weights
    published_by: Mapped[str] = mapped_column(String(50), nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    __table_args__ = (UniqueConstraint("month", "subdistrict_code", name="uq_station_scores_month_station"),)
