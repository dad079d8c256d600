"""The browser benchmark's floor (components/floor.py) and the benchmark's Chromium part (bench/browser.py).

The floor is an empty page served by the dashboard's own server only when the benchmark starts it with
MZ_BENCH_FLOOR_PAGE=1; an ordinary server answers the same address with the sign-in form, so it opens
nothing without signing in.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from browser import open_probe
from components import floor

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8501/bench_floor", True),
    ("http://127.0.0.1:8501/intranet/mz/bench_floor/", True),
    ("http://127.0.0.1:8501/", False),
    ("http://127.0.0.1:8501/weekly_review", False),
    ("http://127.0.0.1:8501/bench_floor_x", False),
    (None, False),
])
def test_floor_address(url, expected):
    assert floor.requested(url) is expected


@pytest.mark.parametrize("value, on", [("1", True), ("", False), ("0", False), ("yes", False)])
def test_floor_switch(monkeypatch, value, on):
    monkeypatch.setenv(floor.ENV, value)
    assert floor.enabled() is on


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_floor_page_only_on_a_benchmark_server(app_server, browser, demo_url):
    bench = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url, floor.ENV: "1"})
    plain = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    # A fresh Streamlit process runs its very first session in the legacy pages-directory mode (pages/ exists),
    # which knows no /bench_floor and says "page not found" once; the benchmark's first visit is unmeasured.
    with open_probe(browser, f"{bench}/", credentials=None):
        pass
    with open_probe(browser, f"{bench}/{floor.FLOOR_PATH}", credentials=None) as probe:
        page = probe.page
        page.get_by_text(floor.FLOOR_TEXT).wait_for(timeout=30_000)
        assert page.get_by_label("用户名", exact=True).count() == 0  # no sign-in, no database, no sidebar
        assert page.locator('[data-testid="stSidebar"]').count() == 0
        result = probe.result()
        assert result.ok, result.problems
    # the map floor draws its map like the pages do: from the server's own files, nothing from outside
    with open_probe(browser, f"{bench}/{floor.FLOOR_PATH}?el=map", credentials=None) as probe:
        probe.wait_for_map()
        result = probe.result()
        assert result.ok, result.problems
    with open_probe(browser, f"{plain}/{floor.FLOOR_PATH}", credentials=None) as probe:
        page = probe.page
        page.get_by_label("用户名", exact=True).wait_for(timeout=30_000)  # an ordinary server: sign in first
        assert floor.FLOOR_TEXT not in page.locator('[data-testid="stMain"]').inner_text()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_browser_benchmark_times_pages_against_the_floor(browser, demo_url):
    from bench.browser import run_browser

    out = run_browser(demo_url, [("pages/facilities.py", "facilities"), ("pages/weekly_review.py", "weekly_review"),
                                 ("pages/roundtable.py", "roundtable")],
                      runs=1, log=lambda *a: None, browser=browser)
    assert out["empty"]["main"] == "empty_text" and out["empty"]["url_path"] == floor.FLOOR_PATH
    assert out["empty_root"]["main"] == "empty_text"
    assert all("error" not in x for x in out["pages"].values()), out["pages"]
    assert out["pages"]["pages/facilities.py"]["main"] == "map"  # a page with a map is timed to its map
    assert out["pages"]["pages/weekly_review.py"]["main"] == "metric"  # no map or chart: its headline figures
    for x in [out["empty"], out["empty_root"], *out["pages"].values()]:
        assert 0 < x["time"]["median"] < 60
    for x in out["pages"].values():  # one round: the paired ratio is that round's page time over its floor time
        assert x["paired_ratio"]["median"] == pytest.approx(x["time"]["median"] / out["empty"]["time"]["median"])
    # each element floor drew its element (the bench checks the kind it found) and a page is read against the
    # floor of its own main element's kind
    assert set(out["element_floors"]) == set(floor.ELEMENTS)
    for x in out["element_floors"].values():
        assert "error" not in x, x
        assert 0 < x["time"]["median"] < 60
    assert out["pages"]["pages/roundtable.py"]["main"] == "slide"  # the projected canvas: its slide drawn
    for x in out["pages"].values():
        if x["main"] not in floor.ELEMENTS:
            continue
        assert x["element_floor_ratio"]["median"] == pytest.approx(
            x["time"]["median"] / out["element_floors"][x["main"]]["time"]["median"])

    # the three moments of a visit, in order: the first useful screen, the main element, the page fully drawn
    for x in out["pages"].values():
        first, main, full = (x[k]["median"] for k in ("first_screen", "time", "fully_drawn"))
        assert 0 < first <= main <= full < 60
        assert x["first_screen_ratio"]["median"] == pytest.approx(first / out["empty"]["time"]["median"])
        assert x["fully_drawn_ratio"]["median"] == pytest.approx(full / out["empty"]["time"]["median"])
    # the facilities page is fully drawn only once its map is: its map is drawn by then
    assert out["pages"]["pages/facilities.py"]["fully_drawn"]["median"] >= out["pages"]["pages/facilities.py"]["time"]["median"]
    # the roundtable's slide switch: four steps forward per round, each a real slide change
    assert "error" not in out["slide_switch"], out["slide_switch"]
    assert out["slide_switch"]["n"] == 4 and 0 < out["slide_switch"]["time"]["median"] < 30, out["slide_switch"]


_HIDDEN_MAP_APP = '''import sys
sys.path.insert(0, {root!r})
import folium
import streamlit as st
from components import maps
from components.kpis import Kpi, kpi_row
first, second = st.tabs(["指标", "地图"])  # every tab sent; the map's tab is not the chosen one
with first:
    kpi_row([Kpi("指标", "1")])
with second:
    m = maps.base_map()
    folium.Marker([28.66, 115.89], icon=folium.DivIcon(html="<b>甲</b>")).add_to(m)
    maps.show_map(m, key="hidden_map")
'''


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_fully_drawn_does_not_wait_for_a_map_in_a_tab_not_chosen(app_server, browser, tmp_path):
    """A map in a tab the user has not opened is never drawn by the browser (its frame is not displayed): the page is
    fully drawn without it (before this, the benchmark waited 60 s for such a map and gave up on the page)."""
    from bench.browser import _FULL_JS, _context

    script = tmp_path / "hidden_map_app.py"
    script.write_text(_HIDDEN_MAP_APP.format(root=str(ROOT)), encoding="utf-8")
    url = app_server(script)
    ctx = _context(browser)
    try:
        page = ctx.new_page()
        page.goto(url + "/", wait_until="domcontentloaded")
        page.wait_for_function(_FULL_JS, arg="metric", timeout=30_000, polling="raf")
        # the map was sent, hidden: its frame is attached (the component's code may arrive after the page counts as
        # drawn, which is the point — so wait for it rather than look once)
        frame = page.locator('iframe[title="streamlit_folium.st_folium"]')
        frame.wait_for(state="attached", timeout=30_000)
        assert frame.count() == 1
    finally:
        ctx.close()
