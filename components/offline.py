"""Offline maps: point folium, branca and streamlit-folium at the files in static/vendor/, never at a CDN.

Call ``use_local_assets()`` once before a map is rendered (a map builder calls it at import; calling it
again is cheap and idempotent), or build maps with ``offline_map()`` and show them with this module's
``st_folium()``, which do it for you. A map must have no tile layer (there is no tile server on the
intranet: ``tiles=None``) and then needs ``maxZoom`` on the map itself — ``offline_map()`` does both;
``external_urls()`` catches a forgotten tile layer in tests.

How streamlit-folium 0.27.4 loads a map (read from streamlit_folium/__init__.py and the frontend's
source map, frontend/build/static/js/main.*.js.map → index.tsx)
---------------------------------------------------------------------------------------------------
* ``st_folium(m)`` renders the map in Python and sends the component five strings: ``script`` (the
  Leaflet JS of every element), ``html`` (the figure's body minus the map div), ``header`` (the figure's
  <head>), and two URL lists ``js_links`` / ``css_links``.
* ``header`` is *stripped* of every ``<script src=…>`` and every ``<link rel="stylesheet" href=…/>``
  before it is sent, so the <head> links that folium's ``JSCSSMixin.render`` adds never reach the
  browser. What remains (meta viewport, inline <style>) is appended to the iframe's <head> verbatim.
* ``js_links`` / ``css_links`` are built by walking the map's element tree (from the Map down, not the
  Figure): for every ``folium.elements.JSCSSMixin`` it takes the **class attributes**
  ``default_js`` / ``default_css`` (Map, MarkerCluster, Fullscreen, …); for every
  ``branca.colormap.ColorMap`` it inserts two **hard-coded** URLs at the front:
  ``https://d3js.org/d3.v4.min.js`` and ``https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js``
  (branca's legend template uses the d3 v3 API; v4 is overwritten by v3 anyway). Then it de-duplicates.
  Rewriting class attributes therefore covers everything except those two d3 URLs, which is why
  ``use_local_assets()`` also wraps ``streamlit_folium._component_func`` (looked up as a module global at
  call time, so ``from streamlit_folium import st_folium`` still goes through the wrapper): the wrapper
  maps every known CDN URL to its vendored copy, drops d3 v4 (unused by branca's legend) and drops —
  with a warning — any external URL it does not know, so an unknown plugin fails visibly in the
  browser console instead of hanging the map on a request that never returns on the intranet.
* The frontend (index.tsx) appends each js_link as ``<script src>`` **one after another** (awaiting
  ``onload``; an ``onerror`` rejects the chain and the map is never drawn), then every css_link as
  ``<link rel=stylesheet>``, then the header, then ``html`` and finally ``script`` plus
  ``window.initComponent(map_div)``. The bundle itself loads nothing from a CDN: its only request is
  its own ``./static/js/main.*.js`` (the ``bootstrap.min.css`` next to index.html is not referenced).
* The component is an iframe at ``<origin>/<baseUrlPath>/component/streamlit_folium.st_folium/index.html
  ?streamlitUrl=…`` (Streamlit 1.67 serves v1 components at ``{baseUrlPath}/component/{name}/{file}``).
  A root-absolute link ``/<baseUrlPath>/app/static/vendor/…`` therefore resolves to the app's own static
  route whatever the baseUrlPath, which is what ``use_local_assets`` writes (base taken from the
  ``server.baseUrlPath`` option unless given). Streamlit serves the app's ``static/`` folder next to the
  *main script* (``<dir of main script>/static``), with the Content-Type guessed from the extension by
  ``mimetypes`` and ``X-Content-Type-Options: nosniff`` (so ``use_local_assets`` pins .js/.css/font types,
  which a Windows registry can get wrong).
* Leaflet's default marker icon (``folium.Marker`` without ``icon=``): folium 0.20 never sets
  ``L.Icon.Default.imagePath``, so Leaflet 1.9.3 guesses it on first use: from the background image of
  ``.leaflet-default-icon-path`` (leaflet.css, relative to the CSS file — the vendored ``images/`` sits
  next to ``leaflet.css``), or, when that stylesheet has not finished loading, from
  ``link[href$="leaflet.css"]`` minus the file name — without the ``/images/`` part (Leaflet issue
  #4968). In the component iframe the CSS links are appended just before the map script runs, so the
  second guess wins and the browser asks for ``…/leaflet-1.9.3marker-icon.png`` (404; seen in Chromium).
  streamlit-folium's header regex for this only fires when folium sets imagePath, which it does not.
  The wrapper therefore prefixes the map script with ``L.Icon.Default.imagePath = "<base>/app/static/
  vendor/leaflet-1.9.3/images/"`` (``icon_path_js()``), with a default maxZoom (``DEFAULT_MAX_ZOOM_JS``)
  and with the fitBounds fix described below.
  A folium HTML export needs neither: there leaflet.css is a blocking <link> in <head>.

Maps inside ``st.tabs``
-----------------------
streamlit-folium #128 / streamlit #7376 and #11344: in Chrome a component iframe in a tab other than the
first could get height 0 and stay blank. Measured here (Streamlit 1.67, streamlit-folium 0.27.4,
Chromium 156): st.tabs sends every tab's content; the iframe of an inactive tab is display:none, and
streamlit-folium draws its map right away in a **0x0** container (vector layers get a 0x0 SVG, the
cluster is not placed). When the tab is clicked the iframe gets its size, its window receives a resize
event and Leaflet's own resize handler (invalidateSize, moveend debounced 200 ms) repairs the size,
layers and clusters with the same centre — the map is *not* left blank (tests cover a map in the 2nd
and 3rd of three tabs, switched back and forth). What does *not* recover is ``m.fit_bounds(...)``:
fitBounds ran against 0x0 and the map stays at minZoom. The wrapper therefore prefixes every map
script with ``HIDDEN_FIT_BOUNDS_JS``, which replays such a fitBounds on the first resize that gives the
map a real size (tested). For pages with heavy maps Streamlit 1.67 also offers ``st.tabs([...],
key=..., on_change="rerun")`` with the map drawn only ``if tab.open:`` — then it is never drawn hidden
(pages/supervision.py and pages/stations.py build only the chosen tab this way).

Rules for map builders
----------------------
* ``offline_map(...)`` (or ``folium.Map(tiles=None, maxZoom=18, minZoom=..)`` — camelCase: folium's
  ``max_zoom=`` / ``min_zoom=`` only reach a tile layer, so with ``tiles=None`` they are silently lost;
  the wrapper's ``DEFAULT_MAX_ZOOM_JS`` then supplies maxZoom 18 so MarkerCluster still works), and
  ``components.offline.st_folium(m, key=..., height=...)`` (``streamlit_folium.st_folium`` works too
  once ``use_local_assets()`` ran).
* Popup and tooltip text is HTML in folium: pass every value from the database through ``html.escape``.
* Plugins outside ``CDN_TO_LOCAL`` (Draw, Geocoder, MiniMap, TimestampedGeoJson, …) are not vendored:
  add them to components/vendor.py and ``CDN_TO_LOCAL`` first, or their script is dropped.
* Tests: ``external_urls(m.get_root().render())`` and ``payload_external_urls(component_payload(m))``
  must be empty; tests/browser.py opens pages in Chromium and fails on any off-host request.
"""
from __future__ import annotations

