"""Chromium test harness: run a Streamlit script as a real server, open it in headless Chromium, record what leaks.

Importable helpers (the pytest fixtures around them are in tests/browser_fixtures.py):

* ``AppServer`` — ``streamlit run <script>`` on a free 127.0.0.1 port, optional baseUrlPath and environment,
  ready once ``<base>/_stcore/health`` answers; ``.url`` is the app's base URL without a trailing slash.
* ``launch_chromium(playwright)`` — the Debian Chromium (/usr/bin/chromium; Playwright's own browser download
  does not work here) with flags for a quiet offline run. Host resolution of anything but the loopback
  is switched off inside the browser, so a test can never send traffic off this machine.
* ``open_probe(browser, url)`` — a context manager yielding a ``Probe``: a fresh browser context + page that
  records every request to a host other than the app's own (main page, iframes, workers; such requests are
  aborted), every console error and uncaught page error, every own-host response ≥ 400, and every
  alert/confirm/prompt dialog (dismissed). ``probe.result()`` adds the page's text and the text of every
  Streamlit exception box (``[data-testid="stException"]``).
* ``page_probe(browser, url, action=None)`` — open, wait until Streamlit has finished running, run
  ``action(page)`` if given, and return the ``ProbeResult``.
* ``wait_streamlit_idle(page)`` and ``wait_for_map(page)`` (a drawn streamlit-folium map; returns its frame).

Timeouts assume a slow 2-core machine: 30 s for a page load or a map, 60 s for a server start.
"""
from __future__ import annotations

import contextlib
import re
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    # Belt and braces: nothing but the loopback resolves inside the test browser.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

PAGE_TIMEOUT_MS = 30_000
SERVER_START_TIMEOUT_S = 60.0
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


# ------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def normalize_base_path(base_url_path: str | None) -> str:
    stripped = (base_url_path or "").strip().strip("/")
    return f"/{stripped}" if stripped else ""


