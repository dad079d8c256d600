"""street-first indexes for the per-subdistrict counts

A 街道 view (and every page once a subdistrict is chosen) counts one subdistrict's records over a period. With only
date-first indexes those counts read every subdistrict's rows of the period, so their cost grew with the size of
the database rather than of the subdistrict (×100 data: 0.1–0.15 s per count on PostgreSQL). These indexes start
with the subdistrict and carry the columns the counts read, so one subdistrict's counts read only its own entries:

- ix_living_alone_visits_street_day (subdistrict_code, visited_on, elder_id): F22/F23 visits, the two-visits rule;
- ix_home_service_visits_street_day (subdistrict_code, visited_on, service_type): F20 visits and their types;
- ix_civil_events_street_kind_day (subdistrict_code, kind, happened_on): F60–F64, F72, F07 per subdistrict;
- ix_screenings_street_day (subdistrict_code, screened_on): F50 screenings.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:45:00
"""
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_living_alone_visits_street_day": ("living_alone_visits", ["subdistrict_code", "visited_on", "elder_id"]),
    "ix_home_service_visits_street_day": ("home_service_visits", ["subdistrict_code", "visited_on", "service_type"]),
    "ix_civil_events_street_kind_day": ("civil_events", ["subdistrict_code", "kind", "happened_on"]),
    "ix_screenings_street_day": ("screenings", ["subdistrict_code", "screened_on"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
