"""Alembic migrations, driven from code so every command honours DATABASE_URL.

Alembic is imported by the functions that migrate or inspect migrations, not with this module: the dashboard
only checks at start-up that the database is at SCHEMA_HEAD (a read of alembic's own version table), and
importing alembic would add ~0.25 s to the first page of every server start.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from data.db.engine import SchemaMissing, SchemaOutdated, check_connection, create_sqlite_file, get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions — what this code expects; tests check that it is alembic's head.
SCHEMA_HEAD = "0013"
VERSION_TABLE = "alembic_version"  # alembic's default, kept by every migration


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in alembic's version table (None: no table or no row — a database never migrated).
    The same answer as current_revision() for this project's single line of migrations, without alembic."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    from alembic import command

    engine = engine or get_engine()
    create_sqlite_file(engine.url.render_as_string(hide_password=False))  # the init path: the only one that creates
    check_connection(engine)
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine | None = None, revision: str = "base") -> None:
    from alembic import command

    engine = engine or get_engine()
    command.downgrade(alembic_config(engine), revision)


def ensure_current(engine: Engine) -> None:
    """Raise a Chinese explanation when the schema is missing or older than this code."""
    check_connection(engine)
    current = stored_revision(engine)
    if current is None:
        raise SchemaMissing("数据库尚未初始化。请运行：python -m data init --demo（演示数据）或 python -m data init。")
    head = SCHEMA_HEAD
    if current != head:
        raise SchemaOutdated(
            f"数据库结构版本较旧（当前 {current}，最新 {head}）。请先运行升级命令：python -m data upgrade")
