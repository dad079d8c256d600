"""备份与恢复: one file per backup, taken while the dashboard runs, restored in one step.

* SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot of the
  live file into a self-contained database file (rollback journal, no ``-wal`` beside it).
* PostgreSQL: ``pg_dump -Fc -n <schema>`` of the schema the application uses (the first schema of the
  URL's ``search_path``, normally ``public``).

A restore trusts nothing in the backup but its rows. Before anything is replaced:

* SQLite: the backup's whole schema (every table with its columns and constraints, index, trigger and view) is
  compared with a scratch database migrated to the backup's revision; any difference (a missing audit trigger,
  an extra trigger, a missing table …) refuses the restore and names the difference. The backup is then
  upgraded to the current schema in a scratch copy, compared again with the current schema, and only then
  swapped in: one write transaction on the live file reads its audit log, replaces every table with the
  checked copy's and commits (other writers wait for it, readers keep the old contents until the commit).
* PostgreSQL: no statement of the archive is ever executed. Its table of contents must list exactly the
  objects a scratch schema migrated to the backup's revision has (no extra function, trigger, constraint …);
  the schema is then built by the migrations in a scratch schema of the same database, only table rows (COPY
  data, fed through the driver, never through psql) and sequence values (parsed, re-issued as ``setval``) are
  loaded into it, it is upgraded to the current schema, and one transaction swaps it in for the live schema.
  Neither the dashboard nor a restore needs a superuser: the role the dashboard uses (owner of its schema,
  with CREATE on the database for the scratch schema) does both.

After a restore:

* ``meta.data_version`` is max(version before the restore, version in the backup) + 1, so no cached query
  result (keyed on the version) can be served for the restored data.
* every sign-in session is ended: accounts and passwords are those of the backup (the confirmation lists
  them), so everyone signs in again.
* the audit log stays append-only in effect: every live entry the backup does not hold (compared by content,
  never by clock) is appended again, followed by the ``restore`` entry. Appended entries are chained anew after
  the backup's last one (their content is kept, their hashes are new), so ``audit verify`` passes after a restore. A refused or failed restore is audited
  in the live database and leaves it unchanged.
* a backup from an older version of the program is upgraded to the current schema; one from a newer
  version is refused.
"""
from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import MetaData, create_engine, event, insert, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from data.db.engine import DatabaseError, check_connection, create_sqlite_file, describe_url, get_engine
from data.db import rollups

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
KIND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(DatabaseError):
    """A backup or restore refused or failed; the message is Chinese and safe to show."""


class RestoreCancelled(BackupError):
    """The person restoring declined at the confirmation; nothing was changed."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str                    # "sqlite" | "postgresql"
    size_bytes: int
    revision: str | None         # schema (Alembic) revision of the backed-up database
    data_version: int
    schema: str | None           # PostgreSQL schema dumped
    seconds: float


@dataclass(frozen=True)
class Account:
    """One account a backup brings back (shown before a restore is confirmed)."""
    username: str
    role: str
    subdistrict_code: str | None
    active: bool


@dataclass(frozen=True)
class BackupContents:
    """What a backup file holds, read without restoring it."""
    path: Path
    kind: str
    revision: str | None
    data_version: int | None
    last_audit_at: datetime | None
    schema: str | None = None
    created_at: str | None = None   # pg_dump's "Archive created at" (PostgreSQL only)
    accounts: tuple[Account, ...] = ()


@dataclass(frozen=True)
class RestoreInfo:
    path: Path
    kind: str
    backup_revision: str
    revision: str                # after the restore (upgraded to the current schema when older)
    upgraded: bool
    data_version: int            # the new data version
    audit_carried: int           # live audit entries appended again after the restore
    seconds: float
    schema: str | None = None


# --- common ---------------------------------------------------------------------------------------

def _engine(engine_or_url) -> Engine:
    return engine_or_url if isinstance(engine_or_url, Engine) else get_engine(engine_or_url)


def _kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in KIND_LABELS:
        raise BackupError(f"不支持备份 {name} 数据库，只支持 SQLite 和 PostgreSQL。")
    return name


def _where(engine: Engine) -> str:
    return describe_url(engine.url.render_as_string(hide_password=True))


def _file_kind(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    return None


def _known_revisions() -> tuple[str, list[str]]:
    from alembic.script import ScriptDirectory

    from data.db import migrate

    script = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    return script.get_current_head(), [r.revision for r in script.walk_revisions()]


def _check_revision(revision: str | None, path: Path) -> None:
    if not revision:
        raise BackupError(f"“{path}”不是民政一张图数据库的备份（其中没有结构版本信息）。")
    head, known = _known_revisions()
    if revision not in known:
        raise BackupError(f"备份“{path}”来自较新版本的程序（结构版本 {revision}，本程序最新为 {head}），"
                          "请先把程序升级到与备份相同或更新的版本再恢复。")


def _short(exc_or_text, limit: int = 200) -> str:
    """One line of an error, safe to show and to audit: no SQL, no parameters, long digit runs masked."""
    if isinstance(exc_or_text, DBAPIError) and exc_or_text.orig is not None:
        exc_or_text = exc_or_text.orig
    lines = [l.strip() for l in str(exc_or_text).splitlines() if l.strip()]
    line = next((l for l in lines if not l.startswith(("[SQL", "[parameters", "(Background"))), "")
    line = re.sub(r"\d{6,}", lambda m: m.group()[:2] + "…", line)
    line = re.sub(r': "[^"]*"$', ': "…"', line)  # a value quoted by the database (invalid input …) is not shown
    line = type(exc_or_text).__name__ if not line and isinstance(exc_or_text, BaseException) else line
    return line[:limit] + ("…" if len(line) > limit else "")


AUDIT_COLUMNS = ("at", "username", "role", "action", "target", "detail", "ok")


def _audit_rows(conn: Connection, schema: str | None = None) -> list[dict]:
    """Every audit entry (oldest first), without its id; [] when the database has no audit log."""
    from data.db.models.auth import AuditEntry

    if not inspect(conn).has_table("audit_log", schema=schema):
        return []
    t = AuditEntry.__table__ if schema is None else AuditEntry.__table__.to_metadata(MetaData(), schema=schema)
    stmt = select(*(t.c[c] for c in AUDIT_COLUMNS)).order_by(t.c.id)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _audit_key(row: dict) -> tuple:
    at = row["at"]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return (at, row["username"], row["role"], row["action"], row["target"], row["detail"], bool(row["ok"]))


def _carry(live_rows: list[dict], backup_rows: list[dict]) -> list[dict]:
    """The live audit entries the backup does not hold, by identity (their whole content), in their order.
    Never by clock: a backup holding a future-dated entry must not hide any live entry."""
    held = Counter(_audit_key(r) for r in backup_rows)
    carried = []
    for row in live_rows:
        key = _audit_key(row)
        if held[key] > 0:
            held[key] -= 1
        else:
            carried.append({c: row[c] for c in AUDIT_COLUMNS})
    return carried


def _live_state(conn: Connection) -> tuple[int, list[dict]]:
    """The live database's data version and all its audit entries (oldest first)."""
    from data.db.models import Meta

    version = 0
    if inspect(conn).has_table("meta"):
        value = conn.execute(select(Meta.value).where(Meta.key == "data_version")).scalar()
        version = int(value) if value is not None else 0
    return version, _audit_rows(conn)


