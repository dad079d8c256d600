"""救助发放 tables: query results → the tables the page shows and exports (Chinese headers with units).

Pure functions, no Streamlit. Money in 万元 with two decimals (data.domain.units.fen_to_wan), averages in 元 with two
decimals; numbers stay numbers so the Excel download keeps them. The recipient table is the only place that
shows persons, and it masks names, ID numbers and phones (data.security.masking) — there is no unmasked variant.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from data.domain.units import fen_to_wan

TOTAL = "合计"
AVG_DEFINITION = "人均发放（元）= 期内发放金额 ÷ 期内发放人数（同一人多次发放只计一人）"


def per_person_yuan(amount_fen: int | float | None, persons: int | float | None) -> float | None:
    """人均发放（元）: amount ÷ persons, half-up to two decimals; None when nobody was paid."""
    if not persons:
        return None
    return float((Decimal(int(amount_fen or 0)) / Decimal(100) / Decimal(int(persons)))
                 .quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def change_pct(now: float, before: float) -> float | None:
    """增减幅度（%）, one decimal; None when the base is zero."""
    if not before:
        return None
    return float(Decimal(str((now - before) / before * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def programme_table(totals: pd.DataFrame, overall: dict | None = None) -> pd.DataFrame:
    """分项目发放: per programme households, persons, payments, amount (万元), per person (元); a 合计 row from
    `overall` (aid_overall: distinct households and persons across programmes)."""
    out = pd.DataFrame({
        "救助项目": totals["name"],
        "户数（户）": totals["households"].astype(int),
        "人数（人）": totals["persons"].astype(int),
        "发放笔数（笔）": totals["payments"].astype(int),
        "金额（万元）": totals["amount_fen"].map(fen_to_wan),
        "人均发放（元）": [per_person_yuan(a, p) for a, p in zip(totals["amount_fen"], totals["persons"])],
    })
    if overall is not None:
        fen, persons = overall["amount_fen"], overall["persons"]
        out.loc[len(out)] = [TOTAL + "（人、户去重）", overall["households"], persons, overall["payments"],
                             fen_to_wan(fen), per_person_yuan(fen, persons)]
    return out


def yoy_table(now: pd.DataFrame, before: pd.DataFrame, overall_now: dict | None = None,
              overall_before: dict | None = None) -> pd.DataFrame:
    """与上年同期比较: amount and persons per programme now and a year earlier, with the change and change rate."""
    prev = before.set_index("programme")
    rows = []
    for r in now.itertuples(index=False):
        b = prev.loc[r.programme] if r.programme in prev.index else None
        rows.append((r.name, int(r.amount_fen), int(b["amount_fen"]) if b is not None else 0,
                     int(r.persons), int(b["persons"]) if b is not None else 0))
    if overall_now is not None and overall_before is not None:
        rows.append((TOTAL + "（人数去重）", overall_now["amount_fen"], overall_before["amount_fen"],
                     overall_now["persons"], overall_before["persons"]))
    out = []
    for name, fen_now, fen_before, p_now, p_before in rows:
        wan_now, wan_before = fen_to_wan(fen_now), fen_to_wan(fen_before)
        out.append({"救助项目": name, "本期金额（万元）": wan_now, "上年同期金额（万元）": wan_before,
                    "金额增减（万元）": fen_to_wan(fen_now - fen_before), "金额增减幅度（%）": change_pct(fen_now, fen_before),
                    "本期人数（人）": p_now, "上年同期人数（人）": p_before, "人数增减（人）": p_now - p_before})
    return pd.DataFrame(out, columns=["救助项目", "本期金额（万元）", "上年同期金额（万元）", "金额增减（万元）",
                                      "金额增减幅度（%）", "本期人数（人）", "上年同期人数（人）", "人数增减（人）"])


def monthly_table(by_month: pd.DataFrame, measure: str = "amount") -> pd.DataFrame:
    """逐月发放: one row per month, one column per programme (万元, or persons), and the month's total."""
    if by_month.empty:
        return pd.DataFrame(columns=["月份"])
    unit = "万元" if measure == "amount" else "人"
    values = by_month["amount_fen"].map(fen_to_wan) if measure == "amount" else by_month["persons"].astype(int)
    wide = (by_month.assign(v=values).pivot_table(index="month", columns="name", values="v", aggfunc="sum",
                                                   fill_value=0, sort=False).sort_index())
    wide.columns = [f"{c}（{unit}）" for c in wide.columns]
    out = wide.reset_index()
    out.insert(0, "月份", [f"{d.year}年{d.month}月" for d in out.pop("month")])
    if measure == "amount":  # money adds up; persons do not (a person is paid by several programmes)
        fen = by_month.groupby("month")["amount_fen"].sum().sort_index()
        out[f"合计（{unit}）"] = [fen_to_wan(v) for v in fen]
    return out


def subdistrict_table(df: pd.DataFrame, total: dict | None = None) -> pd.DataFrame:
    """分街道发放: per subdistrict households, persons, amount (万元), per person (元); 合计 row from `total`."""
    out = pd.DataFrame({
        "街道": df["subdistrict_name"],
        "户数（户）": df["households"].astype(int),
        "人数（人）": df["persons"].astype(int),
        "金额（万元）": df["amount_fen"].map(fen_to_wan),
        "人均发放（元）": [per_person_yuan(a, p) for a, p in zip(df["amount_fen"], df["persons"])],
    })
    if total is not None and len(out) > 1:
        out.loc[len(out)] = [TOTAL, int(total["households"]), int(total["persons"]), fen_to_wan(total["amount_fen"]),
                             per_person_yuan(total["amount_fen"], total["persons"])]
    return out


def discovery_table(df: pd.DataFrame, total: dict | None = None) -> pd.DataFrame:
    """主动发现: per subdistrict screenings and 低保 / 特困 households enrolled from them, and the enrolment share."""
    rows = [(r.subdistrict_name, int(r.screened), int(r.dibao_households), int(r.tekun_households))
            for r in df.itertuples(index=False)]
    if total is not None and len(rows) > 1:
        rows.append((TOTAL, int(total["screened"]), int(total["dibao_households"]), int(total["tekun_households"])))
    return pd.DataFrame([{"街道": n, "主动摸排（人次）": s, "纳入低保（户）": d, "纳入特困（户）": t,
                          "纳入保障户数占摸排人次（%）": round((d + t) / s * 100, 1) if s else None}
                         for n, s, d, t in rows],
                        columns=["街道", "主动摸排（人次）", "纳入低保（户）", "纳入特困（户）", "纳入保障户数占摸排人次（%）"])


def recipient_table(df: pd.DataFrame) -> pd.DataFrame:
    """救助对象名单: the rows as the query layer returned them — masked (张*华, 360103********1234, 138****5678)
    unless the signed-in user revealed them (data.security.access), so this table never unmasks anything itself."""
    return pd.DataFrame({
        "户号": df["household_no"],
        "姓名": df["name"],
        "身份证号": df["id_number"],
        "联系电话": df["phone"],
        "与户主关系": df["relation"],
        "街道": df["subdistrict_name"],
        "社区（村）": df["community_name"],
        "救助项目": df["programme_name"],
        "发放笔数（笔）": df["payments"].astype(int),
        "发放金额（元）": [round(int(v) / 100, 2) for v in df["amount_fen"]],
    }, columns=["户号", "姓名", "身份证号", "联系电话", "与户主关系", "街道", "社区（村）", "救助项目", "发放笔数（笔）",
                "发放金额（元）"])
