"""Pure map builders: render folium to HTML and read the Leaflet script — no browser, no Streamlit."""
import json
import re

import pandas as pd
import pytest
from shapely.geometry import shape

from components import maps
from components.maps import elements as el
from components.maps import layers as map_layers
from data.db.models import FACILITY_KINDS, FACILITY_STATUSES
from geo import gcj02, layers

XSS = "<img src=x onerror=alert(1)>"
JS_PROBE = "${alert(2)}`\\u0041"


@pytest.fixture(scope="module")
def boundaries():
    sub = layers.subdistricts_gdf()
    return pd.DataFrame({"code": sub["code"], "name": sub["name"],
                         "boundary_geojson": [json.dumps(g.__geo_interface__) for g in sub.geometry],
                         "boundary_official": False})


@pytest.fixture(scope="module")
def outline():
    return layers.district_outline().__geo_interface__


@pytest.fixture(scope="module")
def communities():
    return layers.communities_df()


def facility_frame(communities, n=60, names=None):
    kinds = list(maps.KIND_STYLES)
    statuses = ["operating"] * 6 + ["building", "planned"]
    rows = []
    for i in range(n):
        c = communities.iloc[i % len(communities)]
        kind, status = kinds[i % len(kinds)], statuses[i % len(statuses)]
        rows.append({"id": i + 1, "code": f"F{i:04d}", "name": (names or {}).get(i, f"设施{i}"), "kind": kind,
                     "kind_name": FACILITY_KINDS[kind], "status": status, "status_name": FACILITY_STATUSES[status],
                     "subdistrict_code": c["subdistrict_code"], "operator": "西湖区某养老服务公司",
                     "capacity": 40, "opened_on": "2023-05-01", "address": "西湖区某路 1 号",
                     "lon": c["lon"] + 0.0005, "lat": c["lat"]})
    return pd.DataFrame(rows)


