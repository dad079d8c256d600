"""Maps make no request outside the app's own server: vendored assets, folium rewiring, and Chromium proof."""
from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import branca.colormap as cm
import folium
import folium.plugins
import pytest

from browser import MAP_IFRAME, wait_for_map
from components import offline, vendor


ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
APP = "tests/apps/offline_map_app.py"
XSS_NAME = "<img src=x onerror=alert(1)>"
BASES = ["", "intranet/mz"]


@pytest.fixture(autouse=True)
def _root_base():
    """Every test starts and ends with assets served from the root, whatever it set in between."""
    offline.use_local_assets("")
    yield
    offline.use_local_assets("")


def vendored_file(url: str, base: str) -> Path:
    prefix = f"{offline.normalize_base(base)}/app/static/vendor/"
    assert url.startswith(prefix), f"{url} is not under {prefix}"
    return VENDOR / url[len(prefix):]


def sample_map() -> folium.Map:
    """MarkerCluster, awesome-marker icons, a GeoJson layer, a branca legend, LayerControl, a popup."""
    m = folium.Map(location=[28.662, 115.892], zoom_start=14, tiles=None, maxZoom=18)
    colormap = cm.LinearColormap(["#fff5eb", "#d94801"], vmin=0, vmax=50, caption="每千名老人养老床位数")
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {"name": "桃花街道", "beds": 38.5},
            "geometry": {"type": "Polygon", "coordinates": [[[115.87, 28.65], [115.9, 28.65], [115.9, 28.67],
                                                             [115.87, 28.65]]]},
        }]},
        style_function=lambda f: {"fillColor": colormap(f["properties"]["beds"])},
        tooltip=folium.GeoJsonTooltip(fields=["name"]),
    ).add_to(m)
    colormap.add_to(m)
    cluster = folium.plugins.MarkerCluster().add_to(m)
    for i in range(3):
        folium.Marker([28.66 + i / 1000, 115.88], icon=folium.Icon(icon="house", prefix="fa")).add_to(cluster)
    folium.Marker([28.666, 115.906], icon=folium.Icon(color="red", icon="home"),
                  popup=folium.Popup(html.escape(XSS_NAME))).add_to(m)
    folium.LayerControl().add_to(m)
    return m


# ------------------------------------------------------------------------------------ vendored files


def test_vendor_folder_matches_manifest():
    assert vendor.check() == []


def test_vendor_folder_is_small():
    total = sum(p.stat().st_size for p in VENDOR.rglob("*") if p.is_file())
    assert total < 3 * 1024 * 1024, f"static/vendor is {total} bytes"


def test_every_vendored_package_has_its_licence():
    for pkg in vendor.PACKAGES:
        licences = [t for t in pkg.files.values() if "LICEN" in t.upper()]
        assert licences and all((VENDOR / pkg.dest / t).is_file() for t in licences), pkg.name
        assert pkg.name in (VENDOR / "README.md").read_text(encoding="utf-8")


def test_every_cdn_url_maps_to_a_vendored_file():
    for cdn, local in offline.CDN_TO_LOCAL.items():
        assert (VENDOR / local).is_file(), f"{cdn} → {local} missing"


