"""A large ledger import, timed on each engine: ``python -m bench.imports [--engines sqlite,postgresql] [--runs 3]``.

A fresh database at the head schema (one subdistrict, one community, 137 meal points), then through the importer a
CSV of 100,000 meal records (137 points × 730 days) three times: new (every row added), the same file again (every
row unchanged), and a corrected file (every row's 堂食份数 changed). Each run starts from a fresh database.
Target: the new and the corrected file each ≤ IMPORT_100K_S on both engines (it was the import test's limit; a
timing belongs here, not in a test). Also called by ``python -m bench --imports`` (and ``make bench``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, insert, text

from bench.stats import summary

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
ROWS = 100_000
POINTS, DAYS = 137, 730
IMPORT_100K_S = 60.0
STREET, COMMUNITY = "360103001", "360103001001"


def _file(step: int, rows: int) -> bytes:
    days = pd.date_range("2022-01-01", periods=DAYS).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"助餐点": [f"MP-B{i:03d}" for i in range(POINTS) for _ in range(DAYS)],
                          "日期": list(days) * POINTS}).head(rows)
    frame["堂食份数"] = (frame.index % 90) + 1 + step
    frame["送餐份数"] = frame.index % 7
    return frame.to_csv(index=False).encode("utf-8")


def _fresh(engine_kind: str):
    """(url, cleanup) of an empty database at the head schema with the meal points the file names."""
    from data.db.engine import get_engine
    from data.db.migrate import upgrade
    from data.db.models import Community, Facility, Subdistrict

    if engine_kind == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        path = CACHE / f"import-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"

        def cleanup():
            get_engine(url).dispose()
            for p in CACHE.glob(path.name + "*"):
                p.unlink()
    else:
        from bench.datasets import pg_admin_url, schema_url
        schema = f"bench_import_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = schema_url(schema)

        def cleanup():
            get_engine(url).dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    engine = get_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(Subdistrict), [dict(code=STREET, name="南浦街道")])
        conn.execute(insert(Community), [dict(code=COMMUNITY, name="二郎庙社区居委会", short_name="二郎庙",
                                              kind="社区居委会", subdistrict_code=STREET, lon=115.864, lat=28.658,
                                              pop_60=800, pop_80=120, living_alone=10)])
        conn.execute(insert(Facility), [dict(code=f"MP-B{i:03d}", name=f"批量助餐点{i:03d}", kind="meal_point",
                                             capacity=40, public=False, key_project=False, reserve_project=False,
                                             showcase=False, offers_delivery=False, safety_supervised=False,
                                             subdistrict_code=STREET, community_code=COMMUNITY, lon=115.864,
                                             lat=28.658, opened_on=date(2020, 1, 1), version=1)
                                        for i in range(POINTS)])
    return url, cleanup


def run_imports(engine_kind: str, runs: int = 3, log=print, rows: int = ROWS) -> dict:
    """{"rows", "new_s", "same_s", "changed_s": summaries, "rows_per_s_new"} for one engine (rows ≤ 100,010)."""
    from data.db.engine import get_engine
    from data.imports import import_file
    from data.security.access import Principal

    who = Principal(username="bench", role="office", subdistrict_code=None)
    files = [_file(0, rows), _file(1, rows)]
    times: dict[str, list[float]] = {"new_s": [], "same_s": [], "changed_s": []}
    for r in range(runs):
        url, cleanup = _fresh(engine_kind)
        try:
            engine = get_engine(url)
            for key, content, expect in (("new_s", files[0], (rows, 0, 0)), ("same_s", files[0], (0, 0, rows)),
                                         ("changed_s", files[1], (0, rows, 0))):
                t = time.perf_counter()
                res = import_file(engine, who, "meal_records", "全年助餐.csv", content)
                times[key].append(time.perf_counter() - t)
                got = (res.rows_added, res.rows_updated, res.rows_unchanged)
                if got != expect:
                    raise RuntimeError(f"{key}: added/updated/unchanged {got}, expected {expect}")
            log(f"  {engine_kind} run {r + 1}: new {times['new_s'][-1]:.1f} s, same {times['same_s'][-1]:.1f} s, "
                f"changed {times['changed_s'][-1]:.1f} s")
        finally:
            cleanup()
    out = {"rows": rows, **{k: summary(v) for k, v in times.items()}}
    out["rows_per_s_new"] = round(rows / out["new_s"]["median"])
    return out


def evaluate(results: dict) -> list[dict]:
    """Target checks in bench/__main__'s shape."""
    checks = []
    for engine_kind, res in results.items():
        for key in ("new_s", "changed_s"):
            v = (res.get(key) or {}).get("median")
            checks.append({"target": f"import {res['rows']:,} meal records ({key[:-2]}) ≤ {IMPORT_100K_S:.0f} s",
                           "page": engine_kind, "value": v, "limit": IMPORT_100K_S,
                           "ok": None if v is None else v <= IMPORT_100K_S})
    return checks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="")
    a = ap.parse_args(argv)
    results = {e: run_imports(e, a.runs) for e in a.engines.split(",") if e.strip()}
    for e, res in results.items():
        print(f"{e}: new {res['new_s']['median']:.1f} s ({res['rows_per_s_new']:,} rows/s), "
              f"same {res['same_s']['median']:.1f} s, changed {res['changed_s']['median']:.1f} s")
    for c in evaluate(results):
        print(f"{'OK  ' if c['ok'] else 'MISS'} {c['page']:10s} {c['target']}: {c['value']:.1f} s")
    if a.out:
        from bench.__main__ import machine
        Path(a.out).write_text(json.dumps({"command": "python -m bench.imports " + " ".join(argv or sys.argv[1:]),
                                           "machine": machine(), "imports": results, "targets": evaluate(results)},
                                          ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
