"""Load test (issue 8): simultaneous signed-in sessions against one Streamlit server for a fixed time.

    python -m bench.load [--sessions 20] [--seconds 120] [--clients protocol|browser] [--think 5] [--warm-up]
                         [--url DATABASE_URL] [--pages a,b] [--keep] [--out bench/results/load.json]
                         [--cluster 2 [--kill-half] [--port P] [--replica-ports P1,P2]]

Each session signs in like a user (用户名 / 密码 / 登录, the bench account of bench.auth) on the home page opened
with ?period=2024-H1, then cycles through the pages of its navigation like sidebar clicks (a client-side page
switch: the session and its sidebar filters are kept), starting at a different page per session so the server
sees a mix. Sessions arrive SIGN_IN_STAGGER_S apart (each sign-in is an Argon2 hash).

--clients protocol (default): each session is a bench.wsclient.StreamlitSession, an asyncio websocket client
that speaks Streamlit's browser protocol (BackMsg / ForwardMsg protobufs) to the real server as a browser tab
does, minus rendering; twenty of them cost the 2-core machine almost nothing, so the server is what is
measured. A page time is from sending the page change (rerun_script with the target page_script_hash) to the
script_finished that ends the run. A page with a streamlit-folium map also fetches the component's files over
HTTP, once per session, as a browser would (not part of the page time).

--clients browser: each session is a Chromium context (one headless Debian Chromium for all); a page time is
from the sidebar click until the app's script state is back at notRunning and, on a map page, Leaflet has
drawn. Twenty Chromium contexts saturate two cores by themselves: use it with few sessions.

Errors (target: none): a page showing a Streamlit exception or an error box, a run (or map) not finished within
the timeout, a lost connection, a failed sign-in, a run that lands on another page, an HTTP error on a
component file (protocol) or a JavaScript error (browser). Counted per page, with a short sample of each.

Every run of app.py goes through st.navigation (the sign-in form is drawn as the requested page), so a fresh
server never runs a session in Streamlit's legacy pages-directory mode, whose widget ids differ (before that fix a
sign-in submitted after another session's first sign-in was lost).
--warm-up signs in once, unmeasured, before the sessions start (a server that has been up a while).

Without --url the ×1 SQLite demo of the benchmark (bench/.cache, reused when present) is used.

A protocol session that loses its connection does what the browser tab does: reconnect (health check, a new
websocket offering its old session id, its cookies — nginx's affinity cookie and the app's mz_session), then ask for
the page again. A server that lost the session (another replica behind the proxy) starts a new one, which the session
cookie signs in; the visit counts from the first click ("reconnects" in the report) and is an error only if the page
then fails or shows the sign-in form.

--cluster N (issue 22): the same sessions through nginx in front of N replicas on PostgreSQL (deploy/cluster.py, as
`make cluster` runs them; --url or the ×1 PostgreSQL benchmark database); --kill-half kills the replica most sessions
connected to halfway through. The report adds "cluster": ports, each replica's peak RSS, what was killed when.
`python -m bench --cluster` runs it at 50 sessions × 120 s, steady and with the kill, into the benchmark JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import re
import resource
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
HOME_QUERY = "period=2024-H1"
CLIENTS = ("protocol", "browser")


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


class _Out:
    """What the sessions of one run record."""

    def __init__(self) -> None:
        self.visits: list[dict] = []  # {session, page, s, ok, problems}
        self.errors: list[dict] = []  # {session, page, text}; page "(sign-in)" / "(session)" outside a visit
        self.sign_in_s: list[float] = []
        self.pages_seen: list[str] = []  # in navigation order
        self.reconnects = 0  # visits that lost their server and went on after a reconnect (another replica)

    def saw(self, labels) -> None:
        for label in labels:
            if label not in self.pages_seen:
                self.pages_seen.append(label)

    def visit(self, session: int, page: str, seconds: float | None, problems: list[str]) -> None:
        self.visits.append({"session": session, "page": page, "s": seconds, "ok": not problems,
                            "problems": problems[:5]})
        if problems:
            self.error(session, page, "; ".join(problems))

    def error(self, session: int, page: str, text: str) -> None:
        self.errors.append({"session": session, "page": page, "text": text[:300]})


# ------------------------------------------------------------------------------------------ protocol clients


def _page_labels(pages) -> dict[str, str]:
    """page_script_hash → a short label: the url path; the default page (url path "") by its url path in the app's
    navigation (components/navigation.py) when its title is found there, else by its title."""
    try:
        from components.navigation import PAGES
        by_title = {p.title: p.url_path for p in PAGES}
    except Exception:  # noqa: BLE001 - another app (tests): titles only
        by_title = {}
    return {p.page_script_hash: p.url_pathname or by_title.get(p.name) or p.name or "(home)" for p in pages}


async def _protocol_sign_in(base: str, username: str, password: str, timeout_s: float):
    from bench.wsclient import StreamlitSession

    sess = StreamlitSession(base, query_string=HOME_QUERY, timeout=timeout_s)
    try:
        await sess.connect()
        await sess.sign_in(username, password)
    except BaseException:
        await sess.close()
        raise
    return sess


async def _protocol_session(i: int, base: str, pages: list[str] | None, deadline: float, out: _Out,
                            creds: tuple[str, str], think: float, min_pages: int, hard_deadline: float) -> None:
    """One user: sign in, then switch through `pages` (labels; default: every page of its navigation) until the
    deadline (and until it has run `min_pages` distinct pages, at the latest until `hard_deadline`)."""
    await asyncio.sleep(i * SIGN_IN_STAGGER_S)
    sess, k, ran = None, i, set()

    async def sign_in() -> bool:
        nonlocal sess
        t = time.perf_counter()
        try:
            sess = await _protocol_sign_in(base, *creds, SIGN_IN_TIMEOUT_MS / 1000)
        except Exception as exc:  # noqa: BLE001 - a failed sign-in is an error of the run, not of the harness
            out.error(i, "(sign-in)", f"{type(exc).__name__}: {exc}")
            return False
        out.sign_in_s.append(time.perf_counter() - t)
        return True

    if not await sign_in():
        return
    try:
        labels = _page_labels(sess.pages)
        cycle = [p for p in sess.pages if pages is None or labels[p.page_script_hash] in pages]
        out.saw(labels[p.page_script_hash] for p in cycle)
        if not cycle:
            out.error(i, "(session)", f"no page to cycle through in {sorted(labels.values())}")
            return
        while True:
            now = time.monotonic()
            if now >= hard_deadline or (now >= deadline and len(ran) >= min(min_pages, len(cycle))):
                break
            page = cycle[k % len(cycle)]
            k += 1
            label = labels[page.page_script_hash]
            res = await sess.switch_page(page.page_script_hash, timeout=PAGE_TIMEOUT_MS / 1000)
            if res.status == "disconnected":
                # the server went away (a replica killed behind the proxy): like the browser tab, reconnect (the
                # proxy sends it to a living replica, the session cookie signs it in) and ask for the page again;
                # the visit counts from the first click, and is an error only if the page then fails
                lost = res.seconds
                t = time.perf_counter()
                if await sess.reconnect(within=PAGE_TIMEOUT_MS / 1000):
                    out.reconnects += 1
                    res = await sess.switch_page(page.page_script_hash, timeout=PAGE_TIMEOUT_MS / 1000)
                    res.seconds = lost + (time.perf_counter() - t)
                    if res.find("text_input", lambda w: w.label == "用户名"):
                        res.problems.append("signed out after the reconnect (the sign-in form is shown)")
            problems = list(res.problems)
            if res.status == "finished" and not problems:
                problems += await sess.fetch_component_assets(res)
            out.visit(i, label, res.seconds if res.status == "finished" else None, problems)
            if res.status == "finished":
                ran.add(label)
            if res.status in ("disconnected", "timeout"):
                # like a browser tab after a lost connection or a hung run: start over in a fresh tab
                await sess.close()
                if not await sign_in():
                    return
            elif think:
                await asyncio.sleep(think)
    finally:
        if sess is not None:
            await sess.close()


async def _warm_up(base: str, creds: tuple[str, str]) -> None:
    """One unmeasured sign-in before the sessions start. On a fresh server the app's first runs are in Streamlit's
    legacy pages-directory mode (pages/ beside app.py) until some session reaches st.navigation, i.e. signs in;
    a sign-in form drawn in that mode carries other widget ids than the run its submit lands in once another
    session has signed in, so that first submit is lost (see the report of issue 8's load run)."""
    sess = await _protocol_sign_in(base, *creds, SIGN_IN_TIMEOUT_MS / 1000)
    await sess.close()


async def _run_protocol(base: str, pages: list[str] | None, sessions: int, seconds: float, creds: tuple[str, str],
                        think: float = 0.0, min_pages: int = 0) -> _Out:
    out = _Out()
    deadline = time.monotonic() + sessions * SIGN_IN_STAGGER_S + seconds
    hard = deadline + (PAGE_TIMEOUT_MS / 1000 if min_pages else 0)
    await asyncio.gather(*[_protocol_session(i, base, pages, deadline, out, creds, think, min_pages, hard)
                           for i in range(sessions)])
    return out


# ------------------------------------------------------------------------------------------- browser clients

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

_SIGNED_IN_JS = """() => !document.querySelector('input[aria-label="用户名"]')
  && !!document.querySelector('[data-testid="stSidebarNav"] a')"""

_NAV_JS = """() => [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
  .map(a => new URL(a.href).pathname.split('/').filter(Boolean).pop() || '')"""


async def _wait_idle(page, timeout_ms: int) -> None:
    await page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling=100)
    await page.wait_for_timeout(300)
    await page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling=100)


