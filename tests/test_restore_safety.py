"""A restore trusts nothing in a backup but its rows (issue 17, items 18–20).

* PostgreSQL: a backup carrying code (a function behind a CHECK constraint, a trigger, a known function with
  another body) is refused or loses that code; nothing of it runs, on the restore or on any later write. A
  role that is not a superuser backs up and restores.
* SQLite: a backup whose schema differs in any way from the migrations (no audit triggers, an extra trigger,
  a missing table, an extra column …) is refused with the difference named; the accounts it would bring are
  shown before the restore is confirmed.
* An older backup is upgraded in a scratch copy: a failing upgrade changes nothing, is audited and explained
  in Chinese. Live audit entries are carried over by identity, never by clock.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import fresh_database, pg_admin_url
from data.security import auth
from data.db import migrate
from data.security.audit import audit_entries
from data.ops.backup import BackupError, backup, restore
from data.db.engine import get_engine
from data.db.migrate import current_revision, head_revision, upgrade

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Restore#2024x"


def kind_of(url: str) -> str:
    return make_url(url).get_backend_name()


def users_of(url: str) -> dict[str, str]:
    return dict(auth.users(get_engine(url))[["username", "role"]].itertuples(index=False, name=None))


def audit_rows(url: str) -> list[tuple]:
    """Every audit entry by content (no id), oldest first."""
    with get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT at, username, role, action, target, detail, ok FROM audit_log ORDER BY id"))]


def cli(*args, url: str, stdin: str = ""):
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, input=stdin, timeout=300)


# --- item 18: PostgreSQL restores run nothing from the backup -------------------------------------

@pytest.fixture
def marker():
    """A schema outside the restored one, whose table counts every time the payload runs, and a file the
    payload touches on the server (COPY … TO PROGRAM); both must stay untouched."""
    name = f"mz_marker_{uuid.uuid4().hex[:10]}"
    path = Path(f"/tmp/{name}")
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
        conn.execute(text(f'CREATE TABLE "{name}".hits (at timestamp)'))
    try:
        yield name, path
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()
        path.unlink(missing_ok=True)


def hits(name: str) -> int:
    admin = create_engine(pg_admin_url())
    try:
        with admin.connect() as conn:
            return conn.execute(text(f'SELECT count(*) FROM "{name}".hits')).scalar()
    finally:
        admin.dispose()


def payload(name: str, path: Path) -> str:
    """The body of a harmless payload: one row in the marker table, one file touched by the server."""
    return (f"INSERT INTO \"{name}\".hits VALUES (clock_timestamp()); "
            f"EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {path}''';")


def plant_check_and_trigger(url: str, name: str, path: Path) -> None:
    """A function behind a CHECK constraint on `meta` (fired by every row a restore loads) and a trigger on
    `users` (fired by every later sign-in or account change). Planting them does not fire them."""
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"""CREATE FUNCTION mz_evil() RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN IF current_setting('mz.planting', true) = 'on' THEN RETURN true; END IF;
            {payload(name, path)} RETURN true; END $$"""))
        conn.execute(text("""CREATE FUNCTION mz_evil_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM mz_evil(); RETURN NEW; END $$"""))
        conn.execute(text("SET LOCAL mz.planting = 'on'"))
        conn.execute(text("INSERT INTO meta (key, value) VALUES ('planted', 'yes')"))
        conn.execute(text("ALTER TABLE meta ADD CONSTRAINT meta_evil CHECK (mz_evil())"))
        conn.execute(text("CREATE TRIGGER users_evil BEFORE INSERT OR UPDATE ON users "
                          "FOR EACH ROW EXECUTE FUNCTION mz_evil_trigger()"))


def test_pg_backup_with_code_behind_a_check_constraint_is_refused_and_nothing_runs(marker, tmp_path):
    name, path = marker
    with fresh_database("postgresql", tmp_path) as source, fresh_database("postgresql", tmp_path) as target:
        upgrade(get_engine(source))
        upgrade(get_engine(target))
        auth.create_user(get_engine(source), "planted", PASSWORD, "admin", by="system")
        auth.create_user(get_engine(target), "keeper", PASSWORD, "office", by="system")
        plant_check_and_trigger(source, name, path)
        evil = backup(source, tmp_path / "evil.bak")
        before_users, before_audit = users_of(target), audit_rows(target)

        with pytest.raises(BackupError) as refused:
            restore(evil.path, target, who="keeper")
        message = str(refused.value)
        assert "多出函数 mz_evil()" in message and "多出触发器 users users_evil" in message
        assert "未恢复" in message and "Traceback" not in message
        assert hits(name) == 0 and not path.exists()

        # the live database is as it was (one more entry: the refusal, audited)
        assert users_of(target) == before_users
        assert audit_rows(target)[:-1] == before_audit
        last = audit_entries(get_engine(target)).iloc[0]
        assert (last.action, last.username, bool(last.ok)) == ("restore", "keeper", False)
        assert "多出函数" in last.detail
        auth.create_user(get_engine(target), "later", PASSWORD, "office", by="system")
        assert hits(name) == 0 and not path.exists()
        with get_engine(target).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'mz\\_evil%' "
                                     "AND pronamespace = current_schema()::regnamespace")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'mz\\_restore\\_%' "
                                     "AND nspname LIKE '%\\_' || current_schema()")
                                ).scalar() == 0, "the scratch schema was left behind"

        # the payload is live: the same write in the source fires it (so the assertions above can fail)
        auth.create_user(get_engine(source), "fires", PASSWORD, "office", by="system")
        assert hits(name) == 1


def test_pg_known_function_with_another_body_is_not_restored(marker, tmp_path):
    """The archive lists the same objects as the migrations, but the audit log's append-only function has a
    body that lets deletes through (and runs the payload): only rows are restored, the function is the
    migrations' own."""
    name, path = marker
    with fresh_database("postgresql", tmp_path) as source, fresh_database("postgresql", tmp_path) as target:
        upgrade(get_engine(source))
        upgrade(get_engine(target))
        auth.create_user(get_engine(source), "boss", PASSWORD, "admin", by="system")
        with get_engine(source).begin() as conn:
            conn.execute(text(f"""CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
                LANGUAGE plpgsql AS $$ BEGIN {payload(name, path)} RETURN OLD; END $$"""))
        tampered = backup(source, tmp_path / "tampered.bak")

        done = restore(tampered.path, target)
        assert users_of(target) == {"boss": "admin"}
        assert done.revision == head_revision()
        with get_engine(target).connect() as conn:
            body = conn.execute(text("SELECT pg_get_functiondef('audit_log_append_only'::regproc)")).scalar()
        assert name not in body and "PROGRAM" not in body
        with pytest.raises(Exception, match="只能追加"):
            with get_engine(target).begin() as conn:
                conn.execute(text("DELETE FROM audit_log"))
        assert hits(name) == 0 and not path.exists()


