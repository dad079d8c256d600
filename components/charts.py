"""Charts (Altair, rendered by Streamlit's own bundled Vega — no CDN): pure builders plus one show()."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

PALETTE = ["#1f6fb2", "#e07b39", "#3a9d5d", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c"]


def line_by_month(df: pd.DataFrame, x: str, y: str, color: str | None = None, *, y_title: str, x_title: str = "月份",
                  height: int = 280) -> alt.Chart:
    # one tick per month: on a few months Vega would put ticks at half months, each labelled with its month
    # (2024-08, 2024-08, 2024-09, …) and the points would sit between labels
    enc = {"x": alt.X(f"{x}:T", title=x_title, axis=alt.Axis(format="%Y-%m", tickCount={"interval": "month", "step": 1},
                                                             labelOverlap=True)),
           "y": alt.Y(f"{y}:Q", title=y_title),
           "tooltip": [alt.Tooltip(f"{x}:T", title=x_title, format="%Y-%m"), alt.Tooltip(f"{y}:Q", title=y_title, format=",")]}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None, scale=alt.Scale(range=PALETTE))
        enc["tooltip"].insert(0, alt.Tooltip(f"{color}:N", title="类别"))
    return alt.Chart(df).mark_line(point=True).encode(**enc).properties(height=height)


def bars(df: pd.DataFrame, x: str, y: str, *, x_title: str, y_title: str, color: str | None = None,
         horizontal: bool = False, height: int = 280, sort: str | None = "-y") -> alt.Chart:
    cat, val = (y, x) if horizontal else (x, y)
    cat_title, val_title = (y_title, x_title) if horizontal else (x_title, y_title)
    cat_enc = alt.Y if horizontal else alt.X
    val_enc = alt.X if horizontal else alt.Y
    order = None if sort is None else ("-x" if horizontal else "-y")
    enc = {("y" if horizontal else "x"): cat_enc(f"{cat}:N", title=cat_title, sort=order),
           ("x" if horizontal else "y"): val_enc(f"{val}:Q", title=val_title),
           "tooltip": [alt.Tooltip(f"{cat}:N", title=cat_title), alt.Tooltip(f"{val}:Q", title=val_title, format=",")]}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None, scale=alt.Scale(range=PALETTE))
    return alt.Chart(df).mark_bar().encode(**enc).properties(height=height)


def show(chart: alt.Chart, key: str | None = None) -> None:
    st.altair_chart(chart, width="stretch", key=key)
