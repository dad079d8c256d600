"""The layers a page puts on its DistrictMap: subdistricts, the district outline, facilities, communities, dots,
walking rings and per-subdistrict bubbles. Pure: DataFrames in, folium layers out (see frame.py for the map)."""
from __future__ import annotations

import json
import math
from typing import Iterable

import folium
import numpy as np
import pandas as pd
import shapely

from components.maps.basemap import DECIMALS, NO_BASEMAP, Basemap, latlng_rows, prepare_geometries
from components.maps.elements import (Bubbles, CirclePoints, FacilityPoints, Labels, Polygons, Rings, Symbols,
                                      esc, missing)
from components.maps.legend import (COVERED_COLOUR, FALLBACK_STYLE, KIND_STYLES, RING_COLOUR, SCHEMATIC_NOTE,
                                    STATUS_ORDER, UNCOVERED_COLOUR)
from data.db.models import FACILITY_KINDS, FACILITY_STATUSES
from views.map_scale import MAX_COMMUNITY_POINTS, MAX_POINTS

COMMUNITY_MIN_ZOOM = 14      # community points appear from this zoom on
CLUSTER_MIN_POINTS = 30      # more facilities than this: markers that would overlap merge into one count
CLUSTER_RADIUS_PX = 40       # markers closer than this on screen merge (a marker icon is ~25 × 41 px)
CLUSTER_OFF_AT_ZOOM = 16     # from this zoom on every marker stands alone
LABELS_ALWAYS_UP_TO = 40     # more subdistricts than this: names appear from LABEL_MIN_ZOOM on
LABEL_MIN_ZOOM = 12
BUBBLE_CLUSTER_ABOVE = 60    # more aggregate bubbles than this: they merge (summing their counts) when zoomed out


def schematic(boundaries: pd.DataFrame) -> bool:
    """Whether any subdistrict polygon is still the project's schematic one (or there are none)."""
    return not bool(boundaries["boundary_official"].all()) if len(boundaries) else True


def subdistrict_layer(boundaries: pd.DataFrame, basemap: Basemap = NO_BASEMAP, *,
                      fill: dict[str, str] | None = None, tips: dict[str, str] | None = None,
                      selected: str | None = None, simplify_deg: float = 0.0, name: str | None = None,
                      labels: bool = True, map_name: str = "") -> folium.FeatureGroup:
    """街道 polygons (schematic unless official) with name labels; `fill`: code → colour, `tips`: code → escaped html.

    Pass the map's name (m.get_name()) so that, with many polygons, the labels wait for a closer zoom.

    Every tooltip starts with the subdistrict's name (the page maps a click back to it); schematic
    polygons say so in the tooltip and the layer name.
    """
    layer_name = name or ("街道（" + (SCHEMATIC_NOTE if schematic(boundaries) else "正式边界") + "）")
    fg = folium.FeatureGroup(name=layer_name, show=True)
    rows = boundaries[boundaries["boundary_geojson"].notna() & (boundaries["boundary_geojson"] != "")]
    if rows.empty:
        return fg
    geoms = prepare_geometries(list(rows["boundary_geojson"]), basemap, simplify_deg)
    texts = shapely.to_geojson(np.array(geoms, dtype=object))
    points = shapely.point_on_surface(np.array(geoms, dtype=object)) if labels else None
    styles, style_index, features, label_rows = [], {}, [], []
    for i, row in enumerate(rows.itertuples(index=False)):
        is_sel = selected == row.code
        colour = (fill or {}).get(row.code)
        style = {"color": "#d95f02" if is_sel else "#555555", "weight": 3.5 if is_sel else 1.2,
                 "dashArray": "" if row.boundary_official else "5 4", "fillColor": colour or "#9ecae1",
                 "fillOpacity": 0.65 if colour else (0.25 if is_sel else 0.08)}
        key = json.dumps(style, sort_keys=True)
        if key not in style_index:
            style_index[key] = len(styles)
            styles.append(style)
        tip = (tips or {}).get(row.code) or f"<b>{esc(row.name)}</b>"
        if not row.boundary_official:
            tip += f"<br><span style='color:#8a4b00'>{esc(SCHEMATIC_NOTE)}</span>"
        features.append((esc(row.code), style_index[key], tip, texts[i]))
        if labels:
            label_rows.append([round(points[i].y, DECIMALS), round(points[i].x, DECIMALS), esc(row.name),
                               6 * len(str(row.name))])
    fg.add_child(Polygons(features, styles, highlight={"weight": 3, "color": "#d95f02"}))
    if label_rows:  # the larger subdistricts' names first: they win where names would overlap
        areas = shapely.area(np.array(geoms, dtype=object))
        label_rows = [row for _, row in sorted(zip(-areas, label_rows), key=lambda t: t[0])]
        many = len(label_rows) > LABELS_ALWAYS_UP_TO and map_name
        fg.add_child(Labels(label_rows, map_name=map_name, min_zoom=LABEL_MIN_ZOOM if many else 0))
    return fg


