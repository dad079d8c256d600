"""per-day totals of the large record tables, kept by triggers (daily_totals)

The district-wide figures (no subdistrict filter) of the largest tables — aid payments, home-service visits,
living-alone visits, meal records, civil events — read one row per day × subdistrict × key instead of the records
(at ×100: 14.8 million payments → about 180,000 rows). The table is kept equal to the records by triggers on the
record tables, in the transaction of the write itself, whoever writes: the importer, the edit forms, the demo
generator, a restore, an administrator's SQL. PostgreSQL: statement-level triggers with transition tables (one
grouped upsert per INSERT/UPDATE/DELETE statement, so a bulk load of 5,000 rows costs one small aggregate);
SQLite: row-level triggers (an upsert per record). A meal record counts under its meal point's subdistrict: moving a
meal point to another subdistrict moves its days (a trigger on facilities). Existing records are summed in here.

The SQL is written out here, not imported, so this revision stays what it was when later revisions change the code.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "daily_totals"
KEY = "measure, day, subdistrict_code, k1, k2"
COLUMNS = f"{KEY}, n, v1, v2"
MEAL_SUB = "(SELECT f.subdistrict_code FROM facilities f WHERE f.id = {r}.facility_id)"

# measure = record table: (day, subdistrict, k1, k2, v1, v2) as expressions of one record {r}
MEASURES = {
    "aid_payments": ("{r}.paid_on", "{r}.subdistrict_code", "{r}.programme", "coalesce({r}.subtype, '')",
                     "{r}.amount_fen", "0"),
    "home_service_visits": ("{r}.visited_on", "{r}.subdistrict_code", "{r}.service_type", "''", "0", "0"),
    "living_alone_visits": ("{r}.visited_on", "{r}.subdistrict_code", "''", "''", "0", "0"),
    "meal_records": ("{r}.served_on", MEAL_SUB, "''", "''", "{r}.dine_in", "{r}.delivered"),
    "civil_events": ("{r}.happened_on", "coalesce({r}.subdistrict_code, '')", "{r}.kind", "''", "0", "0"),
}


def _exprs(measure: str, r: str) -> list[str]:
    return [e.format(r=r) for e in MEASURES[measure]]


def _grouped(measure: str, source: str, sign: str = "") -> str:
    """SELECT of the measure's rows summed from `source` (a table, or a transition table), as daily_totals columns."""
    day, sub, k1, k2, v1, v2 = _exprs(measure, "r")
    return (f"SELECT '{measure}', x.day, x.sub, x.k1, x.k2, {sign}count(*), {sign}sum(x.v1), {sign}sum(x.v2) "
            f"FROM (SELECT {day} AS day, {sub} AS sub, {k1} AS k1, {k2} AS k2, {v1} AS v1, {v2} AS v2 "
            f"FROM {source} r) x GROUP BY x.day, x.sub, x.k1, x.k2")


UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET n = {TABLE}.n + excluded.n, v1 = {TABLE}.v1 + excluded.v1, "
          f"v2 = {TABLE}.v2 + excluded.v2")


def _pg(measure: str) -> list[str]:
    day, sub, k1, k2, _, _ = _exprs(measure, "r")
    fn = f"rollup_{measure}"
    body = f"""
        BEGIN
          IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM {TABLE} WHERE measure = '{measure}';
            RETURN NULL;
          END IF;
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO {TABLE} ({COLUMNS}) {_grouped(measure, 'old_rows', '-')} {UPSERT};
          END IF;
          IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO {TABLE} ({COLUMNS}) {_grouped(measure, 'new_rows')} {UPSERT};
          END IF;
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            DELETE FROM {TABLE} t USING (SELECT DISTINCT {day} AS day, {sub} AS sub, {k1} AS k1, {k2} AS k2
                                         FROM old_rows r) x
             WHERE t.measure = '{measure}' AND t.day = x.day AND t.subdistrict_code = x.sub AND t.k1 = x.k1
               AND t.k2 = x.k2 AND t.n = 0;
          END IF;
          RETURN NULL;
        END"""
    return [
        f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$",
        f"CREATE TRIGGER {fn}_ins AFTER INSERT ON {measure} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        f"CREATE TRIGGER {fn}_upd AFTER UPDATE ON {measure} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        f"CREATE TRIGGER {fn}_del AFTER DELETE ON {measure} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        f"CREATE TRIGGER {fn}_trunc AFTER TRUNCATE ON {measure} FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
    ]


