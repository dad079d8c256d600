"""Issue 17 items 12, 13, 14, 27 in Chromium: a missing, then locked, SQLite file is explained in Chinese (never
Streamlit's English list of the pages/ folder, never a traceback) and the app recovers by itself; a custom period
outside the records is clamped with a notice; Streamlit's /_stcore/metrics is not served."""
from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from auth_helpers import TEST_PASSWORD, ensure_user
from browser import Probe, wait_streamlit_idle

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PAGES_FOLDER_NAMES = ("audit log", "data import", "accounts", "map settings", "report figures")


def _body(probe) -> str:
    return probe.page.locator("body").inner_text()


def _no_fallback_and_no_traceback(probe) -> None:
    text = _body(probe)
    assert not any(name in text.lower() for name in PAGES_FOLDER_NAMES), text[:500]
    assert probe.page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert "Traceback" not in text and "OperationalError" not in text and "sqlite3" not in text


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_missing_then_locked_database_is_explained_in_chinese_and_the_app_recovers(app_server, browser, demo_url,
                                                                                   tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    path = folder / "minzheng.db"
    url = f"sqlite:///{path}"
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": url})
    probe = Probe(browser, f"{base}/aid?period=2024-H1", credentials=None)
    try:
        probe.goto()
        probe.page.get_by_text("找不到数据库文件").first.wait_for(timeout=30_000)
        text = _body(probe)
        assert "python -m data init" in text
        _no_fallback_and_no_traceback(probe)
        assert not path.exists()  # not created behind the user's back

        # the file comes back (restored / remounted) — and another process holds it locked at first
        src, dst = sqlite3.connect(demo_url.removeprefix("sqlite:///")), sqlite3.connect(path)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        ensure_user(url, "office")
        from data.db.engine import get_engine
        get_engine(url).dispose()
        holder = sqlite3.connect(path, isolation_level=None, timeout=10)
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE meta SET value = value WHERE key = 'data_version'")
        try:
            probe.page.reload(wait_until="domcontentloaded")
            wait_streamlit_idle(probe.page)
            probe.page.get_by_text("数据库正忙").first.wait_for(timeout=60_000)
            _no_fallback_and_no_traceback(probe)
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        probe.page.reload(wait_until="domcontentloaded")  # released: the same server, no restart
        wait_streamlit_idle(probe.page)
        probe.page.get_by_label("用户名", exact=True).wait_for(timeout=60_000)
        probe.sign_in("t_office", TEST_PASSWORD)
        probe.page.locator('[class*="st-key-kpi_"]').first.wait_for(timeout=60_000)
        text = _body(probe)
        assert "救助发放" in text and "找不到数据库文件" not in text and "数据库正忙" not in text
        result = probe.result()
        assert not result.page_errors and not result.external_requests, result.problems
    finally:
        probe.close()


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_custom_period_outside_the_records_is_clamped_and_metrics_are_not_served(app_server, browser, demo_url):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    ensure_user(demo_url, "office")
    probe = Probe(browser, f"{base}/rectification?period=2022-01-01~2022-12-31")
    try:
        probe.goto()
        page = probe.page
        page.get_by_text("不在台账日期范围").first.wait_for(timeout=60_000)
        text = _body(probe)
        assert "2022-01-01 至 2022-12-31" in text and "Traceback" not in text
        assert "period=2024-12" in page.url
        result = probe.result()
        assert result.ok, result.problems
    finally:
        probe.close()
    # the app has run once in this server: Streamlit's unauthenticated metrics are gone, its health check is not
    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as r:
        assert r.status == 200
    try:
        with urllib.request.urlopen(f"{base}/_stcore/metrics", timeout=10) as r:
            status, kind, body = r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status, kind, body = exc.code, "", ""
    # no metrics route any more: a 404, or the app's own HTML shell that Streamlit serves for unknown paths
    assert status == 404 or ("openmetrics" not in kind and body.lstrip().startswith("<")), (status, kind, body[:80])
    assert "# TYPE" not in body and "# EOF" not in body