async def _browser_session(i: int, browser, base: str, pages: list[str] | None, deadline: float, out: _Out,
                           creds: tuple[str, str], think: float) -> None:
    """One user in Chromium: sign in, then click through `pages` (url paths; default: every page of its navigation
    but the home page, whose link is "/") until the deadline."""
    await asyncio.sleep(i * SIGN_IN_STAGGER_S)
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block", locale="zh-CN")
    ctx.set_default_timeout(PAGE_TIMEOUT_MS)
    page = await ctx.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)[:200]))
    try:
        t = time.perf_counter()
        await page.goto(f"{base}/?{HOME_QUERY}", wait_until="domcontentloaded")
        # .first: while Streamlit redraws, the previous run's form can briefly be in the page beside the new one
        user = page.get_by_label("用户名", exact=True).first
        await user.wait_for(timeout=SIGN_IN_TIMEOUT_MS)
        await user.fill(creds[0])
        await page.get_by_label("密码", exact=True).first.fill(creds[1])
        await page.get_by_role("button", name="登录").first.click()
        await page.wait_for_function(_SIGNED_IN_JS, timeout=SIGN_IN_TIMEOUT_MS, polling=200)
        await _wait_idle(page, SIGN_IN_TIMEOUT_MS)
        out.sign_in_s.append(time.perf_counter() - t)
        pages = pages or [p for p in await page.evaluate(_NAV_JS) if p]
        out.saw(pages)
    except Exception as exc:  # noqa: BLE001 - a failed sign-in is an error of the run, not of the harness
        out.error(i, "(sign-in)", str(exc)[:300])
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
                if await link.is_visible():
                    await link.click(timeout=PAGE_TIMEOUT_MS)
                else:  # 圆桌会模式 (roundtable) hides the sidebar with CSS: click its link the way a script can
                    await link.evaluate("a => a.click()", timeout=PAGE_TIMEOUT_MS)
                await page.wait_for_function(_RUN_DONE_JS, timeout=PAGE_TIMEOUT_MS, polling="raf")
                await page.wait_for_function(_MAP_DRAWN_JS, timeout=PAGE_TIMEOUT_MS, polling="raf")
                elapsed = await page.evaluate("() => (performance.now() - window.__mzRun.start) / 1000")
                problems = await page.evaluate(_PROBLEMS_JS)
                if not page.url.split("?")[0].endswith("/" + path):
                    problems.append(f"landed on {page.url}")
            except Exception as exc:  # noqa: BLE001
                out.visit(i, path, None, [str(exc).splitlines()[0][:300]])
                await _recover(page)
                continue
            problems += [f"javascript: {e}" for e in js_errors]
            js_errors.clear()
            out.visit(i, path, elapsed, problems)
            if think:
                await asyncio.sleep(think)
    finally:
        await ctx.close()


