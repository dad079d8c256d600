"""Validating an official subdistrict boundary file (GeoJSON / zipped Shapefile) and storing it."""
import io
import json
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Polygon, box, mapping, shape
from sqlalchemy import select

from data.imports.boundaries import BoundaryWriteError, store_official_boundaries
from data.db.engine import get_engine
from data.db.models import Subdistrict
from data.queries.common import data_version
from geo import gcj02
from geo.boundary_import import GCJ02, validate_boundaries

# A hand-made "district" of two subdistricts near 西湖区 (about 1.9 km × 2.2 km).
W, S, E, N, MID = 115.880, 28.650, 115.900, 28.670, 115.890
DISTRICT = box(W, S, E, N)
LEFT, RIGHT = box(W, S, MID, N), box(MID, S, E, N)
SUBS = pd.DataFrame({"code": ["360103001", "360103002"], "name": ["南浦街道", "朝阳洲街道"],
                     "code_mca": ["360103014", "360103019"]})


def same(a, b, rel=1e-4) -> bool:
    """Equal up to vertex order and rounding: the symmetric difference is a tiny share of the area."""
    return a.symmetric_difference(b).area <= rel * b.area


def fc(*features, crs=None) -> bytes:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": mapping(geom) if geom is not None else None}
        for props, geom in features]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def check(data, name="jiedao.geojson", **kw):
    return validate_boundaries(data, name, SUBS, DISTRICT, **kw)


def test_a_good_geojson_is_accepted_matched_by_name():
    r = check(fc(({"名称": "南浦街道"}, LEFT), ({"名称": "朝阳洲街道"}, RIGHT)))
    assert r.ok, r.errors
    assert set(r.boundaries) == {"360103001", "360103002"}
    assert same(shape(r.boundaries["360103001"]), LEFT)
    assert list(r.matches["匹配方式"]) == ["名称", "名称"]
    assert any("RFC 7946" in n for n in r.notes)


def test_codes_match_nbs_twelve_digit_and_mca_and_prefixed_names():
    r = check(fc(({"XZQDM": "360103001000", "XZQMC": "某某"}, LEFT), ({"code": 360103019}, RIGHT)))
    assert r.ok, r.errors
    r2 = check(fc(({"name": "西湖区南浦街道"}, LEFT), ({"name": "朝阳洲"}, RIGHT)))
    assert r2.ok, r2.errors


def test_unmatched_and_missing_subdistricts_are_named():
    r = check(fc(({"名称": "南浦街道"}, LEFT), ({"名称": "青山湖街道"}, RIGHT)))
    assert not r.ok and not r.boundaries
    assert any("第 2 个要素（青山湖街道）" in e and "找不到对应的街道" in e for e in r.errors)
    assert any("朝阳洲街道（360103002）" in e for e in r.errors)


def test_code_and_name_pointing_at_different_subdistricts_is_an_error():
    r = check(fc(({"code": "360103001", "name": "朝阳洲街道"}, LEFT), ({"name": "朝阳洲街道"}, RIGHT)))
    assert any("代码指向南浦街道，但名称指向朝阳洲街道" in e for e in r.errors)


def test_self_intersecting_polygon_is_rejected_with_its_name():
    bowtie = Polygon([(W, S), (MID, N), (MID, S), (W, N), (W, S)])
    r = check(fc(({"名称": "南浦街道"}, bowtie), ({"名称": "朝阳洲街道"}, RIGHT)))
    assert any(e.startswith("第 1 个要素（南浦街道）") and "自相交" in e for e in r.errors), r.errors


def test_line_and_empty_geometries_are_rejected():
    r = check(fc(({"名称": "南浦街道"}, LineString([(W, S), (MID, N)])), ({"名称": "朝阳洲街道"}, None)))
    assert any("几何类型是 LineString" in e for e in r.errors)
    assert any("第 2 个要素（朝阳洲街道）：没有几何图形" in e for e in r.errors)


def test_polygon_outside_the_district_is_rejected_with_share():
    far = box(W + 0.05, S, MID + 0.05, N)  # ~5 km east
    r = check(fc(({"名称": "南浦街道"}, far), ({"名称": "朝阳洲街道"}, RIGHT)))
    msg = [e for e in r.errors if e.startswith("南浦街道")]
    assert msg and "在西湖区界线之外" in msg[0] and "100.0%" in msg[0]


def test_small_slivers_outside_are_within_tolerance():
    nudged = box(W - 0.001, S, MID, N)  # ~100 m over the west edge
    assert check(fc(({"名称": "南浦街道"}, nudged), ({"名称": "朝阳洲街道"}, RIGHT))).ok


def test_several_features_of_one_subdistrict_are_merged():
    top, bottom = box(W, 28.660, MID, N), box(W, S, MID, 28.660)
    r = check(fc(({"名称": "南浦街道"}, top), ({"名称": "南浦街道"}, bottom), ({"名称": "朝阳洲街道"}, RIGHT)))
    assert r.ok, r.errors
    assert shape(r.boundaries["360103001"]).area == pytest.approx(LEFT.area, rel=1e-6)
    assert any("由 2 个要素合并" in w for w in r.warnings)


