"""Benchmark of site selection (选址分析): the project's solver (reduced model + HiGHS) vs a plain spopt MCLP (CBC).

    python -m bench.site_selection [--runs 3] [--spopt-cap 120] [--scales 1,100]

Instances are synthetic and seeded, so every run sees the same ones:
- district (×1): the 172 schematic community points of geo/, 47 operating meal points, 300 candidate rooms;
- ×100: the district tiled 10 × 10 (17,200 communities, 4,700 meal points, 5,000 candidate rooms).
Both solvers get the same instance: weights = elderly 60+, operating meal points fixed in, choose k more rooms
within the walking radius (straight line, metres in EPSG:32650), no other constraint (spopt's MCLP has none).
spopt runs "plain": dense cost matrix, ``MCLP.from_cost_matrix`` with the meal points as predefined facilities,
``pulp.PULP_CBC_CMD`` — in a child process capped in wall time and memory, reported as not finished when it hits
either cap. Medians of ≥ 3 runs with min and max; a table on the terminal and JSON in bench/results/site_selection.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "site_selection.json"
SEED = 20240630
SPOPT_MEMORY_GB = 6  # the child process may not take more than this (the machine has 24 GB, shared)

# (scale, radius m, k, project solver time limit s, operating meal points fixed in?)
# "planning" cases keep the 47 operating meal points per district; "greenfield" ones place k rooms from scratch,
# which leaves far more demand uncovered and is the harder model.
CASES = {
    1: [(1, 500, 10, 10.0, True), (1, 1000, 10, 10.0, True), (1, 500, 40, 10.0, False)],
    100: [(100, 500, 1000, 60.0, True), (100, 500, 2000, 60.0, False)],
}


def instance(scale: int, fixed: bool = True, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(communities, rooms, meal_points) — the district's points with synthetic weights, tiled for scale 100.

    fixed=False drops the operating meal points (a greenfield instance)."""
    from geo.layers import METRIC_CRS, communities_df

    rng = np.random.default_rng(seed)
    base = communities_df()[["code", "name", "lon", "lat"]].copy()
    fwd = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    inv = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
    bx, by = fwd.transform(base["lon"].to_numpy(), base["lat"].to_numpy())
    side = int(round(scale ** 0.5))
    w, h = bx.max() - bx.min() + 500, by.max() - by.min() + 500
    n_rooms, n_points = 300 if scale == 1 else 50, 47
    coms, rooms, points = [], [], []
    for t in range(side * side):
        ox, oy = (t % side) * w, (t // side) * h
        cx, cy = bx + ox, by + oy
        coms.append(pd.DataFrame({"code": [f"{t:03d}-{c}" for c in base["code"]], "name": base["name"],
                                  "x": cx, "y": cy, "pop_60": rng.integers(200, 1500, len(base))}))
        pick = rng.choice(len(base), n_points, replace=False)
        points.append(pd.DataFrame({"x": cx[pick] + rng.normal(0, 120, n_points),
                                    "y": cy[pick] + rng.normal(0, 120, n_points)}))
        anchor = rng.integers(0, len(base), n_rooms)
        rooms.append(pd.DataFrame({
            "code": [f"VR-{t:03d}-{j:03d}" for j in range(n_rooms)],
            "x": cx[anchor] + rng.normal(0, 400, n_rooms), "y": cy[anchor] + rng.normal(0, 400, n_rooms),
            "area_m2": rng.integers(40, 400, n_rooms).astype(float), "floor": rng.integers(1, 4, n_rooms),
            "has_lift": rng.random(n_rooms) < 0.3, "owner_type": rng.choice(["state", "community", "enterprise",
                                                                               "private"], n_rooms),
            "monthly_rent": (rng.integers(0, 16, n_rooms) * 1000).astype(float), "status": "candidate"}))
    out = []
    for df in (pd.concat(coms, ignore_index=True), pd.concat(rooms, ignore_index=True),
               pd.concat(points, ignore_index=True)):
        df["lon"], df["lat"] = inv.transform(df.pop("x").to_numpy(), df.pop("y").to_numpy())
        out.append(df)
    return out[0], out[1], out[2] if fixed else out[2].iloc[0:0]


# --- the project's solver --------------------------------------------------------------------------------------

def run_project(scale: int, radius: float, k: int, time_limit: float, fixed: bool) -> dict:
    from geo.site_selection import SiteParams, optimise

    coms, rooms, points = instance(scale, fixed)
    t0 = time.perf_counter()
    res = optimise(coms, rooms, points, SiteParams(radius_m=radius, k=k, time_limit_s=time_limit))
    total = time.perf_counter() - t0
    return {"seconds": total, "build_seconds": res.build_seconds, "solve_seconds": res.exact.seconds,
            "objective": res.exact.covered_weight, "status": res.exact.status, "gap": res.exact.gap,
            "bound": res.exact.bound, "greedy_objective": res.greedy.covered_weight,
            "greedy_seconds": res.greedy.seconds, "share_before": res.share_before, "share_after": res.share_after,
            "model": {k2: v for k2, v in res.model.items() if k2 != "communities_unlocated"}}


# --- plain spopt, in a capped child process ------------------------------------------------------------------------

def spopt_worker(scale: int, radius: float, k: int, cap: float, fixed: bool) -> dict:
    """Runs inside the child: dense cost matrix → MCLP.from_cost_matrix → CBC. Prints one JSON line."""
    import pulp
    from spopt.locate import MCLP

    from geo.layers import METRIC_CRS

    coms, rooms, points = instance(scale, fixed)
    fwd = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    cx, cy = fwd.transform(coms["lon"].to_numpy(), coms["lat"].to_numpy())
    sites = pd.concat([points[["lon", "lat"]], rooms[["lon", "lat"]]], ignore_index=True)
    sx, sy = fwd.transform(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    t0 = time.perf_counter()
    cost = np.hypot(cx[:, None] - sx[None, :], cy[:, None] - sy[None, :])
    t_matrix = time.perf_counter() - t0
    print(f"stage: cost matrix {cost.shape[0]:,} × {cost.shape[1]:,} built in {t_matrix:.1f} s", file=sys.stderr, flush=True)
    predefined = np.zeros(len(sites), dtype=int)
    predefined[: len(points)] = 1
    t1 = time.perf_counter()
    model = MCLP.from_cost_matrix(cost, coms["pop_60"].to_numpy(), service_radius=radius,
                                  p_facilities=len(points) + k,
                                  predefined_facilities_arr=predefined if len(points) else None)
    t_build = time.perf_counter() - t1
    print(f"stage: PuLP model built in {t_build:.1f} s; CBC solving", file=sys.stderr, flush=True)
    left = max(cap - (time.perf_counter() - t0), 1.0)
    t2 = time.perf_counter()
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=left), results=False)
    t_solve = time.perf_counter() - t2
    prob = model.problem
    return {"seconds": t_matrix + t_build + t_solve, "matrix_seconds": t_matrix, "build_seconds": t_build,
            "solve_seconds": t_solve, "objective": float(pulp.value(prob.objective) or 0.0),
            "status": pulp.LpStatus[prob.status], "sol_status": int(prob.sol_status),
            "finished": int(prob.sol_status) == pulp.LpSolutionOptimal}


