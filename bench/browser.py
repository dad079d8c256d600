"""Chromium: time from navigation to each page's main element drawn, beside an empty Streamlit page.

The floor is an empty page served by the same server, in the same run (components/floor.py: the server is
started with MZ_BENCH_FLOOR_PAGE=1 and answers /bench_floor with one line of text, before any sign-in, database
or sidebar), opened like the pages — a bookmarked address, so it pays the framework's own cost of a deep link
(the frontend first probes <path>/_stcore/health, then the base path). For comparison the JSON also holds an
empty page at "/" of a separate server ("empty_root": last session's floor, which does not pay that probe).

Element floors: the same empty page with one minimal element of each kind a page can have as its main one
(``/bench_floor?el=metric|dataframe|chart|map``, components/floor.py), drawn by the pages' own components and
timed to that element like the pages. A page's "element floor ratio" is its time over the floor of its main
element's kind (paired per round): how far a page is from the least a page with such an element can take.

The main element of a page is its map if it has one, else its chart, else its headline metric, else its table —
the page's main chart or map, as the issue says, and the first figure a page without one shows.

Times are read inside the page: ``performance.now()`` (ms since navigation start) at the first animation frame
in which the element is present; for a streamlit-folium map, a ``.leaflet-container`` with a non-zero size inside
the component's iframe (same origin). Each measured visit is a fresh browser context (no HTTP cache, new
session) — or, with http_cache="warm", a new tab (new session) of one context whose HTTP cache an unmeasured
visit filled — after one unmeasured visit that also decides which element is the page's main one; that visit also
fills the server's st.cache_data, so the figure is the browser + framework + rendering cost on a warm server.
App pages are visited signed in, as a user who opens a bookmark or reloads: the bench account signs in once
through the form (unmeasured) and every measured context starts with that browser's session cookie.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import AppServer, launch_chromium, wait_streamlit_idle  # noqa: E402  (tests/browser.py)

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from bench.stats import summary  # noqa: E402

# The main element, in the order a page is checked for them; "idle" is the fallback.
_FIND_JS = """(wanted) => {
  const inMain = (sel) => {
    const el = document.querySelector('[data-testid="stMain"] ' + sel) || document.querySelector(sel);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const map = () => {
    for (const f of document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]')) {
      let d = null;
      try { d = f.contentDocument; } catch (e) { d = null; }
      const c = d && d.querySelector('.leaflet-container');
      if (c && c.clientWidth > 0 && c.clientHeight > 0 &&
          d.querySelector('.leaflet-interactive, .leaflet-marker-icon, .marker-cluster')) return true;
    }
    return false;
  };
  const checks = {
    metric: () => inMain('[class*="st-key-kpi_"] h2'),  // a headline card's figure (components/kpis.py)
    map: map,
    chart: () => inMain('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'),
    dataframe: () => inMain('[data-testid="stDataFrame"] canvas, [data-testid="stDataFrame"] table, [data-testid="stTable"] table'),
    slide: () => {
      const t = document.querySelector('.rt-title');
      const img = document.querySelector('[data-testid="stImage"] img');
      return !!t && !!img && img.complete && img.naturalWidth > 0;
    },
    empty_text: () => [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')].some(e => e.innerText.includes('空白页')),
  };
  const order = wanted ? [wanted] : ['slide', 'map', 'chart', 'metric', 'dataframe', 'empty_text'];
  for (const k of order) if (checks[k]()) return {kind: k, t: performance.now()};
  return false;
}"""

_IDLE_T_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const s = app.getAttribute('data-test-script-state');
  const c = app.getAttribute('data-test-connection-state');
  if (c !== 'CONNECTED' || s !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]')) return false;
  return {kind: 'idle', t: performance.now()};
}"""

# The first useful screen: the first animation frame in which any of the page's headline numbers, a chart, a
# drawn map or (on a page of tables) a table is in the main area — whichever comes first.
_FIRST_JS = """() => {
  const find = (%s);
  for (const k of ['slide', 'metric', 'chart', 'map', 'dataframe', 'empty_text']) {
    const r = find(k);
    if (r) return r;
  }
  return false;
}""" % _FIND_JS

# Fully drawn: the page's main element is there, Streamlit has finished the run (connected, script not running,
# no running indicator), and every map frame the page displays has drawn its map (a map in a tab not chosen is not displayed: the
# browser never draws it, and the page is complete without it).
_FULL_JS = """(wanted) => {
  const find = (%s);
  const idle = (%s);
  if (!idle()) return false;
  if (wanted !== 'idle' && !find(wanted)) return false;
  for (const f of document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]')) {
    if (f.offsetParent === null) continue;  // not displayed (e.g. in a tab not chosen): the browser never draws it
    let d = null;
    try { d = f.contentDocument; } catch (e) { d = null; }
    const c = d && d.querySelector('.leaflet-container');
    if (!c || !(c.clientWidth > 0) || !d.querySelector('.leaflet-interactive, .leaflet-marker-icon, .marker-cluster'))
      return false;
  }
  return {kind: wanted, t: performance.now()};
}""" % (_FIND_JS, _IDLE_T_JS)

# Whether the page displays a map frame (one inside a tab not chosen, or otherwise not displayed, is not drawn)
_SHOWN_MAP_JS = """() => [...document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]')]
  .some(f => f.offsetParent !== null)"""

TIMEOUT_MS = 60_000


def _context(browser, state=None):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block", locale="zh-CN",
                              storage_state=state)
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def _sign_in(page) -> None:
    """Fill the app's sign-in form like a user (the bench account of bench.auth)."""
    from bench import auth as bench_auth

    user = page.get_by_label("用户名", exact=True)
    user.wait_for(timeout=TIMEOUT_MS)
    user.fill(bench_auth.USERNAME)
    page.get_by_label("密码", exact=True).fill(bench_auth.PASSWORD)
    page.get_by_role("button", name="登录").click()
    user.wait_for(state="detached", timeout=TIMEOUT_MS)


