"""The dashboard benchmark (issue 8): ``python -m bench`` (``make bench``).

    python -m bench [--scales 1,10] [--engines sqlite,postgresql] [--runs 5] [--out bench/results/bench.json]
                    [--skip-browser] [--keep] [--load [--load-seconds 120] [--load-sessions 20] [--load-think 5]]

Per dataset (demo generator at a scale, on an engine): build time; per page of app.py, server-side cold (first
AppTest run in a fresh ``python -m bench.cold`` process) and warm (rerun after a street change, period 2024-H1)
times, streamlit_folium argument bytes and the subprocess's peak RSS; direct timings of the main named queries;
in Chromium, time to the page's main element drawn beside an empty Streamlit page served by the same server
(components/floor.py). Medians of --runs runs with
min and max; a table on the terminal and JSON in --out, with the machine's description. With --load, also the
load test (bench/load.py): simultaneous signed-in sessions (Streamlit's own websocket protocol, like a browser tab
without the rendering) cycling through the pages of a ×1 SQLite demo, reading each page --load-think seconds,
p50/p95 page time and errors (target: none), under "load" in the JSON. --scales "" runs the load test alone.
With --cluster, the same load through nginx in front of 2 replicas on the ×1 PostgreSQL demo (deploy/cluster.py),
--cluster-sessions for --cluster-seconds, once steady and once with the busiest replica killed halfway (its
sessions reconnect to the other one, signed in by their session cookie): visits, errors, p50/p95, reconnects and
each replica's peak RSS under "cluster_load" in the JSON (targets: no errors).

Every measured session signs in as the bench account (bench/auth.py), as the app requires.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import datasets
from bench.stats import fmt, summary

ROOT = Path(__file__).resolve().parent.parent

# Targets of issue 8
WARM_X1_SQLITE_S = 0.3
COLD_X1_SQLITE_S = 2.0
COLD_X100_PG_S = 2.0     # issue 22: every page's first visit at ×100 on PostgreSQL
GROWTH_MAX = 2.0
FIRST_SCREEN_RATIO_MAX = 1.5   # issue 22: the first useful screen ≤ 1.5× the empty page, every page
FULLY_DRAWN_RATIO_MAX = 2.5    # … fully drawn ≤ 2.5×
SLIDE_SWITCH_MAX_S = 0.5       # the roundtable's next slide drawn ≤ 0.5 s after the key press
PEAK_MB_MAX = 1024.0


def app_pages() -> list[tuple[str, str, str]]:
    """(page file, url_path, title) of every page the bench account (业务科室) has in its navigation, in order
    (components/navigation.py, which app.py builds st.navigation from; pages whose file does not exist are left
    out, as app.py leaves them out)."""
    from bench.auth import ROLE
    from components.navigation import pages_for

    return [(spec.file, spec.url_path, spec.title) for specs in pages_for(ROLE).values() for spec in specs]


def python_loop_s(n: int = 5_000_000, repeat: int = 5) -> float:
    """This machine's speed today: median seconds of a fixed pure-Python loop. The same 2-core machine kind has
    been seen to differ by more than half from one session to the next, so a run's figures are read beside it."""
    import statistics
    import time

    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        s = 0
        for i in range(n):
            s += i
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 3)


