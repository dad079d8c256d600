"""per-day totals of the whole district, kept by triggers on daily_totals (district_daily_totals)

District-wide figures that do not break down by subdistrict (a half-year's home-service visits by type, meals
served, civil events by kind, aid amounts by programme …) summed daily_totals over every subdistrict: at ×100 a
half-year of one measure is some 430,000 rows (0.2–0.45 s each on PostgreSQL; 工作总结数据 reads a dozen). This
table holds the same sums for the district as a whole — 181 rows per key for a half-year — kept by triggers on
daily_totals itself, so whatever writes daily_totals (the record tables' triggers of 0010, a rebuild, a repair)
keeps it in the same transaction: statement-level triggers with transition tables (one grouped upsert per
statement); a row whose count drops to 0 is deleted, like daily_totals'.

On SQLite (one district, ×1–×10) it is a view of the same sums instead: SQLite's triggers are per row, and a second
upsert for every record written made a 100,000-row import hold the write lock a third longer (past the quarter of
the import that tests/test_imports_large.py allows); the reads gain nothing to speak of at that scale.

Derived (never copied by a backup). Existing totals are summed in here. The SQL is written out here.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLE = "district_daily_totals"
KEY = "measure, day, k1, k2"
COLUMNS = f"{KEY}, n, v1, v2"
UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET n = {TABLE}.n + excluded.n, v1 = {TABLE}.v1 + excluded.v1, "
          f"v2 = {TABLE}.v2 + excluded.v2")
FN = "district_totals_sync"


def _summed(source: str, sign: str = "") -> str:
    return (f"SELECT measure, day, k1, k2, {sign}sum(n), {sign}sum(v1), {sign}sum(v2) FROM {source} "
            f"GROUP BY measure, day, k1, k2")


def _pg() -> list[str]:
    body = f"""
        BEGIN
          IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM {TABLE};
            RETURN NULL;
          END IF;
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO {TABLE} ({COLUMNS}) {_summed('old_rows', '-')} {UPSERT};
          END IF;
          IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO {TABLE} ({COLUMNS}) {_summed('new_rows')} {UPSERT};
          END IF;
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            DELETE FROM {TABLE} t USING (SELECT DISTINCT measure, day, k1, k2 FROM old_rows) x
             WHERE t.measure = x.measure AND t.day = x.day AND t.k1 = x.k1 AND t.k2 = x.k2 AND t.n = 0;
          END IF;
          RETURN NULL;
        END"""
    return [
        f"CREATE FUNCTION {FN}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$",
        f"CREATE TRIGGER {FN}_ins AFTER INSERT ON daily_totals REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FN}()",
        f"CREATE TRIGGER {FN}_upd AFTER UPDATE ON daily_totals REFERENCING OLD TABLE AS old_rows "
        f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {FN}()",
        f"CREATE TRIGGER {FN}_del AFTER DELETE ON daily_totals REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FN}()",
        f"CREATE TRIGGER {FN}_trunc AFTER TRUNCATE ON daily_totals FOR EACH STATEMENT EXECUTE FUNCTION {FN}()",
    ]


SQLITE_VIEW = (f"CREATE VIEW {TABLE} ({COLUMNS}) AS SELECT measure, day, k1, k2, sum(n), sum(v1), sum(v2) "
               f"FROM daily_totals GROUP BY measure, day, k1, k2")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(SQLITE_VIEW)
        return
    op.create_table(
        TABLE,
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("k1", sa.String(length=30), nullable=False),
        sa.Column("k2", sa.String(length=20), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("v1", sa.BigInteger(), nullable=False),
        sa.Column("v2", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("measure", "day", "k1", "k2", name="pk_district_daily_totals"),
    )
    op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {_summed('daily_totals')}")  # the totals already there
    for statement in _pg():
        op.execute(statement)
    op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"DROP VIEW IF EXISTS {TABLE}")
        return
    for event in ("ins", "upd", "del", "trunc"):
        op.execute(f"DROP TRIGGER IF EXISTS {FN}_{event} ON daily_totals")
    op.execute(f"DROP FUNCTION IF EXISTS {FN}()")
    op.drop_table(TABLE)
