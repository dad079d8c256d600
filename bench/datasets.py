"""Benchmark databases: the demo generator at a scale, on SQLite (file) or PostgreSQL (own schema).

Databases live under bench/.cache/ (SQLite files) or in schema ``bench_x<scale>_<head>`` (PostgreSQL), keyed by
scale, engine and the migration head, so ``--keep`` can reuse them across runs; without it they are rebuilt and
removed at the end.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def schema_url(schema: str) -> str:
    """The admin URL with its search_path set to `schema` (each benchmark database is a schema of its own)."""
    admin_url = pg_admin_url()
    return f"{admin_url}{'&' if '?' in admin_url else '?'}options={quote('-csearch_path=' + schema)}"


def pg_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@dataclass
class Dataset:
    engine_kind: str
    scale: int
    url: str
    schema: str | None = None
    reused: bool = False
    build: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.engine_kind} ×{self.scale}"


def _head() -> str:
    from data.db.migrate import head_revision
    return head_revision()


def _is_complete(url: str, scale: int) -> bool:
    from data.db.engine import get_engine
    from data.db.migrate import current_revision
    from data.queries.meta import meta_values
    try:
        eng = get_engine(url)
        return current_revision(eng) == _head() and meta_values(eng).get("demo_scale") == str(scale)
    except Exception:  # noqa: BLE001 - anything wrong means "rebuild"
        return False


def prepare(engine_kind: str, scale: int, keep: bool) -> Dataset:
    from data.demo import build_demo
    from data.db.engine import get_engine
    from data.db.migrate import upgrade

    head = _head()
    CACHE.mkdir(parents=True, exist_ok=True)
    if engine_kind == "sqlite":
        path = CACHE / f"sqlite-x{scale}-{head}.db"
        url = f"sqlite:///{path}"
        ds = Dataset(engine_kind, scale, url)
        if keep and path.exists() and _is_complete(url, scale):
            ds.reused = True
            ds.build = _load_build(engine_kind, scale, head)
            return ds
        get_engine.cache_clear()
        for p in CACHE.glob(path.name + "*"):
            p.unlink()
    else:
        schema = f"bench_x{scale}_{head}".lower().replace("-", "_")[:60]
        admin_url = pg_admin_url()
        url = schema_url(schema)
        ds = Dataset(engine_kind, scale, url, schema=schema)
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("select 1 from information_schema.schemata where schema_name=:s"),
                                  {"s": schema}).first()
        if keep and exists and _is_complete(url, scale):
            admin.dispose()
            ds.reused = True
            ds.build = _load_build(engine_kind, scale, head)
            return ds
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    eng = get_engine(url)
    t = time.perf_counter()
    upgrade(eng)
    migrate_s = time.perf_counter() - t
    t = time.perf_counter()
    counts = build_demo(eng, scale=scale)
    demo_s = time.perf_counter() - t
    if engine_kind == "postgresql":
        # a settled database, as autovacuum leaves it: fresh statistics, and the visibility map set so that
        # index-only scans need no table lookups
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with eng.begin() as conn:
            conn.execute(text("ANALYZE"))
    ds.build = {"migrate_s": migrate_s, "demo_s": demo_s, "rows": sum(counts.values())}
    _build_file(engine_kind, scale, head).write_text(json.dumps(ds.build))
    return ds


def _build_file(engine_kind: str, scale: int, head: str) -> Path:
    return CACHE / f"{engine_kind}-x{scale}-{head}.build.json"


def _load_build(engine_kind: str, scale: int, head: str) -> dict:
    """Build figures recorded when the reused database was built (marked as such)."""
    try:
        return {**json.loads(_build_file(engine_kind, scale, head).read_text()), "from_cache": True}
    except (OSError, ValueError):
        return {"from_cache": True}


def size_bytes(ds: Dataset) -> int | None:
    try:
        if ds.engine_kind == "sqlite":
            p = Path(ds.url.removeprefix("sqlite:///"))
            return sum(q.stat().st_size for q in p.parent.glob(p.name + "*"))
        eng = create_engine(pg_admin_url())
        with eng.connect() as conn:
            v = conn.execute(text(
                "select coalesce(sum(pg_total_relation_size(c.oid)),0) from pg_class c "
                "join pg_namespace n on n.oid=c.relnamespace where n.nspname=:s and c.relkind='r'"),
                {"s": ds.schema}).scalar()
        eng.dispose()
        return int(v)
    except Exception:  # noqa: BLE001
        return None


def drop(ds: Dataset) -> None:
    from data.db.engine import get_engine
    get_engine(ds.url).dispose()
    if ds.engine_kind == "sqlite":
        p = Path(ds.url.removeprefix("sqlite:///"))
        for q in p.parent.glob(p.name + "*"):
            q.unlink()
    else:
        admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{ds.schema}" CASCADE'))
        admin.dispose()