import json
import logging
import mimetypes
import re
from html.parser import HTMLParser
from typing import Any, Iterable

import branca.colormap
import folium
import folium.elements
import folium.folium
import folium.plugins
from branca.element import JavascriptLink

log = logging.getLogger(__name__)

VENDOR_ROUTE = "app/static/vendor"

# Every CDN URL that folium 0.20.0 / branca 0.8.2 / streamlit-folium 0.27.4 use for the elements this
# project supports → the vendored file under static/vendor/ (see components/vendor.py).
CDN_TO_LOCAL: dict[str, str] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet-1.9.3/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet-1.9.3/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        "bootstrap-5.2.2/js/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap-5.2.2/css/bootstrap.min.css",
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css":
        "bootstrap-glyphicons-3.4.1/css/bootstrap-glyphicons.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        "fontawesome-free-6.2.0/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        "leaflet.awesome-markers-2.0.5/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        "leaflet.awesome-markers-2.0.5/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css":
        "folium-0.20.0/leaflet.awesome.rotate.min.css",
    # folium.plugins.MarkerCluster / FastMarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        "leaflet.markercluster-1.1.0/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css":
        "leaflet.markercluster-1.1.0/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        "leaflet.markercluster-1.1.0/MarkerCluster.Default.css",
    # folium.plugins.FeatureGroupSubGroup
    "https://unpkg.com/leaflet.featuregroup.subgroup@1.0.2/dist/leaflet.featuregroup.subgroup.js":
        "leaflet.featuregroup.subgroup-1.0.2/leaflet.featuregroup.subgroup.js",
    # folium.plugins.Fullscreen
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js":
        "leaflet.fullscreen-3.0.0/Control.FullScreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css":
        "leaflet.fullscreen-3.0.0/Control.FullScreen.css",
    # folium.plugins.HeatMap
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js":
        "folium-0.20.0/leaflet_heat.min.js",
    # branca colormap legends (branca's header link and streamlit-folium's hard-coded insert)
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3-3.5.5/d3.min.js",
}