def signed_in_state(browser, base_url: str) -> dict:
    """Sign in once through the form; return the browser's storage state (its session cookie) for later contexts."""
    ctx = _context(browser)
    try:
        page = ctx.new_page()
        page.goto(base_url + "/", wait_until="domcontentloaded")
        _sign_in(page)
        wait_streamlit_idle(page, timeout=TIMEOUT_MS)
        page.wait_for_function("() => document.cookie.includes('mz_session=')", timeout=TIMEOUT_MS)
        return ctx.storage_state()
    finally:
        ctx.close()


def _which_main(browser, url: str, state=None) -> str:
    """Unmeasured visit: wait for Streamlit idle (and a map if the page has one), return the main element kind."""
    ctx = _context(browser, state)
    try:
        page = ctx.new_page()
        page.goto(url, wait_until="domcontentloaded")
        wait_streamlit_idle(page, timeout=TIMEOUT_MS)
        if page.get_by_label("用户名", exact=True).count():
            raise RuntimeError("the session cookie did not sign the visit in")
        # Streamlit can look idle between two runs of one visit (a first run that reruns): wait until the page
        # shows something, then for it to settle, before deciding what its main element is
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(_FIND_JS, arg=None, timeout=15_000, polling="raf")
        wait_streamlit_idle(page, timeout=TIMEOUT_MS)
        if page.evaluate(_SHOWN_MAP_JS):  # a map in a tab not chosen is never drawn: not waited for
            page.wait_for_function(_FIND_JS, arg="map", timeout=TIMEOUT_MS, polling="raf")
        found = page.evaluate(_FIND_JS, None)
        return found["kind"] if found else "idle"
    finally:
        ctx.close()


def _visit(browser, url: str, kind: str, ctx=None, state=None) -> dict[str, float]:
    """One measured visit: a fresh context (cold HTTP cache), or a new tab of ``ctx`` (its HTTP cache warm).
    Three times, each performance.now() of the page (0 = navigation start) at the first animation frame where:
    ``first`` — the first useful screen (headline numbers, a chart, a map or a table) is drawn; ``main`` — the
    page's main element is drawn; ``full`` — the page is fully drawn (run finished, every map drawn)."""
    own = ctx is None
    ctx = ctx or _context(browser, state)
    try:
        page = ctx.new_page()
        page.goto(url, wait_until="commit")
        if kind == "idle":
            first = main = page.wait_for_function(_IDLE_T_JS, timeout=TIMEOUT_MS, polling="raf").json_value()["t"]
        else:
            first = page.wait_for_function(_FIRST_JS, timeout=TIMEOUT_MS, polling="raf").json_value()["t"]
            main = page.wait_for_function(_FIND_JS, arg=kind, timeout=TIMEOUT_MS, polling="raf").json_value()["t"]
        full = page.wait_for_function(_FULL_JS, arg=kind, timeout=TIMEOUT_MS, polling="raf").json_value()["t"]
        if not own:
            page.close()
        return {"first": first / 1000.0, "main": max(main, first) / 1000.0, "full": max(full, main, first) / 1000.0}
    finally:
        if own:
            ctx.close()


_SLIDE_JS = """(n) => {
  const t = document.querySelector('.rt-title');
  if (!t || !t.innerText.startsWith(n + '. ')) return false;
  const img = document.querySelector('[data-testid="stImage"] img');
  if (img && !(img.complete && img.naturalWidth > 0)) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  return performance.now();
}"""


