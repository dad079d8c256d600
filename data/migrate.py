"""Alembic migrations, driven from code so every command honours DATABASE_URL."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from data.engine import SchemaMissing, SchemaOutdated, check_connection, get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    engine = engine or get_engine()
    check_connection(engine)
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine | None = None, revision: str = "base") -> None:
    engine = engine or get_engine()
    command.downgrade(alembic_config(engine), revision)


def ensure_current(engine: Engine) -> None:
    """Raise a Chinese explanation when the schema is missing or older than this code."""
    check_connection(engine)
    current = current_revision(engine)
    if current is None:
        raise SchemaMissing("数据库尚未初始化。请运行：python -m data init --demo（演示数据）或 python -m data init。")
    head = head_revision()
    if current != head:
        raise SchemaOutdated(
            f"数据库结构版本较旧（当前 {current}，最新 {head}）。请先运行升级命令：python -m data upgrade")