def test_pg_backup_and_restore_need_no_superuser(tmp_path):
    """The deployment's role: an ordinary login role owning its database (and so its public schema)."""
    role, db = f"mz_app_{uuid.uuid4().hex[:8]}", f"mz_db_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{db}" OWNER "{role}"'))
    url = make_url(pg_admin_url()).set(username=role, database=db).render_as_string(hide_password=False)
    try:
        engine = get_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar() is False
        upgrade(engine)
        auth.create_user(engine, "boss", PASSWORD, "admin", by="system")
        info = backup(url, tmp_path / "app.bak")
        auth.create_user(engine, "later", PASSWORD, "office", by="system")
        done = restore(info.path, url)
        assert users_of(url) == {"boss": "admin"} and done.schema == "public"
        assert [a for a in audit_entries(engine)["action"]][:3] == ["restore", "user_create", "backup"]
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


# --- item 19: a SQLite backup must have exactly the migrations' schema ---------------------------

@pytest.fixture
def lite(tmp_path):
    """A SQLite database at the current schema with one account, and a clean backup of it."""
    with fresh_database("sqlite", tmp_path) as url:
        engine = get_engine(url)
        upgrade(engine)
        auth.create_user(engine, "keeper", PASSWORD, "office", by="system")
        yield url, backup(url, tmp_path / "clean.bak").path


