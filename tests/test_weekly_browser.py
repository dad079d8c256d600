"""周度研判 in Chromium at 1600×900: the first screen answers who to chase — the overdue list with 责任单位 and days
overdue is on screen without scrolling, beside the targets, above the week's cards; no developer hint on the page."""
import pytest

from browser import Probe, wait_streamlit_idle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_first_screen_shows_who_to_chase(app_server, browser, demo_url, tmp_path):
    from auth_helpers import TEST_PASSWORD, ensure_user

    base = app_server("app.py", env={"DATABASE_URL": demo_url})
    probe = Probe(browser, f"{base}/weekly_review?period=2024-12", viewport={"width": 1600, "height": 900},
                  credentials=(ensure_user(demo_url, "office"), TEST_PASSWORD))
    try:
        probe.goto(base + "/")
        probe.goto()
        page = probe.page
        page.get_by_text("需督办：逾期未整改问题").first.wait_for(timeout=30_000)
        wait_streamlit_idle(page)
        page.screenshot(path=str(tmp_path / "weekly.png"))
        grid = page.locator('[data-testid="stDataFrame"]').first
        box = grid.bounding_box()
        assert box and box["y"] + 120 < 900, box  # the list's header and first rows are above the fold
        text = page.locator("body").inner_text()
        assert "python -m data" not in text and "--week" not in text
        assert page.locator('[class*="st-key-kpi_"]').first.bounding_box()["y"] < 900
        assert page.evaluate("() => window.scrollY") == 0
    finally:
        probe.close()
