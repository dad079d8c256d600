"""One cold + one warm server-side run of a page in a fresh process; prints one JSON line.

    python -m bench.cold <page file, e.g. pages/aid.py> <database URL> [--street-index N]

The session is signed in as the bench account before the first run: the token (data.security.auth.sign_in, made by the
parent so that signing in — an Argon2 hash — is not part of cold_s, and passed in the environment variable
BENCH_AUTH_TOKEN) is put in st.session_state["_auth_token"]; without it one is made here, before the clock starts.

warmup_s — what a replica does at start before it takes users (deploy/health.py --warm; `make run`'s first sign-in
          page): one anonymous run of app.py (the sign-in page: engine creation, schema check), then the wait for
          the warm-up thread it starts (components/warmup.py: the pages' libraries and the geography files).
          With --no-warmup it is skipped and cold_s pays all of it (the figure of a server nobody warmed up).
cold_s  — wall time of the first signed-in AppTest run of app.py on that page in this process: every query of the
          page with empty caches, and whatever the page imports that the warm-up did not.
warm_s  — after the cold run: period set to 2024-H1 (untimed rerun), then the street changed; time of that rerun.
map_bytes — sum of len(json_args) of every streamlit_folium component instance the page sends (what AppTest
          would send to the browser as the component's arguments), measured after the warm run.
rss_peak_mb — this process's peak RSS at the end (VmHWM; see _peak_rss_mb for why not ru_maxrss).

Server time only: the pause a page's first run makes after its headline for the browser to draw it
(components/first_screen.py, MZ_FIRST_SCREEN_PAUSE_MS) is turned off here — AppTest has no browser, and a pause is
no work; the browser benchmark (bench/browser.py, a real server) includes it in what it measures.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MZ_FIRST_SCREEN_PAUSE_MS", "0")  # server work only (see above)


def _server_like_pages_manager():
    """Same as tests/conftest.py: every AppTest rerun goes through app.py, like a real server. Also like a real
    server (one ScriptCache in the Runtime), a script's bytecode is compiled once per process, not again on every
    AppTest run (AppTest makes a new ScriptCache per run, so its reruns would pay a compile no server pays).
    And like a real server (whose Runtime keeps st.cache_data in a LocalDiskCacheStorageManager), functions cached
    with persist="disk" read and write ~/.streamlit/cache: without a Runtime, AppTest keeps them in memory only, so
    a fresh process would redo work that a restarted server finds on disk (圆桌会's slide images)."""
    from streamlit.runtime import pages_manager
    from streamlit.runtime.caching import cache_data_api
    from streamlit.runtime.caching.storage.local_disk_cache_storage import LocalDiskCacheStorageManager
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared

    class ServerLikePagesManager(pages_manager.PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pages_manager.PagesManager.uses_pages_directory = False

    app_test.PagesManager = ServerLikePagesManager
    disk = LocalDiskCacheStorageManager()
    cache_data_api._data_caches.get_storage_manager = lambda: disk


def _errors(at) -> list[str]:
    return [str(e.value)[:300] for e in at.exception]


def map_bytes(at) -> tuple[int, int]:
    comps = [c for c in at.get("component_instance") if c.proto.component_name.endswith("st_folium")]
    return len(comps), sum(len(c.proto.json_args.encode("utf-8")) for c in comps)


def measure(page: str, url: str, street_index: int = 0, profile: str | None = None,
            token: str | None = None, sql: bool = False, plans: int = 0, warm_up: bool = True) -> dict:
    if not token:
        from bench.auth import token as make_token
        token = make_token(url)
    t_import = time.perf_counter()
    from streamlit.testing.v1 import AppTest
    import_s = time.perf_counter() - t_import
    _server_like_pages_manager()
    os.environ["DATABASE_URL"] = url
    os.chdir(ROOT)
    out: dict = {"page": page, "streamlit_import_s": import_s}
    if warm_up:
        out["warmup_s"] = _warm_up()

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    # url_path == file stem for every page, so the page resolves before the first run (a deep link).
    at.switch_page(page)
    at.session_state["_auth_token"] = token
    profiles: list = []
    if profile:
        _profile_script_thread(profiles, active=lambda: profile == "cold" and "cold_s" not in out
                               or profile == "warm" and "warm_start" in out)
    trace = None
    if sql or plans:
        from bench.sqltrace import install
        trace = install()
    t = time.perf_counter()
    at.run()
    out["cold_s"] = time.perf_counter() - t
    if trace is not None:  # the named queries of the cold run, by total time (the statements stay in memory)
        out["sql_cold"] = {k: {"n": v["n"], "seconds": round(v["seconds"], 4)}
                           for k, v in list(trace.by_query().items())[:15]}
        out["sql_cold_total_s"] = round(sum(s.seconds for s in trace.statements), 4)
        if plans:
            out["plans"] = _plans(trace, url, plans)
    out["cold_errors"] = _errors(at)
    out["cold_title"] = next((str(e.value) for kind in ("title", "header", "subheader") for e in getattr(at, kind)), "")

    # Period → 2024-H1 (untimed), then change the street (timed).
    at.session_state["flt_p_half"] = "2024-H1"
    at.selectbox(key="flt_kind").set_value("half")
    at.run()
    codes = _street_codes(url)
    at.selectbox(key="flt_street").set_value(codes[street_index % len(codes)])
    out["warm_start"] = True
    t = time.perf_counter()
    at.run()
    out["warm_s"] = time.perf_counter() - t
    del out["warm_start"]
    out["warm_errors"] = _errors(at)
    out["warm_street"] = at.selectbox(key="flt_street").value
    out["warm_period"] = (at.query_params.get("period"))
    out["maps"], out["map_bytes"] = map_bytes(at)
    out["rss_peak_mb"] = _peak_rss_mb()
    if profiles:
        out["profile_text"] = profiles[-1]
    return out


def _warm_up() -> float:
    """A replica's start: one anonymous run of app.py (the sign-in page), then the warm-up thread it started."""
    from streamlit.testing.v1 import AppTest

    t = time.perf_counter()
    AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    from components import warmup
    if not warmup.wait(300):
        raise RuntimeError("warm-up did not finish")
    return time.perf_counter() - t


def _plans(trace, url: str, n: int) -> list[dict]:
    """EXPLAIN of the slowest statement of each of the n slowest named queries of the cold run (bench/plans.py)."""
    from bench.sqltrace import explain, shown_params
    from data.db.engine import get_engine

    out = []
    with get_engine(url).connect() as conn:
        for s in trace.top(n):
            try:
                plan = explain(conn, s)
            except Exception as exc:  # noqa: BLE001 - a plan that cannot be taken is reported, not fatal
                conn.rollback()
                plan = f"(no plan: {str(exc)[:300]})"
            out.append({"query": s.query, "seconds": round(s.seconds, 4), "sql": s.sql,
                        "params": shown_params(s.params), "plan": plan})
    return out


def _peak_rss_mb() -> float:
    """This process's own peak RSS: VmHWM of /proc/self/status (per address space, so reset by exec).

    getrusage's ru_maxrss is not used: on Linux it survives fork + execve, so a child of a large parent reports
    the parent's high-water mark. It is only the fallback where /proc is missing.
    """
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _profile_script_thread(sink: list, active) -> None:
    """pyinstrument samples only the thread it starts in: start it inside Streamlit's script thread."""
    from pyinstrument import Profiler
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script

    def wrapped(self, rerun_data):
        if not active():
            return original(self, rerun_data)
        prof = Profiler(interval=0.001)
        prof.start()
        try:
            return original(self, rerun_data)
        finally:
            prof.stop()
            sink.append(prof.output_text(unicode=True, color=False, show_all=False))

    script_runner.ScriptRunner._run_script = wrapped


def _street_codes(url: str) -> list[str]:
    from data.db.engine import get_engine
    from data.queries.geography import subdistrict_names
    return sorted(subdistrict_names(get_engine(url)))


def main(argv=None) -> None:
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("url")
    ap.add_argument("--street-index", type=int, default=0)
    ap.add_argument("--profile", choices=["cold", "warm"])
    ap.add_argument("--sql", action="store_true", help="also time the cold run's SQL by named query (sql_cold)")
    ap.add_argument("--plans", type=int, default=0, help="EXPLAIN the slowest statements of the cold run (plans)")
    ap.add_argument("--no-warmup", action="store_true", help="time the first visit of a server nobody warmed up")
    a = ap.parse_args(argv)
    res = measure(a.page, a.url, a.street_index, a.profile, os.environ.get("BENCH_AUTH_TOKEN"), a.sql, a.plans,
                  warm_up=not a.no_warmup)
    sys.stdout.write("BENCH_JSON " + json.dumps(res, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