def _accounts(conn: Connection) -> tuple[Account, ...]:
    if not inspect(conn).has_table("users"):
        return ()
    rows = conn.execute(text("SELECT username, role, subdistrict_code, active FROM users ORDER BY id"))
    return tuple(Account(str(u), str(r), s, bool(a)) for u, r, s, a in rows)


def _finish(conn: Connection, old_version: int, carried: list[dict], who, src: Path, revision: str,
            upgraded: bool) -> int:
    """In the restored database (at the current schema), before it becomes the live one: bump the data
    version past both, end every session, append the carried audit entries and the `restore` entry."""
    from data.security.audit import append_entries, record
    from data.db.models import Meta
    from data.db.models.auth import UserSession

    now = datetime.now()
    in_backup = conn.execute(select(Meta.value).where(Meta.key == "data_version")).scalar()
    version = max(int(old_version), int(in_backup or 0)) + 1
    if not conn.execute(update(Meta).where(Meta.key == "data_version")
                        .values(value=str(version), updated_at=now)).rowcount:
        conn.execute(insert(Meta).values(key="data_version", value=str(version), updated_at=now))
    conn.execute(update(UserSession).where(UserSession.ended_at.is_(None)).values(ended_at=now))
    append_entries(conn, carried)   # chained anew after the backup's last entry (`audit verify` passes)
    record(conn, who, "restore", str(src),
           {"backup_revision": revision, "upgraded": upgraded, "audit_carried": len(carried),
            "os_user": _os_user()})
    return version


def _audit_failure(engine: Engine, who, src: Path, message: str) -> None:
    """A refused or failed restore leaves one entry in the live database (best effort: it may be unreachable)."""
    from data.security.audit import record_now

    try:
        engine.dispose()
        if inspect(engine).has_table("audit_log"):
            record_now(engine, who, "restore", str(src), {"error": _short(message, 300), "os_user": _os_user()},
                       ok=False)
    except Exception:  # the database itself is the problem; the message still reaches the person restoring
        pass


def _upgrade_scratch(scratch: Engine, revision: str, head: str, src) -> bool:
    """Bring a backup of an older revision to the head in its scratch copy (SQLite) or schema (PostgreSQL): a
    failure here leaves the live database untouched. Returns whether it was upgraded."""
    from data.db.migrate import upgrade

    if revision == head:
        return False
    try:
        upgrade(scratch)
    except Exception as exc:
        raise _upgrade_failed(revision, src, exc) from exc
    return True


def _upgrade_failed(revision: str, src: Path, exc: Exception) -> BackupError:
    from data.db.migrate import head_revision

    return BackupError(f"备份“{src}”的结构版本 {revision} 较旧，升级到 {head_revision()} 时失败，未恢复，"
                       f"数据库未作任何改动：{_short(exc)}")


def _os_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""


def _audit_backup(engine: Engine, who, info: BackupInfo) -> None:
    from data.security.audit import record_now

    if not inspect(engine).has_table("audit_log"):  # a database older than the audit log (backup before upgrade)
        return
    record_now(engine, who, "backup", str(info.path),
               {"bytes": info.size_bytes, "revision": info.revision, "data_version": info.data_version,
                "os_user": _os_user()})


def _prepare_destination(dest: Path, force: bool) -> None:
    if dest.exists() and not force:
        raise BackupError(f"备份文件“{dest}”已存在，未覆盖。请换一个文件名，或加 --force 覆盖。")
    if dest.exists() and dest.is_dir():
        raise BackupError(f"“{dest}”是一个目录，请给出备份文件的路径。")
    if not dest.parent.is_dir():
        raise BackupError(f"备份目录“{dest.parent}”不存在，请先创建。")


def _check_source(src: Path) -> str:
    if not src.exists():
        raise BackupError(f"备份文件“{src}”不存在。")
    if not src.is_file():
        raise BackupError(f"“{src}”不是文件。")
    kind = _file_kind(src)
    if kind is None:
        raise BackupError(f"“{src}”不是有效的备份文件（既不是 SQLite 数据库，也不是 pg_dump 自定义格式），"
                          "可能已损坏或不是本程序生成的备份。")
    return kind


def _refuse_mismatch(backup_kind: str, engine: Engine, src: Path) -> None:
    target = engine.dialect.name
    if backup_kind != target:
        raise BackupError(
            f"引擎不一致：“{src}”是 {KIND_LABELS[backup_kind]} 数据库的备份，目标数据库 {_where(engine)} 是 "
            f"{KIND_LABELS.get(target, target)}。备份只能恢复到同一种数据库；请把 DATABASE_URL（或 --database-url）"
            f"指向一个 {KIND_LABELS[backup_kind]} 数据库再恢复。")


