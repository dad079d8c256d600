"""The two map pages and the map settings page through AppTest, on the demo district (SQLite and PostgreSQL).

The folium map is a custom component: AppTest cannot draw it, but the Leaflet script handed to it is in
the element's JSON arguments — the tests read the markers, polygons and legend from there.
"""
from cards import cards
import json
import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data.db.engine import get_engine
from data.db.models import Facility
from data.queries import facilities as fq
from data.ops.settings import MapSettings, map_settings, save_map_settings
from geo import gcj02

ROOT = Path(__file__).resolve().parent.parent
ON = date(2024, 6, 30)


def run_page(monkeypatch, url, page, session=None, **params):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["period"] = "2024-06"
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(page)
    for k, v in (session or {}).items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def copy_sqlite(url: str, dest: Path) -> str:
    """A consistent copy of a SQLite database (the backup API also takes what is still in the WAL)."""
    src, dst = sqlite3.connect(url.removeprefix("sqlite:///")), sqlite3.connect(dest)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{dest}"


def map_args(at, index=0) -> dict:
    comps = [c for c in at.get("component_instance") if c.proto.component_name.endswith("st_folium")]
    assert comps, "no map on the page"
    return json.loads(comps[index].proto.json_args)


def layer_rows(script: str) -> list[list]:
    """Rows of every compact point layer in the script (each layer inlines `rows=[...]`)."""
    decoder, out = json.JSONDecoder(), []
    for m in re.finditer(r",rows=", script):
        rows, _ = decoder.raw_decode(script, m.end())
        out += rows
    return out


def facility_rows(script: str) -> list[list]:
    """[lat, lng, status index, tooltip, popup] per facility marker."""
    return [r for r in layer_rows(script) if len(r) == 5 and isinstance(r[2], int)]


def community_rows(script: str) -> list[list]:
    """[lat, lng, style index, tooltip] per community point."""
    return [r for r in layer_rows(script) if len(r) == 4 and isinstance(r[2], int)]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in cards(at)}


def unescape(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g[1], 16)), text)


# --- 助餐覆盖 ------------------------------------------------------------------------------------

