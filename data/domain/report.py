"""工作总结数据: the work report's figures for any period, in the report's order and wording, beside the previous period.

Built only on data.domain.figures.compute_all (one definition per figure); this module adds what the report needs on top:
the report's section order and headings, the period word that opens some sentences ("上半年，…"), one main number
per figure (so it can be compared and exported), the change from the previous period, and the targets table.
Pure: no Streamlit.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from sqlalchemy.engine import Engine

from data.security.access import query
from data.domain import figures
from data.domain import period as periods
from data.domain.period import Period
from data.domain.units import RATE_DIGITS, fen_to_wan, percent_number

# The report's sections in the report's order, each with its heading in the report (一、(一)1–9, then (二) 特色亮点).
SECTIONS: tuple[str, ...] = ("养老服务体系", "居家上门服务", "安全监管", "社会救助", "主动发现", "婚丧习俗", "民政服务站",
                             "慈善", "三资监管", "助餐", "圆桌会")
HEADINGS: dict[str, str] = {
    "养老服务体系": "社会养老服务体系建设",
    "居家上门服务": "提升居家上门服务质效",
    "安全监管": "抓好养老机构安全监管",
    "社会救助": "完成社会救助提标提补工作",
    "主动发现": "加大困难群众主动发现工作力度",
    "婚丧习俗": "推进婚丧习俗改革工作",
    "民政服务站": "推进民政服务中心(站)建设",
    "慈善": "完善区慈善会组织架构",
    "三资监管": "加强村集体经济和涉农领域监管",
    "助餐": "推进助餐服务体系建设",
    "圆桌会": "开展康养产业“幸福圆桌会”",
}
# (一)重点工作完成情况 holds the first nine sections, (二)特色亮点工作 the last two.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (("（一）重点工作完成情况", SECTIONS[:9]), ("（二）特色亮点工作", SECTIONS[9:]))

# The targets the report tracks: 68 meal points, 65 % meal coverage, 100 % facility coverage by 2025, 100 % certified.
TARGET_IDS: tuple[str, ...] = ("F12", "F13", "F04", "F75")

# Sentences the report opens with a period word, and that word. period_word() swaps it for the period at hand.
LEADS: dict[str, tuple[str, str]] = {
    "F20": ("上半年", "，"),
    "F23": ("上半年", ""),
    "F40": ("上半年", "，"),
    "F50": ("今年以来", "，"),
    "F60": ("上半年", "，"),
    "F63": ("上半年", ""),
    "F73": ("上半年", "，"),
}

# The report's paragraph of each section: its own connecting words around the figures' sentences ({Fxx}).
# Only words that hold for any period are kept; the report's one-off narrative (meetings held, documents issued)
# is left for the staff to write.
TEMPLATES: dict[str, str] = {
    "养老服务体系": "按照区养老服务设施空间布局三年规划，建设一批社区养老服务设施，{F01}。目前，{F02}。{F03}。"
                    "根据全省推进养老服务提质升级三年行动方案要求，{F04}。{F05}。{F06}。{F07}。"
                    "加大养老护理人员职业技能培训，{F75}。",
    "居家上门服务": "{F20}。做好独居老人巡访和探访工作，{F22}，{F21}，{F23}。",
    "安全监管": "联合消防大队、卫健委、市场监管局等单位，{F30}；{F31}，{F32}，{F33}。",
    "社会救助": "{F40}，{F41}；{F42}，{F43}；{F44}；{F45}；{F46}。{F76}。",
    "主动发现": "{F50}，{F51}、{F52}。",
    "婚丧习俗": "{F60}，{F61}，{F62}。{F63}，{F64}。",
    "民政服务站": "通过政府购买服务{F70}，{F71}，{F72}。",
    "慈善": "{F47}。",
    "三资监管": "{F37}。开展农村集体“三资”监督管理实地督导，{F34}，{F35}，{F36}。",
    "助餐": "计划新建一批助餐点，使{F12}，{F13}。{F10}，{F11}。{F14}。{F15}。",
    "圆桌会": "{F73}，{F74}。",
}

# One main number per figure: (key in the values dict, how it is written). Kinds: int; wan (分 → 万元, 2 decimals);
# share (0–1 → %) and pct (a percent → %), both with units.RATE_DIGITS decimals; dec2 (2 decimals). As the sentence writes it, so the number in
# the table is the number in the text.
MAIN: dict[str, tuple[str, str]] = {
    "F01": ("total", "int"), "F02": ("operating", "int"), "F03": ("institutions", "int"), "F04": ("progress", "pct"),
    "F05": ("reserve", "int"), "F06": ("day_care_centers", "int"), "F07": ("progress", "int"),
    "F10": ("meal_points", "int"), "F11": ("rate", "share"), "F12": ("progress", "int"), "F13": ("progress", "pct"),
    "F14": ("delivered", "int"), "F15": ("count", "int"),
    "F20": ("visits", "int"), "F21": ("elders", "int"), "F22": ("progress", "dec2"), "F23": ("visits", "int"),
    "F30": ("inspections", "int"), "F31": ("inspections", "int"), "F32": ("found", "int"), "F33": ("rectified", "int"),
    "F34": ("found", "int"), "F35": ("rectified", "int"), "F36": ("referred", "int"), "F37": ("villages", "int"),
    "F40": ("households", "int"), "F41": ("amount_fen", "wan"), "F42": ("persons", "int"), "F43": ("amount_fen", "wan"),
    "F44": ("amount_fen", "wan"), "F45": ("amount_fen", "wan"), "F46": ("amount_fen", "wan"),
    "F47": ("amount_fen", "wan"),
    "F50": ("screened", "int"), "F51": ("households", "int"), "F52": ("households", "int"),
    "F60": ("registrations", "int"), "F61": ("pledges", "int"), "F62": ("ceremonies", "int"), "F63": ("letters", "int"),
    "F64": ("stopped", "int"),
    "F70": ("subdistrict", "int"), "F71": ("social_workers", "int"), "F72": ("trainings", "int"),
    "F73": ("meetings", "int"), "F74": ("resolved", "int"), "F75": ("progress", "pct"), "F76": ("progress", "pct"),
}
# Where the main number's unit is not the figure's: F40 (户/人) → 户; F76 (项 per window) → % of windows complete.
UNITS: dict[str, str] = {"F40": "户", "F76": "%"}
REPORT_KINDS = ("half", "year", "quarter", "range")

COLUMNS = ["id", "section", "heading", "name", "value", "unit", "text", "values", "previous", "previous_text",
           "previous_values", "change", "definition", "page", "by_street", "district_level", "period", "period_label",
           "previous_period", "previous_label"]


def _half_up(x: float, digits: int = 0):
    q = Decimal(1) if digits == 0 else Decimal(10) ** -digits
    d = Decimal(str(x)).quantize(q, rounding=ROUND_HALF_UP)
    return int(d) if digits == 0 else float(d)


def main_value(fid: str, values: dict):
    """The figure's main number as its sentence writes it (47, 1398.75, 57 for 57 %); None when there is none."""
    key, kind = MAIN.get(fid, (None, "int"))
    if key is None:  # a figure not listed: its only number, if it has exactly one
        numbers = [k for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numbers) != 1:
            return None
        key = numbers[0]
    v = values.get(key)
    if v is None:
        return None
    if kind == "wan":
        return fen_to_wan(v)
    if kind == "share":
        return _half_up(v * 100, RATE_DIGITS)
    if kind == "pct":
        return _half_up(v, RATE_DIGITS)
    if kind == "dec2":
        return _half_up(v, 2)
    return int(v)


