"""the months each aid recipient was paid in, kept by triggers (aid_person_years)

Distinct households and persons paid in a period cannot be added up from per-day totals (daily_totals, 0010): a
person paid every month is one person in the year. aid_person_years holds one row per person × programme × year ×
the subdistrict and household the payments carry, with the number of payments in each month (m01…m12) and in the
year (n): "persons paid in months a..b" are the rows with any of those months above 0, counted distinct (a person
paid in two subdistricts or households has two rows). At ×100: 14.8 million payments → about 1.2 million rows.

Kept equal to aid_payments by triggers in the transaction of every write (importer, edit forms, demo generator,
restore, SQL by hand), like daily_totals: PostgreSQL statement-level triggers with transition tables (one grouped
upsert of +/- deltas per statement; an UPDATE nets its old and new rows, so an amount-only edit writes nothing),
SQLite row-level triggers. A row whose year count drops to 0 is deleted. Existing payments are summed in here.

The SQL is written out here, not imported, so this revision stays what it was when later revisions change the code.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLE = "aid_person_years"
KEY = ("year", "subdistrict_code", "programme", "person_id", "household_id")
MONTHS = [f"m{i:02d}" for i in range(1, 13)]
COUNTS = ["n"] + MONTHS
COLUMNS = ", ".join(KEY + tuple(COUNTS))
UPSERT = (f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
          + ", ".join(f"{c} = {TABLE}.{c} + excluded.{c}" for c in COUNTS))


def _pg_grouped(sources: list[tuple[str, str]]) -> str:
    """SELECT of the deltas of `sources` [(transition table, sign)], one row per key, as aid_person_years columns."""
    parts = " UNION ALL ".join(
        f"SELECT CAST(extract(year FROM r.paid_on) AS integer) AS year, r.subdistrict_code, r.programme, r.person_id, "
        f"r.household_id, CAST(extract(month FROM r.paid_on) AS integer) AS month, {sign} AS s FROM {source} r"
        for source, sign in sources)
    months = ", ".join(f"sum(CASE WHEN x.month = {i} THEN x.s ELSE 0 END)" for i in range(1, 13))
    key = ", ".join(f"x.{k}" for k in KEY)
    having = " OR ".join(f"sum(CASE WHEN x.month = {i} THEN x.s ELSE 0 END) <> 0" for i in range(1, 13))
    return (f"SELECT {key}, sum(x.s), {months} FROM ({parts}) x GROUP BY {key} HAVING {having} ORDER BY {key}")


def _pg() -> list[str]:
    key = " AND ".join(f"t.{k} = x.{k}" for k in KEY)
    old_keys = (f"SELECT DISTINCT CAST(extract(year FROM r.paid_on) AS integer) AS year, r.subdistrict_code, "
                f"r.programme, r.person_id, r.household_id FROM old_rows r")
    body = f"""
        BEGIN
          IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM {TABLE};
            RETURN NULL;
          END IF;
          IF TG_OP = 'INSERT' THEN
            INSERT INTO {TABLE} ({COLUMNS}) {_pg_grouped([('new_rows', '1')])} {UPSERT};
            RETURN NULL;
          END IF;
          IF TG_OP = 'DELETE' THEN
            INSERT INTO {TABLE} ({COLUMNS}) {_pg_grouped([('old_rows', '-1')])} {UPSERT};
          ELSE
            INSERT INTO {TABLE} ({COLUMNS}) {_pg_grouped([('new_rows', '1'), ('old_rows', '-1')])} {UPSERT};
          END IF;
          DELETE FROM {TABLE} t USING ({old_keys}) x WHERE {key} AND t.n = 0;
          RETURN NULL;
        END"""
    fn = "rollup_aid_person_years"
    return [
        f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$",
        f"CREATE TRIGGER {fn}_ins AFTER INSERT ON aid_payments REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        f"CREATE TRIGGER {fn}_upd AFTER UPDATE ON aid_payments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        f"CREATE TRIGGER {fn}_del AFTER DELETE ON aid_payments REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        f"CREATE TRIGGER {fn}_trunc AFTER TRUNCATE ON aid_payments FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
    ]


def _sqlite_key(r: str) -> list[str]:
    return [f"CAST(strftime('%Y', {r}.paid_on) AS INTEGER)", f"{r}.subdistrict_code", f"{r}.programme",
            f"{r}.person_id", f"{r}.household_id"]


def _sqlite_month(r: str, i: int) -> str:
    return f"(CASE WHEN CAST(strftime('%m', {r}.paid_on) AS INTEGER) = {i} THEN 1 ELSE 0 END)"


def _sqlite_add() -> str:
    values = _sqlite_key("NEW") + ["1"] + [_sqlite_month("NEW", i) for i in range(1, 13)]
    return f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {', '.join(values)} WHERE true {UPSERT};"


def _sqlite_remove() -> str:
    key = " AND ".join(f"{k} = {e}" for k, e in zip(KEY, _sqlite_key("OLD")))
    sets = ", ".join(["n = n - 1"] + [f"{c} = {c} - {_sqlite_month('OLD', i)}" for i, c in enumerate(MONTHS, 1)])
    return f"UPDATE {TABLE} SET {sets} WHERE {key}; DELETE FROM {TABLE} WHERE {key} AND n = 0;"


def _sqlite() -> list[str]:
    fn = "rollup_aid_person_years"
    return [
        f"CREATE TRIGGER {fn}_ins AFTER INSERT ON aid_payments BEGIN {_sqlite_add()} END",
        f"CREATE TRIGGER {fn}_upd AFTER UPDATE ON aid_payments BEGIN {_sqlite_remove()} {_sqlite_add()} END",
        f"CREATE TRIGGER {fn}_del AFTER DELETE ON aid_payments BEGIN {_sqlite_remove()} END",
    ]


def _backfill() -> str:
    if op.get_bind().dialect.name == "postgresql":
        year, month = "CAST(extract(year FROM r.paid_on) AS integer)", "CAST(extract(month FROM r.paid_on) AS integer)"
    else:
        year, month = "CAST(strftime('%Y', r.paid_on) AS INTEGER)", "CAST(strftime('%m', r.paid_on) AS INTEGER)"
    key = [year, "r.subdistrict_code", "r.programme", "r.person_id", "r.household_id"]
    months = ", ".join(f"sum(CASE WHEN {month} = {i} THEN 1 ELSE 0 END)" for i in range(1, 13))
    return (f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {', '.join(key)}, count(*), {months} FROM aid_payments r "
            f"GROUP BY {', '.join(key)}")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("subdistrict_code", sa.String(length=20), nullable=False),
        sa.Column("programme", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in COUNTS],
        sa.PrimaryKeyConstraint(*KEY, name="pk_aid_person_years"),
    )
    op.execute(_backfill())  # the payments already there
    if op.get_bind().dialect.name == "postgresql":
        for statement in _pg():
            op.execute(statement)
        op.execute(f"ANALYZE {TABLE}")  # the planner's statistics now, not at autovacuum's next pass
    else:
        for statement in _sqlite():
            op.execute(statement)


def downgrade() -> None:
    fn = "rollup_aid_person_years"
    if op.get_bind().dialect.name == "postgresql":
        for event in ("ins", "upd", "del", "trunc"):
            op.execute(f"DROP TRIGGER IF EXISTS {fn}_{event} ON aid_payments")
        op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
    else:
        for event in ("ins", "upd", "del"):
            op.execute(f"DROP TRIGGER IF EXISTS {fn}_{event}")
    op.drop_table(TABLE)