def _unique_tmp(near: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{near.name}.", suffix=suffix, dir=near.parent)
    os.close(fd)
    return Path(name)


OBJECT_LABELS = {"table": "表", "index": "索引", "trigger": "触发器", "view": "视图", "TABLE": "表",
                 "INDEX": "索引", "TRIGGER": "触发器", "VIEW": "视图", "FUNCTION": "函数", "PROCEDURE": "过程",
                 "CONSTRAINT": "约束", "FK CONSTRAINT": "外键约束", "CHECK CONSTRAINT": "检查约束",
                 "SEQUENCE": "序列", "SEQUENCE OWNED BY": "序列归属", "SEQUENCE SET": "序列值",
                 "DEFAULT": "列默认值", "TABLE DATA": "表数据", "RULE": "规则", "POLICY": "行级策略",
                 "MATERIALIZED VIEW": "物化视图", "TYPE": "类型", "DOMAIN": "域", "EXTENSION": "扩展",
                 "AGGREGATE": "聚合函数", "OPERATOR": "运算符", "EVENT TRIGGER": "事件触发器",
                 "LARGE OBJECT": "大对象", "BLOB": "大对象", "BLOBS": "大对象"}


def _refuse_differences(src: Path, revision: str, diffs: list[str]) -> None:
    if not diffs:
        return
    shown = "；".join(diffs[:8]) + (f"；等共 {len(diffs)} 处" if len(diffs) > 8 else "")
    raise BackupError(f"备份“{src}”的数据库结构与本程序的结构版本 {revision} 不一致，可能被改动过，未恢复，"
                      f"数据库未作任何改动。不一致之处：{shown}。")


# --- public API -----------------------------------------------------------------------------------

def backup(engine_or_url, dest_path, *, force: bool = False, who="system") -> BackupInfo:
    """Write a backup of the database to `dest_path` (refused if it exists, unless `force`); audited."""
    engine = _engine(engine_or_url)
    kind = _kind(engine)
    dest = Path(dest_path).expanduser().resolve()
    _prepare_destination(dest, force)
    check_connection(engine)
    from data.db.migrate import current_revision
    from data.queries.common import data_version

    revision = current_revision(engine)
    if revision is None:
        raise BackupError(f"数据库 {_where(engine)} 尚未初始化（没有表），没有可备份的内容。")
    started = time.perf_counter()
    version = data_version(engine)
    if kind == "sqlite":
        schema = None
        _sqlite_backup(engine, dest)
    else:
        schema = _pg_backup(engine, dest)
    info = BackupInfo(path=dest, kind=kind, size_bytes=dest.stat().st_size, revision=revision,
                      data_version=version, schema=schema, seconds=time.perf_counter() - started)
    _audit_backup(engine, who, info)
    return info


def inspect_backup(src_path) -> BackupContents:
    """Read what a backup holds (engine, schema revision, data version, newest audit entry, accounts) without
    restoring it. Nothing of it is trusted: `restore` checks its schema before anything is replaced."""
    src = Path(src_path).expanduser().resolve()
    kind = _check_source(src)
    if kind == "sqlite":
        return _sqlite_contents(src, src, immutable=True)
    return _pg_contents(src)


def restore(src_path, engine_or_url, *, who="system",
            confirm: Callable[[BackupContents], bool] | None = None) -> RestoreInfo:
    """Replace the database's contents with the backup at `src_path` (see the module docstring).

    `confirm`, when given, is called with what the backup brings (accounts included) once it has been checked
    and staged, before anything is replaced; returning False cancels (RestoreCancelled, nothing changed).
    A refused or failed restore raises BackupError with a Chinese message, is audited, and changes nothing."""
    src = Path(src_path).expanduser().resolve()
    engine = _engine(engine_or_url)
    _kind(engine)
    started = time.perf_counter()
    try:
        backup_kind = _check_source(src)
        _refuse_mismatch(backup_kind, engine, src)
        if backup_kind != "sqlite" or _sqlite_path(engine).exists():  # a missing file may be restored into
            check_connection(engine)
        if backup_kind == "sqlite":
            info = _sqlite_restore(src, engine, who, started, confirm)
        else:
            info = _pg_restore(src, engine, who, started, confirm)
    except RestoreCancelled:
        raise
    except BackupError as exc:
        _audit_failure(engine, who, src, str(exc))
        raise
    except DatabaseError:  # unreachable database: nothing to audit into
        raise
    except Exception as exc:  # never a traceback: a Chinese message, audited
        error = BackupError(f"恢复失败，数据库未作任何改动：{_short(exc)}")
        _audit_failure(engine, who, src, str(error))
        raise error from exc
    rollups.refresh_quietly(engine)  # the restored payments' distinct counts per period (derived, not copied)
    return info


# --- SQLite ---------------------------------------------------------------------------------------

def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("只能备份和恢复 SQLite 数据库文件（内存数据库或 URI 形式的地址不支持）。")
    return Path(database).expanduser().resolve()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _file_engine(path: Path, *, foreign_keys: bool = True) -> Engine:
    """An engine on a SQLite file of its own (a scratch copy, or the live file for the swap): foreign keys
    as the application has them, a long busy timeout, and the file's own journal mode."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def _sqlite_swap(live: Path, staged: Path, finish: Callable[[Connection, int, list[dict]], int],
                 backup_audit: list[dict]) -> tuple[int, int]:
    """Replace the live file's contents with the staged copy's in ONE write transaction on the live file:
    read the live audit log and data version, drop every live table and view, recreate them from the staged
    copy's schema (checked to be exactly the migrations') and copy its rows, then `finish` (data version,
    sessions, carried audit entries, the restore entry). Other writers wait for the lock, so no entry written
    meanwhile can be lost; readers keep the old contents until the commit. Returns (data version, carried)."""
    engine = _file_engine(live, foreign_keys=False)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ATTACH DATABASE ? AS staged", (str(staged),))
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                old_version, live_audit = _live_state(conn)
                carried = _carry(live_audit, backup_audit)
                listing = "SELECT type, name, sql FROM {}.sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                for type_, name, _sql in conn.exec_driver_sql(listing.format("main")).fetchall():
                    if type_ in ("table", "view"):
                        conn.exec_driver_sql(f"DROP {type_.upper()} IF EXISTS main.{_ident(name)}")
                objects = conn.exec_driver_sql(listing.format("staged") + " ORDER BY rowid").fetchall()
                tables = [name for type_, name, _sql in objects if type_ == "table"]
                for type_, name, sql in objects:  # tables first, rows next, then indexes, views and triggers
                    if type_ == "table":
                        conn.exec_driver_sql(sql)
                for name in tables:
                    conn.exec_driver_sql(f"INSERT INTO main.{_ident(name)} SELECT * FROM staged.{_ident(name)}")
                for kind in ("index", "view", "trigger"):
                    for type_, name, sql in objects:
                        if type_ == kind and sql:
                            conn.exec_driver_sql(sql)
                for internal in ("sqlite_sequence", "sqlite_stat1"):
                    if conn.exec_driver_sql(f"SELECT 1 FROM main.sqlite_master WHERE name = '{internal}'").first():
                        conn.exec_driver_sql(f"DELETE FROM main.{internal}")
                        if conn.exec_driver_sql(
                                f"SELECT 1 FROM staged.sqlite_master WHERE name = '{internal}'").first():
                            conn.exec_driver_sql(f"INSERT INTO main.{internal} SELECT * FROM staged.{internal}")
                version = finish(conn, old_version, carried)
                conn.exec_driver_sql("COMMIT")
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            finally:
                conn.exec_driver_sql("DETACH DATABASE staged")
    finally:
        engine.dispose()
    return version, len(carried)


def _sqlite_backup(engine: Engine, dest: Path) -> None:
    live = _sqlite_path(engine)
    if not live.exists():
        raise BackupError(f"数据库文件“{live}”不存在。")
    if dest == live:
        raise BackupError("备份文件不能是数据库文件本身。")
    tmp = _unique_tmp(dest, ".part")
    try:
        src = _connect(live)
        out = sqlite3.connect(str(tmp))
        try:
            src.backup(out)                         # a consistent snapshot, while others read and write
            out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            if out.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError("备份文件校验未通过，请重试。")
        finally:
            out.close()
            src.close()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _sqlite_contents(path: Path, shown: Path, immutable: bool = False) -> BackupContents:
    uri = f"file:{path}?immutable=1" if immutable else f"file:{path}"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = (conn.execute("SELECT version_num FROM alembic_version").fetchone() or [None])[0] \
                if "alembic_version" in tables else None
            version = None
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
                version = int(row[0]) if row else 0
            last = conn.execute("SELECT MAX(at) FROM audit_log").fetchone()[0] if "audit_log" in tables else None
            accounts = ()
            try:  # shown only as a preview: a restore reads them again once the schema is checked
                accounts = tuple(Account(str(u), str(r), s, bool(a)) for u, r, s, a in conn.execute(
                    "SELECT username, role, subdistrict_code, active FROM users ORDER BY id"))
            except sqlite3.OperationalError:  # no such table or column: the schema check names it
                pass
        finally:
            conn.close()
    except (sqlite3.DatabaseError, ValueError) as exc:
        raise BackupError(f"备份文件“{shown}”已损坏或不完整，无法读取（{exc}）。") from exc
    return BackupContents(path=shown, kind="sqlite", revision=revision, data_version=version,
                          last_audit_at=datetime.fromisoformat(str(last)) if last else None, accounts=accounts)


def _norm_sql(sql: str | None) -> str | None:
    """A schema statement without formatting differences (runs of white space, spaces around punctuation)."""
    if sql is None:
        return None
    return re.sub(r"\s*([(),;=])\s*", r"\1", re.sub(r"\s+", " ", sql)).strip()


def _sqlite_schema(path: Path) -> dict[tuple[str, str], tuple]:
    """Every table (with its columns), index, trigger and view of a SQLite file, SQLite's own objects aside."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = {}
        for type_, name, tbl, sql in conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"):
            columns = ()
            if type_ in ("table", "view"):
                columns = tuple(conn.execute('SELECT name, type, "notnull", dflt_value, pk, hidden '
                                             'FROM pragma_table_xinfo(?) ORDER BY cid', (name,)))
            out[(type_, name)] = (tbl, _norm_sql(sql), columns)
        return out
    finally:
        conn.close()