def outline_layer(outline: dict, basemap: Basemap = NO_BASEMAP) -> Polygons:
    """The district outline: a dark line, not clickable (clicks reach the subdistricts under it)."""
    geom = prepare_geometries([outline], basemap)[0]
    return Polygons([("district", 0, "", shapely.to_geojson(geom))],
                    [{"color": "#333333", "weight": 2.5, "fill": False}], interactive=False)


def add_district_outline(m: folium.Map, outline: dict | None, basemap: Basemap = NO_BASEMAP) -> None:
    """Add the district outline to a map (nothing when there is none)."""
    if outline:
        m.add_child(outline_layer(outline, basemap))


# --- facilities -------------------------------------------------------------------------------------

def _facility_popup(r: dict, last_month_label: str | None) -> str:
    """The facility card in the popup (every value escaped)."""
    kind = r.get("kind")
    cap_unit = "餐位" if kind == "meal_point" else "床位"
    status = r.get("status")
    lines = [f"<b>{esc(r.get('name'))}</b>",
             f"类型：{esc(r.get('kind_name') or FACILITY_KINDS.get(kind, kind))}",
             f"状态：{esc(r.get('status_name') or FACILITY_STATUSES.get(status, status))}"]
    if not missing(r.get("subdistrict_name")):
        lines.append(f"街道：{esc(r['subdistrict_name'])}")
    lines.append(f"运营方：{esc(r.get('operator')) or '—'}")
    cap = r.get("capacity")
    lines.append(f"{cap_unit}：{'—' if missing(cap) else esc(int(cap))}")
    if not missing(r.get("opened_on")):
        lines.append(f"开业日期：{esc(r['opened_on'])}")
    lines.append(f"地址：{esc(r.get('address')) or '—'}")
    if kind == "meal_point" and not missing(r.get("meals_last_month")):
        lines.append(f"{esc(last_month_label or '上月')}助餐：{int(r['meals_last_month']):,} 份")
    return "<div class='mz-pop'>" + "<br>".join(lines) + "</div>"


def status_styles(hex_colour: str, icon: str, marker_colour: str) -> list[dict]:
    """Per status (STATUS_ORDER): awesome-marker options, or circle options for planned / closed."""
    fa = {"prefix": "fa", "icon": icon}
    return [
        {"icon": {**fa, "markerColor": marker_colour, "iconColor": "white"}, "opacity": 1},
        {"icon": {**fa, "markerColor": "white", "iconColor": hex_colour}, "opacity": 0.95},
        {"circle": {"radius": 9, "color": hex_colour, "weight": 2.5, "dashArray": "4 3", "fill": True,
                    "fillColor": "#ffffff", "fillOpacity": 0.6}},
        {"circle": {"radius": 5, "color": "#666666", "weight": 1, "fillColor": "#999999", "fillOpacity": 0.8}},
    ]


def kinds_in_order(kinds: Iterable[str]) -> list[str]:
    """The kinds present, in the legend's order (known kinds first, then any other, sorted)."""
    present = set(kinds)
    return [k for k in KIND_STYLES if k in present] + sorted(present - set(KIND_STYLES))