def tampered(clean: Path, tmp_path: Path, *statements: str) -> Path:
    out = tmp_path / f"tampered_{uuid.uuid4().hex[:6]}.bak"
    shutil.copyfile(clean, out)
    conn = sqlite3.connect(out)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()
    return out


@pytest.mark.parametrize("statements, named", [
    (["DROP TRIGGER audit_log_no_delete", "DROP TRIGGER audit_log_no_update"],
     ["缺少触发器 audit_log_no_delete", "缺少触发器 audit_log_no_update"]),
    (["CREATE TRIGGER users_promote AFTER UPDATE ON users BEGIN "
      "UPDATE users SET role = 'admin' WHERE id = NEW.id AND role <> 'admin'; END"],
     ["多出触发器 users_promote"]),
    (["DROP TABLE site_scenarios"], ["缺少表 site_scenarios"]),
    (["ALTER TABLE users ADD COLUMN backdoor TEXT"], ["表 users 的列不同（多出列 backdoor）"]),
    (["ALTER TABLE users DROP COLUMN active"], ["表 users 的列不同（缺少列 active）"]),
    (["CREATE VIEW admins AS SELECT * FROM users WHERE role = 'admin'"], ["多出视图 admins"]),
    (["DROP INDEX ix_audit_log_at"], ["缺少索引 ix_audit_log_at"]),
    (["DROP TRIGGER audit_log_no_delete",
      "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log WHEN 0 BEGIN SELECT 1; END"],
     ["触发器 audit_log_no_delete 的定义不同"]),
], ids=["no-audit-triggers", "promoting-trigger", "missing-table", "extra-column", "missing-column", "extra-view",
        "missing-index", "defused-trigger"])
def test_sqlite_backup_with_another_schema_is_refused(lite, tmp_path, statements, named):
    url, clean = lite
    bad = tampered(clean, tmp_path, *statements)
    engine = get_engine(url)
    auth.create_user(engine, "after", PASSWORD, "office", by="system")
    before_users, before_audit = users_of(url), audit_rows(url)
    with pytest.raises(BackupError) as refused:
        restore(bad, url, who="keeper")
    message = str(refused.value)
    assert "数据库结构与本程序的结构版本" in message and "未恢复" in message
    for difference in named:
        assert difference in message
    assert users_of(url) == before_users
    assert audit_rows(url)[:-1] == before_audit
    last = audit_entries(engine).iloc[0]
    assert (last.action, last.username, bool(last.ok)) == ("restore", "keeper", False)
    # the clean backup of the same database still restores
    restore(clean, url)
    assert users_of(url) == {"keeper": "office"}