@functools.lru_cache(maxsize=16)
def _sqlite_reference(migrations_dir: str, revision: str) -> dict[tuple[str, str], tuple]:
    """The schema a fresh SQLite database migrated to `revision` has (built once per process and revision)."""
    from data.db.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="mz_restore_ref_") as tmp:
        path = Path(tmp) / "reference.db"
        sqlite3.connect(path).close()
        engine = _file_engine(path)
        try:
            upgrade(engine, revision)
        finally:
            engine.dispose()
        return _sqlite_schema(path)


def _schema_diffs(actual: dict, expected: dict) -> list[str]:
    diffs = []
    for type_, name in sorted(expected.keys() - actual.keys()):
        diffs.append(f"缺少{OBJECT_LABELS.get(type_, type_)} {name}")
    for type_, name in sorted(actual.keys() - expected.keys()):
        diffs.append(f"多出{OBJECT_LABELS.get(type_, type_)} {name}")
    for type_, name in sorted(actual.keys() & expected.keys()):
        a, e = actual[(type_, name)], expected[(type_, name)]
        if a == e:
            continue
        label = OBJECT_LABELS.get(type_, type_)
        a_cols, e_cols = [c[0] for c in a[2]], [c[0] for c in e[2]]
        missing = [c for c in e_cols if c not in a_cols]
        extra = [c for c in a_cols if c not in e_cols]
        if missing or extra:
            diffs.append(f"{label} {name} 的列不同（" + "，".join(
                [f"缺少列 {c}" for c in missing] + [f"多出列 {c}" for c in extra]) + "）")
        else:
            diffs.append(f"{label} {name} 的定义不同")
    return diffs


def _check_sqlite_schema(path: Path, revision: str, src: Path) -> None:
    from data.db import migrate

    reference = _sqlite_reference(str(migrate.MIGRATIONS_DIR), revision)
    _refuse_differences(src, revision, _schema_diffs(_sqlite_schema(path), reference))


def _sqlite_restore(src: Path, engine: Engine, who, started: float, confirm) -> RestoreInfo:
    from data.db.migrate import head_revision

    live = _sqlite_path(engine)
    if live.exists() and src.samefile(live):
        raise BackupError("备份文件就是当前数据库文件本身，无需恢复。")
    if not live.parent.is_dir():
        raise BackupError(f"数据库目录“{live.parent}”不存在。")
    head = head_revision()
    tmp = _unique_tmp(live, ".restore")  # 0600, beside the live file
    try:
        shutil.copyfile(src, tmp)  # the backup file itself is never changed
        contents = _sqlite_contents(tmp, src)
        _check_revision(contents.revision, src)
        _check_sqlite_schema(tmp, contents.revision, src)   # exactly what the migrations make, or refused
        staged = _file_engine(tmp)
        try:
            upgraded = _upgrade_scratch(staged, contents.revision, head, src)
            if upgraded:
                staged.dispose()
                _check_sqlite_schema(tmp, head, src)
            with staged.connect() as conn:
                contents = replace(contents, accounts=_accounts(conn))
                backup_audit = _audit_rows(conn)
            if confirm is not None and not confirm(contents):
                raise RestoreCancelled("已取消，数据库未改动。")
        finally:
            staged.dispose()
        create_sqlite_file(str(engine.url))  # a missing live file is made as `init` makes it (0600)
        engine.dispose()  # no pooled connection of ours holds a read lock across the swap
        version, carried = _sqlite_swap(
            live, tmp, lambda conn, old_version, carried: _finish(conn, old_version, carried, who, src,
                                                                  contents.revision, upgraded), backup_audit)
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
    engine.dispose()  # pooled connections may hold plans and file state of the replaced database
    return RestoreInfo(path=src, kind="sqlite", backup_revision=contents.revision, revision=head,
                       upgraded=upgraded, data_version=version, audit_carried=carried,
                       seconds=time.perf_counter() - started)


