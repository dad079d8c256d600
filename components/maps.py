"""Maps: pure builders (DataFrames → folium.Map, drawn with no CDN and no tiles by default) and one show_map().

Builders never touch Streamlit or the database, so tests render them and read the Leaflet script.
Every text that reaches a popup, tooltip, label or legend goes through `esc()`. Points are drawn by a
few compact layers (one JSON array and a small loop each) instead of one folium object per point, so a
district map stays far under 300 KB; at province scale the pages pass aggregates instead of points.
Coordinates arrive in WGS-84; with the 高德 basemap every point and polygon is shifted to GCJ-02 here.
"""
from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import quote

import folium
import numpy as np
import pandas as pd
import shapely
import streamlit_folium  # noqa: F401  (loaded with the map builders: the first map a process draws pays no import)
from branca.element import Element, MacroElement
from jinja2 import Template
from shapely.geometry import mapping

from components.offline import st_folium
from data.db.models import FACILITY_KINDS, FACILITY_STATUSES
from geo import gcj02

SCHEMATIC_NOTE = "示意边界，非法定界线"
OFFICIAL_NOTE = "街道界线：民政局导入的正式边界"
DECIMALS = 6                 # ≈ 0.1 m; what the browser gets
COMMUNITY_MIN_ZOOM = 14      # community points appear from this zoom on
CLUSTER_MIN_POINTS = 400     # cluster a kind's markers above this many
MAX_POINTS = 3000            # more points than this and the page should pass aggregates instead
MAX_MAP_SUBDISTRICTS = 200  # more (province scale): a map of one chosen subdistrict draws only it and what is near
AGGREGATE_FACILITIES_ABOVE = 2500  # 设施布局: more facilities than this → one bubble per subdistrict until one is chosen
MAX_COMMUNITY_POINTS = 2500  # never send more community points than this
LABELS_ALWAYS_UP_TO = 40     # more subdistricts than this: names appear from LABEL_MIN_ZOOM on
LABEL_MIN_ZOOM = 12
BUBBLE_CLUSTER_ABOVE = 60    # more aggregate bubbles than this: they merge (summing their counts) when zoomed out
DEFAULT_HEIGHT = 560

# Leaflet.awesome-markers colour names and the hex they render as (for legends and rings).
KIND_STYLES: dict[str, tuple[str, str, str]] = {  # kind → (Font Awesome 6 icon, marker colour, hex)
    "meal_point": ("utensils", "orange", "#f69730"),
    "embedded_nursing_home": ("bed", "red", "#d63e2a"),
    "home_care_center": ("house", "blue", "#38aadd"),
    "day_care_center": ("sun", "green", "#72b026"),
    "welfare_institute": ("building", "darkred", "#a23336"),
    "care_institution": ("hospital", "purple", "#d252b9"),
}
FALLBACK_STYLE = ("circle", "cadetblue", "#436978")
STATUS_ORDER = ["operating", "building", "planned", "closed"]
STATUS_LEGEND = {
    "operating": "运营中：实心标记",
    "building": "建设中：白底标记",
    "planned": "规划中：虚线空心圆",
    "closed": "已关停：灰色小点",
}
COVERAGE_BINS = [0.0, 0.3, 0.5, 0.65, 0.8, 1.0000001]
COVERAGE_COLOURS = ["#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850"]
NO_DATA_COLOUR = "#d9d9d9"
COVERED_COLOUR, UNCOVERED_COLOUR = "#1a9850", "#d73027"
RING_COLOUR = "#2b8cbe"


# --- safety -------------------------------------------------------------------------------------

_JS_TEMPLATE_CHARS = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})


