"""备份与恢复: one file per backup, taken while the dashboard runs, restored in one step.

* SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot of the
  live file into a self-contained database file (rollback journal, no ``-wal`` beside it). A restore
  copies the backup page by page into the live file through the same API, under SQLite's own locks.
* PostgreSQL: ``pg_dump -Fc -n <schema>`` of the schema the application uses (the first schema of the
  URL's ``search_path``, normally ``public``). A restore empties that schema and loads the dump in one
  transaction (``pg_restore`` → ``psql``), so a failed restore leaves the database as it was; the dump
  can be loaded into a schema of another name (a copy of production for testing, say).

After a restore:

* ``meta.data_version`` is set to max(version before the restore, version in the backup) + 1, in the same
  transaction as the load, so no cached query result (keyed on the version) can be served for the
  restored data — the version never goes back to a number a cache has already seen.
* every sign-in session is ended: accounts and passwords are those of the backup, so everyone signs in again.
* the audit log stays append-only in effect: entries written to the live database after the backup's newest
  entry (the backup itself, sign-ins, changes) are appended again, followed by the ``restore`` entry.
* a backup from an older version of the program is upgraded to the current schema; one from a newer
  version is refused.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Engine

from data.engine import DatabaseError, check_connection, describe_url, get_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
KIND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(DatabaseError):
    """A backup or restore refused or failed; the message is Chinese and safe to show."""


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
class BackupContents:
    """What a backup file holds, read without restoring it."""
    path: Path
    kind: str
    revision: str | None
    data_version: int | None
    last_audit_at: datetime | None
    schema: str | None = None
    created_at: str | None = None   # pg_dump's "Archive created at" (PostgreSQL only)


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

    from data.migrate import MIGRATIONS_DIR

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return script.get_current_head(), [r.revision for r in script.walk_revisions()]


def _check_revision(revision: str | None, path: Path) -> None:
    if not revision:
        raise BackupError(f"“{path}”不是民政一张图数据库的备份（其中没有结构版本信息）。")
    head, known = _known_revisions()
    if revision not in known:
        raise BackupError(f"备份“{path}”来自较新版本的程序（结构版本 {revision}，本程序最新为 {head}），"
                          "请先把程序升级到与备份相同或更新的版本再恢复。")


def _live_state(engine: Engine, since: datetime | None) -> tuple[int, list[dict]]:
    """The live database's data version and its audit entries newer than `since` (oldest first)."""
    from data.models_auth import AuditEntry
    from data.queries.common import data_version

    names = set(inspect(engine).get_table_names())
    version = data_version(engine) if "meta" in names else 0
    carried: list[dict] = []
    if "audit_log" in names:
        t = AuditEntry.__table__
        stmt = select(t.c.at, t.c.username, t.c.role, t.c.action, t.c.target, t.c.detail, t.c.ok).order_by(t.c.id)
        if since is not None:
            stmt = stmt.where(t.c.at > since)
        with engine.connect() as conn:
            carried = [dict(r._mapping) for r in conn.execute(stmt)]
    return version, carried


def _after_restore(engine: Engine, kind: str, path: Path, contents: BackupContents, carried: list[dict],
                   who, started: float, schema: str | None = None) -> RestoreInfo:
    """Bring the restored database to the current schema and append the audit entries."""
    from data.audit import record
    from data.migrate import current_revision, head_revision, upgrade
    from data.models_auth import AuditEntry
    from data.queries.common import data_version

    engine.dispose()  # pooled connections may hold plans and file state of the replaced database
    upgraded = False
    if current_revision(engine) != head_revision():
        upgrade(engine)
        upgraded = True
    with engine.begin() as conn:
        if carried:
            conn.execute(insert(AuditEntry), carried)
        record(conn, who, "restore", str(path),
               {"backup_revision": contents.revision, "upgraded": upgraded, "audit_carried": len(carried),
                "os_user": _os_user()})
    return RestoreInfo(path=path, kind=kind, backup_revision=contents.revision or "", revision=head_revision(),
                       upgraded=upgraded, data_version=data_version(engine), audit_carried=len(carried),
                       seconds=time.perf_counter() - started, schema=schema)


def _os_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""


def _audit_backup(engine: Engine, who, info: BackupInfo) -> None:
    from data.audit import record_now

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


# --- public API -----------------------------------------------------------------------------------