# Added by streamlit-folium for every colormap next to d3 3.5.5, which then replaces window.d3: not needed.
DROPPED_LINKS = frozenset({"https://d3js.org/d3.v4.min.js"})

D3_V3 = "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js"
LEAFLET_IMAGES = "leaflet-1.9.3/images/"

_LOCAL_RE = re.compile(r"^(?:/[^?#]*?)?/" + re.escape(VENDOR_ROUTE) + r"/(?P<path>[^?#]+)$")
_state: dict[str, Any] = {"base": None}


def normalize_base(base_url_path: str | None) -> str:
    """'' for the root, else '/' + the path without surrounding slashes ('/intranet/mz')."""
    stripped = (base_url_path or "").strip().strip("/")
    return f"/{stripped}" if stripped else ""


def current_base() -> str:
    """The base in force since the last use_local_assets() call ('' before any call)."""
    return _state["base"] or ""


def local_url(url: str, base: str | None = None) -> str:
    """The vendored URL for a known CDN URL (or a vendored URL re-based); any other URL unchanged."""
    base = current_base() if base is None else normalize_base(base)
    if url in CDN_TO_LOCAL:
        return f"{base}/{VENDOR_ROUTE}/{CDN_TO_LOCAL[url]}"
    match = _LOCAL_RE.match(url)
    if match:
        return f"{base}/{VENDOR_ROUTE}/{match.group('path')}"
    return url


def _all_subclasses(cls: type) -> Iterable[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _rewrite_class_links(base: str) -> None:
    """Rewrite default_js / default_css of every JSCSSMixin class that defines its own list."""
    for cls in {folium.elements.JSCSSMixin, *_all_subclasses(folium.elements.JSCSSMixin)}:
        for attr in ("default_js", "default_css"):
            links = cls.__dict__.get(attr)
            if links:
                # A new list: folium's add_js_link mutates the list it finds, never share it.
                setattr(cls, attr, [(name, local_url(url, base)) for name, url in links])


def _patch_colormap_render() -> None:
    """branca's ColorMap.render adds a hard-coded d3 3.5.5 CDN <script> to the figure header."""
    cls = branca.colormap.ColorMap
    if getattr(cls.render, "_offline_patched", False):
        return
    original = cls.render

    def render(self, **kwargs):
        original(self, **kwargs)
        header = self.get_root().header
        if "d3" in header._children:
            header.add_child(JavascriptLink(local_url(D3_V3)), name="d3")

    render._offline_patched = True  # type: ignore[attr-defined]
    render.__wrapped__ = original  # type: ignore[attr-defined]
    cls.render = render


def localize_links(links: Iterable[str]) -> list[str]:
    """What the component iframe may load: known CDN links → vendored copies, unknown external links dropped."""
    out: list[str] = []
    for url in links:
        if url in DROPPED_LINKS:
            continue
        local = local_url(url)
        if is_external(local):
            log.warning("地图资源未本地化，已忽略（内网无法访问）：%s", url)
            continue
        if local not in out:
            out.append(local)
    return out


# folium's Map lists jQuery, Bootstrap, Font Awesome, glyphicons and Leaflet.awesome-markers for every map,
# used or not, and the component iframe loads the js_links one after another before it draws the map: each
# unused library is a request (and a parse) on the way to every map. A library stays when the map's own code
# (script, html, header) shows it is used: (vendored folder, markers of use).
OPTIONAL_LIBRARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("jquery-3.7.1/", ("$(", "jQuery")),  # folium.Popup builds its content with $(`…`)
    ("bootstrap-5.2.2/js/", ("bootstrap.",)),  # Bootstrap's JS API; bootstrap.min.css stays (it styles the map)
    ("leaflet.awesome-markers-2.0.5/", ("AwesomeMarkers",)),
    ("folium-0.20.0/leaflet.awesome.rotate", ("AwesomeMarkers",)),
    ("bootstrap-glyphicons-3.4.1/", ("glyphicon", "AwesomeMarkers")),  # awesome-markers' default icon prefix
    ("fontawesome-free-6.2.0/", ("fa-", "AwesomeMarkers")),
)


