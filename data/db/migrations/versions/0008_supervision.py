"""督办 and station assessment

Seven new tables, nothing existing changed: supervision orders (督办单) with their history (流转记录) and evidence
files (附件, kept in the database), the stations' duty list (服务内容清单, versioned by month), figures stations enter
by hand (站点填报), monthly dispatch meetings (一月一调度) and published monthly scores (月度考核结果).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subdistrict_code", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subdistrict_code"], ["subdistricts.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subdistrict_code", "month", name="uq_dispatch_records_station_month"),
    )
    op.create_table(
        "supervision_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=80), nullable=True),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("roundtable_issue_id", sa.Integer(), nullable=True),
        sa.Column("dispatch_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("unit_kind", sa.String(length=20), nullable=False),
        sa.Column("unit_name", sa.String(length=120), nullable=False),
        sa.Column("subdistrict_code", sa.String(length=20), nullable=True),
        sa.Column("assignee", sa.String(length=50), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("accepted_report_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"]),
        sa.ForeignKeyConstraint(["facility_id"], ["facilities.id"]),
        sa.ForeignKeyConstraint(["roundtable_issue_id"], ["roundtable_issues.id"]),
        sa.ForeignKeyConstraint(["dispatch_id"], ["dispatch_records.id"]),
        sa.ForeignKeyConstraint(["subdistrict_code"], ["subdistricts.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_supervision_orders_code"),
    )
    op.create_index("ix_supervision_orders_street_deadline", "supervision_orders", ["subdistrict_code", "deadline"])
    op.create_index("ix_supervision_orders_source", "supervision_orders", ["source_kind", "source_ref"])
    op.create_table(
        "supervision_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=50), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["supervision_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supervision_events_order_id", "supervision_events", ["order_id"])
    op.create_table(
        "supervision_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=120), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=50), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["supervision_orders.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["supervision_events.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supervision_evidence_order_id", "supervision_evidence", ["order_id"])
    op.create_table(
        "service_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month_from", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("saved_by", sa.String(length=50), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month_from", "code", name="uq_service_tasks_month_code"),
    )
    op.create_table(
        "station_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("subdistrict_code", sa.String(length=20), nullable=False),
        sa.Column("task_code", sa.String(length=30), nullable=False),
        sa.Column("done", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("entered_by", sa.String(length=50), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["subdistrict_code"], ["subdistricts.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "subdistrict_code", "task_code", name="uq_station_entries_month_task"),
    )
    op.create_table(
        "station_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("subdistrict_code", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("parts_json", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(length=50), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subdistrict_code"], ["subdistricts.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "subdistrict_code", name="uq_station_scores_month_station"),
    )


def downgrade() -> None:
    op.drop_table("station_scores")
    op.drop_table("station_entries")
    op.drop_table("service_tasks")
    op.drop_index("ix_supervision_evidence_order_id", table_name="supervision_evidence")
    op.drop_table("supervision_evidence")
    op.drop_index("ix_supervision_events_order_id", table_name="supervision_events")
    op.drop_table("supervision_events")
    op.drop_index("ix_supervision_orders_source", table_name="supervision_orders")
    op.drop_index("ix_supervision_orders_street_deadline", table_name="supervision_orders")
    op.drop_table("supervision_orders")
    op.drop_table("dispatch_records")