async def _recover(page) -> None:
    """After a failed visit, wait for the app to settle so the next click is measured cleanly."""
    try:
        await _wait_idle(page, PAGE_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - the next visit will report what is wrong
        pass


async def _run_browser(base: str, pages: list[str] | None, sessions: int, seconds: float, creds: tuple[str, str],
                       think: float = 0.0) -> _Out:
    from playwright.async_api import async_playwright

    out = _Out()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            deadline = time.monotonic() + sessions * SIGN_IN_STAGGER_S + seconds
            await asyncio.gather(*[_browser_session(i, browser, base, pages, deadline, out, creds, think)
                                   for i in range(sessions)])
        finally:
            await browser.close()
    return out


# ------------------------------------------------------------------------------------------------ the run


def _server_rss(server: AppServer) -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    except (OSError, AttributeError):
        pass
    return out


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _own_cpu_s() -> float:
    """CPU seconds of this process and its finished children (the load generator; Chromium counts once closed)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def summarize(out: _Out, *, sessions: int, seconds: float, wall_s: float, clients: str, think: float = 0.0,
              server_rss_mb: dict | None = None, server_cpu_s: float | None = None,
              client_cpu_s: float | None = None) -> dict:
    """The report: page time p50/p95/max overall and per page, visits, errors per page with a sample, sign-in
    times, per-session counts, the server's memory and CPU."""
    ok = [v["s"] for v in out.visits if v["ok"] and v["s"] is not None]
    per_page, errors_by_page = {}, {}
    for label in out.pages_seen + sorted({v["page"] for v in out.visits} - set(out.pages_seen)):
        visits = [v for v in out.visits if v["page"] == label]
        per_page[label] = {**_summary([v["s"] for v in visits if v["ok"] and v["s"] is not None]),
                           "visits": len(visits), "errors": sum(1 for v in visits if not v["ok"])}
    for e in out.errors:
        slot = errors_by_page.setdefault(e["page"], {"n": 0, "sample": e["text"]})
        slot["n"] += 1
    per_session = []
    for i in range(sessions):
        visits = [v for v in out.visits if v["session"] == i]
        per_session.append({"session": i, "visits": len(visits), "first_page": visits[0]["page"] if visits else None,
                            "pages": len({v["page"] for v in visits if v["ok"]}),
                            "errors": sum(1 for e in out.errors if e["session"] == i)})
    return {"clients": clients, "sessions": sessions, "seconds": seconds, "think_s": think, "wall_s": wall_s,
            "visits": len(out.visits), "page_s": _summary(ok), "pages": per_page,
            "sign_in_s": _summary(out.sign_in_s), "signed_in": len(out.sign_in_s),
            "errors": len(out.errors), "errors_by_page": errors_by_page,
            "error_samples": [f"session {e['session']} {e['page']}: {e['text']}" for e in out.errors[:20]],
            "per_session": per_session, "reconnects": out.reconnects, "server_rss_mb": server_rss_mb or {},
            "server_cpu_s": server_cpu_s, "client_cpu_s": client_cpu_s}


def run_async(coro):
    """asyncio.run(coro) in a thread of its own: callable where an event loop already runs in this thread
    (Playwright's sync API keeps one in a pytest worker that drove Chromium before)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def drive(base: str, *, username: str, password: str, sessions: int = 20, seconds: float = 120,
          pages: list[str] | None = None, clients: str = "protocol", think: float = 0.0, min_pages: int = 0,
          warm_up: bool = False, server_pid: int | None = None) -> dict:
    """Run the sessions against a server already running at `base` and return summarize()'s report (without the
    server's memory). min_pages (protocol clients, for smoke tests): a session keeps going past the deadline until
    it has run that many distinct pages, for at most one page timeout more. warm_up: sign in once (unmeasured)
    before the sessions start, so none of them meets a fresh server's legacy pages-directory mode."""
    if clients not in CLIENTS:
        raise ValueError(f"clients: {clients!r} is not one of {CLIENTS}")
    creds = (username, password)
    if warm_up:
        run_async(_warm_up(base, creds))
    load0 = os.getloadavg()
    cpu0, server0 = _own_cpu_s(), (_cpu_s(server_pid) if server_pid else None)
    t0 = time.perf_counter()
    if clients == "protocol":
        out = run_async(_run_protocol(base, pages, sessions, seconds, creds, think, min_pages))
    else:
        out = run_async(_run_browser(base, pages, sessions, seconds, creds, think))
    wall = time.perf_counter() - t0
    server1 = _cpu_s(server_pid) if server_pid else None
    res = summarize(out, sessions=sessions, seconds=seconds, wall_s=wall, clients=clients, think=think,
                    server_cpu_s=None if server0 is None or server1 is None else round(server1 - server0, 1),
                    client_cpu_s=round(_own_cpu_s() - cpu0, 1))
    res["warm_up"] = warm_up
    res["load_avg_start"], res["load_avg_end"] = [round(x, 2) for x in load0], [round(x, 2) for x in os.getloadavg()]
    return res


def run_load(url: str, pages: list[str] | None = None, sessions: int = 20, seconds: float = 120,
             log=print, *, clients: str = "protocol", think: float = 0.0, warm_up: bool = False) -> dict:
    """Start the app on the database at `url`, run the load and stop it. pages: labels (url paths) to cycle through
    (default: the signed-in navigation). Returns drive()'s report plus the server's memory (VmHWM = peak RSS)."""
    auth.ensure_user(url)
    server = AppServer(ROOT / "app.py", env={"DATABASE_URL": url})
    server.start()
    try:
        res = drive(server.url, username=auth.USERNAME, password=auth.PASSWORD, sessions=sessions, seconds=seconds,
                    pages=pages, clients=clients, think=think, warm_up=warm_up, server_pid=server.process.pid)
        res["server_rss_mb"] = _server_rss(server)
    finally:
        server.close()
    log(f"  load ({clients}): {sessions} sessions × {seconds:.0f} s: {res['visits']} page visits, "
        f"p50 {res['page_s']['p50'] or 0:.3f} s, p95 {res['page_s']['p95'] or 0:.3f} s, errors {res['errors']}")
    return res


def run_cluster_load(url: str, sessions: int = 50, seconds: float = 120, log=print, *, replicas: int = 2,
                     kill_half: bool = False, think: float = 5.0, port: int = 0, replica_ports: list[int] | None = None,
                     pages: list[str] | None = None, min_pages: int = 0, cluster=None) -> dict:
    """The load through nginx in front of `replicas` replicas on the PostgreSQL database at `url` (deploy/cluster.py,
    as `make cluster` runs them). kill_half: SIGKILL the first replica halfway through the time every session is
    clicking (after the staggered sign-ins): its sessions lose their websocket, reconnect through the proxy to a
    living replica and go on signed in (bench/wsclient.StreamlitSession.reconnect). Returns drive()'s report plus
    "cluster": the replicas' ports and peak RSS (VmHWM; the killed one's as last seen), which was killed when.
    The replica killed is the one most sessions connected to (nginx's access log). `cluster`: a running
    deploy.cluster.Cluster to use (left running, the killed replica restarted) instead of starting one."""
    import threading

    from deploy.cluster import Cluster

    auth.ensure_user(url)
    own = cluster is None
    if own:
        cluster = Cluster(url, replicas=replicas, port=port, replica_ports=replica_ports).start()
    replicas = len(cluster.replicas)
    stop, killed = threading.Event(), {}

    def busiest():
        counts = {r.port: 0 for r in cluster.replicas}
        for line in cluster.access_log.read_text(encoding="utf-8", errors="replace").splitlines():
            m = re.search(r'"GET \S*/_stcore/host-config[^"]*" 200 .* upstream=\S*:(\d+)', line)
            if m and int(m.group(1)) in counts:
                counts[int(m.group(1))] += 1
        return cluster.replicas[cluster.index_of(max(counts, key=counts.get))]

    def watch(t0: float, kill_at: float | None) -> None:
        while not stop.wait(1.0):
            for r in cluster.replicas:
                if r.alive():
                    r.rss_mb()
            if kill_at is not None and not killed and time.monotonic() - t0 >= kill_at:
                victim = busiest()
                victim.kill()
                killed.update(port=victim.port, at_s=round(time.monotonic() - t0, 1))
                log(f"  killed replica :{victim.port} at {killed['at_s']} s")

    try:
        run_async(_warm_up(cluster.url, (auth.USERNAME, auth.PASSWORD)))  # every replica past its first run
        for r in cluster.replicas:
            run_async(_warm_up(r.url, (auth.USERNAME, auth.PASSWORD)))
        kill_at = sessions * SIGN_IN_STAGGER_S + seconds / 2 if kill_half else None
        watcher = threading.Thread(target=watch, args=(time.monotonic(), kill_at), daemon=True)
        watcher.start()
        try:
            res = drive(cluster.url, username=auth.USERNAME, password=auth.PASSWORD, sessions=sessions,
                        seconds=seconds, pages=pages, think=think, min_pages=min_pages)
        finally:
            stop.set()
            watcher.join(timeout=5)
        for r in cluster.replicas:
            if r.alive():
                r.rss_mb()
        res["cluster"] = {"replicas": [r.port for r in cluster.replicas], "proxy": cluster.port,
                          "peak_rss_mb": {str(r.port): r.peak_rss_mb for r in cluster.replicas},
                          "killed": killed or None, "kill_half": kill_half}
    finally:
        if own:
            cluster.close()
        elif killed:
            cluster.restart(cluster.index_of(killed["port"]))
    log(f"  cluster load ({replicas} replicas{', one killed halfway' if kill_half else ''}): {sessions} sessions × "
        f"{seconds:.0f} s: {res['visits']} page visits, p50 {res['page_s']['p50'] or 0:.3f} s, "
        f"p95 {res['page_s']['p95'] or 0:.3f} s, errors {res['errors']}, reconnects {res['reconnects']}")
    return res


def table(res: dict) -> str:
    """The report as a terminal table."""
    def f(x):
        return "—" if x is None else f"{x:.3f}"

    lines = [f"{res['sessions']} {res['clients']} sessions × {res['seconds']:.0f} s (think {res['think_s']:g} s"
             f"{', after a warm-up sign-in' if res.get('warm_up') else ''}), wall {res['wall_s']:.0f} s; "
             f"{res['visits']} page visits; page time in s; load average {res.get('load_avg_start')} → "
             f"{res.get('load_avg_end')}",
             f"{'page':18s} {'p50':>8s} {'p95':>8s} {'max':>8s} {'n':>5s} {'errors':>6s}"]
    ps = res["page_s"]
    for label, x in res["pages"].items():
        lines.append(f"{label:18s} {f(x['p50']):>8s} {f(x['p95']):>8s} {f(x['max']):>8s} {x['n']:5d} {x['errors']:6d}")
    lines.append(f"{'(all pages)':18s} {f(ps['p50']):>8s} {f(ps['p95']):>8s} {f(ps['max']):>8s} {ps['n']:5d} "
                 f"{sum(x['errors'] for x in res['pages'].values()):6d}")
    si = res["sign_in_s"]
    lines.append(f"sign-in: {res['signed_in']}/{res['sessions']} sessions, p50 {f(si['p50'])} s, p95 {f(si['p95'])} s, "
                 f"max {f(si['max'])} s")
    if res.get("cluster"):
        c = res["cluster"]
        lines.append(f"cluster: proxy :{c['proxy']} → replicas {c['replicas']}; peak RSS MB {c['peak_rss_mb']}; "
                     f"killed {c['killed'] or '—'}; reconnects {res.get('reconnects', 0)}")
    rss = res.get("server_rss_mb") or {}
    lines.append(f"server: peak RSS {rss.get('VmHWM', '—')} MB (now {rss.get('VmRSS', '—')} MB), "
                 f"CPU {res.get('server_cpu_s', '—')} s; load generator CPU {res.get('client_cpu_s', '—')} s")
    lines.append(f"errors: {res['errors']}")
    for page, e in res["errors_by_page"].items():
        lines.append(f"  {page}: {e['n']} × {e['sample'][:200]}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--clients", choices=CLIENTS, default="protocol",
                    help="protocol: websocket clients speaking Streamlit's protocol (default); browser: Chromium")
    ap.add_argument("--think", type=float, default=5.0,
                    help="seconds a session reads a page before the next (0: back to back, the worst case)")
    ap.add_argument("--warm-up", action="store_true",
                    help="sign in once, unmeasured, before the sessions start (a server that has been up a while)")
    ap.add_argument("--url", default=None, help="database URL (default: the ×1 SQLite demo of the benchmark)")
    ap.add_argument("--keep", action="store_true", default=True,
                    help="reuse the ×1 SQLite demo under bench/.cache when present (always on; kept for the CLI)")
    ap.add_argument("--pages", default="", help="url paths to cycle through (default: the whole navigation)")
    ap.add_argument("--cluster", type=int, default=0, metavar="N",
                    help="through nginx in front of N replicas (deploy/cluster.py) on PostgreSQL (--url or the ×1 "
                         "PostgreSQL benchmark database)")
    ap.add_argument("--kill-half", action="store_true", help="with --cluster: kill one replica halfway")
    ap.add_argument("--port", type=int, default=0, help="with --cluster: nginx's port (default: a free one)")
    ap.add_argument("--replica-ports", default="", help="with --cluster: the replicas' ports (default: free ones)")
    ap.add_argument("--out", default="bench/results/load.json")
    a = ap.parse_args(argv)
    url = a.url
    if a.cluster:
        if not url:
            from bench import datasets
            url = datasets.prepare("postgresql", 1, keep=True).url
        res = run_cluster_load(url, a.sessions, a.seconds, replicas=a.cluster, kill_half=a.kill_half, think=a.think,
                               port=a.port, replica_ports=[int(p) for p in a.replica_ports.split(",") if p] or None,
                               pages=[p for p in a.pages.split(",") if p] or None)
        out = ROOT / a.out if not Path(a.out).is_absolute() else Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
        print(table(res))
        print(f"(JSON: {out})")
        return 0 if res["errors"] == 0 else 1
    if not url:
        from bench import datasets
        url = datasets.prepare("sqlite", 1, keep=True).url
    res = run_load(url, [p for p in a.pages.split(",") if p] or None, a.sessions, a.seconds,
                   clients=a.clients, think=a.think, warm_up=a.warm_up)
    out = ROOT / a.out if not Path(a.out).is_absolute() else Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(table(res))
    print(f"(JSON: {out})")
    return 0 if res["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
