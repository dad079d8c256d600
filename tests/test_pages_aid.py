"""The 救助发放 and 整改进度 pages through AppTest on the demo (H1 2024), and their pure builders (tables, map, charts).

The pages run on SQLite only: the query layer is tested on both engines in test_queries_aid / test_queries_findings.
"""
from __future__ import annotations

from cards import cards

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from auth_helpers import open_section
from components import aid_tables, finding_charts, funnel
from components.maps import class_breaks, colour_of, value_map
from views import finding_tables
from data.db import models as m
from data.db.engine import get_engine
from data.domain.period import parse
from data.queries import findings as fq

ROOT = Path(__file__).resolve().parent.parent
H1 = parse("2024-H1")
SQLITE_ONLY = pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)


def open_page(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in {"period": "2024-H1", **params}.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(page)
    at.run()
    return at


@pytest.fixture
def app(monkeypatch, demo_url):
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.chdir(ROOT)
    return open_page


def metrics(at: AppTest) -> dict[str, str]:
    return {mt.label: str(mt.value) for mt in cards(at)}


def everything_shown(at: AppTest) -> str:
    """Every text and every table cell the run rendered."""
    parts = [f"{mt.label} {mt.value} {mt.delta}" for mt in cards(at)]
    for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success",
                 "expander"):
        parts += [str(getattr(e, "value", None) or getattr(e, "label", "")) for e in getattr(at, kind)]
    parts += [d.value.to_csv(index=False) for d in at.dataframe]
    return "\n".join(parts)


def persons(url: str) -> tuple[set[str], set[str]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(m.AidPerson.name, m.AidPerson.id_number)).all()
    return {r[0] for r in rows}, {r[1] for r in rows}


# --- 救助发放 ------------------------------------------------------------------------------------------

@SQLITE_ONLY
def test_aid_page_shows_the_h1_2024_report_figures_and_no_person(app, demo_url):
    at = app("pages/aid.py")
    assert not at.exception, [e.value for e in at.exception]
    shown = metrics(at)
    assert shown["发放低保金（万元）"] == "1,398.75"
    assert shown["低保保障户数（户）"] == "2,059" and shown["低保保障人数（人）"] == "2,911"
    assert shown["供养特困人员（人）"] == "164" and shown["特困生活、护理补贴（万元）"] == "187.00"
    assert shown["临时救助金（万元）"] == "19.79"
    assert shown["孤儿和事实无人抚养儿童保障金（万元）"] == "44.41"
    assert shown["残疾人两项补贴（万元）"] == "222.22"
    assert shown["慈善应急和人道救助（万元）"] == "6.00"
    assert (shown["主动摸排（人次）"], shown["摸排后纳入低保（户）"], shown["摸排后纳入特困（户）"]) == ("986", "102", "13")
    # every table offers its Excel download (the monthly one once its section is opened)
    assert len([b for b in at.get("download_button")]) == len(at.dataframe) >= 4
    open_section(at, "aid_monthly_open")
    assert len([b for b in at.get("download_button")]) == len(at.dataframe) >= 5
    # totals views show no person at all: no ID number (the demo's start with 999999), no name
    text = everything_shown(at)
    names, ids = persons(demo_url)
    assert "999999" not in text
    assert not [n for n in names if len(n) >= 2 and n in text]
    assert not any("户号" in d.value.columns for d in at.dataframe)  # the recipient list is read only when opened


@SQLITE_ONLY
def test_recipient_list_is_masked_and_paged(app, demo_url):
    at = app("pages/aid.py")
    open_section(at, "aid_rec_open")
    at.selectbox(key="aid_rec_prog").set_value("dibao").run()
    assert not at.exception, [e.value for e in at.exception]
    listed = at.dataframe[-1].value
    assert list(listed.columns[:4]) == ["户号", "姓名", "身份证号", "联系电话"] and len(listed) == 100
    assert listed["身份证号"].str.fullmatch(r"999999\*{8}[0-9X]{4}").all()
    assert listed["姓名"].str.fullmatch(r"\w+\*+\w?").all()
    assert listed["联系电话"].fillna("").str.fullmatch(r"(\d{3}\*{4}\d{4})?").all()
    assert (listed["救助项目"] == m.AID_PROGRAMMES["dibao"]).all()
    names, ids = persons(demo_url)
    text = everything_shown(at)
    assert not [n for n in names if len(n) >= 2 and n in text]
    assert not [i for i in ids if i in text]
    assert "共 30 页，2,911 行" in at.number_input(key="aid_rec_page").label
    at.number_input(key="aid_rec_page").set_value(30).run()
    assert len(at.dataframe[-1].value) == 11