def test_urls_inside_vendored_css_exist():
    omitted = {(pkg.dest, o) for pkg in vendor.PACKAGES for o in pkg.omitted}
    for css in VENDOR.rglob("*.css"):
        pkg_dir = css.relative_to(VENDOR).parts[0]
        for ref in re.findall(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""", css.read_text(encoding="utf-8")):
            if ref.startswith(("data:", "#")):
                continue
            assert not offline.is_external(ref), f"{css}: {ref}"
            if (pkg_dir, ref) in omitted:
                continue
            target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), f"{css.relative_to(VENDOR)} references missing {ref}"


# ------------------------------------------------------------------------------------ folium rewiring


def test_normalize_base():
    assert offline.normalize_base("") == ""
    assert offline.normalize_base(None) == ""
    assert offline.normalize_base("/") == ""
    assert offline.normalize_base("intranet/mz") == "/intranet/mz"
    assert offline.normalize_base("/intranet/mz/") == "/intranet/mz"


@pytest.mark.parametrize(
    "cls",
    [folium.Map, folium.plugins.MarkerCluster, folium.plugins.FastMarkerCluster, folium.plugins.Fullscreen,
     folium.plugins.FeatureGroupSubGroup, folium.plugins.HeatMap],
    ids=lambda c: c.__name__,
)
@pytest.mark.parametrize("base", BASES)
def test_supported_classes_point_at_vendored_files(cls, base):
    offline.use_local_assets(base)
    links = [url for _, url in cls.default_js + cls.default_css]
    assert links
    for url in links:
        assert vendored_file(url, base).is_file(), url


@pytest.mark.parametrize("base", BASES)
def test_map_html_has_no_external_url(base):
    offline.use_local_assets(base)
    m = sample_map()
    page = m.get_root().render()
    assert offline.external_urls(page) == []
    urls = offline.asset_urls(m)
    assert any(u.endswith("leaflet-1.9.3/leaflet.js") for u in urls)
    assert any(u.endswith("d3-3.5.5/d3.min.js") for u in urls)  # branca's legend, via the patched render
    assert any(u.endswith("MarkerCluster.Default.css") for u in urls)
    for url in urls:
        assert vendored_file(url, base).is_file(), url


@pytest.mark.parametrize("base", BASES)
def test_streamlit_folium_payload_has_no_external_url(base):
    offline.use_local_assets(base)
    payload = offline.component_payload(sample_map(), height=400, returned_objects=[])
    assert offline.payload_external_urls(payload) == []
    assert offline.HIDDEN_FIT_BOUNDS_JS in payload["script"] and offline.DEFAULT_MAX_ZOOM_JS in payload["script"]
    links = payload["js_links"] + payload["css_links"]
    for url in links:
        assert vendored_file(url, base).is_file(), url
    assert len(links) == len(set(links))
    # streamlit-folium's hard-coded d3 links for colormaps: v3 served locally, v4 dropped.
    assert sum("d3" in u for u in payload["js_links"]) == 1
    assert payload["script"].startswith("if (window.L && L.Icon && L.Icon.Default) { L.Icon.Default.imagePath = ")
    assert json.dumps(f"{offline.normalize_base(base)}/app/static/vendor/leaflet-1.9.3/images/") in payload["script"]


def _loaded(payload) -> str:
    return "\n".join(payload["js_links"] + payload["css_links"])


def test_a_map_loads_only_the_libraries_it_uses():
    offline.use_local_assets("")
    plain = folium.Map(location=[28.662, 115.892], zoom_start=14, tiles=None)
    folium.CircleMarker([28.66, 115.88], radius=5, tooltip="桃花街道助餐点").add_to(plain)
    links = _loaded(offline.component_payload(plain, height=400, returned_objects=[]))
    assert "leaflet-1.9.3/leaflet.js" in links and "leaflet-1.9.3/leaflet.css" in links
    for unused in ("jquery", "bootstrap-5.2.2/js/", "awesome-markers", "awesome.rotate", "glyphicons", "fontawesome"):
        assert unused not in links, unused
    assert "bootstrap-5.2.2/css/bootstrap.min.css" in links  # it styles the map's controls: kept

    # the sample map has a folium.Popup ($(`…`)) and awesome-marker icons: everything they need is still loaded
    links = _loaded(offline.component_payload(sample_map(), height=400, returned_objects=[]))
    for used in ("jquery-3.7.1/jquery.min.js", "leaflet.awesome-markers.js", "leaflet.awesome-markers.css",
                 "fontawesome-free-6.2.0/css/all.min.css", "bootstrap-glyphicons.css", "leaflet.markercluster"):
        assert used in links, used


def test_use_local_assets_is_idempotent_and_rebases():
    offline.use_local_assets("intranet/mz")
    first = list(folium.Map.default_js)
    offline.use_local_assets("/intranet/mz/")
    assert folium.Map.default_js == first
    assert cm.ColorMap.render.__wrapped__.__qualname__ == "ColorMap.render"  # wrapped once, not twice
    offline.use_local_assets("other")
    assert all(url.startswith("/other/app/static/vendor/") for _, url in folium.Map.default_js)
    offline.use_local_assets("")
    assert all(url.startswith("/app/static/vendor/") for _, url in folium.Map.default_js)


def test_unknown_external_links_are_dropped_with_a_warning(caplog):
    leaflet = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
    with caplog.at_level(logging.WARNING, logger="components.offline"):
        links = offline.localize_links([leaflet, "https://example.org/plugin.js", leaflet, "https://d3js.org/d3.v4.min.js"])
    assert links == ["/app/static/vendor/leaflet-1.9.3/leaflet.js"]
    assert "example.org/plugin.js" in caplog.text


def test_external_urls_finds_what_would_leave_the_server():
    with_tiles = folium.Map(location=[28.66, 115.89], tiles="OpenStreetMap")
    assert any("tile.openstreetmap.org" in u for u in offline.external_urls(with_tiles.get_root().render()))
    snippet = (
        '<script src="//cdn.example.com/x.js"></script><div style="background:url(https://img.example.com/a.png)">'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg><script>// a comment, not a URL\n</script>'
    )
    assert offline.external_urls(snippet) == ["https://img.example.com/a.png", "//cdn.example.com/x.js"]


# ------------------------------------------------------------------------------------------ Chromium


@pytest.fixture(params=BASES, ids=["root", "baseUrlPath"])
def offline_app(request, app_server):
    """(page URL, base path) of the demo app, served once plain and once under --server.baseUrlPath."""
    url = app_server(APP, base_url_path=request.param or None)
    return url, offline.normalize_base(request.param)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_map_is_drawn_from_the_apps_own_server(offline_app, open_probe):
    url, base = offline_app
    with open_probe(url + "/") as probe:
        page = probe.page
        frame = probe.wait_for_map(min_features=4)
        assert frame.locator(".awesome-marker").count() >= 3
        assert frame.locator(".marker-cluster").count() >= 1
        assert frame.locator("img.leaflet-marker-icon[src*='marker-icon']").count() == 1
        assert frame.locator(".leaflet-control-layers").is_visible()
        legend = frame.locator(".legend svg")
        legend.wait_for(state="visible")
        assert "每千名老人养老床位数" in legend.text_content()
        assert frame.locator("path.leaflet-interactive").count() >= 2  # GeoJson polygons + CircleMarker

        # Images and fonts really came from the vendored files under this base path.
        frame.wait_for_function("() => document.fonts.status === 'loaded'")
        loaded = frame.evaluate(
            """() => ({
                defaultIcon: document.querySelector("img.leaflet-marker-icon[src*='marker-icon']").naturalWidth,
                fa: document.fonts.check('900 16px "Font Awesome 6 Free"'),
                glyph: document.fonts.check('16px "Glyphicons Halflings"'),
                resources: performance.getEntriesByType('resource').map(e => e.name),
            })"""
        )
        assert loaded["defaultIcon"] > 0
        assert loaded["fa"] and loaded["glyph"]
        origin = url[: len(url) - len(base)] if base else url
        assert f"{origin}{base}/app/static/vendor/leaflet-1.9.3/leaflet.js" in loaded["resources"]

        # The facility with a hostile name: the popup shows it as text, nothing runs.
        red = frame.locator(".awesome-marker-icon-red")
        red.hover()
        tooltip = frame.locator(".leaflet-tooltip")
        tooltip.wait_for(state="visible")
        assert tooltip.inner_text().strip() == XSS_NAME
        red.click()
        popup = frame.locator(".leaflet-popup-content")
        popup.wait_for(state="visible")
        assert popup.inner_text().strip() == "机构名称：" + XSS_NAME
        assert popup.locator("b").inner_text() == "机构名称："  # the app's own markup still renders
        assert frame.locator(".leaflet-popup-content img, .leaflet-tooltip img").count() == 0

        # The cluster opens (MarkerCluster's script works): zooming in shows its six markers.
        frame.locator(".marker-cluster").first.click()
        frame.wait_for_function("() => document.querySelectorAll('.awesome-marker').length >= 8")

        page.wait_for_timeout(500)  # let late requests (fonts, images) show up before judging
        result = probe.result()
    assert result.external_requests == []
    assert result.dialogs == []
    assert result.problems == []
    assert "离线地图测试" in result.text


_LAYOUT_JS = """() => {
  const c = document.querySelector('.leaflet-container').getBoundingClientRect();
  const within = (el) => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom; };
  return {
    size: [c.width, c.height],
    markers: [...document.querySelectorAll('.awesome-marker')].filter(within).length,
    clusters: [...document.querySelectorAll('.marker-cluster')].filter(within).length,
    paths: [...document.querySelectorAll('path.leaflet-interactive')].filter(within).length,
    zoom: window.map.getZoom(),
  };
}"""


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_maps_in_hidden_tabs_are_drawn_when_their_tab_opens(app_server, open_probe):
    """streamlit-folium #128 / streamlit #7376, #11344: maps in inactive st.tabs tabs going blank in Chrome."""
    url = app_server(APP)
    with open_probe(url + "/?view=tabs") as probe:
        page = probe.page
        iframes = page.locator(MAP_IFRAME)
        assert iframes.count() == 2
        assert iframes.nth(0).bounding_box() is None and iframes.nth(1).bounding_box() is None  # both hidden
        for i in range(2):  # as when a user reads the first tab a while: both maps get drawn while hidden
            frame = iframes.nth(i).element_handle().content_frame()
            frame.wait_for_function("() => window.map && window.map.getSize().x === 0")
        for tab, index, height in (("第二张地图", 1, 380), ("地图", 0, 460), ("第二张地图", 1, 380)):
            page.get_by_role("tab", name=tab, exact=True).click()
            frame = probe.wait_for_map(index=index, min_features=4)
            box = iframes.nth(index).bounding_box()
            assert box and box["height"] >= height - 5 and box["width"] >= 400, (tab, box)
            layout = frame.evaluate(_LAYOUT_JS)
            # Leaflet measured the visible container: polygons, circle, cluster and markers all on the map.
            assert layout["size"][0] >= 400 and layout["size"][1] >= height - 5, (tab, layout)
            assert layout["paths"] >= 3 and layout["clusters"] >= 1 and layout["markers"] >= 2, (tab, layout)
            # Fixed zoom 14 in "地图"; fit_bounds in "第二张地图" must frame the districts (13–14 at this
            # size), not stay at the minZoom it computes for the 0x0 hidden container.
            assert layout["zoom"] >= 13, (tab, layout)
        result = probe.result()
    assert result.problems == []


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_plain_folium_and_streamlit_folium_after_use_local_assets(app_server, page_probe):
    """No offline_map(), no wrapper import: folium.Map(tiles=None, max_zoom=18) + MarkerCluster + StepColormap."""
    url = app_server(APP, base_url_path="intranet/mz")

    def check(page):
        frame = wait_for_map(page, min_features=1)
        frame.locator(".marker-cluster").first.wait_for(state="visible")
        assert "待办件数" in frame.locator(".legend svg").text_content()

    result = page_probe(url + "/?view=plain", action=check)
    assert result.ok, result.problems
    assert "离线地图测试" in result.text and "地图加载完毕" in result.text


