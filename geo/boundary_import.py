"""街道边界导入校验: read the bureau's official subdistrict boundary file and check it before it replaces the schematic layer.

Accepts GeoJSON (.geojson / .json) or a zipped Shapefile (.zip with .shp/.shx/.dbf, .prj and .cpg when
present). Every subdistrict must be matched by code (NBS or MCA) or name, every geometry must be a valid
polygon inside the district outline (with a tolerance), and the coordinate system must be declared in the
file or chosen by the user. Problems are reported in Chinese, naming the feature and what is wrong.
The result holds one WGS-84 GeoJSON geometry per subdistrict code, ready to store.
"""
from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from geo import gcj02
from geo.layers import METRIC_CRS

GCJ02 = "GCJ-02"
WGS84 = "EPSG:4326"
# Systems a Chinese boundary file is usually in; any other EPSG code can be typed in.
CRS_CHOICES: dict[str, str] = {
    "EPSG:4490": "CGCS2000 经纬度（EPSG:4490，自然资源/民政界线数据常用）",
    "EPSG:4326": "WGS-84 经纬度（EPSG:4326）",
    "EPSG:4527": "CGCS2000 3度带 第39带，坐标带带号（EPSG:4527）",
    "EPSG:4548": "CGCS2000 3度带 中央经线117°E，不带带号（EPSG:4548）",
    "EPSG:4509": "CGCS2000 6度带 中央经线117°E（EPSG:4509）",
    "EPSG:32650": "WGS-84 / UTM 50N（EPSG:32650）",
    GCJ02: "GCJ-02 火星坐标（高德、腾讯地图导出的数据）",
}
INSIDE_TOLERANCE_M = 200.0   # the district outline is a simplified AMap copy: allow this much slack
MAX_OUTSIDE_SHARE = 0.02     # a subdistrict may stick out of outline+tolerance by at most 2 % of its area
MIN_DISTRICT_SHARE = 0.90    # all subdistricts together should cover ≥ 90 % of the district
MAX_OVERLAP_SHARE = 0.01     # two subdistricts may overlap by ≤ 1 % of the smaller one
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
OUTPUT_GRID = 1e-6           # stored coordinates: 6 decimals (~0.1 m)

_VALIDITY_CN = [
    ("Ring Self-intersection", "边界环自相交"),
    ("Self-intersection", "边界自相交"),
    ("Too few points", "顶点过少"),
    ("Hole lies outside shell", "内环（洞）位于外环之外"),
    ("Nested holes", "内环互相嵌套"),
    ("Interior is disconnected", "面的内部被分割成不相连的部分"),
    ("Nested shells", "多个外环互相嵌套"),
    ("Duplicate Rings", "存在重复的环"),
    ("Invalid Coordinate", "坐标无效（非数字或无穷大）"),
    ("Ring is not closed", "边界环未闭合"),
]


class BoundaryFileError(ValueError):
    """The file cannot be read at all; the message is Chinese."""


@dataclass
class BoundaryImport:
    """Outcome of validating one uploaded file."""
    boundaries: dict[str, dict] = field(default_factory=dict)   # subdistrict code → GeoJSON geometry (WGS-84)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_crs: str | None = None
    needs_crs: bool = False
    matches: pd.DataFrame = field(default_factory=pd.DataFrame)   # one row per feature: how it was matched

    @property
    def ok(self) -> bool:
        return not self.errors and not self.needs_crs and bool(self.boundaries)


@dataclass
class _Feature:
    index: int            # 1-based, as a person counts
    properties: dict
    geometry: object      # shapely geometry or None


# --- reading ------------------------------------------------------------------------------------

