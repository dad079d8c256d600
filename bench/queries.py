"""Direct (uncached) timings of the main named queries, period 2024-H1, whole district (no street)."""
from __future__ import annotations

import time

from bench.stats import summary


def named_queries():
    from data.domain import figures
    from data.domain.period import parse
    from data.queries import aid, facilities, findings, overview, weekly

    period = parse("2024-H1")
    on = period.end
    return [
        ("overview.headline", lambda e: overview.headline(e, period)),
        ("facilities.coverage_by_subdistrict", lambda e: facilities.coverage_by_subdistrict(e, on)),
        ("facilities.facilities_on", lambda e: facilities.facilities_on(e, on)),
        ("aid.aid_totals", lambda e: aid.aid_totals(e, period)),
        ("findings.findings_summary", lambda e: findings.findings_summary(e, period)),
        ("weekly.weekly_headline", lambda e: weekly.weekly_headline(e, period)),
        ("figures.compute_all", lambda e: figures.compute_all(e, period)),
    ]


def time_queries(url: str, runs: int) -> dict:
    from data.db.engine import get_engine

    eng = get_engine(url)
    out = {}
    for name, fn in named_queries():
        fn(eng)  # connection pool and statement compile cache warmed: this measures the query, not the first connect
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            fn(eng)
            samples.append(time.perf_counter() - t)
        out[name] = summary(samples)
    return out