# --- PostgreSQL -----------------------------------------------------------------------------------

def _pg_tool(name: str) -> str:
    bindir = os.environ.get("MZ_PG_BINDIR")
    found = shutil.which(name, path=bindir) if bindir else shutil.which(name)
    if not found:
        raise BackupError(f"未找到 {name}。PostgreSQL 的备份与恢复需要 PostgreSQL 客户端工具（pg_dump、pg_restore），"
                          "版本不低于数据库服务器：Debian/Ubuntu 上运行 apt-get install postgresql-client；"
                          "如已安装在其他目录，请设置环境变量 MZ_PG_BINDIR 指向该目录（例如 /usr/lib/postgresql/16/bin）。")
    return found


def _pg_conn_args(engine: Engine) -> tuple[list[str], dict[str, str]]:
    """Command-line connection arguments and environment (password via PGPASSWORD) from the SQLAlchemy URL."""
    url = engine.url
    args: list[str] = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    args += ["-d", url.database or "postgres"]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("host", "PGHOST")):
        value = url.query.get(key)
        if value:
            env[var] = value if isinstance(value, str) else value[0]
    return args, env


def _url_options(engine: Engine) -> str:
    options = engine.url.query.get("options") or ""
    return options if isinstance(options, str) else " ".join(options)


def _url_search_path(engine: Engine) -> list[str]:
    m = re.search(r"-c\s*search_path\s*=\s*(\S+)", _url_options(engine))
    if not m:
        return []
    return [s.strip().strip('"') for s in m.group(1).split(",") if s.strip()]


def _pg_schema(engine: Engine) -> str | None:
    """The schema the application's tables live in: the first existing schema of the search path."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_schema()")).scalar()


def _scratch_engine(engine: Engine, schema: str) -> Engine:
    """An engine on the same database and role whose search path is the scratch schema only."""
    options = re.sub(r"-c\s*search_path\s*=\s*\S+", "", _url_options(engine)).strip()
    options = f"{options} -csearch_path={schema}".strip()
    return create_engine(engine.url.update_query_dict({"options": options}), poolclass=NullPool,
                         connect_args={"connect_timeout": 5})


def _run(cmd: list[str], env: dict, what: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, env=env, capture_output=True, **kwargs)
    if result.returncode != 0:
        err = result.stderr.decode("utf-8", "replace") if isinstance(result.stderr, bytes) else result.stderr
        raise BackupError(f"{what}失败：{_first_lines(err)}")
    return result


def _first_lines(err: str, n: int = 3) -> str:
    lines = [l.strip() for l in (err or "").splitlines() if l.strip()]
    return "；".join(lines[:n]) or "（无错误信息）"


def _pg_backup(engine: Engine, dest: Path) -> str:
    pg_dump = _pg_tool("pg_dump")
    schema = _pg_schema(engine)
    if not schema:
        raise BackupError(f"数据库 {_where(engine)} 的 search_path 中没有存在的 schema，没有可备份的内容。")
    args, env = _pg_conn_args(engine)
    tmp = _unique_tmp(dest, ".part")
    try:
        _run([pg_dump, *args, "-Fc", "-n", schema, "-f", str(tmp)], env, "pg_dump 备份")
        _run([_pg_tool("pg_restore"), "-l", str(tmp)], env, "备份文件校验")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return schema


def _copy_unescape(field: str) -> str | None:
    """One field of COPY's text format."""
    if field == "\\N":
        return None
    simple = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}

    def one(m: re.Match) -> str:
        s = m.group(1)
        if s[0] == "x" and len(s) > 1:
            return chr(int(s[1:], 16))
        if s[0] in "01234567":
            return chr(int(s, 8))
        return simple.get(s, s)

    return re.sub(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)", one, field)


def _pg_contents(src: Path) -> BackupContents:
    """What a pg_dump archive holds, read from its rows (pg_restore writes them out; nothing is executed)."""
    pg_restore = _pg_tool("pg_restore")
    env = {**os.environ}
    toc = subprocess.run([pg_restore, "-l", str(src)], env=env, capture_output=True, text=True)
    if toc.returncode != 0:
        raise BackupError(f"备份文件“{src}”已损坏或不完整，无法读取（{_first_lines(toc.stderr, 1)}）。")
    created = next((l.split("Archive created at", 1)[1].strip() for l in toc.stdout.splitlines()
                    if "Archive created at" in l), None)
    schemas = set()
    for line in toc.stdout.splitlines():
        if line.startswith(";"):
            continue
        parts = line.split()
        if len(parts) >= 6 and parts[3] == "TABLE" and parts[4] != "DATA":
            schemas.add(parts[4])
    if len(schemas) != 1:
        raise BackupError(f"“{src}”不是民政一张图的备份：其中包含 {len(schemas)} 个 schema 的表，应恰好一个。")
    schema = schemas.pop()
    data = subprocess.run([pg_restore, "-f", "-", "-a", "-n", schema, "-t", "alembic_version", "-t", "meta",
                           "-t", "audit_log", "-t", "users", str(src)], env=env, capture_output=True)
    if data.returncode != 0:
        raise BackupError(f"备份文件“{src}”已损坏或不完整，无法读取（"
                          f"{_first_lines(data.stderr.decode('utf-8', 'replace'), 1)}）。")
    revision, version, last, accounts = None, None, None, []
    table, columns = None, []
    try:
        for raw in data.stdout.decode("utf-8", "replace").splitlines():
            if table is None:
                m = re.match(r"COPY \S+?\.(\w+) \((.*)\) FROM stdin;$", raw)
                if m:
                    table, columns = m.group(1), [c.strip().strip('"') for c in m.group(2).split(",")]
                continue
            if raw == "\\.":
                table = None
                continue
            row = dict(zip(columns, (_copy_unescape(f) for f in raw.split("\t"))))
            if table == "alembic_version":
                revision = row.get("version_num")
            elif table == "meta" and row.get("key") == "data_version":
                version = int(row["value"])
            elif table == "audit_log" and row.get("at") is not None:
                at = datetime.fromisoformat(row["at"])
                last = at if last is None or at > last else last
            elif table == "users":
                accounts.append(Account(str(row.get("username")), str(row.get("role")), row.get("subdistrict_code"),
                                        row.get("active") == "t"))
    except (ValueError, KeyError) as exc:
        raise BackupError(f"备份文件“{src}”已损坏或不完整，无法读取（{_short(exc)}）。") from exc
    return BackupContents(path=src, kind="postgresql", revision=revision,
                          data_version=version if version is not None else (0 if revision else None),
                          last_audit_at=last, schema=schema, created_at=created, accounts=tuple(accounts))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# Entries of an archive's table of contents that are never compared: they are not objects a restore brings