def esc(value) -> str:
    """Text for HTML: entities for <>&"' and for the characters that matter to the templates on the way.

    folium puts tooltips and popups into JS backtick strings, where `${…}` would run and a stray
    backslash would break the script; and branca compiles every rendered script once more as a Jinja
    template on the server, where `{{ … }}` in a name would be evaluated. So ` $ \\ { } become
    entities as well (the browser shows them unchanged).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    text = html.escape(str(value), quote=True)
    return text.translate(_JS_TEMPLATE_CHARS)


def _json(obj) -> str:
    """JSON for inlining in a <script>: compact, UTF-8, and unable to close the script element."""
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            .replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# --- basemap and coordinates ----------------------------------------------------------------------

@dataclass(frozen=True)
class Basemap:
    """Tile layer under the data: none (default), 天地图 (needs the bureau's key) or 高德 (GCJ-02)."""
    kind: str = "none"
    tianditu_key: str = ""

    @property
    def gcj02(self) -> bool:
        return self.kind == "gaode"


NO_BASEMAP = Basemap()


def project(lon, lat, basemap: Basemap = NO_BASEMAP) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat arrays → what the basemap needs (GCJ-02 for 高德), rounded for the browser."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if basemap.gcj02 and lon.size:
        lon, lat = gcj02.wgs84_to_gcj02_array(lon, lat)
    return np.round(lon, DECIMALS), np.round(lat, DECIMALS)


def project_geometry(geometry: dict | str, basemap: Basemap = NO_BASEMAP, simplify_deg: float = 0.0) -> dict:
    """One GeoJSON geometry, optionally simplified, shifted for the basemap and rounded (see prepare_geometries)."""
    return mapping(prepare_geometries([geometry], basemap, simplify_deg)[0])


def _latlng_rows(df: pd.DataFrame, basemap: Basemap) -> tuple[list[float], list[float]]:
    lon, lat = project(df["lon"].to_numpy(), df["lat"].to_numpy(), basemap)
    return lat.tolist(), lon.tolist()


# --- compact Leaflet elements ---------------------------------------------------------------------

class _Raw(Element):
    """Already-rendered text in the page; unlike branca's Element(text) it is not compiled as a template."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class _Compact(MacroElement):
    """Base of this module's elements: their header/script go into the page as _Raw text.

    branca's MacroElement.render wraps each rendered macro in Element(text), which compiles the text as
    a Jinja template — slow for a layer with thousands of rows inlined, and a template-injection hole
    for any text that reached it. The macros here are rendered once and inserted verbatim.
    """

    def render(self, **kwargs):
        figure = self.get_root()
        module = self._template.module.__dict__
        for part, target in (("header", figure.header), ("script", figure.script)):
            macro = module.get(part)
            if macro is not None:
                target.add_child(_Raw(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class _Css(_Compact):
    """The maps' own styles (legend, labels, notes); lives in the page header, no external sheet."""
    _template = Template("""
{% macro header(this, kwargs) %}<style>
.leaflet-container{background:#f3f5f7;font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif}
.mz-legend,.mz-note{background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);font-size:12px;line-height:18px;color:#222;max-width:240px}
.mz-legend b{display:block;margin:2px 0}
.mz-legend i.mz-sw{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:-1px;border:1px solid #777}
.mz-legend .fa-solid{width:16px;text-align:center;margin-right:4px}
.mz-legend .mz-pin{display:inline-block;width:12px;height:12px;border-radius:50% 50% 50% 0;margin:0 6px 0 1px;
 transform:rotate(-45deg);vertical-align:-1px}
.mz-legend .mz-ring{display:inline-block;width:11px;height:11px;border-radius:50%;margin:0 6px 0 1px;vertical-align:-1px}
.mz-note{font-weight:bold;color:#8a4b00}
.mz-label{color:#333;font-size:12px;font-weight:bold;white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff}
.mz-agg{border-radius:50%;background:rgba(43,140,190,.85);color:#fff;font-weight:bold;text-align:center;
 border:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.4)}
.mz-pop{font-size:13px;line-height:20px}.mz-pop b{font-size:14px}
.awesome-marker-icon-white i{opacity:.9}
</style>{% endmacro %}""")

    def __init__(self):
        super().__init__()
        self._name = "MzCss"


class _Control(_Compact):
    """A fixed box on the map (legend or note) whose HTML was escaped when it was built."""
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var c=L.control({position:{{ this.position|tojson }}});
c.onAdd=function(){var d=L.DomUtil.create('div',{{ this.css_class|tojson }});d.innerHTML={{ this.html_json }};
L.DomEvent.disableClickPropagation(d);L.DomEvent.disableScrollPropagation(d);return d;};
c.addTo({{ this._parent.get_name() }});})();
{% endmacro %}""")

    def __init__(self, html_text: str, position: str = "bottomright", css_class: str = "mz-legend"):
        super().__init__()
        self._name = "MzControl"
        self.html_json = _json(html_text)
        self.position = position
        self.css_class = css_class


class _FacilityPoints(_Compact):
    """One kind's facilities: a marker per operating/building site, a dashed ring per planned one.

    rows: [lat, lng, status index, tooltip html, popup html] — every text already escaped.
    """
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var g={{ this._parent.get_name() }},rows={{ this.rows_json }},st={{ this.status_json }},
am=(L.AwesomeMarkers&&L.AwesomeMarkers.icon)?L.AwesomeMarkers.icon:null,icons={};
st.forEach(function(s,i){if(s.icon&&am){icons[i]=am(s.icon);}});
rows.forEach(function(r){var s=st[r[2]],l;
 if(icons[r[2]]){l=L.marker([r[0],r[1]],{icon:icons[r[2]],opacity:s.opacity,riseOnHover:true});}
 else{l=L.circleMarker([r[0],r[1]],s.circle);}
 l.bindTooltip(r[3]);l.bindPopup(r[4],{maxWidth:320});g.addLayer(l);});})();
{% endmacro %}""")

    def __init__(self, rows: list, statuses: list[dict]):
        super().__init__()
        self._name = "MzFacilityPoints"
        self.rows_json = _json(rows)
        self.status_json = _json(statuses)
        self.rows = rows


