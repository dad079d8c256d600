"""Chart builders (components/charts.py): what the reader sees on the axes."""
from __future__ import annotations

import pandas as pd

from components import charts


def test_a_monthly_line_has_one_tick_per_month_labelled_once():
    """Five months of one meal point: Vega's default ticks fall on half months, each labelled with its month
    (2024-08, 2024-08, 2024-09 …, the October point over a 2024-09 label); the builder asks for a tick per month,
    labelled year-month, and lets labels that would overlap drop out rather than pile up."""
    df = pd.DataFrame({"month": pd.to_datetime([f"2024-{m:02d}-01" for m in range(8, 13)]), "份数": [1, 2, 3, 4, 5]})
    axis = charts.line_by_month(df, "month", "份数", y_title="助餐（份）").to_dict()["encoding"]["x"]["axis"]
    assert axis["tickCount"] == {"interval": "month", "step": 1}
    assert axis["format"] == "%Y-%m" and axis["labelOverlap"] is True
