"""Profile one page's cold or warm server-side run with pyinstrument (inside Streamlit's script thread).

    python -m bench.profile <url_path> --engine sqlite --scale 1 --phase warm [--keep]

Uses the benchmark's cached database (bench/.cache, built if missing) and writes the text profile to
bench/results/profiles/<engine>-x<scale>-<url_path>-<phase>.txt (also printed).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import datasets
from bench.__main__ import app_pages, run_cold

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile")
    ap.add_argument("url_path")
    ap.add_argument("--engine", default="sqlite")
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--phase", choices=["cold", "warm"], default="warm")
    ap.add_argument("--street-index", type=int, default=0)
    a = ap.parse_args(argv)
    page = next(p for p, u, _ in app_pages() if u == a.url_path)
    ds = datasets.prepare(a.engine, a.scale, keep=True)
    res = run_cold(page, ds.url, a.street_index, profile=a.phase)
    text = res.pop("profile_text", "") or str(res)
    out = ROOT / "bench" / "results" / "profiles" / f"{a.engine}-x{a.scale}-{a.url_path}-{a.phase}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"{res}\n\n{text}", encoding="utf-8")
    print(res)
    print(text)
    print(f"→ {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
