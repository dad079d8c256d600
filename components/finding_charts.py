"""Rectification charts: weekly burn-down of open findings and the ageing of those still open — pure Altair builders."""
from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd

FOUND_COLOUR, RECTIFIED_COLOUR, OPEN_COLOUR = "#e07b39", "#3a9d5d", "#1f6fb2"
OVERDUE_COLOUR, ON_TIME_COLOUR = "#c44e52", "#8fb3d9"


def burndown(df: pd.DataFrame, height: int = 300) -> alt.LayerChart:
    """Bars per week: found (up) and rectified (down); a line: problems open at the start and at each week's end.

    df: findings_burndown (first_day, last_day, found, rectified, open_before, open_after).
    """
    flows = pd.concat([
        pd.DataFrame({"from": df["first_day"], "to": [d + timedelta(days=1) for d in df["last_day"]],
                      "value": df["found"], "kind": "本周新发现"}),
        pd.DataFrame({"from": df["first_day"], "to": [d + timedelta(days=1) for d in df["last_day"]],
                      "value": -df["rectified"], "kind": "本周已整改"}),
    ], ignore_index=True)
    flows["shown"] = flows["value"].abs()
    flows["from"], flows["to"] = pd.to_datetime(flows["from"]), pd.to_datetime(flows["to"])
    start = df.iloc[:1]
    # each point sits on the boundary after the day it counts (the end of that day)
    asof = [d - timedelta(days=1) for d in start["first_day"]] + list(df["last_day"])
    line = pd.DataFrame({"day": pd.to_datetime([d + timedelta(days=1) for d in asof]), "asof": pd.to_datetime(asof),
                         "open": list(start["open_before"]) + list(df["open_after"])})
    line["label"] = "未整改问题（期初及每周末）"
    scale = alt.Scale(domain=["本周新发现", "本周已整改", "未整改问题（期初及每周末）"],
                      range=[FOUND_COLOUR, RECTIFIED_COLOUR, OPEN_COLOUR])
    colour = alt.Color("kind:N", title=None, scale=scale, legend=alt.Legend(orient="top", labelLimit=0))
    bars = alt.Chart(flows).mark_bar(opacity=0.75, binSpacing=1).encode(
        x=alt.X("from:T", title="周", axis=alt.Axis(format="%m-%d")), x2="to:T",
        y=alt.Y("value:Q", title="问题（个）"), color=colour,
        tooltip=[alt.Tooltip("from:T", title="起", format="%Y-%m-%d"), alt.Tooltip("kind:N", title="类别"),
                 alt.Tooltip("shown:Q", title="问题（个）")])
    trend = alt.Chart(line).mark_line(point=True).encode(
        x="day:T", y="open:Q",
        color=alt.Color("label:N", title=None, scale=scale, legend=alt.Legend(orient="top", labelLimit=0)),
        tooltip=[alt.Tooltip("asof:T", title="截至", format="%Y-%m-%d"),
                 alt.Tooltip("open:Q", title="未整改问题（个）")])
    return alt.layer(bars, trend).properties(height=height)


def ageing(df: pd.DataFrame, height: int = 260) -> alt.Chart:
    """Stacked bars per age bucket: overdue and not yet overdue open problems.

    df: open_findings_ageing (bucket, open, overdue).
    """
    order = list(df["bucket"])
    long = pd.concat([
        pd.DataFrame({"bucket": df["bucket"], "n": df["overdue"], "kind": "逾期未整改"}),
        pd.DataFrame({"bucket": df["bucket"], "n": df["open"] - df["overdue"], "kind": "整改中（未逾期）"}),
    ], ignore_index=True)
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("bucket:N", sort=order, title="已挂账天数", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("n:Q", title="未整改问题（个）", stack=True),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=["逾期未整改", "整改中（未逾期）"],
                                                              range=[OVERDUE_COLOUR, ON_TIME_COLOUR]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("bucket:N", title="账龄"), alt.Tooltip("kind:N", title="状态"),
                 alt.Tooltip("n:Q", title="问题（个）")],
    ).properties(height=height)