def drop_unused_libraries(links: Iterable[str], code: str) -> list[str]:
    """``links`` without the optional libraries (OPTIONAL_LIBRARIES) that ``code`` — the map's script, html and
    header — does not use."""
    unused = [folder for folder, markers in OPTIONAL_LIBRARIES if not any(m in code for m in markers)]
    return [url for url in links if not any(f"/{folder}" in url for folder in unused)]


class _OfflineComponent:
    """Wraps streamlit-folium's component function: rewrites js_links / css_links just before they are sent
    (vendored copies instead of CDN links; libraries the map does not use left out)."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, *args, **kwargs):
        code = "\n".join(str(kwargs.get(k) or "") for k in ("script", "html", "header"))
        for key in ("js_links", "css_links"):
            if key in kwargs:
                kwargs[key] = drop_unused_libraries(localize_links(kwargs[key] or []), code)
        if kwargs.get("script"):
            kwargs["script"] = icon_path_js() + DEFAULT_MAX_ZOOM_JS + HIDDEN_FIT_BOUNDS_JS + kwargs["script"]
        return self.inner(*args, **kwargs)


# folium.Map(tiles=None, max_zoom=18) passes max_zoom to the tile layer only, so a tile-less map has no
# maxZoom, and MarkerCluster then throws "Map has no maxZoom specified" before streamlit-folium sizes
# its iframe (the map stays 0 px high). Give Leaflet maps a default maxZoom; a map's own wins.
DEFAULT_MAX_ZOOM = 18
DEFAULT_MAX_ZOOM_JS = (
    "if (window.L && L.Map && L.Map.prototype.options.maxZoom === undefined) "
    f"{{ L.Map.mergeOptions({{maxZoom: {DEFAULT_MAX_ZOOM}}}); }}\n"
)

# A map drawn inside an inactive st.tabs tab starts in a 0x0 container, so folium's fit_bounds
# (map.fitBounds) computes the zoom for 0x0 and lands on minZoom. Leaflet recovers the *size* when the
# tab opens (the iframe's window gets a resize event → invalidateSize → 'resize'), but not the zoom:
# replay a fitBounds made while the map had no size once, on the first 'resize' that gives it one.
HIDDEN_FIT_BOUNDS_JS = """(function () {
  if (!window.L || !L.Map || L.Map.prototype._fitBoundsWhenShown) { return; }
  var fitBounds = L.Map.prototype.fitBounds;
  L.Map.prototype._fitBoundsWhenShown = true;
  L.Map.prototype.fitBounds = function (bounds, options) {
    var map = this, size = map.getSize();
    if (size.x === 0 || size.y === 0) {
      if (map._pendingFit) { map.off('resize', map._pendingFit); }
      map._pendingFit = function () {
        var s = map.getSize();
        if (s.x > 0 && s.y > 0) { map.off('resize', map._pendingFit); map._pendingFit = null; fitBounds.call(map, bounds, options); }
      };
      map.on('resize', map._pendingFit);
    }
    return fitBounds.apply(map, arguments);
  };
})();
"""


def icon_path_js() -> str:
    """JS that pins Leaflet's default marker icon folder to the vendored images (see module docstring)."""
    path = f"{current_base()}/{VENDOR_ROUTE}/{LEAFLET_IMAGES}"
    return f"if (window.L && L.Icon && L.Icon.Default) {{ L.Icon.Default.imagePath = {json.dumps(path)}; }}\n"


