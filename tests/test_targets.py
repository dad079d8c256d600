"""Target pace: on track / behind from the pace needed to meet the deadline."""
from datetime import date

from data.domain.targets import progress

BASE, DEADLINE = date(2024, 1, 1), date(2024, 12, 31)


def test_behind_when_below_the_straight_line():
    # meal points: 40 on 1 Jan, target 68 by 31 Dec; 47 on 30 June is below the line (≈ 53.9)
    p = progress(47, 68, 40, BASE, DEADLINE, date(2024, 6, 30))
    assert not p.on_track and p.status == "进度滞后"
    assert p.gap == 21
    assert 53 < p.expected < 55
    assert p.pace_needed > p.pace_done > 0


def test_on_track_when_ahead_of_the_line():
    p = progress(56, 68, 40, BASE, DEADLINE, date(2024, 6, 30))
    assert p.on_track and p.status == "进度正常"


def test_met_target_is_reported_as_met():
    p = progress(70, 68, 40, BASE, DEADLINE, date(2024, 12, 31))
    assert p.met and p.on_track and p.status == "已达成" and p.pace_needed == 0


def test_past_deadline_and_not_met_is_behind():
    p = progress(60, 68, 40, BASE, DEADLINE, date(2025, 1, 15))
    assert not p.on_track and p.pace_needed == float("inf")


def test_first_day_at_baseline_is_on_track():
    assert progress(40, 68, 40, BASE, DEADLINE, BASE).on_track
