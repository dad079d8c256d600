"""site selection scenarios

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=True),
        sa.Column("street", sa.String(length=20), nullable=True),
        sa.Column("data_version", sa.Integer(), nullable=True),
        sa.Column("parameters_json", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_site_scenarios_name"),
    )
    op.create_index("ix_site_scenarios_created_at", "site_scenarios", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_site_scenarios_created_at", table_name="site_scenarios")
    op.drop_table("site_scenarios")
