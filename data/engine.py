"""The database engine: SQLite file by default, any SQLAlchemy URL (PostgreSQL via psycopg 3) from DATABASE_URL."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "minzheng.db"


class DatabaseError(RuntimeError):
    """A database problem explained to the user in Chinese (no traceback is shown)."""


class DatabaseUnavailable(DatabaseError):
    pass


class SchemaOutdated(DatabaseError):
    pass


class SchemaMissing(DatabaseError):
    pass


def database_url(url: str | None = None) -> str:
    """The URL in use: the argument, else DATABASE_URL, else the embedded SQLite file."""
    url = url or os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "（无法解析的地址）"


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


@lru_cache(maxsize=16)
def get_engine(url: str | None = None) -> Engine:
    """One pooled engine per URL for the whole process."""
    url = database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"数据库地址 DATABASE_URL 格式不正确：{url!r}。请检查环境变量 DATABASE_URL。") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                   connect_args={"connect_timeout": 5})
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseUnavailable(
            f"不支持的数据库地址：{describe_url(url)}。请使用 sqlite:/// 或 postgresql:// 开头的地址。") from exc
    return engine


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a Chinese message if the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, ProgrammingError) as exc:
        raise DatabaseUnavailable(
            f"无法连接数据库 {describe_url(str(engine.url.render_as_string(hide_password=True)))}。"
            "请确认数据库服务已启动、地址和权限正确（环境变量 DATABASE_URL）。") from exc


def has_table(engine: Engine, name: str) -> bool:
    return inspect(engine).has_table(name)
