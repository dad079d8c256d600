"""data.ops.runtime_gc: the libraries a page run imported are frozen out of every later full garbage collection, and
the freeze happens only when a run brought new modules (a handful of times per server process)."""
from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.ops import runtime_gc

ROOT = Path(__file__).resolve().parent.parent


def tracked(obj) -> bool:
    """Whether a full collection would walk ``obj`` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


def test_freezes_only_after_new_imports(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "mz_fresh_module.py").write_text("TABLE = {'甲': [1, 2, 3]}\n", encoding="utf-8")
    runtime_gc.freeze_new_imports()
    assert runtime_gc.freeze_new_imports() is False  # nothing new imported: no freeze
    import mz_fresh_module

    try:
        assert tracked(mz_fresh_module.TABLE)
        before = gc.get_freeze_count()
        assert runtime_gc.freeze_new_imports() is True
        assert gc.get_freeze_count() > before
        assert not tracked(mz_fresh_module.TABLE)  # the new module's objects are out of the collector's way
        garbage = []
        garbage.append(garbage)  # a cycle made after the freeze is still collected
        del garbage
        assert gc.collect() >= 1
        assert runtime_gc.freeze_new_imports() is False
    finally:
        sys.modules.pop("mz_fresh_module", None)


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_a_page_run_freezes_what_it_imported(monkeypatch, demo_url):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(runtime_gc, "_modules_seen", 0)  # as in a fresh server process
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["period"] = "2024-H1"
    at.run()
    at.switch_page("pages/aid.py")
    at.run()
    assert not at.exception and at.title[0].value == "救助发放"
    import folium

    assert not tracked(folium.__dict__)  # the map library the page loaded is frozen by the run's end