def _limit_memory():
    limit = SPOPT_MEMORY_GB * 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_spopt(scale: int, radius: float, k: int, cap: float, fixed: bool) -> dict:
    """spopt in a child process: wall time capped at `cap` seconds, memory at SPOPT_MEMORY_GB."""
    cmd = [sys.executable, "-m", "bench.site_selection", "--spopt-worker", f"{scale},{radius},{k},{cap},{int(fixed)}"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cap + 5,
                              preexec_fn=_limit_memory, env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        stages = [line[len("stage: "):] for line in err.splitlines() if line.startswith("stage: ")]
        where = stages[-1] if stages else "before the cost matrix was built"
        return {"seconds": time.perf_counter() - t0, "finished": False, "objective": None,
                "status": f"not finished: wall-time cap {cap:g} s (last stage reached: {where})"}
    if proc.returncode != 0:
        why = "memory cap" if "MemoryError" in proc.stderr else f"exit {proc.returncode}"
        return {"seconds": time.perf_counter() - t0, "finished": False, "objective": None,
                "status": f"not finished: {why}", "stderr": proc.stderr[-400:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["seconds"] > cap:
        out["finished"] = False
    if not out["finished"]:
        out["status"] = f"not finished: CBC stopped at the time limit ({out['status']})"
    return out


# --- driver ------------------------------------------------------------------------------------------------------

def _stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def bench_case(scale: int, radius: float, k: int, time_limit: float, fixed: bool, runs: int, cap: float) -> dict:
    ours = [run_project(scale, radius, k, time_limit, fixed) for _ in range(runs)]
    theirs = [run_spopt(scale, radius, k, cap, fixed) for _ in range(runs)]
    case = {"scale": scale, "radius_m": radius, "k": k, "fixed_meal_points": fixed,
            "project_time_limit_s": time_limit, "spopt_cap_s": cap,
            "runs": runs, "model": ours[0]["model"],
            "project": {"seconds": _stats([r["seconds"] for r in ours]),
                        "build_seconds": _stats([r["build_seconds"] for r in ours]),
                        "solve_seconds": _stats([r["solve_seconds"] for r in ours]),
                        "objective": ours[0]["objective"], "status": [r["status"] for r in ours],
                        "gap": [r["gap"] for r in ours], "bound": ours[0]["bound"],
                        "greedy_objective": ours[0]["greedy_objective"],
                        "share_before": ours[0]["share_before"], "share_after": ours[0]["share_after"]},
            "spopt": {"seconds": _stats([r["seconds"] for r in theirs]), "finished": [r["finished"] for r in theirs],
                      "objective": [r.get("objective") for r in theirs], "status": [r["status"] for r in theirs],
                      "runs": theirs}}
    t_ours, t_theirs = case["project"]["seconds"]["median"], case["spopt"]["seconds"]["median"]
    case["time_ratio_spopt_over_project"] = t_theirs / t_ours if t_ours > 0 else None
    objs = [o for o in case["spopt"]["objective"] if o is not None]
    case["objective_ratio_project_over_spopt"] = (ours[0]["objective"] / max(objs)) if objs and max(objs) > 0 else None
    return case


def _fmt_case(c: dict) -> list[str]:
    p, s = c["project"], c["spopt"]
    fin = sum(s["finished"])
    objs = [o for o in s["objective"] if o is not None]
    spopt_obj = f"{max(objs):,.0f}" if objs else "—"
    ratio = c["time_ratio_spopt_over_project"]
    ratio_text = (">" if fin < c["runs"] else "") + f"{ratio:,.1f}×"
    return [
        f"×{c['scale']:<4} r={c['radius_m']:>5.0f} m  k={c['k']:<5} {'planning  ' if c['fixed_meal_points'] else 'greenfield'} "
        f"model {c['model']['demand_groups']:,} groups × {c['model']['candidates']:,} candidates "
        f"(from {c['model']['communities']:,} communities × {c['model']['rooms']:,} rooms)",
        f"   project  time {p['seconds']['median']:8.3f} s (min {p['seconds']['min']:.3f}, max {p['seconds']['max']:.3f})"
        f"  objective {p['objective']:,.0f}  status {p['status'][0]}  gap {p['gap'][0]}"
        f"  greedy {p['greedy_objective']:,.0f}",
        f"   spopt    time {s['seconds']['median']:8.3f} s (min {s['seconds']['min']:.3f}, max {s['seconds']['max']:.3f})"
        f"  objective {spopt_obj}  finished {fin}/{c['runs']}  ({s['status'][0]})",
        f"   spopt/project time ratio {ratio_text}   objective ratio project/spopt "
        f"{c['objective_ratio_project_over_spopt'] if c['objective_ratio_project_over_spopt'] is None else round(c['objective_ratio_project_over_spopt'], 4)}",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="选址分析基准：本项目求解器 vs spopt MCLP")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--spopt-cap", type=float, default=None, help="spopt wall-time cap in seconds (default 60 at ×1, 120 at ×100)")
    ap.add_argument("--scales", default="1,100")
    ap.add_argument("--spopt-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.spopt_worker:
        scale, radius, k, cap, fixed = args.spopt_worker.split(",")
        print(json.dumps(spopt_worker(int(scale), float(radius), int(k), float(cap), fixed == "1")))
        return 0
    cases = []
    for scale in [int(s) for s in args.scales.split(",")]:
        for sc, radius, k, tl, fixed in CASES[scale]:
            cap = args.spopt_cap or (60.0 if scale == 1 else 120.0)
            c = bench_case(sc, radius, k, tl, fixed, max(args.runs, 3), cap)
            cases.append(c)
            print("\n".join(_fmt_case(c)), flush=True)
    out = {"benchmark": "site_selection", "machine": {"platform": platform.platform(), "python": platform.python_version(),
                                                      "cpus": os.cpu_count()},
           "when": time.strftime("%Y-%m-%d %H:%M:%S"), "cases": cases}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"written {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