class _CirclePoints(_Compact):
    """Circle markers (communities, aggregates as circles) with per-row style index and tooltip.

    rows: [lat, lng, style index, tooltip html]. With min_zoom > 0 the points join the parent layer
    only from that zoom on (community points "on zoom").
    """
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var p={{ this._parent.get_name() }},m={{ this.map_name }},rows={{ this.rows_json }},
styles={{ this.styles_json }},z={{ this.min_zoom }},g=L.featureGroup();
rows.forEach(function(r){var l=L.circleMarker([r[0],r[1]],styles[r[2]]);if(r[3]){l.bindTooltip(r[3]);}g.addLayer(l);});
function upd(){if(m.getZoom()>=z){if(!p.hasLayer(g)){p.addLayer(g);}}else if(p.hasLayer(g)){p.removeLayer(g);}}
if(z>0){m.on('zoomend',upd);upd();}else{p.addLayer(g);}})();
{% endmacro %}""")

    def __init__(self, rows: list, styles: list[dict], map_name: str, min_zoom: int = 0):
        super().__init__()
        self._name = "MzCirclePoints"
        self.rows_json = _json(rows)
        self.styles_json = _json(styles)
        self.map_name = map_name
        self.min_zoom = int(min_zoom)
        self.rows = rows


class _Rings(_Compact):
    """Walking rings: a circle of `radius` metres (Leaflet draws it true to scale) around each point."""
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var g={{ this._parent.get_name() }},rows={{ this.rows_json }},o={{ this.style_json }};
rows.forEach(function(r){g.addLayer(L.circle([r[0],r[1]],o));});})();
{% endmacro %}""")

    def __init__(self, rows: list, radius_m: float, colour: str = RING_COLOUR):
        super().__init__()
        self._name = "MzRings"
        self.rows = rows
        self.rows_json = _json(rows)
        self.style_json = _json({"radius": float(radius_m), "color": colour, "weight": 1, "opacity": 0.7,
                                 "fillColor": colour, "fillOpacity": 0.12, "interactive": False})


class _Labels(_Compact):
    """Non-interactive text labels (subdistrict names): clicks fall through to the polygons.

    With min_zoom > 0 they show only from that zoom on (a province's thousand names would be a smear).
    """
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var p={{ this._parent.get_name() }},m={{ this.map_name }},rows={{ this.rows_json }},
z={{ this.min_zoom }},g=L.layerGroup();
rows.forEach(function(r){g.addLayer(L.marker([r[0],r[1]],{interactive:false,keyboard:false,
icon:L.divIcon({className:'mz-label',html:r[2],iconSize:null,iconAnchor:[r[3],9]})}));});
function upd(){if(m.getZoom()>=z){if(!p.hasLayer(g)){p.addLayer(g);}}else if(p.hasLayer(g)){p.removeLayer(g);}}
if(z>0){m.on('zoomend',upd);upd();}else{p.addLayer(g);}})();
{% endmacro %}""")

    def __init__(self, rows: list, map_name: str = "", min_zoom: int = 0):
        super().__init__()
        self._name = "MzLabels"
        self.rows = rows
        self.rows_json = _json(rows)
        self.map_name = map_name or "null"
        self.min_zoom = int(min_zoom) if map_name else 0


class _Bubbles(_Compact):
    """Aggregated counts (one bubble per subdistrict) for province-scale views."""
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var g={{ this._parent.get_name() }},rows={{ this.rows_json }};
rows.forEach(function(r){var s=r[3];g.addLayer(L.marker([r[0],r[1]],{n:r[5],icon:L.divIcon({className:'',
html:'<div class="mz-agg" style="width:'+s+'px;height:'+s+'px;line-height:'+(s-4)+'px">'+r[2]+'</div>',
iconSize:[s,s],iconAnchor:[s/2,s/2]})}).bindTooltip(r[4]));});})();
{% endmacro %}""")

    def __init__(self, rows: list):
        super().__init__()
        self._name = "MzBubbles"
        self.rows = rows
        self.rows_json = _json(rows)


# --- building blocks ------------------------------------------------------------------------------

def _bounds_of(geometries: Iterable) -> list[list[float]] | None:
    """[[south, west], [north, east]] of GeoJSON geometries (dicts or text); None when there are none."""
    texts = [g if isinstance(g, str) else json.dumps(g) for g in geometries if isinstance(g, (str, dict)) and g]
    if not texts:
        return None
    x0, y0, x1, y1 = shapely.total_bounds(shapely.from_geojson(texts))
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


def base_map(basemap: Basemap = NO_BASEMAP, bounds: list[list[float]] | None = None) -> folium.Map:
    """An empty map: no tiles unless a basemap was chosen, canvas vectors, scale bar, fitted to bounds."""
    centre = [28.66, 115.89]
    if bounds:
        centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=centre, zoom_start=13, tiles=None, prefer_canvas=True, control_scale=True,
                   max_zoom=18, min_zoom=5)
    m.add_child(_Css())
    if basemap.kind == "tianditu" and re.fullmatch(r"[0-9A-Za-z]{8,64}", basemap.tianditu_key or ""):
        tk = quote(basemap.tianditu_key, safe="")
        for layer, name, overlay in (("vec", "天地图 矢量", False), ("cva", "天地图 注记", True)):
            url = (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                   f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                   f"&TILECOL={{x}}&tk={tk}")
            folium.TileLayer(url, attr="天地图", name=name, overlay=overlay, control=True, max_zoom=18,
                             subdomains="01234567").add_to(m)
    elif basemap.kind == "gaode":
        folium.TileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                         "&x={x}&y={y}&z={z}", attr="高德地图", name="高德地图", max_zoom=18,
                         subdomains="1234").add_to(m)
    if bounds:
        proj = _project_bounds(bounds, basemap)
        m.fit_bounds(proj, padding=(10, 10))
    return m


