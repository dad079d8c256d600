"""督办 and 站点任务与考核 through AppTest (issue 21): what each role sees on the demo district (office and leadership
everything, a 街道 account its own orders, inbox and rank, the display account counts and scores only), and the loop
driven through the page's own forms — issuing from the week's to-do list, signing, reporting, verifying — on a demo
database of this module's own (the shared demo stays as built)."""
from __future__ import annotations

from cards import cards

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from auth_helpers import sign_in_apptest
from data.db.engine import get_engine
from data.db.models import SupervisionOrder

ROOT = Path(__file__).resolve().parent.parent
NANPU = "360103001"


def run_page(monkeypatch, url, page, role="office", street=None, **params) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    sign_in_apptest(at, url, role=role, street=street)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_tab(at, key: str, label: str) -> AppTest:
    """Choose a tab as a click would (the pages build only the chosen tab's content) and rerun."""
    at.session_state[key] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at) -> dict:
    return {m.label: m.value for m in cards(at)}


def texts(at) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "info", "success", "warning", "error")
             for e in getattr(at, kind)]
    return "\n".join(parts)


def frames(at) -> list:
    return [d.value for d in at.dataframe]


@pytest.mark.parametrize("role,street", [("office", None), ("leader", None), ("street", NANPU), ("display", None)])
def test_supervision_page_for_each_role(monkeypatch, demo_url, role, street):
    at = run_page(monkeypatch, demo_url, "pages/supervision.py", role, street, period="2024-12")
    assert at.date_input(key="sv_on").value == date(2024, 12, 31)  # the data's last day, not today
    m = metrics(at)
    assert set(m) >= {"红色预警（件）", "橙色预警（件）", "黄色预警（件）", "蓝色预警（件）", "待签收（件）"}
    tables = frames(at)
    if role == "display":  # counts and the map only: no order, no text, no name
        assert len(at.tabs) == 0 and int(m["红色预警（件）"]) > 0
        assert all("督办事项" not in t.columns and "责任人" not in t.columns for t in tables)
        return
    orders = next(t for t in tables if "督办事项" in t.columns and "责任单位" in t.columns)
    if role == "street":
        assert "我的督办" in texts(at)
        assert set(orders["责任单位"]) == {"南浦街道"} and [t.label for t in at.tabs] == ["督办单", "按责任单位"]
    else:
        assert len(set(orders["责任单位"])) > 5
        expected = ["督办单", "按责任单位"] + (["派单", "设置"] if role == "office" else [])
        assert [t.label for t in at.tabs] == expected
    assert int(m["红色预警（件）"]) == int((orders["预警"] == "红").sum())


def test_a_link_opens_one_order_and_another_streets_is_not_shown(monkeypatch, demo_url):
    with get_engine(demo_url).connect() as conn:
        mine = conn.execute(select(SupervisionOrder.code).where(SupervisionOrder.subdistrict_code == NANPU)
                            .order_by(SupervisionOrder.id)).scalars().first()
        other = conn.execute(select(SupervisionOrder.code).where(SupervisionOrder.subdistrict_code != NANPU)
                             .order_by(SupervisionOrder.id)).scalars().first()
    at = run_page(monkeypatch, demo_url, "pages/supervision.py", "street", NANPU, period="2024-12", order=mine)
    assert mine in texts(at).replace("\\", "")
    assert any("流转记录" in t for t in texts(at).splitlines())
    at = run_page(monkeypatch, demo_url, "pages/supervision.py", "street", NANPU, period="2024-12", order=other)
    assert f"找不到督办单 {other}" in texts(at).replace("\\", "")


@pytest.mark.parametrize("role,street", [("office", None), ("street", NANPU), ("display", None)])
def test_stations_page_for_each_role(monkeypatch, demo_url, role, street):
    at = run_page(monkeypatch, demo_url, "pages/stations.py", role, street, period="2024-06")
    assert at.selectbox(key="st_month_2024-06").value == "2024-06"
    board = frames(at)
    # only the chosen tab is built and sent: the ranking comes when 月度考核 is opened
    assert not any("排名" in t.columns and "较上月" in t.columns for t in board)
    shown, m = texts(at), metrics(at)
    tables = board + frames(open_tab(at, "st_tab", "月度考核"))
    shown, m = shown + texts(at), {**m, **metrics(at)}
    matrix = next(t for t in tables if "独居老人巡访" in t.columns)
    if role == "street":
        assert list(matrix["站点"]) == ["南浦街道民政服务站"]
        assert "在 10 个站点中排第" in shown and m["结果状态"] == "已发布"
        assert not any("排名" in t.columns and len(t) == 10 for t in tables)  # never the others' scores
    else:
        assert len(matrix) == 10
        ranking = next(t for t in tables if "排名" in t.columns and "较上月" in t.columns)
        assert list(ranking["排名"])[0] == 1 and len(ranking) == 10 and ranking["总分"].is_monotonic_decreasing
    if role == "display":
        assert [t.label for t in at.tabs] == ["任务看板", "月度考核"]
    else:
        assert [t.label for t in at.tabs] == ["任务看板", "月度考核", "一月一调度", "站点填报", "服务内容清单"]


@pytest.fixture(scope="module")
def own_demo(tmp_path_factory):
    """A SQLite demo of this module's own: these tests write."""
    from data.db.migrate import upgrade
    from data.demo import build_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('supervision_pages')}/demo.db"
    engine = get_engine(url)
    upgrade(engine)
    build_demo(engine, scale=1)
    return url


