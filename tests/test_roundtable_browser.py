"""圆桌会模式 in Chromium at 1920×1080: five steps screenshotted, keyboard and button stepping, sidebar hidden,
no personal data in the page text, nothing requested from another host."""
import re

import pytest
from sqlalchemy import select

from browser import Probe, wait_streamlit_idle
from data.db.engine import get_engine
from data.db.models import AidPerson, LivingAloneElder

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
FULL_HD = {"width": 1920, "height": 1080}


def _title(page) -> str:
    return page.locator(".rt-title").first.inner_text()


def _wait_title(page, prefix: str) -> None:
    page.wait_for_function("(p) => { const t = document.querySelector('.rt-title');"
                           " return t && t.innerText.startsWith(p); }", arg=prefix, timeout=30_000)
    wait_streamlit_idle(page)


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_presentation_steps_by_keyboard_and_button(app_server, browser, demo_url, tmp_path):
    from auth_helpers import TEST_PASSWORD, ensure_user

    base = app_server("app.py", env={"DATABASE_URL": demo_url})
    # projected from the presentation account: aggregates only, its home page is the presentation
    probe = Probe(browser, f"{base}/roundtable?period=2024-Q2", viewport=FULL_HD,
                  credentials=(ensure_user(demo_url, "display"), TEST_PASSWORD))
    try:
        # a fresh server's first run takes Streamlit's legacy pages/ path; load twice so app.py's navigation serves it
        probe.goto(base + "/")
        probe.goto()
        page = probe.page
        _wait_title(page, "1. 设施布局")
        assert not page.locator('[data-testid="stSidebar"]').is_visible()
        texts = []
        for step in range(1, 6):
            _wait_title(page, f"{step}. ")
            page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
            shot = tmp_path / f"step{step}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 30_000
            texts.append(page.locator("body").inner_text())
            if step < 5:
                if step % 2:  # odd steps: the keyboard arrow; even steps: the button
                    page.locator(".rt-title").first.click()
                    page.keyboard.press("ArrowRight")
                else:
                    page.get_by_role("button", name="下一页").click()
        assert "圆桌会" in _title(page)
        page.keyboard.press("ArrowLeft")
        _wait_title(page, "4. ")
        page.get_by_role("button", name="上一页").click()
        _wait_title(page, "3. ")
        result = probe.result()
        assert not result.external_requests, result.external_requests
        assert not result.exceptions and not result.page_errors, result.problems
    finally:
        probe.close()

    # no personal data: no name of an elder or an aid recipient, no ID number (demo IDs start with 999999)
    engine = get_engine(demo_url)
    with engine.connect() as conn:
        names = set(conn.execute(select(LivingAloneElder.name)).scalars()) | set(
            conn.execute(select(AidPerson.name)).scalars())
    page_text = "\n".join(texts)
    assert not re.search(r"999999\d{6,}", page_text)
    assert not [n for n in names if len(n) >= 3 and n in page_text]


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_presentation_shows_where_the_server_cannot_keep_a_disk_cache(app_server, browser, demo_url):
    # The slide images are also kept in ~/.streamlit/cache; a service account whose home cannot hold it (here /proc,
    # which not even root can write to) must still get the presentation, from memory only.
    from auth_helpers import TEST_PASSWORD, ensure_user

    from browser import open_probe

    base = app_server("app.py", env={"DATABASE_URL": demo_url, "HOME": "/proc"})
    with open_probe(browser, f"{base}/roundtable?period=2024-Q2", viewport=FULL_HD,
                    credentials=(ensure_user(demo_url, "display"), TEST_PASSWORD)) as probe:
        first = probe.result()  # the first image is drawn (and kept) in this load: a failed write would show here
        probe.goto()
        _wait_title(probe.page, "1. 设施布局")
        probe.page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
        result = probe.result()
    assert first.ok and result.ok, first.problems + result.problems


_CANVAS = """() => {
  const visible = (el) => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
      && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth; };
  const sizes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode, el = n.parentElement;
    if (!el || !n.textContent.trim() || !visible(el) || el.closest('script,style')) continue;
    sizes.push([parseFloat(getComputedStyle(el).fontSize), n.textContent.trim().slice(0, 30)]);
  }
  sizes.sort((a, b) => a[0] - b[0]);
  const chrome = ['[data-testid="stSidebar"]', '[data-testid="stHeader"]', '[data-testid="stToolbar"]']
    .filter(s => Array.from(document.querySelectorAll(s)).some(visible));
  const staff = Array.from(document.querySelectorAll('summary')).filter(visible)
    .filter(e => e.innerText.includes('工作人员')).length;
  const nums = Array.from(document.querySelectorAll('.rt-num')).map(e => parseFloat(getComputedStyle(e).fontSize));
  const bar = ['上一页', '下一页', '全屏'].filter(t => !Array.from(document.querySelectorAll('button'))
    .some(b => b.innerText.trim().split('\\n')[0].trim() === t && visible(b)));   // a label, then its key
  return {height: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight,
                           (document.querySelector('[data-testid="stMain"]') || document.body).scrollHeight),
          smallest: sizes.slice(0, 3), chrome, staff, nums, missing: bar};
}"""


_IMAGE = """() => { const img = document.querySelector('[data-testid="stImage"] img'), r = img.getBoundingClientRect();
  return {natural: [img.naturalWidth, img.naturalHeight], box: [r.width, r.height], fit: getComputedStyle(img).objectFit}; }"""


