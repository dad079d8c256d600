"""Backups and restores on both engines: identical data after a round trip, the refusals, the audit trail,
the data version that never goes back, and the command line end to end."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from conftest import fresh_database, pg_admin_url
from data.security import auth
from data.security.audit import audit_entries
from data.ops.backup import BackupError, backup, inspect_backup, register_cli, restore
from data.db import rollups
from data.db.engine import DatabaseMissing, create_sqlite_file, get_engine
from data.db.migrate import current_revision, head_revision, upgrade
from data.db.models import Base, Subdistrict
from data.queries.common import bump_data_version, data_version

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Backup#2024x"


def kind_of(url: str) -> str:
    return make_url(url).get_backend_name()


@pytest.fixture
def fresh_url(demo_url, tmp_path):
    """An empty database (no tables) of the same engine as demo_url."""
    with fresh_database(kind_of(demo_url), tmp_path) as url:
        yield url


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every table's rows ordered by primary key."""
    engine = get_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
        out["alembic_version"] = [tuple(r) for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return out


def assert_same_data(after: dict, before: dict) -> None:
    """Identical, except what a restore changes on purpose: the data version (bumped), sessions (ended)
    and the audit log (entries appended after the backup's)."""
    assert after.keys() == before.keys()
    for name in before:
        a, b = after[name], before[name]
        if name == "meta":
            a = [r for r in a if r[0] != "data_version"]
            b = [r for r in b if r[0] != "data_version"]
        elif name == "user_sessions":  # (token_hash, user_id, created_at, last_seen_at, expires_at, ended_at)
            assert all(r[5] is not None for r in a), "a session survived the restore"
            a, b = [r[:5] for r in a], [r[:5] for r in b]
        elif name == "audit_log":
            a = a[:len(b)]
        elif name == "aid_counts_state":  # version counters, bumped by the restore's copy; whether the counts are
            a, b = [], []                 # current is checked apart (they are recomputed, not copied)
        assert a == b, f"table {name} differs after the restore"


def audit_actions(url: str) -> list[str]:
    return audit_entries(get_engine(url), limit=100000)["action"].tolist()[::-1]  # oldest first


def modify(url: str) -> None:
    """Changes a restore must undo: a new account, removed and edited rows, a higher data version."""
    engine = get_engine(url)
    auth.create_user(engine, "after_backup", PASSWORD, "office", by="system")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM aid_payments WHERE id IN (SELECT id FROM aid_payments ORDER BY id LIMIT 50)"))
        conn.execute(Subdistrict.__table__.update().values(name="改过的名字"))
        for _ in range(5):
            bump_data_version(conn)


# --- round trips ----------------------------------------------------------------------------------

def test_round_trip_gives_identical_data(demo_url, fresh_url, tmp_path):
    demo = get_engine(demo_url)
    before, version = snapshot(demo_url), data_version(demo)
    info = backup(demo_url, tmp_path / "demo.bak")
    assert info.kind == kind_of(demo_url) and info.revision == head_revision() and info.size_bytes > 0
    assert inspect_backup(info.path).revision == head_revision()

    # into a fresh database (on PostgreSQL: another schema than the one dumped)
    done = restore(info.path, fresh_url)
    assert_same_data(snapshot(fresh_url), before)
    with get_engine(fresh_url).connect() as conn:  # the per-day totals (migration 0010) as well: counted once
        assert rollups.differences(conn) == []
    assert rollups.period_counts_current(get_engine(fresh_url))  # the distinct counts recomputed (0012)
    assert done.data_version == data_version(get_engine(fresh_url)) == version + 1
    assert audit_actions(fresh_url)[-1] == "restore"

    # over a modified database, from a backup of another database
    modify(fresh_url)
    modified_version = data_version(get_engine(fresh_url))
    restore(info.path, fresh_url)
    assert_same_data(snapshot(fresh_url), before)
    assert rollups.period_counts_current(get_engine(fresh_url))
    assert data_version(get_engine(fresh_url)) == modified_version + 1
    with pytest.raises(auth.AuthError):  # the account made after the backup is gone
        auth.sign_in(get_engine(fresh_url), "after_backup", PASSWORD)

    # over a modified database, from its own backup (on PostgreSQL: the same schema)
    own_before = snapshot(fresh_url)
    own = backup(fresh_url, tmp_path / "own.bak")
    modify(fresh_url)
    restore(own.path, fresh_url)
    assert_same_data(snapshot(fresh_url), own_before)
    actions = audit_actions(fresh_url)
    # nothing audited is lost: the backup and the changes after it are appended again, then the restore
    assert actions[-3:] == ["backup", "user_create", "restore"]
    engine = get_engine(fresh_url)
    auth.create_user(engine, "after_restore", PASSWORD, "leader", by="system")  # sequences restored too
    assert auth.sign_in(engine, "after_restore", PASSWORD).principal.role == "leader"


def test_audit_log_stays_append_only_after_restore(db_url, tmp_path):
    engine = get_engine(db_url)
    auth.create_user(engine, "keeper", PASSWORD, "office", by="system")
    info = backup(db_url, tmp_path / "a.bak", who="keeper")
    auth.sign_in(engine, "keeper", PASSWORD)
    done = restore(info.path, db_url, who="keeper")
    assert done.audit_carried == 2
    log = audit_entries(engine)
    newest = log.iloc[0]
    assert (newest.action, newest.username, newest.target, bool(newest.ok)) == ("restore", "keeper", str(info.path), True)
    assert '"audit_carried": 2' in newest.detail
    assert log["action"].tolist()[1:4] == ["signin", "backup", "user_create"]
    backup_entry = log[log.action == "backup"].iloc[0]
    assert backup_entry.target == str(info.path) and '"revision": "' in backup_entry.detail
    with pytest.raises(DBAPIError, match="只能追加"):  # the database triggers came back with the tables
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))


