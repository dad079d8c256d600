"""Target pace: on track / behind from the pace needed to meet the deadline — one rule, data.domain.targets.pace."""
from collections import namedtuple
from datetime import date, datetime

import pandas as pd

from data.domain.targets import DAYS_PER_MONTH, pace

BASE, DEADLINE = date(2024, 1, 1), date(2024, 12, 31)
MEAL_POINTS = {"value": 68, "baseline_date": BASE, "deadline": DEADLINE}  # 40 on 1 Jan, 68 by 31 Dec


def test_behind_when_below_the_straight_line():
    # 47 on 30 June is below the line (≈ 53.9)
    p = pace(MEAL_POINTS, 47, 40, date(2024, 6, 30))
    assert not p.on_track and p.status == "进度滞后"
    assert p.gap == 21
    assert 53 < p.expected < 55
    assert p.pace_needed > p.pace_done > 0


def test_required_monthly_pace_is_the_gap_over_the_months_left():
    p = pace(MEAL_POINTS, 47, 40, date(2024, 6, 30))
    assert p.pace_needed == 21 / ((DEADLINE - date(2024, 6, 30)).days / DAYS_PER_MONTH)
    assert 3.3 < p.pace_needed < 3.5  # ≈ 3.4 meal points a month from July to December


def test_on_track_when_ahead_of_the_line():
    p = pace(MEAL_POINTS, 56, 40, date(2024, 6, 30))
    assert p.on_track and p.status == "进度正常"


def test_met_target_is_reported_as_met():
    p = pace(MEAL_POINTS, 70, 40, date(2024, 12, 31))
    assert p.met and p.on_track and p.status == "已达成" and p.pace_needed == 0


def test_past_deadline_and_not_met_is_behind():
    p = pace(MEAL_POINTS, 60, 40, date(2025, 1, 15))
    assert not p.on_track and p.pace_needed == float("inf")


def test_first_day_at_baseline_is_on_track():
    assert pace(MEAL_POINTS, 40, 40, BASE).on_track


def test_target_rows_of_every_shape_give_the_same_pace():
    # a dict (affairs.target), a row of itertuples() with timestamps, a named tuple with ISO strings
    Row = namedtuple("Row", "value baseline_date deadline")
    shapes = [MEAL_POINTS,
              next(pd.DataFrame([{"value": 68.0, "baseline_date": pd.Timestamp(BASE),
                                  "deadline": pd.Timestamp(DEADLINE)}]).itertuples()),
              Row(68, "2024-01-01", datetime(2024, 12, 31, 0, 0))]
    got = {pace(t, 47, 40, date(2024, 6, 30)) for t in shapes}
    assert len(got) == 1


def test_a_percentage_target_against_a_share():
    coverage = {"value": 65, "baseline_date": BASE, "deadline": DEADLINE, "unit": "%"}
    p = pace(coverage, 0.50, 0.40, date(2024, 6, 30), divisor=100)  # the line is at ≈ 52 % on 30 June
    assert p.target == 0.65 and round(p.gap, 6) == 0.15 and p.status == "进度滞后"
    assert pace(coverage, 0.57, 0.40, date(2024, 6, 30), divisor=100).status == "进度正常"
    assert pace(coverage, 0.65, 0.40, date(2024, 6, 30), divisor=100).status == "已达成"
