"""Imports side by side, in real processes on SQLite and PostgreSQL: the same file imported twice at once adds its
rows once (the ledger's import lock, data.imports.lock, and its unique natural key, migration 0007); the migration
resolves existing repeats safely or refuses in Chinese; a waiting import is refused in Chinese after its wait."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

import factories as fx
from auth_helpers import ensure_user, principal
from data.db.engine import DatabaseError, get_engine
from data.imports import ImportRefused, import_file
from data.imports.lock import ImportBusy, is_database_busy, locked_transaction
from data.db.migrate import SCHEMA_HEAD, current_revision, downgrade, upgrade
from data.db.models import AidPayment, HomeServiceVisit, LivingAloneVisit
from data.db.models.auth import AuditEntry, ImportBatch, ImportFile

ROOT = Path(__file__).resolve().parent.parent
NANPU = "360103001"
COMS = [("360103001001", "二郎庙社区居委会", "二郎庙", 115.864077, 28.658440),
        ("360103001002", "象山社区居委会", "象山", 115.887102, 28.668910)]
TYPES = ["80周岁两小时上门服务", "“五类人群”上门服务", "家庭养老床位上门服务"]
ROWS = 20_000


def seed(engine) -> None:
    fx.subdistricts(engine, (NANPU, "南浦街道"))
    fx.insert(engine, "Community", *[dict(code=c, name=n, short_name=s, kind="社区居委会", subdistrict_code=NANPU,
                                          lon=lon, lat=lat, pop_60=800, pop_80=120, living_alone=10)
                                     for c, n, s, lon, lat in COMS])


def home_services_csv(rows: int) -> bytes:
    """`rows` distinct home-service visits (the ledger's key: day + type + community + elder)."""
    i = pd.RangeIndex(rows)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(i % 700, unit="D")
    frame = pd.DataFrame({"服务日期": days.strftime("%Y-%m-%d"), "服务类型": [TYPES[k % 3] for k in i],
                          "街道": "南浦街道", "社区": [COMS[k % 2][2] for k in i],
                          "老人姓名": [f"测试老人{k // 2100:03d}" for k in i], "服务商": "某服务公司"})
    return frame.to_csv(index=False).encode("utf-8")


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar()


@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    seed(eng)
    return eng


# Each process imports data.*, builds its engine, then waits for the same wall-clock instant before importing, so
# the two validate and compare at the same time: without a lock both see an empty table and both add every row.
WORKER = r"""
import json, sys, time
from data.db.engine import get_engine
from data.imports import ImportRefused, import_file
from data.security.access import Principal
url, path, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
engine = get_engine(url)
content = open(path, "rb").read()
with engine.connect() as conn:
    pass
time.sleep(max(0.0, start - time.time()))
try:
    r = import_file(engine, Principal(username="t_office", role="office"), "home_services", "居家服务.csv", content)
    print(json.dumps({"added": r.rows_added, "updated": r.rows_updated, "unchanged": r.rows_unchanged}))
except ImportRefused as exc:
    print(json.dumps({"refused": exc.messages()}))
"""


def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


def test_same_file_imported_by_two_processes_at_once_adds_its_rows_once(engine, db_url, tmp_path):
    path = tmp_path / "居家服务.csv"
    path.write_bytes(home_services_csv(ROWS))
    start = time.time() + 8   # both processes are up (pandas, SQLAlchemy loaded) well before this instant
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, db_url, str(path), str(start)], cwd=ROOT, env=_env(db_url),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "Traceback" not in err, err[-2000:]
    results = sorted((json.loads(out.strip().splitlines()[-1]) for out, _ in outs), key=lambda r: -r.get("added", 0))
    assert not any("refused" in r for r in results), results
    assert count(engine, HomeServiceVisit) == ROWS
    # one import added every row; the other waited for it and found every row already there
    assert results == [{"added": ROWS, "updated": 0, "unchanged": 0}, {"added": 0, "updated": 0, "unchanged": ROWS}]
    assert count(engine, ImportBatch) == 2 and count(engine, ImportFile) == 1