def test_sessions_end_and_the_data_version_never_goes_back(db_url, tmp_path):
    engine = get_engine(db_url)
    auth.create_user(engine, "viewer", PASSWORD, "leader", by="system")
    token = auth.sign_in(engine, "viewer", PASSWORD).token
    info = backup(db_url, tmp_path / "v.bak")
    assert info.data_version == 0
    with engine.begin() as conn:
        for _ in range(3):
            bump_data_version(conn)
    assert restore(info.path, db_url).data_version == 4  # max(3 live, 0 in the backup) + 1
    assert auth.resume(engine, token) is None            # everyone signs in again
    assert restore(info.path, db_url).data_version == 5
    assert auth.sign_in(engine, "viewer", PASSWORD).principal.username == "viewer"


def test_older_backup_is_upgraded_on_restore(bare_db_url, tmp_path):
    old = get_engine(bare_db_url)
    upgrade(old, "0003")
    info = backup(bare_db_url, tmp_path / "old.bak")  # before the audit log existed: no entry, no error
    assert info.revision == "0003"
    with fresh_database(kind_of(bare_db_url), tmp_path) as url:
        upgrade(get_engine(url))
        done = restore(info.path, url)
        assert done.upgraded and done.backup_revision == "0003"
        assert current_revision(get_engine(url)) == head_revision()
        assert audit_actions(url) == ["restore"]


# --- refusals -------------------------------------------------------------------------------------

def test_existing_destination_is_not_overwritten_without_force(db_url, tmp_path):
    dest = tmp_path / "exists.bak"
    dest.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="已存在.*--force"):
        backup(db_url, dest)
    assert dest.read_bytes() == b"keep me"
    assert backup(db_url, dest, force=True).size_bytes == dest.stat().st_size > 7
    with pytest.raises(BackupError, match="目录.*不存在"):
        backup(db_url, tmp_path / "no" / "such" / "dir.bak")