_SLIDE_STATE_JS = """() => {
  const t = document.querySelector('.rt-title');
  const img = document.querySelector('[data-testid="stImage"] img');
  const app = document.querySelector('[data-testid="stApp"]');
  const next = Array.from(document.querySelectorAll('button')).find(b => b.innerText.trim().startsWith('下一页'));
  return {title: t ? t.innerText.slice(0, 40) : null, script: app ? app.getAttribute('data-test-script-state') : null,
          image: img ? {complete: img.complete, width: img.naturalWidth, src: img.src.slice(-60)} : null,
          handler: !!window.__rtKeyHandler, next_disabled: next ? next.disabled : null,
          focus: document.activeElement ? document.activeElement.tagName : null};
}"""


def _wait_slide(page, what: str, js: str, arg=None):
    """page.wait_for_function, and on a timeout an error that says which wait and what the page showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return page.wait_for_function(js, arg=arg, timeout=TIMEOUT_MS, polling="raf")
    except PlaywrightTimeout:
        try:
            seen = page.evaluate(_SLIDE_STATE_JS)
        except Exception as exc:  # noqa: BLE001 - the page itself may be gone
            seen = f"page not readable: {type(exc).__name__}"
        raise RuntimeError(f"timed out waiting for {what}; page showed {seen}") from None


def slide_switches(browser, url: str, state, rounds: int) -> list[float]:
    """The roundtable: seconds from pressing 下一页 (→) to the next slide drawn (its title, its image loaded, the run
    finished), for each step of ``rounds`` passes through the five slides (forward only, then back to slide 1)."""
    ctx = _context(browser, state)
    out: list[float] = []
    try:
        page = ctx.new_page()
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(url, wait_until="domcontentloaded")
        _wait_slide(page, "slide 1", _SLIDE_JS, 1)
        for r in range(rounds):
            for n in range(2, 6):
                page.locator(".rt-title").first.click()  # focus the canvas, as a presenter's clicker would
                t0 = page.evaluate("() => performance.now()")
                page.keyboard.press("ArrowRight")
                t1 = _wait_slide(page, f"slide {n} after → (round {r + 1})", _SLIDE_JS, n).json_value()
                out.append((t1 - t0) / 1000.0)
            for n in range(4, 0, -1):  # back to the first slide, unmeasured
                page.keyboard.press("ArrowLeft")
                _wait_slide(page, f"slide {n} after ← (round {r + 1})", _SLIDE_JS, n)
        return out
    finally:
        ctx.close()


def server_peak_rss_mb(server: AppServer) -> float | None:
    try:
        for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, AttributeError):
        return None
    return None


def run_browser(url: str, pages: list[tuple[str, str]], runs: int, log=print, http_cache: str = "cold",
                browser=None) -> dict:
    """pages: (page file, url_path). Returns {"empty": {...}, "empty_root": {...}, "pages": {file: {...}},
    "server_peak_rss_mb": ...}.

    The visits are interleaved: each of the ``runs`` rounds opens the floor, the separate server's empty page and
    every page once, in that order, so a drift of the machine's speed during the run falls on all of them alike.
    ``browser``: a Playwright Chromium to use (a test's); by default one is launched and closed here."""
    from playwright.sync_api import sync_playwright

    from bench import auth as bench_auth
    from components import floor

    out: dict = {"pages": {}, "http_cache": http_cache}
    bench_auth.ensure_user(url)
    app = AppServer(ROOT / "app.py", env={"DATABASE_URL": url, floor.ENV: "1"})
    empty = AppServer(ROOT / "bench" / "empty_app.py")
    app.start()
    empty.start()
    contexts: list = []
    try:
        with contextlib.ExitStack() as stack:
            if browser is None:
                pw = stack.enter_context(sync_playwright())
                browser = launch_chromium(pw)
                stack.callback(browser.close)
            try:
                state = signed_in_state(browser, app.url)
                # (key, url, storage state): the two floors first, then the pages
                targets = [("empty", f"{app.url}/{floor.FLOOR_PATH}", None), ("empty_root", empty.url + "/", None)]
                # the element floors: the empty page plus one minimal element of each main-element kind
                targets += [(f"floor_{el}", f"{app.url}/{floor.FLOOR_PATH}?el={el}", None) for el in floor.ELEMENTS]
                targets += [(page_file, f"{app.url}/{path}?period=2024-H1", state) for page_file, path in pages]
                kinds: dict[str, str] = {}
                errors: dict[str, str] = {}
                for key, u, st in targets:  # unmeasured: decides the main element, fills the server's caches
                    try:
                        kinds[key] = _which_main(browser, u, st)
                    except Exception as exc:  # noqa: BLE001 - one page failing must not lose the rest
                        errors[key] = str(exc)[:500]
                for key in ("empty", "empty_root"):
                    if kinds.get(key) != "empty_text":
                        raise RuntimeError(f"the empty page {key} did not show its text: {errors.get(key) or kinds.get(key)}")
                for el in floor.ELEMENTS:
                    if kinds.get(f"floor_{el}") != el:
                        shown = errors.get(f"floor_{el}") or kinds.get(f"floor_{el}")
                        raise RuntimeError(f"the element floor {el} showed {shown}")
                tabs: dict[str, object] = {}
                if http_cache == "warm":  # one context per target, its HTTP cache filled by an unmeasured visit
                    for key, u, st in targets:
                        if key in kinds:
                            ctx = _context(browser, st)
                            contexts.append(ctx)
                            _visit(browser, u, kinds[key], ctx)
                            tabs[key] = ctx
                samples: dict[str, list[dict]] = {key: [] for key, _, _ in targets}
                for r in range(runs):
                    for key, u, st in targets:
                        if key not in kinds:
                            continue
                        try:
                            samples[key].append(_visit(browser, u, kinds[key], tabs.get(key), state=st))
                        except Exception as exc:  # noqa: BLE001
                            errors[key] = str(exc)[:500]
                            kinds.pop(key)
                    if "empty" not in kinds:  # the floor failed: no ratio can be made from this run
                        raise RuntimeError(f"the empty page failed in round {r + 1}: {errors.get('empty')}")
                    log(f"    browser round {r + 1}/{runs}: empty {samples['empty'][-1]['main']:.3f} s")
                # the floors show one line (or one element): their three times are one
                times = {key: {m: [x[m] for x in v] for m in ("first", "main", "full")} for key, v in samples.items()}
                floor_t = times["empty"]["main"]
                out["empty"] = {"main": "empty_text", "url_path": floor.FLOOR_PATH, "time": summary(floor_t)}
                out["empty_root"] = {"main": "empty_text", "url_path": "",
                                     "time": summary(times["empty_root"]["main"])}
                out["element_floors"] = {
                    el: {"error": errors[f"floor_{el}"]} if f"floor_{el}" in errors else
                    {"url_path": f"{floor.FLOOR_PATH}?el={el}", "time": summary(times[f"floor_{el}"]["main"]),
                     "paired_ratio": summary([t / e for t, e in zip(times[f"floor_{el}"]["main"], floor_t)])}
                    for el in floor.ELEMENTS}
                for page_file, path in pages:
                    if page_file in errors:
                        out["pages"][page_file] = {"error": errors[page_file]}
                        log(f"    browser {path}: ERROR {errors[page_file][:200]}")
                    else:
                        # the page over the floor of the same round (both opened a few seconds apart): a drift of
                        # the machine's speed between rounds cancels out, which the ratio of the two medians keeps
                        pt = times[page_file]
                        out["pages"][page_file] = {
                            "main": kinds[page_file], "time": summary(pt["main"]),
                            "paired_ratio": summary([t / e for t, e in zip(pt["main"], floor_t)]),
                            "first_screen": summary(pt["first"]),
                            "first_screen_ratio": summary([t / e for t, e in zip(pt["first"], floor_t)]),
                            "fully_drawn": summary(pt["full"]),
                            "fully_drawn_ratio": summary([t / e for t, e in zip(pt["full"], floor_t)])}
                        # the page over the floor holding one element of the page's main kind, same round
                        el_floor = times.get(f"floor_{kinds[page_file]}", {}).get("main")
                        if el_floor and f"floor_{kinds[page_file]}" not in errors:
                            out["pages"][page_file]["element_floor_ratio"] = summary(
                                [t / f for t, f in zip(pt["main"], el_floor)])
                        x = out["pages"][page_file]
                        log(f"    browser {path}: first {x['first_screen']['median']:.3f} s "
                            f"(×{x['first_screen_ratio']['median']:.2f}), {kinds[page_file]} {x['time']['median']:.3f} s, "
                            f"full {x['fully_drawn']['median']:.3f} s (×{x['fully_drawn_ratio']['median']:.2f})")
                rt = next((u for key, u, _ in targets if key == "pages/roundtable.py"), None)
                if rt and "pages/roundtable.py" not in errors:
                    try:
                        sw = slide_switches(browser, rt, state, max(1, runs))
                        out["slide_switch"] = {"time": summary(sw), "n": len(sw)}
                        log(f"    roundtable slide switch: {out['slide_switch']['time']['median']:.3f} s (n={len(sw)})")
                    except Exception as exc:  # noqa: BLE001
                        out["slide_switch"] = {"error": str(exc)[:500]}
                        log(f"    roundtable slide switch: ERROR {exc}")
            finally:
                for ctx in contexts:
                    with contextlib.suppress(Exception):
                        ctx.close()
        out["server_peak_rss_mb"] = server_peak_rss_mb(app)
    finally:
        app.close()
        empty.close()
    return out