# ------------------------------------------------------------------------------------------ local tiles

def _png(rgb: tuple[int, int, int]) -> bytes:
    """A 256×256 PNG of one colour (written by hand: no imaging library needed)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * 256
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * 256)) + chunk(b"IEND", b""))


def _tile_range(z: int, west: float, south: float, east: float, north: float):
    import math

    def xy(lon, lat):
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return x, y

    (x0, y0), (x1, y1) = xy(west, north), xy(east, south)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


TILE_ZOOMS = range(5, 14)          # the map asks for z ≤ 13 and scales them up beyond (maxNativeZoom)
TILE_BOX = (115.55, 28.35, 116.25, 28.95)   # the test district ± a viewport or two


def make_tile_folder(root: Path) -> Path:
    tile = _png((200, 220, 240))
    for z in TILE_ZOOMS:
        for x, y in _tile_range(z, *TILE_BOX):
            p = root / str(z) / str(x) / f"{y}.png"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(tile)
    return root


def make_mbtiles(path: Path) -> Path:
    import sqlite3

    tile = _png((240, 220, 200))
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                         [(z, x, 2 ** z - 1 - y, tile) for z in TILE_ZOOMS for x, y in _tile_range(z, *TILE_BOX)])
    return path


def test_local_tile_sources_are_checked_and_read(tmp_path):
    from data.ops import tiles

    folder = tiles.open_source(str(make_tile_folder(tmp_path / "xyz")))
    assert (folder.kind, folder.min_zoom, folder.max_zoom) == ("folder", 5, 13)
    x, y = _tile_range(13, *TILE_BOX)[0]
    assert tiles.content_type(folder.tile(13, x, y)) == "image/png"
    assert folder.tile(13, 0, 0) is None and folder.tile(40, 1, 1) is None and folder.tile(3, -1, 0) is None
    mb = tiles.open_source(str(make_mbtiles(tmp_path / "xihu.mbtiles")))
    assert (mb.kind, mb.max_zoom) == ("mbtiles", 13) and mb.tile(13, x, y) == _png((240, 220, 200))
    assert mb.token != folder.token
    for bad, reason in [("", "请填写"), ("relative/dir", "完整路径"), (str(tmp_path / "nope"), "找不到"),
                        (str(tmp_path), "没有找到瓦片"), (str(tmp_path / "xyz" / "5" / "__init__.txt"), "找不到")]:
        with pytest.raises(tiles.TileSourceError, match=reason):
            tiles.open_source(bad)
    (tmp_path / "x.mbtiles").write_bytes(b"not sqlite at all")
    with pytest.raises(tiles.TileSourceError, match="无法读取"):
        tiles.open_source(str(tmp_path / "x.mbtiles"))


@pytest.mark.parametrize("url, ok", [
    ("http://10.0.0.8/tiles/{z}/{x}/{y}.png", True),
    ("https://gis.xihu.gov/wmts?LAYER=vec&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}", True),
    ("http://10.0.0.8/tms/{z}/{x}/{-y}.png", True),
    ("ftp://10.0.0.8/{z}/{x}/{y}.png", False),
    ("/tiles/{z}/{x}/{y}.png", False),
    ("http://10.0.0.8/tiles/{z}/{x}.png", False),
    ("http://{s}.tiles.local/{z}/{x}/{y}.png", False),
    ("http://10.0.0.8/{z}/{x}/{y}.png?a=\"><script>", False),
])
def test_tile_url_template_is_validated(url, ok):
    from data.ops import tiles

    if ok:
        assert tiles.check_url_template(f" {url} ") == url
    else:
        with pytest.raises(tiles.TileSourceError):
            tiles.check_url_template(url)


def test_local_basemap_map_asks_the_apps_own_route(tmp_path):
    from components import maps

    folder = make_tile_folder(tmp_path / "xyz")
    m = maps.base_map(maps.Basemap("local", tile_path=str(folder)), [[28.65, 115.87], [28.672, 115.895]])
    html_text = m.get_root().render()
    assert "/maptiles/" in html_text and offline.external_urls(html_text) == []
    token = offline._tiles["source"].token
    x, y = _tile_range(13, *TILE_BOX)[0]
    data, kind = offline.tile_response(token, 13, x, y)
    assert kind == "image/png" and data.startswith(b"\x89PNG")
    assert offline.tile_response("0" * 12, 13, x, y) is None   # an old or guessed token serves nothing
    custom = maps.base_map(maps.Basemap("custom", tile_url="http://10.0.0.8/t/{z}/{x}/{y}.png", tile_datum="gcj02"))
    assert "http://10.0.0.8/t/{z}/{x}/{y}.png" in custom.get_root().render()
    assert maps.Basemap("custom", tile_datum="gcj02").gcj02 and not maps.Basemap("local").gcj02


@pytest.fixture(params=[("folder", ""), ("mbtiles", "intranet/mz")], ids=["folder-root", "mbtiles-baseUrlPath"])
def tiles_app(request, app_server, tmp_path_factory):
    kind, base = request.param
    tmp = tmp_path_factory.mktemp("tiles")
    source = make_tile_folder(tmp / "xyz") if kind == "folder" else make_mbtiles(tmp / "xihu.mbtiles")
    url = app_server("tests/apps/local_tiles_app.py", base_url_path=base or None, env={"MZ_TEST_TILES": str(source)})
    return url, offline.normalize_base(base)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_local_tiles_come_from_the_apps_own_server(tiles_app, open_probe):
    url, base = tiles_app
    with open_probe(url + "/") as probe:
        frame = probe.wait_for_map(min_features=1)
        frame.wait_for_function("() => [...document.querySelectorAll('img.leaflet-tile-loaded')].length >= 4")
        probe.page.wait_for_timeout(800)  # late tiles
        seen = frame.evaluate("""() => ({
            tiles: [...document.querySelectorAll('img.leaflet-tile')].map(i => [i.src, i.naturalWidth]),
            attribution: document.querySelector('.leaflet-control-attribution').innerText,
            flag: document.querySelectorAll('.leaflet-control-attribution svg, .leaflet-attribution-flag').length,
            scale: [...document.querySelectorAll('.leaflet-control-scale-line')].map(e => e.innerText),
            layers: document.querySelector('.leaflet-control-layers').className,
        })""")
        result = probe.result()
    origin = url[: len(url) - len(base)] if base else url
    assert seen["tiles"] and all(src.startswith(f"{origin}{base}/maptiles/") and w == 256 for src, w in seen["tiles"])
    assert "本机瓦片" in seen["attribution"] and "民政业务台账" in seen["attribution"]
    assert "Leaflet" not in seen["attribution"] and seen["flag"] == 0
    assert len(seen["scale"]) == 1 and re.search(r"\d+\s*(m|km)$", seen["scale"][0])
    assert "leaflet-control-layers-expanded" not in seen["layers"]
    assert result.external_requests == []
    assert result.problems == []
    assert "本机瓦片测试" in result.text