def facility_layers(facilities: pd.DataFrame, basemap: Basemap = NO_BASEMAP, *,
                    last_month_label: str | None = None, cluster: bool | None = None) -> list[folium.FeatureGroup]:
    """One layer per facility kind (for the layer control), markers coloured and iconed by kind.

    facilities: name, kind, kind_name, status, status_name, lon, lat and optionally operator, capacity,
    opened_on, address, subdistrict_name, meals_last_month. With more than CLUSTER_MIN_POINTS facilities, markers
    that would bury each other at district zoom merge into one numbered circle: one MarkerCluster shared by every
    kind (so a meal point and a day-care centre on the same corner merge too), each kind a FeatureGroupSubGroup of it
    (still one entry in the layer control); split apart on zoom, all apart from CLUSTER_OFF_AT_ZOOM.
    """
    if len(facilities) > MAX_POINTS:
        raise ValueError(f"{len(facilities)} points are too many for one map; pass aggregates instead")
    layers = []
    if facilities.empty:
        return layers
    df = facilities.reset_index(drop=True)
    lat, lng = latlng_rows(df, basemap)
    df = df.assign(_lat=lat, _lng=lng)
    shared = None
    if cluster if cluster is not None else len(df) > CLUSTER_MIN_POINTS:
        from folium.plugins import MarkerCluster
        shared = MarkerCluster(control=False, options={"disableClusteringAtZoom": CLUSTER_OFF_AT_ZOOM,
                                                       "showCoverageOnHover": False,
                                                       "maxClusterRadius": CLUSTER_RADIUS_PX})
        layers.append(shared)
    for kind in kinds_in_order(df["kind"]):
        part = df[df["kind"] == kind]
        icon, marker_colour, hex_colour = KIND_STYLES.get(kind, FALLBACK_STYLE)
        label = part["kind_name"].iloc[0] if "kind_name" in part else FACILITY_KINDS.get(kind, kind)
        rows = []
        for r in part.to_dict("records"):
            status = r.get("status") if r.get("status") in STATUS_ORDER else "operating"
            tip = (f"<b>{esc(r['name'])}</b><br>{esc(label)} · "
                   f"{esc(r.get('status_name') or FACILITY_STATUSES.get(status, status))}")
            rows.append([r["_lat"], r["_lng"], STATUS_ORDER.index(status), tip, _facility_popup(r, last_month_label)])
        name = f"{esc(label)}（{len(rows)}）"
        if shared is not None:
            from folium.plugins import FeatureGroupSubGroup
            group = FeatureGroupSubGroup(shared, name=name)
        else:
            group = folium.FeatureGroup(name=name)
        group.add_child(FacilityPoints(rows, status_styles(hex_colour, icon, marker_colour)))
        layers.append(group)
    return layers


# --- communities, dots and rings ----------------------------------------------------------------------

def community_layer(communities: pd.DataFrame, basemap: Basemap = NO_BASEMAP, *, map_name: str,
                    min_zoom: int = COMMUNITY_MIN_ZOOM, by_coverage: bool = False,
                    name: str | None = None) -> folium.FeatureGroup | None:
    """社区 points: plain dots that appear on zoom, or covered / not covered (by_coverage) for drill-down."""
    if communities.empty:
        return None
    df = communities.head(MAX_COMMUNITY_POINTS).reset_index(drop=True)
    lat, lng = latlng_rows(df, basemap)
    styles = [{"radius": 4, "color": "#555555", "weight": 1, "fillColor": "#ffffff", "fillOpacity": 0.9}]
    if by_coverage:
        styles = [{"radius": 6, "color": "#ffffff", "weight": 1.5, "fillColor": COVERED_COLOUR, "fillOpacity": 0.95},
                  {"radius": 6, "color": "#ffffff", "weight": 1.5, "fillColor": UNCOVERED_COLOUR, "fillOpacity": 0.95}]
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        tip = f"<b>{esc(r.get('short_name') or r.get('name'))}</b>"
        idx = 0
        if by_coverage:
            idx = 0 if bool(r.get("covered")) else 1
            tip += "<br>" + ("已覆盖（助餐服务范围内）" if idx == 0 else "未覆盖")
        if not missing(r.get("pop_60")):
            tip += f"<br>60岁以上 {int(r['pop_60']):,} 人"
            if not missing(r.get("pop_80")):
                tip += f"，80岁以上 {int(r['pop_80']):,} 人"
        if not missing(r.get("nearest_m")):
            tip += f"<br>距最近助餐点 {int(r['nearest_m']):,} 米"
        rows.append([lat[i], lng[i], idx, tip])
    label = name or ("社区（覆盖情况）" if by_coverage else f"社区（放大到 {min_zoom} 级显示）")
    fg = folium.FeatureGroup(name=label, show=True)
    fg.add_child(CirclePoints(rows, styles, map_name=map_name, min_zoom=min_zoom))
    return fg


