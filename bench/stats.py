"""Median / min / max of a list of samples."""
from __future__ import annotations

import statistics


def summary(samples: list[float]) -> dict:
    samples = [s for s in samples if s is not None]
    if not samples:
        return {"median": None, "min": None, "max": None, "n": 0, "samples": []}
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "n": len(samples),
            "samples": samples}


def fmt(s: dict | None, unit: str = "s", digits: int = 3) -> str:
    if not s or s.get("median") is None:
        return "—"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"
