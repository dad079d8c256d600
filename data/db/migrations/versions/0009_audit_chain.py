"""tamper-evident audit log: a hash chain over audit_log, and the register of its archives

audit_log gains prev_hash and row_hash (hex SHA-256): row_hash is the hash of the row's stored fields (at, username,
role, action, target, detail, ok) and prev_hash, and prev_hash is the previous row's row_hash (the first row's is
64 zeros). Existing rows are chained here in id order. audit_archives registers each archive
(`python -m data audit archive`); the append-only triggers now let a row be deleted only when a registered archive
covers its id, and still refuse every UPDATE.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00
"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

APPEND_ONLY = "审计日志只能追加，不能修改或删除"
GENESIS = "0" * 64


def _row_hash(at, username, role, action, target, detail, ok, prev_hash) -> str:
    # a frozen copy of data.security.audit.row_hash (a migration never changes with the code)
    from datetime import datetime

    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    body = [at.isoformat(sep=" ", timespec="microseconds"), username, role, action, target, detail, bool(ok),
            prev_hash]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _drop_triggers(pg: bool) -> None:
    if pg:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    op.create_table(
        "audit_archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(), nullable=False),
        sa.Column("archived_by", sa.String(length=50), nullable=True),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _drop_triggers(pg)
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("row_hash", sa.String(length=64), nullable=True))

    # chain the rows already there, oldest first
    log = sa.table("audit_log", sa.column("id"), sa.column("at", sa.DateTime()), sa.column("username"),
                   sa.column("role"), sa.column("action"), sa.column("target"), sa.column("detail"),
                   sa.column("ok", sa.Boolean()), sa.column("prev_hash"), sa.column("row_hash"))
    rows = bind.execute(sa.select(log.c.id, log.c.at, log.c.username, log.c.role, log.c.action, log.c.target,
                                  log.c.detail, log.c.ok).order_by(log.c.id)).all()
    prev, chained = GENESIS, []
    for r in rows:
        h = _row_hash(r.at, r.username, r.role, r.action, r.target, r.detail, r.ok, prev)
        chained.append({"rid": r.id, "p": prev, "h": h})
        prev = h
    if chained:
        bind.execute(sa.update(log).where(log.c.id == sa.bindparam("rid"))
                     .values(prev_hash=sa.bindparam("p"), row_hash=sa.bindparam("h")), chained)

    # append-only again: no UPDATE ever; a DELETE only of rows a registered archive covers
    if pg:
        op.execute(f"""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' AND OLD.id <= COALESCE((SELECT max(last_id) FROM audit_archives), 0) THEN
                RETURN OLD;
              END IF;
              RAISE EXCEPTION '{APPEND_ONLY}';
            END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
                      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    else:
        op.execute(f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                       BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")
        op.execute(f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                       WHEN OLD.id > COALESCE((SELECT MAX(last_id) FROM audit_archives), 0)
                       BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    _drop_triggers(pg)
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
    op.drop_table("audit_archives")
    # 0004's triggers: no UPDATE, no DELETE
    if pg:
        op.execute(f"""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
                      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log
                           BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")
