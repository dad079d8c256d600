"""First screen first (components.first_screen): a page's first run pauses once after its headline, so the browser
draws the headline before the rest of the page arrives; a filter's rerun never pauses. The effect on the screen is
measured by `python -m bench.timeline` (README "首屏"); these tests pin down when the pause happens."""
from __future__ import annotations

import pytest

from components import first_screen
from test_app import run_app


@pytest.fixture
def pauses(monkeypatch):
    """The pauses the app makes, in seconds (not slept: the tests count them)."""
    made: list[float] = []
    monkeypatch.setattr(first_screen, "_sleep", made.append)
    monkeypatch.setenv(first_screen.ENV, "120")
    return made


def test_a_page_pauses_once_on_its_first_run_and_never_on_a_filter_rerun(monkeypatch, demo_url, pauses):
    if not demo_url.startswith("sqlite"):
        pytest.skip("one engine is enough: the pause does not depend on the database")
    at = run_app(monkeypatch, demo_url)  # the home page (总览), opened by its address
    assert not at.exception
    assert pauses == [0.12]

    at.selectbox(key="flt_kind").set_value("quarter").run()  # a filter: the headline is already on the screen
    assert not at.exception
    assert pauses == [0.12]

    at.switch_page("pages/aid.py").run()  # another page from the menu: its own first run
    assert not at.exception
    assert pauses == [0.12, 0.12]
    at.run()  # a rerun of that page
    assert pauses == [0.12, 0.12]


@pytest.mark.parametrize("raw, ms", [("", 120), ("0", 0), ("60", 60), ("5000", 1000), ("-3", 0), ("abc", 120)])
def test_the_pause_is_set_from_the_environment_within_bounds(monkeypatch, raw, ms):
    monkeypatch.setenv(first_screen.ENV, raw)
    assert first_screen.pause_ms() == ms


def test_zero_turns_the_pause_off(monkeypatch, demo_url, pauses):
    if not demo_url.startswith("sqlite"):
        pytest.skip("one engine is enough")
    monkeypatch.setenv(first_screen.ENV, "0")
    at = run_app(monkeypatch, demo_url)
    assert not at.exception and pauses == []
