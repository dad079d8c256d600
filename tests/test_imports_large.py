"""Large imports do not stop other users: readers go on throughout (WAL), the shared SQLite write lock is held only
for the final copy (rows are read, validated, compared and staged before it), the memory a large import holds is
bounded, and the uploader accepts exactly what the importer accepts."""
from __future__ import annotations

import sqlite3
import threading
import time
import tomllib
import tracemalloc
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text

import factories as fx

from auth_helpers import principal
from data.db.engine import get_engine
from data.imports import IMPORT_BUSY_MESSAGE, MAX_BYTES, import_file
from data.imports.lock import is_database_busy
from data.db.migrate import upgrade
from data.db.models import MealRecord
from test_imports_concurrency import COMS, NANPU, home_services_csv, seed

ROOT = Path(__file__).resolve().parent.parent


def test_the_uploader_accepts_what_the_importer_accepts():
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]
    assert server["maxUploadSize"] * 1024 * 1024 == MAX_BYTES


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path}/large.db")
    upgrade(engine)
    seed(engine)
    return engine


def meal_records_csv(engine, rows: int) -> bytes:
    """`rows` meal records of 137 meal points over two years (the 100,000-row case of tests/test_imports.py)."""
    base = dict(kind="meal_point", address=None, operator=None, capacity=40, public=False, plan_year=None,
                key_project=False, reserve_project=False, showcase=False, offers_delivery=False,
                safety_supervised=False, planned_on=None, construction_started_on=None, closed_on=None,
                vacant_room_id=None, version=1, subdistrict_code=NANPU, community_code=COMS[0][0],
                lon=COMS[0][3], lat=COMS[0][4], opened_on=date(2020, 1, 1))
    fx.insert(engine, "Facility", *[dict(base, code=f"MP-B{i:03d}", name=f"批量助餐点{i:03d}") for i in range(137)])
    days = pd.date_range("2022-01-01", periods=730).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"助餐点": [f"MP-B{i:03d}" for i in range(137) for _ in range(730)],
                          "日期": list(days) * 137}).head(rows)
    frame["堂食份数"] = (frame.index % 90) + 1
    frame["送餐份数"] = frame.index % 7
    return frame.to_csv(index=False).encode("utf-8")


def test_readers_go_on_and_the_write_lock_is_short_during_a_large_import(sqlite_engine, tmp_path):
    engine = sqlite_engine
    content = meal_records_csv(engine, 100_000)
    done = threading.Event()
    reads, read_errors, probes = [], [], []

    def reader():   # another user's page: reads all the time
        while not done.is_set():
            try:
                with engine.connect() as conn:
                    reads.append(conn.execute(select(func.count()).select_from(MealRecord)).scalar())
            except Exception as exc:   # noqa: BLE001 — any failure of a read is the finding
                read_errors.append(repr(exc))
            time.sleep(0.02)

    def prober():   # another user's write: could it take the write lock right now (without waiting)?
        raw = sqlite3.connect(str(tmp_path / "large.db"), timeout=0, isolation_level=None)
        while not done.is_set():
            try:
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("ROLLBACK")
                probes.append((time.monotonic(), True))
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
                probes.append((time.monotonic(), False))
            time.sleep(0.02)
        raw.close()

    threads = [threading.Thread(target=reader), threading.Thread(target=prober)]
    for t in threads:
        t.start()
    started = time.monotonic()
    try:
        r = import_file(engine, principal("office"), "meal_records", "全年助餐.csv", content)
    finally:
        elapsed = time.monotonic() - started
        done.set()
        for t in threads:
            t.join(30)
    assert r.rows_added == 100_000
    assert not read_errors and len(reads) > 20
    assert set(reads) <= {0, 100_000}   # all or nothing: a reader never sees part of the file
    # the longest stretch during which another user's write would have had to wait for the import
    longest, since = 0.0, None
    for at, free in probes:
        if not free and since is None:
            since = at
        elif free and since is not None:
            longest, since = max(longest, at - since), None
    assert since is None or elapsed < 0.1   # free again at the end
    assert any(free for _, free in probes) and len(probes) > 20
    # measured: ~0.12 of the import; before, the rows were converted and bound under the lock: ~0.4
    assert longest < 0.25 * elapsed, (longest, elapsed)


def test_a_write_refused_by_an_import_is_recognised_for_the_busy_message(sqlite_engine, tmp_path):
    # what a page catches while an import holds the write lock: recognised, and the one message says so
    raw = sqlite3.connect(str(tmp_path / "large.db"), isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    try:
        with sqlite_engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=50")
            with pytest.raises(Exception) as info:
                conn.execute(text("INSERT INTO meta (key, value) VALUES ('probe', '1')"))
                conn.commit()
            conn.exec_driver_sql("PRAGMA busy_timeout=5000")
    finally:
        raw.execute("ROLLBACK")
        raw.close()
    assert is_database_busy(info.value)
    assert "正在导入，请稍候" in IMPORT_BUSY_MESSAGE


def test_memory_held_by_a_large_import_is_bounded(sqlite_engine):
    content = home_services_csv(200_000)
    marks = {}

    def progress(fraction, text_):
        if text_ == "正在写入…" and "write" not in marks:   # from here on the write lock is held
            marks["before_write"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()

    tracemalloc.start()
    try:
        r = import_file(sqlite_engine, principal("office"), "home_services", "大文件.csv", content, progress=progress)
        peak_writing = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.rows_added == 200_000
    size = len(content)
    # the whole import: reading and validating hold the file's cells a few times over, never without bound
    assert max(marks["before_write"], peak_writing) < 40 * size, (marks, peak_writing, size)
    # while the write lock is held, the raw cells and the rows' parameters are gone: the comparison's frame only
    assert peak_writing < 8 * size, (peak_writing, size)
