"""Plain Chinese on every page: no database column name or raw code (`paid_on`, `key_project`, `meal_point` …) in
anything a user reads — titles, captions, cards and their 口径, tables, widget labels and help, the slides' HTML —
for the office (every page it may open) and the presentation account. And none of Streamlit's own English: every
select box and multiselect carries a Chinese placeholder (with none, the browser shows "Choose an option", "Choose
options" or "No options to select"), every uploader a Chinese help, on every page of every role."""
from __future__ import annotations

from cards import cards

import re

import pytest

from test_app import ROOT, run_app

IDENTIFIER = re.compile(r"(?<![\w/.-])[a-z]+_[a-z_]+(?![\w/.-])")


def _read(at) -> list[str]:
    out = []
    for m in cards(at):
        out += [m.label, str(m.value), str(m.help or ""), str(m.delta or "")]
    for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for h in at.get("html"):
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", str(h.proto.body), flags=re.S)
        out.append(re.sub(r"<[^>]+>", " ", body))
    for df in at.dataframe:
        v = df.value
        v = getattr(v, "data", v)  # a Styler
        out += [str(c) for c in v.columns]
        out += [str(x) for x in v.select_dtypes(include="object").head(50).to_numpy().ravel()]
    for kind in ("selectbox", "multiselect", "radio", "text_input", "checkbox", "toggle", "button", "date_input"):
        for w in getattr(at, kind):
            out += [str(w.label), str(getattr(w.proto, "help", "") or "")]
            if kind in ("selectbox", "multiselect", "radio"):
                out += [str(o) for o in w.options]
    for e in at.expander:
        out.append(str(e.label))
    return out


TEST_ACCOUNT = re.compile(r"t_[a-z]+")  # the tests' own sign-in names (t_office …): a user's name, not a code


STREAMLIT_ENGLISH = ("Choose an option", "Choose options", "No options to select", "Drag and drop", "Browse files",
                     "Limit 200MB", "per file")
LATIN = re.compile(r"[A-Za-z]{2,}")


def _english(at) -> list[str]:
    """Streamlit's English a user would read on this run: its words in the page's text, a select without a Chinese
    placeholder (the browser fills in English), an uploader without a Chinese help."""
    out = [f"{w} ← {t[:60]!r}" for t in _read(at) for w in STREAMLIT_ENGLISH if w in t]
    for kind in ("selectbox", "multiselect"):
        for w in getattr(at, kind):
            placeholder = str(w.proto.placeholder or "")
            if not placeholder or LATIN.search(placeholder):
                out.append(f"{kind} {w.label!r}: placeholder {placeholder!r}")
    for u in at.get("file_uploader"):
        text = str(u.proto.help or "")
        if not text or any(w in text for w in STREAMLIT_ENGLISH):
            out.append(f"file_uploader {u.proto.label!r}: help {text!r}")
    return out


def _offenders(at) -> list[str]:
    return sorted({f"{m} ← {t[:60]!r}" for t in _read(at) for m in IDENTIFIER.findall(t)
                   if not TEST_ACCOUNT.fullmatch(m)})


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("page", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py")))
def test_no_identifier_on_any_page(monkeypatch, demo_url, page):
    at = run_app(monkeypatch, demo_url, page, period="2024-Q2")
    assert not at.exception, [e.value for e in at.exception]
    assert not _offenders(at), _offenders(at)
    assert not _english(at), _english(at)


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ["leader", "office", "street", "display", "admin"])
def test_no_streamlit_english_on_any_page_of_any_role(monkeypatch, demo_url, role):
    from auth_helpers import sign_in_apptest
    from components.navigation import pages_for
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["period"] = "2024-Q2"
    sign_in_apptest(at, demo_url, role, "360103001" if role == "street" else None)
    at.run()
    pages = [spec.file for specs in pages_for(role).values() for spec in specs]
    assert pages
    for page in pages:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not _english(at), (page, _english(at))


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_no_identifier_on_the_presentation_account(monkeypatch, demo_url):
    from auth_helpers import sign_in_apptest
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["period"] = "2024-Q2"
    sign_in_apptest(at, demo_url, "display")
    at.run()
    for step in range(1, 6):
        assert not at.exception, [e.value for e in at.exception]
        assert not _offenders(at), (step, _offenders(at))
        if step < 5:
            at.button(key="rt_next").click().run()