def _project_bounds(bounds: list[list[float]], basemap: Basemap) -> list[list[float]]:
    lon, lat = project([bounds[0][1], bounds[1][1]], [bounds[0][0], bounds[1][0]], basemap)
    return [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


def add_district_outline(m: folium.Map, outline: dict | None, basemap: Basemap = NO_BASEMAP) -> None:
    """The district outline: a dark line, not clickable (clicks reach the subdistricts under it)."""
    if not outline:
        return
    geom = prepare_geometries([outline], basemap)[0]
    m.add_child(_Polygons([("district", 0, "", shapely.to_geojson(geom))],
                          [{"color": "#333333", "weight": 2.5, "fill": False}], interactive=False))


def prepare_geometries(geometries: list, basemap: Basemap = NO_BASEMAP, simplify_deg: float = 0.0) -> list:
    """GeoJSON geometries (dicts or text) → shapely geometries simplified, shifted for the basemap and rounded.

    Vectorised (one pass over all polygons), so a province's 1,000 subdistricts take milliseconds.
    """
    texts = [g if isinstance(g, str) else json.dumps(g) for g in geometries]
    geoms = shapely.from_geojson(texts)
    if simplify_deg > 0:
        simpler = shapely.simplify(geoms, simplify_deg, preserve_topology=True)
        geoms = np.where(shapely.is_empty(simpler), geoms, simpler)

    def _shift(xy: np.ndarray) -> np.ndarray:
        x, y = project(xy[:, 0], xy[:, 1], basemap)
        return np.column_stack([x, y])

    return list(shapely.transform(geoms, _shift))


class _Polygons(_Compact):
    """Polygons with a per-feature style index and tooltip; hover outlines, clicks reach streamlit-folium.

    The FeatureCollection is inlined as GEOS-written GeoJSON (coordinates already rounded); every
    tooltip was escaped when it was built.
    """
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var g={{ this._parent.get_name() }},st={{ this.styles_json }},hl={{ this.highlight_json }},lyr;
lyr=L.geoJSON({{ this.data_json }},{interactive:{{ this.interactive_js }},style:function(f){return st[f.properties.s];},
onEachFeature:function(f,l){if(f.properties.t){l.bindTooltip(f.properties.t,{sticky:true});}
if(hl){l.on('mouseover',function(){l.setStyle(hl);});l.on('mouseout',function(){lyr.resetStyle(l);});}}});
g.addLayer(lyr);})();
{% endmacro %}""")

    def __init__(self, features: list[tuple[str, int, str, str]], styles: list[dict], *,
                 highlight: dict | None = None, interactive: bool = True):
        """features: (id, style index, tooltip html, geometry as GeoJSON text)."""
        super().__init__()
        self._name = "MzPolygons"
        self.features = features
        parts = [f'{{"type":"Feature","id":{_json(fid)},"properties":{{"s":{si},"t":{_json(tip)}}},"geometry":{geom}}}'
                 for fid, si, tip, geom in features]
        self.data_json = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
        self.styles_json = _json(styles)
        self.highlight_json = _json(highlight)
        self.interactive_js = "true" if interactive else "false"


def subdistrict_layer(boundaries: pd.DataFrame, basemap: Basemap = NO_BASEMAP, *,
                      fill: dict[str, str] | None = None, tips: dict[str, str] | None = None,
                      selected: str | None = None, simplify_deg: float = 0.0, name: str | None = None,
                      labels: bool = True, map_name: str = "") -> folium.FeatureGroup:
    """街道 polygons (schematic unless official) with name labels; `fill`: code → colour, `tips`: code → escaped html.

    Pass the map's name (m.get_name()) so that, with many polygons, the labels wait for a closer zoom.

    Every tooltip starts with the subdistrict's name (the page maps a click back to it); schematic
    polygons say so in the tooltip and the layer name.
    """
    schematic = not bool(boundaries["boundary_official"].all()) if len(boundaries) else True
    layer_name = name or ("街道（" + (SCHEMATIC_NOTE if schematic else "正式边界") + "）")
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
    fg.add_child(_Polygons(features, styles, highlight={"weight": 3, "color": "#d95f02"}))
    if label_rows:
        many = len(label_rows) > LABELS_ALWAYS_UP_TO and map_name
        fg.add_child(_Labels(label_rows, map_name=map_name, min_zoom=LABEL_MIN_ZOOM if many else 0))
    return fg


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _facility_popup(r: dict, last_month_label: str | None) -> str:
    """The facility card in the popup (every value escaped)."""
    kind = r.get("kind")
    cap_unit = "餐位" if kind == "meal_point" else "床位"
    status = r.get("status")
    lines = [f"<b>{esc(r.get('name'))}</b>",
             f"类型：{esc(r.get('kind_name') or FACILITY_KINDS.get(kind, kind))}",
             f"状态：{esc(r.get('status_name') or FACILITY_STATUSES.get(status, status))}"]
    if not _missing(r.get("subdistrict_name")):
        lines.append(f"街道：{esc(r['subdistrict_name'])}")
    lines.append(f"运营方：{esc(r.get('operator')) or '—'}")
    cap = r.get("capacity")
    lines.append(f"{cap_unit}：{'—' if _missing(cap) else esc(int(cap))}")
    if not _missing(r.get("opened_on")):
        lines.append(f"开业日期：{esc(r['opened_on'])}")
    lines.append(f"地址：{esc(r.get('address')) or '—'}")
    if kind == "meal_point" and not _missing(r.get("meals_last_month")):
        lines.append(f"{esc(last_month_label or '上月')}助餐：{int(r['meals_last_month']):,} 份")
    return "<div class='mz-pop'>" + "<br>".join(lines) + "</div>"


def _status_styles(hex_colour: str, icon: str, marker_colour: str) -> list[dict]:
    """Per status (STATUS_ORDER): awesome-marker options, or circle options for planned / closed."""
    fa = {"prefix": "fa", "icon": icon}
    return [
        {"icon": {**fa, "markerColor": marker_colour, "iconColor": "white"}, "opacity": 1},
        {"icon": {**fa, "markerColor": "white", "iconColor": hex_colour}, "opacity": 0.95},
        {"circle": {"radius": 9, "color": hex_colour, "weight": 2.5, "dashArray": "4 3", "fill": True,
                    "fillColor": "#ffffff", "fillOpacity": 0.6}},
        {"circle": {"radius": 5, "color": "#666666", "weight": 1, "fillColor": "#999999", "fillOpacity": 0.8}},
    ]


def facility_layers(facilities: pd.DataFrame, basemap: Basemap = NO_BASEMAP, *,
                    last_month_label: str | None = None, cluster: bool | None = None) -> list[folium.FeatureGroup]:
    """One layer per facility kind (for the layer control), markers coloured and iconed by kind.

    facilities: name, kind, kind_name, status, status_name, lon, lat and optionally operator, capacity,
    opened_on, address, subdistrict_name, meals_last_month. Kinds with more than CLUSTER_MIN_POINTS
    markers are clustered (MarkerCluster, split apart from zoom 16).
    """
    if len(facilities) > MAX_POINTS:
        raise ValueError(f"{len(facilities)} points are too many for one map; pass aggregates instead")
    layers = []
    if facilities.empty:
        return layers
    df = facilities.reset_index(drop=True)
    lat, lng = _latlng_rows(df, basemap)
    df = df.assign(_lat=lat, _lng=lng)
    order = [k for k in KIND_STYLES if k in set(df["kind"])] + sorted(set(df["kind"]) - set(KIND_STYLES))
    for kind in order:
        part = df[df["kind"] == kind]
        icon, marker_colour, hex_colour = KIND_STYLES.get(kind, FALLBACK_STYLE)
        label = part["kind_name"].iloc[0] if "kind_name" in part else FACILITY_KINDS.get(kind, kind)
        rows = []
        for r in part.to_dict("records"):
            status = r.get("status") if r.get("status") in STATUS_ORDER else "operating"
            tip = (f"<b>{esc(r['name'])}</b><br>{esc(label)} · "
                   f"{esc(r.get('status_name') or FACILITY_STATUSES.get(status, status))}")
            rows.append([r["_lat"], r["_lng"], STATUS_ORDER.index(status), tip, _facility_popup(r, last_month_label)])
        use_cluster = cluster if cluster is not None else len(rows) > CLUSTER_MIN_POINTS
        name = f"{esc(label)}（{len(rows)}）"
        if use_cluster:
            from folium.plugins import MarkerCluster
            group = MarkerCluster(name=name, options={"disableClusteringAtZoom": 16, "showCoverageOnHover": False,
                                                      "maxClusterRadius": 50})
        else:
            group = folium.FeatureGroup(name=name)
        group.add_child(_FacilityPoints(rows, _status_styles(hex_colour, icon, marker_colour)))
        layers.append(group)
    return layers


def facility_legend(kinds_present: Iterable[str], counts: dict[str, int] | None = None,
                    statuses_present: Iterable[str] = ("operating",)) -> str:
    """Legend html: one line per kind (icon in its colour) and one per status style shown."""
    counts = counts or {}
    lines = ["<b>设施类型</b>"]
    for kind in kinds_present:
        icon, _, hex_colour = KIND_STYLES.get(kind, FALLBACK_STYLE)
        n = f"（{counts[kind]}）" if kind in counts else ""
        lines.append(f"<i class='fa-solid fa-{icon}' style='color:{hex_colour}'></i>"
                     f"{esc(FACILITY_KINDS.get(kind, kind))}{esc(n)}")
    statuses = [s for s in STATUS_ORDER if s in set(statuses_present)]
    if statuses:
        lines.append("<b>设施状态</b>")
        samples = {
            "operating": "<span class='mz-pin' style='background:#38aadd'></span>",
            "building": "<span class='mz-pin' style='background:#fff;border:1px solid #38aadd'></span>",
            "planned": "<span class='mz-ring' style='border:2px dashed #38aadd'></span>",
            "closed": "<span class='mz-ring' style='background:#999;width:8px;height:8px'></span>",
        }
        for s in statuses:
            lines.append(samples[s] + esc(STATUS_LEGEND[s]))
    return "<br>".join(lines)


def coverage_bin(rate: float | None) -> int | None:
    """Index of the colour class for a coverage share (0…1); None when there is no value."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return None
    for i in range(len(COVERAGE_COLOURS)):
        if COVERAGE_BINS[i] <= rate < COVERAGE_BINS[i + 1]:
            return i
    return len(COVERAGE_COLOURS) - 1


