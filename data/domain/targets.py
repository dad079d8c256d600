"""目标进度: gap to a target and whether the pace so far is enough to meet it by its deadline."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Progress:
    value: float            # where we are on `on`
    target: float
    gap: float              # target - value (≤ 0 when met)
    expected: float         # where a steady pace from the baseline would be on `on`
    pace_done: float        # per month so far, since the baseline
    pace_needed: float      # per month from now to the deadline (所需月均进度)
    on_track: bool
    met: bool

    @property
    def status(self) -> str:
        if self.met:
            return "已达成"
        return "进度正常" if self.on_track else "进度滞后"


def _field(target, name: str):
    return target[name] if isinstance(target, Mapping) else getattr(target, name)


def _day(v) -> date:
    if isinstance(v, datetime):  # pandas Timestamp included
        return v.date()
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def pace(target, value: float, baseline_value: float, on: date, *, divisor: float = 1) -> Progress:
    """The one pace rule (所需月均进度): progress on `on` towards a target row of the targets table.

    `target` is a mapping or a named tuple with `value`, `baseline_date` and `deadline` (dates or timestamps);
    `baseline_value` is the indicator where the climb started; `divisor` turns the target into the value's unit
    (100 when a percentage target is compared with a share). Linear pace: on track when the value is at least where
    a steady climb from the baseline to the target would be. After the deadline only meeting the target counts.
    A target already met is on track; its pace needed is 0 (infinite when the deadline has passed unmet).
    """
    goal = float(_field(target, "value")) / divisor if divisor != 1 else float(_field(target, "value"))
    baseline, deadline = _day(_field(target, "baseline_date")), _day(_field(target, "deadline"))
    met = value >= goal
    total_days = max((deadline - baseline).days, 1)
    elapsed = min(max((on - baseline).days, 0), total_days)
    expected = baseline_value + (goal - baseline_value) * elapsed / total_days
    remaining_months = max((deadline - on).days, 0) / DAYS_PER_MONTH
    done_months = max(elapsed, 1) / DAYS_PER_MONTH
    pace_done = (value - baseline_value) / done_months
    pace_needed = 0.0 if met else ((goal - value) / remaining_months if remaining_months > 0 else float("inf"))
    on_track = met or (on < deadline and value >= expected - 1e-9)
    return Progress(value=value, target=goal, gap=goal - value, expected=expected, pace_done=pace_done,
                    pace_needed=pace_needed, on_track=on_track, met=met)