def main_unit(fid: str, unit: str) -> str:
    return UNITS.get(fid, unit)


def change(fid: str, now, before):
    """Now minus before in the main number's terms (percentage points for a %); None when either is missing."""
    if now is None or before is None:
        return None
    kind = MAIN.get(fid, (None, "int"))[1]
    if kind in ("wan", "dec2"):
        return _half_up(now - before, 2)
    if kind in ("share", "pct"):
        return _half_up(now - before, RATE_DIGITS)
    return now - before


def period_word(period: Period, word: str = "上半年") -> str:
    """The report's period word for this period: 上半年 / 今年以来 for a first half-year (as the report), 下半年 for a
    second half-year, otherwise the period's label (2024年第三季度, 2023年, …)."""
    if period.kind == "half":
        return word if period.start.month == 1 else "下半年"
    return period.label


def sentence(fid: str, text: str, period: Period) -> str:
    """The figure's sentence as the report writes it: with its period word in front where the report has one."""
    if fid not in LEADS:
        return text
    word, sep = LEADS[fid]
    return f"{period_word(period, word)}{sep}{text}"


def report_period(chosen: Period, last_data_day: date, today: date | None = None) -> tuple[Period, str | None]:
    """The period the report is shown for: the chosen one when it is a half-year, year, quarter or range; otherwise
    (month, week) the half-year containing its end if that half is complete, else the latest complete half-year with
    records. The second item says why, in Chinese, when the period was changed."""
    if chosen.kind in REPORT_KINDS:
        return chosen, None
    containing = periods.containing("half", chosen.end)
    latest = periods.latest_complete("half", last_data_day, today)
    shown = containing if containing.end <= latest.end else latest
    kind = periods.KINDS.get(chosen.kind, chosen.kind)
    return shown, (f"工作总结按半年度统计：侧边栏选择的是{kind}统计期（{chosen.label}），此处显示"
                   f"{'其所在的' if shown == containing else '最近一个已结束且有台账记录的'}{shown.label}"
                   f"（{shown.start:%Y-%m-%d} 至 {shown.end:%Y-%m-%d}）。如需其他统计期，请在侧边栏选择半年、年度、季度或自定义。")