def test_sqlite_confirmation_lists_the_accounts_the_backup_brings(lite, tmp_path):
    """An extra admin account is data: not refused, but shown (username, role, subdistrict, active) before the
    restore is confirmed, on the API and on the command line."""
    url, clean = lite
    with_intruder = tampered(clean, tmp_path)
    conn = sqlite3.connect(with_intruder)
    with conn:
        conn.execute("INSERT INTO users (username, display_name, role, subdistrict_code, password_hash, active, "
                     "failed_attempts, must_change_password, created_at, version) SELECT 'intruder', 'x', 'admin', "
                     "NULL, password_hash, 1, 0, 0, created_at, 1 FROM users WHERE username = 'keeper'")
        conn.execute("UPDATE users SET active = 0 WHERE username = 'keeper'")
    conn.close()

    shown = []
    from data.ops.backup import RestoreCancelled

    with pytest.raises(RestoreCancelled):
        restore(with_intruder, url, confirm=lambda contents: shown.append(contents.accounts) or False)
    assert [(a.username, a.role, a.subdistrict_code, a.active) for a in shown[0]] == [
        ("keeper", "office", None, False), ("intruder", "admin", None, True)]
    assert users_of(url) == {"keeper": "office"}

    declined = cli("restore", "--from", str(with_intruder), url=url, stdin="no\n")
    assert declined.returncode == 1, declined.stderr
    lines = declined.stdout.splitlines()
    assert any("intruder" in l and "管理员" in l and "启用" in l for l in lines)
    assert any("keeper" in l and "业务科室" in l and "停用" in l for l in lines)
    assert "启用的管理员 1 个：intruder" in declined.stdout and "已取消" in declined.stdout
    assert users_of(url) == {"keeper": "office"}

    bad = tampered(clean, tmp_path, "DROP TRIGGER audit_log_no_delete")
    refused = cli("restore", "--from", str(bad), url=url, stdin="yes\n")
    assert refused.returncode == 2 and "缺少触发器 audit_log_no_delete" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout and "确认恢复" not in refused.stdout

    unattended = cli("restore", "--from", str(with_intruder), "--yes", url=url)  # a scheduled job logs them too
    assert unattended.returncode == 0, unattended.stderr
    assert "启用的管理员 1 个：intruder" in unattended.stdout and "确认恢复请输入" not in unattended.stdout
    assert users_of(url) == {"keeper": "office", "intruder": "admin"}


# --- item 20: upgrade in a scratch copy; audit carried by identity --------------------------------

FAILING_REVISION = '''"""test only: a unique key the older rows break (as a real migration adding unique keys may)"""
from alembic import op

revision = "zz_fail"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ux_meta_value_test", "meta", ["value"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_meta_value_test", table_name="meta")
'''


@pytest.fixture
def failing_migrations(tmp_path, monkeypatch):
    """The project's migrations plus one more whose upgrade fails on duplicate `meta` values."""
    old_head = head_revision()
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "9999_fail_test.py").write_text(FAILING_REVISION.format(down=old_head))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    assert head_revision() == "zz_fail"
    return old_head


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_failing_upgrade_changes_nothing_and_is_audited(kind, failing_migrations, tmp_path):
    old_head = failing_migrations
    with fresh_database(kind, tmp_path) as older, fresh_database(kind, tmp_path) as live:
        upgrade(get_engine(older), old_head)
        with get_engine(older).begin() as conn:
            conn.execute(text("INSERT INTO meta (key, value) VALUES ('a', 'same'), ('b', 'same')"))
        old = backup(older, tmp_path / "older.bak")
        assert old.revision == old_head

        engine = get_engine(live)
        upgrade(engine)
        auth.create_user(engine, "keeper", PASSWORD, "office", by="system")
        before_users, before_audit = users_of(live), audit_rows(live)
        with pytest.raises(BackupError) as failed:
            restore(old.path, live, who="keeper")
        message = str(failed.value)
        assert f"结构版本 {old_head} 较旧，升级到 zz_fail 时失败" in message and "数据库未作任何改动" in message
        assert "Traceback" not in message and "[SQL" not in message
        assert current_revision(engine) == "zz_fail"
        assert users_of(live) == before_users
        assert audit_rows(live)[:-1] == before_audit
        last = audit_entries(engine).iloc[0]
        assert (last.action, last.username, bool(last.ok)) == ("restore", "keeper", False)
        assert "升级到 zz_fail 时失败" in last.detail
        auth.sign_in(engine, "keeper", PASSWORD)  # the live database still works


def test_future_dated_audit_entry_in_the_backup_keeps_every_live_entry(db_url, tmp_path):
    engine = get_engine(db_url)
    auth.create_user(engine, "keeper", PASSWORD, "office", by="system")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_log (at, username, action, ok) "
                          "VALUES (:at, 'clock', 'settings', :ok)"), {"at": datetime(2099, 1, 1), "ok": True})
    info = backup(db_url, tmp_path / "future.bak")
    auth.create_user(engine, "after", PASSWORD, "office", by="system")
    auth.sign_in(engine, "keeper", PASSWORD)
    live_before = audit_rows(db_url)

    done = restore(info.path, db_url, who="keeper")
    after = audit_rows(db_url)
    assert done.audit_carried == 3  # the backup entry, the account made after it, the sign-in
    remaining = list(after)
    for row in live_before:  # every live entry is still there, once
        assert row in remaining, f"live audit entry lost: {row[3]}"
        remaining.remove(row)
    assert [r[3] for r in remaining] == ["restore"]
    assert users_of(db_url) == {"keeper": "office"}