def dot_layer(points: pd.DataFrame, tooltips: Iterable[str], *, name: str, colour: str, radius_px: int = 6,
              basemap: Basemap = NO_BASEMAP) -> folium.FeatureGroup | None:
    """One layer of same-coloured dots (white rim) with a tooltip each; the tooltips are HTML already escaped.

    Drawn as one compact element (a row list rendered by one loop in the page), not a folium CircleMarker per
    point: a few hundred dots cost a template render each otherwise."""
    if points.empty:
        return None
    lat, lng = latlng_rows(points, basemap)
    style = {"radius": radius_px, "color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.95}
    rows = [[a, b, 0, t] for a, b, t in zip(lat, lng, tooltips)]
    fg = folium.FeatureGroup(name=f"{name}（{len(rows)}）", show=True)
    fg.add_child(CirclePoints(rows, [style], map_name="null"))
    return fg


def rings_layer(points: pd.DataFrame, radius_m: float, basemap: Basemap = NO_BASEMAP) -> folium.FeatureGroup:
    """步行圈 of radius_m metres around each point (drawn by Leaflet in metres, so it is true to scale)."""
    lat, lng = latlng_rows(points, basemap) if len(points) else ([], [])
    fg = folium.FeatureGroup(name=f"步行圈（{int(radius_m)} 米）", show=True)
    fg.add_child(Rings([[a, b] for a, b in zip(lat, lng)], radius_m, RING_COLOUR))
    return fg


# --- per-subdistrict bubbles (province scale) ----------------------------------------------------------

# Merged bubbles show the sum of their subdistricts' counts (not how many bubbles they hold).
_SUM_BUBBLES_JS = """function(cluster){var n=0;cluster.getAllChildMarkers().forEach(function(m){n+=m.options.n||0;});
var s=Math.round(30+10*Math.log10(Math.max(n,1)));return L.divIcon({className:'',iconSize:[s,s],
html:'<div class="mz-agg" style="width:'+s+'px;height:'+s+'px;line-height:'+(s-4)+'px">'+n.toLocaleString()+'</div>'});}"""


def aggregate_layer(counts: pd.DataFrame, basemap: Basemap = NO_BASEMAP, *, name: str = "设施数量（按街道汇总）",
                    detail: dict[str, str] | None = None) -> folium.FeatureGroup:
    """Province scale: one bubble per subdistrict (columns code, name, lon, lat, n) sized by count.

    Above BUBBLE_CLUSTER_ABOVE bubbles they sit in a MarkerCluster that merges neighbours when zoomed
    out, the merged bubble showing the summed count.
    """
    df = counts[counts["n"] > 0].reset_index(drop=True)
    if len(df) > BUBBLE_CLUSTER_ABOVE:
        from folium.plugins import MarkerCluster
        fg = MarkerCluster(name=name, icon_create_function=_SUM_BUBBLES_JS,
                           options={"showCoverageOnHover": False, "maxClusterRadius": 60})
    else:
        fg = folium.FeatureGroup(name=name, show=True)
    if df.empty:
        return fg
    lat, lng = latlng_rows(df, basemap)
    top = max(float(df["n"].max()), 1.0)
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        size = int(22 + 26 * math.sqrt(float(r["n"]) / top))
        tip = f"<b>{esc(r['name'])}</b><br>共 {int(r['n']):,} 处"
        if detail and detail.get(r["code"]):
            tip += "<br>" + detail[r["code"]]
        rows.append([lat[i], lng[i], f"{int(r['n']):,}", size, tip, int(r["n"])])
    fg.add_child(Bubbles(rows))
    return fg


def aggregate_totals(counts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Per subdistrict total and an escaped "kind n · kind n" line, from counts by (code, kind[, status])."""
    totals = counts.groupby(["code", "name", "lon", "lat"], as_index=False, sort=False)["n"].sum()
    detail: dict[str, str] = {}
    if "kind" in counts.columns:
        by_kind = counts.groupby(["code", "kind"], sort=False)["n"].sum()
        for (code, kind), n in by_kind.items():
            part = f"{esc(FACILITY_KINDS.get(kind, kind))} {int(n):,}"
            detail[code] = detail[code] + "<br>" + part if code in detail else part
    return totals, detail


# --- vacant rooms (选址分析) ----------------------------------------------------------------------------

ROOM_COLOUR = "#6a51a3"
ROOM_STATUS_LABELS = {"candidate": "候选", "negotiating": "洽谈中", "rejected": "已否决", "converted": "已转为设施"}
ROOM_OWNER_LABELS = {"state": "国有", "community": "社区（村）集体", "enterprise": "企业", "private": "个人"}


def room_tip(r: dict) -> str:
    """A vacant room's tooltip in words (escaped): what it is, where, how big, which floor, whose, its state —
    no ledger code and no coordinates."""
    lines = ["<b>闲置用房</b>"]
    if not missing(r.get("address")):
        lines.append(esc(r["address"]))
    where = [r.get(k) for k in ("subdistrict_name", "community_name") if not missing(r.get(k))]
    if where:
        lines.append(esc(" · ".join(str(w) for w in where)))
    size = []
    if not missing(r.get("area_m2")):
        size.append(f"面积 {float(r['area_m2']):,.0f} 平方米")
    if not missing(r.get("floor")):
        lift = r.get("has_lift")
        size.append(f"第 {int(r['floor'])} 层" + ("" if missing(lift) else ("（有电梯）" if bool(lift) else "（无电梯）")))
    if size:
        lines.append(esc("，".join(size)))
    more = []
    if not missing(r.get("owner_type")):
        more.append("产权：" + ROOM_OWNER_LABELS.get(r["owner_type"], "其他"))
    if not missing(r.get("monthly_rent")):
        more.append(f"月租金 {float(r['monthly_rent']):,.0f} 元")
    if not missing(r.get("status")):
        more.append("状态：" + ROOM_STATUS_LABELS.get(r["status"], "其他"))
    if more:
        lines.append(esc("，".join(more)))
    return "<br>".join(lines)


def room_layer(rooms: pd.DataFrame, basemap: Basemap = NO_BASEMAP, *, name: str = "闲置用房") -> folium.FeatureGroup | None:
    """闲置用房 as visible symbols (a 14 px violet square with a white rim and a house mark, see room_legend), each
    with its tooltip in words (room_tip). rooms: lon, lat and the ledger's fields (address, area_m2, floor, …)."""
    df = rooms.dropna(subset=["lon", "lat"]).reset_index(drop=True)
    if df.empty:
        return None
    lat, lng = latlng_rows(df, basemap)
    rows = [[lat[i], lng[i], room_tip(r)] for i, r in enumerate(df.to_dict("records"))]
    fg = folium.FeatureGroup(name=f"{esc(name)}（{len(rows)}）", show=True)
    fg.add_child(Symbols(rows, "mz-room", "<i class='fa-solid fa-house'></i>", 16))
    return fg


def room_legend(n: int | None = None) -> str:
    """The legend line of the vacant-room symbol (escaped html)."""
    count = f"（{n} 处）" if n is not None else ""
    return f"<span class='mz-room mz-room-key'><i class='fa-solid fa-house'></i></span>闲置用房{esc(count)}"
