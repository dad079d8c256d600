"""A replica's start-up warm-up (components/warmup.py): after it, the first visit of every page imports none of the
heavy libraries — the user's first click after a start or an import pays for its data, not for loading code."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"streamlit_folium", "folium", "branca", "altair", "vl_convert", "geopandas", "shapely", "pyproj", "pyogrio",
         "docx", "pptx", "matplotlib", "xlsxwriter", "openpyxl", "PIL", "jinja2"}


def _first_visits(url: str, pages: list[str], *flags: str) -> dict:
    env = {**os.environ, "DATABASE_URL": url}
    proc = subprocess.run([sys.executable, "-m", "bench.firstvisits", *flags, url, *pages], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    assert line, proc.stderr[-2000:]
    res = json.loads(line[len("BENCH_JSON "):])
    assert [v["page"] for v in res["pages"]] == pages
    for visit in res["pages"]:
        assert visit["errors"] == [], visit["page"]
    return res


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_first_visit_of_every_page_after_the_warm_up_loads_no_library(demo_url):
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import app_pages

    pages = [file for file, _path, _title in app_pages()]
    assert len(pages) >= 10
    res = _first_visits(demo_url, pages)
    for visit in res["pages"]:
        assert not HEAVY & set(visit["imported"]), (visit["page"], sorted(HEAVY & set(visit["imported"])))


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_a_server_nobody_warmed_up_loads_them_on_the_first_visit(demo_url):
    """What the check above guards against: without the warm-up, the first map page loads the map libraries."""
    res = _first_visits(demo_url, ["pages/facilities.py"], "--no-warmup")
    assert {"geopandas", "shapely"} <= set(res["pages"][0]["imported"])