def backup(engine_or_url, dest_path, *, force: bool = False, who="system") -> BackupInfo:
    """Write a backup of the database to `dest_path` (refused if it exists, unless `force`); audited."""
    engine = _engine(engine_or_url)
    kind = _kind(engine)
    dest = Path(dest_path).expanduser().resolve()
    _prepare_destination(dest, force)
    check_connection(engine)
    from data.migrate import current_revision
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
    """Read what a backup holds (engine, schema revision, data version, newest audit entry) without restoring."""
    src = Path(src_path).expanduser().resolve()
    kind = _check_source(src)
    if kind == "sqlite":
        return _sqlite_contents(src, src, immutable=True)
    return _pg_contents(src)


def restore(src_path, engine_or_url, *, who="system") -> RestoreInfo:
    """Replace the database's contents with the backup at `src_path` (see the module docstring)."""
    src = Path(src_path).expanduser().resolve()
    engine = _engine(engine_or_url)
    _kind(engine)
    backup_kind = _check_source(src)
    _refuse_mismatch(backup_kind, engine, src)
    check_connection(engine)
    started = time.perf_counter()
    if backup_kind == "sqlite":
        return _sqlite_restore(src, engine, who, started)
    return _pg_restore(src, engine, who, started)


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
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"备份文件“{shown}”已损坏或不完整，无法读取（{exc}）。") from exc
    return BackupContents(path=shown, kind="sqlite", revision=revision, data_version=version,
                          last_audit_at=datetime.fromisoformat(str(last)) if last else None)


def _sqlite_restore(src: Path, engine: Engine, who, started: float) -> RestoreInfo:
    live = _sqlite_path(engine)
    if live.exists() and src.samefile(live):
        raise BackupError("备份文件就是当前数据库文件本身，无需恢复。")
    if not live.parent.is_dir():
        raise BackupError(f"数据库目录“{live.parent}”不存在。")
    tmp = _unique_tmp(live, ".restore")
    try:
        shutil.copyfile(src, tmp)  # the backup file itself is never changed
        contents = _sqlite_contents(tmp, src)
        _check_revision(contents.revision, src)
        old_version, carried = _live_state(engine, contents.last_audit_at)
        now = datetime.now().isoformat(sep=" ", timespec="microseconds")
        staged = sqlite3.connect(str(tmp))
        try:
            with staged:
                _bump_version_sqlite(staged, old_version, now)
                if staged.execute("SELECT 1 FROM sqlite_master WHERE name = 'user_sessions'").fetchone():
                    staged.execute("UPDATE user_sessions SET ended_at = ? WHERE ended_at IS NULL", (now,))
            live_conn = _connect(live)
            try:
                staged.backup(live_conn)  # page by page into the live file, under SQLite's locks
            finally:
                live_conn.close()
        finally:
            staged.close()
    finally:
        tmp.unlink(missing_ok=True)
    return _after_restore(engine, "sqlite", src, contents, carried, who, started)


def _bump_version_sqlite(conn: sqlite3.Connection, old_version: int, now: str) -> None:
    updated = conn.execute(
        "UPDATE meta SET value = CAST(MAX(CAST(value AS INTEGER), ?) + 1 AS TEXT), updated_at = ? "
        "WHERE key = 'data_version'", (old_version, now)).rowcount
    if not updated:
        conn.execute("INSERT INTO meta (key, value, updated_at) VALUES ('data_version', ?, ?)",
                     (str(old_version + 1), now))


# --- PostgreSQL -----------------------------------------------------------------------------------