class AppServer:
    """One ``streamlit run`` subprocess. Use ``start()`` / ``stop()`` or ``with AppServer(...) as server``."""

    def __init__(
        self,
        script: str | os.PathLike,
        *,
        env: Mapping[str, str] | None = None,
        base_url_path: str | None = None,
        args: Sequence[str] = (),
        cwd: str | os.PathLike = ROOT,
    ):
        self.script = Path(script)
        if not self.script.is_absolute():
            self.script = Path(cwd) / self.script
        self.env = dict(env or {})
        self.base_path = normalize_base_path(base_url_path)
        self.args = list(args)
        self.cwd = Path(cwd)
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile("w+b", prefix="streamlit-", suffix=".log", delete=False)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL of the app, no trailing slash: ``http://127.0.0.1:PORT`` or ``http://127.0.0.1:PORT/a/b``."""
        return self.origin + self.base_path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self, port: int) -> list[str]:
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(self.script),
            "--server.port", str(port),
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
        ]
        if self.base_path:
            cmd += ["--server.baseUrlPath", self.base_path.strip("/")]
        return cmd + self.args

    def log_text(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def start(self) -> "AppServer":
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        env.pop("MZ_FIRST_SCREEN_PAUSE_MS", None)  # conftest turns it off for AppTest; a browser sees the default
        env.update(self.env)
        last_error = ""
        for _attempt in range(3):  # a port picked free can be taken before Streamlit binds it
            self.port = free_port()
            self.process = subprocess.Popen(
                self.command(self.port), cwd=self.cwd, env=env,
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                self._wait_healthy()
                return self
            except RuntimeError as exc:
                last_error = str(exc)
                self.stop()
                if "already in use" not in self.log_text():
                    break
        raise RuntimeError(f"Streamlit did not start: {last_error}\n--- log ---\n{self.log_text()[-4000:]}")

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        health = f"{self.url}/_stcore/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"process exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(health, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{health} not healthy after {SERVER_START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # only the process this object started
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------------------------------ browser


def launch_chromium(playwright, **kwargs):
    """Headless Debian Chromium with the project's flags."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **kwargs
    )


@dataclass
class ProbeResult:
    url: str
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def problems(self) -> list[str]:
        """Everything that should fail a page test, one line each (empty for a clean page)."""
        return (
            [f"external request: {u}" for u in self.external_requests]
            + [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"HTTP error: {m}" for m in self.bad_responses]
            + [f"dialog: {m}" for m in self.dialogs]
            + [f"Streamlit exception: {m}" for m in self.exceptions]
        )

    @property
    def ok(self) -> bool:
        return not self.problems


# On a deep link such as /aid, Streamlit's frontend discovers the server's base path by probing
# /aid/_stcore/health and /aid/_stcore/host-config before /_stcore/…; those 404s are the framework's
# own discovery, not a fault of the app, and are not counted as problems.
_BASE_PATH_PROBE = re.compile(r"/_stcore/(health|host-config)$")


def _is_base_path_probe(url: str) -> bool:
    return bool(_BASE_PATH_PROBE.search(urlsplit(url).path))


def _is_local(url: str, own_host: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript", "chrome-error", "chrome"):
        return True
    return parts.netloc == own_host


# The account the probes sign in with; tests/browser_fixtures.app_server creates it in the server's database.
DEFAULT_CREDENTIALS = ("t_office", "Test#pass-2024")


class Probe:
    """A browser context + page that records what leaves the app's own host and what goes wrong."""

    def __init__(self, browser, url: str, *, viewport: Mapping[str, int] | None = None,
                 credentials: tuple[str, str] | None = DEFAULT_CREDENTIALS):
        self.url = url
        self.credentials = credentials
        self.own_host = urlsplit(url).netloc
        self.context = browser.new_context(
            viewport=dict(viewport or {"width": 1280, "height": 900}),
            service_workers="block",
            locale="zh-CN",
        )
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        self.external_requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.bad_responses: list[str] = []
        self.dialogs: list[str] = []
        self.context.on("request", self._on_request)
        self.context.on("response", self._on_response)
        # Anything not for the app's own host is recorded above and never leaves the browser.
        self.context.route(lambda u: not _is_local(u, self.own_host), lambda route: route.abort())
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.page_errors.append(str(err)))
        self.page.on("dialog", self._on_dialog)
        self.page.on("websocket", self._on_websocket)
        self.page.on("worker", self._on_worker)

    def _on_request(self, request) -> None:
        if not _is_local(request.url, self.own_host):
            self.external_requests.append(request.url)

    def _on_response(self, response) -> None:
        if response.status == 404 and _is_base_path_probe(response.url):
            return
        if response.status >= 400 and _is_local(response.url, self.own_host):
            self.bad_responses.append(f"{response.status} {response.url}")

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            loc = msg.location or {}
            if "404" in msg.text and _is_base_path_probe(loc.get("url") or ""):
                return
            where = f" ({loc.get('url')}:{loc.get('lineNumber')})" if loc.get("url") else ""
            self.console_errors.append(msg.text + where)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        with contextlib.suppress(Exception):
            dialog.dismiss()

    def _on_websocket(self, ws) -> None:
        if not _is_local(ws.url.replace("ws://", "http://").replace("wss://", "https://"), self.own_host):
            self.external_requests.append(ws.url)

    def _on_worker(self, worker) -> None:
        if not _is_local(worker.url, self.own_host):
            self.external_requests.append(worker.url)

    def goto(self, url: str | None = None) -> None:
        """Navigate and wait until the app settles; when it asks for a password, sign in with `self.credentials`
        (a probe without credentials leaves the sign-in form on screen for the test to use)."""
        self.page.goto(url or self.url, wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
        wait_streamlit_idle(self.page)
        if self._settle() and self.credentials:
            self.sign_in(*self.credentials)

    def _settle(self, timeout_s: float = 30) -> bool:
        """Wait until the page is either the sign-in form (returns True) or something else (False). The app may
        still be on its way to the form when Streamlit first looks idle: a fresh server's first request runs the
        page in legacy pages-directory mode (its nav lists "app"), which reruns through app.py; and the form may
        be half drawn ("请登录" without its fields). A test app, or a page already signed in, returns at once."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.sign_in_form_shown():
                return True
            if self.page.get_by_text("当前用户：").count():
                return False
            legacy = self.page.locator('[data-testid="stSidebarNav"] a').filter(
                has_text=re.compile(r"^\s*app\s*$")).count()
            half_drawn = self.page.get_by_text("请登录").count()
            if not (legacy or half_drawn) or time.monotonic() > deadline:
                return False
            self.page.wait_for_timeout(200)
            wait_streamlit_idle(self.page)

    def sign_in_form_shown(self) -> bool:
        return self.page.get_by_label("用户名", exact=True).count() > 0

    def sign_in(self, username: str, password: str) -> None:
        """Fill the app's sign-in form like a user and wait for the page behind it."""
        self.page.get_by_label("用户名", exact=True).fill(username)
        self.page.get_by_label("密码", exact=True).fill(password)
        self.page.get_by_role("button", name="登录").click()
        self.page.get_by_label("用户名", exact=True).wait_for(state="detached", timeout=PAGE_TIMEOUT_MS)
        wait_streamlit_idle(self.page)

    def wait_for_map(self, **kwargs):
        """``wait_for_map(self.page, ...)``; on failure the error lists what the probe recorded so far."""
        try:
            return wait_for_map(self.page, **kwargs)
        except Exception as exc:  # noqa: BLE001 - re-raised with the page's problems attached
            problems = "\n".join(self.result().problems) or "(no external request, console or page error)"
            raise AssertionError(f"streamlit-folium map not drawn: {exc}\n{problems}") from exc

    def result(self) -> ProbeResult:
        exceptions = []
        text = ""
        with contextlib.suppress(Exception):
            exceptions = [e.inner_text() for e in self.page.locator('[data-testid="stException"]').all()]
            text = self.page.locator("body").inner_text(timeout=5_000)
        return ProbeResult(
            url=self.url,
            external_requests=list(dict.fromkeys(self.external_requests)),
            console_errors=list(self.console_errors),
            page_errors=list(self.page_errors),
            bad_responses=list(self.bad_responses),
            dialogs=list(self.dialogs),
            exceptions=exceptions,
            text=text,
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()


@contextlib.contextmanager
def open_probe(browser, url: str, **kwargs) -> Iterator[Probe]:
    """Open ``url`` in a fresh context, wait until Streamlit is idle, yield the Probe; close it afterwards."""
    probe = Probe(browser, url, **kwargs)
    try:
        probe.goto()
        yield probe
    finally:
        probe.close()


def page_probe(browser, url: str, action: Callable | None = None, **kwargs) -> ProbeResult:
    """Open ``url``, wait for Streamlit to finish, run ``action(page)``, return what was recorded."""
    with open_probe(browser, url, **kwargs) as probe:
        if action is not None:
            try:
                action(probe.page)
            except Exception as exc:  # noqa: BLE001 - re-raised with what the page did wrong
                problems = "\n".join(probe.result().problems) or "(no external request, console or page error)"
                raise AssertionError(f"{url}: {exc}\n{problems}") from exc
        return probe.result()


# ------------------------------------------------------------------------------------------- waits

_IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const script = app.getAttribute('data-test-script-state');
  const conn = app.getAttribute('data-test-connection-state');
  if (conn !== 'CONNECTED' && conn !== 'STATIC_CONNECTED') return false;
  if (script !== 'notRunning' && script !== 'compilationError') return false;
  return !document.querySelector('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]');
}"""


def wait_streamlit_idle(page, timeout: float = PAGE_TIMEOUT_MS, settle_ms: int = 300) -> None:
    """Wait until the app container is there, connected, and no script run is in progress (twice, settle_ms apart)."""
    page.wait_for_function(_IDLE_JS, timeout=timeout, polling=100)
    page.wait_for_timeout(settle_ms)
    page.wait_for_function(_IDLE_JS, timeout=timeout, polling=100)


_MAP_DRAWN_JS = """(minFeatures) => {
  const c = document.querySelector('.leaflet-container');
  if (!c || c.clientWidth === 0 || c.clientHeight === 0) return false;
  // A map first drawn while hidden (inactive st.tabs tab) has a 0x0 vector layer until Leaflet handles
  // the iframe's resize: wait until Leaflet's size matches its container and every SVG layer has a size.
  const m = window.map;
  if (m && m.getSize && (m.getSize().x !== c.clientWidth || m.getSize().y !== c.clientHeight)) return false;
  for (const svg of document.querySelectorAll('.leaflet-overlay-pane svg')) {
    if (!(parseFloat(svg.getAttribute('width')) > 0)) return false;
  }
  const n = document.querySelectorAll('.leaflet-interactive, .leaflet-marker-icon, .marker-cluster').length;
  return n >= minFeatures;
}"""


def wait_for_map(
    page, *, index: int = 0, min_features: int = 1, timeout: float = PAGE_TIMEOUT_MS, settle_ms: int = 300
):
    """Wait for the ``index``-th streamlit-folium iframe to draw its map; return that iframe's ``Frame``.

    Drawn means: ``.leaflet-container`` with a non-zero size and at least ``min_features`` of
    ``.leaflet-interactive`` (vector paths) / ``.leaflet-marker-icon`` / ``.marker-cluster``, Leaflet's
    own idea of the map size equal to the container's and every SVG layer sized (still so ``settle_ms``
    later), and the iframe element itself taller and wider than 50 px on the page.
    """
    iframe = page.locator(MAP_IFRAME).nth(index)
    iframe.wait_for(state="attached", timeout=timeout)
    frame = iframe.element_handle(timeout=timeout).content_frame()
    deadline = time.monotonic() + timeout / 1000
    while frame is None and time.monotonic() < deadline:  # the iframe's document may not be attached yet
        page.wait_for_timeout(100)
        frame = iframe.element_handle(timeout=timeout).content_frame()
    if frame is None:
        raise TimeoutError("streamlit-folium iframe has no document")
    remaining = max(1_000, (deadline - time.monotonic()) * 1000)
    frame.wait_for_function(_MAP_DRAWN_JS, arg=min_features, timeout=remaining, polling=100)
    frame.wait_for_timeout(settle_ms)  # Leaflet debounces moveend after a resize (200 ms): let it land
    frame.wait_for_function(_MAP_DRAWN_JS, arg=min_features, timeout=remaining, polling=100)
    # The iframe itself must have been sized too: streamlit-folium sets its height only after the map
    # script ran without error (a script error leaves a drawn map inside a 0-pixel iframe).
    remaining = max(1_000, (deadline - time.monotonic()) * 1000)
    page.wait_for_function(
        "(el) => el.getBoundingClientRect().height > 50 && el.getBoundingClientRect().width > 50",
        arg=iframe.element_handle(timeout=timeout), timeout=remaining, polling=100,
    )
    return frame
