"""The pictures the map pages put on their DistrictMap, and the pure builders that draw them on the frame.

facilities_picture (设施布局), coverage_picture (助餐覆盖), value_picture (a number per subdistrict, e.g. 救助发放)
and, for a bare preview, Picture() itself. `facilities_map`, `coverage_map` and `value_map` are the same pictures
drawn with frame.draw — pure (DataFrames → folium.Map), for tests and documents.
"""
from __future__ import annotations

from typing import Callable

import folium
import pandas as pd

from components.maps.basemap import NO_BASEMAP, Basemap
from components.maps.elements import esc, missing
from components.maps.frame import Picture, draw
from components.maps.layers import (aggregate_layer, aggregate_totals, community_layer, facility_layers,
                                    kinds_in_order, rings_layer)
from components.maps.legend import (COVERAGE_COLOURS, COVERED_COLOUR, NO_DATA_COLOUR, RING_COLOUR, UNCOVERED_COLOUR,
                                    class_breaks, colour_of, coverage_bin, coverage_legend, facility_legend, pct,
                                    value_legend)

AGGREGATE_LEGEND = ("<b>设施数量</b>圆圈内数字为符合筛选条件的设施数（按街道汇总，缩小地图时相邻街道合并）；"
                    "在侧边栏选择街道后显示每个设施。")


def facilities_picture(facilities: pd.DataFrame, *, communities: pd.DataFrame | None = None,
                       aggregates: pd.DataFrame | None = None, last_month_label: str | None = None) -> Picture:
    """设施布局: communities on zoom, facilities by kind and status (or one bubble per subdistrict), their legend.

    Pass `aggregates` (counts by code, name, lon, lat[, kind, status], n — e.g.
    data.queries.maps.facility_counts_by_subdistrict) instead of `facilities` when there are too many points.
    """
    layers: list = []
    if communities is not None and len(communities):
        layers.append(lambda c: community_layer(communities, c.basemap, map_name=c.name))
    if aggregates is not None:
        totals, detail = aggregate_totals(aggregates)
        layers.append(lambda c: aggregate_layer(totals, c.basemap, detail=detail))
        legend = AGGREGATE_LEGEND
    elif len(facilities):
        layers.append(lambda c: facility_layers(facilities, c.basemap, last_month_label=last_month_label))
        counts = facilities["kind"].value_counts().to_dict()
        legend = facility_legend(kinds_in_order(counts), counts,
                                 set(facilities["status"]) if "status" in facilities else ())
    else:
        legend = "<b>设施类型</b>当前筛选条件下没有设施。"
    return Picture(layers=tuple(layers), legend=legend)


def coverage_picture(boundaries: pd.DataFrame, coverage: pd.DataFrame, *, meal_points: pd.DataFrame | None = None,
                     communities: pd.DataFrame | None = None, radius_m: float | None = None) -> Picture:
    """助餐覆盖: subdistricts coloured by coverage share (value on hover); drill-down layers on top.

    coverage: code, covered, communities (and optionally coverage_rate, meal_points). `communities` (covered
    bool) shows each community covered / not covered; `meal_points` adds the operating meal points, and
    `radius_m` walking rings around them.
    """
    cov = {r["code"]: r for r in coverage.to_dict("records")}
    fill, tips = {}, {}
    for row in boundaries.itertuples(index=False):
        tip = f"<b>{esc(row.name)}</b>"
        c = cov.get(row.code)
        if c is not None:
            total, covered = int(c["communities"]), int(c["covered"])
            rate = c["coverage_rate"] if "coverage_rate" in c else (covered / total if total else None)
            b = coverage_bin(rate)
            fill[row.code] = COVERAGE_COLOURS[b] if b is not None else NO_DATA_COLOUR
            tip += f"<br>助餐覆盖率 {esc(pct(rate))}（{covered}/{total} 个社区）"
            if not missing(c.get("meal_points")):
                tip += f"<br>运营助餐点 {int(c['meal_points'])} 个"
        else:
            fill[row.code] = NO_DATA_COLOUR
            tip += "<br>无数据"
        tips[row.code] = tip
    has_points = meal_points is not None and len(meal_points) > 0
    has_communities = communities is not None and len(communities) > 0
    layers: list = []
    if has_points and radius_m:
        layers.append(lambda c: rings_layer(meal_points, radius_m, c.basemap))
    if has_communities:
        layers.append(lambda c: community_layer(communities, c.basemap, map_name=c.name, min_zoom=0, by_coverage=True))
    if has_points:
        layers.append(lambda c: facility_layers(meal_points.assign(kind="meal_point"), c.basemap))
    legend = coverage_legend()
    if has_communities:
        legend += (f"<br><b>社区</b><i class='mz-ring' style='background:{COVERED_COLOUR}'></i>已覆盖"
                   f"<br><i class='mz-ring' style='background:{UNCOVERED_COLOUR}'></i>未覆盖")
    if has_points:
        legend += "<br><b>助餐点</b><i class='fa-solid fa-utensils' style='color:#f69730'></i>运营中的助餐点"
    if radius_m and has_points:
        legend += (f"<br><i class='mz-ring' style='background:rgba(43,140,190,.25);border:1px solid {RING_COLOUR}'>"
                   f"</i>步行圈 {int(radius_m)} 米（直线距离）")
    return Picture(layers=tuple(layers), legend=legend, fill=fill, tips=tips, name="助餐覆盖率（按街道）")


