"""The benchmark's floor (issue 8): an empty page served by the dashboard's own server, at a path of its own.

With ``MZ_BENCH_FLOOR_PAGE=1`` in the server's environment (bench/browser.py sets it; nothing else should), the
address ``/<FLOOR_PATH>`` is answered by a page that draws one line of text and nothing else: no database, no
sign-in, no sidebar. It is what the framework costs for a bookmarked address on this server — the browser
benchmark compares every page against it. Without the variable the address is like any other: sign in first.

``/<FLOOR_PATH>?el=<kind>`` adds one minimal element of a kind the pages use as their main element, drawn by the
same components the pages use (``ELEMENTS``): a metric, a three-row table, a three-bar chart, or a map with one
label. These "element floors" show what the framework costs for a page that holds nothing but one such element,
so a page's time can be read against the least any page with that main element can take.
"""
from __future__ import annotations

import os

import streamlit as st

ENV = "MZ_BENCH_FLOOR_PAGE"
FLOOR_PATH = "bench_floor"
FLOOR_TEXT = "空白页"


def enabled() -> bool:
    return os.environ.get(ENV, "").strip() == "1"


def requested(url: str | None) -> bool:
    """Whether a browser URL (``st.context.url``: no query string) names the floor page."""
    return bool(url) and url.rstrip("/").rsplit("/", 1)[-1] == FLOOR_PATH


ELEMENTS = ("metric", "dataframe", "chart", "map")


def _draw() -> None:
    st.write(FLOOR_TEXT)
    kind = st.query_params.get("el")
    if kind == "metric":
        from components.kpis import Kpi, kpi_row
        kpi_row([Kpi("指标", "1")], columns=3)
    elif kind == "dataframe":
        import pandas as pd
        st.dataframe(pd.DataFrame({"街道": ["甲", "乙", "丙"], "数量": [1, 2, 3]}), hide_index=True, width="stretch")
    elif kind == "chart":
        import pandas as pd

        from components import charts
        charts.show(charts.bars(pd.DataFrame({"街道": ["甲", "乙", "丙"], "数量": [1, 2, 3]}), "街道", "数量",
                                x_title="街道", y_title="数量"), key="floor_chart")
    elif kind == "map":
        import folium

        from components import maps
        m = maps.base_map()
        folium.Marker([28.66, 115.89], icon=folium.DivIcon(html="<b>甲</b>")).add_to(m)  # one label, as pages have
        maps.show_map(m, key="floor_map")


def serve_if_requested() -> None:
    """Run the floor page and stop the script when it is switched on and the URL names it; else do nothing."""
    if enabled() and requested(st.context.url):
        # Streamlit serves the default page only at "/": the floor is a second page, so it keeps its own address
        pages = [st.Page(_draw, title=FLOOR_TEXT, url_path="bench_floor_default", default=True),
                 st.Page(_draw, title=FLOOR_TEXT, url_path=FLOOR_PATH)]
        st.navigation(pages, position="hidden").run()
        st.stop()
