"""PostgreSQL advisory locks named per schema.

An advisory lock's key is database-wide: two installations (or the test suite's parallel schemas) in one database
would otherwise wait for each other's imports and refreshes (an import gives up after its wait). The audit chain's
lock stays one fixed key (data.security.audit: replicas of two versions must share it while they are restarted). The key is a 64-bit hash of the
connection's current schema and the lock's name, computed by PostgreSQL itself (hashtextextended), so every process
connected to the same schema agrees on it.

    if try_xact_lock(conn, "minzheng-import:meal_records"): ...   # held until the transaction ends
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

_KEY = "hashtextextended(current_schema() || ':' || :lock_name, 0)"


def try_xact_lock(conn: Connection, name: str) -> bool:
    """Take the transaction-scoped lock `name` if free; False when another transaction of this schema holds it."""
    return bool(conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_KEY})"), {"lock_name": name}).scalar())