@query(scope="district")
def report_rows(engine: Engine, period: Period, street: str | None = None) -> pd.DataFrame:
    """One row per figure, sections in the report's order: its sentence for the period, main number, the previous
    period's number and sentence, the change, 口径 and the detail page. The values dicts are kept."""
    prev = period.previous()
    with figures.shared_queries():  # one pass: what both periods read (targets, baselines) is read once
        before = {r["id"]: r for r in figures.compute_all(engine, prev, street)}
        now = figures.compute_all(engine, period, street)
    rows = []
    for r in now:
        fid, b = r["id"], before[r["id"]]
        value, previous = main_value(fid, r["values"]), main_value(fid, b["values"])
        rows.append({"id": fid, "section": r["section"], "heading": HEADINGS.get(r["section"], r["section"]),
                     "name": r["name"], "value": value, "unit": main_unit(fid, r["unit"]),
                     "text": sentence(fid, r["text"], period), "values": r["values"], "previous": previous,
                     "previous_text": sentence(fid, b["text"], prev), "previous_values": b["values"],
                     "change": change(fid, value, previous), "definition": r["definition"], "page": r["page"],
                     "by_street": r["by_street"], "district_level": bool(street) and not r["by_street"],
                     "period": period.key, "period_label": period.label, "previous_period": prev.key,
                     "previous_label": prev.label})
    order = {s: i for i, s in enumerate(SECTIONS)}
    rows.sort(key=lambda x: order.get(x["section"], len(order)))  # stable: registry order within a section
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("value", "previous", "change"):  # keep 47 an int beside 1398.75 (a float column would make it 47.0)
        df[col] = pd.Series([r[col] for r in rows], dtype=object)
    return df


def row_period(rows: pd.DataFrame) -> Period:
    """The period the rows were computed for."""
    return periods.parse(rows["period"].iloc[0])


class _Texts(dict):
    def __missing__(self, key):  # a figure left out of the rows leaves its place empty
        return ""


def paragraphs(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(section, report heading, paragraph) in the report's order: each section's figures in the report's words.
    A figure of the section the template does not name is added at the end, so none is ever left out."""
    texts = dict(zip(rows["id"], rows["text"]))
    out = []
    for section in SECTIONS:
        ids = list(rows.loc[rows["section"] == section, "id"])
        if not ids:
            continue
        template = TEMPLATES.get(section, "")
        named = [fid for fid in ids if "{" + fid + "}" in template]
        body = template.format_map(_Texts(texts)) if template else ""
        body += "".join(f"{texts[fid]}。" for fid in ids if fid not in named)
        out.append((section, HEADINGS.get(section, section), body))
    return out


def fmt_number(value, unit: str = "") -> str:
    """47 → '47家', 1398.75 → '1,398.75万元', 57 → '57.0%' (every percentage as units.pct writes it), None → '—'."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if unit in ("%", "个百分点"):
        return percent_number(value) + unit
    text = f"{value:,.2f}" if isinstance(value, float) and not float(value).is_integer() else f"{int(value):,}"
    return f"{text}{unit}"


def fmt_change(delta, unit: str = "") -> str:
    """+49户, -3个百分点, 0, —."""
    if delta is None or (isinstance(delta, float) and pd.isna(delta)):
        return "—"
    if delta == 0:
        return "持平"
    sign = "+" if delta > 0 else "-"
    return sign + fmt_number(abs(delta), "个百分点" if unit == "%" else unit)


def _gap(target, progress):
    gap = max(target - progress, 0)
    return gap if isinstance(gap, int) else _half_up(gap, 2)


def target_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The report's targets with their progress at the end of the period (status from data.domain.targets.pace, as the
    registry computes it: 已达成 / 进度正常 / 进度滞后)."""
    out = []
    by_id = rows.set_index("id")
    end = row_period(rows).end
    for fid in TARGET_IDS:
        if fid not in by_id.index:
            continue
        r = by_id.loc[fid]
        v = r["values"]
        target = v.get("target")
        progress = r["value"]
        deadline = v.get("deadline")
        out.append({"编号": fid, "目标": r["name"].replace("（目标）", ""), "目标值": target,
                    "单位": v.get("unit") or r["unit"],
                    "期限": deadline.isoformat() if hasattr(deadline, "isoformat") else deadline,
                    "期末进度": progress,
                    "差距": None if target is None or progress is None else _gap(target, progress),
                    "状态": v.get("status") or "—", "截至": end.isoformat()})
    return pd.DataFrame(out, columns=["编号", "目标", "目标值", "单位", "期限", "期末进度", "差距", "状态", "截至"])