def html_of(m) -> str:
    """The rendered page, with the \\uXXXX escapes of folium's JSON turned back into characters."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g[1], 16)), m.get_root().render())


def elements(m, cls):
    found = []

    def walk(e):
        if isinstance(e, cls):
            found.append(e)
        for child in e._children.values():
            walk(child)
    walk(m)
    return found


def test_facilities_map_draws_every_kind_with_legend_and_layer_control(boundaries, outline, communities):
    fac = facility_frame(communities)
    m = maps.facilities_map(fac, boundaries, outline=outline, communities=communities)
    html = html_of(m)
    points = elements(m, el.FacilityPoints)
    assert sum(len(p.rows) for p in points) == len(fac)
    assert len(points) == len(maps.KIND_STYLES)  # one layer per kind, for the layer control
    assert "L.control.layers" in html
    for kind, (icon, colour, hex_colour) in maps.KIND_STYLES.items():
        assert f'"icon":"{icon}","markerColor":"{colour}"' in html
        assert FACILITY_KINDS[kind] in html
    legend = [c for c in elements(m, el.Control) if c.css_class == "mz-legend"]
    assert legend and "设施类型" in json.loads(legend[0].html_json) and "规划中" in json.loads(legend[0].html_json)
    assert "mz-legend" in html and ".mz-legend" in html  # the box and its CSS (no external sheet)


def test_planned_and_building_are_drawn_differently(communities, boundaries):
    fac = facility_frame(communities, n=8)
    m = maps.facilities_map(fac, boundaries)
    rows = {r[3].split("<br>")[0]: r for p in elements(m, el.FacilityPoints) for r in p.rows}
    by_status = {s: [r for r in rows.values() if r[2] == maps.STATUS_ORDER.index(s)] for s in ("operating", "building", "planned")}
    assert all(by_status.values())
    styles = map_layers.status_styles("#f69730", "utensils", "orange")
    assert styles[0]["icon"]["markerColor"] == "orange"
    assert styles[1]["icon"]["markerColor"] == "white"            # building: white marker, kind-coloured icon
    assert "circle" in styles[2] and styles[2]["circle"]["dashArray"]  # planned: dashed hollow ring


def test_subdistricts_are_labelled_schematic_until_official(boundaries, outline):
    m = maps.facilities_map(facility_frame(layers.communities_df(), 3), boundaries, outline=outline)
    html = html_of(m)
    assert maps.SCHEMATIC_NOTE in json.loads(
        [c for c in elements(m, el.Control) if c.css_class == "mz-note"][0].html_json)
    labels = elements(m, el.Labels)[0]
    assert len(labels.rows) == 10 and "南浦街道" in html
    assert html.count('"type":"Feature"') == 11  # 10 subdistricts + outline

    official = boundaries.assign(boundary_official=True)
    m2 = maps.facilities_map(facility_frame(layers.communities_df(), 3), official, outline=outline)
    notes = [json.loads(c.html_json) for c in elements(m2, el.Control) if c.css_class == "mz-note"]
    assert notes == [maps.OFFICIAL_NOTE]
    assert "示意边界" not in html_of(m2)


def test_community_points_appear_only_on_zoom(boundaries, communities):
    m = maps.facilities_map(facility_frame(communities, 3), boundaries, communities=communities)
    layer = elements(m, el.CirclePoints)[0]
    assert len(layer.rows) == len(communities) and layer.min_zoom == maps.COMMUNITY_MIN_ZOOM
    assert "m.on('zoomend',upd)" in html_of(m)


def test_every_text_is_escaped(boundaries, communities):
    fac = facility_frame(communities, 6, names={0: XSS, 1: JS_PROBE, 4: "{{ 7*7 }}乙{% if 1 %}丙{% endif %}"})
    fac.loc[2, "address"] = "<script>alert(3)</script>"
    fac.loc[3, "operator"] = '"><svg onload=alert(4)>'
    bad = boundaries.copy()
    bad.loc[0, "name"] = "<b onmouseover=alert(5)>南浦</b>"
    comms = communities.head(5).copy()
    comms.loc[comms.index[0], "short_name"] = XSS
    html = html_of(maps.facilities_map(fac, bad, communities=comms))
    for raw in ("<img src=x", "<script>alert(3)", "<svg onload", "<b onmouseover", "${alert", "`\\u0041"):
        assert raw not in html, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&#36;&#123;alert(2)&#125;&#96;&#92;u0041" in html
    # branca compiles rendered scripts as Jinja templates on the server: a name must never be evaluated
    assert "49乙" not in html and "乙丙" not in html and "&#123;&#123; 7*7 &#125;&#125;乙" in html
    assert maps.esc(None) == "" and maps.esc(float("nan")) == ""


def test_coverage_map_colours_subdistricts_with_value_on_hover(boundaries, outline, communities):
    cov = pd.DataFrame({"code": boundaries["code"], "communities": 10,
                        "covered": [0, 2, 4, 5, 6, 7, 8, 9, 10, 3], "meal_points": 4})
    m = maps.coverage_map(boundaries, cov, outline=outline)
    html = html_of(m)
    polygons = [e for e in elements(m, el.Polygons) if len(e.features) == 10][0]
    tips = {fid: tip for fid, _, tip, _ in polygons.features}
    assert "助餐覆盖率 60.0%（6/10 个社区）" in tips[boundaries["code"][4]]
    assert "运营助餐点 4 个" in tips[boundaries["code"][4]]
    for colour in maps.COVERAGE_COLOURS:
        assert colour in html  # every class is used by some subdistrict and shown in the legend
    legend = json.loads([c for c in elements(m, el.Control) if c.css_class == "mz-legend"][0].html_json)
    assert "社区助餐覆盖率" in legend and "65%" in legend
    assert "d3js.org" not in html  # no branca colormap, so streamlit-folium adds no d3 CDN


@pytest.mark.parametrize("rate,expected", [(0.0, 0), (0.29, 0), (0.3, 1), (0.57, 2), (0.65, 3), (0.79, 3),
                                           (0.8, 4), (1.0, 4), (None, None), (float("nan"), None)])
def test_coverage_classes(rate, expected):
    assert maps.coverage_bin(rate) == expected


def test_drill_down_shows_covered_and_uncovered_communities_and_rings(boundaries, communities):
    code = boundaries["code"][0]
    comms = communities[communities["subdistrict_code"] == code].assign(covered=lambda d: [i % 2 == 0 for i in range(len(d))],
                                                                        pop_60=100, pop_80=10)
    points = facility_frame(communities, 3).assign(kind="meal_point", kind_name="社区助餐点")
    cov = pd.DataFrame({"code": [code], "communities": [len(comms)], "covered": [int(comms["covered"].sum())]})
    m = maps.coverage_map(boundaries, cov, communities=comms, meal_points=points, radius_m=500, selected=code)
    pts = elements(m, el.CirclePoints)[0]
    assert pts.min_zoom == 0 and {r[2] for r in pts.rows} == {0, 1}
    assert any("未覆盖" in r[3] for r in pts.rows) and any("已覆盖" in r[3] for r in pts.rows)
    rings = elements(m, el.Rings)[0]
    assert len(rings.rows) == 3 and json.loads(rings.style_json)["radius"] == 500
    assert "步行圈（500 米）" in html_of(m)


def test_gaode_basemap_shifts_points_and_polygons_to_gcj02(boundaries, outline, communities):
    fac = facility_frame(communities, 1)
    plain = maps.facilities_map(fac, boundaries, outline=outline)
    gaode = maps.facilities_map(fac, boundaries, outline=outline, basemap=maps.Basemap("gaode"))
    (lat0, lng0) = elements(plain, el.FacilityPoints)[0].rows[0][:2]
    (lat1, lng1) = elements(gaode, el.FacilityPoints)[0].rows[0][:2]
    exp_lng, exp_lat = gcj02.wgs84_to_gcj02(fac["lon"][0], fac["lat"][0])
    assert (lat1, lng1) == pytest.approx((exp_lat, exp_lng), abs=2e-6)
    assert 0.004 < lng1 - lng0 < 0.007 and -0.004 < lat1 - lat0 < -0.001  # ≈ 600 m to the south-east
    poly0 = json.loads(elements(plain, el.Polygons)[0].features[0][3])
    poly1 = json.loads(elements(gaode, el.Polygons)[0].features[0][3])
    assert shape(poly1).centroid.x - shape(poly0).centroid.x == pytest.approx(lng1 - lng0, abs=3e-4)
    outline0, outline1 = (json.loads(elements(x, el.Polygons)[-1].features[0][3]) for x in (plain, gaode))
    assert shape(outline1).centroid.y - shape(outline0).centroid.y == pytest.approx(lat1 - lat0, abs=3e-4)
    html = html_of(gaode)
    assert "webrd0{s}.is.autonavi.com" in html and "高德地图" in html


def test_no_tiles_by_default_and_tianditu_with_key(boundaries):
    fac = facility_frame(layers.communities_df(), 2)
    assert "L.tileLayer" not in html_of(maps.facilities_map(fac, boundaries))
    html = html_of(maps.facilities_map(fac, boundaries, basemap=maps.Basemap("tianditu", "abc123def456abc123")))
    assert "tianditu.gov.cn/vec_w" in html and "tianditu.gov.cn/cva_w" in html and "tk=abc123def456abc123" in html


def test_province_scale_uses_aggregates(boundaries):
    agg = pd.DataFrame({"code": boundaries["code"], "name": boundaries["name"], "lon": 115.87, "lat": 28.65,
                        "n": range(10)})
    m = maps.facilities_map(facility_frame(layers.communities_df(), 0), boundaries, aggregates=agg)
    bubbles = elements(m, el.Bubbles)[0]
    assert len(bubbles.rows) == 9  # the subdistrict with none is left out
    assert bubbles.rows[-1][4].startswith("<b>九洲街道</b>")
    too_many = pd.DataFrame({"name": ["x"] * (maps.MAX_POINTS + 1), "kind": "meal_point", "lon": 115.9, "lat": 28.6})
    with pytest.raises(ValueError):
        maps.facility_layers(too_many)


def test_province_scale_merges_bubbles_and_defers_labels(boundaries):
    many = pd.concat([boundaries.assign(code=boundaries["code"] + f"-{k}", name=boundaries["name"] + f"{k}")
                      for k in range(8)], ignore_index=True)
    counts = pd.DataFrame({"code": many["code"], "name": many["name"], "lon": 115.87, "lat": 28.65,
                           "kind": "meal_point", "n": 3})
    m = maps.facilities_map(facility_frame(layers.communities_df(), 0), many, aggregates=counts)
    html = html_of(m)
    assert "L.markerClusterGroup" in html and "getAllChildMarkers" in html  # merged bubbles sum their counts
    assert elements(m, el.Bubbles)[0].rows[0][4].endswith("社区助餐点 3")
    labels = elements(m, el.Labels)[0]
    assert len(labels.rows) == 80 and labels.min_zoom == maps.LABEL_MIN_ZOOM
    assert elements(maps.facilities_map(facility_frame(layers.communities_df(), 0), boundaries), el.Labels)[0].min_zoom == 0


def test_big_kinds_are_clustered(boundaries):
    comms = layers.communities_df()
    fac = pd.concat([facility_frame(comms, 172)] * 3, ignore_index=True).assign(kind="meal_point")
    m = maps.facilities_map(fac, boundaries)
    html = html_of(m)
    assert "L.markerClusterGroup" in html and "disableClusteringAtZoom" in html


def test_a_district_of_facilities_clusters_across_kinds(boundaries):
    """~80 facilities (the demo district) at district zoom: one cluster shared by every kind, each kind a sub-group
    in the layer control; a handful of facilities stay plain markers."""
    comms = layers.communities_df()
    fac = facility_frame(comms, 81)
    html = html_of(maps.facilities_map(fac, boundaries))
    assert html.count("L.markerClusterGroup(") == 1 and "disableClusteringAtZoom" in html
    assert html.count("L.featureGroup.subGroup(") == fac["kind"].nunique()
    few = html_of(maps.facilities_map(facility_frame(comms, 12), boundaries))
    assert "L.markerClusterGroup(" not in few and "subGroup(" not in few


def test_district_map_payload_is_small_and_local(boundaries, outline, communities):
    from components.offline import component_payload, payload_external_urls, use_local_assets

    use_local_assets("")
    fac = facility_frame(communities, 320)
    m = maps.facilities_map(fac, boundaries, outline=outline, communities=communities)
    payload = component_payload(m, key="t", height=500, returned_objects=["last_object_clicked"])
    size = sum(len(str(payload.get(k) or "").encode()) for k in ("script", "header", "html"))
    assert size < 300_000
    assert payload_external_urls(payload) == []
    assert all(link.startswith("/app/static/vendor/") for link in payload["js_links"] + payload["css_links"])
    cov = pd.DataFrame({"code": boundaries["code"], "communities": 10, "covered": 5})
    m2 = maps.coverage_map(boundaries, cov, outline=outline, meal_points=fac.head(60), radius_m=500,
                           communities=communities.assign(covered=True))
    assert payload_external_urls(component_payload(m2, key="c", height=500)) == []


def test_clicks_are_read_back_to_a_facility_or_a_subdistrict(communities):
    fac = facility_frame(communities, 4, names={0: "东岸社区幸福食堂", 1: "东岸社区幸福食堂二部"})
    r = fac.iloc[1]
    event = {"last_object_clicked": {"lat": r["lat"] + 0.00003, "lng": r["lon"]},
             "last_object_clicked_tooltip": "东岸社区幸福食堂二部社区嵌入式养老院 · 运营中"}
    assert maps.clicked_facility(event, fac)["id"] == r["id"]
    far = {**event, "last_object_clicked": {"lat": r["lat"] + 0.05, "lng": r["lon"]}}
    assert maps.clicked_facility(far, fac) is None
    names = {"360103001": "南浦街道", "360103014": "桃花街道"}
    assert maps.clicked_subdistrict({"last_object_clicked": {"lat": 0, "lng": 0},
                                     "last_object_clicked_tooltip": "桃花街道 助餐覆盖率 57%"}, names) == "360103014"
    assert maps.clicked_subdistrict({"last_object_clicked": None}, names) is None
    assert maps.clicked_facility(None, fac) is None
    # with 高德 tiles the marker sits at its GCJ-02 position
    lng, lat = gcj02.wgs84_to_gcj02(r["lon"], r["lat"])
    gevent = {**event, "last_object_clicked": {"lat": lat, "lng": lng}}
    assert maps.clicked_facility(gevent, fac, maps.Basemap("gaode"))["id"] == r["id"]
    assert re.match(r"^\d+$", str(r["id"]))


# --- a map a planner can read -------------------------------------------------------------------------

def test_every_map_has_a_metric_scale_plain_attribution_and_a_folded_layer_control(boundaries, outline):
    html = html_of(maps.facilities_map(facility_frame(layers.communities_df(), n=10), boundaries, outline=outline))
    assert "imperial:false" in html and "metric:true" in html and '"controlScale"' not in html
    assert 'setPrefix("民政一张图")' in html
    assert "民政业务台账" in html and "街道区划" in html  # the real data sources
    assert '"collapsed": true' in html
    assert '"zoomSnap": 0.25' in html  # fractional zoom: the district fills the frame


def test_subdistrict_names_are_decluttered_largest_first(boundaries):
    layer = maps.subdistrict_layer(boundaries, map_name="map_x")
    labels = elements(layer, el.Labels)[0]
    html = labels._template.module.script(labels, {})
    assert "declutter" in html and "visibility=hit?'hidden'" in html
    areas = {n: shape(json.loads(g)).area for n, g in zip(boundaries["name"], boundaries["boundary_geojson"])}
    shown = [r[2] for r in labels.rows]
    assert shown == sorted(shown, key=lambda n: -areas[n])


def test_vacant_rooms_are_visible_symbols_with_words_in_their_tooltips():
    rooms = pd.DataFrame([{"id": 1, "code": "XF-0012", "address": f"桃花路 8 号{XSS}", "subdistrict_name": "桃花街道",
                           "community_name": "朝农社区", "lon": 115.87, "lat": 28.62, "area_m2": 126.4, "floor": 2,
                           "has_lift": False, "owner_type": "community", "monthly_rent": 3200.0,
                           "status": "negotiating"},
                          {"id": 2, "code": "XF-0013", "address": None, "lon": None, "lat": None}])
    fg = maps.room_layer(rooms)
    sym = elements(fg, el.Symbols)[0]
    assert len(sym.rows) == 1 and sym.size >= 14
    tip = sym.rows[0][2]
    assert "XF-0012" not in tip and "EPSG" not in tip and "115.87" not in tip
    for words in ("闲置用房", "桃花街道 · 朝农社区", "面积 126 平方米", "第 2 层（无电梯）", "产权：社区（村）集体",
                  "月租金 3,200 元", "状态：洽谈中"):
        assert words in tip
    assert "&lt;img" in tip and "<img" not in tip
    assert "闲置用房（1）" in fg.layer_name
    assert "mz-room" in maps.room_legend(1) and "闲置用房（1 处）" in maps.room_legend(1)
    assert maps.room_layer(rooms.iloc[1:]) is None
