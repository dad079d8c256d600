"""Issue 17 items 12, 13, 14, 27, 28 through AppTest and the command line: a missing, unreadable or unreachable
database is explained in Chinese and never created at run time; the SQLite file is made 0600 by `python -m data
init` only; a bad ?street= for a 街道 account names its own subdistrict; a custom period outside the records is
clamped and said so. (The same in Chromium: tests/test_faults_browser.py.)"""
from __future__ import annotations

from cards import cards

import os
import socket
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from auth_helpers import sign_in_apptest
from data.db.engine import DatabaseError, get_engine

ROOT = Path(__file__).resolve().parent.parent
OWN = "360103001"  # 南浦街道


def _app(monkeypatch, url: str, **params) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _copy_sqlite(src_url: str, dest: Path) -> str:
    src, dst = sqlite3.connect(src_url.removeprefix("sqlite:///")), sqlite3.connect(dest)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{dest}"


def _shown(at) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "info", "markdown", "caption", "title")
                     for e in getattr(at, kind))


# --- item 28 -----------------------------------------------------------------------------------------------------

def test_python_m_data_init_creates_the_sqlite_file_0600_and_its_wal_too(tmp_path):
    from cli import main

    path = tmp_path / "live.db"
    old = os.umask(0o022)  # the usual umask, under which the file used to be created 0644
    try:
        assert main(["--database-url", f"sqlite:///{path}", "init"]) == 0
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        engine = get_engine(f"sqlite:///{path}")
        with engine.begin() as conn:  # a write: the WAL file exists while a connection is open
            conn.exec_driver_sql("UPDATE meta SET value = value WHERE key = 'data_version'")
            for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                if extra.exists():
                    assert stat.S_IMODE(os.stat(extra).st_mode) == 0o600, extra.name
        engine.dispose()
    finally:
        os.umask(old)


# --- item 13 -----------------------------------------------------------------------------------------------------

def test_a_missing_sqlite_file_is_never_created_at_run_time(tmp_path):
    from data.db.migrate import ensure_current

    path = tmp_path / "gone.db"
    engine = get_engine(f"sqlite:///{path}")
    with pytest.raises(DatabaseError, match="python -m data init"):
        ensure_current(engine)
    with pytest.raises(DatabaseError, match="找不到数据库文件"):
        with engine.connect():
            pass
    assert not path.exists()


