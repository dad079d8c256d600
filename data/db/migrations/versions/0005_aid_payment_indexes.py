"""covering indexes of aid_payments for the 救助发放 totals

The aid page's totals (aid_totals, aid_overall, aid_by_month, aid_all_by_subdistrict, aid_by_subdistrict, the
recipient list's grouping) filter payments by paid_on — for the whole district, one subdistrict or one programme —
and count distinct households / persons and sum amounts. With every column they read in the index, SQLite and
PostgreSQL answer them from the index alone (no table lookups per payment):

- ix_aid_payments_day_street (paid_on, subdistrict_code, programme, household_id, person_id, amount_fen):
  the whole district over a period (was paid_on, subdistrict_code);
- ix_aid_payments_street_day (subdistrict_code, paid_on, programme, household_id, person_id, amount_fen): one
  subdistrict over a period (new);
- ix_aid_payments_prog_day (programme, paid_on, subdistrict_code, subtype, household_id, person_id, amount_fen):
  one programme over a period, and GROUP BY programme in index order (was programme, paid_on).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:40:00
"""
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COVERING = {
    "ix_aid_payments_day_street": ["paid_on", "subdistrict_code", "programme", "household_id", "person_id",
                                   "amount_fen"],
    "ix_aid_payments_street_day": ["subdistrict_code", "paid_on", "programme", "household_id", "person_id",
                                   "amount_fen"],
    "ix_aid_payments_prog_day": ["programme", "paid_on", "subdistrict_code", "subtype", "household_id", "person_id",
                                 "amount_fen"],
}
BEFORE = {
    "ix_aid_payments_day_street": ["paid_on", "subdistrict_code"],
    "ix_aid_payments_prog_day": ["programme", "paid_on"],
}


def upgrade() -> None:
    for name in BEFORE:
        op.drop_index(name, table_name="aid_payments")
    for name, columns in COVERING.items():
        op.create_index(name, "aid_payments", columns)


def downgrade() -> None:
    for name in COVERING:
        op.drop_index(name, table_name="aid_payments")
    for name, columns in BEFORE.items():
        op.create_index(name, "aid_payments", columns)