def test_projected_geojson_with_declared_crs_is_reprojected():
    gdf = gpd.GeoDataFrame({"名称": ["南浦街道", "朝阳洲街道"]}, geometry=[LEFT, RIGHT], crs=4326).to_crs(4548)
    data = fc(*[({"名称": n}, g) for n, g in zip(gdf["名称"], gdf.geometry)], crs="urn:ogc:def:crs:EPSG::4548")
    r = check(data)
    assert r.ok, r.errors
    assert r.source_crs == "EPSG:4548"
    assert same(shape(r.boundaries["360103002"]), RIGHT)


def test_projected_coordinates_without_crs_ask_for_one():
    gdf = gpd.GeoDataFrame({"名称": ["南浦街道", "朝阳洲街道"]}, geometry=[LEFT, RIGHT], crs=4326).to_crs(4548)
    data = fc(*[({"名称": n}, g) for n, g in zip(gdf["名称"], gdf.geometry)])
    r = check(data)
    assert r.needs_crs and not r.ok and "选择文件的坐标系" in r.errors[0]
    assert check(data, crs="EPSG:4548").ok


def test_gcj02_data_is_recognised_and_converted_when_chosen():
    shifted = [gcj02.to_gcj02_geojson(mapping(g)) for g in (LEFT, RIGHT)]
    data = fc(({"名称": "南浦街道"}, shape(shifted[0])), ({"名称": "朝阳洲街道"}, shape(shifted[1])))
    r = check(data)
    assert not r.ok and any("疑似高德（GCJ-02）" in e for e in r.errors), r.errors
    ok = check(data, crs=GCJ02)
    assert ok.ok, ok.errors
    assert same(shape(ok.boundaries["360103001"]), LEFT)


def _zip_shapefile(tmp_path, gdf, encoding="utf-8", prj=True, cpg=True) -> bytes:
    path = tmp_path / "jiedao.shp"
    gdf.to_file(path, driver="ESRI Shapefile", encoding=encoding)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in tmp_path.iterdir():
            if f.suffix == ".prj" and not prj or f.suffix == ".cpg" and not cpg:
                continue
            z.write(f, f"jiedao/{f.name}")
    return buf.getvalue()


def test_zipped_shapefile_with_prj(tmp_path):
    gdf = gpd.GeoDataFrame({"XZQMC": ["南浦街道", "朝阳洲街道"]}, geometry=[LEFT, RIGHT], crs=4490)
    r = check(_zip_shapefile(tmp_path, gdf), "jiedao.zip")
    assert r.ok, r.errors
    assert r.source_crs == "EPSG:4490"


def test_zipped_shapefile_in_gbk_without_cpg_or_prj(tmp_path):
    gdf = gpd.GeoDataFrame({"XZQMC": ["南浦街道", "朝阳洲街道"]}, geometry=[LEFT, RIGHT], crs=4326).to_crs(4548)
    data = _zip_shapefile(tmp_path, gdf, encoding="gbk", prj=False, cpg=False)
    r = check(data, "jiedao.zip")
    assert r.needs_crs and any("没有 .prj" in n for n in r.notes)
    r2 = check(data, "jiedao.zip", crs="EPSG:4548")
    assert r2.ok, r2.errors
    assert any("GBK" in n for n in r2.notes)


@pytest.mark.parametrize("data,name,message", [
    (b"{not json", "a.geojson", "无法解析"),
    (b"hello", "a.txt", "只支持"),
    (b"PK-broken", "a.zip", "压缩包"),
    (json.dumps({"type": "Polygon", "coordinates": []}).encode(), "a.json", "FeatureCollection"),
    (b"x", "a.shp", "压缩成 .zip"),
])
def test_unreadable_files_get_a_chinese_message(data, name, message):
    r = check(data, name)
    assert not r.ok and message in r.errors[0]


def test_shapefile_zip_without_dbf(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.shp", b"x")
        z.writestr("a.shx", b"x")
    r = check(buf.getvalue(), "a.zip")
    assert "缺少属性表 .dbf" in r.errors[0]


def test_store_official_boundaries_in_one_transaction(db_url):
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(Subdistrict.__table__.insert(), [
            {"code": "360103001", "name": "南浦街道", "boundary_official": False},
            {"code": "360103002", "name": "朝阳洲街道", "boundary_official": False}])
    before = data_version(engine)
    r = check(fc(({"名称": "南浦街道"}, LEFT), ({"名称": "朝阳洲街道"}, RIGHT)))
    with pytest.raises(BoundaryWriteError, match="须一次导入全部街道"):
        store_official_boundaries(engine, {"360103001": r.boundaries["360103001"]})
    assert data_version(engine) == before
    assert store_official_boundaries(engine, r.boundaries) == 2
    with engine.connect() as conn:
        rows = conn.execute(select(Subdistrict.code, Subdistrict.boundary_geojson,
                                   Subdistrict.boundary_official)).all()
    assert all(official for _, _, official in rows)
    assert same(shape(json.loads(rows[0][1])), LEFT)
    assert data_version(engine) == before + 1
