"""unique natural keys of the three ledgers that had none

Each imported ledger identifies a record by a natural key (README "台账导入"). Facilities, findings, rooms, the
roster, households, persons and meal records already had it as a unique key; these three did not, so the same
file imported by two processes at once could add every row twice:

- uq_home_service_visits_identity (visited_on, service_type, community_code, elder_name): 居家上门服务;
- uq_living_alone_visits_identity (elder_id, visited_on, visit_type): 独居老人巡访记录;
- uq_aid_payments_identity (person_id, programme, coalesce(subtype, ''), paid_on): 救助发放 (a missing subtype is
  one value, as the importer compares it; an expression index works alike on SQLite and PostgreSQL).

Before an index is created, rows that repeat a key are resolved safely: exact copies (every column but the id
equal — what a doubled import leaves) are removed, keeping the first; rows sharing a key but differing in any other
column are not guessed at: the upgrade stops with a Chinese message naming the table and some record ids, and
changes nothing (one transaction).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 06:30:00
"""
from alembic import op
import sqlalchemy as sa

from data.db.engine import DatabaseError


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# index name: (table, title, key columns as SQL, key as the user knows it, the other columns)
KEYS = {
    "uq_home_service_visits_identity": (
        "home_service_visits", "居家上门服务",
        ["visited_on", "service_type", "community_code", "elder_name"], "服务日期 + 服务类型 + 社区 + 老人姓名",
        ["subdistrict_code", "provider"]),
    "uq_living_alone_visits_identity": (
        "living_alone_visits", "独居老人巡访记录",
        ["elder_id", "visited_on", "visit_type"], "身份证号 + 巡访日期 + 巡访类型",
        ["subdistrict_code", "visitor"]),
    "uq_aid_payments_identity": (
        "aid_payments", "救助发放",
        ["person_id", "programme", "coalesce(subtype, '')", "paid_on"], "身份证号 + 项目 + 子项 + 发放日期",
        ["subtype", "household_id", "subdistrict_code", "amount_fen"]),
}
SHOWN_IDS = 5


class DuplicateRecords(DatabaseError):
    """Rows share a natural key but differ otherwise: the upgrade cannot choose between them."""


def _refuse_conflicts(conn, table: str, title: str, key: list[str], key_text: str, others: list[str]) -> None:
    """Stop, in Chinese, when rows share the key but differ in another column (the upgrade cannot choose)."""
    k = ", ".join(key)
    if conn.execute(sa.text(f"SELECT 1 FROM {table} GROUP BY {k} HAVING count(*) > 1 LIMIT 1")).first() is None:
        return
    alias = [f"c{i}" for i in range(len(key))]
    inner = ", ".join(f"{c} AS {a}" for c, a in zip(key, alias))
    conflicting = conn.execute(sa.text(
        f"SELECT count(*) FROM (SELECT {', '.join(alias)} FROM (SELECT DISTINCT {inner}, {', '.join(others)} "
        f"FROM {table}) d GROUP BY {', '.join(alias)} HAVING count(*) > 1) g")).scalar()
    if conflicting:
        ids = conn.execute(sa.text(
            f"SELECT id FROM (SELECT id, count(*) OVER (PARTITION BY {k}) AS nk, count(*) OVER (PARTITION BY "
            f"{', '.join(key + others)}) AS nf FROM {table}) w WHERE nk > nf ORDER BY id LIMIT {SHOWN_IDS}")).scalars().all()
        raise DuplicateRecords(
            f"无法升级数据库结构（0007）：“{title}”（表 {table}）中有 {conflicting} 组记录按“{key_text}”是同一条记录，"
            f"但其他内容不同（例如记录编号 {'、'.join(str(i) for i in ids)}），升级不能替您决定保留哪一条。"
            "请核对这些记录、删除多余的一条后再运行 python -m data upgrade；数据库未作任何修改。"
            "演示库可删除后用 python -m data init --demo 重新生成。")


def _remove_copies(conn, table: str, key: list[str], others: list[str]) -> int:
    """Delete exact copies of a row (every column but the id equal), keeping the lowest id; the number deleted."""
    k = ", ".join(key)
    if conn.execute(sa.text(f"SELECT 1 FROM {table} GROUP BY {k} HAVING count(*) > 1 LIMIT 1")).first() is None:
        return 0
    removed = conn.execute(sa.text(
        f"DELETE FROM {table} WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
        f"(PARTITION BY {', '.join(key + others)} ORDER BY id) AS rn FROM {table}) d WHERE rn > 1)")).rowcount
    return int(removed or 0)


def upgrade() -> None:
    conn = op.get_bind()
    for table, title, key, key_text, others in KEYS.values():   # every table checked before anything changes
        _refuse_conflicts(conn, table, title, key, key_text, others)
    for name, (table, _title, key, _key_text, others) in KEYS.items():
        _remove_copies(conn, table, key, others)
        op.create_index(name, table, [sa.text(c) if "(" in c else c for c in key], unique=True)


def downgrade() -> None:
    for name, (table, *_rest) in KEYS.items():
        op.drop_index(name, table_name=table)
