"""One definition per headline: 总览, 整改进度, 周度研判 and the Word weekly review show the registered headline
(data.domain.headlines) of the same period as the same number, each with the day or dates it is for."""
from __future__ import annotations

from cards import cards

import io
from datetime import date

import docx
import pytest

from test_app import run_app

from data.db.engine import get_engine
from data.domain import headlines
from data.domain.period import parse
from data.domain.units import show_change
from data.security.access import SYSTEM, Reader
from exports.weekly_docx import weekly_review_docx
from views import overview, rectification, weekly

LAST_DAY = date(2024, 12, 31)  # the demo's last day with records


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in cards(at)}


@pytest.mark.parametrize("key", ["2024-06", "2024-12", "2024-Q3"])
def test_shared_headlines_are_one_number_everywhere(monkeypatch, demo_url, key):
    period = parse(key)
    read = Reader(get_engine(demo_url), SYSTEM)
    registered = read.q(headlines.headline_values, period)
    overdue = headlines.headline("findings_overdue").show(registered["findings_overdue"])

    # 总览 and 整改进度 on the sidebar's period
    at = run_app(monkeypatch, demo_url, "pages/overview.py", period=key)
    assert not at.exception, [e.value for e in at.exception]
    shown = _metrics(at)
    assert shown["逾期未整改"] == overdue
    assert shown["救助发放总额"] == headlines.headline("aid_fen").show(registered["aid_fen"], True)
    assert shown["助餐社区覆盖率"] == headlines.headline("meal_coverage").show(registered["meal_coverage"])
    assert shown["独居老人巡访"] == headlines.headline("living_alone_visits").show(registered["living_alone_visits"])
    at = run_app(monkeypatch, demo_url, "pages/rectification.py", period=key)
    assert not at.exception, [e.value for e in at.exception]
    shown = _metrics(at)
    assert shown["逾期未整改（个）"] == overdue
    assert shown["整改率"] == headlines.headline("rectification_rate").show(registered["rectification_rate"])

    # 周度研判 and its Word document: the week the one control gives, the same functions for that week
    week = weekly.review_week(period, LAST_DAY)
    on_week = read.q(headlines.headline_values, week)
    at = run_app(monkeypatch, demo_url, "pages/weekly_review.py", period=key)
    assert not at.exception, [e.value for e in at.exception]
    assert not [s for s in at.selectbox if s.key and s.key.startswith("wr_week")]  # one period control
    shown = _metrics(at)
    page = weekly.build(read, week)
    for k in page.headline["key"]:
        h = headlines.headline(k)
        assert shown[f"{h.label}（{h.unit}）"] == h.show(on_week[k]), k
    n = on_week["findings_overdue"]
    assert any(m.value.startswith(f"**需督办：逾期未整改问题 {n} 个**") for m in at.markdown)
    assert page.overdue_count == len(page.overdue) == n
    doc = docx.Document(io.BytesIO(weekly_review_docx(page)))
    assert f"（一）逾期未整改问题：{n} 个（截至 {week.end.isoformat()}）" in [p.text for p in doc.paragraphs]
    # 总览 and 整改进度 of that week say the same
    ov = {c.label: c.value for c in overview.build(read, week, None).cards}
    assert ov["逾期未整改"] == str(n) and ov["新发现问题"] == f"{on_week['findings_found']:,}"
    rect = {c.label: c.value for c in rectification.build(read, week, None, "全区", None).cards}
    assert rect["逾期未整改（个）"] == str(n)


def test_headline_formatting_is_one_place():
    assert headlines.headline("aid_fen").show(1_398_750_000, True) == "1,398.75万元"
    assert headlines.headline("meal_coverage").show(0.5698) == "57.0%"
    assert show_change("%", 0.65, 0.571) == "+7.9个百分点"  # a difference of rates is in 个百分点
    assert show_change("个", 3, 3) is None and show_change("万元", 100, 100) is None  # zero: no arrow, no colour
    assert show_change("份", 1200, 1500) == "-300份"
    for h in headlines.HEADLINES.values():
        assert h.as_of(parse("2024-12")) in ("截至2024年12月31日", "2024年12月1日至2024年12月31日")