# back (the schema itself, comments, privileges). Everything else must match the migrations exactly.
TOC_IGNORED = {"SCHEMA", "COMMENT", "ACL", "DEFAULT ACL"}


def _toc_lines(path: Path, env: dict) -> list[str]:
    toc = subprocess.run([_pg_tool("pg_restore"), "-l", str(path)], env=env, capture_output=True, text=True)
    if toc.returncode != 0:
        raise BackupError(f"备份文件“{path}”已损坏或不完整，无法读取（{_first_lines(toc.stderr, 1)}）。")
    return [l for l in toc.stdout.splitlines() if l.strip() and not l.startswith(";")]


def _toc_objects(lines: list[str], schema: str) -> Counter:
    """(kind, name) of every object in a table of contents, schema and owner left out."""
    out: Counter = Counter()
    for line in lines:
        m = re.match(r"^-?\d+; \d+ \d+ (.*)$", line)
        rest = m.group(1) if m else line
        cuts = [i for i in (rest.find(f" {schema} "), rest.find(" - ")) if i > 0]
        if not cuts:
            out[("?", rest)] += 1
            continue
        cut = min(cuts)
        desc = rest[:cut]
        after = rest[cut + 1:].split(" ", 1)[1] if " " in rest[cut + 1:] else ""
        name = after.rsplit(" ", 1)[0] if " " in after else after   # the owner is the last word
        if not re.fullmatch(r"[A-Z][A-Z ]*", desc):
            out[("?", rest)] += 1
        elif desc not in TOC_IGNORED:
            out[(desc, name)] += 1
    return out


def _check_pg_archive(src: Path, contents: BackupContents, scratch: str, engine: Engine) -> list[str]:
    """Refuse an archive listing any object a schema migrated to its revision does not have (or lacking one).
    Returns the archive's table of contents."""
    args, env = _pg_conn_args(engine)
    archive = _toc_lines(src, env)
    with tempfile.TemporaryDirectory(prefix="mz_restore_") as tmp:
        ref = Path(tmp) / "reference.dump"
        _run([_pg_tool("pg_dump"), *args, "-Fc", "-n", scratch, "-f", str(ref)], env, "生成对照结构")
        reference = _toc_objects(_toc_lines(ref, env), scratch)
    actual = _toc_objects(archive, contents.schema)
    diffs = []
    for (desc, name), n in sorted((reference - actual).items()):
        diffs.append(f"缺少{OBJECT_LABELS.get(desc, desc)} {name}")
    for (desc, name), n in sorted((actual - reference).items()):
        diffs.append(f"多出{OBJECT_LABELS.get(desc, desc)} {name}")
    _refuse_differences(src, contents.revision, diffs)
    return archive


