"""Headline cards (components.kpis): what a card shows — label, figure, change with the arrow and colour st.metric
gave it — read back from the Markdown the browser gets; user text in a card shows as typed."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cards import cards
from components.kpis import Kpi, card_markdown, read_card


@pytest.mark.parametrize("k, colour, arrow", [
    (Kpi("运营助餐点", "68", "+1个 较上期"), "green", "↑"),
    (Kpi("独居老人巡访", "583", "-1人次 较上期"), "red", "↓"),
    (Kpi("逾期未整改", "12", "+2个 较上期", delta_color="inverse"), "red", "↑"),
    (Kpi("逾期未整改", "10", "-2个 较上期", delta_color="inverse"), "green", "↓"),
    (Kpi("状态", "已证明最优", "说明", delta_color="off"), "gray", "↑"),
])
def test_a_change_keeps_the_arrow_and_colour_of_a_metric(k, colour, arrow):
    body = card_markdown(k)
    assert f":{colour}[{arrow} " in body
    back = read_card(body)
    assert (back.label, back.value, back.delta, back.delta_color) == (k.label, k.value, k.delta, colour)


def test_no_change_no_arrow():
    body = card_markdown(Kpi("记录条数", "1,234 条"))
    assert "↑" not in body and "↓" not in body
    assert read_card(body) == Kpi("记录条数", "1,234 条", None, None, "off")


def test_user_text_in_a_card_shows_as_typed():
    label = "**粗体** [链接](http://x.cn) <b>x</b> $x$ :red[红] # 标题"
    value = "1. 第一\n- 列表"
    body = card_markdown(Kpi(label, value))
    assert "**粗体**" not in body and "](" not in body and "<b>" not in body
    back = read_card(body)
    assert back.label == label and back.value == value


def test_other_markdown_is_not_a_card():
    assert read_card("**F01** 文字") is None and read_card("") is None


_APP = '''import sys
sys.path.insert(0, {root!r})
from components.kpis import Kpi, kpi_row
kpi_row([Kpi("甲", "1", "+1", help="口径甲"), Kpi("乙", "2")])
kpi_row([Kpi("甲", "3")], key="again")  # the same label twice in one run: its own key
'''


def test_a_row_of_cards_in_a_page(tmp_path):
    from pathlib import Path
    script = tmp_path / "page.py"
    script.write_text(_APP.format(root=str(Path(__file__).resolve().parent.parent)), encoding="utf-8")
    at = AppTest.from_file(str(script)).run()
    assert not at.exception
    assert not at.metric  # drawn as Markdown: shown on arrival, not with the page's on-demand elements
    assert [(c.label, c.value, c.delta, c.help) for c in cards(at)] == [
        ("甲", "1", "+1", "口径甲"), ("乙", "2", None, None), ("甲", "3", None, None)]