def coverage_legend(title: str = "社区助餐覆盖率") -> str:
    lines = [f"<b>{esc(title)}</b>"]
    for i, colour in enumerate(COVERAGE_COLOURS):
        lo, hi = COVERAGE_BINS[i], min(COVERAGE_BINS[i + 1], 1.0)
        text = f"≥ {lo:.0%}" if i == len(COVERAGE_COLOURS) - 1 else f"{lo:.0%} – {hi:.0%}"
        lines.append(f"<i class='mz-sw' style='background:{colour}'></i>{esc(text)}")
    lines.append(f"<i class='mz-sw' style='background:{NO_DATA_COLOUR}'></i>无数据")
    return "<br>".join(lines)


def community_layer(communities: pd.DataFrame, basemap: Basemap = NO_BASEMAP, *, map_name: str,
                    min_zoom: int = COMMUNITY_MIN_ZOOM, by_coverage: bool = False,
                    name: str | None = None) -> folium.FeatureGroup | None:
    """社区 points: plain dots that appear on zoom, or covered / not covered (by_coverage) for drill-down."""
    if communities.empty:
        return None
    df = communities.head(MAX_COMMUNITY_POINTS).reset_index(drop=True)
    lat, lng = _latlng_rows(df, basemap)
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
        if not _missing(r.get("pop_60")):
            tip += f"<br>60岁以上 {int(r['pop_60']):,} 人"
            if not _missing(r.get("pop_80")):
                tip += f"，80岁以上 {int(r['pop_80']):,} 人"
        if not _missing(r.get("nearest_m")):
            tip += f"<br>距最近助餐点 {int(r['nearest_m']):,} 米"
        rows.append([lat[i], lng[i], idx, tip])
    label = name or ("社区（覆盖情况）" if by_coverage else f"社区（放大到 {min_zoom} 级显示）")
    fg = folium.FeatureGroup(name=label, show=True)
    fg.add_child(_CirclePoints(rows, styles, map_name=map_name, min_zoom=min_zoom))
    return fg