def machine() -> dict:
    info: dict = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
                  "sqlite": sqlite3.sqlite_version}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu_model"] = re.search(r"model name\s*:\s*(.+)", cpu).group(1).strip()
    except (OSError, AttributeError):
        info["cpu_model"] = platform.processor()
    try:
        mem = Path("/proc/meminfo").read_text()
        info["ram_gb"] = round(int(re.search(r"MemTotal:\s*(\d+)", mem).group(1)) / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    info["python_loop_s"] = python_loop_s()
    try:
        from sqlalchemy import create_engine, text
        eng = create_engine(datasets.pg_admin_url())
        with eng.connect() as conn:
            info["postgresql"] = conn.execute(text("show server_version")).scalar()
        eng.dispose()
    except Exception as exc:  # noqa: BLE001
        info["postgresql"] = f"unavailable: {exc}"[:200]
    try:
        import streamlit
        from streamlit import config as st_config

        info["streamlit"] = streamlit.__version__
        # what the servers the bench starts (`streamlit run`) use: the environment variable wins over
        # .streamlit/config.toml there, but not in this process, so it is read first
        env_gc = os.environ.get("STREAMLIT_RUNNER_POST_SCRIPT_GC")
        info["streamlit_post_script_gc"] = (env_gc.strip().lower() == "true" if env_gc is not None
                                            else st_config.get_option("runner.postScriptGC"))
    except ImportError:
        pass
    # what uvicorn's "auto" picks for the servers the bench starts: the C parser and event loop when installed
    import importlib.util
    info["server_http"] = "httptools" if importlib.util.find_spec("httptools") else "h11"
    info["server_loop"] = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return info


def run_cold(page: str, url: str, street_index: int, profile: str | None = None, sql: bool = False,
             plans: int = 0) -> dict:
    from bench.auth import token

    cmd = [sys.executable, "-m", "bench.cold", page, url, "--street-index", str(street_index)]
    if profile:
        cmd += ["--profile", profile]
    if sql:
        cmd += ["--sql"]
    if plans:
        cmd += ["--plans", str(plans)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_AUTH_TOKEN": token(url)}  # not in argv: ps shows argv
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    return {"error": (p.stderr or p.stdout)[-1500:], "returncode": p.returncode}


def bench_dataset(ds: datasets.Dataset, pages, runs: int, skip_browser: bool, log, skip_server: bool = False,
                  browser_cache: str = "cold") -> dict:
    res: dict = {"engine": ds.engine_kind, "scale": ds.scale, "reused": ds.reused, "build": ds.build,
                 "db_bytes": datasets.size_bytes(ds), "pages": {}}
    for page, path, title in ([] if skip_server else pages):
        samples = [run_cold(page, ds.url, i, sql=True) for i in range(runs)]
        ok = [s for s in samples if "error" not in s]
        errors = [s["error"] for s in samples if "error" in s]
        errors += sorted({e for s in ok for e in s.get("cold_errors", []) + s.get("warm_errors", [])})
        pr = {
            "title": title, "url_path": path,
            # the replica's start before it takes users (bench/cold.py: warm-up run + background imports)
            "warmup_s": summary([s["warmup_s"] for s in ok if s.get("warmup_s") is not None]),
            "cold_s": summary([s["cold_s"] for s in ok]),
            # of cold_s, the time spent waiting for the database, and the named queries it went to (first run)
            "cold_sql_s": summary([s["sql_cold_total_s"] for s in ok]),
            "cold_sql_top": ok[0]["sql_cold"] if ok else None,
            "warm_s": summary([s["warm_s"] for s in ok]),
            "rss_peak_mb": summary([s["rss_peak_mb"] for s in ok]),
            "maps": ok[0]["maps"] if ok else None,
            "map_bytes": summary([s["map_bytes"] for s in ok]) if ok and ok[0]["maps"] else None,
            "errors": errors[:5],
        }
        res["pages"][page] = pr
        log(f"  {path:16s} cold {fmt(pr['cold_s'])} (SQL {fmt(pr['cold_sql_s'])})  warm {fmt(pr['warm_s'])}  "
            f"rss {fmt(pr['rss_peak_mb'], digits=0)} MB  map {pr['map_bytes']['median'] if pr['map_bytes'] else '-'} B"
            + (f"  ERRORS {errors[:1]}" if errors else ""))
    from bench.queries import time_queries
    res["queries"] = {} if skip_server else time_queries(ds.url, runs)
    log("  queries: " + ", ".join(f"{k} {v['median']:.3f}" for k, v in res["queries"].items()))
    if not skip_browser:
        from bench.browser import run_browser
        for i, mode in enumerate(cache_modes(browser_cache)):
            key = browser_key(i, mode)
            log(f"  browser, HTTP cache {mode} …")
            try:
                res[key] = run_browser(ds.url, [(p, u) for p, u, _ in pages], runs, log=log, http_cache=mode)
            except Exception as exc:  # noqa: BLE001
                res[key] = {"error": str(exc)[:1000], "http_cache": mode}
                log(f"  browser ERROR {exc}")
    return res


CACHE_MODES = ("cold", "warm")


def cache_modes(arg: str) -> list[str]:
    """--browser-cache: "cold", "warm" or both ("cold,warm"), in the order given, each once."""
    modes = list(dict.fromkeys(m.strip() for m in arg.split(",") if m.strip()))
    bad = [m for m in modes if m not in CACHE_MODES]
    if bad or not modes:
        raise ValueError(f"--browser-cache: {arg!r} (cold, warm or cold,warm)")
    return modes


def browser_key(index: int, mode: str) -> str:
    """Where a dataset's browser run is kept: the first under "browser", a second as "browser_<mode>_cache"."""
    return "browser" if index == 0 else f"browser_{mode}_cache"


def browser_runs(r: dict) -> list[dict]:
    """A dataset's browser runs (one per HTTP cache state measured), first run first."""
    return [v for k, v in r.items() if (k == "browser" or (k.startswith("browser_") and k.endswith("_cache"))) and v]


def cache_label(br: dict) -> str:
    """"" for the cold HTTP cache (the targets' names as before), ", HTTP cache warm" for the warm one."""
    return ", HTTP cache warm" if br.get("http_cache") == "warm" else ""


def mark(ok: bool | None) -> str:
    return "?" if ok is None else ("✓" if ok else "✗")


def evaluate(results: list[dict], pages) -> list[dict]:
    """Every target check: {target, dataset, page, value, limit, ok}."""
    checks = []
    by = {(r["engine"], r["scale"]): r for r in results}
    x1 = by.get(("sqlite", 1))
    if x1:
        for page, path, _ in pages:
            p = x1["pages"].get(page)
            if not p:
                continue
            for key, limit in (("warm_s", WARM_X1_SQLITE_S), ("cold_s", COLD_X1_SQLITE_S)):
                v = p[key]["median"]
                checks.append({"target": f"sqlite ×1 {key[:4]} ≤ {limit} s", "page": path, "value": v,
                               "limit": limit, "ok": None if v is None else v <= limit})
    x100 = by.get(("postgresql", 100))
    if x100:
        for page, path, _ in pages:
            p = x100["pages"].get(page)
            if not p:
                continue
            v = p["cold_s"]["median"]
            checks.append({"target": f"postgresql ×100 cold ≤ {COLD_X100_PG_S} s", "page": path, "value": v,
                           "limit": COLD_X100_PG_S, "ok": None if v is None else v <= COLD_X100_PG_S})
    pg_scales = sorted(s for e, s in by if e == "postgresql")
    if len(pg_scales) > 1 and pg_scales[0] == 1:
        top = pg_scales[-1]
        for page, path, _ in pages:
            pa, pb = by[("postgresql", 1)]["pages"].get(page), by[("postgresql", top)]["pages"].get(page)
            if not pa or not pb:
                continue
            a, b = pa["warm_s"]["median"], pb["warm_s"]["median"]
            ratio = b / a if a and b else None
            checks.append({"target": f"postgresql warm ×{top} ≤ {GROWTH_MAX}× ×1", "page": path, "value": ratio,
                           "limit": GROWTH_MAX, "ok": None if ratio is None else ratio <= GROWTH_MAX})
    for r, br in ((r, br) for r in results for br in browser_runs(r)):
        e = (br.get("empty") or {}).get("time", {}).get("median")
        for page, path, _ in pages:
            if not br or not e:
                continue
            pb = (br.get("pages") or {}).get(page) or {}
            for key, name, limit in (("first_screen_ratio", "first screen", FIRST_SCREEN_RATIO_MAX),
                                     ("fully_drawn_ratio", "fully drawn", FULLY_DRAWN_RATIO_MAX)):
                ratio = (pb.get(key) or {}).get("median")  # paired: the page over the empty page of its round
                checks.append({"target": f"{r['engine']} ×{r['scale']} {name} ≤ {limit}× empty{cache_label(br)}",
                               "page": path, "value": ratio, "limit": limit,
                               "ok": None if ratio is None else ratio <= limit})
        sw = (br.get("slide_switch") or {}).get("time", {}).get("median")
        if br and "slide_switch" in br:
            checks.append({"target": f"{r['engine']} ×{r['scale']} slide switch ≤ {SLIDE_SWITCH_MAX_S} s{cache_label(br)}",
                           "page": "roundtable", "value": sw, "limit": SLIDE_SWITCH_MAX_S,
                           "ok": None if sw is None else sw <= SLIDE_SWITCH_MAX_S})
    top = max((s for _, s in by), default=None)
    for (eng, s), r in by.items():
        if s != top:
            continue
        peak = max([(p["rss_peak_mb"]["max"] or 0) for p in r["pages"].values()] or [0])
        srv = max([br.get("server_peak_rss_mb") or 0 for br in browser_runs(r)] or [0])
        v = max(peak, srv)
        checks.append({"target": f"{eng} ×{s} peak memory ≤ 1 GB", "page": "(all)", "value": v,
                       "limit": PEAK_MB_MAX, "ok": v <= PEAK_MB_MAX})
    return checks


def evaluate_load(load: dict | None) -> list[dict]:
    if not load:
        return []
    return [{"target": f"load {load['sessions']} sessions × {load['seconds']:.0f} s: errors = 0", "page": "(all)",
             "value": load["errors"], "limit": 0, "ok": load["errors"] == 0}]


def evaluate_imports(imports: dict | None) -> list[dict]:
    from bench.imports import IMPORT_100K_S, evaluate
    ok = {e: r for e, r in (imports or {}).items() if "error" not in r}
    failed = [{"target": f"import ≤ {IMPORT_100K_S:.0f} s", "page": e, "value": None, "limit": IMPORT_100K_S,
               "ok": False} for e, r in (imports or {}).items() if "error" in r]
    return evaluate(ok) + failed


def print_load(load: dict | None) -> None:
    if not load:
        return
    print(f"\n=== 负载 load: {load['sessions']} {load.get('clients', 'protocol')} sessions × {load['seconds']:.0f} s "
          f"(think {load.get('think_s', 0):g} s) on sqlite ×1; "
          f"{load['visits']} page visits; page time p50 / p95 s ===", flush=True)
    ps = load["page_s"]
    print(f"{'(all pages)':16s} {ps['p50'] or 0:8.3f} {ps['p95'] or 0:8.3f}  n={ps['n']}", flush=True)
    for path, x in load["pages"].items():
        print(f"{path:16s} {x['p50'] or 0:8.3f} {x['p95'] or 0:8.3f}  n={x['n']}", flush=True)
    si = load["sign_in_s"]
    print(f"sign-in p50 {si['p50'] or 0:.3f} s, p95 {si['p95'] or 0:.3f} s; errors {load['errors']}"
          + (f": {load['error_samples'][:3]}" if load["errors"] else ""), flush=True)


def print_tables(results: list[dict], pages, checks: list[dict]) -> None:
    def p(*a):
        print(*a, flush=True)
    p("\n=== 服务端 AppTest: median (min–max) s; map = streamlit_folium args bytes; RSS = peak MB of cold process ===")
    hdr = f"{'dataset':16s} {'page':16s} {'cold s':24s} {'warm s':24s} {'RSS MB':8s} {'map bytes':>10s}"
    p(hdr)
    for r in results:
        ds = f"{r['engine']} ×{r['scale']}"
        for page, path, _ in pages:
            x = r["pages"].get(page)
            if not x:
                continue
            mb = x["map_bytes"]["median"] if x.get("map_bytes") else "-"
            rss = x["rss_peak_mb"]["median"]
            p(f"{ds:16s} {path:16s} {fmt(x['cold_s']):24s} {fmt(x['warm_s']):24s} "
              f"{(f'{rss:.0f}' if rss else '-'):8s} {mb:>10}" + ("  ERR" if x["errors"] else ""))
    p("\n=== 命名查询 (direct, uncached, 2024-H1, whole district): median (min–max) s ===")
    names = list(results[0]["queries"]) if results and results[0].get("queries") else []
    p(f"{'query':38s} " + " ".join(f"{r['engine'][:6]}×{r['scale']:<14}" for r in results))
    for n in names:
        p(f"{n:38s} " + " ".join(f"{fmt(r['queries'].get(n)):22s}" for r in results))
    if any(browser_runs(r) for r in results):
        p("\n=== Chromium: navigation → main element drawn, median (min–max) s; ratio = page / empty ===")
        # a dataset without a browser run has none here (--browser-on names the ones that have one)
        for r, br in ((r, br) for r in results for br in browser_runs(r)):
            p(f"-- HTTP cache {br.get('http_cache', 'cold')} "
              + ("(a fresh browser profile per visit: every static file fetched)" if br.get("http_cache") != "warm"
                 else "(a new tab of a browser that has opened the page before: static files from its cache)"))
            if "error" in br:
                p(f"{r['engine']} ×{r['scale']}: ERROR {br['error'][:200]}")
                continue
            e = br.get("empty", {}).get("time")
            root = br.get("empty_root", {}).get("time")
            p(f"{r['engine']} ×{r['scale']}: empty page, same server /{br.get('empty', {}).get('url_path', '')}: "
              f"{fmt(e)}; "
              f"empty page at / of a separate server: {fmt(root)}; "
              f"server peak RSS {br.get('server_peak_rss_mb') or 0:.0f} MB")
            floors = br.get("element_floors") or {}
            if floors:
                p("   element floors (the empty page + one minimal element; ratio to the empty page, paired): "
                  + "; ".join(f"{el} {fmt(x['time'])} ×{x['paired_ratio']['median']:.2f}" if "time" in x
                              else f"{el} ERROR" for el, x in floors.items()))
            p(f"   {'page':16s} {'main':10s} {'time s':24s} ratio  paired (ratio to the separate server's /)"
              "  ÷ element floor   first screen ×   fully drawn ×")
            if br.get("slide_switch"):
                p(f"   roundtable slide switch (→ to the next slide drawn): {fmt(br['slide_switch'].get('time'))}")
            for page, path, _ in pages:
                pb = br.get("pages", {}).get(page, {})
                t = pb.get("time")
                ratio = t["median"] / e["median"] if t and e and t.get("median") else None
                rr = t["median"] / root["median"] if t and root and t.get("median") and root.get("median") else None
                pr = (pb.get("paired_ratio") or {}).get("median")
                efr = (pb.get("element_floor_ratio") or {}).get("median")
                fr = (pb.get("first_screen_ratio") or {}).get("median")
                dr = (pb.get("fully_drawn_ratio") or {}).get("median")
                p(f"   {path:16s} {pb.get('main', 'ERR'):10s} {fmt(t):24s} {ratio:.2f}   {pr or 0:.2f}   ({rr or 0:.2f})"
                  + (f"  {efr:.2f}" if efr else "  -") + f"   {fr or 0:.2f}   {dr or 0:.2f}"
                  if ratio
                  else f"   {path:16s} ERROR {pb.get('error', '')[:150]}")
    p("\n=== 目标 targets ===")
    for c in checks:
        v = c["value"]
        p(f" {mark(c['ok'])} {c['target']:58s} {c['page']:16s} {('-' if v is None else f'{v:.3f}'):>9s}")
    missed = [c for c in checks if c["ok"] is False]
    p(f"\n{len(checks) - len(missed)}/{len(checks)} targets met; missed: {len(missed)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="1,10", help="comma-separated demo scales (1, 10, 100)")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--datasets", default="",
                    help="engine:scale pairs instead of --scales × --engines, e.g. sqlite:1,postgresql:100")
    ap.add_argument("--browser-on", default="",
                    help="engine:scale pairs whose pages are also timed in Chromium (default: every dataset)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default="bench/results/bench.json")
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep and reuse the databases under bench/.cache")
    ap.add_argument("--skip-server", action="store_true", help="browser only (no AppTest, no query timings)")
    ap.add_argument("--browser-cache", default="cold", type=lambda v: ",".join(cache_modes(v)),
                    help="cold: fresh browser context per visit; warm: new tab of a context with a filled HTTP cache; "
                         "cold,warm: both, one after the other (make bench)")
    ap.add_argument("--pages", default="", help="only these url_paths (comma-separated); default every page")
    ap.add_argument("--load", action="store_true", help="also run the load test (bench/load.py) on a ×1 SQLite demo")
    ap.add_argument("--load-seconds", type=float, default=120)
    ap.add_argument("--load-sessions", type=int, default=20)
    ap.add_argument("--load-think", type=float, default=5.0,
                    help="seconds a session reads a page before the next one (0: back to back, the worst case)")
    ap.add_argument("--cluster", action="store_true",
                    help="also the load through nginx in front of 2 replicas on the ×1 PostgreSQL demo "
                         "(deploy/cluster.py), once steady and once with one replica killed halfway")
    ap.add_argument("--cluster-sessions", type=int, default=50)
    ap.add_argument("--cluster-seconds", type=float, default=120)
    ap.add_argument("--cluster-ports", default="", help="nginx,replica,replica ports (default: free ones)")
    ap.add_argument("--imports", action="store_true",
                    help="also a 100,000-row meal-records file imported new, again and corrected, on each engine "
                         "of --engines (bench/imports.py)")
    a = ap.parse_args(argv)
    scales = [int(s) for s in a.scales.split(",") if s.strip()]
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    wanted_sets = ([(e.strip(), int(x)) for e, x in (d.split(":") for d in a.datasets.split(",") if d.strip())]
                   if a.datasets else [(e, s) for s in scales for e in engines])
    browser_on = {(e.strip(), int(x)) for e, x in (d.split(":") for d in a.browser_on.split(",") if d.strip())}
    pages = app_pages()
    if a.pages:
        wanted = set(a.pages.split(","))
        pages = [p for p in pages if p[1] in wanted]
    out_path = (ROOT / a.out) if not Path(a.out).is_absolute() else Path(a.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)

    doc = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "command": " ".join([Path(sys.executable).name, "-m", "bench"] + (argv if argv is not None else sys.argv[1:])),
           "machine": machine(), "load_avg_start": os.getloadavg(), "runs": a.runs,
           "notes": ["The 2 cores are shared with other processes during the run: figures are noisy; "
                     "compare the empty page measured in the same run and load_avg_start/_end.",
                     "map bytes = len(json_args) of the streamlit_folium component instances read from AppTest "
                     "(the arguments Streamlit sends to the browser), after the warm run (2024-H1, one street).",
                     "warm = rerun after a street change (period 2024-H1); each run changes to a different street, "
                     "so st.cache_data misses and the page's queries really run.",
                     "browser first screen = performance.now() at the first animation frame with headline numbers, "
                     "a chart, a drawn map or a table in the main area; fully drawn = the main element drawn, the "
                     "script run finished and every map drawn; ratios are paired with the empty page of the same "
                     "round (median over rounds); slide switch = → pressed on the roundtable to the next slide's "
                     "title and image drawn and its run finished.",
                     "browser = performance.now() at the first animation frame with the main element drawn "
                     "(map, else chart, else metric, else table); fresh browser context per visit, server caches "
                     "warm from one unmeasured visit; visits interleaved (each round: floor, empty_root, every page); the ratio's floor is the empty page of the same server at "
                     "/bench_floor (a bookmarked address like the pages); empty_root = an empty page at / of a "
                     "separate server, for comparison; paired = the median over rounds of a page's time over the "
                     "floor's time in the same round (a drift of the machine between rounds cancels out).",
                     "machine.python_loop_s = median time of a fixed pure-Python loop: read run-to-run differences "
                     "of absolute times against it."],
           "datasets": []}
    log = lambda *x: print(*x, flush=True)  # noqa: E731
    m = doc["machine"]
    log(f"bench: datasets {wanted_sets}, {a.runs} runs, {len(pages)} pages; load {os.getloadavg()}\n"
        f"machine: {m.get('cpu_model')}, {m.get('cpu_count')} cores, {m.get('ram_gb')} GB; "
        f"Python loop {m.get('python_loop_s')} s (speed reference)")
    for eng, scale in wanted_sets:
        log(f"\n[{eng} ×{scale}] preparing database ({'reuse allowed' if a.keep else 'fresh'}) …")
        t = time.perf_counter()
        ds = datasets.prepare(eng, scale, a.keep)
        log(f"  ready in {time.perf_counter() - t:.1f} s ({'reused' if ds.reused else 'built'}): {ds.build}")
        skip_browser = a.skip_browser or bool(browser_on and (eng, scale) not in browser_on)
        try:
            doc["datasets"].append(bench_dataset(ds, pages, a.runs, skip_browser, log, a.skip_server,
                                              a.browser_cache))
        finally:
            if not a.keep:
                datasets.drop(ds)
        out_path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if a.load:
        from bench.load import run_load
        log(f"\n[load] {a.load_sessions} sessions × {a.load_seconds:.0f} s on sqlite ×1 …")
        ds = datasets.prepare("sqlite", 1, a.keep)
        try:
            doc["load"] = run_load(ds.url, None, a.load_sessions, a.load_seconds, log, think=a.load_think)
        except Exception as exc:  # noqa: BLE001 - keep the rest of the results
            doc["load"] = {"error": str(exc)[:1000], "errors": 1, "sessions": a.load_sessions,
                           "seconds": a.load_seconds}
            log(f"  load ERROR {exc}")
        finally:
            if not a.keep:
                datasets.drop(ds)
    if a.cluster:
        from bench.load import run_cluster_load
        ds = datasets.prepare("postgresql", 1, True)
        doc["cluster_load"] = {}
        ports = [int(p) for p in a.cluster_ports.split(",") if p.strip()]
        for name, kill in (("steady", False), ("replica_killed", True)):
            log(f"\n[cluster {name}] {a.cluster_sessions} sessions × {a.cluster_seconds:.0f} s through nginx, "
                f"2 replicas on postgresql ×1 …")
            try:
                doc["cluster_load"][name] = run_cluster_load(ds.url, a.cluster_sessions, a.cluster_seconds, log,
                                                             kill_half=kill, think=a.load_think,
                                                             port=ports[0] if ports else 0,
                                                             replica_ports=ports[1:] or None)
            except Exception as exc:  # noqa: BLE001 - keep the rest of the results
                doc["cluster_load"][name] = {"error": str(exc)[:1000], "errors": 1,
                                             "sessions": a.cluster_sessions, "seconds": a.cluster_seconds}
                log(f"  cluster load ERROR {exc}")
            out_path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if a.imports:
        from bench.imports import run_imports
        doc["imports"] = {}
        for eng in engines:
            log(f"\n[imports] 100,000 meal records on {eng}: new, the same file again, every row corrected …")
            try:
                doc["imports"][eng] = run_imports(eng, a.runs, log)
            except Exception as exc:  # noqa: BLE001 - keep the rest of the results
                doc["imports"][eng] = {"error": str(exc)[:1000]}
                log(f"  imports ERROR {exc}")
            out_path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    doc["load_avg_end"] = os.getloadavg()
    doc["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    doc["targets"] = (evaluate(doc["datasets"], pages) + evaluate_load(doc.get("load"))
                      + [{**t, "target": f"cluster {name}: " + t["target"]}
                         for name, res in (doc.get("cluster_load") or {}).items() for t in evaluate_load(res)]
                      + evaluate_imports(doc.get("imports")))
    out_path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print_tables(doc["datasets"], pages, doc["targets"])
    if doc.get("load") and "page_s" in doc["load"]:
        print_load(doc["load"])
    for name, res in (doc.get("cluster_load") or {}).items():
        if "page_s" in res:
            c = res["cluster"]
            print(f"\n=== 集群 cluster {name}: {res['sessions']} sessions × {res['seconds']:.0f} s via nginx → "
                  f"{len(c['replicas'])} replicas: {res['visits']} visits, p50 {res['page_s']['p50'] or 0:.3f} s, "
                  f"p95 {res['page_s']['p95'] or 0:.3f} s, errors {res['errors']}, reconnects {res['reconnects']}, "
                  f"peak RSS MB {c['peak_rss_mb']}, killed {c['killed'] or '—'} ===", flush=True)
    for eng, res in (doc.get("imports") or {}).items():
        if "error" not in res:
            print(f"\n=== 导入 import {res['rows']:,} meal records on {eng}: new {fmt(res['new_s'])} s, same file "
                  f"{fmt(res['same_s'])} s, every row corrected {fmt(res['changed_s'])} s ===", flush=True)
    log(f"\nJSON: {out_path.relative_to(ROOT) if out_path.is_relative_to(ROOT) else out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