def test_meal_coverage_headline_and_choropleth(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pages/meal_coverage.py")
    shown = metrics(at)
    assert shown["运营中的助餐点（个）"] == "47"
    assert shown["社区助餐服务覆盖率"] == "57.0%"
    assert shown["已覆盖社区（个）"] == "98 / 172"
    assert [m.delta for m in cards(at)][:2] == ["-21（目标 68）", "-8.0个百分点（目标 65.0%）"]
    args = map_args(at)
    assert args["returned_objects"] == ["last_object_clicked", "last_object_clicked_tooltip"]
    script = unescape(args["script"])
    assert len(re.findall(r'"id":"3601030\d\d"', script)) == 10  # ten subdistrict polygons
    assert re.search(r"南浦街道<\\?/b><br>助餐覆盖率 \d+\.\d%（\d+/19 个社区）", script)
    assert "社区助餐覆盖率" in script and "示意边界，非法定界线" in script  # legend and schematic note
    meal_rows = facility_rows(script)
    assert len(meal_rows) == 47  # every operating meal point, nothing else
    assert "L.circle(" in script  # walking rings (on by default)
    assert all(not link.startswith("http") for link in args["js_links"] + args["css_links"])
    assert len(at.dataframe) >= 2  # the meal point's monthly meals and the per-subdistrict table
    per_sub = at.dataframe[-1].value
    assert list(per_sub["街道"])[-1] == "合计" and per_sub["运营助餐点（个）"].iloc[-1] == 47
    assert per_sub["已覆盖社区（个）"].iloc[-1] == 98 and per_sub["社区总数（个）"].iloc[-1] == 172


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_meal_coverage_drill_down_to_communities_and_a_meal_point(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pages/meal_coverage.py", street="360103014")
    assert metrics(at)["已覆盖社区（个）"].endswith("/ 18")
    script = unescape(map_args(at)["script"])
    communities = community_rows(script)
    assert len(communities) == 18
    assert {r[2] for r in communities} == {0, 1}  # covered and uncovered both shown
    # its own meal points and the neighbours' that can reach it — not the whole district's 47
    own = fq.facilities_on(get_engine(demo_url), ON, "360103014", kinds=("meal_point",))
    drawn = facility_rows(script)
    assert int((own["status"] == "operating").sum()) <= len(drawn) < 47
    texts = " ".join(str(s.value) for s in at.subheader)
    assert "桃花街道 · 社区覆盖情况" in texts and "助餐点逐月助餐" in texts
    assert at.selectbox(key="cov_point").value is not None


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_meal_coverage_drill_down_at_province_scale_draws_only_what_is_near(monkeypatch, demo_url):
    from views import map_scale

    monkeypatch.setattr(map_scale, "MAX_MAP_SUBDISTRICTS", 5)  # the demo district's ten subdistricts counted as a province
    at = run_page(monkeypatch, demo_url, "pages/meal_coverage.py", street="360103014")
    script = unescape(map_args(at)["script"])
    drawn = facility_rows(script)
    points = fq.facilities_on(get_engine(demo_url), ON, kinds=("meal_point",))
    near = {code for code, lat, lon in zip(points["subdistrict_code"], points["lat"], points["lon"])
            if any(abs(lat - r[0]) < 1e-5 and abs(lon - r[1]) < 1e-5 for r in drawn)}
    outlines = set(re.findall(r'"id":"(3601030\d\d)"', script))
    assert outlines == near | {"360103014"}  # the drilled subdistrict and those whose meal points are drawn
    assert 1 <= len(outlines) < 10
    assert len(community_rows(script)) == 18  # the drill-down itself is unchanged


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_a_click_on_a_subdistrict_drills_down(monkeypatch, demo_url):
    event = {"last_object_clicked": {"lat": 28.62, "lng": 115.87},
             "last_object_clicked_tooltip": "桃花街道 助餐覆盖率 50%（9/18 个社区）"}
    at = run_page(monkeypatch, demo_url, "pages/meal_coverage.py", session={"cov_click": event})
    assert at.selectbox(key="cov_drill").value == "360103014"
    assert "桃花街道 · 社区覆盖情况" in " ".join(str(s.value) for s in at.subheader)


# --- 设施布局 ------------------------------------------------------------------------------------

def test_facilities_page_draws_every_facility_by_kind(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pages/facilities.py")
    expected = fq.facilities_on(get_engine(demo_url), ON)
    expected = expected[expected["status"].isin(["operating", "building", "planned"])]
    shown = metrics(at)
    assert shown["其中助餐点"] == "47 个"
    assert shown["运营中的设施"] == f"{(expected['status'] == 'operating').sum()} 处"
    args = map_args(at)
    script = unescape(args["script"])
    rows = facility_rows(script)
    assert len(rows) == len(expected)
    assert {r[2] for r in rows} == {0, 1, 2}  # operating, building, planned drawn three ways
    assert "L.control.layers" in script and "设施类型" in script and "示意边界，非法定界线" in script
    assert "L.tileLayer" not in script  # no basemap by default: nothing to fetch on the intranet
    assert len(re.findall(r'"id":"3601030\d\d"', script)) == 10
    popups = " ".join(r[4] for r in rows)
    assert "运营方：" in popups and "2024年6月助餐：" in popups  # meal points carry last month's meals
    assert at.date_input(key="fac_on").value == ON  # "as on" defaults to the period's end
    assert len(at.dataframe) == 1


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_facility_click_opens_its_card_and_subdistrict_click_selects(monkeypatch, demo_url):
    engine = get_engine(demo_url)
    points = fq.facilities_on(engine, ON, kinds=("meal_point",))
    p = points[points["status"] == "operating"].iloc[0]
    click = {"last_object_clicked": {"lat": p["lat"], "lng": p["lon"]},
             "last_object_clicked_tooltip": f"{p['name']}社区助餐点 · 运营中"}
    at = run_page(monkeypatch, demo_url, "pages/facilities.py", session={"fac_click": click})
    card = [m for m in cards(at) if m.label == "2024年6月助餐"]
    assert card and card[0].value.endswith("份")
    assert any(p["name"] in str(md.value) for md in at.markdown)

    polygon = {"last_object_clicked": {"lat": 28.62, "lng": 115.87}, "last_object_clicked_tooltip": "桃花街道示意边界，非法定界线"}
    at2 = run_page(monkeypatch, demo_url, "pages/facilities.py", session={"fac_click": polygon})
    assert any("已在地图上选中：桃花街道" in str(i.value) for i in at2.info)
    script = unescape(map_args(at2)["script"])
    assert '"weight":3.5' in script  # the selected polygon is outlined
    table = at2.dataframe[0].value
    assert set(table["街道"]) == {"桃花街道"}


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_province_scale_draws_bubbles_then_only_the_chosen_subdistrict(monkeypatch, demo_url):
    from views import map_scale

    monkeypatch.setattr(map_scale, "AGGREGATE_FACILITIES_ABOVE", 50)  # the demo district counted as a province:
    monkeypatch.setattr(map_scale, "MAX_MAP_SUBDISTRICTS", 5)  # too many facilities for points, subdistricts to outline
    whole = unescape(map_args(run_page(monkeypatch, demo_url, "pages/facilities.py"))["script"])
    assert facility_rows(whole) == [] and "按街道汇总" in whole  # bubbles, not points
    assert len(re.findall(r'"id":"3601030\d\d"', whole)) == 10  # every subdistrict to click on
    one = unescape(map_args(run_page(monkeypatch, demo_url, "pages/facilities.py", street="360103014"))["script"])
    engine = get_engine(demo_url)
    assert len(facility_rows(one)) == len(fq.facilities_on(engine, ON, "360103014").query(
        "status in ['operating', 'building', 'planned']")) > 0
    assert re.findall(r'"id":"3601030\d\d"', one) == ['"id":"360103014"']  # its outline, not a province's


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_as_on_day_follows_the_sidebar_period(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pages/facilities.py")
    at.selectbox(key="flt_p_month").set_value("2024-12").run()
    assert not at.exception
    assert at.date_input(key="fac_on").value == date(2024, 12, 31)
    assert metrics(at)["其中助餐点"] == "68 个"  # the year's target reached by the end of 2024
    at.date_input(key="fac_on").set_value(date(2024, 1, 31)).run()  # a day of the user's own choosing
    assert metrics(at)["其中助餐点"] == "43 个"


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_filters_narrow_the_map(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pages/facilities.py", street="360103014",
                  session={"fac_kinds": ["meal_point"], "fac_statuses": ["operating"]})
    script = unescape(map_args(at)["script"])
    rows = facility_rows(script)
    engine = get_engine(demo_url)
    assert len(rows) == fq.meal_points_operating(engine, ON, "360103014") > 0
    assert "m.on('zoomend',upd)" in script  # the subdistrict's communities appear on zoom
    assert len(community_rows(script)) == 18


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_gaode_basemap_setting_shifts_the_map(monkeypatch, demo_url, tmp_path):
    url = copy_sqlite(demo_url, tmp_path / "gaode.db")
    engine = get_engine(url)
    save_map_settings(engine, MapSettings("gaode", "", 800))
    assert map_settings(engine) == MapSettings("gaode", "", 800)
    at = run_page(monkeypatch, url, "pages/facilities.py", session={"fac_kinds": ["welfare_institute"]})
    script = unescape(map_args(at)["script"])
    assert "webrd0{s}.is.autonavi.com" in script
    with engine.connect() as conn:
        lon, lat = conn.execute(select(Facility.lon, Facility.lat).where(Facility.kind == "welfare_institute")).one()
    row = facility_rows(script)[0]
    g_lon, g_lat = gcj02.wgs84_to_gcj02(lon, lat)
    assert row[:2] == pytest.approx([g_lat, g_lon], abs=2e-6)
    cov = run_page(monkeypatch, url, "pages/meal_coverage.py")
    assert cov.number_input(key="cov_radius").value == 800  # default radius from the settings


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_map_settings_page_runs(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pages/map_settings.py")
    assert any("示意边界" in str(w.value) for w in at.warning)
    assert at.radio(key="mapset_basemap").value == "none"


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_map_settings_page_saves(monkeypatch, demo_url, tmp_path):
    url = copy_sqlite(demo_url, tmp_path / "settings.db")
    at = run_page(monkeypatch, url, "pages/map_settings.py")
    at.radio(key="mapset_basemap").set_value("gaode")
    at.number_input(key="mapset_radius").set_value(700)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert map_settings(get_engine(url)) == MapSettings("gaode", "", 700)
    assert any("已保存" in str(m.value) for m in at.success)
    at.radio(key="mapset_basemap").set_value("tianditu")
    at.button[0].click().run()
    assert any("天地图密钥" in str(e.value) for e in at.error)  # no key: refused, in Chinese
    assert map_settings(get_engine(url)).basemap == "gaode"


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_map_settings_page_saves_the_bureaus_own_tiles(monkeypatch, demo_url, tmp_path):
    from test_offline_maps import make_tile_folder

    url = copy_sqlite(demo_url, tmp_path / "settings.db")
    at = run_page(monkeypatch, url, "pages/map_settings.py")
    at.radio(key="mapset_basemap").set_value("custom")
    at.text_input(key="mapset_tile_url").set_value("http://10.0.0.8/tiles/{z}/{x}.png")
    at.button[0].click().run()
    assert any("缺少" in str(e.value) and "行号" in str(e.value) for e in at.error), [e.value for e in at.error]
    assert map_settings(get_engine(url)).basemap == "none"
    at.text_input(key="mapset_tile_url").set_value("http://10.0.0.8/tiles/{z}/{x}/{y}.png")
    at.button[0].click().run()
    assert map_settings(get_engine(url)).tile_url == "http://10.0.0.8/tiles/{z}/{x}/{y}.png"
    at.radio(key="mapset_basemap").set_value("local")
    at.text_input(key="mapset_tile_path").set_value(str(tmp_path / "missing"))
    at.button[0].click().run()
    assert any("找不到" in str(e.value) for e in at.error)
    folder = make_tile_folder(tmp_path / "xyz")
    at.text_input(key="mapset_tile_path").set_value(str(folder))
    at.radio(key="mapset_tile_datum").set_value("gcj02")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = map_settings(get_engine(url))
    assert (saved.basemap, saved.tile_path, saved.tile_datum) == ("local", str(folder), "gcj02")
    assert any("本机瓦片" in str(m.value) for m in at.success)
    fac = run_page(monkeypatch, url, "pages/facilities.py")
    script = map_args(fac)["script"]
    assert "/maptiles/" in script and "http://" not in script.split("maptiles")[0][-200:]


@pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)
def test_a_click_on_a_meal_point_keeps_the_map_and_offers_the_drill_down(monkeypatch, demo_url):
    points = fq.facilities_on(get_engine(demo_url), ON, kinds=("meal_point",))
    p = points[points["status"] == "operating"].iloc[0]
    event = {"last_object_clicked": {"lat": float(p["lat"]), "lng": float(p["lon"])},
             "last_object_clicked_tooltip": f"{p['name']} 助餐点 · 运营中"}
    at = run_page(monkeypatch, demo_url, "pages/meal_coverage.py")
    before = map_args(at)["script"]
    at.session_state["cov_click"] = event
    at.run()
    assert not at.selectbox(key="cov_drill").value  # no drill on a point click: the map (and its popup) stays
    assert at.selectbox(key="cov_point").value == int(p["id"])
    assert len(map_args(at)["script"]) == len(before)
    button = at.button(key="cov_drill_point")
    assert p["subdistrict_name"] in button.label and p["name"] in button.label
    button.click().run()
    assert at.selectbox(key="cov_drill").value == p["subdistrict_code"]
    assert "社区覆盖情况" in " ".join(str(s.value) for s in at.subheader)
    assert not [b for b in at.button if b.key == "cov_drill_point"]