def _crs_from_text(text: str) -> str | None:
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        return None
    if crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return WGS84
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def _read_geojson(data: bytes) -> tuple[list[_Feature], str | None, list[str]]:
    notes: list[str] = []
    text = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise BoundaryFileError("GeoJSON 文件的文字编码无法识别（应为 UTF-8）。")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BoundaryFileError(f"GeoJSON 文件格式错误：第 {exc.lineno} 行第 {exc.colno} 列附近无法解析。") from exc
    if not isinstance(doc, dict):
        raise BoundaryFileError("GeoJSON 文件内容不是一个对象（应为 FeatureCollection）。")
    if doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise BoundaryFileError("GeoJSON 文件应为 FeatureCollection（要素集合），且每个要素带有街道名称或代码属性。")
    declared = None
    crs_member = doc.get("crs")
    if isinstance(crs_member, dict):
        name = (crs_member.get("properties") or {}).get("name")
        if name:
            declared = _crs_from_text(str(name))
            if declared is None:
                raise BoundaryFileError(f"GeoJSON 声明的坐标系“{name}”无法识别，请在下方选择坐标系后重试。")
    features = []
    for i, feat in enumerate(doc["features"], start=1):
        if not isinstance(feat, dict):
            raise BoundaryFileError(f"第 {i} 个要素不是 GeoJSON 要素对象。")
        geom = None
        if feat.get("geometry"):
            try:
                geom = shape(feat["geometry"])
            except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
                geom = _Unreadable(str(exc))
        features.append(_Feature(i, dict(feat.get("properties") or {}), geom))
    return features, declared, notes


class _Unreadable:
    """Marker for a geometry shapely could not build."""
    def __init__(self, reason: str):
        self.reason = reason


def _read_shapefile_zip(data: bytes, subdistricts: pd.DataFrame) -> tuple[list[_Feature], str | None, list[str]]:
    import pyogrio  # local: only this path needs GDAL

    notes: list[str] = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BoundaryFileError("压缩包已损坏或不是 .zip 文件。") from exc
    members = [m for m in archive.infolist() if not m.is_dir() and not PurePosixPath(m.filename).name.startswith(".")
               and "__MACOSX" not in m.filename]
    shps = [m for m in members if m.filename.lower().endswith(".shp")]
    if not shps:
        raise BoundaryFileError("压缩包中没有 .shp 文件。请把 .shp、.shx、.dbf、.prj（以及 .cpg）一起压缩后上传。")
    if len(shps) > 1:
        names = "、".join(PurePosixPath(m.filename).name for m in shps)
        raise BoundaryFileError(f"压缩包中有多个图层（{names}），请只保留街道界线一个图层。")
    stem = shps[0].filename[:-4]
    parts = {m.filename[len(stem):].lower(): m for m in members if m.filename[:len(stem)] == stem}
    for ext, what in ((".shx", "索引文件 .shx"), (".dbf", "属性表 .dbf")):
        if ext not in parts:
            raise BoundaryFileError(f"压缩包中缺少{what}，无法读取 Shapefile。")
    with tempfile.TemporaryDirectory() as tmp:
        for ext, member in parts.items():
            if ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                # write under a fixed safe name; never trust paths inside the archive
                (Path(tmp) / f"layer{ext}").write_bytes(archive.read(member))
        path = str(Path(tmp) / "layer.shp")
        encodings = [None] if ".cpg" in parts else ["utf-8", "gbk"]
        best = None
        for enc in encodings:
            try:
                gdf = pyogrio.read_dataframe(path, encoding=enc) if enc else pyogrio.read_dataframe(path)
            except Exception as exc:  # GDAL raises several types; any failure means "try the next encoding"
                last_error = exc
                continue
            index = _Index(subdistricts)
            score = sum(1 for row in gdf.drop(columns="geometry").to_dict("records")
                        if _match_feature(row, index)[0] is not None)
            if best is None or score > best[0]:
                best = (score, gdf, enc)
        if best is None:
            raise BoundaryFileError(f"Shapefile 无法读取：{last_error}")
        _, gdf, enc = best
        if enc == "gbk":
            notes.append("属性表按 GBK 编码读取（压缩包中没有 .cpg 编码文件）。")
    declared = None
    if gdf.crs is not None:
        declared = _crs_from_text(gdf.crs.to_wkt())
    elif ".prj" not in parts:
        notes.append("压缩包中没有 .prj 坐标系文件。")
    features = []
    for i, (_, row) in enumerate(gdf.iterrows(), start=1):
        props = {k: (None if pd.isna(v) else v) for k, v in row.drop(labels="geometry").items()}
        features.append(_Feature(i, props, row.geometry))
    return features, declared, notes


