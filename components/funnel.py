"""Funnel: stages of one process (e.g. screened → enrolled in 低保 → 特困) as centred bars, optionally one per group.

Pure builders (DataFrame → Altair chart) and one show().
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from components.charts import PALETTE


def funnel_frame(df: pd.DataFrame, stages: dict[str, str], group: str | None = None) -> pd.DataFrame:
    """Long form of a wide frame: one row per (group,) stage with value, centred bar ends and share of stage one.

    stages: column → stage label, in funnel order.
    """
    rows = []
    for _, r in df.iterrows():
        first = float(r[next(iter(stages))] or 0)
        for order, (col, label) in enumerate(stages.items()):
            value = float(r[col] or 0)
            share = value / first if first else None
            rows.append({"group": r[group] if group else "", "order": order, "stage": label, "value": value,
                         "left": -value / 2, "right": value / 2,
                         "text": f"{int(value):,}" + (f"（{share:.1%}）" if order and share is not None else "")})
    out = pd.DataFrame(rows, columns=["group", "order", "stage", "value", "left", "right", "text"])
    # room on the right of the widest bar for its label
    out["pad"] = out.groupby("group")["value"].transform("max") * 0.85 + 1
    return out


def funnel(df: pd.DataFrame, stages: dict[str, str], *, group: str | None = None, columns: int = 5,
           height: int = 150, width: int = 170, value_title: str = "数量") -> alt.LayerChart | alt.FacetChart:
    """Centred horizontal bars per stage with the value (and share of the first stage) as text.

    With `group` (a column of df), one small funnel per group, `columns` per row, each on its own scale.
    """
    long = funnel_frame(df, stages, group)
    order = list(stages.values())
    y = alt.Y("stage:N", sort=order, title=None)
    colour = alt.Color("stage:N", sort=order, legend=None, scale=alt.Scale(range=PALETTE))
    tooltip = [alt.Tooltip("stage:N", title="环节"), alt.Tooltip("value:Q", title=value_title, format=",")]
    if group:
        tooltip.insert(0, alt.Tooltip("group:N", title="街道"))
    bars = alt.Chart().mark_bar().encode(x=alt.X("left:Q", axis=None), x2="right:Q", y=y, color=colour,
                                         tooltip=tooltip)
    text = alt.Chart().mark_text(align="left", dx=4, fontSize=11).encode(x="right:Q", y=y, text="text:N")
    pad = alt.Chart().mark_point(opacity=0).encode(x="pad:Q", y=y)
    layered = alt.layer(bars, text, pad, data=long)
    if not group:
        return layered.properties(height=height)
    return (alt.layer(bars, text, pad).properties(height=height, width=width)
            .facet(facet=alt.Facet("group:N", title=None, sort=list(dict.fromkeys(long["group"]))), columns=columns,
                   data=long)
            .resolve_scale(x="independent"))


def show(chart, key: str) -> None:
    """Draw a funnel: small multiples at their own size (Vega-Lite cannot stretch a faceted chart), else full width."""
    st.altair_chart(chart, width="content" if isinstance(chart, alt.FacetChart) else "stretch", key=key)
