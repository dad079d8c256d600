"""Server warm-up: on the first run of app.py in a process, import what the pages use and read the geography files,
in a background thread, so the first visit of every page pays for its data only.

A page's first visit in a fresh process used to pay ~1.5–2.5 s of imports (streamlit_folium, altair, geopandas,
shapely, pyproj, python-docx …) and of reading the committed geography files before it queried anything. A replica
is warmed up once at start (deploy/health.py --warm opens one anonymous session: the sign-in page; `make run` gets
the same from its first visitor's sign-in page), which starts this thread; the user signs in while it runs.

What is imported is found, not listed: every module of the views/, exports/ and components/ packages (pages are thin
and import only from those), then the cached geography loaders are called once. Nothing here reads the database or
any cache keyed on it: data still comes fresh on a page's first visit. A failure here is logged (module name only)
and only leaves that work to the first visit that needs it.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
import time

log = logging.getLogger(__name__)

PACKAGES = ("views", "exports", "components")
_lock = threading.Lock()
_thread: threading.Thread | None = None
_done = threading.Event()
_seconds: list[float] = []


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}.")]
    return names


def _warm() -> None:
    t = time.perf_counter()
    try:
        for name in _modules():
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the first page that needs it imports it (and shows its error then)
                log.warning("warm-up: module %s not imported", name)
        _exercise()
        from components.maps.frame import district_outline
        from geo import layers

        district_outline()
        layers.subdistricts_gdf()
        layers.communities_df()
    except Exception:  # noqa: BLE001 - a warm-up never breaks the server
        log.warning("warm-up stopped early", exc_info=False)
    finally:
        from data.ops import runtime_gc

        runtime_gc.freeze_new_imports()  # the libraries imported here stay out of later full collections
        _seconds.append(time.perf_counter() - t)
        _done.set()


# modules the libraries import only on first use, found by bench/firstvisits.py after the package walk above
LAZY_PARTS = ("streamlit.components.v1.component_arrow", "streamlit.emojis", "pandas.core.reshape.reshape",
              "narwhals.stable.v1._namespace")


def _exercise() -> None:
    """What a library loads only when first used: pandas' Styler and to_dict, narwhals' pandas backend (Streamlit's
    charts and tables), Pillow's image plugins (slide images), matplotlib.pyplot with the CJK font (slide and Word
    images: ~1 s on a first 圆桌会 map slide)."""
    import narwhals as nw
    import pandas as pd
    from PIL import Image

    frame = pd.DataFrame({"a": [1]})
    frame.style.format("{:,}").to_html()
    frame.to_dict("records")
    nw.from_native(frame, eager_only=True).to_native()
    Image.init()
    for name in LAZY_PARTS:
        importlib.import_module(name)
    from exports import chart_images

    chart_images.cjk_font()
    chart_images._pyplot()


def start() -> None:
    """Start the warm-up once per process (later calls do nothing)."""
    global _thread
    if _thread is not None:
        return
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm, name="mz-warmup", daemon=True)
            _thread.start()


def wait(timeout: float | None = None) -> bool:
    """Block until the warm-up finished (True) or `timeout` seconds passed (False); False if it never started."""
    return _thread is not None and _done.wait(timeout)


def seconds() -> float | None:
    """How long the warm-up took, once it finished."""
    return _seconds[0] if _seconds else None