def _axis_texts(monkeypatch, figs, step: int) -> list[tuple[str, float, float]]:
    """The slide's chart drawn as the page draws it (light theme): every axis text on it — tick labels, axis
    titles, the unit written above the axis — as (text, size in the image's pixels, rotation in degrees)."""
    from matplotlib.text import Annotation

    import exports.chart_images as ci
    from exports.roundtable_pptx import view_image

    seen, draw = [], ci._png

    def spy(fig):
        for ax in fig.axes:
            if not ax.axison:
                continue
            texts = [t for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_visible() and t.get_text()]
            texts += [lab for lab in (ax.xaxis.label, ax.yaxis.label) if lab.get_text()]
            texts += [a for a in ax.texts if isinstance(a, Annotation) and a.xycoords == "axes fraction"]
            texts += [ax.title] if ax.title.get_text().startswith("（") else []  # a colour bar's unit
            seen.extend((t.get_text(), t.get_fontsize() * fig.dpi / 72, t.get_rotation()) for t in texts)
        return draw(fig)

    monkeypatch.setattr(ci, "_png", spy)
    view_image(figs, step, size="slide", theme="light")
    return seen


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_the_arrow_key_works_as_soon_as_the_buttons_are_drawn(app_server, browser, demo_url):
    """A presenter who presses → the moment the control bar shows moves to slide 2 (← and → are the buttons' own
    shortcuts; a page script installed after the slide used to lose a key pressed in its first second), and the
    buttons show their keys."""
    from auth_helpers import TEST_PASSWORD, ensure_user

    base = app_server("app.py", env={"DATABASE_URL": demo_url})
    probe = Probe(browser, f"{base}/roundtable?period=2024-Q2", viewport=FULL_HD,
                  credentials=(ensure_user(demo_url, "display"), TEST_PASSWORD))
    try:
        probe.goto(base + "/")
        page = probe.page
        page.goto(f"{base}/roundtable?period=2024-Q2", wait_until="commit")
        nxt = page.get_by_role("button", name="下一页")
        nxt.wait_for(state="visible", timeout=30_000)
        page.keyboard.press("ArrowRight")   # nothing else awaited: not the slide, not the end of the run
        _wait_title(page, "2. ")
        assert nxt.locator("kbd").inner_text() == "→"
        assert page.get_by_role("button", name="上一页").locator("kbd").inner_text() == "←"
        page.keyboard.press("ArrowLeft")
        _wait_title(page, "1. ")
        result = probe.result()
        assert not result.exceptions and not result.page_errors, result.problems
    finally:
        probe.close()


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ["display", "office"])
def test_every_slide_is_a_16_9_canvas(app_server, browser, demo_url, role, tmp_path, monkeypatch):
    """At 1920×1080: no page scroll, no app chrome, no staff section, smallest text 28 px, numbers 96 px, the control
    bar on screen; the chart's axis text horizontal and at least 24 px as shown (the image's text size times the
    scale the browser draws it at); PageDown / PageUp of a presenter clicker move the slides."""
    from auth_helpers import TEST_PASSWORD, ensure_user, principal
    from data.domain.period import parse
    from data.security.access import Reader
    from views import roundtable as rt

    figs = rt.build(Reader(get_engine(demo_url), principal(role)), parse("2024-Q2")).figures

    base = app_server("app.py", env={"DATABASE_URL": demo_url})
    probe = Probe(browser, f"{base}/roundtable?period=2024-Q2", viewport=FULL_HD,
                  credentials=(ensure_user(demo_url, role), TEST_PASSWORD))
    try:
        probe.goto(base + "/")
        probe.goto()
        page = probe.page
        for step in range(1, 6):
            _wait_title(page, f"{step}. ")
            page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
            page.screenshot(path=str(tmp_path / f"{role}_slide{step}.png"))
            got = page.evaluate(_CANVAS)
            assert got["height"] <= 1080, (step, got)
            assert not got["chrome"] and not got["staff"] and not got["missing"], (step, got)
            assert got["smallest"] and got["smallest"][0][0] >= 28, (step, got["smallest"])
            assert got["nums"] and min(got["nums"]) >= 96, (step, got["nums"])
            img = page.evaluate(_IMAGE)
            axis = _axis_texts(monkeypatch, figs, step)  # sizes in the image's pixels, whatever font the server has
            fit = min(img["box"][0] / img["natural"][0], img["box"][1] / img["natural"][1]) \
                if img["fit"] == "contain" else img["box"][0] / img["natural"][0]
            assert axis, step
            small = min(axis, key=lambda t: t[1])
            assert small[1] * fit >= 24, (step, small, round(fit, 3))
            assert not [t for t in axis if t[2] % 180], (step, [t for t in axis if t[2] % 180])
            if step < 5:
                page.locator(".rt-title").first.click()
                page.keyboard.press("PageDown")
        page.keyboard.press("PageUp")
        _wait_title(page, "4. ")
    finally:
        probe.close()


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_auto_advance_moves_the_slides_without_reloading(app_server, browser, demo_url):
    from auth_helpers import TEST_PASSWORD, ensure_user

    base = app_server("app.py", env={"DATABASE_URL": demo_url})
    probe = Probe(browser, f"{base}/roundtable?period=2024-Q2&auto=10", viewport=FULL_HD,
                  credentials=(ensure_user(demo_url, "display"), TEST_PASSWORD))
    try:
        probe.goto(base + "/")
        probe.goto()
        page = probe.page
        _wait_title(page, "1. ")
        page.evaluate("() => { window.__kept = 1; }")  # gone if the page reloads
        page.wait_for_function("() => { const t = document.querySelector('.rt-title');"
                               " return t && t.innerText.startsWith('2. '); }", timeout=40_000)
        assert page.evaluate("() => window.__kept") == 1
    finally:
        probe.close()