def _sqlite_add(measure: str) -> str:
    day, sub, k1, k2, v1, v2 = _exprs(measure, "NEW")
    return (f"INSERT INTO {TABLE} ({COLUMNS}) SELECT '{measure}', {day}, {sub}, {k1}, {k2}, 1, {v1}, {v2} "
            f"WHERE true {UPSERT};")


def _sqlite_remove(measure: str) -> str:
    day, sub, k1, k2, v1, v2 = _exprs(measure, "OLD")
    key = (f"measure = '{measure}' AND day = {day} AND subdistrict_code = {sub} AND k1 = {k1} AND k2 = {k2}")
    return (f"UPDATE {TABLE} SET n = n - 1, v1 = v1 - {v1}, v2 = v2 - {v2} WHERE {key}; "
            f"DELETE FROM {TABLE} WHERE {key} AND n = 0;")


def _sqlite(measure: str) -> list[str]:
    fn = f"rollup_{measure}"
    return [
        f"CREATE TRIGGER {fn}_ins AFTER INSERT ON {measure} BEGIN {_sqlite_add(measure)} END",
        f"CREATE TRIGGER {fn}_upd AFTER UPDATE ON {measure} BEGIN {_sqlite_remove(measure)} {_sqlite_add(measure)} END",
        f"CREATE TRIGGER {fn}_del AFTER DELETE ON {measure} BEGIN {_sqlite_remove(measure)} END",
    ]


def _meal_point_moved(old: str, new: str) -> str:
    """Recount the days of a meal point that moved to another subdistrict, in both subdistricts (from the records)."""
    days = f"SELECT m.served_on FROM meal_records m WHERE m.facility_id = {new}.id"
    subs = f"({old}.subdistrict_code, {new}.subdistrict_code)"
    return (f"DELETE FROM {TABLE} WHERE measure = 'meal_records' AND subdistrict_code IN {subs} AND day IN ({days}); "
            f"INSERT INTO {TABLE} ({COLUMNS}) SELECT 'meal_records', m.served_on, f.subdistrict_code, '', '', count(*), "
            f"sum(m.dine_in), sum(m.delivered) FROM meal_records m JOIN facilities f ON f.id = m.facility_id "
            f"WHERE f.subdistrict_code IN {subs} AND m.served_on IN ({days}) "
            f"GROUP BY m.served_on, f.subdistrict_code;")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("subdistrict_code", sa.String(length=20), nullable=False),
        sa.Column("k1", sa.String(length=30), nullable=False),
        sa.Column("k2", sa.String(length=20), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("v1", sa.BigInteger(), nullable=False),
        sa.Column("v2", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("measure", "day", "subdistrict_code", "k1", "k2", name="pk_daily_totals"),
    )
    for measure in MEASURES:  # the records already there
        op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {_grouped(measure, measure)}")
    if op.get_bind().dialect.name == "postgresql":
        for measure in MEASURES:
            for statement in _pg(measure):
                op.execute(statement)
        op.execute(f"""CREATE FUNCTION rollup_meal_point_moved() RETURNS trigger LANGUAGE plpgsql AS $$
                       BEGIN {_meal_point_moved('OLD', 'NEW')} RETURN NULL; END $$""")
        op.execute("""CREATE TRIGGER rollup_meal_point_moved AFTER UPDATE OF subdistrict_code ON facilities
                      FOR EACH ROW WHEN (OLD.subdistrict_code IS DISTINCT FROM NEW.subdistrict_code)
                      EXECUTE FUNCTION rollup_meal_point_moved()""")
        op.execute(f"ANALYZE {TABLE}")  # the planner's statistics now, not at autovacuum's next pass
    else:
        for measure in MEASURES:
            for statement in _sqlite(measure):
                op.execute(statement)
        op.execute(f"""CREATE TRIGGER rollup_meal_point_moved AFTER UPDATE OF subdistrict_code ON facilities
                       WHEN OLD.subdistrict_code IS NOT NEW.subdistrict_code
                       BEGIN {_meal_point_moved('OLD', 'NEW')} END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS rollup_meal_point_moved ON facilities")
        op.execute("DROP FUNCTION IF EXISTS rollup_meal_point_moved()")
        for measure in MEASURES:
            for event in ("ins", "upd", "del", "trunc"):
                op.execute(f"DROP TRIGGER IF EXISTS rollup_{measure}_{event} ON {measure}")
            op.execute(f"DROP FUNCTION IF EXISTS rollup_{measure}()")
    else:
        op.execute("DROP TRIGGER IF EXISTS rollup_meal_point_moved")
        for measure in MEASURES:
            for event in ("ins", "upd", "del"):
                op.execute(f"DROP TRIGGER IF EXISTS rollup_{measure}_{event}")
    op.drop_table(TABLE)