@SQLITE_ONLY
@pytest.mark.parametrize("params", [{"period": "2024-06", "street": "360103001"},
                                    {"period": "2024-03-15~2024-04-10"}, {"period": "2022"}])
def test_aid_page_runs_for_other_periods_streets_and_empty_years(app, params):
    at = app("pages/aid.py", **params)
    assert not at.exception, [e.value for e in at.exception]
    if params["period"] == "2022":  # no records at all: the latest complete year with records instead, said so
        assert any("不在台账日期范围" in w.value for w in at.warning)
        assert metrics(at)["发放低保金（万元）"] != "0.00"
        at.selectbox(key="aid_sub_prog").set_value("tekun").run()
        assert not at.exception


# --- 整改进度 ------------------------------------------------------------------------------------------

@SQLITE_ONLY
def test_rectification_page_shows_the_h1_2024_report_figures_and_drills_into_a_place(app, demo_url):
    at = app("pages/rectification.py")
    assert not at.exception, [e.value for e in at.exception]
    shown = metrics(at)
    assert shown["安全检查查出问题（个）"] == "178" and shown["安全检查已整改（个）"] == "178"
    assert shown["“三资”查出问题（条）"] == "23" and shown["“三资”已整改（条）"] == "18"
    assert shown["“三资”移送纪检线索（条）"] == "2"
    assert shown["逾期未整改（个）"] == "2"
    assert len([b for b in at.get("download_button")]) == len(at.dataframe)
    # click-through: choose the third-ranked place; its own findings are listed
    place = fq.places_with_open_findings(get_engine(demo_url), H1.end).iloc[2]
    at.selectbox(key="rect_place").set_value(f"{place.subdistrict_code}|{place.place_type}|{place.place_name}").run()
    assert not at.exception, [e.value for e in at.exception]
    detail = next(d.value for d in at.dataframe if "问题编号" in d.value.columns)
    assert set(detail["点位"]) == {place.place_name}
    # the open problems at the end of June, loaded on demand: the overdue ones are there, marked
    open_section(at, "rect_open_list")
    listed = at.dataframe[-1].value
    assert len(listed) == 10 and (listed["状态"] == "逾期未整改").sum() == 2
    assert listed.loc[listed["状态"] == "逾期未整改", "逾期（天）"].gt(0).all()
    # the source filter: only 三资
    at.multiselect(key="rect_sources").set_value(["sanzi"]).run()
    shown = metrics(at)
    assert (shown["查出问题（个）"], shown["已整改（个）"], shown["移送纪检部门线索（条）"]) == ("23", "18", "2")
    assert (shown["逾期未整改（个）"], shown["整改中（个）"]) == ("2", "3")


@SQLITE_ONLY
@pytest.mark.parametrize("params", [{"period": "2024-W23", "street": "360103001"}, {"period": "2022"}])
def test_rectification_page_runs_for_other_periods_and_empty_years(app, params):
    at = app("pages/rectification.py", **params)
    assert not at.exception, [e.value for e in at.exception]
    if params["period"] == "2022":  # no records at all: the latest complete year with records instead, said so
        assert any("不在台账日期范围" in w.value for w in at.warning)
        assert metrics(at)["查出问题（个）"] != "0"


# --- pure builders -------------------------------------------------------------------------------------

def test_recipient_list_is_masked_by_the_query_layer_for_short_compound_and_missing_values():
    from data.security.access import Principal, restrict
    from data.queries.aid import aid_recipients

    raw = pd.DataFrame({"household_no": ["H1", "H2", "H3"], "name": ["张三华", "欧阳娜娜", None],
                        "id_number": ["360103199001011234", "360103900101123", None],
                        "phone": ["13812345678", None, "0791-8888 1234"], "relation": ["户主"] * 3,
                        "subdistrict_name": ["甲街道"] * 3, "community_name": ["甲社区"] * 3,
                        "programme_name": ["低保"] * 3, "payments": [6, 1, 1], "amount_fen": [123_456, 0, 100]})
    assert set(aid_recipients.__access__.personal_columns) == {"name", "id_number", "phone"}
    shown = aid_tables.recipient_table(restrict(Principal("t", "office"), aid_recipients, raw))
    assert shown["姓名"].tolist() == ["张*华", "欧阳*娜", ""]
    assert shown["身份证号"].tolist() == ["360103********1234", "360103*****1123", ""]
    assert shown["联系电话"].tolist() == ["138****5678", "", "********1234"]
    assert shown["发放金额（元）"].tolist() == [1234.56, 0.0, 1.0]