def _pg_tool(name: str) -> str:
    bindir = os.environ.get("MZ_PG_BINDIR")
    found = shutil.which(name, path=bindir) if bindir else shutil.which(name)
    if not found:
        raise BackupError(f"未找到 {name}。PostgreSQL 的备份与恢复需要 PostgreSQL 客户端工具（pg_dump、pg_restore、psql），"
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


def _url_search_path(engine: Engine) -> list[str]:
    options = engine.url.query.get("options") or ""
    if not isinstance(options, str):
        options = " ".join(options)
    m = re.search(r"-c\s*search_path\s*=\s*(\S+)", options)
    if not m:
        return []
    return [s.strip().strip('"') for s in m.group(1).split(",") if s.strip()]


def _pg_schema(engine: Engine) -> str | None:
    """The schema the application's tables live in: the first existing schema of the search path."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_schema()")).scalar()


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


def _pg_contents(src: Path) -> BackupContents:
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
    data = subprocess.run([pg_restore, "-f", "-", "-a", "-t", "alembic_version", "-t", "meta", "-t", "audit_log",
                           str(src)], env=env, capture_output=True)
    if data.returncode != 0:
        raise BackupError(f"备份文件“{src}”已损坏或不完整，无法读取（"
                          f"{_first_lines(data.stderr.decode('utf-8', 'replace'), 1)}）。")
    revision, version, last = None, None, None
    table, columns = None, []
    for raw in data.stdout.decode("utf-8", "replace").splitlines():
        if table is None:
            m = re.match(r"COPY \S+?\.(\w+) \((.*)\) FROM stdin;$", raw)
            if m:
                table, columns = m.group(1), [c.strip().strip('"') for c in m.group(2).split(",")]
            continue
        if raw == "\\.":
            table = None
            continue
        row = dict(zip(columns, raw.split("\t")))
        if table == "alembic_version":
            revision = row.get("version_num")
        elif table == "meta" and row.get("key") == "data_version":
            version = int(row["value"])
        elif table == "audit_log" and row.get("at") not in (None, "\\N"):
            at = datetime.fromisoformat(row["at"])
            last = at if last is None or at > last else last
    return BackupContents(path=src, kind="postgresql", revision=revision,
                          data_version=version if version is not None else (0 if revision else None),
                          last_audit_at=last, schema=schema, created_at=created)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _schema_rewriter(source: str, target: str):
    """A function rewriting one line of pg_restore's script from schema `source` to schema `target`.

    Only the statements are rewritten, never the rows of COPY blocks (their text could contain anything)."""
    quoted = re.escape(_ident(source).encode())
    patterns = [quoted + rb"\."]
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", source):
        patterns.append(rb"(?<![\w$\".])" + re.escape(source.encode()) + rb"\.")
    qualifier = re.compile(b"|".join(patterns))
    replacement = (_ident(target) + ".").encode()
    skip = re.compile(rb"^(CREATE SCHEMA|ALTER SCHEMA|COMMENT ON SCHEMA) ")
    state = {"copy": False}

    def rewrite(line: bytes) -> bytes:
        if state["copy"]:
            if line in (b"\\.\n", b"\\.\r\n", b"\\."):
                state["copy"] = False
            return line
        if skip.match(line):
            return b""
        if line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
            state["copy"] = True
        return qualifier.sub(lambda _m: replacement, line)

    return rewrite


def _empty_schema_sql(schema: str) -> str:
    lit = _literal(schema)
    return f"""CREATE SCHEMA IF NOT EXISTS {_ident(schema)};
DO $mz$ DECLARE r record; BEGIN
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
END $mz$;
"""


def _finish_sql(schema: str, old_version: int, now: str) -> str:
    s, ts = _ident(schema), f"TIMESTAMP {_literal(now)}"
    sessions = _literal(f"{s}.user_sessions")
    return f"""
UPDATE {s}.meta SET value = CAST(GREATEST(CAST(value AS BIGINT), {int(old_version)}) + 1 AS VARCHAR),
       updated_at = {ts} WHERE key = 'data_version';
INSERT INTO {s}.meta (key, value, updated_at) SELECT 'data_version', '{int(old_version) + 1}', {ts}
       WHERE NOT EXISTS (SELECT 1 FROM {s}.meta WHERE key = 'data_version');
DO $mz$ BEGIN
  IF to_regclass({sessions}) IS NOT NULL THEN
    EXECUTE 'UPDATE {s.replace("'", "''")}.user_sessions SET ended_at = {ts.replace("'", "''")} WHERE ended_at IS NULL';
  END IF;
END $mz$;
COMMIT;
"""


def _pg_restore(src: Path, engine: Engine, who, started: float) -> RestoreInfo:
    pg_restore, psql = _pg_tool("pg_restore"), _pg_tool("psql")
    contents = _pg_contents(src)
    _check_revision(contents.revision, src)
    target = _pg_schema(engine) or next(iter(_url_search_path(engine)), None) or "public"
    old_version, carried = _live_state(engine, contents.last_audit_at)
    now = datetime.now().isoformat(sep=" ", timespec="microseconds")
    args, env = _pg_conn_args(engine)
    engine.dispose()  # no pooled connection of ours holds a lock on the tables being replaced
    rewrite = _schema_rewriter(contents.schema, target)
    with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as load_err:
        load = subprocess.Popen([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=load_err, env=env)
        dump = subprocess.Popen([pg_restore, "-f", "-", "--no-owner", "--no-privileges", str(src)],
                                stdout=subprocess.PIPE, stderr=dump_err, env=env)
        broken = False
        try:
            # One transaction: BEGIN here, COMMIT only after pg_restore has produced the whole script.
            load.stdin.write(b"SET client_min_messages = warning;\nBEGIN;\n" + _empty_schema_sql(target).encode())
            for line in dump.stdout:
                load.stdin.write(rewrite(line))
        except BrokenPipeError:  # psql stopped at an error; the transaction is rolled back
            broken = True
            dump.kill()
        dump_rc = dump.wait()
        if not broken and dump_rc == 0:
            try:
                load.stdin.write(_finish_sql(target, old_version, now).encode())
            except BrokenPipeError:
                broken = True
        try:
            load.stdin.close()  # without COMMIT, psql's session ends and the transaction is rolled back
        except BrokenPipeError:
            pass
        load_rc = load.wait()
        if dump_rc != 0 or load_rc != 0 or broken:
            dump_err.seek(0)
            load_err.seek(0)
            why = _first_lines(dump_err.read().decode("utf-8", "replace") + "\n"
                               + load_err.read().decode("utf-8", "replace"))
            raise BackupError(f"恢复失败，数据库未作任何改动：{why}")
    return _after_restore(engine, "postgresql", src, contents, carried, who, started, schema=target)


# --- command line ---------------------------------------------------------------------------------

def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _cmd_backup(args) -> int:
    from data.engine import database_url

    engine = get_engine(database_url(args.database_url))
    info = backup(engine, args.out, force=args.force, who="system")
    where = f"（schema {info.schema}）" if info.schema else ""
    print(f"已备份数据库 {_where(engine)}{where} → {info.path}")
    print(f"  {KIND_LABELS[info.kind]}，{_size(info.size_bytes)}，结构版本 {info.revision}，数据版本 {info.data_version}，"
          f"用时 {info.seconds:.1f} 秒。")
    print(f"  恢复命令：python -m data restore --from {info.path}")
    return 0


def _cmd_restore(args) -> int:
    from data.engine import database_url

    engine = get_engine(database_url(args.database_url))
    contents = inspect_backup(args.source)
    _refuse_mismatch(contents.kind, engine, contents.path)
    if not args.yes:
        newest = contents.last_audit_at.strftime("%Y-%m-%d %H:%M") if contents.last_audit_at else "无"
        print(f"即将用备份 {contents.path}（{KIND_LABELS[contents.kind]}，结构版本 {contents.revision}，"
              f"数据版本 {contents.data_version}，最后一条审计记录 {newest}）")
        print(f"覆盖数据库 {_where(engine)} 的全部数据。之后的改动将丢失，所有用户需重新登录。")
        try:
            answer = input("确认恢复请输入 yes：")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            print("已取消，数据库未改动。")
            return 1
    info = restore(contents.path, engine, who="system")
    print(f"已从 {info.path} 恢复数据库 {_where(engine)}，用时 {info.seconds:.1f} 秒。")
    if info.upgraded:
        print(f"  备份的结构版本 {info.backup_revision} 较旧，已升级到 {info.revision}。")
    print(f"  数据版本 → {info.data_version}（看板缓存随之失效）；所有登录会话已结束。")
    if info.audit_carried:
        print(f"  已补回备份之后的 {info.audit_carried} 条审计记录。")
    return 0


def register_cli(subparsers) -> None:
    """Add the `backup` and `restore` subcommands to `python -m data` (data.cli.build_parser)."""
    p = subparsers.add_parser("backup", help="备份数据库到一个文件（看板运行时也可执行）")
    p.add_argument("--out", required=True, help="备份文件路径（SQLite 为 .db 文件，PostgreSQL 为 pg_dump 自定义格式）")
    p.add_argument("--force", action="store_true", help="备份文件已存在时覆盖")
    p.set_defaults(func=_cmd_backup)
    p = subparsers.add_parser("restore", help="用备份文件覆盖数据库（会要求确认）")
    p.add_argument("--from", dest="source", required=True, help="备份文件路径")
    p.add_argument("--yes", action="store_true", help="不再询问，直接恢复")
    p.set_defaults(func=_cmd_restore)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data.backup", description="民政一张图 数据库备份与恢复")
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