def test_same_file_through_the_command_line_twice_at_once(engine, db_url, tmp_path):
    ensure_user(db_url, "office")
    path = tmp_path / "居家服务.csv"
    path.write_bytes(home_services_csv(ROWS))
    cmd = [sys.executable, "-m", "data", "import", "--ledger", "home_services", "--file", str(path),
           "--user", "t_office", "--quiet"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=_env(db_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, out + err
        assert "Traceback" not in err and "IntegrityError" not in err + out, err[-2000:]
        assert "已导入居家上门服务" in out
    assert count(engine, HomeServiceVisit) == ROWS
    added = sorted(int(out.split("新增 ")[1].split("，")[0]) for out, _ in outs)
    assert added == [0, ROWS]


def test_a_waiting_import_is_refused_in_chinese_after_its_wait(engine, db_url, monkeypatch):
    # another process holds the ledger's lock (an import writing); this one waits, says so, and gives up in Chinese
    holder_ready, release = threading.Event(), threading.Event()
    other = get_engine(db_url)

    def hold():
        with locked_transaction(other, "home_services"):
            holder_ready.set()
            release.wait(8)   # past the importer's 3 s wait; its refusal's audit entry then goes through

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert holder_ready.wait(30)
        monkeypatch.setattr("data.imports.lock.WAIT_SECONDS", 3.0)
        seen = []
        started = time.monotonic()
        with pytest.raises(ImportRefused) as info:
            import_file(engine, principal("office"), "home_services", "h.csv", home_services_csv(50),
                        progress=lambda f, t_: seen.append(t_))
        assert time.monotonic() - started >= 3.0
    finally:
        release.set()
        t.join(30)
    assert "正在导入" in info.value.messages()[0] and "未导入" in info.value.messages()[0]
    assert any("等待其完成" in s for s in seen)
    assert count(engine, HomeServiceVisit) == 0
    with engine.connect() as conn:   # the refusal is audited, once the lock is free
        assert conn.execute(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.action == "import_refused")).scalar() == 1
    # and with the lock free, the same file imports
    r = import_file(engine, principal("office"), "home_services", "h.csv", home_services_csv(50))
    assert r.rows_added == 50


def test_imports_of_different_ledgers_do_not_wait_for_each_other(engine, db_url):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one write lock for the whole database")
    with locked_transaction(engine, "home_services"):
        with locked_transaction(get_engine(db_url), "meal_records", wait=1.0):
            pass
        with pytest.raises(ImportBusy):
            with locked_transaction(get_engine(db_url), "home_services", wait=1.0):
                pass


def test_an_import_in_another_schema_of_the_same_database_does_not_wait(engine, db_url, tmp_path):
    """Two installations in one PostgreSQL database (one schema each): an import in one does not hold the other's
    import of the same ledger (the import locks are keyed by schema, data.db.locks)."""
    if engine.dialect.name == "sqlite":
        pytest.skip("a SQLite file is one installation")
    from conftest import fresh_database

    with fresh_database("postgresql", tmp_path) as other_url:
        other = get_engine(other_url)
        with locked_transaction(engine, "meal_records"):
            with locked_transaction(other, "meal_records", wait=1.0):
                pass
            with pytest.raises(ImportBusy):   # the same schema still waits
                with locked_transaction(get_engine(db_url), "meal_records", wait=1.0):
                    pass


# --- migration 0007: the natural keys become unique keys ---------------------------------------------------------

def _rows_at_0006(engine):
    """Rows repeating the three keys, as a doubled import left them: exact copies, and one conflicting pair."""
    fx.insert(engine, "LivingAloneElder", dict(name="李甲", id_number="999999194005060012", phone=None, address=None,
                                               birth_date=date(1940, 5, 6), subdistrict_code=NANPU,
                                               community_code=COMS[0][0], enrolled_on=date(2022, 1, 1), left_on=None))
    fx.insert(engine, "AidHousehold", dict(household_no="DB-1", head_name="赵乙", head_id_number="999999198001020021",
                                           phone=None, address=None, subdistrict_code=NANPU, community_code=COMS[0][0]))
    fx.insert(engine, "AidPerson", dict(household_id=1, name="赵乙", id_number="999999198001020021", phone=None,
                                        relation="户主"))
    home = dict(visited_on=date(2024, 6, 3), service_type="age80_2h", subdistrict_code=NANPU,
                community_code=COMS[0][0], elder_name="王丁", provider="某公司")
    visit = dict(elder_id=1, visited_on=date(2024, 6, 5), subdistrict_code=NANPU, visit_type="巡访", visitor="社工甲")
    pay = dict(programme="dibao", subtype=None, household_id=1, person_id=1, subdistrict_code=NANPU,
               paid_on=date(2024, 6, 10), amount_fen=75000)
    fx.insert(engine, "HomeServiceVisit", home, home, home, dict(home, elder_name="王戊"))
    fx.insert(engine, "LivingAloneVisit", visit, visit, dict(visit, visitor="社工乙"))   # a conflict: which visitor?
    fx.insert(engine, "AidPayment", pay, pay, dict(pay, subtype="living"))


def test_migration_removes_exact_copies_and_refuses_conflicts(bare_db_url):
    engine = get_engine(bare_db_url)
    upgrade(engine, "0006")
    seed(engine)
    _rows_at_0006(engine)
    with pytest.raises(DatabaseError) as info:
        upgrade(engine)
    msg = str(info.value)
    assert "独居老人巡访记录" in msg and "身份证号 + 巡访日期 + 巡访类型" in msg and "数据库未作任何修改" in msg
    assert "python -m data upgrade" in msg
    assert current_revision(engine) == "0006"
    assert (count(engine, HomeServiceVisit), count(engine, LivingAloneVisit), count(engine, AidPayment)) == (4, 3, 3)
    # the same refusal through the command line: a Chinese message, no traceback
    out = subprocess.run([sys.executable, "-m", "data", "upgrade"], cwd=ROOT, env=_env(bare_db_url),
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 2 and "独居老人巡访记录" in out.stderr and "Traceback" not in out.stderr
    # once the conflict is resolved by hand, the upgrade removes the exact copies and keys the tables
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM living_alone_visits WHERE visitor = '社工乙'"))
    upgrade(engine)
    assert current_revision(engine) == SCHEMA_HEAD  # 0007 and every later revision
    assert (count(engine, HomeServiceVisit), count(engine, LivingAloneVisit), count(engine, AidPayment)) == (2, 1, 2)
    for model, row in ((HomeServiceVisit, dict(visited_on=date(2024, 6, 3), service_type="age80_2h",
                                               subdistrict_code=NANPU, community_code=COMS[0][0], elder_name="王丁")),
                       (LivingAloneVisit, dict(elder_id=1, visited_on=date(2024, 6, 5), subdistrict_code=NANPU,
                                               visit_type="巡访")),
                       (AidPayment, dict(programme="dibao", subtype=None, household_id=1, person_id=1,
                                         subdistrict_code=NANPU, paid_on=date(2024, 6, 10), amount_fen=1))):
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:
                conn.execute(insert(model).values(**row))
    downgrade(engine, "0006")
    upgrade(engine)
    assert current_revision(engine) == SCHEMA_HEAD  # 0007 and every later revision


def test_is_database_busy_recognises_a_held_sqlite_write_lock(tmp_path):
    url = f"sqlite:///{tmp_path}/busy.db"
    engine = get_engine(url)
    upgrade(engine)
    with engine.connect() as holder:
        holder.exec_driver_sql("BEGIN IMMEDIATE")
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=100")
            with pytest.raises(Exception) as info:
                conn.execute(text("INSERT INTO meta (key, value) VALUES ('k', 'v')"))
                conn.commit()
        holder.rollback()
    assert is_database_busy(info.value)
    assert not is_database_busy(ValueError("database is locked"))
