"""Chromium smoke test: every page of the real app loads, on both engines, with no exception on the page,
no console error, and no request to any host but the app's own (the intranet has no internet)."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
from components.navigation import PAGES, pages_for, role_for

SPECS = {s.url_path: s for s in PAGES if (ROOT / s.file).exists()}
URL_PATHS = list(SPECS)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("url_path", URL_PATHS)
def test_page_loads_clean_in_chromium(app_server, page_probe, demo_url, url_path):
    from auth_helpers import TEST_PASSWORD, ensure_user

    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    role = role_for(SPECS[url_path].file)
    result = page_probe(f"{base}/{url_path}?period=2024-H1", credentials=(ensure_user(demo_url, role), TEST_PASSWORD))
    assert result.ok, result.problems
    assert "西湖区民政局" in result.text  # the sidebar header, or the presentation's own byline


def test_sidebar_lists_each_page_once(app_server, browser, demo_url):
    from browser import open_probe

    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url})
    with open_probe(browser, f"{base}/?period=2024-H1") as probe:
        links = probe.page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        result = probe.result()
    assert result.ok, result.problems
    names = [l.strip() for l in links]
    office_pages = [spec.title for specs in pages_for("office").values() for spec in specs]
    assert names == office_pages, names


def test_deep_link_as_the_first_request_of_a_fresh_server(app_server, page_probe, demo_url):
    """With a `pages/` folder beside app.py, Streamlit runs the very first request of a process in legacy
    pages-directory mode (the page file alone, without app.py); the shared filters must still apply."""
    base = app_server(ROOT / "app.py", env={"DATABASE_URL": demo_url}, args=("--server.runOnSave", "false"))
    result = page_probe(f"{base}/aid?period=2024-H1&street=360103014")
    assert result.ok, result.problems
    assert "桃花街道" in result.text and "2024年上半年" in result.text
