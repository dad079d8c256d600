"""周度研判 Word export: the weekly review as a 公文 .docx (headline, targets, masked action lists, charts), filled
into the Word template (exports.docx_template)."""
from __future__ import annotations

from datetime import date

from data.domain.units import percent_number
from data.security.masking import mask_name
from exports import chart_images as ci
from exports import docx_template as tpl
from views.weekly import SILENT_MEAL_DAYS, WeeklyPage, fmt_change, fmt_headline, fmt_pace, fmt_target

HEADINGS = ["一、本周与上周", "二、目标一览", "三、需要处理的事项", "四、图表"]


def weekly_review_docx(page: WeeklyPage, generated_on: date | None = None) -> bytes:
    """The weekly review (the page model views.weekly.WeeklyPage) as .docx bytes; elders' names masked."""
    week, scope, head, targets, by_street = page.week, page.scope, page.headline, page.targets, page.below_by_street

    doc = tpl.new_document(as_of=week.end)
    doc.add_paragraph(f"西湖区民政局周度研判（{scope}）", style="Title")
    doc.add_paragraph(f"{week.label}；与上周（{week.previous().label}）比较。"
                      f"生成日期：{tpl.day(generated_on or date.today())}。", style="Subtitle")

    doc.add_heading(HEADINGS[0], level=1)
    tpl.table(doc, ["指标", "单位", "本周", "上周", "变化", "口径"],
              [[r.label, r.unit, fmt_headline(r.key, r.value), fmt_headline(r.key, r.previous),
                fmt_change(r.key, r.change), f"{r.definition}（{r.as_of}）"] for r in head.itertuples()],
              widths_mm=[26, 12, 18, 18, 16, 66])

    doc.add_heading(HEADINGS[1], level=1)
    tpl.paragraph(doc, f"截至{tpl.day(week.end)}（全区）。应达进度按从基期到期限匀速推进计算；"
                  "低于应达进度为“进度滞后”。")
    tpl.table(doc, ["目标", "目标值", "当前值", "差距", "应达进度", "每月需推进", "期限", "状态"],
              [[r.name, fmt_target(r.target, r.unit), fmt_target(r.value, r.unit), fmt_target(r.gap, r.unit),
                fmt_target(r.expected, r.unit), fmt_pace(r.met, r.pace_needed, r.unit),
                r.deadline.isoformat(), r.status] for r in targets.itertuples()],
              widths_mm=[34, 16, 16, 14, 16, 18, 24, 18])

    doc.add_heading(HEADINGS[2], level=1)
    od = page.overdue
    doc.add_heading(f"（一）逾期未整改问题：{page.overdue_count} 个（截至 {week.end.isoformat()}）", level=2)
    if len(od):
        tpl.table(doc, ["编号", "街道", "点位", "问题类别", "整改期限", "逾期天数"],
                  [[r.code, r.subdistrict_name, r.place_name, r.category, str(r.deadline)[:10], r.days_overdue]
                   for r in od.head(30).itertuples()], widths_mm=[26, 22, 40, 26, 22, 20])
        if len(od) > 30:
            tpl.paragraph(doc, f"（仅列逾期最久的 30 个，共 {len(od)} 个）", style="注释")
    below = page.below
    doc.add_heading(f"（二）本月（{week.end.month}月1日至{week.end.month}月{week.end.day}日）巡访不足两次的独居老人："
                    f"{len(below)} 人", level=2)
    if len(by_street):
        tpl.table(doc, ["街道", "在册人数", "不足两次人数"],
                  [[r.subdistrict_name, r.roster, r.below] for r in by_street.itertuples()])
        tpl.paragraph(doc, "名单（已脱敏）：" + "；".join(
            f"{r.subdistrict_name}{r.community_name} {mask_name(r.name)}（{r.visits}次）"
            for r in below.head(60).itertuples()), style="注释")
    silent = page.silent_points
    doc.add_heading(f"（三）连续 {SILENT_MEAL_DAYS} 天无助餐记录的助餐点：{len(silent)} 个", level=2)
    if len(silent):
        tpl.table(doc, ["街道", "助餐点", "最近记录日期"],
                  [[r.subdistrict_name, r.name, "无" if r.last_served_on is None or r.last_served_on != r.last_served_on
                    else str(r.last_served_on)] for r in silent.itertuples()])
    ledgers = page.silent_ledgers
    doc.add_heading(f"（四）本周台账未更新的街道：{len(ledgers)} 个", level=2)
    tpl.paragraph(doc, "、".join(ledgers["subdistrict_name"]) + "。" if len(ledgers) else "无。")

    doc.add_heading(HEADINGS[3], level=1)
    if not ci.font_available():
        tpl.paragraph(doc, ci.FONT_MISSING_MESSAGE, style="注释")
    days_now, days_before = page.meals_by_day, page.meals_by_day_before
    tpl.picture(doc, ci.grouped_bars(["一", "二", "三", "四", "五", "六", "日"],
                                     {"本周": list(days_now["meals"]), "上周": list(days_before["meals"])},
                                     title="每日助餐份数（周一至周日）", unit="份"))
    if len(targets):
        shares = [min(r.value / r.target * 100, 100) if r.target else 0 for r in targets.itertuples()]
        tpl.picture(doc, ci.bar_chart([_short(n) for n in targets["name"]], shares, title="目标完成度（当前值 ÷ 目标值）",
                                      unit="%", horizontal=True, target=100, labels=[percent_number(s) + "%" for s in shares]))
    if len(by_street):
        tpl.picture(doc, ci.bar_chart(list(by_street["subdistrict_name"]), list(by_street["below"]),
                                      title="本月巡访不足两次的独居老人（按街道）", unit="人", colour_index=3))
    return tpl.to_bytes(doc)


def _short(name: str) -> str:
    return name if len(name) <= 12 else name[:12] + "…"