def test_missing_database_is_explained_in_chinese_and_the_app_recovers_once_it_is_back(monkeypatch, tmp_path,
                                                                                      demo_url):
    if not demo_url.startswith("sqlite"):
        pytest.skip("a file of the SQLite engine")
    path = tmp_path / "minzheng.db"
    at = _app(monkeypatch, f"sqlite:///{path}", period="2024-H1")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _shown(at)
    assert "找不到数据库文件" in shown and "python -m data init" in shown
    assert not path.exists() and not cards(at)
    _copy_sqlite(demo_url, path)  # the file is back (restored, remounted)
    sign_in_apptest(at, f"sqlite:///{path}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "找不到数据库文件" not in _shown(at)
    at.switch_page("pages/overview.py").run()
    assert not at.exception and cards(at)  # the dashboard, in the same server process: no restart
    path.unlink()  # gone again while the app runs: said so, not an empty dashboard
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        extra.unlink(missing_ok=True)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "找不到数据库文件" in _shown(at) and not path.exists()


# --- item 14: PostgreSQL going away and coming back (a forwarding port that is closed, then opened again) --------

class _Forwarder:
    """127.0.0.1:<port> → the shared PostgreSQL server; `stop()` closes the port and every connection through it."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._socks: list[socket.socket] = []
        self._listener = None

    def start(self):
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(16)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: the port is closed at once
        except OSError:
            pass
        self._listener.close()
        for s in self._socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self._socks.clear()


def test_postgresql_going_away_is_explained_in_chinese_then_the_app_recovers(monkeypatch, demo_url):
    if not demo_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    fwd = _Forwarder().start()
    url = demo_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{fwd.port}/")
    assert url != demo_url
    try:
        at = _app(monkeypatch, url, period="2024-H1")
        sign_in_apptest(at, url)
        at.run()
        at.switch_page("pages/aid.py").run()
        assert not at.exception and cards(at)
        fwd.stop()  # the database server is gone (port closed, connections cut)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert "无法连接数据库" in _shown(at) and "Traceback" not in _shown(at)
        fwd.start()  # back
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert "无法连接数据库" not in _shown(at) and cards(at)
    finally:
        fwd.stop()
        get_engine(url).dispose()


def test_a_locked_sqlite_database_is_explained_in_chinese_then_the_app_recovers(monkeypatch, tmp_path, demo_url):
    if not demo_url.startswith("sqlite"):
        pytest.skip("a lock of the SQLite file")
    url = _copy_sqlite(demo_url, tmp_path / "locked.db")
    at = _app(monkeypatch, url, period="2024-H1")
    sign_in_apptest(at, url)
    at.run()
    at.switch_page("pages/aid.py").run()
    assert not at.exception and cards(at)
    get_engine(url).dispose()  # the app's idle pooled connections: the lock below waits for no reader
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, timeout=10)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # in WAL mode, how one connection keeps every other one out
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE meta SET value = value WHERE key = 'data_version'")  # take the write lock for real
    try:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert "数据库正忙" in _shown(at)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    at.run()
    assert not at.exception and "数据库正忙" not in _shown(at) and cards(at)


# --- item 12: a bad ?street= for a 街道 account ------------------------------------------------------------------

@pytest.mark.parametrize("asked", ["360103014", "999", "[点此](http://example.com)"],
                         ids=["another-street", "unknown-code", "markdown"])
def test_a_street_account_with_a_bad_street_link_is_told_its_own_subdistrict(monkeypatch, demo_url, asked):
    at = _app(monkeypatch, demo_url, period="2024-H1", street=asked)
    sign_in_apptest(at, demo_url, "street", OWN)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warning = " ".join(w.value for w in at.warning)
    assert "南浦街道" in warning and "全区" not in warning, warning
    assert "http" not in warning  # URL text is never echoed into Markdown
    assert at.selectbox(key="flt_street").value == OWN


# --- item 27: a custom period outside the records ----------------------------------------------------------------

@pytest.mark.parametrize("page", ["pages/overview.py", "pages/aid.py", "pages/rectification.py",
                                  "pages/weekly_review.py", "pages/report_figures.py", "pages/meal_coverage.py"])
def test_a_custom_period_outside_the_records_is_clamped_and_said_so(monkeypatch, demo_url, page):
    at = _app(monkeypatch, demo_url, period="2022-01-01~2022-12-31")
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    warning = " ".join(w.value for w in at.warning)
    assert "2022-01-01 至 2022-12-31" in warning and "不在台账日期范围" in warning
    assert at.query_params["period"] in ("2024-12", ["2024-12"])


def test_a_custom_period_partly_outside_the_records_is_limited_to_them(monkeypatch, demo_url):
    at = _app(monkeypatch, demo_url, period="2024-07-01~2025-06-30")
    at.run()
    at.switch_page("pages/aid.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("已限定为 2024-07-01 至 2024-12-31" in w.value for w in at.warning)
    assert at.query_params["period"] in ("2024-07-01~2024-12-31", ["2024-07-01~2024-12-31"])


@pytest.mark.parametrize("asked, shown, label", [("2099", "2024", "2099年"), ("1900-01", "2024-12", "1900年1月"),
                                                 ("2030-Q2", "2024-Q4", "2030年第二季度")])
def test_a_year_or_month_outside_the_records_is_replaced_and_said_so(monkeypatch, demo_url, asked, shown, label):
    """A bookmarked year, month or quarter with no records at all is not drawn as if it had figures ("as of
    2099-12-31"): the latest complete period of the same kind is shown instead, and the page says so."""
    at = _app(monkeypatch, demo_url, period=asked)
    at.run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    warning = " ".join(w.value for w in at.warning)
    assert f"“{label}”" in warning and "不在台账日期范围" in warning, warning
    assert at.query_params["period"] in (shown, [shown])


@pytest.mark.parametrize("asked, reason", [("2024-13", "月份应为 1 至 12"), ("2024-W60", "周次应为 1 至 52"),
                                           ("2024-02-30~2024-03-01", "日期不存在")])
def test_a_period_that_cannot_exist_is_explained_in_chinese(monkeypatch, demo_url, asked, reason):
    at = _app(monkeypatch, demo_url, period=asked)
    at.run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    warning = " ".join(w.value for w in at.warning)
    assert reason in warning and "已显示2024年12月" in warning, warning
    assert not any(w in warning for w in ("must be", "Invalid", "out of range")), warning


def test_every_problem_of_a_link_is_said_not_only_the_last(monkeypatch, demo_url):
    at = _app(monkeypatch, demo_url, period="2024-Q5", street="360103099")
    at.run()
    at.switch_page("pages/overview.py").run()
    warning = " ".join(w.value for w in at.warning)
    assert "无法识别的统计期“2024-Q5”" in warning and "链接中的街道代码“360103099”不存在" in warning, warning
    assert "代码代码" not in warning


def test_no_error_details_reach_a_browser_by_configuration():
    """client.showErrorDetails is one of the values the installed Streamlit accepts, and the one that shows nothing."""
    import tomllib

    from streamlit import config

    conf = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    value = conf["client"]["showErrorDetails"]
    assert value == config.ShowErrorDetailsConfigOptions.NONE.value == "none"


# --- a comparison with a period before the first ledger record -----------------------------------------------------

def test_the_first_month_with_records_shows_no_rise_against_the_month_before_them(monkeypatch, demo_url):
    """2023-01 is the demo's first month with records: its meals, payments and findings are not "+44,410 较上期"
    against an empty 2022-12 — those cards show no change and their help says why; a state (meal points operating,
    from the facilities' own dates) is still compared."""
    at = _app(monkeypatch, demo_url, period="2023-01")
    sign_in_apptest(at, demo_url)
    at.run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    by_label = {k.label: k for k in cards(at)}
    meals = next(k for label, k in by_label.items() if label.startswith("助餐份数"))
    aid = next(k for label, k in by_label.items() if label.startswith("救助发放"))
    for k in (meals, aid):
        assert k.delta is None and "上期无台账记录，不作比较" in (k.help or ""), k
    at2 = _app(monkeypatch, demo_url, period="2023-02")  # the month after: compared as before
    sign_in_apptest(at2, demo_url)
    at2.run()
    at2.switch_page("pages/overview.py").run()
    meals2 = next(k for k in cards(at2) if k.label.startswith("助餐份数"))
    assert meals2.delta and "较上期" in meals2.delta


def test_aid_shows_no_year_on_year_change_when_the_year_before_has_no_records(monkeypatch, demo_url):
    at = _app(monkeypatch, demo_url, period="2023")
    sign_in_apptest(at, demo_url)
    at.run()
    at.switch_page("pages/aid.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = cards(at)
    assert shown and all(k.delta is None for k in shown if "同比" in (k.help or "") or k.label.endswith("（万元）"))
    total = next(k for k in shown if k.label.startswith("救助发放合计"))
    assert total.delta is None and "上年同期无台账记录" in total.help
    at2 = _app(monkeypatch, demo_url, period="2024")
    sign_in_apptest(at2, demo_url)
    at2.run()
    at2.switch_page("pages/aid.py").run()
    total2 = next(k for k in cards(at2) if k.label.startswith("救助发放合计"))
    assert total2.delta and "同比" in total2.delta
