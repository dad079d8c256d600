"""The database engine: SQLite file by default, any SQLAlchemy URL (PostgreSQL via psycopg 3) from DATABASE_URL."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (ArgumentError, DisconnectionError, InterfaceError, NoSuchModuleError,
                            OperationalError, ProgrammingError)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "minzheng.db"


class DatabaseError(RuntimeError):
    """A database problem explained to the user in Chinese (no traceback is shown)."""


class DatabaseUnavailable(DatabaseError):
    pass


class SchemaOutdated(DatabaseError):
    pass


class SchemaMissing(DatabaseError):
    pass


class DatabaseMissing(DatabaseUnavailable):
    """The SQLite file is not there: never created silently at run time (only `python -m data init` creates it)."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    try:
        parsed = make_url(database_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).resolve()


def missing_file_message(path: Path) -> str:
    return (f"找不到数据库文件 {path}。如果是首次部署，请运行 python -m data init（演示数据加 --demo）创建数据库；"
            "如果文件被移动、删除或所在磁盘未挂载，请把文件放回原处（或从备份恢复：python -m data restore），"
            "放回后刷新页面即可恢复，无需重启看板。")


def create_sqlite_file(url: str) -> bool:
    """Create the SQLite file of `url` if it is missing — readable by its owner only (0600) — and tighten an
    existing one that others may read. The one place a database file is made: `python -m data init` (through
    data.db.migrate.upgrade). Returns whether the file was created."""
    path = sqlite_path(url)
    if path is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # an empty file is an empty database
        created = True
    except FileExistsError:
        created = False
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    return created


# What a user sees while another transaction holds the database (an import, a backup or restore): the one text, for
# pages (explain) and for the import page alike.
BUSY_MESSAGE = ("正在导入，请稍候：数据库正忙（正在写入一批台账，或正在备份、恢复），本次操作未完成，"
                "请过几秒钟后再试或刷新页面。")
_BUSY_TEXTS = ("database is locked", "database table is locked", "database is busy")
_BUSY_SQLSTATES = {"55P03", "40P01"}   # PostgreSQL: lock_not_available, deadlock_detected


def is_database_busy(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) is a database refusing for now because another transaction holds a lock:
    SQLite's "database is locked" after busy_timeout, PostgreSQL's lock_not_available or deadlock_detected."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OperationalError) or type(exc).__name__ in ("OperationalError", "LockNotAvailable"):
            orig = getattr(exc, "orig", exc)
            if any(t in str(orig).lower() for t in _BUSY_TEXTS):
                return True
            if getattr(orig, "sqlstate", None) in _BUSY_SQLSTATES or getattr(orig, "pgcode", None) in _BUSY_SQLSTATES:
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def explain(exc: BaseException, url: str | None = None) -> str:
    """A Chinese message for any database failure (no traceback, no SQL, no values): what happened and what to do."""
    if isinstance(exc, DatabaseError):
        return str(exc)
    text_ = str(getattr(exc, "orig", None) or exc).lower()
    where = describe_url(database_url(url))
    if is_database_busy(exc):
        return BUSY_MESSAGE
    path = sqlite_path(database_url(url))
    if path is not None and not path.exists():
        return missing_file_message(path)
    if "unable to open" in text_ or "not a database" in text_ or "readonly" in text_ or "disk i/o" in text_ \
            or "malformed" in text_:
        return (f"无法读取数据库文件 {path or where}：文件不可读、已损坏或所在磁盘不可用。请检查文件权限和磁盘，"
                "或从备份恢复（python -m data restore）；恢复后刷新页面即可。")
    if isinstance(exc, (OperationalError, InterfaceError)):
        return (f"无法连接数据库 {where}。请确认数据库服务已启动、网络和地址正确（环境变量 DATABASE_URL）；"
                "数据库恢复后刷新页面即可，无需重启看板。")
    return "读取数据库时出错，请稍后刷新页面；如仍出现，请联系管理员检查数据库（python -m data status）。"


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


def _existing_file_only(engine: Engine, path: Path) -> None:
    """At run time a connection opens the SQLite file only if it is there (read-write, never create): a deleted or
    unmounted file is reported, not replaced by an empty database. A pooled connection whose file was removed or
    replaced since it was opened is dropped at checkout, so the app recovers once the file is back."""
    uri = f"file:{quote(str(path))}?mode=rw"

    @event.listens_for(engine, "do_connect")
    def _open_existing(_dialect, conn_rec, cargs, cparams):
        if not path.exists():
            raise DatabaseMissing(missing_file_message(path))
        cargs[:] = [uri]
        cparams["uri"] = True
        try:
            st_ = os.stat(path)
            conn_rec.info["sqlite_file"] = (st_.st_dev, st_.st_ino)
        except OSError:
            pass

    @event.listens_for(engine, "checkout")
    def _same_file(_dbapi_conn, conn_rec, _proxy):
        try:
            st_ = os.stat(path)
            now = (st_.st_dev, st_.st_ino)
        except OSError:
            now = None
        if conn_rec.info.get("sqlite_file") != now:
            raise DisconnectionError("the SQLite file was removed or replaced")


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
            engine = create_engine(url, connect_args={"check_same_thread": False})
            path = sqlite_path(url)
            if path is not None:
                _existing_file_only(engine, path)
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
    except (OperationalError, ProgrammingError, InterfaceError) as exc:
        path = sqlite_path(str(engine.url))
        if path is not None:
            raise DatabaseUnavailable(explain(exc, str(engine.url))) from exc
        raise DatabaseUnavailable(
            f"无法连接数据库 {describe_url(str(engine.url.render_as_string(hide_password=True)))}。"
            "请确认数据库服务已启动、地址和权限正确（环境变量 DATABASE_URL）。") from exc


def has_table(engine: Engine, name: str) -> bool:
    return inspect(engine).has_table(name)