def test_programme_table_units_and_per_person_average():
    totals = pd.DataFrame({"programme": ["dibao"], "name": ["低保"], "households": [2], "persons": [3],
                           "payments": [6], "amount_fen": [100_000]})
    table = aid_tables.programme_table(totals, {"households": 2, "persons": 3, "payments": 6, "amount_fen": 100_000})
    assert table.columns.tolist() == ["救助项目", "户数（户）", "人数（人）", "发放笔数（笔）", "金额（万元）", "人均发放（元）"]
    assert table["金额（万元）"].tolist() == [0.1, 0.1] and table["人均发放（元）"].tolist() == [333.33, 333.33]
    assert aid_tables.per_person_yuan(100, 0) is None and aid_tables.per_person_yuan(5, 2) == 0.03


def test_choropleth_colours_by_value_with_legend_note_and_local_assets():
    from components.offline import component_payload, payload_external_urls, use_local_assets
    from geo import layers

    sub = layers.subdistricts_gdf()
    boundaries = pd.DataFrame({"code": sub["code"], "name": sub["name"], "boundary_official": False,
                               "boundary_geojson": [json.dumps(g.__geo_interface__) for g in sub.geometry]})
    values = pd.DataFrame({"code": boundaries["code"], "value": [0.0] + [10.0 * i for i in range(1, len(sub))]})
    m_ = value_map(boundaries, values, title="救助发放金额（万元）", fmt=lambda v: f"{v:,.2f} 万元",
                   details={boundaries["code"][1]: ["户数 3 户，人数 4 人"]},
                   outline=layers.district_outline().__geo_interface__, selected=boundaries["code"][1])
    html = re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g[1], 16)), m_.get_root().render()).replace("<\\/", "</")
    assert "示意边界，非法定界线" in html and "救助发放金额（万元）" in html
    assert f"{sub['name'][1]}</b><br>救助发放金额（万元）：10.00 万元<br>户数 3 户，人数 4 人" in html
    use_local_assets("")
    assert payload_external_urls(component_payload(m_, key="t", height=400)) == []
    breaks = class_breaks(values["value"])
    assert colour_of(0.0, breaks) == colour_of(None, breaks) != colour_of(90.0, breaks)
    assert class_breaks([0, None]) == []


def test_funnel_and_rectification_charts_build():
    df = pd.DataFrame({"subdistrict_name": ["甲", "乙"], "screened": [986, 0], "dibao_households": [102, 0],
                       "tekun_households": [13, 0]})
    stages = {"screened": "主动摸排", "dibao_households": "纳入低保", "tekun_households": "纳入特困"}
    long = funnel.funnel_frame(df, stages, "subdistrict_name")
    assert long.loc[1, "text"] == "102（10.3%）" and long.loc[4, "text"] == "0"
    funnel.funnel(df, stages, group="subdistrict_name").to_dict()
    burn = pd.DataFrame({"week_start": [date(2024, 1, 1)], "first_day": [date(2024, 1, 1)],
                         "last_day": [date(2024, 1, 7)], "found": [3], "rectified": [1], "open_before": [2],
                         "open_after": [4]})
    finding_charts.burndown(burn).to_dict()
    finding_charts.ageing(pd.DataFrame({"bucket": ["0–15天"], "open": [2], "overdue": [1]})).to_dict()


def test_overdue_rows_are_highlighted_in_every_findings_table():
    rows = pd.DataFrame({"code": ["Z1", "Z2"], "source_name": ["局检查组安全检查"] * 2, "place_name": ["某院"] * 2,
                         "subdistrict_name": ["甲街道"] * 2, "category": ["消防安全"] * 2, "severity": ["一般"] * 2,
                         "description": [None, None], "found_on": [date(2024, 5, 1)] * 2,
                         "deadline": [date(2024, 5, 31), date(2024, 7, 31)], "rectified_on": [None, None],
                         "status_name": ["逾期未整改", "整改中"], "overdue": [True, False],
                         "referred_to_discipline": [False, True]})
    table, highlight = finding_tables.findings_table(rows, date(2024, 6, 30))
    assert highlight.tolist() == [True, False] and table["逾期（天）"].tolist()[0] == 30
    places = pd.DataFrame({"subdistrict_code": ["1", "2"], "subdistrict_name": ["甲", "乙"], "place_type": ["村"] * 2,
                           "place_name": ["一村", "二村"], "open": [3, 1], "overdue": [0, 1],
                           "oldest_found_on": [date(2024, 6, 1), date(2024, 1, 1)]})
    table, highlight = finding_tables.places_table(places, date(2024, 6, 30))
    assert highlight.tolist() == [False, True] and table["最长挂账（天）"].tolist() == [29, 181]
