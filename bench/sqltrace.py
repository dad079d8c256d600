"""Which SQL a page's run spends its time in: every statement the process sends, timed, with the named query
(data/queries, data/domain) that sent it. Used by ``python -m bench.plans`` (EXPLAIN of the slowest ones) and
``python -m bench.cold --sql`` (the top statements of one cold run, in its JSON)."""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine

_PACKAGES = ("data/queries/", "data/domain/", "data/rollups", "data/security/", "data/ops/", "data/db/")


@dataclass
class Statement:
    query: str          # module.function of the nearest named query on the stack
    sql: str            # as sent to the driver
    params: object      # as sent to the driver (kept in memory only: never written out)
    seconds: float
    dialect: str


@dataclass
class Trace:
    statements: list[Statement] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def top(self, n: int = 8) -> list[Statement]:
        """The slowest statement of each named query, slowest first (one per query: the plan to read)."""
        best: dict[str, Statement] = {}
        for s in self.statements:
            if s.query not in best or s.seconds > best[s.query].seconds:
                best[s.query] = s
        return sorted(best.values(), key=lambda s: -s.seconds)[:n]

    def by_query(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for s in self.statements:
            x = out.setdefault(s.query, {"n": 0, "seconds": 0.0})
            x["n"] += 1
            x["seconds"] += s.seconds
        return dict(sorted(out.items(), key=lambda kv: -kv[1]["seconds"]))


def _caller() -> str:
    f = sys._getframe(2)
    fallback = None
    while f is not None:
        path = f.f_code.co_filename.replace("\\", "/")
        if ("/data/queries/" in path or "/data/domain/" in path) and not path.endswith("/data/queries/common.py"):
            mod = path.rsplit("/data/", 1)[1].removesuffix(".py").replace("/", ".")
            return f"{mod}.{f.f_code.co_name}"
        if fallback is None and any(p in path for p in _PACKAGES):
            mod = path.rsplit("/data/", 1)[1].removesuffix(".py").replace("/", ".")
            fallback = f"{mod}.{f.f_code.co_name}"
        f = f.f_back
    return fallback or "(other)"


def install() -> Trace:
    """Time every statement of every engine of this process from now on."""
    trace = Trace()
    local = threading.local()

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        local.t = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        dt = time.perf_counter() - getattr(local, "t", time.perf_counter())
        if executemany:
            return
        with trace.lock:
            trace.statements.append(Statement(_caller(), statement, parameters, dt, conn.dialect.name))

    return trace


def explain(conn, s: Statement) -> str:
    """The plan of one traced statement, run again with its own parameters: PostgreSQL EXPLAIN (ANALYZE, BUFFERS,
    FORMAT TEXT) — the statement really runs, its timings are in the plan; SQLite EXPLAIN QUERY PLAN."""
    if s.dialect == "postgresql":
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + s.sql, s.params).fetchall()
        return "\n".join(r[0] for r in rows)
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + s.sql, s.params).fetchall()
    return "\n".join(f"{'  ' * 0}{r[-1]}  (id {r[0]}, parent {r[1]})" for r in rows)


def shown_params(params) -> str:
    """Parameters as text for a plan file: dates, numbers and codes of the filters (never personal: the traced
    statements are the slowest aggregates of a page)."""
    if isinstance(params, dict):
        return ", ".join(f"{k}={v!r}" for k, v in params.items())
    return ", ".join(repr(v) for v in (params or ()))
