"""A subdistrict's view of the queries that filter inside their SQL (for speed at province scale) is exactly the
district's result restricted to that subdistrict — on both engines, for every subdistrict of the demo."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data.db.engine import get_engine
from data.domain.period import parse
from data.queries import aid, facilities, geography, services, weekly

H1, JUNE, WEEK = parse("2024-H1"), parse("2024-06"), parse("2024-W26")
ON = date(2024, 6, 30)

CASES = {
    "community_meal_coverage": (lambda e, s: facilities.community_meal_coverage(e, ON, s), "subdistrict_code"),
    "facility_coverage": (lambda e, s: facilities.facility_coverage(e, ON, s), "subdistrict_code"),
    "meal_points_without_records": (lambda e, s: facilities.meal_points_without_records(e, ON, s, days=3),
                                    "subdistrict_code"),
    "living_alone_visit_compliance": (lambda e, s: services.living_alone_visit_compliance(e, JUNE, s),
                                      "subdistrict_code"),
    "silent_ledgers": (lambda e, s: weekly.silent_ledgers(e, WEEK, s), "subdistrict_code"),
    "proactive_discovery_by_subdistrict": (lambda e, s: aid.proactive_discovery_by_subdistrict(e, H1, s),
                                           "subdistrict_code"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_subdistricts_rows_equal_the_districts_rows_of_that_subdistrict(demo_url, name):
    engine = get_engine(demo_url)
    query, column = CASES[name]
    district = query(engine, None)
    seen_rows = 0
    for code in sorted(geography.subdistrict_names(engine)):
        own = query(engine, code).reset_index(drop=True)
        expected = district[district[column] == code].reset_index(drop=True)
        pd.testing.assert_frame_equal(own, expected, check_dtype=False, obj=f"{name}({code})")
        seen_rows += len(own)
    assert seen_rows == len(district)  # every district row belongs to one subdistrict


def test_the_cases_are_not_empty_where_the_demo_has_data(demo_url):
    engine = get_engine(demo_url)
    assert facilities.community_meal_coverage(engine, ON, None)["covered"].any()
    assert not facilities.community_meal_coverage(engine, ON, None)["covered"].all()
    assert (~services.living_alone_visit_compliance(engine, JUNE, None)["compliant"]).any()
    assert aid.proactive_discovery_by_subdistrict(engine, H1, None)["dibao_households"].sum() > 0
