"""目标进度: gap to a target and whether the pace so far is enough to meet it by its deadline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Progress:
    value: float            # where we are on `on`
    target: float
    gap: float              # target - value (≤ 0 when met)
    expected: float         # where a steady pace from the baseline would be on `on`
    pace_done: float        # per month so far, since the baseline
    pace_needed: float      # per month from now to the deadline
    on_track: bool
    met: bool

    @property
    def status(self) -> str:
        if self.met:
            return "已达成"
        return "进度正常" if self.on_track else "进度滞后"


def progress(value: float, target: float, baseline_value: float, baseline: date, deadline: date, on: date) -> Progress:
    """Linear pace: on track when the value is at least where a steady climb from baseline to target would be.

    After the deadline only meeting the target counts. A target already met is on track.
    """
    met = value >= target
    total_days = max((deadline - baseline).days, 1)
    elapsed = min(max((on - baseline).days, 0), total_days)
    expected = baseline_value + (target - baseline_value) * elapsed / total_days
    remaining_months = max((deadline - on).days, 0) / DAYS_PER_MONTH
    done_months = max(elapsed, 1) / DAYS_PER_MONTH
    pace_done = (value - baseline_value) / done_months
    pace_needed = 0.0 if met else ((target - value) / remaining_months if remaining_months > 0 else float("inf"))
    on_track = met or (on < deadline and value >= expected - 1e-9)
    return Progress(value=value, target=target, gap=target - value, expected=expected, pace_done=pace_done,
                    pace_needed=pace_needed, on_track=on_track, met=met)