def read_features(data: bytes, filename: str, subdistricts: pd.DataFrame) -> tuple[list[_Feature], str | None, list[str]]:
    """Features, the CRS the file declares (None when it declares none) and reading notes."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise BoundaryFileError(f"文件过大（{len(data) / 1e6:.1f} MB），上限 {MAX_UPLOAD_BYTES // 1024 // 1024} MB。")
    name = (filename or "").lower()
    if name.endswith(".zip"):
        return _read_shapefile_zip(data, subdistricts)
    if name.endswith((".geojson", ".json")):
        return _read_geojson(data)
    if name.endswith((".shp", ".dbf", ".shx")):
        raise BoundaryFileError("请把 Shapefile 的 .shp、.shx、.dbf、.prj 等文件一起压缩成 .zip 后上传。")
    raise BoundaryFileError("只支持 GeoJSON（.geojson / .json）或压缩的 Shapefile（.zip）。")


# --- matching -----------------------------------------------------------------------------------

def _strip_name(text: str) -> str:
    text = re.sub(r"\s+", "", text)
    for prefix in ("江西省", "南昌市", "西湖区"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


class _Index:
    """Subdistrict codes (NBS and MCA) and names → NBS code, built once per file."""

    def __init__(self, subdistricts: pd.DataFrame):
        self.by_code: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for sd in subdistricts.to_dict("records"):
            code = str(sd["code"])
            self.by_code[code] = code
            if sd.get("code_mca") and not pd.isna(sd.get("code_mca")):
                self.by_code[str(sd["code_mca"])] = code
            self.by_name[sd["name"]] = code
            self.by_name[sd["name"].removesuffix("街道")] = code

    def code_of(self, value: str) -> str | None:
        digits = value.split(".")[0]  # numeric codes may come back as floats from a .dbf
        if digits in self.by_code:
            return self.by_code[digits]
        if len(digits) == 12 and digits.endswith("000"):  # 12-digit statistical code of a township
            return self.by_code.get(digits[:9])
        return None

    def name_of(self, value: str) -> str | None:
        name = _strip_name(value)
        return self.by_name.get(name) or self.by_name.get(name.removesuffix("办事处"))


def _match_feature(props: dict, index: _Index) -> tuple[str | None, str, list[str]]:
    """(code or None, how it matched, conflicting codes) for one feature's properties."""
    values = [str(v).strip() for v in props.values() if v is not None and str(v).strip()]
    by_code = {c for c in map(index.code_of, values) if c}
    by_name = {c for c in map(index.name_of, values) if c}
    if len(by_code) == 1:
        code = next(iter(by_code))
        return code, "代码", sorted(by_name - {code})
    if len(by_code) > 1:
        return None, "代码冲突", sorted(by_code)
    if len(by_name) == 1:
        return next(iter(by_name)), "名称", []
    if len(by_name) > 1:
        return None, "名称冲突", sorted(by_name)
    return None, "未匹配", []


def _feature_label(f: _Feature) -> str:
    named = [str(v) for v in f.properties.values()
             if isinstance(v, str) and re.search(r"[\u4e00-\u9fff]", v)]
    if named:
        return f"第 {f.index} 个要素（{named[0][:30]}）"
    shown = "，".join(f"{k}={v}" for k, v in list(f.properties.items())[:3])
    return f"第 {f.index} 个要素（{shown[:60] or '无属性'}）"


# --- coordinates --------------------------------------------------------------------------------

def _looks_geographic(geom) -> bool:
    xy = shapely.get_coordinates(geom)
    return bool(len(xy)) and bool(np.all(np.abs(xy[:, 0]) <= 180) and np.all(np.abs(xy[:, 1]) <= 90))