def _wrap_streamlit_folium() -> None:
    try:
        import streamlit_folium
    except ImportError:  # plain folium use (HTML export) needs no component
        return
    if not isinstance(streamlit_folium._component_func, _OfflineComponent):
        streamlit_folium._component_func = _OfflineComponent(streamlit_folium._component_func)


def _register_mime_types() -> None:
    """Streamlit serves static/ with the type from ``mimetypes`` and ``X-Content-Type-Options: nosniff``.

    On Windows ``mimetypes`` reads the registry, where ``.js`` is sometimes ``text/plain``: the browser
    would then refuse every vendored script. Pin the types the vendored files need (the map page's
    script runs in the server process before the browser asks for them).
    """
    for mime, ext in (("text/javascript", ".js"), ("text/css", ".css"), ("font/woff2", ".woff2"),
                      ("font/woff", ".woff"), ("image/svg+xml", ".svg"), ("image/png", ".png")):
        if mimetypes.guess_type(f"x{ext}")[0] != mime:
            mimetypes.add_type(mime, ext)


def use_local_assets(base_url_path: str | None = None) -> str:
    """Point every folium / branca / streamlit-folium asset URL at ``{base}/app/static/vendor/...``.

    ``base_url_path`` is Streamlit's ``server.baseUrlPath`` (read from the running config when omitted).
    Idempotent, and may be called again with another base. Returns the base in use ('' or '/a/b').
    """
    if base_url_path is None:
        try:
            from streamlit import config

            base_url_path = config.get_option("server.baseUrlPath")
        except Exception:  # noqa: BLE001 - no Streamlit config: serve from the root
            base_url_path = ""
    base = normalize_base(base_url_path)
    _state["base"] = base
    _register_mime_types()
    _rewrite_class_links(base)
    _patch_colormap_render()
    _wrap_streamlit_folium()
    return base


def offline_map(location, zoom_start: int = 13, *, min_zoom: int = 8, max_zoom: int = 18, **kwargs) -> folium.Map:
    """A ``folium.Map`` for the intranet: no tile layer, and the zoom limits set on the map itself.

    Without a tile layer Leaflet's map has no maxZoom, and MarkerCluster then throws "Map has no maxZoom
    specified" inside the component iframe, which stops streamlit-folium before it sizes its iframe:
    the map stays at height 0. Other keyword arguments go to ``folium.Map``.
    """
    use_local_assets()
    kwargs.setdefault("tiles", None)
    return folium.Map(location=location, zoom_start=zoom_start, minZoom=min_zoom, maxZoom=max_zoom, **kwargs)


def st_folium(fig, **kwargs):
    """``streamlit_folium.st_folium`` with local assets (same arguments, same return value)."""
    from streamlit_folium import st_folium as _st_folium

    use_local_assets()
    return _st_folium(fig, **kwargs)


# ---------------------------------------------------------------------------------------------- checks


class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and name in ("src", "href", "srcset", "poster", "data"):
                self.urls.append(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += _CSS_URL_RE.findall(data)


_CSS_URL_RE = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)""")
_ABS_URL_RE = re.compile(r"""\bhttps?://[^\s"'<>()\\`]+""", re.IGNORECASE)
_PROTOCOL_RELATIVE_RE = re.compile(r"""(?<=["'(=])//[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?(?:/[^\s"'<>()\\`]*)?""")
# Namespace identifiers, never fetched.
_NOT_REQUESTS = ("http://www.w3.org/", "https://www.w3.org/")


def html_urls(html: str) -> list[str]:
    """Every src / href (and url() in <style>) in an HTML document, in order."""
    parser = _LinkParser()
    parser.feed(html)
    return parser.urls


def asset_urls(m: folium.Map) -> list[str]:
    """Every src / href in the map's full HTML page (folium's own rendering, as in an HTML export)."""
    return html_urls(m.get_root().render())


def is_external(url: str) -> bool:
    """True for an absolute (http:, https:, //host) URL — anything that leaves the app's own server."""
    u = url.strip().lower()
    return u.startswith(("http://", "https://", "//", "ws://", "wss://", "ftp://"))


