"""Query plans of the slowest SQL of the pages' cold runs, checked in so that a regression shows in a diff.

    python -m bench.plans [--engine postgresql] [--scale 100] [--top 8] [--pages aid,overview] [--out bench/plans]

Every page's first run in a fresh process (python -m bench.cold --plans) times each statement it sends, by named
query (bench/sqltrace.py); the slowest statement of each of the --top slowest named queries over all pages is run
again under EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) on PostgreSQL (EXPLAIN QUERY PLAN on SQLite). Written to
<out>/<engine>-x<scale>/: one file per query (NN-<query>.txt: the page, the time in the cold run, the SQL, its
parameters, the plan) and summary.txt (each page's cold time and SQL time, the ranking). Uses the benchmark's
database (bench/datasets.py, reused when built; ×100 takes long to build the first time).
Times are of a loaded, shared machine: read the plans' shapes (which index, how many rows), not their timings.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from bench import datasets
from bench.__main__ import app_pages, run_cold

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.plans", description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", default="postgresql")
    ap.add_argument("--scale", type=int, default=100)
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--pages", default="", help="only these url_paths (comma-separated); default every page")
    ap.add_argument("--out", default="bench/plans")
    a = ap.parse_args(argv)
    pages = app_pages()
    if a.pages:
        wanted = set(a.pages.split(","))
        pages = [p for p in pages if p[1] in wanted]
    ds = datasets.prepare(a.engine, a.scale, keep=True)
    out = (ROOT / a.out / f"{a.engine}-x{a.scale}")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    found: dict[str, dict] = {}
    lines = [f"Cold runs of every page, {ds.label} (load average at start {os.getloadavg()[0]:.1f}, 2 shared cores)",
             f"{'page':16s} {'cold s':>7s} {'SQL s':>7s}  slowest named queries (total s / statements)"]
    for page, path, _ in pages:
        r = run_cold(page, ds.url, 0, plans=a.top)
        if "error" in r:
            lines.append(f"{path:16s} ERROR {r['error'][-200:]!r}")
            print(lines[-1], flush=True)
            continue
        top = "; ".join(f"{k} {v['seconds']:.3f}/{v['n']}" for k, v in list(r["sql_cold"].items())[:4])
        lines.append(f"{path:16s} {r['cold_s']:7.2f} {r['sql_cold_total_s']:7.2f}  {top}")
        print(lines[-1], flush=True)
        for p in r.get("plans", []):
            if p["query"] not in found or p["seconds"] > found[p["query"]]["seconds"]:
                found[p["query"]] = {**p, "page": path}
    ranked = sorted(found.values(), key=lambda p: -p["seconds"])[:a.top]
    lines += ["", f"The {len(ranked)} slowest named queries (slowest statement of each, in its page's cold run):"]
    for i, p in enumerate(ranked, 1):
        name = f"{i:02d}-{re.sub(r'[^A-Za-z0-9_.]+', '_', p['query'])}.txt"
        lines.append(f"{i:2d}. {p['seconds']:7.3f} s  {p['query']:45s} ({p['page']})  → {name}")
        (out / name).write_text(
            f"query:   {p['query']}\npage:    {p['page']} (cold run, {ds.label})\nseconds: {p['seconds']:.3f} "
            f"(in the cold run; the plan below ran it again)\nparams:  {p['params']}\n\nSQL:\n{p['sql']}\n\n"
            f"Plan:\n{p['plan']}\n", encoding="utf-8")
    (out / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[-len(ranked) - 1:]))
    print(f"→ {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
