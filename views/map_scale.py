"""How much one map can carry: the caps a page model uses to send its map points, or aggregates instead.

A district's map gets every point; a city's or a province's gets one bubble per subdistrict, or only the chosen
subdistrict and what is near it. components.maps draws what the page model chose (and re-exports these names).
Read them as `map_scale.X` at call time (tests lower them to make the demo district behave like a province).
"""
from __future__ import annotations

MAX_POINTS = 3000                  # more points than this and a page passes aggregates instead
MAX_MAP_SUBDISTRICTS = 200         # more (province scale): a map of one chosen subdistrict draws it and what is near
AGGREGATE_FACILITIES_ABOVE = 2500  # 设施布局: more facilities → one bubble per subdistrict until one is chosen
MAX_COMMUNITY_POINTS = 2500        # never send more community points than this
MAX_MEAL_POINTS_UNFILTERED = 200   # 助餐覆盖 without a subdistrict: every meal point up to a district's worth
