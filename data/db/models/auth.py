"""Accounts, sessions, the append-only audit log and the import register, on the shared declarative Base."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.db.models.core import Base


class User(Base):
    """账号: a person who signs in. role is one of data.security.access.ROLES; 街道 accounts carry their subdistrict."""
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), nullable=False)
    display_name: Mapped[str] = mapped_column(String(50), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    subdistrict_code: Mapped[str | None] = mapped_column(String(20), ForeignKey("subdistricts.code"))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __table_args__ = (UniqueConstraint("username", name="uq_users_username"),)


class UserSession(Base):
    """A signed-in session. Only the SHA-256 of the token is stored; expiry is idle and absolute."""
    __tablename__ = "user_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """审计日志: one row per write, sign-in or personal-data disclosure. Append-only (database triggers: a row may
    only be deleted once an archive covering it is registered in audit_archives). Tamper-evident: each row carries
    the SHA-256 of the previous row (prev_hash) and its own (row_hash, over its stored fields and prev_hash);
    data.security.audit writes the chain, data.ops.audit_archive verifies it (migration 0009)."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    username: Mapped[str | None] = mapped_column(String(50), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40), index=True, nullable=False)
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    ok: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class AuditArchive(Base):
    """审计日志归档: one row per `python -m data audit archive` — the rows it moved to a file (ids first_id..last_id,
    all older than `cutoff`), the hash the first of them continued (prev_hash) and the last one's (last_hash, which
    the first row left in audit_log continues), and the SHA-256 of the archive's content. Written in the same
    transaction as the DELETE it allows (the append-only trigger lets a row go only when an archive covers its id)."""
    __tablename__ = "audit_archives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    archived_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    archived_by: Mapped[str | None] = mapped_column(String(50))
    cutoff: Mapped[date] = mapped_column(Date, nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    first_id: Mapped[int] = mapped_column(Integer, nullable=False)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False)
    first_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class ImportBatch(Base):
    """导入记录: who imported which ledger file when, its SHA-256 and what it changed."""
    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ledger: Mapped[str] = mapped_column(String(30), index=True, nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), ForeignKey("import_files.sha256"), index=True, nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    imported_by: Mapped[str | None] = mapped_column(String(50))
    imported_at: Mapped[datetime] = mapped_column(DateTime, index=True, nullable=False)
    rows_total: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rows_added: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class ImportFile(Base):
    """The original bytes of every imported file, kept once per SHA-256 so nothing is lost."""
    __tablename__ = "import_files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
