"""distinct households and persons of social assistance per standard period, refreshed after writes (aid_period_counts)

aid_person_years (0011) counts distinct households and persons for any run of whole months, but at ×100 each count
still reads some 570,000 rows and sorts them (0.5–0.8 s on PostgreSQL; the 救助发放 page makes five such counts).
aid_period_counts holds the counts of the standard periods — each month, quarter, half and year — per programme
('' = all programmes, counted once across them) and subdistrict ('' = the district, counted once across them):
like a materialized view, it is recomputed from aid_person_years as a whole (data/db/rollups.py:
refresh_period_counts) after an import, a restore or the demo build, and read only while it is current.

Current means: aid_counts_state.counted_version (the payments version the counts were computed at) equals
aid_counts_state.payments_version, which a trigger bumps with every statement (PostgreSQL) or row (SQLite) that
writes aid_payments — in the writer's transaction, so a reader never sees new payments beside old counts. Until the
next refresh the figures are counted from aid_person_years as before (the same numbers, slower).

Both tables are derived (never copied by a backup, data/ops/backup.py DERIVED). The SQL is written out here.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FN = "aid_counts_bump"
BUMP = "UPDATE aid_counts_state SET payments_version = payments_version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "aid_period_counts",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("first_month", sa.Integer(), nullable=False),
        sa.Column("last_month", sa.Integer(), nullable=False),
        sa.Column("programme", sa.String(length=20), nullable=False),
        sa.Column("subdistrict_code", sa.String(length=20), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", "first_month", "last_month", "programme", "subdistrict_code",
                                name="pk_aid_period_counts"),
    )
    op.create_table(
        "aid_counts_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payments_version", sa.BigInteger(), nullable=False),
        sa.Column("counted_version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_aid_counts_state"),
    )
    op.execute("INSERT INTO aid_counts_state (id, payments_version, counted_version) VALUES (1, 0, -1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION {FN}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {FN}_stmt AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aid_payments "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {FN}()")
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {FN}_{event.lower()} AFTER {event} ON aid_payments BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {FN}_stmt ON aid_payments")
        op.execute(f"DROP FUNCTION IF EXISTS {FN}()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {FN}_{event}")
    op.drop_table("aid_counts_state")
    op.drop_table("aid_period_counts")
