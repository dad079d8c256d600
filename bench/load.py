"""Load test (issue 8): simultaneous browser sessions against one Streamlit server for a fixed time.

    python -m bench.load [--sessions 20] [--seconds 120] [--url DATABASE_URL] [--keep] [--out bench/results/load.json]

Each session is a Chromium context of its own (one headless Debian Chromium for all of them) that signs in like a
user (用户名 / 密码 / 登录, the bench account of bench.auth) and then cycles through the pages of the navigation,
clicking the sidebar links (a client-side page switch: the session and its filters are kept), starting at a
different page per session so the server sees a mix. A page time is from the click to the end of that script run
(the app's data-test-script-state back at notRunning after running) plus, on a page with a map, until Leaflet has
drawn in the component's iframe. Errors: a page showing a Streamlit exception or an error box, a script run or map
that does not finish within the timeout, a JavaScript error in the page, a lost connection, a failed sign-in.

Without --url the ×1 SQLite demo of the benchmark (bench/.cache, built if missing) is used.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM, CHROMIUM_ARGS, AppServer  # noqa: E402  (tests/browser.py)

from bench import auth  # noqa: E402

PAGE_TIMEOUT_MS = 90_000
SIGN_IN_TIMEOUT_MS = 180_000  # twenty sessions' first page (the home page, caches cold) arrive together
SIGN_IN_STAGGER_S = 0.4  # sessions arrive 0.4 s apart, not in one burst (each sign-in is an Argon2 hash)

# Before a click: watch the app's script state; window.__mzRun.done is set when a run that started after this
# point has ended. The records' old values catch a running → notRunning flip between two callbacks.
_ARM_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (window.__mzObs) window.__mzObs.disconnect();
  const run = window.__mzRun = {start: performance.now(), ran: false, done: null};
  const obs = window.__mzObs = new MutationObserver((records) => {
    const now = app.getAttribute('data-test-script-state');
    for (const r of records) if (r.oldValue === 'running') run.ran = true;
    if (now === 'running') run.ran = true;
    if (run.ran && now === 'notRunning' && run.done === null) run.done = performance.now();
  });
  obs.observe(app, {attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true});
  return true;
}"""

_RUN_DONE_JS = """() => {
  const r = window.__mzRun;
  if (!r || r.done === null) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]')) return false;
  return true;
}"""

_MAP_DRAWN_JS = """() => {
  const frames = document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]');
  if (!frames.length) return true;
  for (const f of frames) {
    let d = null;
    try { d = f.contentDocument; } catch (e) { d = null; }
    const c = d && d.querySelector('.leaflet-container');
    if (!(c && c.clientWidth > 0 && c.clientHeight > 0)) return false;
  }
  return true;
}"""

_IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]');
}"""

_PROBLEMS_JS = """() => {
  const out = [];
  for (const e of document.querySelectorAll('[data-testid="stException"]')) out.push('exception: ' + e.innerText.slice(0, 200));
  for (const e of document.querySelectorAll('[data-testid="stAlertContentError"]')) out.push('error box: ' + e.innerText.slice(0, 200));
  const app = document.querySelector('[data-testid="stApp"]');
  if (app && app.getAttribute('data-test-connection-state') !== 'CONNECTED') out.push('connection: ' + app.getAttribute('data-test-connection-state'));
  return out;
}"""


def _pct(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    s = sorted(samples)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _summary(samples: list[float]) -> dict:
    return {"n": len(samples), "p50": _pct(samples, 0.5), "p95": _pct(samples, 0.95),
            "mean": statistics.fmean(samples) if samples else None, "max": max(samples) if samples else None}


async def _wait_idle(page, timeout_ms: int) -> None:
    await page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling=100)
    await page.wait_for_timeout(300)
    await page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling=100)


_SIGNED_IN_JS = """() => !document.querySelector('input[aria-label="用户名"]')
  && !!document.querySelector('[data-testid="stSidebarNav"] a')"""

_NAV_JS = """() => [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
  .map(a => new URL(a.href).pathname.split('/').filter(Boolean).pop() || '')"""


async def _session(i: int, browser, base: str, pages: list[str] | None, deadline: float, out: dict,
                   log) -> None:
    """One user: sign in, then click through `pages` (url paths; default: every page of its navigation) until the
    deadline."""
    await asyncio.sleep(i * SIGN_IN_STAGGER_S)
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block", locale="zh-CN")
    ctx.set_default_timeout(PAGE_TIMEOUT_MS)
    page = await ctx.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)[:200]))
    me = f"session {i}"
    try:
        t = time.perf_counter()
        await page.goto(f"{base}/?period=2024-H1", wait_until="domcontentloaded")
        # .first: while Streamlit redraws, the previous run's form can briefly be in the page beside the new one
        user = page.get_by_label("用户名", exact=True).first
        await user.wait_for(timeout=SIGN_IN_TIMEOUT_MS)
        await user.fill(auth.USERNAME)
        await page.get_by_label("密码", exact=True).first.fill(auth.PASSWORD)
        await page.get_by_role("button", name="登录").first.click()
        await page.wait_for_function(_SIGNED_IN_JS, timeout=SIGN_IN_TIMEOUT_MS, polling=200)
        await _wait_idle(page, SIGN_IN_TIMEOUT_MS)
        out["sign_in_s"].append(time.perf_counter() - t)
        pages = pages or [p for p in await page.evaluate(_NAV_JS) if p]
        out["pages_seen"].update(pages)
    except Exception as exc:  # noqa: BLE001 - a failed sign-in is an error of the run, not of the harness
        out["errors"].append(f"{me} sign-in: {str(exc)[:300]}")
        await ctx.close()
        return
    k = i  # each session starts at a different page
    try:
        while time.monotonic() < deadline:
            path = pages[k % len(pages)]
            k += 1
            link = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first
            try:
                await page.evaluate(_ARM_JS)
                await link.click(timeout=PAGE_TIMEOUT_MS)
                await page.wait_for_function(_RUN_DONE_JS, timeout=PAGE_TIMEOUT_MS, polling="raf")
                await page.wait_for_function(_MAP_DRAWN_JS, timeout=PAGE_TIMEOUT_MS, polling="raf")
                elapsed = await page.evaluate("() => (performance.now() - window.__mzRun.start) / 1000")
                problems = await page.evaluate(_PROBLEMS_JS)
                if not page.url.split("?")[0].endswith("/" + path):
                    problems.append(f"landed on {page.url}")
            except Exception as exc:  # noqa: BLE001
                out["errors"].append(f"{me} {path}: {str(exc).splitlines()[0][:300]}")
                out["visits"].append({"session": i, "page": path, "ok": False})
                await _recover(page, base, path)
                continue
            problems += [f"javascript: {e}" for e in js_errors]
            js_errors.clear()
            out["visits"].append({"session": i, "page": path, "s": elapsed, "ok": not problems})
            if problems:
                out["errors"].extend(f"{me} {path}: {p}" for p in problems)
    finally:
        await ctx.close()


async def _recover(page, base: str, path: str) -> None:
    """After a failed visit, wait for the app to settle so the next click is measured cleanly."""
    try:
        await _wait_idle(page, PAGE_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - the next visit will report what is wrong
        pass


async def _run(base: str, pages: list[str] | None, sessions: int, seconds: float, log) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"visits": [], "errors": [], "sign_in_s": [], "pages_seen": set()}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            deadline = time.monotonic() + sessions * SIGN_IN_STAGGER_S + seconds
            await asyncio.gather(*[_session(i, browser, base, pages, deadline, out, log) for i in range(sessions)])
        finally:
            await browser.close()
    return out


def _server_rss(server: AppServer) -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    except (OSError, AttributeError):
        pass
    return out


def run_load(url: str, pages: list[str] | None = None, sessions: int = 20, seconds: float = 120,
             log=print) -> dict:
    """pages: url paths to cycle through (default: the signed-in navigation). Returns the summary: p50/p95 page
    time overall and per page, visits, sign-in times, errors (count and the first 20), the server's memory."""
    auth.ensure_user(url)
    server = AppServer(ROOT / "app.py", env={"DATABASE_URL": url})
    server.start()
    t0 = time.perf_counter()
    try:
        raw = asyncio.run(_run(server.url, pages, sessions, seconds, log))
        rss = _server_rss(server)
    finally:
        server.close()
    wall = time.perf_counter() - t0
    ok = [v["s"] for v in raw["visits"] if v.get("ok") and "s" in v]
    per_page = {}
    for path in sorted(raw["pages_seen"]):
        per_page[path] = _summary([v["s"] for v in raw["visits"] if v["page"] == path and v.get("ok") and "s" in v])
    res = {"sessions": sessions, "seconds": seconds, "wall_s": wall, "visits": len(raw["visits"]),
           "page_s": _summary(ok), "pages": per_page, "sign_in_s": _summary(raw["sign_in_s"]),
           "errors": len(raw["errors"]), "error_samples": raw["errors"][:20], "server_rss_mb": rss}
    log(f"  load: {sessions} sessions × {seconds:.0f} s: {res['visits']} page visits, "
        f"p50 {res['page_s']['p50'] or 0:.3f} s, p95 {res['page_s']['p95'] or 0:.3f} s, errors {res['errors']}")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--url", default=None, help="database URL (default: the ×1 SQLite demo of the benchmark)")
    ap.add_argument("--pages", default="", help="url paths to cycle through (default: the whole navigation)")
    ap.add_argument("--out", default="bench/results/load.json")
    a = ap.parse_args(argv)
    url = a.url
    if not url:
        from bench import datasets
        url = datasets.prepare("sqlite", 1, keep=True).url
    res = run_load(url, [p for p in a.pages.split(",") if p] or None, a.sessions, a.seconds)
    out = ROOT / a.out if not Path(a.out).is_absolute() else Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in res.items() if k != "pages"}, ensure_ascii=False, indent=1))
    return 0 if res["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
