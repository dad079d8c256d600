"""More than one server (issue 22): two replicas of app.py on one PostgreSQL behind nginx (deploy/nginx/minzheng.conf,
run by deploy/cluster.py exactly as `make cluster` runs it), driven through the proxy in Chromium.

* An edit saved through replica A shows on replica B at B's next rerun: the page caches are keyed on the data version
  stored in the database (data/db/cache.py), not on anything a process holds.
* A signed-in user whose replica dies is moved to the other one by the proxy and stays signed in: the next page
  loads with the user's name, no sign-in form, no error, the same filters (sessions live in the database; the
  browser's mz_session cookie reaches whichever replica it lands on).
* The committed nginx configuration carries what the deployment needs (affinity cookie, websocket headers, long
  read timeouts, the importer's upload limit) and the cluster runs that very file.

PostgreSQL only (one database shared by the replicas is the point). Skipped only when nginx is not installed
(`make test` installs it through `make system-deps`).
"""
from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from auth_helpers import ensure_user
from browser import Probe, wait_streamlit_idle
from data.db.engine import get_engine
from data.db.models import Finding
from data.queries.common import bump_data_version, data_version
from deploy.cluster import NGINX_SITE, Cluster, nginx_available, site_config

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.browser, pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(nginx_available() is None,
                       reason="nginx is not installed (apt-get install nginx-light; `make system-deps` does it)"),
]
PG_ONLY = pytest.mark.parametrize("demo_url", ["postgresql"], indirect=True)
RECTIFIED = "已整改（个）"


@pytest.fixture(scope="module")
def cluster(demo_url):
    ensure_user(demo_url, "office")  # the account the probes sign in with (tests/browser.DEFAULT_CREDENTIALS)
    with Cluster(demo_url, replicas=2) as c:
        yield c


def _metric(page, label: str) -> int:
    box = page.locator('[class*="st-key-kpi_"]').filter(has_text=label).first
    return int(box.locator("h2").inner_text().replace(",", "").strip())


def _pinned(browser, cluster: Cluster, port: int, path: str) -> Probe:
    """A browser whose affinity cookie sends it to the replica on `port`."""
    probe = Probe(browser, f"{cluster.url}{path}")
    probe.context.add_cookies([{"name": "mz_route", "value": cluster.route_to(port), "url": cluster.url}])
    return probe


def _errors(page) -> list[str]:
    return [e.inner_text() for e in page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
            .all()]


@PG_ONLY
def test_an_edit_through_replica_a_shows_on_replica_b_at_its_next_rerun(cluster, browser, demo_url):
    engine = get_engine(demo_url)
    with engine.connect() as conn:  # a problem found and rectified in December 2024: reopening it counts one less
        finding = conn.execute(select(Finding.id, Finding.code, Finding.rectified_on, Finding.note)
                               .where(Finding.found_on >= date(2024, 12, 1), Finding.rectified_on.is_not(None),
                                      Finding.rectified_on <= date(2024, 12, 31))
                               .order_by(Finding.code).limit(1)).one()
    a, b = (r.port for r in cluster.replicas)
    on_b = _pinned(browser, cluster, b, "/rectification?period=2024-12")
    on_a = _pinned(browser, cluster, a, "/rectification?period=2024-12")
    try:
        on_b.goto()
        before = _metric(on_b.page, RECTIFIED)  # B has run the page: its cache holds the figure
        version = data_version(engine)

        on_a.goto()
        page = on_a.page
        box = page.get_by_label("或输入问题编号", exact=True)
        box.fill(finding.code)
        box.press("Enter")
        wait_streamlit_idle(page)
        page.get_by_text("重新打开（改为未整改）", exact=True).click()
        page.get_by_role("button", name="保存").click()
        wait_streamlit_idle(page)
        page.get_by_text(f"问题 {finding.code} 已重新打开。").wait_for()
        assert data_version(engine) > version
        assert _metric(page, RECTIFIED) == before - 1  # A itself

        # B's next rerun (a user pressing R, or any widget change) shows it, without a restart or a cache clear
        on_b.page.keyboard.press("r")
        deadline = time.monotonic() + 30
        while _metric(on_b.page, RECTIFIED) != before - 1 and time.monotonic() < deadline:
            on_b.page.wait_for_timeout(200)
        wait_streamlit_idle(on_b.page)
        assert _metric(on_b.page, RECTIFIED) == before - 1
        # …and it was B, A, B all along: the affinity cookie held
        route_b = {c["name"]: c["value"] for c in on_b.context.cookies()}["mz_route"]
        assert cluster.replica_for({"mz_route": route_b}) == b
        for probe in (on_a, on_b):
            result = probe.result()
            assert not result.exceptions and not result.bad_responses, result.problems
    finally:
        on_a.close()
        on_b.close()
        with engine.begin() as conn:  # the session's shared demo (this worker's) stays as built
            conn.execute(update(Finding).where(Finding.id == finding.id)
                         .values(rectified_on=finding.rectified_on, note=finding.note))
            bump_data_version(conn)


