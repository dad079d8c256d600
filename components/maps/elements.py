"""Compact Leaflet elements: rows of already-escaped text inlined as JSON and drawn by one small loop each.

One folium object per point would cost a template render each and make a district map megabytes; these
elements render once, verbatim (never compiled as a Jinja template), so neither size nor injected text can
hurt. Every text that reaches a popup, tooltip, label or legend goes through `esc()` first.
"""
from __future__ import annotations

import html
import json
import math

import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

_JS_TEMPLATE_CHARS = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})


def esc(value) -> str:
    """Text for HTML: entities for <>&"' and for the characters that matter to the templates on the way.

    folium puts tooltips and popups into JS backtick strings, where `${…}` would run and a stray
    backslash would break the script; and branca compiles every rendered script once more as a Jinja
    template on the server, where `{{ … }}` in a name would be evaluated. So ` $ \\ { } become
    entities as well (the browser shows them unchanged).
    """
    if missing(value):
        return ""
    text = html.escape(str(value), quote=True)
    return text.translate(_JS_TEMPLATE_CHARS)


def missing(value) -> bool:
    """None, NaN or NaT: a cell with nothing to show."""
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def to_json(obj) -> str:
    """JSON for inlining in a <script>: compact, UTF-8, and unable to close the script element."""
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            .replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class Raw(Element):
    """Already-rendered text in the page; unlike branca's Element(text) it is not compiled as a template."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class Compact(MacroElement):
    """Base of the maps' own elements: their header/script go into the page as Raw text.

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
                target.add_child(Raw(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class Css(Compact):
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
.mz-room{display:inline-block;box-sizing:border-box;width:16px;height:16px;background:#6a51a3;border:2px solid #fff;
 border-radius:3px;box-shadow:0 0 3px rgba(0,0,0,.55);color:#fff;font-size:8px;line-height:12px;text-align:center}
.mz-legend .mz-room-key{margin-right:6px;vertical-align:-3px}.mz-legend .mz-room-key .fa-solid{width:auto;margin:0}
</style>{% endmacro %}""")

    def __init__(self):
        super().__init__()
        self._name = "MzCss"


class Control(Compact):
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
        self.html_json = to_json(html_text)
        self.position = position
        self.css_class = css_class


class FacilityPoints(Compact):
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
        self.rows_json = to_json(rows)
        self.status_json = to_json(statuses)
        self.rows = rows


class CirclePoints(Compact):
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
        self.rows_json = to_json(rows)
        self.styles_json = to_json(styles)
        self.map_name = map_name
        self.min_zoom = int(min_zoom)
        self.rows = rows


class Symbols(Compact):
    """Point symbols drawn as small html boxes (a CSS class and inner html, e.g. an icon): rows [lat, lng, tooltip]."""
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var g={{ this._parent.get_name() }},rows={{ this.rows_json }},s={{ this.size }},
icon=L.divIcon({className:'',html:'<span class='+{{ this.css_json }}+'>'+{{ this.inner_json }}+'</span>',
iconSize:[s,s],iconAnchor:[s/2,s/2]});
rows.forEach(function(r){g.addLayer(L.marker([r[0],r[1]],{icon:icon,riseOnHover:true}).bindTooltip(r[2]));});})();
{% endmacro %}""")

    def __init__(self, rows: list, css_class: str, inner_html: str, size: int):
        super().__init__()
        self._name = "MzSymbols"
        self.rows = rows
        self.rows_json = to_json(rows)
        self.css_json = to_json('"' + css_class + '"')
        self.inner_json = to_json(inner_html)
        self.size = int(size)


class Rings(Compact):
    """Walking rings: a circle of `radius` metres (Leaflet draws it true to scale) around each point."""
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var g={{ this._parent.get_name() }},rows={{ this.rows_json }},o={{ this.style_json }};
rows.forEach(function(r){g.addLayer(L.circle([r[0],r[1]],o));});})();
{% endmacro %}""")

    def __init__(self, rows: list, radius_m: float, colour: str):
        super().__init__()
        self._name = "MzRings"
        self.rows = rows
        self.rows_json = to_json(rows)
        self.style_json = to_json({"radius": float(radius_m), "color": colour, "weight": 1, "opacity": 0.7,
                                   "fillColor": colour, "fillOpacity": 0.12, "interactive": False})


class Labels(Compact):
    """Non-interactive text labels (subdistrict names): clicks fall through to the polygons.

    With min_zoom > 0 they show only from that zoom on (a province's thousand names would be a smear). At
    every zoom a name that would overlap one placed before it is hidden (rows in priority order), so names never
    bury each other when zoomed out and all come back when zoomed in. With the map's name they sit in a pane of
    their own above the markers (not clickable: clicks reach the markers and polygons under them).
    """
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var p={{ this._parent.get_name() }},m={{ this.map_name }},rows={{ this.rows_json }},
z={{ this.min_zoom }},g=L.layerGroup();
var pane='markerPane';if(m){if(!m.getPane('mzLabels')){m.createPane('mzLabels').style.zIndex=640;}pane='mzLabels';}
rows.forEach(function(r){var l=L.marker([r[0],r[1]],{interactive:false,keyboard:false,pane:pane,
icon:L.divIcon({className:'mz-label',html:r[2],iconSize:null,iconAnchor:[r[3],9]})});l._mzW=r[3];g.addLayer(l);});
function declutter(){var map=m||p._map,placed=[];if(!map){return;}
g.eachLayer(function(l){if(!l._icon){return;}var c=map.latLngToLayerPoint(l.getLatLng()),
b=[c.x-l._mzW-2,c.y-10,c.x+l._mzW+2,c.y+10],hit=placed.some(function(o){
return b[0]<o[2]&&o[0]<b[2]&&b[1]<o[3]&&o[1]<b[3];});
l._icon.style.visibility=hit?'hidden':'';if(!hit){placed.push(b);}});}
function upd(){if(m.getZoom()>=z){if(!p.hasLayer(g)){p.addLayer(g);}}else if(p.hasLayer(g)){p.removeLayer(g);}declutter();}
if(z>0){m.on('zoomend',upd);upd();}else{p.addLayer(g);var map=m||p._map;
if(map){map.on('zoomend',declutter);map.whenReady(declutter);}else{p.on('add',function(){p._map.on('zoomend',declutter);declutter();});}}})();
{% endmacro %}""")

    def __init__(self, rows: list, map_name: str = "", min_zoom: int = 0):
        super().__init__()
        self._name = "MzLabels"
        self.rows = rows
        self.rows_json = to_json(rows)
        self.map_name = map_name or "null"
        self.min_zoom = int(min_zoom) if map_name else 0


class Bubbles(Compact):
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
        self.rows_json = to_json(rows)


class Polygons(Compact):
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
        parts = [f'{{"type":"Feature","id":{to_json(fid)},"properties":{{"s":{si},"t":{to_json(tip)}}},"geometry":{geom}}}'
                 for fid, si, tip, geom in features]
        self.data_json = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
        self.styles_json = to_json(styles)
        self.highlight_json = to_json(highlight)
        self.interactive_js = "true" if interactive else "false"


class MapChrome(Compact):
    """The map's own controls: a metric-only scale bar, and the attribution with plain text in front (Leaflet's
    default prefix is a link with a flag icon) naming where the data come from."""
    _template = Template("""
{% macro script(this, kwargs) %}
(function(){var m={{ this._parent.get_name() }};
if(m.attributionControl){m.attributionControl.setPrefix({{ this.prefix_json }});
m.attributionControl.addAttribution({{ this.sources_json }});}
L.control.scale({metric:true,imperial:false,position:'bottomleft'}).addTo(m);})();
{% endmacro %}""")

    def __init__(self, sources: str, prefix: str):
        super().__init__()
        self._name = "MzChrome"
        self.sources_json = to_json(esc(sources))
        self.prefix_json = to_json(esc(prefix))