def _to_wgs84(geom, crs: str):
    if crs == WGS84 or crs == "EPSG:4490":  # CGCS2000 ≈ WGS-84 at map scale (< 1 m)
        return geom
    if crs == GCJ02:
        return shapely.transform(geom, lambda xy: np.column_stack(gcj02.gcj02_to_wgs84_array(xy[:, 0], xy[:, 1])))
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _metric(geom):
    t = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _validity_cn(geom) -> str:
    reason = explain_validity(geom)
    where = ""
    m = re.search(r"\[([-\d.eE]+) ([-\d.eE]+)\]", reason)
    if m:
        where = f"（位置约 {float(m[1]):.6f}, {float(m[2]):.6f}）"
    for en, cn in _VALIDITY_CN:
        if reason.startswith(en):
            return cn + where
    return f"几何不合法（{reason}）"


# --- the whole check ----------------------------------------------------------------------------

def validate_boundaries(data: bytes, filename: str, subdistricts: pd.DataFrame, district, *,
                        crs: str | None = None, tolerance_m: float = INSIDE_TOLERANCE_M) -> BoundaryImport:
    """Check an uploaded boundary file against the subdistrict list and the district outline.

    subdistricts: DataFrame with code, name and (optionally) code_mca.
    district: the district outline as a shapely geometry in WGS-84.
    crs: the coordinate system the user chose ("EPSG:…" or "GCJ-02"); overrides what the file declares.
    """
    result = BoundaryImport()
    try:
        features, declared, notes = read_features(data, filename, subdistricts)
    except BoundaryFileError as exc:
        result.errors.append(str(exc))
        return result
    result.notes.extend(notes)
    if not features:
        result.errors.append("文件中没有任何要素。")
        return result

    # 1. which coordinate system
    chosen = crs or declared
    if crs and declared and crs != declared:
        result.warnings.append(f"文件声明的坐标系是 {declared}，已按您选择的 {crs} 处理。")
    if chosen is None:
        if filename.lower().endswith((".geojson", ".json")) and all(
                f.geometry is None or isinstance(f.geometry, _Unreadable) or _looks_geographic(f.geometry)
                for f in features):
            chosen = WGS84
            result.notes.append("GeoJSON 文件未声明坐标系，按 GeoJSON 标准（RFC 7946）视为 WGS-84 经纬度。")
        else:
            result.needs_crs = True
            result.errors.append("文件没有声明坐标系（缺少 .prj 或 crs），且坐标不是经纬度。请在下方选择文件的坐标系后重新校验。")
            return result
    if chosen != GCJ02:
        try:
            crs_obj = CRS.from_user_input(chosen)
        except CRSError:
            result.errors.append(f"坐标系“{chosen}”无法识别，请填写 EPSG 代码，如 EPSG:4490。")
            return result
        geographic = crs_obj.is_geographic
    else:
        geographic = True
    result.source_crs = chosen

    # 2. match every feature to a subdistrict
    rows, by_code = [], {}
    index = _Index(subdistricts)
    names = dict(zip(subdistricts["code"], subdistricts["name"]))
    for f in features:
        code, how, conflict = _match_feature(f.properties, index)
        label = _feature_label(f)
        if code is None:
            if how == "未匹配":
                result.errors.append(f"{label}：按代码或名称都找不到对应的街道。")
            else:
                listed = "、".join(names.get(c, c) for c in conflict)
                result.errors.append(f"{label}：属性同时指向多个街道（{listed}），无法确定是哪一个。")
        elif conflict:
            listed = "、".join(names.get(c, c) for c in conflict)
            result.errors.append(f"{label}：代码指向{names[code]}，但名称指向{listed}，请核对属性表。")
        rows.append({"要素": f.index, "要素说明": label, "匹配街道": names.get(code, "—") if code else "—",
                     "街道代码": code or "—", "匹配方式": how})
        if code and not conflict:
            by_code.setdefault(code, []).append(f)
    result.matches = pd.DataFrame(rows)
    for _, sd in subdistricts.iterrows():
        if sd["code"] not in by_code:
            result.errors.append(f"文件中没有{sd['name']}（{sd['code']}）的边界。")

    # 3. geometry of each subdistrict: polygons, valid, in range, inside the district
    district_m = _metric(district)
    allowed = district_m.buffer(tolerance_m)
    names = dict(zip(subdistricts["code"], subdistricts["name"]))
    metric_parts: dict[str, object] = {}
    for code, feats in by_code.items():
        parts = []
        for f in feats:
            label = _feature_label(f)
            g = f.geometry
            if g is None or (not isinstance(g, _Unreadable) and g.is_empty):
                result.errors.append(f"{label}：没有几何图形。")
                continue
            if isinstance(g, _Unreadable):
                result.errors.append(f"{label}：几何图形无法读取（{g.reason}）。")
                continue
            if g.geom_type not in ("Polygon", "MultiPolygon"):
                result.errors.append(f"{label}：几何类型是 {g.geom_type}，街道边界应为面（Polygon / MultiPolygon）。")
                continue
            if not g.is_valid:
                result.errors.append(f"{label}：面不合法——{_validity_cn(g)}。请在 GIS 软件中修复后重新上传。")
                continue
            if geographic and not _looks_geographic(g):
                result.errors.append(f"{label}：坐标超出经纬度范围，文件可能是投影坐标，请选择正确的坐标系。")
                continue
            if not geographic and _looks_geographic(g):
                result.errors.append(f"{label}：坐标看起来是经纬度，与所选投影坐标系 {chosen} 不符。")
                continue
            wgs = _to_wgs84(g, chosen)
            if not shapely.is_valid(wgs):
                wgs = shapely.make_valid(wgs)
            parts.append(wgs)
        if not parts or len(parts) < len(feats):
            continue
        geom = shapely.union_all(parts) if len(parts) > 1 else parts[0]
        if len(parts) > 1:
            result.warnings.append(f"{names[code]}由 {len(parts)} 个要素合并为一个边界。")
        gm = _metric(geom)
        area = gm.area
        if area <= 0:
            result.errors.append(f"{names[code]}：面积为零。")
            continue
        outside = gm.difference(allowed).area
        if outside / area > MAX_OUTSIDE_SHARE:
            hint = f"请确认坐标系（当前按 {CRS_CHOICES.get(chosen, chosen)}）是否正确。"
            if chosen in (WGS84, "EPSG:4490"):
                shifted = _metric(_to_wgs84(geom, GCJ02))
                if shifted.difference(allowed).area / shifted.area <= MAX_OUTSIDE_SHARE:
                    hint = "整体偏移约 600 米，疑似高德（GCJ-02）坐标：如确是高德导出的数据，请选择“GCJ-02”后重新校验。"
            result.errors.append(
                f"{names[code]}：有 {outside / area:.1%} 的面积（{outside / 1e6:.2f} 平方公里）在西湖区界线之外"
                f"（容差 {tolerance_m:.0f} 米）。{hint}")
            continue
        metric_parts[code] = gm
        out = shapely.set_precision(geom, OUTPUT_GRID)
        if out.is_empty or not out.is_valid:
            out = geom
        result.boundaries[code] = mapping(out)

    # 4. the layer as a whole (warnings only)
    if metric_parts and not result.errors:
        union = shapely.union_all(list(metric_parts.values()))
        share = union.intersection(district_m).area / district_m.area if district_m.area else 0
        if share < MIN_DISTRICT_SHARE:
            result.warnings.append(f"全部街道边界合计只覆盖西湖区面积的 {share:.0%}，请确认文件是否完整。")
        codes = list(metric_parts)
        geoms = [metric_parts[c] for c in codes]
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for a, b in zip(left, right):
            if a >= b:
                continue
            inter = geoms[a].intersection(geoms[b]).area
            if inter > MAX_OVERLAP_SHARE * min(geoms[a].area, geoms[b].area):
                result.warnings.append(
                    f"{names[codes[a]]}与{names[codes[b]]}重叠 {inter / 1e6:.3f} 平方公里，请核对界线。")
    if result.errors:
        result.boundaries = {}
    return result
