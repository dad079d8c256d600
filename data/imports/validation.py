"""Validation of a ledger file, column by column on whole pandas Series (100,000 rows in about a second).

Every problem names the Excel row (header = row 1) and the Chinese column; a cell that fails to parse becomes
missing in the cleaned frame, so later checks do not report it twice. Nothing here writes.

A problem quotes a cell only through `excerpt`: at most EXCERPT_CHARS characters, ID numbers and phone numbers masked
(data.security.masking), control characters shown as “�” — so a problem list, a refusal message and its audit row stay small
and hold no personal number in clear, whatever the file holds. A cell holding a control character (NUL …), a formula,
a link to another workbook or an error value is refused by name (file, row, column) and not checked further.

Numbers, dates, ID numbers and phones are read in their full-width forms too (１２３, ２０２４／６／１, Ｘ — Unicode
NFKC), and a date column accepts an Excel serial date (45292 = 2024-01-01, five digits: 1927-05-18 … 2173-10-14).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.engine import Connection

from data.security.access import Principal
from data.security.idcard import CHECK_CHARS, EARLIEST_BIRTH_YEAR, WEIGHTS
from data.imports.ledgers import EARLIEST_BIRTH, EARLIEST_EVENT, Col, Ledger
from data.imports.reading import FlaggedCell
from data.security.masking import mask_id_number, mask_phone
from data.db.models import (
    FACILITY_KINDS,
    AidHousehold,
    AidPerson,
    Community,
    Facility,
    LivingAloneElder,
    Subdistrict,
)
from geo.gcj02 import gcj02_to_wgs84_array
from geo.layers import inside_district

FUZZY_CUTOFF = 60
TRUE_WORDS = ("是", "有", "true", "1", "yes", "y", "√", "✓")
FALSE_WORDS = ("否", "无", "没有", "false", "0", "no", "n", "×")
_PHONE = r"^\+?[0-9][0-9\- ]{5,18}[0-9]$"
LON_RANGE, LAT_RANGE = (73.0, 136.0), (3.0, 54.0)   # China; anything else is not a coordinate of the district
EXCERPT_CHARS = 20          # characters of a cell a problem may quote
SUGGEST_MAX_CHARS = 60      # longer values get no fuzzy suggestion (nothing close, and costly to compare)
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"   # control characters (tab, line feed, return are text)
_CONTROL = re.compile(CONTROL)
_ID_LIKE = re.compile(r"(?<![0-9])(?:\d{17}[\dXx]|\d{15})(?![0-9])")
_PHONE_LIKE = re.compile(r"(?<![0-9])(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?![0-9])")
_LONG_DIGITS = re.compile(r"\d{7,}")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")   # serial 1 = 1900-01-01 (Excel's 1900 date system, after its 29 Feb 1900)
FULL_WIDTH_KINDS = ("int", "float", "money", "lon", "lat", "date", "idcard", "phone")


class Problems:
    """Problems as (row, column, problem) frames, collected from whole-column checks."""

    def __init__(self):
        self.parts: list[pd.DataFrame] = []
        self.cells: set[tuple[int, str]] = set()   # (row, column) refused as a whole: no further problem there

    def add(self, mask: pd.Series, column: str, message) -> None:
        mask = mask.fillna(False).astype(bool) if mask.dtype != bool else mask
        if not mask.any():
            return
        rows = mask.index[mask.to_numpy()]
        msg = message.loc[rows].to_numpy() if isinstance(message, pd.Series) else message
        self.parts.append(pd.DataFrame({"row": rows.to_numpy(dtype="int64"), "column": column, "problem": msg}))

    def add_one(self, column: str | None, message: str, row: int | None = None) -> None:
        self.parts.append(pd.DataFrame({"row": [row], "column": [column], "problem": [message]}))

    def add_cells(self, mask: pd.Series, column: str, message) -> None:
        """Cells refused as a whole (control character, formula …): the one problem reported for each such cell."""
        before = len(self.parts)
        self.add(mask, column, message)
        if len(self.parts) > before:
            part = self.parts[-1]
            part["_cell"] = True
            self.cells.update((int(r), column) for r in part["row"])

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def frame(self, file_name: str, sheet_name: str, order: list[str]) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["file", "sheet", "row", "column", "problem"])
        out = pd.concat(self.parts, ignore_index=True)
        if "_cell" in out:
            if self.cells:
                key = pd.Series(list(zip(out["row"].fillna(-1).astype("int64"), out["column"])), index=out.index)
                other = out["_cell"].isna() & key.isin(self.cells)
                out = out[~other]
            out = out.drop(columns=["_cell"])
        rank = {h: i for i, h in enumerate(order)}
        out["_c"] = out["column"].map(lambda c: rank.get(c, len(rank)))
        out["_r"] = out["row"].fillna(0)
        out = out.sort_values(["_r", "_c"], kind="stable").drop(columns=["_r", "_c"])
        out.insert(0, "sheet", sheet_name)
        out.insert(0, "file", file_name)
        out["row"] = out["row"].astype("Int64")
        return out.reset_index(drop=True)


@dataclass
class Context:
    conn: Connection
    ledger: Ledger
    principal: Principal | None   # None: one record from an edit form, whose write authorises it (data.writes)
    gcj02: bool
    today: date
    problems: Problems = field(default_factory=Problems)
    cells: list[FlaggedCell] = field(default_factory=list)   # formula / error cells found by the reader
    street_header: str = "街道"   # the column that decides a row's subdistrict (for the 街道 account check)
    _facilities: pd.DataFrame | None = None

    @property
    def facilities(self) -> pd.DataFrame:
        if self._facilities is None:
            t = Facility.__table__
            rows = self.conn.execute(select(t.c.id, t.c.code, t.c.name, t.c.kind, t.c.subdistrict_code,
                                            t.c.opened_on, t.c.closed_on)).all()
            self._facilities = pd.DataFrame(rows, columns=["id", "code", "name", "kind", "subdistrict_code",
                                                           "opened_on", "closed_on"])
        return self._facilities


# --- helpers ----------------------------------------------------------------------------------------------------

def excerpt(value, kind: str | None = None, limit: int = EXCERPT_CHARS) -> str:
    """A cell as a problem may quote it: control characters shown as “�”, an ID number or phone masked (the whole
    value for an idcard / phone column; ID- and phone-like digit runs anywhere else; any other run of 7+ digits cut
    after its first 3 once the excerpt is cut), at most `limit` characters (“…” marks a cut)."""
    text = "" if value is None else str(value)
    cut = len(text) > limit
    text = text[:limit * 2]   # enough to mask a number standing at the cut
    text = _CONTROL.sub("�", text)
    digits = sum(ch.isdigit() for ch in text)
    if kind == "idcard" and digits >= 6:
        text = mask_id_number(text) if len(text) > 10 else "*" * len(text)
    elif kind == "phone" and digits >= 5:
        text = mask_phone(text)
    else:   # no personal number to hide in the column's own sense: masked by pattern, like any text
        text = _ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), text)
        text = _PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), text)
    if cut or len(text) > limit:
        text = _LONG_DIGITS.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), text[:limit]) + "…"
    return text


def quoted(s: pd.Series, kind: str | None = None) -> pd.Series:
    """“excerpt” of each value: short plain values as they are, the others through `excerpt` once per distinct value."""
    text = s.astype(str)
    out = "“" + text + "”"
    odd = pd.Series(True, index=text.index) if kind in ("idcard", "phone") else (
        (text.str.len() > EXCERPT_CHARS) | text.str.contains(r"\d{7}|" + CONTROL, regex=True, na=False))
    if odd.any():
        uniq = {v: "“" + excerpt(v, kind) + "”" for v in pd.unique(text[odd])}
        out[odd] = text[odd].map(uniq)
    return out


def quote(value, kind: str | None = None) -> str:
    return "“" + excerpt(value, kind) + "”"


def full_width_to_ascii(raw: pd.Series) -> pd.Series:
    """１２３ → 123, ２０２４／６／１ → 2024/6/1, Ｘ → X, －５ → -5 (NFKC), only where a cell has such characters."""
    odd = raw.str.contains(r"[^\x00-\x7f]", regex=True, na=False)
    if not odd.any():
        return raw
    out = raw.copy()
    out[odd] = raw[odd].map(lambda v: unicodedata.normalize("NFKC", v).strip())
    return out


def suggest(value: str, choices: list[str]) -> str:
    """'，您是不是要找：X？' for the closest choice, or ''."""
    if not choices or not value or len(value) > SUGGEST_MAX_CHARS:
        return ""
    hit = process.extractOne(value, choices, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF)
    return f"。您是不是要找：{hit[0]}？" if hit else ""


def _suggestions(values: pd.Series, choices: list[str]) -> pd.Series:
    """suggest() for each distinct value only (typically a handful of distinct typos in a large file)."""
    uniq = {v: suggest(v, choices) for v in pd.unique(values)}
    return values.map(uniq)


def _blank(raw: pd.Series) -> pd.Series:
    return raw == ""


def parse_dates(raw: pd.Series) -> pd.Series:
    """2024-06-01, 2024/6/1, 2024.6.1, 20240601, 2024年6月1日 (and Excel dates, already ISO), an Excel serial date
    of five digits (45292 → 2024-01-01; a date cell pasted or saved as a plain number), full-width digits → datetime64."""
    raw = full_width_to_ascii(raw)
    t = raw.str.replace(r"[年月./]", "-", regex=True).str.replace("日", "", regex=False).str.strip()
    t = t.str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})[ T]00:00(:00)?$", r"\1", regex=True)
    eight = t.str.fullmatch(r"\d{8}")
    t = t.where(~eight, t.str.slice(0, 4) + "-" + t.str.slice(4, 6) + "-" + t.str.slice(6, 8))
    out = pd.to_datetime(t, format="%Y-%m-%d", errors="coerce")
    serial = out.isna() & raw.str.fullmatch(r"\d{5}(?:\.0+)?", na=False)
    if serial.any():
        days = pd.to_numeric(raw[serial], errors="coerce")
        out[serial] = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    return out


def _as_dates(parsed: pd.Series) -> pd.Series:
    """datetime64 → object Series of datetime.date (None when missing), as the database returns them."""
    out = pd.Series([None] * len(parsed), index=parsed.index, dtype=object)
    ok = parsed.notna()
    if ok.any():
        out[ok] = parsed[ok].dt.date
    return out


def idcard_problems(ids: pd.Series, today: date) -> pd.Series:
    """For each non-blank ID number: '' when valid (GB 11643), else the problem in Chinese."""
    s = ids.str.upper()
    out = pd.Series("", index=s.index, dtype=object)
    sci = s.str.contains(r"E\+", regex=True)
    out[sci] = "被 Excel 变成了科学计数法，请把该列设为“文本”格式后重新填写完整的 18 位号码"
    is15 = s.str.fullmatch(r"[0-9]{15}")   # ASCII digits only (\d would take other scripts’ digits)
    is18 = s.str.fullmatch(r"[0-9]{17}[0-9X]")
    wrong = ~sci & ~is15 & ~is18
    out[wrong] = "应为 18 位（末位可为 X），现为 " + s[wrong].str.len().astype(str) + " 位或含其他字符"
    if is18.any():
        d = s[is18]
        digits = np.frombuffer(d.str.slice(0, 17).str.cat().encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
        check = np.array(list(CHECK_CHARS))[(digits.astype(np.int64) @ np.array(WEIGHTS)) % 11]
        born = pd.to_datetime(d.str.slice(6, 14), format="%Y%m%d", errors="coerce")
        bad_birth = born.isna() | (born.dt.year < EARLIEST_BIRTH_YEAR) | (born > pd.Timestamp(today))
        out[d.index[bad_birth.to_numpy()]] = "第 7–14 位的出生日期不是有效日期"
        bad_check = (~bad_birth.to_numpy()) & (check != d.str.slice(17, 18).to_numpy())
        idx = d.index[bad_check]
        out[idx] = ("校验位不符（按 GB 11643，前 17 位对应的末位应为 " + pd.Series(check[bad_check], index=idx)
                    + "），请核对号码")
    if is15.any():
        d = s[is15]
        born = pd.to_datetime("19" + d.str.slice(6, 12), format="%Y%m%d", errors="coerce")
        out[d.index[(born.isna() | (born > pd.Timestamp(today))).to_numpy()]] = "第 7–12 位的出生日期不是有效日期"
    return out


def birth_from_id(ids: pd.Series) -> pd.Series:
    """The birth dates written in 18- or 15-digit ID numbers (NaT when not a date)."""
    eighteen = (ids.str.len() == 18).to_numpy()
    text = pd.Series(np.where(eighteen, ids.str.slice(6, 14), "19" + ids.str.slice(6, 12)), index=ids.index)
    return pd.to_datetime(text, format="%Y%m%d", errors="coerce")


# --- one column -------------------------------------------------------------------------------------------------

def parse_column(ctx: Context, col: Col, raw: pd.Series) -> pd.Series:
    """The cleaned values of one plain column (references are resolved later); problems go to ctx."""
    p, h = ctx.problems, col.header
    if col.kind in FULL_WIDTH_KINDS:
        raw = full_width_to_ascii(raw)
    blank = _blank(raw)
    if col.required:
        p.add(blank, h, "必须填写")
    given = ~blank
    kind = col.kind
    if kind in ("text", "phone"):
        out = raw.where(given, None).astype(object)
        if col.max_len:
            n = raw.str.len()
            p.add(given & (n > col.max_len), h, f"不能超过 {col.max_len} 个字（现为 " + n.astype(str) + " 个字）")
        if kind == "phone":
            bad = given & ~raw.str.fullmatch(_PHONE)
            p.add(bad, h, "电话号码格式不对（现为" + quoted(raw, "phone") + "），应为 11 位手机号或带区号的固定电话")
        return out
    if kind in ("int", "float", "money", "lon", "lat"):
        num = pd.to_numeric(raw.str.replace(",", "", regex=False).str.replace("，", "", regex=False)
                            .str.replace("元", "", regex=False), errors="coerce")
        bad = given & (num.isna() | ~np.isfinite(num.fillna(0)))
        what = {"int": "整数", "money": "金额（元）"}.get(kind, "数字")
        p.add(bad, h, f"应为{what}（现为" + quoted(raw) + "）")
        num = num.where(~bad)
        if kind == "int":
            frac = num.notna() & (num != num.round())
            p.add(frac, h, "应为整数（现为" + quoted(raw) + "）")
            num = num.where(~frac)
        if kind == "money":
            cents = num * 100
            frac = num.notna() & ((cents - cents.round()).abs() > 1e-6)
            p.add(frac, h, "金额最多两位小数（现为" + quoted(raw) + "）")
            num = num.where(~frac)
        if kind in ("lon", "lat"):
            return num
        hint = f"，{col.range_hint}" if col.range_hint else ""
        if col.lo is not None:
            if col.lo_exclusive:
                low = num.notna() & (num <= col.lo)
                p.add(low, h, f"必须大于 {col.lo:g}（现为" + quoted(raw) + "）" + hint)
            else:
                low = num.notna() & (num < col.lo)
                if col.lo == 0:
                    p.add(low, h, "不能为负数（现为" + quoted(raw) + "）" + hint)
                else:
                    p.add(low, h, f"不能小于 {col.lo:g}（现为" + quoted(raw) + "）" + hint)
            num = num.where(~low)
        if kind == "money":
            zero = num.notna() & (num == 0)
            p.add(zero, h, "金额必须大于 0")
            num = num.where(~zero)
        if col.hi is not None:
            high = num.notna() & (num > col.hi)
            unit = "元，请核对单位是否为元" if kind == "money" else ""
            p.add(high, h, f"数值过大，不能超过 {col.hi:,.0f}{unit}（现为" + quoted(raw) + "）" + hint)
            num = num.where(~high)
        if kind == "money":
            return (num * 100).round().astype("Int64")
        if kind == "int":
            out = num.astype("Int64")
            if col.default is not None:
                out = out.where(given, col.default)
            return out
        return num.astype(float)   # "1800" reads as an integer: a float column holds floats
    if kind == "date":
        d = parse_dates(raw)
        bad = given & d.isna()
        p.add(bad, h, "应为日期，如 2024-06-01（现为" + quoted(raw) + "）")
        lo = EARLIEST_BIRTH if col.field == "birth_date" else EARLIEST_EVENT
        early = d.notna() & (d < pd.Timestamp(lo))
        p.add(early, h, f"早于 {lo:%Y-%m-%d}，请核对（现为" + quoted(raw) + "）")
        limit = ctx.today + timedelta(days=3653) if col.future else ctx.today
        late = d.notna() & (d > pd.Timestamp(limit))
        if col.future:
            p.add(late, h, "日期过远（现为" + quoted(raw) + "），请核对年份")
        else:
            p.add(late, h, f"不能是将来的日期（今天是 {ctx.today:%Y-%m-%d}，现为" + quoted(raw) + "）")
        return _as_dates(d.where(~(early | late)))
    if kind == "bool":
        low = raw.str.lower()
        out = pd.Series(np.where(low.isin(TRUE_WORDS), True, False), index=raw.index, dtype=object)
        bad = given & ~low.isin(TRUE_WORDS) & ~low.isin(FALSE_WORDS)
        p.add(bad, h, "应填“是”或“否”（现为" + quoted(raw) + "）")
        return out.where(~bad, None)
    if kind == "choice":
        lookup = {**{k: k for k in col.choices}, **{v: k for k, v in col.choices.items()}}
        out = raw.map(lookup)
        bad = given & out.isna()
        labels = list(col.choices.values())
        hint = _suggestions(raw[bad], labels) if bad.any() else pd.Series(dtype=object)
        p.add(bad, h, "应为“" + "”“".join(labels) + "”之一（现为" + quoted(raw) + "）" + hint.reindex(raw.index).fillna(""))
        out = out.astype(object)
        if col.default is not None:
            out = out.where(given, col.default)
        return out.where(out.notna(), None)
    if kind == "idcard":
        s = raw.str.upper()
        probs = idcard_problems(s, ctx.today).where(given, "")
        bad = probs != ""
        p.add(bad, h, "身份证号" + quoted(raw, "idcard") + "有误：" + probs)
        return s.where(given & ~bad, None).astype(object)
    raise ValueError(f"unknown column kind {kind!r}")


# --- references ------------------------------------------------------------------------------------------------

def resolve_streets(ctx: Context, raw: pd.Series, header: str) -> pd.Series:
    subs = ctx.conn.execute(select(Subdistrict.code, Subdistrict.name)).all()
    lookup = {}
    for code, name in subs:
        lookup[code] = code
        lookup[name] = code
        if name.endswith("街道") and len(name) > 2:
            lookup.setdefault(name[:-2], code)
    out = raw.map(lookup)
    bad = (raw != "") & out.isna()
    if bad.any():
        hint = _suggestions(raw[bad], [n for _, n in subs])
        ctx.problems.add(bad, header, quoted(raw[bad]) + "不是本区的街道" + hint)
    return out.astype(object).where(out.notna(), None)


def resolve_communities(ctx: Context, raw: pd.Series, streets: pd.Series, header: str) -> pd.Series:
    t = Community.__table__
    coms = pd.DataFrame(ctx.conn.execute(select(t.c.code, t.c.name, t.c.short_name, t.c.subdistrict_code)).all(),
                        columns=["code", "name", "short_name", "subdistrict_code"])
    sub_names = dict(ctx.conn.execute(select(Subdistrict.code, Subdistrict.name)).all())
    aliases = pd.concat([coms[["code", "subdistrict_code"]].assign(alias=coms[c]) for c in ("code", "name", "short_name")])
    aliases = aliases.drop_duplicates(["alias", "subdistrict_code"])
    rows = pd.DataFrame({"alias": raw, "street": streets, "_row": raw.index})
    given = rows[rows["alias"] != ""]
    hit = given.merge(aliases, left_on=["alias", "street"], right_on=["alias", "subdistrict_code"], how="left")
    hit = hit.drop_duplicates("_row").set_index("_row")
    out = pd.Series(None, index=raw.index, dtype=object)
    found = hit["code"].notna()
    out[hit.index[found.to_numpy()]] = hit.loc[found, "code"].to_numpy()
    missing = hit.index[~found.to_numpy()]
    if len(missing):
        alias_streets = aliases.groupby("alias")["subdistrict_code"].agg(list).to_dict()
        msgs = {}
        for row in missing:
            a, s = raw[row], streets[row]
            owners = alias_streets.get(a, [])
            if s is None and len(owners) == 1:   # street itself unknown or blank: the community alone decides
                out[row] = aliases[(aliases["alias"] == a)]["code"].iloc[0]
                continue
            if s is None and owners:
                continue   # the street problem is reported already
            if owners:
                msgs[row] = (f"{quote(a)}不属于{sub_names.get(s, s)}（属于"
                             + "、".join(sub_names.get(o, o) for o in owners) + "），请核对街道或社区")
            else:
                pool = coms if s is None else coms[coms["subdistrict_code"] == s]
                choices = list(pool["name"]) or list(coms["name"])
                msgs[row] = f"{quote(a)}不是{sub_names.get(s, '本区')}的社区" + suggest(a, choices)
        if msgs:
            m = pd.Series(msgs)
            ctx.problems.add(pd.Series(True, index=m.index), header, m)
    return out


def resolve_facilities(ctx: Context, raw: pd.Series, header: str, kinds: tuple[str, ...] | None = None) -> pd.Series:
    f = ctx.facilities
    by_code = dict(zip(f["code"], f["id"]))
    names = f["name"].value_counts()
    by_name = dict(zip(f["name"], f["id"]))
    out = raw.map(by_code)
    out = out.where(out.notna(), raw.map(by_name))
    given = raw != ""
    ambiguous = given & ~raw.isin(by_code) & raw.map(names).fillna(0).gt(1)
    ctx.problems.add(ambiguous, header, quoted(raw) + "有多个同名设施，请改填设施编号")
    out = out.where(~ambiguous)
    bad = given & out.isna() & ~ambiguous
    if bad.any():
        pool = f if kinds is None else f[f["kind"].isin(kinds)]
        hint = _suggestions(raw[bad], list(pool["name"]))
        what = "助餐点" if kinds == ("meal_point",) else "设施"
        ctx.problems.add(bad, header, quoted(raw[bad]) + f"不是已登记的{what}（请填设施名称或编号）" + hint)
    if kinds is not None:
        kind_of = dict(zip(f["id"], f["kind"]))
        k = out.map(kind_of)
        wrong = out.notna() & ~k.isin(kinds)
        ctx.problems.add(wrong, header, quoted(raw) + "不是助餐点（类型为“" + k.map(FACILITY_KINDS).fillna("") + "”）")
        out = out.where(~wrong)
    return out.astype("Int64")


def check_coordinates(ctx: Context, lon: pd.Series, lat: pd.Series, raw_lon: pd.Series, raw_lat: pd.Series
                      ) -> tuple[pd.Series, pd.Series]:
    """Range, swapped, GCJ-02 conversion (when ticked) and inside-the-district checks; returns WGS-84 lon, lat."""
    p, hlon, hlat = ctx.problems, ctx.ledger.header_of("lon"), ctx.ledger.header_of("lat")
    both = lon.notna() & lat.notna()
    swapped = both & lon.between(*LAT_RANGE) & lat.between(*LON_RANGE)
    p.add(swapped, hlon, "经度与纬度可能填反了（经度约 115.9，纬度约 28.6）")
    bad_lon = lon.notna() & ~swapped & ~lon.between(*LON_RANGE)
    bad_lat = lat.notna() & ~swapped & ~lat.between(*LAT_RANGE)
    p.add(bad_lon, hlon, "不是有效的经度（现为" + quoted(raw_lon) + "；西湖区约为 115.8–115.95）")
    p.add(bad_lat, hlat, "不是有效的纬度（现为" + quoted(raw_lat) + "；西湖区约为 28.6–28.7）")
    ok = both & ~swapped & ~bad_lon & ~bad_lat
    x, y = lon[ok].to_numpy(dtype=float), lat[ok].to_numpy(dtype=float)
    if ctx.gcj02:
        wx, wy = gcj02_to_wgs84_array(x, y)
    else:
        wx, wy = x, y
    inside = inside_district(wx, wy)
    out_lon, out_lat = lon.astype(float).copy(), lat.astype(float).copy()
    out_lon[ok], out_lat[ok] = wx, wy
    if (~inside).any():
        idx = lon[ok].index[~inside]
        other_x, other_y = (x, y) if ctx.gcj02 else gcj02_to_wgs84_array(x, y)
        other_inside = inside_district(other_x[~inside], other_y[~inside])
        base = pd.Series([f"坐标（{a:.6f}, {b:.6f}）不在西湖区范围内" for a, b in zip(x[~inside], y[~inside])], index=idx)
        hint = ("；按 WGS-84 理解则在区内，请确认是否确为高德 GCJ-02 坐标" if ctx.gcj02
                else "；看起来是高德（GCJ-02）坐标，请勾选“是GCJ-02坐标”后重新导入")
        msg = base + pd.Series(np.where(other_inside, hint, "，请核对经纬度"), index=idx)
        p.add(pd.Series(True, index=idx), f"{hlon}/{hlat}", msg)
        out_lon[idx], out_lat[idx] = np.nan, np.nan
    out_lon[~ok], out_lat[~ok] = np.nan, np.nan
    return out_lon, out_lat


# --- ledger-specific rules --------------------------------------------------------------------------------------

def _meal_records(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    f = ctx.facilities.set_index("id")
    fid = clean["facility_id"]
    known = fid.notna()
    clean["subdistrict_code"] = fid.map(f["subdistrict_code"]).where(known, None)
    ctx.street_header = "助餐点"
    day = pd.to_datetime(clean["served_on"], errors="coerce")
    opened = pd.to_datetime(fid.map(f["opened_on"]), errors="coerce")
    closed = pd.to_datetime(fid.map(f["closed_on"]), errors="coerce")
    name = raw["助餐点"]
    not_open = known & day.notna() & (opened.isna() | (day < opened))
    msg = pd.Series(np.where(opened.isna(), "尚未登记开业日期", "开业日期为 " + opened.dt.strftime("%Y-%m-%d").fillna("")),
                    index=clean.index)
    ctx.problems.add(not_open, "日期", quoted(name) + "在该日尚未开业（" + msg + "），不应有助餐记录")
    shut = known & day.notna() & closed.notna() & (day >= closed)
    ctx.problems.add(shut, "日期", quoted(name) + "已于 " + closed.dt.strftime("%Y-%m-%d").fillna("") + " 关停，不应有该日助餐记录")


def _living_alone(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    ids = clean["id_number"]
    born = birth_from_id(ids.fillna(""))
    given = raw["出生日期"] != "" if "出生日期" in raw else pd.Series(False, index=clean.index)
    stated = pd.to_datetime(clean["birth_date"], errors="coerce")
    mismatch = ids.notna() & given & stated.notna() & (stated != born)
    ctx.problems.add(mismatch, "出生日期", "与身份证号中的出生日期（" + born.dt.strftime("%Y-%m-%d").fillna("") + "）不一致")
    clean["birth_date"] = _as_dates(born.where(ids.notna()))
    enrolled = pd.to_datetime(clean["enrolled_on"], errors="coerce")
    young = ids.notna() & enrolled.notna() & born.notna() & (born + pd.DateOffset(years=60) > enrolled)
    ctx.problems.add(young, "身份证号", "按身份证号计算，纳入日期时未满 60 周岁，不属于独居老人名册范围")


def _living_alone_visits(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    t = LivingAloneElder.__table__
    elders = pd.DataFrame(ctx.conn.execute(select(t.c.id, t.c.id_number, t.c.name, t.c.subdistrict_code,
                                                  t.c.enrolled_on, t.c.left_on)).all(),
                          columns=["id", "id_number", "name", "subdistrict_code", "enrolled_on", "left_on"])
    e = elders.assign(id_number=elders["id_number"].str.upper()).drop_duplicates("id_number").set_index("id_number")
    ids = clean["elder_id_number"]
    eid = ids.map(e["id"])
    unknown = ids.notna() & eid.isna()
    ctx.problems.add(unknown, "身份证号", "独居老人名册中没有身份证号" + quoted(ids, "idcard") + "的老人，请先导入独居老人名册")
    known = eid.notna()
    clean["elder_id"] = eid.astype("Int64")
    clean["subdistrict_code"] = ids.map(e["subdistrict_code"]).where(known, None)
    ctx.street_header = "身份证号"
    roster_name = ids.map(e["name"])
    named = known & clean["elder_name"].notna() & (clean["elder_name"] != roster_name)
    ctx.problems.add(named, "老人姓名", quoted(clean["elder_name"]) + "与名册中该身份证号的姓名不一致")
    day = pd.to_datetime(clean["visited_on"], errors="coerce")
    enrolled = pd.to_datetime(ids.map(e["enrolled_on"]), errors="coerce")
    left = pd.to_datetime(ids.map(e["left_on"]), errors="coerce")
    before = known & day.notna() & enrolled.notna() & (day < enrolled)
    ctx.problems.add(before, "巡访日期", "早于该老人纳入名册的日期（" + enrolled.dt.strftime("%Y-%m-%d").fillna("") + "）")
    after = known & day.notna() & left.notna() & (day >= left)
    ctx.problems.add(after, "巡访日期", "该老人已于 " + left.dt.strftime("%Y-%m-%d").fillna("") + " 退出名册")


def _aid_persons(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    t = AidHousehold.__table__
    hh = pd.DataFrame(ctx.conn.execute(select(t.c.id, t.c.household_no, t.c.subdistrict_code)).all(),
                      columns=["id", "household_no", "subdistrict_code"]).set_index("household_no")
    no = clean["household_no"]
    hid = no.map(hh["id"])
    unknown = no.notna() & hid.isna()
    if unknown.any():
        hint = _suggestions(no[unknown], list(hh.index))
        ctx.problems.add(unknown, "户编号", "救助家庭中没有户编号" + quoted(no[unknown]) + "，请先导入救助家庭" + hint)
    clean["household_id"] = hid.astype("Int64")
    clean["subdistrict_code"] = no.map(hh["subdistrict_code"]).where(hid.notna(), None)
    ctx.street_header = "户编号"


def _aid_payments(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    tp, th = AidPerson.__table__, AidHousehold.__table__
    persons = pd.DataFrame(ctx.conn.execute(
        select(tp.c.id, tp.c.id_number, tp.c.household_id, th.c.subdistrict_code)
        .join(th, th.c.id == tp.c.household_id)).all(), columns=["id", "id_number", "household_id", "subdistrict_code"])
    pr = persons.assign(id_number=persons["id_number"].str.upper()).drop_duplicates("id_number").set_index("id_number")
    ids = clean["person_id_number"]
    pid = ids.map(pr["id"])
    unknown = ids.notna() & pid.isna()
    ctx.problems.add(unknown, "身份证号", "救助对象中没有身份证号" + quoted(ids, "idcard") + "，请先导入救助对象")
    clean["person_id"] = pid.astype("Int64")
    clean["household_id"] = ids.map(pr["household_id"]).astype("Int64")
    clean["subdistrict_code"] = ids.map(pr["subdistrict_code"]).where(pid.notna(), None)
    ctx.street_header = "身份证号"
    prog, sub = clean["programme"], clean["subtype"]
    needs = prog.isin(["tekun", "disability"]) & sub.isna() & (raw.get("子项", pd.Series("", index=clean.index)) == "")
    ctx.problems.add(needs, "子项", "特困人员供养、残疾人两项补贴须填写子项（基本生活、照料护理或补发）")
    wrong = prog.notna() & ~prog.isin(["tekun", "disability"]) & sub.isin(["living", "care"])
    ctx.problems.add(wrong, "子项", "只有特困人员供养、残疾人两项补贴分“基本生活/照料护理”")


def _findings(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    f = ctx.facilities.set_index("id")
    fid = clean["facility_id"]
    fsub = fid.map(f["subdistrict_code"])
    other = fid.notna() & clean["subdistrict_code"].notna() & (fsub != clean["subdistrict_code"])
    ctx.problems.add(other, "设施", "该设施不在所填街道")


def _vacant_rooms(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    ground = clean["floor"].notna() & (clean["floor"] == 0)
    ctx.problems.add(ground.fillna(False).astype(bool), "楼层", "不能为 0：一层填 1，地下一层填 -1")


ROOM_CONVERTED = "该用房已转为设施，不能再修改"
ROOM_CONVERT_BY_HAND = "不能直接改为“已转为设施”，请在选址分析页使用“标记为已转为设施”操作"


def against_stored(ctx: Context, rows: pd.DataFrame, stored_status: pd.Series, changed: pd.Series) -> None:
    """Rules of rows against the records they change (`stored_status` missing for a new record) — for a file's rows
    (data.imports.writing.compare) and a record saved on its form (data.imports.records) alike: a vacant room
    converted into a meal point changes no more, and no room becomes converted but through 标记为已转为设施 (which
    creates its meal point)."""
    if ctx.ledger.key != "vacant_rooms":
        return
    was = stored_status.eq("converted").fillna(False).astype(bool)
    ctx.problems.add(changed & was, ctx.ledger.header_of("code"), ROOM_CONVERTED)
    ctx.problems.add(rows["status"].eq("converted").fillna(False).astype(bool) & ~was, ctx.ledger.header_of("status"),
                     ROOM_CONVERT_BY_HAND)


def _population(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    clean["code"] = clean["community_code"]
    p60, p80, alone = (clean[c].astype("Float64") for c in ("pop_60", "pop_80", "living_alone"))
    ctx.problems.add((p80 > p60).fillna(False).astype(bool), "80周岁以上人口", "不能多于 60 周岁以上人口")
    ctx.problems.add((alone > p60).fillna(False).astype(bool), "独居老人数", "不能多于 60 周岁以上人口")


HOOKS = {
    "meal_records": _meal_records,
    "living_alone": _living_alone,
    "living_alone_visits": _living_alone_visits,
    "aid_persons": _aid_persons,
    "aid_payments": _aid_payments,
    "findings": _findings,
    "vacant_rooms": _vacant_rooms,
    "population": _population,
}


# --- the whole sheet --------------------------------------------------------------------------------------------

def check_headers(ledger: Ledger, frame: pd.DataFrame, header_row: int, problems: Problems) -> list[str]:
    """Missing required columns and duplicated headers are problems; returns the unknown headers (ignored)."""
    found = [str(c) for c in frame.columns]
    for h in sorted({h for h in found if found.count(h) > 1 and h}):
        problems.add_one(excerpt(h), f"表头{quote(h)}出现了 {found.count(h)} 次，请只保留一列", header_row)
    for c in ledger.columns:
        if c.required and c.header not in found:
            problems.add_one(c.header, f"缺少必填列“{c.header}”（请使用本页下载的模板）", header_row)
    return [excerpt(h) for h in dict.fromkeys(found) if h and h not in ledger.headers]


FLAGGED = {
    "formula": "该单元格是公式（{t}），导入不读取公式：请把该列复制后“选择性粘贴 → 数值”再导入",
    "external": "该单元格引用了其他工作簿（外部链接：{t}），其值可能为空或已过时：请复制后“选择性粘贴 → 数值”再导入",
    "error": "该单元格是错误值（{t}），请改为正确的值",
}
CONTROL_MESSAGE = "含有不可见的控制字符（如 NUL 空字符，现为{v}），常见于从其他系统导出的文件：请删除这些字符后重新导入"


def refuse_cells(ctx: Context, raw: pd.DataFrame) -> None:
    """Formula / external-link / error cells (from the reader) and cells holding a control character (NUL …) are
    problems naming row and column; control characters are then removed from `raw` so nothing else trips on them."""
    for (column, kind), group in pd.DataFrame([(c.row, c.column, c.kind, c.text) for c in ctx.cells],
                                              columns=["row", "column", "kind", "text"]).groupby(["column", "kind"]):
        if column not in raw.columns:
            continue   # an ignored column: not read, nothing to refuse
        at = group[group["row"].isin(raw.index)].drop_duplicates("row").set_index("row")["text"]
        if len(at):
            mask = pd.Series(True, index=at.index)
            ctx.problems.add_cells(mask, column, at.map(lambda t: FLAGGED[kind].format(t=excerpt(t))))
    kinds = {c.header: c.kind for c in ctx.ledger.columns}
    for h in raw.columns:
        bad = raw[h].str.contains(CONTROL, regex=True, na=False)
        if bad.any():
            kind = kinds.get(h) if kinds.get(h) in ("idcard", "phone") else None
            msg = quoted(raw.loc[bad, h], kind).map(lambda q: CONTROL_MESSAGE.format(v=q)).reindex(raw.index)
            ctx.problems.add_cells(bad, h, msg)
            raw.loc[bad, h] = raw.loc[bad, h].str.replace(CONTROL, "", regex=True)


def validate(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    """The cleaned frame (fields of the ledger, index = Excel rows); problems accumulate in ctx.problems."""
    lg = ctx.ledger
    raw = pd.DataFrame({c.header: (frame[c.header].astype(str) if c.header in frame.columns
                                   else pd.Series("", index=frame.index, dtype=object)) for c in lg.columns},
                       index=frame.index)
    refuse_cells(ctx, raw)
    clean = pd.DataFrame(index=frame.index)
    for c in lg.columns:
        if c.kind in ("street", "community", "facility"):
            if c.required:
                ctx.problems.add(raw[c.header] == "", c.header, "必须填写")
            continue
        clean[c.field] = parse_column(ctx, c, raw[c.header])
    for c in lg.columns:
        if c.kind == "street":
            clean[c.field] = resolve_streets(ctx, raw[c.header], c.header)
    for c in lg.columns:
        if c.kind == "community":
            streets = clean["subdistrict_code"] if "subdistrict_code" in clean else pd.Series(None, index=clean.index)
            clean[c.field] = resolve_communities(ctx, raw[c.header], streets, c.header)
        elif c.kind == "facility":
            kinds = ("meal_point",) if lg.key == "meal_records" else None
            clean[c.field] = resolve_facilities(ctx, raw[c.header], c.header, kinds)
    if lg.has_coordinates:
        clean["lon"], clean["lat"] = check_coordinates(ctx, clean["lon"], clean["lat"], raw[lg.header_of("lon")],
                                                       raw[lg.header_of("lat")])
    hook = HOOKS.get(lg.key)
    if hook:
        hook(ctx, clean, raw)
    for early, late in lg.date_order:
        a = pd.to_datetime(clean[early], errors="coerce")
        b = pd.to_datetime(clean[late], errors="coerce")
        ctx.problems.add(a.notna() & b.notna() & (b < a), lg.header_of(late),
                         f"不能早于“{lg.header_of(early)}”（" + a.dt.strftime("%Y-%m-%d").fillna("") + "）")
    if ctx.principal is not None and ctx.principal.role == "street" and "subdistrict_code" in clean:
        own = ctx.principal.subdistrict_code
        names = dict(ctx.conn.execute(select(Subdistrict.code, Subdistrict.name)).all())
        other = clean["subdistrict_code"].notna() & (clean["subdistrict_code"] != own)
        ctx.problems.add(other, ctx.street_header,
                         f"街道账号只能导入本街道（{names.get(own, own)}）的数据，本行属于"
                         + clean["subdistrict_code"].map(names).fillna("其他街道"))
    _duplicates(ctx, clean, raw)
    return clean


def _duplicates(ctx: Context, clean: pd.DataFrame, raw: pd.DataFrame) -> None:
    lg = ctx.ledger
    key = list(lg.natural_key)
    if not set(key) <= set(clean.columns) or clean.empty:
        return
    k = clean[key].astype(object).where(clean[key].notna(), "\0")
    complete = clean[[f for f in key if f not in ("subtype",)]].notna().all(axis=1)
    dup = complete & k.duplicated(keep=False)
    if not dup.any():
        return
    rows = pd.Series(clean.index, index=clean.index)
    first = rows[dup].groupby([k.loc[dup, f] for f in key]).transform("min")
    later = first[first != first.index.to_series()[dup]]
    what = "、".join(lg.key_headers)
    mask = pd.Series(False, index=clean.index)
    mask[later.index] = True
    msg = pd.Series("", index=clean.index, dtype=object)
    msg[later.index] = "与第 " + later.astype(str) + f" 行重复（{what}相同）"
    ctx.problems.add(mask, lg.key_headers[0], msg)


# --- the template's example row ---------------------------------------------------------------------------------

def _example_norm(v: str) -> str:
    """One spelling for a value of the example row: full-width folded, numbers and dates in one form."""
    t = unicodedata.normalize("NFKC", str(v)).strip()
    if re.fullmatch(r"[-+]?\d+(\.\d+)?", t):
        x = float(t)
        return str(int(x)) if x.is_integer() else repr(x)
    d = parse_dates(pd.Series([t], dtype=object)).iloc[0]
    return d.date().isoformat() if pd.notna(d) and not re.fullmatch(r"\d{5}(\.0+)?", t) else t


def _example_spellings(v: str) -> set[str]:
    """Texts a reader may see for one example value (as typed, as Excel shows or saves it)."""
    out = {v, _example_norm(v)}
    d = parse_dates(pd.Series([v], dtype=object)).iloc[0]
    if pd.notna(d) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        out |= {f"{d.year}/{d.month}/{d.day}", f"{d.year}-{d.month}-{d.day}", f"{d:%Y/%m/%d}", f"{d:%Y%m%d}",
                f"{d.year}年{d.month}月{d.day}日", f"{d:%Y-%m-%d} 00:00:00", f"{d:%Y.%m.%d}"}
    elif re.fullmatch(r"[-+]?\d+(\.\d+)?", v):
        x = float(v)
        out |= {f"{x:.2f}", f"{x:.1f}", f"{x:g}", repr(x)}
    return out


def template_example_rows(lg: Ledger, frame: pd.DataFrame) -> pd.Series:
    """The rows that are the template's example row (left in by the user), whatever the headers are: recognised by
    content, not by column — every non-blank cell of the row is one of the example's values (as a multiset), and the
    row holds most of them (at least 60 %, and two). A renamed, moved or deleted column does not make it data."""
    from data.imports.templates import example_texts

    example = [v for v in example_texts(lg).values() if v != ""]
    hits = pd.Series(False, index=frame.index)
    if frame.empty or len(example) < 2:
        return hits
    need = max(2, -(-len(example) * 3 // 5))
    wanted = Counter(_example_norm(v) for v in example)
    spellings = set().union(*(_example_spellings(v) for v in example))
    cells = frame   # text cells already (data.imports.reading): no copy of a large frame
    known = pd.DataFrame({c: cells.iloc[:, i].isin(spellings) for i, c in enumerate(range(cells.shape[1]))},
                         index=frame.index)
    blank = (cells == "").to_numpy()
    candidate = (known.to_numpy() | blank).all(axis=1) & (known.to_numpy().sum(axis=1) >= need)
    for row in frame.index[candidate]:
        values = [_example_norm(v) for v in cells.loc[row].tolist() if v != ""]
        if len(values) >= need and not (Counter(values) - wanted):
            hits[row] = True
    return hits
