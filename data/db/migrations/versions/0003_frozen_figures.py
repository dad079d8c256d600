"""frozen presentation figures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "frozen_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=30), nullable=False),
        sa.Column("figure_key", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("frozen_by", sa.String(length=50), nullable=False),
        sa.Column("frozen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_key", "figure_key", name="uq_frozen_figures_period_figure"),
    )
    op.create_index("ix_frozen_figures_period_key", "frozen_figures", ["period_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_frozen_figures_period_key", table_name="frozen_figures")
    op.drop_table("frozen_figures")