def test_missing_or_corrupt_source_is_refused_and_nothing_changes(db_url, tmp_path):
    engine = get_engine(db_url)
    auth.create_user(engine, "stays", PASSWORD, "office", by="system")
    with pytest.raises(BackupError, match="不存在"):
        restore(tmp_path / "missing.bak", db_url)
    junk = tmp_path / "junk.bak"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(BackupError, match="不是有效的备份文件"):
        restore(junk, db_url)
    good = backup(db_url, tmp_path / "good.bak")
    blob = good.path.read_bytes()
    truncated = tmp_path / "truncated.bak"
    truncated.write_bytes(blob[: len(blob) // 2])
    auth.create_user(engine, "after", PASSWORD, "office", by="system")
    version = data_version(engine)
    with pytest.raises(BackupError, match="损坏|不完整|恢复失败"):
        restore(truncated, db_url)
    assert set(auth.users(engine)["username"]) == {"stays", "after"}
    assert data_version(engine) == version


def test_uninitialised_database_has_nothing_to_back_up(bare_db_url, tmp_path):
    if kind_of(bare_db_url) == "sqlite":
        Path(bare_db_url.removeprefix("sqlite:///")).unlink()  # no file at all first
        with pytest.raises(DatabaseMissing, match="找不到数据库文件"):  # a missing file is never made by a backup
            backup(bare_db_url, tmp_path / "empty.bak")
        create_sqlite_file(bare_db_url)
    with pytest.raises(BackupError, match="尚未初始化"):
        backup(bare_db_url, tmp_path / "empty.bak")
    assert not (tmp_path / "empty.bak").exists()


def test_restore_into_a_missing_sqlite_file(tmp_path):
    """The message for a deleted database file says to restore a backup: that works, and makes the file 0600."""
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(get_engine(url))
        auth.create_user(get_engine(url), "keeper", PASSWORD, "office", by="system")
        info = backup(url, tmp_path / "m.bak")
        live = Path(make_url(url).database)
        get_engine(url).dispose()
        live.unlink()
        done = restore(info.path, url)
        assert live.exists() and (live.stat().st_mode & 0o777) == 0o600
        assert set(auth.users(get_engine(url))["username"]) == {"keeper"} and done.audit_carried == 0
        assert audit_actions(url)[-2:] == ["user_create", "restore"]


def test_backup_from_a_newer_program_is_refused(tmp_path):
    import sqlite3

    with fresh_database("sqlite", tmp_path) as url:
        upgrade(get_engine(url))
        info = backup(url, tmp_path / "new.bak")
        conn = sqlite3.connect(info.path)
        with conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.close()
        with pytest.raises(BackupError, match="较新版本的程序.*9999"):
            restore(info.path, url)


def test_engine_mismatch_is_refused(tmp_path):
    with fresh_database("sqlite", tmp_path) as lite, fresh_database("postgresql", tmp_path) as pg:
        upgrade(get_engine(lite))
        upgrade(get_engine(pg))
        lite_bak = backup(lite, tmp_path / "lite.bak")
        pg_bak = backup(pg, tmp_path / "pg.bak")
        with pytest.raises(BackupError, match="引擎不一致.*SQLite 数据库的备份.*PostgreSQL"):
            restore(lite_bak.path, pg)
        with pytest.raises(BackupError, match="引擎不一致.*PostgreSQL 数据库的备份.*SQLite"):
            restore(pg_bak.path, lite)
        assert inspect_backup(pg_bak.path).kind == "postgresql"


def test_missing_pg_dump_is_explained(tmp_path, monkeypatch):
    with fresh_database("postgresql", tmp_path) as pg:
        upgrade(get_engine(pg))
        monkeypatch.delenv("MZ_PG_BINDIR", raising=False)
        monkeypatch.setenv("PATH", str(tmp_path))  # no PostgreSQL client tools on the path
        with pytest.raises(BackupError, match="未找到 pg_dump.*postgresql-client"):
            backup(pg, tmp_path / "x.bak")
        assert not (tmp_path / "x.bak").exists()


def test_whole_postgresql_database_uses_its_public_schema(tmp_path):
    """The production layout: a database of its own, no search_path in the URL, tables in `public`."""
    name = f"mz_bk_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        engine = get_engine(url)
        upgrade(engine)
        auth.create_user(engine, "boss", PASSWORD, "admin", by="system")
        before = snapshot(url)
        info = backup(url, tmp_path / "whole.bak")
        assert info.schema == "public"
        auth.create_user(engine, "later", PASSWORD, "office", by="system")
        restore(info.path, url)
        assert_same_data(snapshot(url), before)
        assert audit_actions(url)[-3:] == ["backup", "user_create", "restore"]
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- command line ---------------------------------------------------------------------------------

def cli(*args, url, stdin: str = ""):
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "data.ops.backup", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, input=stdin, timeout=180)


def test_register_cli_adds_both_subcommands():
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["backup", "--out", "x.bak", "--force"])
    assert (args.out, args.force, callable(args.func)) == ("x.bak", True, True)
    args = parser.parse_args(["restore", "--from", "x.bak", "--yes"])
    assert (args.source, args.yes) == ("x.bak", True)


def test_command_line_end_to_end(db_url, tmp_path):
    engine = get_engine(db_url)
    auth.create_user(engine, "first", PASSWORD, "office", by="system")
    out = tmp_path / "cli.bak"
    made = cli("backup", "--out", str(out), url=db_url)
    assert made.returncode == 0, made.stderr
    assert "已备份数据库" in made.stdout and "结构版本 " + head_revision() in made.stdout and out.exists()

    again = cli("backup", "--out", str(out), url=db_url)
    assert again.returncode == 2 and "已存在" in again.stderr and "--force" in again.stderr
    assert "Traceback" not in again.stderr

    auth.create_user(engine, "second", PASSWORD, "office", by="system")
    declined = cli("restore", "--from", str(out), url=db_url, stdin="no\n")
    assert declined.returncode == 1 and "确认恢复请输入 yes" in declined.stdout and "已取消" in declined.stdout
    assert "second" in set(auth.users(engine)["username"])

    confirmed = cli("restore", "--from", str(out), url=db_url, stdin="yes\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "已从" in confirmed.stdout and "所有登录会话已结束" in confirmed.stdout
    assert set(auth.users(get_engine(db_url))["username"]) == {"first"}

    missing = cli("restore", "--from", str(tmp_path / "nope.bak"), "--yes", url=db_url)
    assert missing.returncode == 2 and "备份文件" in missing.stderr and "不存在" in missing.stderr
    assert "Traceback" not in missing.stderr and "确认" not in missing.stdout
