"""Several pages' first visits in ONE fresh process after the start-up warm-up: which libraries (or new parts of loaded ones)
each visit still had to import, its time and its errors. Prints one JSON line.

    python -m bench.firstvisits [--no-warmup] <database URL> pages/aid.py pages/facilities.py …

What it shows: whether the warm-up (components/warmup.py) covers what the pages use — a page whose first visit
imports streamlit_folium, altair or geopandas pays seconds a warmed-up replica should not (tests/test_warmup.py).
"""
from __future__ import annotations

import json
import os
import sys
import time

from bench.cold import ROOT, _errors, _server_like_pages_manager, _warm_up


def _loaded() -> set[str]:
    return set(sys.modules)


def _libraries(new: set[str]) -> list[str]:
    """The top-level packages of the newly imported modules: a package already loaded counts again when one of its
    submodules is new (matplotlib.pyplot after matplotlib costs ~1 s of its own)."""
    return sorted({name.split(".")[0] for name in new})


def visits(url: str, pages: list[str], token: str | None = None, warm_up: bool = True) -> dict:
    from bench.auth import token as make_token

    token = token or make_token(url)
    from streamlit.testing.v1 import AppTest

    _server_like_pages_manager()
    os.environ["DATABASE_URL"] = url
    os.chdir(ROOT)
    out: dict = {"warmup_s": _warm_up() if warm_up else None, "pages": []}
    for page in pages:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.switch_page(page)
        at.session_state["_auth_token"] = token
        before = _loaded()
        t = time.perf_counter()
        at.run()
        out["pages"].append({"page": page, "cold_s": time.perf_counter() - t, "errors": _errors(at),
                             "imported": _libraries(_loaded() - before)})
    return out


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    warm_up = "--no-warmup" not in argv
    argv = [a for a in argv if a != "--no-warmup"]
    res = visits(argv[0], argv[1:], os.environ.get("BENCH_AUTH_TOKEN"), warm_up)
    sys.stdout.write("BENCH_JSON " + json.dumps(res, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
