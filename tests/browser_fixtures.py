"""pytest fixtures for Chromium tests (helpers in tests/browser.py).

Register once, in tests/conftest.py:

    pytest_plugins = ["browser_fixtures"]

(a test module may carry the same line until then; the plugin is registered once either way).

Fixtures
--------
``app_server(script, *, env=None, base_url_path=None, args=()) -> str``  (session)
    Starts ``streamlit run <script>`` (cwd = project root, so .streamlit/config.toml applies) on a free
    127.0.0.1 port and returns its base URL without a trailing slash, e.g. ``http://127.0.0.1:41234`` or
    ``http://127.0.0.1:41234/intranet/mz``. The same (script, env, base, args) reuses one server for
    the whole session; every server is stopped at the end of the session.
``browser``  (session)
    One headless Chromium (/usr/bin/chromium) for the session (a Playwright ``Browser``).
``page_probe(url, action=None) -> ProbeResult``
    Opens ``url`` in a fresh context, waits for Streamlit to finish running, runs ``action(page)``,
    returns external requests, console/page errors, own-host HTTP errors, dialogs, Streamlit exceptions
    and the page text (see tests/browser.py).
``open_probe(url)``
    Context manager yielding the live ``Probe`` (``.page``, ``.result()``) for tests that interact step by step.

Mark browser tests ``@pytest.mark.browser`` and, so that ``-n 2 --dist loadgroup`` keeps them on one
worker (one Chromium, one server per app), ``@pytest.mark.xdist_group("browser")``.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import pytest

from browser import AppServer, Probe, ProbeResult, launch_chromium
from browser import open_probe as _open_probe
from browser import page_probe as _page_probe


@pytest.fixture(scope="session")
def app_server() -> Iterator[Callable[..., str]]:
    servers: dict[tuple, AppServer] = {}

    def start(
        script: str | Path,
        *,
        env: Mapping[str, str] | None = None,
        base_url_path: str | None = None,
        args: Sequence[str] = (),
    ) -> str:
        if env and env.get("DATABASE_URL"):  # the account the probes sign in with (browser.DEFAULT_CREDENTIALS)
            from auth_helpers import ensure_user
            from data.db.migrate import current_revision, head_revision
            from data.db.engine import get_engine

            with contextlib.suppress(Exception):
                if current_revision(get_engine(env["DATABASE_URL"])) == head_revision():
                    ensure_user(env["DATABASE_URL"], "office")
        key = (str(script), tuple(sorted((env or {}).items())), (base_url_path or "").strip("/"), tuple(args))
        if key not in servers:
            servers[key] = AppServer(script, env=env, base_url_path=base_url_path, args=args).start()
        return servers[key].url

    try:
        yield start
    finally:
        for server in servers.values():
            server.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_probe(browser) -> Callable[..., ProbeResult]:
    def probe(url: str, action: Callable | None = None, **kwargs) -> ProbeResult:
        return _page_probe(browser, url, action, **kwargs)

    return probe


@pytest.fixture
def open_probe(browser) -> Callable[..., contextlib.AbstractContextManager[Probe]]:
    def opener(url: str, **kwargs):
        return _open_probe(browser, url, **kwargs)

    return opener