def external_urls(html: str) -> list[str]:
    """Every absolute URL in HTML/JS/CSS text (attributes, inline scripts, url()); namespace URIs excepted."""
    found = _ABS_URL_RE.findall(html) + _PROTOCOL_RELATIVE_RE.findall(html)
    found += [u for u in html_urls(html) if is_external(u)]
    return list(dict.fromkeys(u for u in found if not u.lower().startswith(_NOT_REQUESTS)))


def component_payload(fig, **st_folium_kwargs) -> dict:
    """The arguments ``st_folium(fig, ...)`` would send to the browser, captured without a Streamlit run.

    Goes through the same wrapper as a real run when use_local_assets() was called. Note that st_folium
    renames the map's elements, so build a fresh map for anything else.
    """
    import streamlit_folium

    captured: dict = {}

    def capture(**kwargs):
        captured.update(kwargs)
        return kwargs.get("default")

    real = streamlit_folium._component_func
    streamlit_folium._component_func = _OfflineComponent(capture) if isinstance(real, _OfflineComponent) else capture
    try:
        streamlit_folium.st_folium(fig, **st_folium_kwargs)
    finally:
        streamlit_folium._component_func = real
    return captured


def payload_external_urls(payload: dict) -> list[str]:
    """External URLs anywhere in what st_folium sends: links, header, html and the Leaflet script."""
    text = "\n".join(
        [*payload.get("js_links", []), *payload.get("css_links", [])]
        + [str(payload.get(k) or "") for k in ("header", "html", "script", "feature_group", "layer_control")]
    )
    return external_urls(text)


# ------------------------------------------------------------------------------------------ local tiles

# The bureau's local tile folder / MBTiles file is served by this app's own server at
# {base}/maptiles/<token>/{z}/{x}/{y}: the map's tile requests stay on the app's origin (an air-gapped intranet
# still shows streets). Streamlit 1.67 (Starlette) has no option for an extra route and builds its routes before
# any app code runs, so the first map with local tiles inserts one route at the front of the running app's router
# (found once through the garbage collector, as components.navigation.close_metrics_endpoint does). The route
# serves only the source published last (its token), only integer z/x/y, and never a path outside it.
TILE_ROUTE = "maptiles"
_tiles: dict[str, Any] = {"source": None, "installed": False}


def serve_tiles(path: str):
    """Publish the local tile source at `path` and make sure the route serves it: (URL template, lowest zoom,
    highest zoom), or None when the source cannot be read (the map then draws without tiles)."""
    from data.ops import tiles

    try:
        source = tiles.open_source(path)
    except tiles.TileSourceError as exc:
        log.warning("本机瓦片不可用：%s", exc)
        return None
    use_local_assets()  # the base path in force
    _tiles["source"] = source
    install_tile_route()
    return f"{current_base()}/{TILE_ROUTE}/{source.token}/{{z}}/{{x}}/{{y}}", source.min_zoom, source.max_zoom


def tile_response(token: str, z: int, x: int, y: int):
    """(bytes, content type) of a tile of the published source, or None (unknown token or no such tile)."""
    from data.ops import tiles

    source = _tiles["source"]
    if source is None or token != source.token:
        return None
    data = source.tile(z, x, y)
    return (data, tiles.content_type(data)) if data else None


def install_tile_route() -> int:
    """Insert the tile route into the running Starlette app(s) once per process; how many were patched (0 in
    AppTest or when already installed)."""
    if _tiles["installed"]:
        return 0
    _tiles["installed"] = True
    import gc

    try:
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route
    except ImportError:
        return 0

    def endpoint(request):
        p = request.path_params
        hit = tile_response(p["token"], p["z"], p["x"], p["y"])
        if hit is None:
            return Response(status_code=404)
        return Response(hit[0], media_type=hit[1], headers={"Cache-Control": "public, max-age=86400",
                                                              "X-Content-Type-Options": "nosniff"})

    path = f"{current_base()}/{TILE_ROUTE}/{{token:str}}/{{z:int}}/{{x:int}}/{{y:int}}"
    patched = 0
    for obj in gc.get_objects():
        if isinstance(obj, Starlette):
            obj.router.routes.insert(0, Route(path, endpoint, methods=["GET"]))
            patched += 1
    return patched