@PG_ONLY
def test_a_user_whose_replica_dies_is_moved_and_stays_signed_in(cluster, browser):
    probe = Probe(browser, f"{cluster.url}/overview?period=2024-H1")
    killed = None
    try:
        probe.goto()  # signs in through the proxy with the form, like a user
        page = probe.page
        assert page.get_by_text("当前用户：").count() and not probe.sign_in_form_shown()
        cookies = {c["name"]: c["value"] for c in probe.context.cookies()}
        assert {"mz_route", "mz_session"} <= set(cookies), sorted(cookies)
        serving = cluster.replica_for({"mz_route": cookies["mz_route"]})
        killed = cluster.index_of(serving)
        cluster.kill(killed)  # SIGKILL mid-session: its websockets just drop

        page.wait_for_timeout(1_000)
        wait_streamlit_idle(page, timeout=60_000)  # the frontend reconnects through the proxy
        page.locator('[data-testid="stSidebarNav"] a[href$="/rectification"]').first.click()
        wait_streamlit_idle(page, timeout=60_000)
        page.get_by_text(RECTIFIED).first.wait_for(timeout=60_000)
        wait_streamlit_idle(page)

        assert not probe.sign_in_form_shown()
        assert page.get_by_text("当前用户：").count()
        assert urlsplit(page.url).path.endswith("/rectification")
        assert parse_qs(urlsplit(page.url).query).get("period") == ["2024-H1"], page.url  # the filters came along
        assert not _errors(page), _errors(page)
        result = probe.result()
        assert not result.exceptions and not result.bad_responses and not result.dialogs, result.problems
        assert "登录已过期" not in result.text
        now = cluster.replica_for({"mz_route": cookies["mz_route"]})
        assert now != serving and cluster.replicas[cluster.index_of(now)].alive()
    finally:
        probe.close()
        if killed is not None:
            cluster.restart(killed)


@PG_ONLY
def test_load_through_the_proxy_with_a_replica_killed_halfway_has_no_errors(cluster, demo_url):
    """bench/load.py's cluster mode, tiny: protocol sessions through nginx, the busiest replica killed halfway; its
    sessions reconnect to the other replica and go on signed in. Errors only — timings belong to the benchmark."""
    from bench import load

    res = load.run_cluster_load(demo_url, sessions=3, seconds=8, kill_half=True, think=0.5, min_pages=3,
                                cluster=cluster, log=lambda *a: None)
    assert res["errors"] == 0, res["error_samples"]
    assert res["signed_in"] == 3 and res["cluster"]["killed"], res["cluster"]
    assert res["reconnects"] >= 1  # the killed replica had sessions, and they went on
    assert all(s["pages"] >= 3 for s in res["per_session"]), res["per_session"]
    assert set(res["cluster"]["peak_rss_mb"]) == {str(r.port) for r in cluster.replicas}
    assert all(mb > 50 for mb in res["cluster"]["peak_rss_mb"].values())
    assert all(r.alive() for r in cluster.replicas)  # restarted for whatever runs next


def test_the_committed_nginx_config_is_what_the_cluster_runs():
    from data.imports.reading import MAX_BYTES

    text = NGINX_SITE.read_text(encoding="utf-8")
    body = int(re.search(r"client_max_body_size (\d+)m;", text).group(1))
    assert body == MAX_BYTES // (1024 * 1024) + 1  # the importer's limit plus the multipart envelope
    for needed in ("hash $mz_route consistent;", "proxy_set_header Upgrade $http_upgrade;",
                   "proxy_set_header Connection $connection_upgrade;", "proxy_set_header Host $http_host;",
                   "proxy_read_timeout 86400s;", "location = /_stcore/health", "gzip on;",
                   "proxy_next_upstream error timeout"):
        assert needed in text, needed
    local = site_config("127.0.0.1:9999", [9001, 9002, 9003], "/tmp/x.log")
    assert "listen 127.0.0.1:9999;" in local and "access_log /tmp/x.log minzheng;" in local
    assert re.findall(r"server 127\.0\.0\.1:(\d+) max_fails", local) == ["9001", "9002", "9003"]
    strip = lambda s: [ln for ln in s.splitlines()  # noqa: E731
                       if not re.search(r"listen |server 127\.0\.0\.1:|access_log ", ln)]
    assert strip(local) == strip(text)  # nothing else differs from the committed file


@PG_ONLY
def test_a_restarted_replica_serves_the_map_files_before_anyone_draws_a_map_on_it(cluster, demo_url):
    """A tab that failed over keeps its routing cookie: when its first replica comes back, the map's files are
    fetched from that replica, on which nobody has drawn a map yet. It serves them from its start (warmed up)."""
    import urllib.error
    import urllib.request

    cluster.restart(0)
    replica = cluster.replicas[0]
    url = f"{replica.url}/component/streamlit_folium.st_folium/index.html"
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, b""
    assert status == 200 and b"<script" in body, status
