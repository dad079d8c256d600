"""Issue 22 part 3 on both engines: the audit log is a hash chain that `python -m data audit verify` proves; a changed,
deleted or inserted row is named; rows older than six months move to a hashed gzip archive that verifies on its own,
and nothing younger than six months can be archived; the chain survives concurrency, a migration of old rows and a
backup/restore round trip."""
from __future__ import annotations

import gzip
import json
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cli import main as cli_main
from data.db.engine import get_engine
from data.db.migrate import upgrade
from data.db.models.auth import AuditEntry
from data.ops.audit_archive import ArchiveRefused, archive, months_before, verify_archive, verify_chain
from data.security import auth
from data.security.audit import record, record_now

PW = "Chain#2024pass"


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditEntry.__table__)).scalar()


def ids(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars())


def tamper(engine, sql: str, **params) -> None:
    """What someone with the database's owner rights could do: switch the append-only trigger off, change rows."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"))
            conn.execute(text(sql), params)
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
            conn.execute(text(sql), params)


def cli(capsys, url: str, *args: str) -> tuple[int, str]:
    code = cli_main(["--database-url", url, "audit", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def log(db_url):
    """A small log written the usual ways: accounts, sign-ins (one wrong), an entry on its own, a transaction."""
    engine = get_engine(db_url)
    auth.create_user(engine, "chen", PW, "office", by="system")
    auth.sign_in(engine, "chen", PW)
    with pytest.raises(auth.AuthError):
        auth.sign_in(engine, "chen", "wrong-password-1")
    record_now(engine, "system", "backup", "b.bak", {"bytes": 1})
    with engine.begin() as conn:
        record(conn, "chen", "edit", "findings:F1", {"before": "a", "after": "b"})
        record(conn, "chen", "edit", "findings:F2", {"before": "c", "after": "d"})
    return engine


def test_an_untouched_chain_verifies(log, db_url, capsys):
    report = verify_chain(log)
    assert report.ok and report.rows == count(log) == 6
    code, out = cli(capsys, db_url, "verify")
    assert code == 0
    assert "共 6 条" in out and "结果：通过" in out
    # the verification is itself in the log, and still verifies
    assert verify_chain(log).ok and verify_chain(log).rows == 7


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(log):
    before = count(log)
    with pytest.raises(RuntimeError):
        with log.begin() as conn:
            record(conn, "chen", "edit", "findings:F3")
            raise RuntimeError("the write failed")
    record_now(log, "chen", "signout", "chen")
    assert count(log) == before + 1 and verify_chain(log).ok


def test_a_changed_detail_is_named(log, db_url, capsys):
    victim = ids(log)[2]
    tamper(log, "UPDATE audit_log SET detail = '{\"failures\": 0}' WHERE id = :i", i=victim)
    report = verify_chain(log)
    assert not report.ok and report.broken_id == victim and "被修改" in report.reason
    code, out = cli(capsys, db_url, "verify")
    assert code == 1
    assert f"第一处断裂在记录 #{victim}" in out and "结果：未通过" in out


def test_a_changed_row_with_its_hash_recomputed_is_still_caught(log):
    from data.security.audit import row_hash

    victim = ids(log)[1]
    with log.connect() as conn:
        row = dict(conn.execute(select(AuditEntry.__table__).where(AuditEntry.id == victim)).one()._mapping)
    row["detail"] = '{"reason": "nothing happened"}'
    tamper(log, "UPDATE audit_log SET detail = :d, row_hash = :h WHERE id = :i", d=row["detail"],
           h=row_hash(row), i=victim)
    report = verify_chain(log)
    assert not report.ok and report.broken_id == ids(log)[2] and "没有接续前一条" in report.reason


def test_a_deleted_middle_row_is_found(log, db_url, capsys):
    rows = ids(log)
    tamper(log, "DELETE FROM audit_log WHERE id = :i", i=rows[3])
    report = verify_chain(log)
    assert not report.ok and report.broken_id == rows[4]
    code, out = cli(capsys, db_url, "verify")
    assert code == 1 and f"#{rows[4]}" in out and f"记录 #{rows[2]}" in out


def test_an_inserted_row_is_found(log):
    with log.begin() as conn:  # inserting needs no trigger switched off; the row has no hash to show for itself
        conn.execute(text("INSERT INTO audit_log (at, username, action, ok) VALUES (:at, 'chen', 'signin', :ok)"),
                     {"at": datetime.now(), "ok": True})
    report = verify_chain(log)
    assert not report.ok and report.broken_id == ids(log)[-1]


# --- archive -------------------------------------------------------------------------------------------------------

@pytest.fixture
def outdir(tmp_path):
    """Where archives go (apart from the SQLite test database's own files)."""
    path = tmp_path / "archives"
    path.mkdir()
    return path


@pytest.fixture
def aged(db_url):
    """Entries from long ago (written with old `at`), then today's."""
    engine = get_engine(db_url)
    old = datetime.combine(months_before(date.today()), datetime.min.time()) - timedelta(days=60)
    with engine.begin() as conn:
        for i in range(30):
            record(conn, "chen", "signin" if i % 3 else "signin_failed", "chen", {"n": i}, ok=bool(i % 3),
                   at=old + timedelta(hours=i))
    auth.create_user(engine, "chen", PW, "office", by="system")
    auth.sign_in(engine, "chen", PW)
    return engine


def test_archive_within_six_months_is_refused_and_changes_nothing(aged, db_url, outdir, capsys):
    before = count(aged)
    too_young = months_before(date.today()) + timedelta(days=1)
    out = outdir / "a.jsonl.gz"
    with pytest.raises(ArchiveRefused, match="拒绝归档"):
        archive(aged, too_young, out)
    code, said = cli(capsys, db_url, "archive", "--before", str(too_young), "--out", str(out))
    assert code != 0 and "拒绝归档" in said and "6 个月" in said
    assert count(aged) == before and not list(outdir.iterdir())
    # the six calendar months: the 31st of August goes back to the last day of February
    assert months_before(date(2026, 8, 31)) == date(2026, 2, 28)
    assert months_before(date(2026, 3, 15)) == date(2025, 9, 15)


def test_archive_moves_old_rows_to_a_file_that_verifies(aged, db_url, outdir, capsys):
    before = count(aged)
    cutoff = months_before(date.today())
    out = outdir / "audit-old.jsonl.gz"
    code, said = cli(capsys, db_url, "archive", "--before", str(cutoff), "--out", str(out))
    assert code == 0 and "已归档 30 条" in said
    assert count(aged) == before - 30 + 1  # the archive's own entry
    with aged.connect() as conn:
        oldest = conn.execute(select(func.min(AuditEntry.at))).scalar()
    assert oldest >= datetime.combine(cutoff, datetime.min.time())

    report = verify_archive(out, aged)
    assert report.ok and report.rows == 30 and any("登记一致" in n for n in report.notes)
    live = verify_chain(aged)
    assert live.ok and "最近一次归档" in live.anchor_from
    code, said = cli(capsys, db_url, "verify", "--archive", str(out))
    assert code == 0 and "共 30 条" in said and "结果：通过" in said
    lines = gzip.decompress(out.read_bytes()).decode().splitlines()
    header, trailer = json.loads(lines[0]), json.loads(lines[-1])
    assert header["count"] == trailer["count"] == 30 and len(lines) == 32
    assert header["last_hash"] == trailer["last_hash"] and len(trailer["sha256"]) == 64

    # again: nothing left to archive, no new file; the rows still in the table stay undeletable
    again = outdir / "again.jsonl.gz"
    code, said = cli(capsys, db_url, "archive", "--before", str(cutoff), "--out", str(again))
    assert code == 0 and "无需归档" in said and not again.exists()
    with pytest.raises(DBAPIError, match="只能追加"):
        with aged.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
    assert verify_chain(aged).ok


def test_a_tampered_archive_fails(aged, db_url, outdir, capsys):
    out = outdir / "a.jsonl.gz"
    archive(aged, months_before(date.today()), out)
    lines = gzip.decompress(out.read_bytes()).decode().splitlines(keepends=True)
    row = json.loads(lines[5])
    row["detail"] = '{"n": 999}'
    lines[5] = json.dumps(row, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"
    out.write_bytes(gzip.compress("".join(lines).encode()))
    report = verify_archive(out)
    assert not report.ok and report.broken_id == row["id"]
    code, said = cli(capsys, db_url, "verify", "--archive", str(out))
    assert code == 1 and f"#{row['id']}" in said and "SHA-256" in said

    truncated = outdir / "cut.jsonl.gz"
    truncated.write_bytes(gzip.compress("".join(lines[:10]).encode()))
    assert not verify_archive(truncated).ok


def test_archive_of_a_broken_chain_is_refused_and_leaves_nothing(aged, outdir):
    victim = ids(aged)[4]
    tamper(aged, "UPDATE audit_log SET detail = NULL WHERE id = :i", i=victim)
    before = count(aged)
    with pytest.raises(ArchiveRefused, match=f"#{victim}"):
        archive(aged, months_before(date.today()), outdir / "x.jsonl.gz")
    assert count(aged) == before and not list(outdir.iterdir())


def test_archive_into_a_missing_folder_or_over_a_file_changes_nothing(aged, outdir):
    before = count(aged)
    with pytest.raises(ArchiveRefused, match="不存在"):
        archive(aged, months_before(date.today()), outdir / "no" / "x.jsonl.gz")
    existing = outdir / "x.jsonl.gz"
    existing.write_bytes(b"keep")
    with pytest.raises(ArchiveRefused, match="已存在"):
        archive(aged, months_before(date.today()), existing)
    assert count(aged) == before and existing.read_bytes() == b"keep" and len(list(outdir.iterdir())) == 1


def test_a_failure_at_the_last_step_rolls_the_delete_back_and_leaves_no_file(aged, outdir, monkeypatch):
    """The file is written and re-read, the rows deleted in the transaction — and then putting the file in place
    fails (a full disk): the rows are all still there, no archive is registered, no file or part-file is left."""
    import data.ops.audit_archive as module

    before, chain = count(aged), ids(aged)

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module.os, "replace", full_disk)
    with pytest.raises(ArchiveRefused, match="写入归档文件.*失败.*数据库未作改动"):
        archive(aged, months_before(date.today()), outdir / "x.jsonl.gz")
    assert count(aged) == before and ids(aged) == chain and not list(outdir.iterdir())
    with aged.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_archives")).scalar() == 0
    assert verify_chain(aged).ok


# --- the chain elsewhere -------------------------------------------------------------------------------------------

def test_old_rows_are_chained_by_the_migration(bare_db_url):
    engine = get_engine(bare_db_url)
    upgrade(engine, "0008")
    with engine.begin() as conn:
        for i in range(5):
            conn.execute(text("INSERT INTO audit_log (at, username, role, action, target, detail, ok) "
                              "VALUES (:at, 'wu', 'office', 'edit', :t, :d, :ok)"),
                         {"at": datetime(2025, 1, 1, 8, 0, i, 123456), "t": f"x:{i}", "d": '{"a": 1}', "ok": i != 2})
    upgrade(engine)
    report = verify_chain(engine)
    assert report.ok and report.rows == 5
    record_now(engine, "wu", "signout", "wu")
    assert verify_chain(engine).ok


def test_the_chain_verifies_after_a_backup_and_restore(db_url, tmp_path):
    from data.ops.backup import backup, restore

    engine = get_engine(db_url)
    auth.create_user(engine, "keeper", PW, "office", by="system")
    info = backup(db_url, tmp_path / "a.bak")
    auth.sign_in(engine, "keeper", PW)        # live entries the backup does not hold: carried over, chained anew
    record_now(engine, "keeper", "edit", "findings:F9")
    assert restore(info.path, db_url).audit_carried == 3
    report = verify_chain(engine)
    assert report.ok and report.rows == count(engine)
    record_now(engine, "keeper", "signout", "keeper")
    assert verify_chain(engine).ok


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_writers_keep_one_unbroken_chain_on_postgresql(db_url):
    """Threads writing entries at once — on their own, inside longer transactions with row writes, two in one
    transaction — give one linear chain: it verifies, every write is there once, no two rows continue the same hash."""
    engine = get_engine(db_url)
    auth.create_user(engine, "zhou", PW, "office", by="system")
    threads, per_thread = 12, 15
    barrier = threading.Barrier(threads)
    errors = []

    def work(n: int) -> None:
        barrier.wait()
        try:
            for i in range(per_thread):
                if i % 3 == 0:
                    record_now(engine, "zhou", "edit", f"t{n}:{i}")
                else:
                    with engine.begin() as conn:
                        conn.execute(text("UPDATE users SET version = version + 1 WHERE username = 'zhou'"))
                        record(conn, "zhou", "edit", f"t{n}:{i}")
                        if i % 3 == 2:
                            record(conn, "zhou", "edit", f"t{n}:{i}b")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert not errors, errors[:3]
    expected = {f"t{n}:{i}" for n in range(threads) for i in range(per_thread)} \
        | {f"t{n}:{i}b" for n in range(threads) for i in range(per_thread) if i % 3 == 2}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT target, prev_hash, row_hash FROM audit_log WHERE action = 'edit' "
                                 "ORDER BY id")).all()
        prevs = conn.execute(text("SELECT prev_hash, count(*) FROM audit_log GROUP BY prev_hash "
                                  "HAVING count(*) > 1")).all()
    assert sorted(r.target for r in rows) == sorted(expected)   # no entry lost or doubled
    assert not prevs                                             # no fork
    report = verify_chain(engine)
    assert report.ok and report.rows == count(engine)           # no gap, no break
