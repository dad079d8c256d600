"""Queries behind the map pages (data/queries/maps.py) and the map settings, on the demo district, both engines."""
from datetime import date

import pytest

from data.domain import period as periods
from data.db.engine import get_engine
from data.queries import facilities as fq
from data.queries import maps as mq
from data.ops.settings import MapSettings, SettingsError, map_settings, save_map_settings

ON = date(2024, 6, 30)


@pytest.mark.parametrize("on,first,last", [
    (date(2024, 6, 30), date(2024, 6, 1), date(2024, 6, 30)),
    (date(2024, 6, 15), date(2024, 5, 1), date(2024, 5, 31)),
    (date(2024, 3, 1), date(2024, 2, 1), date(2024, 2, 29)),
    (date(2024, 1, 10), date(2023, 12, 1), date(2023, 12, 31)),
])
def test_last_complete_month(on, first, last):
    assert mq.last_complete_month(on) == (first, last)


def test_counts_by_subdistrict_agree_with_the_facility_list(demo_engine):
    counts = mq.facility_counts_by_subdistrict(demo_engine, ON, statuses=("operating", "building", "planned"))
    listed = fq.facilities_on(demo_engine, ON)
    listed = listed[listed["status"].isin(["operating", "building", "planned"])]
    expected = listed.groupby(["subdistrict_code", "kind", "status"]).size()
    got = counts.set_index(["code", "kind", "status"])["n"]
    assert got.sort_index().to_dict() == {k: int(v) for k, v in expected.sort_index().items()}
    assert counts[(counts["kind"] == "meal_point") & (counts["status"] == "operating")]["n"].sum() == 47
    assert counts[["lon", "lat"]].notna().all().all()
    only = mq.facility_counts_by_subdistrict(demo_engine, ON, "360103014", kinds=("meal_point",))
    assert set(only["code"]) == {"360103014"} and set(only["kind"]) == {"meal_point"}


def test_monthly_progress_uses_the_same_definitions(demo_engine):
    ends = tuple(periods.month(2024, m).end for m in range(1, 13))
    df = mq.meal_progress_by_month(demo_engine, ends).set_index("on")
    assert df.loc[ON, "meal_points"] == 47 and df.loc[ON, "covered"] == 98 and df.loc[ON, "communities"] == 172
    for d in (ends[0], ends[8], ends[11]):
        assert df.loc[d, "meal_points"] == fq.meal_points_operating(demo_engine, d)
        assert df.loc[d, "coverage_rate"] == pytest.approx(fq.meal_coverage_rate(demo_engine, d), abs=1e-12)
    street = mq.meal_progress_by_month(demo_engine, (ON,), "360103014").iloc[0]
    assert street["coverage_rate"] == pytest.approx(fq.meal_coverage_rate(demo_engine, ON, "360103014"), abs=1e-12)
    assert street["meal_points"] == fq.meal_points_operating(demo_engine, ON, "360103014")
    assert mq.meal_progress_by_month(demo_engine, ()).empty


def test_facility_card_and_monthly_meals(demo_engine):
    points = fq.facilities_on(demo_engine, ON, kinds=("meal_point",))
    p = points[points["status"] == "operating"].iloc[0]
    card = mq.facility_card(demo_engine, int(p["id"]), ON)
    june = fq.meals_by_point(demo_engine, periods.month(2024, 6)).set_index("id").loc[p["id"]]
    assert card["name"] == p["name"] and card["kind_name"] == "社区助餐点" and card["status_name"] == "运营中"
    assert card["last_month"] == date(2024, 6, 1) and card["served_last_month"]
    assert card["meals"] == june["dine_in"] + june["delivered"] > 0
    monthly = mq.meal_point_monthly(demo_engine, int(p["id"]), date(2024, 1, 1), ON)
    assert list(monthly["month"]) == [date(2024, m, 1) for m in range(1, 7)]
    assert monthly.iloc[-1]["meals"] == card["meals"]
    assert mq.facility_card(demo_engine, 10**9, ON) is None


def test_sizes_and_label_points(demo_engine):
    assert mq.counts(demo_engine) == {"facilities": 111, "communities": 172, "subdistricts": 10}
    pts = mq.subdistrict_points(demo_engine)
    assert len(pts) == 10 and pts[["lon", "lat"]].notna().all().all()


def test_map_settings_round_trip_and_validation(db_url):
    engine = get_engine(db_url)
    assert map_settings(engine) == MapSettings("none", "", 500)
    save_map_settings(engine, MapSettings("tianditu", " 0123456789abcdef0123456789abcdef ", 650))
    assert map_settings(engine) == MapSettings("tianditu", "0123456789abcdef0123456789abcdef", 650)
    with pytest.raises(SettingsError, match="天地图密钥"):
        save_map_settings(engine, MapSettings("tianditu", "", 500))
    with pytest.raises(SettingsError, match="格式不正确"):
        save_map_settings(engine, MapSettings("none", "{{7*7}}<script>", 500))
    with pytest.raises(SettingsError, match="步行半径"):
        save_map_settings(engine, MapSettings("none", "", 50))
    with pytest.raises(SettingsError, match="未知的底图"):
        save_map_settings(engine, MapSettings("osm", "", 500))
    assert map_settings(engine).walk_radius_m == 650  # failed saves change nothing


@pytest.mark.parametrize("street", [None, "360103014", "360103001"])
def test_coverage_rates_counted_in_the_database_equal_the_community_tables(demo_engine, street):
    """The two district rates (F04, F11) are counted in SQL so a city's thousands of communities are not read; they
    must be the share of covered rows of the community tables the maps and the lists show, on any day."""
    for d in (date(2023, 1, 1), date(2024, 1, 31), date(2024, 3, 15), ON, date(2024, 12, 31)):
        meals = fq.community_meal_coverage(demo_engine, d, street)
        assert fq.meal_coverage_rate(demo_engine, d, street) == pytest.approx(meals["covered"].mean(), abs=1e-12)
        anyone = fq.facility_coverage(demo_engine, d, street)
        assert fq.facility_coverage_rate(demo_engine, d, street) == pytest.approx(anyone["covered"].mean(), abs=1e-12)
    assert 0 < fq.meal_coverage_rate(demo_engine, ON, street) < fq.facility_coverage_rate(demo_engine, ON, street) + 1e-12