# Lines pg_restore writes around the rows of a data-only script; they are skipped, never executed.
_SCRIPT_NOISE = re.compile(rb"^(--.*|\\(un)?restrict [A-Za-z0-9]+|SET [a-z_]+ = [A-Za-z0-9_']+;"
                           rb"|SELECT pg_catalog\.set_config\('search_path', '', false\);)?$")
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _data_script(src: Path, env: dict, selection: list[str]):
    """The lines of pg_restore's data-only script for the selected entries (a list file); yields lines."""
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as fh:
        fh.write("\n".join(selection) + "\n")
        listing = fh.name
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen([_pg_tool("pg_restore"), "-a", "-L", listing, "-f", "-", str(src)],
                            stdout=subprocess.PIPE, stderr=err, env=env)
    try:
        yield from proc.stdout
        if proc.wait() != 0:
            err.seek(0)
            raise BackupError(f"读取备份“{src}”中的数据失败：{_first_lines(err.read().decode('utf-8', 'replace'))}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        err.close()
        os.unlink(listing)


# tables written only by triggers from other tables' rows (migrations 0010, 0011): never copied, the copy of the
# records fills them (copying them too would count every record twice); and the distinct counts per period with
# their state (0012): the restored database starts with them not current, until they are refreshed
DERIVED = frozenset({"daily_totals", "district_daily_totals", "aid_person_years", "aid_period_counts", "aid_counts_state"})


def _load_rows(src: Path, env: dict, contents: BackupContents, archive: list[str], scratch: Engine) -> None:
    """Load only rows into the scratch schema's tables (built by the migrations), table by table in foreign-key
    order, through COPY statements written here; then the sequences' values. The archive's own statements —
    COPY headers included — are parsed and checked, never executed."""
    meta = MetaData()
    meta.reflect(bind=scratch)
    data_entries = {}
    seq_entries = []
    for line in archive:
        m = re.match(r"^-?\d+; \d+ \d+ (TABLE DATA|SEQUENCE SET) (\S+) (.+) \S+$", line)
        if m and m.group(2) == contents.schema:
            if m.group(1) == "TABLE DATA":
                data_entries[m.group(3)] = line
            else:
                seq_entries.append(line)
    with scratch.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        if meta.sorted_tables:  # rows the migrations wrote (alembic's version …) give way to the backup's
            conn.exec_driver_sql("TRUNCATE " + ", ".join(_ident(t.name) for t in meta.sorted_tables))
        for table in meta.sorted_tables:
            if table.name in DERIVED:  # filled by the triggers of the record tables as their rows are copied
                continue
            if table.name not in data_entries:
                raise BackupError(f"备份“{src}”中缺少表 {table.name} 的数据，未恢复，数据库未作任何改动。")
            _copy_table(src, env, data_entries[table.name], table, cursor, conn)
        sequences = set(conn.execute(text("SELECT sequencename FROM pg_sequences "
                                          "WHERE schemaname = current_schema()")).scalars())
        if seq_entries:
            for line in _data_script(src, env, seq_entries):
                s = line.rstrip(b"\r\n")
                if _SCRIPT_NOISE.match(s):
                    continue
                m = re.fullmatch(rb"SELECT pg_catalog\.setval\('(?:" + _IDENT.encode() + rb"\.)?(" + _IDENT.encode()
                                 + rb")', (\d+), (true|false)\);", s)
                name = _unquote(m.group(1).decode()) if m else None
                if name not in sequences:
                    raise BackupError(f"备份“{src}”中的序列值含有无法识别的内容，未恢复，数据库未作任何改动。")
                conn.execute(text("SELECT setval(CAST(:seq AS regclass), :value, :called)"),
                             {"seq": _ident(name), "value": int(m.group(2)), "called": m.group(3) == b"true"})


def _copy_table(src: Path, env: dict, entry: str, table, cursor, conn: Connection) -> None:
    lines = _data_script(src, env, [entry])
    try:
        _copy_lines(src, lines, table, cursor, conn)
    finally:
        lines.close()
    conn.exec_driver_sql("RESET client_encoding")


def _copy_lines(src: Path, lines, table, cursor, conn: Connection) -> None:
    columns = {c.name for c in table.columns}
    copied = False
    for line in lines:
        s = line.rstrip(b"\r\n")
        m = re.fullmatch(rb"SET client_encoding = '([A-Za-z0-9_]+)';", s)
        if m:
            conn.exec_driver_sql(f"SET client_encoding = '{m.group(1).decode()}'")
            continue
        if _SCRIPT_NOISE.match(s):
            continue
        m = re.fullmatch(rb"COPY (?:" + _IDENT.encode() + rb"\.)?(" + _IDENT.encode() + rb") \((.*)\) FROM stdin;", s)
        names = [_unquote(c.strip()) for c in m.group(2).decode("utf-8", "replace").split(",")] if m else []
        if (copied or not m or _unquote(m.group(1).decode()) != table.name or set(names) != columns
                or len(names) != len(columns)):
            raise BackupError(f"备份“{src}”中表 {table.name} 的数据含有不是数据的内容，未恢复，数据库未作任何改动。")
        copied = True
        statement = f"COPY {_ident(table.name)} ({', '.join(_ident(c) for c in names)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            chunk = bytearray()
            for row in lines:
                if row.rstrip(b"\r\n") == b"\\.":
                    break
                chunk += row
                if len(chunk) >= 1 << 20:
                    copy.write(bytes(chunk))
                    chunk.clear()
            else:
                raise BackupError(f"备份“{src}”中表 {table.name} 的数据不完整，未恢复，数据库未作任何改动。")
            if chunk:
                copy.write(bytes(chunk))
    if not copied:
        raise BackupError(f"备份“{src}”中缺少表 {table.name} 的数据，未恢复，数据库未作任何改动。")


def _raw(conn: Connection, sql: str) -> None:
    """One statement through the driver as is (no placeholders: the DO blocks use format()'s %I)."""
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.execute(sql)


def _empty_schema_sql(schema: str) -> str:
    lit = _literal(schema)
    return f"""DO $mz$ DECLARE r record; BEGIN
  FOR r IN SELECT format('DROP VIEW IF EXISTS %I.%I CASCADE', schemaname, viewname) AS s
           FROM pg_views WHERE schemaname = {lit}
           UNION ALL SELECT format('DROP MATERIALIZED VIEW IF EXISTS %I.%I CASCADE', schemaname, matviewname)
           FROM pg_matviews WHERE schemaname = {lit}
           UNION ALL SELECT format('DROP TABLE IF EXISTS %I.%I CASCADE', schemaname, tablename)
           FROM pg_tables WHERE schemaname = {lit} LOOP EXECUTE r.s; END LOOP;
  FOR r IN SELECT format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', schemaname, sequencename) AS s
           FROM pg_sequences WHERE schemaname = {lit} LOOP EXECUTE r.s; END LOOP;
  FOR r IN SELECT format('DROP ROUTINE IF EXISTS %I.%I(%s) CASCADE', n.nspname, p.proname,
                         pg_get_function_identity_arguments(p.oid)) AS s
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = {lit} AND p.prokind IN ('f', 'p') LOOP EXECUTE r.s; END LOOP;
  FOR r IN SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE', n.nspname, t.typname) AS s
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = {lit} AND t.typtype IN ('e', 'd', 'r') LOOP EXECUTE r.s; END LOOP;
END $mz$"""


def _move_schema_sql(source: str, target: str) -> str:
    """Move every object of `source` into `target` (tables carry their indexes, constraints, triggers and owned
    sequences along)."""
    src, dst = _literal(source), _literal(target)
    return f"""DO $mz$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {src} AND c.relkind IN ('r', 'p', 'v', 'm') LOOP
    EXECUTE format('ALTER %s %I.%I SET SCHEMA %I', CASE r.relkind WHEN 'v' THEN 'VIEW'
                   WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, {src}, r.relname, {dst});
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {src} AND c.relkind = 'S' LOOP
    EXECUTE format('ALTER SEQUENCE %I.%I SET SCHEMA %I', {src}, r.relname, {dst});
  END LOOP;
  FOR r IN SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = {src} LOOP
    EXECUTE format('ALTER ROUTINE %I.%I(%s) SET SCHEMA %I', {src}, r.proname, r.args, {dst});
  END LOOP;
  FOR r IN SELECT t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = {src} AND t.typtype IN ('e', 'd', 'r') LOOP
    EXECUTE format('ALTER %s %I.%I SET SCHEMA %I', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                   {src}, r.typname, {dst});
  END LOOP;
END $mz$"""


def _pg_restore(src: Path, engine: Engine, who, started: float, confirm) -> RestoreInfo:
    from data.db.migrate import head_revision, upgrade
    from data.security.audit import lock_chain

    contents = _pg_contents(src)
    _check_revision(contents.revision, src)
    head = head_revision()
    target = _pg_schema(engine) or next(iter(_url_search_path(engine)), None) or "public"
    _, env = _pg_conn_args(engine)
    scratch_name = f"mz_restore_{uuid.uuid4().hex[:8]}_{target}"[:63]  # beside the schema it replaces
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {_ident(scratch_name)}")
        conn.commit()
    scratch = _scratch_engine(engine, scratch_name)
    try:
        upgrade(scratch, contents.revision)            # the schema comes from the migrations, never the archive
        archive = _check_pg_archive(src, contents, scratch_name, engine)
        _load_rows(src, env, contents, archive, scratch)
        upgraded = _upgrade_scratch(scratch, contents.revision, head, src)
        with scratch.connect() as conn:
            contents = replace(contents, accounts=_accounts(conn))
            backup_audit = _audit_rows(conn)
        if confirm is not None and not confirm(contents):
            raise RestoreCancelled("已取消，数据库未改动。")
        with engine.begin() as conn:  # one transaction: the live schema is replaced entirely or not at all
            # the audit chain lock before the table lock: a writer sealing its entries (chain lock, then INSERT)
            # finishes first, and none can start sealing into the old table meanwhile
            lock_chain(conn)
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {_ident(target)}")
            conn.exec_driver_sql(f"LOCK TABLE {_ident(target)}.audit_log IN EXCLUSIVE MODE") \
                if inspect(conn).has_table("audit_log", schema=target) else None
            old_version, live_audit = _live_state(conn)
            carried = _carry(live_audit, backup_audit)
            _raw(conn, _empty_schema_sql(target))
            _raw(conn, _move_schema_sql(scratch_name, target))
            conn.exec_driver_sql(f"DROP SCHEMA {_ident(scratch_name)}")  # RESTRICT: nothing may be left behind
            version = _finish(conn, old_version, carried, who, src, contents.revision, upgraded)
    finally:
        scratch.dispose()
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {_ident(scratch_name)} CASCADE")
                conn.commit()
        except Exception:  # the scratch schema is named mz_restore_…; a later restore does not depend on it
            pass
    engine.dispose()  # pooled connections may hold plans of the replaced tables
    return RestoreInfo(path=src, kind="postgresql", backup_revision=contents.revision, revision=head,
                       upgraded=upgraded, data_version=version, audit_carried=len(carried),
                       seconds=time.perf_counter() - started, schema=target)


# --- command line ---------------------------------------------------------------------------------

def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _cmd_backup(args) -> int:
    from data.db.engine import database_url

    engine = get_engine(database_url(args.database_url))
    info = backup(engine, args.out, force=args.force, who="system")
    where = f"（schema {info.schema}）" if info.schema else ""
    print(f"已备份数据库 {_where(engine)}{where} → {info.path}")
    print(f"  {KIND_LABELS[info.kind]}，{_size(info.size_bytes)}，结构版本 {info.revision}，数据版本 {info.data_version}，"
          f"用时 {info.seconds:.1f} 秒。")
    print(f"  恢复命令：python -m data restore --from {info.path}")
    return 0


def _pad(value: str, width: int) -> str:
    """Left-justify for a terminal: CJK characters take two columns."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)
    return value + " " * max(1, width - used)


def accounts_table(accounts) -> list[str]:
    """The accounts a backup brings, one line each (username, role, subdistrict, active), admins counted."""
    from data.security.access import ROLES

    if not accounts:
        return ["  （备份中没有账号：恢复后无人能登录，需要用 python -m data create-admin 新建管理员）"]
    lines = ["  " + _pad("用户名", 20) + _pad("角色", 12) + _pad("街道", 14) + "状态"]
    for a in accounts:
        lines.append("  " + _pad(a.username, 20) + _pad(ROLES.get(a.role, a.role), 12)
                     + _pad(a.subdistrict_code or "-", 14) + ("启用" if a.active else "停用"))
    admins = [a.username for a in accounts if a.role == "admin" and a.active]
    lines.append(f"  共 {len(accounts)} 个账号，其中启用的管理员 {len(admins)} 个：{'、'.join(admins) or '无'}。"
                 "请核对，如有不认识的账号请不要恢复。")
    return lines


def _cmd_restore(args) -> int:
    from data.db.engine import database_url

    engine = get_engine(database_url(args.database_url))
    contents = inspect_backup(args.source)
    _refuse_mismatch(contents.kind, engine, contents.path)

    def confirm(checked: BackupContents) -> bool:
        newest = contents.last_audit_at.strftime("%Y-%m-%d %H:%M") if contents.last_audit_at else "无"
        print(f"即将用备份 {checked.path}（{KIND_LABELS[checked.kind]}，结构版本 {checked.revision}，"
              f"数据版本 {checked.data_version}，最后一条审计记录 {newest}）")
        print(f"覆盖数据库 {_where(engine)} 的全部数据。之后的改动将丢失，所有用户需重新登录。")
        print("备份的结构已核对无误。恢复后的账号和角色（只有这些账号可以登录）：")
        print("\n".join(accounts_table(checked.accounts)))
        if args.yes:  # unattended (a scheduled job): the accounts are still written to its log
            return True
        try:
            answer = input("确认恢复请输入 yes：")
        except EOFError:
            answer = ""
        return answer.strip().lower() == "yes"

    try:
        info = restore(contents.path, engine, who="system", confirm=confirm)
    except RestoreCancelled:
        print("已取消，数据库未改动。")
        return 1
    print(f"已从 {info.path} 恢复数据库 {_where(engine)}，用时 {info.seconds:.1f} 秒。")
    if info.upgraded:
        print(f"  备份的结构版本 {info.backup_revision} 较旧，已升级到 {info.revision}。")
    print(f"  数据版本 → {info.data_version}（看板缓存随之失效）；所有登录会话已结束。")
    if info.audit_carried:
        print(f"  已补回备份中没有的 {info.audit_carried} 条审计记录。")
    return 0


def register_cli(subparsers) -> None:
    """Add the `backup` and `restore` subcommands to `python -m data` (cli.build_parser)."""
    p = subparsers.add_parser("backup", help="备份数据库到一个文件（看板运行时也可执行）")
    p.add_argument("--out", required=True, help="备份文件路径（SQLite 为 .db 文件，PostgreSQL 为 pg_dump 自定义格式）")
    p.add_argument("--force", action="store_true", help="备份文件已存在时覆盖")
    p.set_defaults(func=_cmd_backup)
    p = subparsers.add_parser("restore", help="用备份文件覆盖数据库（会要求确认）")
    p.add_argument("--from", dest="source", required=True, help="备份文件路径")
    p.add_argument("--yes", action="store_true", help="不再询问，直接恢复")
    p.set_defaults(func=_cmd_restore)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data.ops.backup", description="民政一张图 数据库备份与恢复")
    parser.add_argument("--database-url", default=None, help="数据库地址（默认取 DATABASE_URL，未设置时使用内置 SQLite 文件）")
    register_cli(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DatabaseError, ValueError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
