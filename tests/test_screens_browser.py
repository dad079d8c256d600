"""Every page as each role opens it, in Chromium at 1600×900 (issue 19): a screenshot per page under the test's own
artifacts folder (tmp_path, never committed), and the rules a user notices on the first screen checked from the live
page — no word of Streamlit's English, no exception box, and the page's main element on the first screen (900 px):
the map of a map page starting above 400 px with 90 % of it on screen, the overdue list (需督办) on 周度研判, else cards, a chart, a table
or the page's upload form. One browser, one server; each role signs in once and visits its pages in turn — every page
as 业务科室 and 管理员 (who see them all between them), and for 局领导, 街道 and 展示 the pages that differ for them
(their home page, the 街道's own-subdistrict maps), to keep the run short. The overdue list's columns (责任单位, 逾期天数)
are drawn on a canvas: tests/test_pages_weekly.py reads them from the page model."""
from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser import Probe, wait_for_map, wait_streamlit_idle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SCREEN = {"width": 1600, "height": 900}
STREET = "360103001"  # 南浦街道
MAP_PAGES = {"facilities", "meal_coverage"}
# Streamlit's own English words (widgets, uploader, toolbar) that must never be read on a page
ENGLISH = ("Choose an option", "Choose options", "No options to select", "Drag and drop", "Browse files",
           "Limit 200MB", "per file", "Deploy", "Press Enter to apply", "No results", "Running...")

_FIRST_SCREEN = """(english) => {
  const H = innerHeight;
  const shown = (el) => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
      && parseFloat(s.fontSize) > 0 && parseFloat(s.opacity || 1) > 0; };
  const words = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode, el = n.parentElement, t = n.textContent;
    if (!el || !t.trim() || el.closest('script,style') || !shown(el)) continue;
    for (const w of english) if (t.includes(w)) words.push(w + ' ← ' + t.trim().slice(0, 50));
  }
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]'))
    for (const w of english) if (shown(el) && el.placeholder.includes(w)) words.push(w + ' ← placeholder');
  const top = (sel) => Array.from(document.querySelectorAll(sel)).filter(shown)
    .map(e => e.getBoundingClientRect()).filter(r => r.top < H).map(r => [Math.round(r.top), Math.round(r.bottom)]);
  const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
  const onScreen = (text) => Array.from(document.querySelectorAll('[data-testid="stMain"] *')).some(e =>
    e.children.length === 0 && e.textContent.includes(text) && shown(e) && e.getBoundingClientRect().top < H)
    || Array.from(document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]')).some(t =>
    shown(t) && t.getBoundingClientRect().top < H - 60 && (t.innerText || '').includes(text));
  return {
    english: words,
    exceptions: Array.from(document.querySelectorAll('[data-testid="stException"]')).filter(shown).length,
    map: f ? [Math.round(f.getBoundingClientRect().top), Math.round(f.getBoundingClientRect().bottom)] : null,
    cards: top('[class*="st-key-kpi_"]').length,
    charts: top('[data-testid="stVegaLiteChart"], [data-testid="stImage"], [data-testid="stPlotlyChart"]').length,
    tables: top('[data-testid="stDataFrame"], [data-testid="stTable"]').length,
    forms: top('[data-testid="stFileUploader"], [data-testid="stForm"]').length,
    overdue: onScreen('需督办：逾期未整改问题') ? top('[data-testid="stDataFrame"]').map(r => r[0]) : [],
    title: top('h1, .rt-title').length,
  };
}"""


# the same reading, true once the page's main element is on screen: a data grid, chart or map is drawn by a script
# the browser loads lazily, a moment after the script run ends, so the rules are read once it has had that moment
_MAIN_DRAWN = "(english) => { const g = (" + _FIRST_SCREEN + ")(english); " \
    "return !!(g.map || g.cards || g.charts || g.tables || g.forms || g.overdue.length); }"


def _pages(role: str) -> list[str]:
    from components.navigation import pages_for

    return [spec.url_path for specs in pages_for(role).values() for spec in specs]


def _plan() -> dict[str, list[str]]:
    """Which pages each role opens here: all of 业务科室's, the rest as 管理员, and what differs for the others."""
    office = _pages("office")
    return {"office": office, "admin": [p for p in _pages("admin") if p not in office] + ["overview"],
            "leader": _pages("leader")[:1], "street": _pages("street")[:1] + sorted(MAP_PAGES),
            "display": _pages("display")[:2]}


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_every_page_of_every_role_on_a_1600_by_900_screen(app_server, browser, demo_url, tmp_path):
    from auth_helpers import TEST_PASSWORD, ensure_user

    base = app_server("app.py", env={"DATABASE_URL": demo_url})
    problems, visited = [], 0
    for role, paths in _plan().items():
        user = ensure_user(demo_url, role, STREET if role == "street" else None)
        probe = Probe(browser, f"{base}/", viewport=SCREEN, credentials=(user, TEST_PASSWORD))
        try:
            # a fresh server's first run takes Streamlit's legacy pages/ path; load twice so app.py's navigation serves
            probe.goto()
            probe.goto()
            for path in paths:
                probe.goto(f"{base}/{path}?period=2024-Q2")
                if path in MAP_PAGES:
                    wait_for_map(probe.page, min_features=10)
                elif path == "roundtable":
                    probe.page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
                wait_streamlit_idle(probe.page)
                probe.page.screenshot(path=str(tmp_path / f"{role}_{path}.png"))
                got = probe.page.evaluate(_FIRST_SCREEN, list(ENGLISH))
                visited += 1
                where = f"{role} · {path}"
                if got["english"]:
                    problems.append(f"{where}: Streamlit's English {got['english']}")
                if got["exceptions"]:
                    problems.append(f"{where}: {got['exceptions']} exception box(es)")
                if not got["title"]:
                    problems.append(f"{where}: no page title on the first screen")
                if path in MAP_PAGES:
                    top, bottom = got["map"] or (10_000, 10_000)
                    if top >= 400 or min(bottom, SCREEN["height"]) - top < 0.9 * (bottom - top):
                        problems.append(f"{where}: the map is at {got['map']} (want its top < 400 and 90 % of it "
                                        "on the first screen)")
                elif path == "weekly_review":
                    if not [t for t in got["overdue"] if t + 120 < SCREEN["height"]]:
                        problems.append(f"{where}: the overdue list (需督办) is not on the first screen ({got})")
                elif not (got["cards"] or got["charts"] or got["tables"] or got["forms"]):
                    problems.append(f"{where}: no cards, chart or table on the first screen ({got})")
            result = probe.result()
            problems += [f"{role}: {p}" for p in result.problems]
        finally:
            probe.close()
    assert visited >= 20, visited
    assert len(list(tmp_path.glob("*.png"))) == visited
    assert not problems, "\n".join(problems)