def value_picture(boundaries: pd.DataFrame, values: pd.DataFrame, *, title: str, fmt: Callable[[float], str],
                  details: dict[str, list[str]] | None = None, zero_label: str = "无数据或为零") -> Picture:
    """Subdistricts coloured by `values` (columns code, value): quantile classes of the positive values.

    The tooltip of each polygon: its name, `title` = fmt(value), then the lines in details[code] (plain text).
    """
    by_code = dict(zip(values["code"].astype(str), values["value"])) if len(values) else {}
    breaks = class_breaks(by_code.values())
    fill, tips = {}, {}
    for row in boundaries.itertuples(index=False):
        code = str(row.code)
        value = by_code.get(code)
        fill[code] = colour_of(value, breaks)
        tip = f"<b>{esc(row.name)}</b><br>{esc(title)}：{esc(fmt(value) if value is not None else '无数据')}"
        for line in (details or {}).get(code, []):
            tip += f"<br>{esc(line)}"
        tips[code] = tip
    return Picture(legend=value_legend(title, breaks, fmt, zero_label), fill=fill, tips=tips, name=title)


# --- the same pictures drawn on the frame (pure) ----------------------------------------------------------

def facilities_map(facilities: pd.DataFrame, boundaries: pd.DataFrame, *, outline: dict | None = None,
                   communities: pd.DataFrame | None = None, aggregates: pd.DataFrame | None = None,
                   basemap: Basemap = NO_BASEMAP, selected: str | None = None,
                   last_month_label: str | None = None) -> folium.Map:
    """设施布局 drawn (see facilities_picture)."""
    picture = facilities_picture(facilities, communities=communities, aggregates=aggregates,
                                 last_month_label=last_month_label)
    return draw(boundaries, picture, outline=outline, basemap=basemap, selected=selected)


def coverage_map(boundaries: pd.DataFrame, coverage: pd.DataFrame, *, outline: dict | None = None,
                 meal_points: pd.DataFrame | None = None, communities: pd.DataFrame | None = None,
                 radius_m: float | None = None, basemap: Basemap = NO_BASEMAP,
                 selected: str | None = None) -> folium.Map:
    """助餐覆盖 drawn (see coverage_picture)."""
    picture = coverage_picture(boundaries, coverage, meal_points=meal_points, communities=communities,
                               radius_m=radius_m)
    return draw(boundaries, picture, outline=outline, basemap=basemap, selected=selected)


def value_map(boundaries: pd.DataFrame, values: pd.DataFrame, *, title: str, fmt: Callable[[float], str],
              details: dict[str, list[str]] | None = None, outline: dict | None = None,
              basemap: Basemap = NO_BASEMAP, selected: str | None = None,
              zero_label: str = "无数据或为零") -> folium.Map:
    """A value choropleth drawn (see value_picture)."""
    picture = value_picture(boundaries, values, title=title, fmt=fmt, details=details, zero_label=zero_label)
    return draw(boundaries, picture, outline=outline, basemap=basemap, selected=selected)