def dot_layer(points: pd.DataFrame, tooltips: Iterable[str], *, name: str, colour: str, radius_px: int = 6,
              basemap: Basemap = NO_BASEMAP) -> folium.FeatureGroup | None:
    """One layer of same-coloured dots (white rim) with a tooltip each; the tooltips are HTML already escaped.

    Drawn as one compact element (a row list rendered by one loop in the page), not a folium CircleMarker per
    point: a few hundred dots cost a template render each otherwise."""
    if points.empty:
        return None
    lat, lng = _latlng_rows(points, basemap)
    style = {"radius": radius_px, "color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.95}
    rows = [[a, b, 0, t] for a, b, t in zip(lat, lng, tooltips)]
    fg = folium.FeatureGroup(name=f"{name}（{len(rows)}）", show=True)
    fg.add_child(_CirclePoints(rows, [style], map_name="null"))
    return fg


def rings_layer(points: pd.DataFrame, radius_m: float, basemap: Basemap = NO_BASEMAP) -> folium.FeatureGroup:
    """步行圈 of radius_m metres around each point (drawn by Leaflet in metres, so it is true to scale)."""
    lat, lng = _latlng_rows(points, basemap) if len(points) else ([], [])
    fg = folium.FeatureGroup(name=f"步行圈（{int(radius_m)} 米）", show=True)
    fg.add_child(_Rings([[a, b] for a, b in zip(lat, lng)], radius_m))
    return fg


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
    lat, lng = _latlng_rows(df, basemap)
    top = max(float(df["n"].max()), 1.0)
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        size = int(22 + 26 * math.sqrt(float(r["n"]) / top))
        tip = f"<b>{esc(r['name'])}</b><br>共 {int(r['n']):,} 处"
        if detail and detail.get(r["code"]):
            tip += "<br>" + detail[r["code"]]
        rows.append([lat[i], lng[i], f"{int(r['n']):,}", size, tip, int(r["n"])])
    fg.add_child(_Bubbles(rows))
    return fg


def _aggregate_totals(counts: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Per subdistrict total and an escaped "kind n · kind n" line, from counts by (code, kind[, status])."""
    totals = counts.groupby(["code", "name", "lon", "lat"], as_index=False, sort=False)["n"].sum()
    detail: dict[str, str] = {}
    if "kind" in counts.columns:
        by_kind = counts.groupby(["code", "kind"], sort=False)["n"].sum()
        for (code, kind), n in by_kind.items():
            part = f"{esc(FACILITY_KINDS.get(kind, kind))} {int(n):,}"
            detail[code] = detail[code] + "<br>" + part if code in detail else part
    return totals, detail


def _finish(m: folium.Map, legend_html: str | None, schematic: bool) -> folium.Map:
    if legend_html:
        m.add_child(_Control(legend_html, "bottomright", "mz-legend"))
    m.add_child(_Control(esc(SCHEMATIC_NOTE if schematic else OFFICIAL_NOTE), "bottomleft", "mz-note"))
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def _simplify_for(n_polygons: int) -> float:
    """Simplification tolerance in degrees: none for a district, ~20 m for a city, ~60 m for a province."""
    if n_polygons <= 30:
        return 0.0
    return 0.0002 if n_polygons <= 200 else 0.0006


# --- the two maps ---------------------------------------------------------------------------------

def facilities_map(facilities: pd.DataFrame, boundaries: pd.DataFrame, *, outline: dict | None = None,
                   communities: pd.DataFrame | None = None, aggregates: pd.DataFrame | None = None,
                   basemap: Basemap = NO_BASEMAP, selected: str | None = None,
                   last_month_label: str | None = None) -> folium.Map:
    """设施布局: subdistricts, district outline, facilities by kind and status, communities on zoom, legend.

    Pass `aggregates` (counts by code, name, lon, lat[, kind, status], n — e.g.
    data.queries.maps.facility_counts_by_subdistrict) instead of `facilities` when there are too many points.
    """
    focus = boundaries[boundaries["code"] == selected] if selected else boundaries
    bounds = _bounds_of(focus["boundary_geojson"]) or _bounds_of(boundaries["boundary_geojson"]) \
        or (_bounds_of([outline]) if outline else None)
    m = base_map(basemap, bounds)
    simplify = _simplify_for(len(boundaries))
    if len(boundaries):
        m.add_child(subdistrict_layer(boundaries, basemap, selected=selected, simplify_deg=simplify,
                                      map_name=m.get_name()))
    add_district_outline(m, outline, basemap)
    if communities is not None and len(communities):
        layer = community_layer(communities, basemap, map_name=m.get_name())
        if layer is not None:
            m.add_child(layer)
    legend = None
    if aggregates is not None:
        totals, detail = _aggregate_totals(aggregates)
        m.add_child(aggregate_layer(totals, basemap, detail=detail))
        legend = ("<b>设施数量</b>圆圈内数字为符合筛选条件的设施数（按街道汇总，缩小地图时相邻街道合并）；"
                  "在侧边栏选择街道后显示每个设施。")
    elif len(facilities):
        for layer in facility_layers(facilities, basemap, last_month_label=last_month_label):
            m.add_child(layer)
        counts = facilities["kind"].value_counts().to_dict()
        kinds = [k for k in KIND_STYLES if k in counts] + sorted(set(counts) - set(KIND_STYLES))
        legend = facility_legend(kinds, counts, set(facilities["status"]) if "status" in facilities else ())
    else:
        legend = "<b>设施类型</b>当前筛选条件下没有设施。"
    schematic = not bool(boundaries["boundary_official"].all()) if len(boundaries) else True
    return _finish(m, legend, schematic)


def boundaries_map(boundaries: pd.DataFrame, *, outline: dict | None = None,
                   basemap: Basemap = NO_BASEMAP) -> folium.Map:
    """Just the subdistrict polygons and the district outline (e.g. to preview an imported file)."""
    m = base_map(basemap, _bounds_of(boundaries["boundary_geojson"]) or (_bounds_of([outline]) if outline else None))
    if len(boundaries):
        m.add_child(subdistrict_layer(boundaries, basemap, simplify_deg=_simplify_for(len(boundaries)),
                                      map_name=m.get_name()))
    add_district_outline(m, outline, basemap)
    schematic = not bool(boundaries["boundary_official"].all()) if len(boundaries) else True
    return _finish(m, None, schematic)


def coverage_map(boundaries: pd.DataFrame, coverage: pd.DataFrame, *, outline: dict | None = None,
                 meal_points: pd.DataFrame | None = None, communities: pd.DataFrame | None = None,
                 radius_m: float | None = None, basemap: Basemap = NO_BASEMAP,
                 selected: str | None = None) -> folium.Map:
    """助餐覆盖: choropleth of the coverage share by subdistrict (value on hover, offline legend).

    coverage: code, covered, communities (and optionally coverage_rate, meal_points). Drill-down:
    `communities` (covered bool) shows each community covered / not covered; `meal_points` adds the
    operating meal points, and `radius_m` walking rings around them.
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
            tip += f"<br>助餐覆盖率 {esc(_pct(rate))}（{covered}/{total} 个社区）"
            if not _missing(c.get("meal_points")):
                tip += f"<br>运营助餐点 {int(c['meal_points'])} 个"
        else:
            fill[row.code] = NO_DATA_COLOUR
            tip += "<br>无数据"
        tips[row.code] = tip
    focus = boundaries[boundaries["code"] == selected] if selected else boundaries
    bounds = _bounds_of(focus["boundary_geojson"]) or (_bounds_of([outline]) if outline else None)
    m = base_map(basemap, bounds)
    if len(boundaries):
        m.add_child(subdistrict_layer(boundaries, basemap, fill=fill, tips=tips, selected=selected,
                                      simplify_deg=_simplify_for(len(boundaries)), name="助餐覆盖率（按街道）",
                                      map_name=m.get_name()))
    add_district_outline(m, outline, basemap)
    if meal_points is not None and len(meal_points) and radius_m:
        m.add_child(rings_layer(meal_points, radius_m, basemap))
    if communities is not None and len(communities):
        layer = community_layer(communities, basemap, map_name=m.get_name(), min_zoom=0, by_coverage=True)
        if layer is not None:
            m.add_child(layer)
    if meal_points is not None and len(meal_points):
        for layer in facility_layers(meal_points.assign(kind="meal_point"), basemap):
            m.add_child(layer)
    legend = coverage_legend()
    if communities is not None and len(communities):
        legend += (f"<br><b>社区</b><i class='mz-ring' style='background:{COVERED_COLOUR}'></i>已覆盖"
                   f"<br><i class='mz-ring' style='background:{UNCOVERED_COLOUR}'></i>未覆盖")
    if meal_points is not None and len(meal_points):
        legend += "<br><b>助餐点</b><i class='fa-solid fa-utensils' style='color:#f69730'></i>运营中的助餐点"
    if radius_m and meal_points is not None and len(meal_points):
        legend += (f"<br><i class='mz-ring' style='background:rgba(43,140,190,.25);border:1px solid {RING_COLOUR}'>"
                   f"</i>步行圈 {int(radius_m)} 米（直线距离）")
    schematic = not bool(boundaries["boundary_official"].all()) if len(boundaries) else True
    return _finish(m, legend, schematic)


def _pct(rate) -> str:
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "—"
    return f"{float(rate) * 100:.0f}%"


# --- reading clicks back --------------------------------------------------------------------------

def clicked_facility(event: dict | None, facilities: pd.DataFrame, basemap: Basemap = NO_BASEMAP,
                     tolerance_m: float = 400.0) -> pd.Series | None:
    """The facility whose marker was clicked: tooltip text starts with its name, nearest to the click."""
    if not event or not event.get("last_object_clicked") or facilities.empty:
        return None
    tip = (event.get("last_object_clicked_tooltip") or "").strip()
    if not tip:
        return None
    cand = facilities[[tip.startswith(str(n)) for n in facilities["name"]]]
    if cand.empty:
        return None
    lon, lat = project(cand["lon"].to_numpy(), cand["lat"].to_numpy(), basemap)
    click = event["last_object_clicked"]
    d = _metres(lat, lon, float(click["lat"]), float(click["lng"]))
    best = int(np.argmin(d))
    return cand.iloc[best] if d[best] <= tolerance_m else None


def clicked_subdistrict(event: dict | None, names: dict[str, str]) -> str | None:
    """The subdistrict whose polygon (or bubble) was clicked: its tooltip starts with the name."""
    if not event or not event.get("last_object_clicked"):
        return None
    tip = (event.get("last_object_clicked_tooltip") or "").strip()
    hits = [code for code, name in names.items() if tip.startswith(name)]
    return max(hits, key=lambda c: len(names[c])) if hits else None


def _metres(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    k = 111_320.0
    return np.hypot((lat - lat0) * k, (lon - lon0) * k * math.cos(math.radians(lat0)))


# --- the one Streamlit function -------------------------------------------------------------------

def show_map(m: folium.Map, key: str, returned_objects: Iterable[str] = (), height: int = DEFAULT_HEIGHT,
             on_change: Callable[[], None] | None = None) -> dict:
    """Draw a built map with local assets only (no CDN), returning just the events the page uses.

    An empty `returned_objects` means pan and zoom never rerun anything; the pages ask for the click
    fields only. Call it inside an @st.fragment so a click reruns the fragment, not the page.
    `on_change` runs once per new event (st.session_state[key] then holds it) — the place to record a click.
    """
    return st_folium(m, key=key, height=height, use_container_width=True,
                     returned_objects=list(returned_objects), on_change=on_change) or {}