def test_cancel_at_the_confirmation_changes_nothing(db_url, tmp_path):
    """The confirmation comes after the backup was checked and staged, before anything is replaced; on
    PostgreSQL it shows the accounts read from the staged rows, and cancelling leaves no scratch schema."""
    from data.ops.backup import RestoreCancelled

    engine = get_engine(db_url)
    auth.create_user(engine, "boss", PASSWORD, "admin", by="system")
    info = backup(db_url, tmp_path / "c.bak")
    auth.create_user(engine, "later", PASSWORD, "office", by="system")
    before_users, before_audit = users_of(db_url), audit_rows(db_url)
    seen = []
    with pytest.raises(RestoreCancelled):
        restore(info.path, db_url, confirm=lambda contents: seen.append(contents) or False)
    assert [(a.username, a.role, a.active) for a in seen[0].accounts] == [("boss", "admin", True)]
    assert seen[0].revision == head_revision()
    assert users_of(db_url) == before_users and audit_rows(db_url) == before_audit  # not even audited
    if kind_of(db_url) == "postgresql":
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'mz\\_restore\\_%' "
                                     "AND nspname LIKE '%\\_' || current_schema()")
                                ).scalar() == 0
    done = restore(info.path, db_url, confirm=lambda contents: True)
    assert users_of(db_url) == {"boss": "admin"} and done.audit_carried == 2


def test_audit_entries_written_during_a_restore_are_never_lost(db_url, tmp_path):
    """A real thread keeps writing audit entries while the restore runs: every entry whose write succeeded is
    in the log afterwards (carried over, or written after the swap); none falls between reading and replacing."""
    import threading

    from data.security.audit import record_now

    engine = get_engine(db_url)
    auth.create_user(engine, "keeper", PASSWORD, "office", by="system")
    with engine.begin() as conn:  # some bulk, so the restore takes a moment
        for i in range(300):
            conn.execute(text("INSERT INTO meta (key, value) VALUES (:k, :v)"), {"k": f"bulk{i}", "v": "x" * 150})
    info = backup(db_url, tmp_path / "busy.bak")
    written, stop = [], threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            try:
                record_now(engine, "writer", "settings", f"w{i}")
                written.append(f"w{i}")
            except Exception:  # refused while the database is swapped: never written, so nothing to keep
                pass
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(3):
            restore(info.path, db_url)
    finally:
        stop.set()
        thread.join(timeout=60)
    targets = set(audit_entries(engine, limit=1_000_000)["target"])
    lost = [w for w in written if w not in targets]
    assert len(written) > 10 and not lost, f"{len(lost)} of {len(written)} audit entries lost: {lost[:5]}"


def test_sqlite_restore_leaves_exactly_the_migrations_schema(lite, tmp_path):
    """Whatever the live file held (here an extra view and trigger), afterwards it has the schema the migrations
    make — the same one the backup was checked against — and passes SQLite's integrity check."""
    from data.ops.backup import _sqlite_reference, _sqlite_schema

    url, clean = lite
    live = Path(make_url(url).database)
    with get_engine(url).begin() as conn:
        conn.execute(text("CREATE VIEW stray AS SELECT 1"))
        conn.execute(text("CREATE TRIGGER stray_trigger AFTER INSERT ON meta BEGIN SELECT 1; END"))
    restore(clean, url)
    assert _sqlite_schema(live) == _sqlite_reference(str(migrate.MIGRATIONS_DIR), head_revision())
    with sqlite3.connect(live) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert users_of(url) == {"keeper": "office"}
