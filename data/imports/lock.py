"""One writing import per ledger at a time, and the one message users see while an import holds the write lock.

    with locked_transaction(engine, "meal_records", on_wait=...) as conn:   # compare and write here
        ...

PostgreSQL: a transaction-scoped advisory lock per ledger and schema (data.db.locks): a second import of the same
ledger waits for the first to commit; imports of other ledgers, readers and other writers go on. SQLite: BEGIN
IMMEDIATE, the database's single write lock (readers go on under WAL, see data.db.engine). Either way the second
import compares with the rows the first one wrote, so the same file imported twice at once adds its rows once.
A waiting import reports it (on_wait) and gives up after WAIT_SECONDS with ImportBusy (Chinese).

While an import holds SQLite's write lock, another user's write (a sign-in, an edit, an audit entry) waits
busy_timeout and then fails with "database is locked": `data.db.engine.is_database_busy(exc)` recognises that failure
(and its PostgreSQL counterparts) so a page shows the one busy message (data.db.engine.BUSY_MESSAGE) instead of an error.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from data.db.engine import BUSY_MESSAGE, is_database_busy
from data.db.locks import try_xact_lock

# What another user sees while the database is held: data.db.engine's one text and its one test, under the names the
# import code uses.
IMPORT_BUSY_MESSAGE = BUSY_MESSAGE
WAIT_SECONDS = float(os.environ.get("MZ_IMPORT_WAIT_SECONDS", "600"))   # how long a second import waits its turn
POLL_SECONDS = 0.25


class ImportBusy(RuntimeError):
    """Another import of the ledger kept its lock longer than WAIT_SECONDS; the message is Chinese."""


def ledger_lock_name(ledger: str) -> str:
    """The advisory lock of one ledger's imports (data.db.locks keys it by schema and this name)."""
    return f"minzheng-import:{ledger}"


@contextmanager
def locked_transaction(engine: Engine, ledger: str, *, wait: float | None = None,
                       on_wait: Callable[[float], None] | None = None,
                       conn: Connection | None = None) -> Iterator[Connection]:
    """A connection in a transaction that holds the ledger's import lock; commits on success, rolls back on error.
    on_wait(seconds waited) is called while another import holds it; ImportBusy after `wait` seconds. With `conn`
    (one the caller keeps, e.g. for its temp tables) that connection's open transaction is ended first and the
    connection is used instead of a new one."""
    wait = WAIT_SECONDS if wait is None else wait
    started = time.monotonic()
    if conn is not None:
        if conn.in_transaction():
            conn.commit()
        with _locked(conn, ledger, started, wait, on_wait):
            yield conn
        return
    with engine.connect() as new:
        with _locked(new, ledger, started, wait, on_wait):
            yield new


@contextmanager
def _locked(conn: Connection, ledger: str, started: float, wait: float, on_wait) -> Iterator[None]:
    if conn.dialect.name == "sqlite":
        _begin_immediate(conn, ledger, started, wait, on_wait)
    else:
        _advisory_lock(conn, ledger, started, wait, on_wait)
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _waited(ledger: str, started: float, wait: float, on_wait) -> None:
    waited = time.monotonic() - started
    if on_wait:
        on_wait(waited)
    if waited >= wait:
        from data.imports.ledgers import LEDGERS

        title = LEDGERS[ledger].title if ledger in LEDGERS else ledger
        raise ImportBusy(f"另一批“{title}”正在导入，已等待 {waited:.0f} 秒仍未完成，本文件未导入。请稍后重新导入。")
    time.sleep(POLL_SECONDS)


def _begin_immediate(conn: Connection, ledger: str, started: float, wait: float, on_wait) -> None:
    # pysqlite opens its transaction lazily, at the first write: reads before it (the comparison with the database)
    # would not be protected. BEGIN IMMEDIATE takes the write lock now (waiting busy_timeout for it each try).
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            conn.rollback()
            if not is_database_busy(exc):
                raise
        _waited(ledger, started, wait, on_wait)


def _advisory_lock(conn: Connection, ledger: str, started: float, wait: float, on_wait) -> None:
    name = ledger_lock_name(ledger)
    while not try_xact_lock(conn, name):
        try:
            _waited(ledger, started, wait, on_wait)
        except ImportBusy:
            conn.rollback()
            raise
