"""What a page does between navigation and fully drawn, in the browser (issue 22): a diagnostic, not a benchmark.

    python -m bench.timeline --db bench/.cache/sqlite-x1-0013.db --pages aid,stations [--rounds 2] [--http-cache warm]

For each page (one unmeasured visit first, so the server's caches are warm, then ``--rounds`` fresh browser
contexts like the browser benchmark's visits), prints in ms since navigation start: the first websocket message,
the first and last delta of the script run and the run's end ("script finished"), the number and bytes of
websocket messages, the JS chunks fetched after the first message (lazily loaded element code), and when each kind
of element first appeared (metric, chart, table, map iframe, drawn map) and the bench's "first" / "full" times.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import AppServer, launch_chromium  # noqa: E402

from bench.browser import _FIRST_JS, _FULL_JS, _context, _which_main, signed_in_state  # noqa: E402

# Installed before any page script: records each websocket message (time, bytes) and, every animation frame, the
# first time each kind of element is seen.
_INIT_JS = """(() => {
  const log = window.__tl = {ws: [], seen: {}, shown: {}, long: []};
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) log.long.push([Math.round(e.startTime), Math.round(e.duration)]); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) {}
  const Orig = window.WebSocket;
  window.WebSocket = function (...a) {
    const ws = new Orig(...a);
    ws.addEventListener('message', (e) => {
      const n = e.data && (e.data.byteLength || e.data.size || e.data.length) || 0;
      log.ws.push([performance.now(), n]);
    });
    return ws;
  };
  window.WebSocket.prototype = Orig.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  const kinds = {
    metric: '[class*="st-key-kpi_"] h2', chart_el: '[data-testid="stVegaLiteChart"]',
    chart: '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg',
    table_el: '[data-testid="stDataFrame"], [data-testid="stTable"]',
    table: '[data-testid="stDataFrame"] canvas, [data-testid="stDataFrame"] table, [data-testid="stTable"] table',
    iframe: 'iframe[title="streamlit_folium.st_folium"]', title: 'h1', skeleton: '[data-testid="stAppSkeleton"]',
    running: '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]',
  };
  const tick = () => {
    for (const [k, s] of Object.entries(kinds)) {
      if (!(k in log.seen) && document.querySelector(s)) log.seen[k] = performance.now();
      if (!(k in log.shown)) for (const el of document.querySelectorAll(s)) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) { log.shown[k] = performance.now(); break; }
      }
    }
    if (!('map' in log.seen)) for (const f of document.querySelectorAll(kinds.iframe)) {
      let d = null; try { d = f.contentDocument; } catch (e) {}
      if (d && d.querySelector('.leaflet-interactive, .leaflet-marker-icon, .marker-cluster')) log.seen.map = performance.now();
    }
    const app = document.querySelector('[data-testid="stApp"]');
    const st = app && app.getAttribute('data-test-script-state');
    if (st && st !== log.last) { log.states = log.states || []; log.states.push([st, performance.now()]); log.last = st; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""


def visit(browser, url, kind, state, warm: dict | None = None) -> dict:
    """One visit in a fresh context (cold HTTP cache), or, with ``warm`` (url → context), in a new tab of a context
    of its own whose HTTP cache an unmeasured visit filled (as bench/browser.py's http_cache="warm")."""
    if warm is not None and url not in warm:
        warm[url] = _context(browser, state)
        warm[url].add_init_script(_INIT_JS)
        filler = warm[url].new_page()
        filler.goto(url)
        filler.wait_for_function(_FULL_JS, arg=kind, polling="raf")
        filler.close()
    ctx = warm[url] if warm is not None else _context(browser, state)
    page = None
    try:
        if warm is None:
            ctx.add_init_script(_INIT_JS)
        page = ctx.new_page()
        page.goto(url, wait_until="commit")
        first = page.wait_for_function(_FIRST_JS, polling="raf").json_value()["t"] if kind != "idle" else None
        full = page.wait_for_function(_FULL_JS, arg=kind, polling="raf").json_value()["t"]
        page.wait_for_timeout(300)
        tl = page.evaluate("() => window.__tl")
        res = page.evaluate("""() => performance.getEntriesByType('resource').map(r =>
            [r.name.split('/').pop().split('?')[0], r.initiatorType, r.startTime, r.responseEnd, r.transferSize])""")
        return {"first": first, "full": full, **tl, "resources": res}
    finally:
        if warm is None:
            ctx.close()
        elif page is not None:
            page.close()


VERBOSE = False


def report(name: str, v: dict) -> None:
    ws = v["ws"]
    t0 = ws[0][0] if ws else 0
    big = sorted(ws, key=lambda x: -x[1])[:3]
    print(f"  {name}: first {v['first'] or 0:.0f}  full {v['full']:.0f}  | ws msgs {len(ws)} "
          f"{sum(n for _, n in ws) / 1024:.0f} KB, first msg {t0:.0f}, last msg {ws[-1][0] if ws else 0:.0f}; "
          f"biggest {[(round(t), round(n / 1024)) for t, n in big]} (ms, KB)")
    print("     seen: " + ", ".join(f"{k} {t:.0f}" for k, t in sorted(v["seen"].items(), key=lambda x: x[1])))
    print("     shown: " + ", ".join(f"{k} {t:.0f}" for k, t in sorted(v["shown"].items(), key=lambda x: x[1])))
    print("     long tasks (start+ms): " + ", ".join(f"{a}+{b}" for a, b in v["long"] if b >= 80))
    print("     states: " + ", ".join(f"{s} {t:.0f}" for s, t in v.get("states", [])))
    late = [r for r in v["resources"] if r[1] in ("script", "link", "css", "other", "fetch", "iframe") and r[2] > t0]
    keys = ("Metric.", "DataFrame.-", "ArrowVegaLiteChart", "embed.", "ComponentInstance", "index.html")
    print("     chunks: " + ", ".join(f"{r[0][:20]} {r[2]:.0f}→{r[3]:.0f}" for r in v["resources"]
                                    if r[0].startswith(keys)))
    print("     ws timeline (ms:KB, ≥2 KB): " + ", ".join(f"{t:.0f}:{n / 1024:.0f}" for t, n in ws if n >= int(__import__("os").environ.get("WSMIN", "2048"))))
    if not VERBOSE:
        return
    print("     fetched after first msg: " + ", ".join(f"{r[0][:28]}({r[1]}) {r[2]:.0f}→{r[3]:.0f}" for r in late))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--pages", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", default="")
    ap.add_argument("--http-cache", choices=["cold", "warm"], default="cold",
                    help="warm: each address in a new tab of a context whose HTTP cache one unmeasured visit filled")
    ap.add_argument("--base", default="", help="another checkout (e.g. git archive of main): its pages are visited "
                    "too, interleaved with these, on a second server over the same database (A/B in one run)")
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from bench import auth as bench_auth
    from components import floor

    db = Path(a.db).resolve()
    url = f"sqlite:///{db}"
    bench_auth.ensure_user(url)
    app = AppServer(ROOT / "app.py", env={"DATABASE_URL": url, floor.ENV: "1"})
    app.start()
    base = AppServer(Path(a.base) / "app.py", env={"DATABASE_URL": url, floor.ENV: "1"}) if a.base else None
    if base:
        base.start()
    out = {}
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            state = signed_in_state(browser, app.url)
            targets = [("empty", f"{app.url}/{floor.FLOOR_PATH}", None)]
            for p in a.pages.split(","):
                targets.append((p, f"{app.url}/{p}?period=2024-H1", state))
                if base:
                    targets.append((f"base:{p}", f"{base.url}/{p}?period=2024-H1", state))  # same database: same cookie
            kinds = {k: _which_main(browser, u, st) for k, u, st in targets}
            warm = {} if a.http_cache == "warm" else None
            for r in range(a.rounds):
                # each pair (this checkout, base) in alternating order: a visit right after another is not
                # systematically the second one
                order = targets[:1] + [t for i in range(1, len(targets), 2 if base else 1)
                                       for t in (targets[i:i + 2] if not base or r % 2 == 0 else targets[i:i + 2][::-1])]
                for k, u, st in order:
                    v = visit(browser, u, kinds[k], st, warm)
                    out.setdefault(k, []).append(v)
                    report(f"{k} [{kinds[k]}] r{r + 1}", v)
            browser.close()
    finally:
        app.close()
        if base:
            base.close()
    summary_lines = []
    for k, vs in out.items():
        if k == "empty":
            continue
        fl = [e["full"] for e in out["empty"]]
        fr = sorted(v["first"] / e for v, e in zip(vs, fl) if v["first"])
        fu = sorted(v["full"] / e for v, e in zip(vs, fl))
        med = lambda x: x[len(x) // 2] if x else float("nan")  # noqa: E731
        summary_lines.append(f"{k:28s} first ×{med(fr):.2f}  full ×{med(fu):.2f}  (n={len(fu)})")
    print("paired over the empty page (its full time), medians:\n  " + "\n  ".join(summary_lines))
    if a.json:
        Path(a.json).write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