def _order(url, code) -> dict:
    with get_engine(url).connect() as conn:
        return dict(conn.execute(select(SupervisionOrder.__table__).where(SupervisionOrder.code == code)).mappings().one())


def test_issue_sign_report_verify_through_the_page(monkeypatch, own_demo):
    at = run_page(monkeypatch, own_demo, "pages/supervision.py", period="2024-12", todo="ledger|360103010:2024-W52")
    # the ledger item already has an order: the form is still offered, the page refuses a second one
    at.button(key="FormSubmitter:sv_issue_form-派发督办单").click().run()
    assert "该事项已有督办单" in texts(at).replace("\\", "")
    at = open_tab(run_page(monkeypatch, own_demo, "pages/supervision.py", period="2024-12"), "sv_tab", "派单")
    at.selectbox(key=next(s.key for s in at.selectbox if s.key and s.key.startswith("sv_issue_unit_"))) \
        .set_value(f"subdistrict:{NANPU}")
    at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("sv_issue_who_"))).input("南浦街道民政服务站站长")
    at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("sv_issue_title_"))).input("群众诉求：楼道堆物")
    at.text_area(key=next(t.key for t in at.text_area if t.key.startswith("sv_issue_req_"))).input("请三日内清理。")
    at.button(key="FormSubmitter:sv_issue_form-派发督办单").click().run()
    assert not at.exception
    flash = texts(at)
    code = flash.split("已派发督办单 ")[1].split("（")[0].replace("\\", "")
    assert code.startswith(f"DB-{date.today().year}-") and _order(own_demo, code)["status"] == "pending"
    # the street signs and reports back on its own page
    at = run_page(monkeypatch, own_demo, "pages/supervision.py", "street", NANPU, period="2024-12", order=code)
    oid = _order(own_demo, code)["id"]
    at.button(key=f"FormSubmitter:sv_order_panel_sign_{oid}-签收").click().run()
    assert "已签收" in texts(at) and _order(own_demo, code)["status"] == "working"
    at.button(key=f"FormSubmitter:sv_order_panel_report_{oid}-反馈整改情况").click().run()
    assert "请填写“整改情况”" in texts(at).replace("\\", "") and _order(own_demo, code)["status"] == "working"
    note = next(t for t in at.text_area if t.key.startswith(f"sv_order_panel_report_note_{oid}"))
    note.input("已清理完毕。")
    at.button(key=f"FormSubmitter:sv_order_panel_report_{oid}-反馈整改情况").click().run()
    assert _order(own_demo, code)["status"] == "reported"
    # the office verifies and archives
    at = run_page(monkeypatch, own_demo, "pages/supervision.py", period="2024-12", order=code)
    at.button(key=f"FormSubmitter:sv_order_panel_pass_{oid}-复查通过").click().run()
    at.button(key=f"FormSubmitter:sv_order_panel_close_{oid}-办结归档").click().run()
    got = _order(own_demo, code)
    assert (got["status"], got["version"]) == ("closed", 5)


def test_a_stale_step_shows_the_conflict(monkeypatch, own_demo):
    from data.security.access import Principal
    from data.writes.supervision import transition

    with get_engine(own_demo).connect() as conn:
        code, oid, version = conn.execute(select(SupervisionOrder.code, SupervisionOrder.id, SupervisionOrder.version)
                                          .where(SupervisionOrder.subdistrict_code == NANPU,
                                                 SupervisionOrder.status == "reported")).first()
    at = run_page(monkeypatch, own_demo, "pages/supervision.py", period="2024-12", order=code)
    transition(get_engine(own_demo), Principal("t_office", "office"), oid, version, "return", note="另一位同事退回")
    at.text_area(key=next(t.key for t in at.text_area if t.key.startswith(f"sv_order_panel_return_note_{oid}"))) \
        .input("照片不清晰")
    at.button(key=f"FormSubmitter:sv_order_panel_return_{oid}-退回重新整改").click().run()
    assert "已被他人修改" in texts(at)
    assert _order(own_demo, code)["returned"] == 1  # only the other user's return


def test_office_records_entries_and_publishes(monkeypatch, own_demo):
    at = open_tab(run_page(monkeypatch, own_demo, "pages/stations.py", period="2024-06"), "st_tab", "月度考核")
    assert "已于 2024-07-01 10:00 发布" in texts(at)
    at.button(key="st_rank_publish").click().run()
    assert "2024年6月考核结果已发布" in texts(at)
    # the 考核通报 is offered for download
    assert any(b.label == "下载考核通报（Word）" for b in at.get("download_button"))


def test_the_list_filters_survive_a_look_at_another_tab(monkeypatch, demo_url):
    """The tabs are built only when open; a filter chosen on 督办单 is still chosen, and the list still filtered,
    after the user looked at 按责任单位 and came back."""
    at = run_page(monkeypatch, demo_url, "pages/supervision.py", period="2024-12")
    at.multiselect(key="sv_f_st").set_value(["closed"]).run()
    listed = next(t for t in frames(at) if "督办事项" in t.columns)
    assert len(listed) and set(listed["状态"]) == {"已办结"}
    open_tab(at, "sv_tab", "按责任单位")
    open_tab(at, "sv_tab", "督办单")
    assert at.multiselect(key="sv_f_st").value == ["closed"]
    again = next(t for t in frames(at) if "督办事项" in t.columns)
    assert len(again) == len(listed) and set(again["状态"]) == {"已办结"}
