"""The map pages in Chromium: map drawn, legend visible, popup on a marker click, nothing fetched from other
hosts, and a facility named like an XSS probe shown as text (no dialog, no injected element)."""
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert

from browser import Probe, wait_streamlit_idle
from data.engine import get_engine
from data.models import Facility

ROOT = Path(__file__).resolve().parent.parent
XSS = "<img src=x onerror=alert(1)>"
JS_PROBE = "${alert(2)}`{{7*7}}"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def xss_url(tmp_path_factory):
    """A copy of the SQLite demo district with two hostile facility names in 桃花街道."""
    from data.demo import build_demo
    from data.migrate import upgrade

    path = tmp_path_factory.mktemp("xss") / "xss.db"
    url = f"sqlite:///{path}"
    engine = get_engine(url)
    upgrade(engine)
    build_demo(engine, scale=1)
    with engine.begin() as conn:
        conn.execute(insert(Facility), [
            {"code": "XSS-1", "name": XSS, "kind": "welfare_institute", "subdistrict_code": "360103014",
             "lon": 115.8745, "lat": 28.6215, "operator": JS_PROBE, "address": "<script>alert(3)</script>",
             "capacity": 10, "planned_on": date(2020, 1, 1), "construction_started_on": date(2020, 6, 1),
             "opened_on": date(2021, 1, 1)},
        ])
    return url


@contextmanager
def on_page(browser, base: str, page_title: str):
    """Open the app at its root (so the app's own navigation runs), then go to a page by its sidebar link.

    The yielded probe also counts the messages the browser sends to the Streamlit server (`sent`): a
    rerun request is one, so pan and zoom must leave the count unchanged.
    """
    live = Probe(browser, f"{base}/?period=2024-06", viewport={"width": 1400, "height": 1000})
    live.sent = []
    live.page.on("websocket", lambda ws: ws.on("framesent", lambda payload: live.sent.append(payload)))
    try:
        # A fresh server runs its very first script run in Streamlit's legacy pages/ mode (st.navigation has
        # not been called yet in the process); load the root twice so the click is served by app.py's navigation.
        live.goto()
        live.page.locator('[data-testid="stSidebarNav"]').wait_for()
        live.goto()
        live.page.locator('[data-testid="stSidebarNav"] a', has_text=page_title).first.click()
        live.page.wait_for_timeout(500)
        wait_streamlit_idle(live.page)
        yield live
    finally:
        live.close()


def _mark_marker(frame, needle: str) -> bool:
    """Tag the icon of the marker whose tooltip contains `needle` and bring it to the middle of the map."""
    return frame.evaluate("""(needle) => {
        let hit = null;
        window.map.eachLayer(l => {
            if (!hit && l.getTooltip && l.getTooltip() && l._icon && String(l.getTooltip().getContent()).includes(needle)) hit = l;
        });
        if (!hit) return false;
        window.map.setView(hit.getLatLng(), 17, {animate: false});
        hit._icon.setAttribute('data-test', 'probe-marker');
        return true;
    }""", needle)


def test_facilities_map_in_chromium(app_server, browser, xss_url):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": xss_url})
    with on_page(browser, base, "设施布局") as live:
        frame = live.wait_for_map(min_features=50)
        # markers of several kinds, subdistrict polygons, the legend and the schematic note
        assert frame.locator(".awesome-marker").count() >= 50
        assert frame.locator(".leaflet-control-layers").is_visible()
        legend = frame.locator(".mz-legend")
        assert legend.is_visible() and "设施类型" in legend.inner_text()
        assert "示意边界，非法定界线" in frame.locator(".mz-note").inner_text()
        # Font Awesome is served locally: the icon font really loaded
        assert frame.evaluate("""async () => {
            await document.fonts.load('900 12px "Font Awesome 6 Free"');
            return Array.from(document.fonts).some(f => f.family.includes('Font Awesome') && f.status === 'loaded');
        }""")

        # pan and zoom send nothing to the server: no rerun of the page (returned_objects are clicks only)
        before = len(live.sent)
        frame.evaluate("() => { window.map.panBy([120, 80], {animate: false}); window.map.zoomIn(1, {animate: false}); }")
        frame.wait_for_timeout(1200)
        assert len(live.sent) == before

        # a real click on the XSS probe's marker opens its popup, which shows the name as text
        escaped_name = "&lt;img src=x onerror=alert(1)&gt;"
        assert _mark_marker(frame, escaped_name)
        frame.wait_for_timeout(300)
        frame.locator('[data-test="probe-marker"]').click()
        popup = frame.locator(".leaflet-popup-content")
        popup.wait_for(state="visible")
        text = popup.inner_text()
        assert XSS in text and JS_PROBE in text and "<script>alert(3)</script>" in text
        assert popup.locator("img, script").count() == 0
        assert frame.locator("img[src='x']").count() == 0

        # the click reaches the page (a fragment rerun): the facility card shows the same name as text
        live.page.wait_for_function("(n) => document.body.innerText.includes(n)", arg=XSS, timeout=15_000)
        assert len(live.sent) > before
        assert live.page.locator("img[src='x']").count() == 0
        result = live.result()
    assert not result.dialogs, result.dialogs
    assert result.ok, result.problems


def test_meal_coverage_map_in_chromium(app_server, browser, xss_url):
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": xss_url})
    with on_page(browser, base, "助餐覆盖") as live:
        frame = live.wait_for_map(min_features=20)
        legend = frame.locator(".mz-legend")
        assert legend.is_visible() and "社区助餐覆盖率" in legend.inner_text()
        assert frame.locator(".awesome-marker").count() >= 47
        assert "47" in live.page.locator('[data-testid="stMetricValue"]').first.inner_text()
        result = live.result()
    assert result.ok, result.problems
