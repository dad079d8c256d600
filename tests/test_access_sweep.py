"""Issue 17 item 10: access is declared per query (data.security.access.query), and no registered query gives a 街道 account a
row or a total from outside its subdistrict — on both engines.

The sweep calls every registered query as a 街道 principal twice: on the demo district, and on a database holding
only that subdistrict's ledgers (every row of the other subdistricts and every district-level row — roundtable
meetings, district events, the district station — left out). Whatever the account is given must be the same on
both: a figure that changes when only other subdistricts' data changes is a figure about them. Refused is fine.
"""
from __future__ import annotations

import inspect
import math
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from conftest import fresh_database
from data.security import access
from data.security.access import AccessDenied, Principal
from data.db.engine import get_engine
from data.db.migrate import upgrade
from data.domain.period import parse

OWN, OTHER = "360103001", "360103014"  # 南浦街道, 桃花街道
STREET = Principal("t_street", "street", OWN)
OFFICE = Principal("t_office", "office")
# reference data read whole by every role: a reviewed list — declaring another query public must change this test
PUBLIC = {"data.queries.geography.subdistricts", "data.queries.geography.subdistrict_names",
          "data.queries.meta.record_date_range", "data.queries.meta.meta_values", "data.queries.affairs.targets",
          "data.queries.affairs.target", "data.queries.maps.counts", "data.ops.settings.map_settings",
          "data.queries.supervision.supervision_settings", "data.queries.supervision.service_tasks",
          "data.queries.supervision.service_task_versions"}
REFERENCE_TABLES = ("subdistricts", "communities")
ARGS = {"period": parse("2024-H1"), "week": parse("2024-W23"), "month_period": parse("2024-06"),
        "quarter": parse("2024-Q2"), "on": date(2024, 6, 30), "plan_year": 2024,
        "ends": (date(2024, 5, 31), date(2024, 6, 30)), "indicator": "meal_points", "start": date(2024, 5, 1),
        "end": date(2024, 5, 31), "kind": "funeral_prompt_letter",
        "kinds": ("finding", "visits", "meal_point", "ledger", "roundtable"), "programme": "dibao", "month": "2024-06"}


def _street_only_rows():
    """The demo district's rows (replica 0) as build_demo writes them, keeping only what belongs to OWN."""
    from data import demo

    district = demo._District(demo.DEFAULT_SEED).build()
    rep = demo._Replicator(district)
    tables = list(rep.rows(0, rep.id_numbers()))
    by_table = dict(tables)
    own_communities = {r["code"] for r in by_table["communities"] if r["subdistrict_code"] == OWN}
    # district inspections (no subdistrict) that found problems in OWN: kept, as the findings point at them
    needed_inspections = {r["inspection_id"] for r in by_table["findings"] if r["subdistrict_code"] == OWN}
    kept: dict[str, set] = {}
    out = []
    for table, rows in tables:
        fks = demo.SPECS[table].fks
        keep_rows = []
        for r in rows:
            if table in REFERENCE_TABLES:
                keep = True
            elif "subdistrict_code" in r and r["subdistrict_code"] is not None:
                keep = r["subdistrict_code"] == OWN
            elif "subdistrict_code" in r:  # a district-level row
                keep = table == "inspections" and r["id"] in needed_inspections
            else:  # belongs where its parents belong; no parent at all: district-level
                parents = [(ref, r[c]) for c, ref in fks.items() if r.get(c) is not None]
                in_own_community = r.get("community_code") in own_communities
                keep = (bool(parents) and all(v in kept[ref] for ref, v in parents)) or \
                    (not parents and in_own_community)
            if keep:
                for c, ref in fks.items():  # a kept row never points at a dropped one
                    assert r.get(c) is None or r[c] in kept[ref], (table, c, r[c])
                keep_rows.append(r)
        kept[table] = {r.get("id", r.get("code")) for r in keep_rows}
        out.append((table, keep_rows))
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def both(request, tmp_path_factory):
    """(demo URL, street-only URL) on one engine."""
    from data import demo
    from data.db import models as m

    with fresh_database(request.param, tmp_path_factory.mktemp("demo_full")) as full, \
            fresh_database(request.param, tmp_path_factory.mktemp("demo_own")) as own:
        for url in (full, own):
            upgrade(get_engine(url))
        demo.build_demo(get_engine(full), scale=1)
        with get_engine(own).begin() as conn:
            for table, rows in _street_only_rows():
                for i in range(0, len(rows), demo.CHUNK):
                    conn.execute(demo.SPECS[table].model.__table__.insert(), rows[i:i + demo.CHUNK])
            conn.execute(m.Target.__table__.insert(), demo._targets(1))
            conn.execute(m.Meta.__table__.insert(), [dict(key="data_version", value="1", updated_at=datetime.now().replace(microsecond=0))])
            _copy_supervision(get_engine(full), conn)
            if conn.dialect.name == "postgresql":
                demo._reset_sequences(conn)
        yield full, own


def _copy_supervision(full, conn) -> None:
    """The demo's 督办 and station history of OWN (its orders with their steps and files, its entries, dispatch
    meetings and published scores) and the district's duty list, copied as they are (the same ids)."""
    from data.db.models import supervision as sm

    with full.connect() as src:
        orders = set(src.execute(select(sm.SupervisionOrder.id).where(
            sm.SupervisionOrder.subdistrict_code == OWN)).scalars())
        for model, where in [(sm.ServiceTask, True), (sm.DispatchRecord, sm.DispatchRecord.subdistrict_code == OWN),
                             (sm.SupervisionOrder, sm.SupervisionOrder.id.in_(orders)),
                             (sm.SupervisionEvent, sm.SupervisionEvent.order_id.in_(orders)),
                             (sm.SupervisionEvidence, sm.SupervisionEvidence.order_id.in_(orders)),
                             (sm.StationEntry, sm.StationEntry.subdistrict_code == OWN),
                             (sm.StationScore, sm.StationScore.subdistrict_code == OWN)]:
            rows = [dict(r) for r in src.execute(select(model.__table__).where(where)).mappings()]
            if rows:
                conn.execute(model.__table__.insert(), rows)


def _own_ids(engine) -> dict:
    """Ids of OWN records, present in both databases, for the queries about one record."""
    from data.db.models import Facility, Finding, SupervisionEvidence, SupervisionOrder, VacantRoom

    with engine.connect() as conn:
        facility = conn.execute(select(Facility.id).where(Facility.subdistrict_code == OWN,
                                                          Facility.kind == "meal_point")
                                .order_by(Facility.id)).scalars().first()
        room = conn.execute(select(VacantRoom.id).where(VacantRoom.subdistrict_code == OWN)
                            .order_by(VacantRoom.id)).scalars().first()
        finding = conn.execute(select(Finding.code).where(Finding.subdistrict_code == OWN)
                               .order_by(Finding.id)).scalars().first()
        order = conn.execute(select(SupervisionOrder.id).where(SupervisionOrder.subdistrict_code == OWN)
                             .order_by(SupervisionOrder.id)).scalars().first()
        evidence = conn.execute(select(SupervisionEvidence.id).join(
            SupervisionOrder, SupervisionOrder.id == SupervisionEvidence.order_id)
            .where(SupervisionOrder.subdistrict_code == OWN).order_by(SupervisionEvidence.id)).scalars().first()
    return {"facility_id": facility, "room_id": room, "code": finding, "scenario_id": 1, "order_id": order,
            "evidence_id": evidence}


def _kwargs(fn, ids: dict, asked: str | None, place: dict) -> dict:
    kw = {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if p.name in ("street", "subdistrict_code"):
            kw[p.name] = asked
        elif p.name in ARGS:
            kw[p.name] = ARGS[p.name]
        elif p.name in ids:
            kw[p.name] = ids[p.name]
        elif p.name in place:
            kw[p.name] = place[p.name]
        elif p.default is inspect.Parameter.empty:
            raise AssertionError(f"the sweep has no value for {fn.__name__}({p.name})")
    return kw


def _outcome(fn, url, kw):
    try:
        return "ok", access.call(STREET, fn, get_engine(url), **kw)
    except AccessDenied as exc:
        return "refused", str(exc)


def _same(a, b, where: str) -> None:
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), where
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False,
                                      obj=where)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_every_named_query_declares_its_access_and_undeclared_functions_are_refused():
    import importlib
    import pkgutil

    import data.queries as dq

    registry = access.registered()
    plumbing = {"frame", "scalar", "data_version"}
    for m in pkgutil.iter_modules(dq.__path__):
        mod = importlib.import_module(f"data.queries.{m.name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ == mod.__name__ and not name.startswith("_") and name not in plumbing \
                    and list(inspect.signature(fn).parameters)[:1] == ["engine"]:
                assert access.qualname(fn) in registry, f"{name} declares no access"
    assert {n for n, f in registry.items() if f.__access__.scope == "public"} == PUBLIC
    # the bundled figure queries are district totals
    from data.domain import figures
    from data.domain import report
    assert report.report_rows.__access__.scope == figures.compute_all.__access__.scope == "district"

    def undeclared(engine, street=None):
        return pd.DataFrame({"subdistrict_code": [OWN]})

    for who in (OFFICE, STREET, Principal("t_leader", "leader")):
        with pytest.raises(AccessDenied, match="未声明"):
            access.call(who, undeclared, None)
    with pytest.raises(ValueError):
        access.query(scope="everything")
    with pytest.raises(ValueError):  # a personal query cannot be opened to the display account
        access.query(scope="street", roles={"display", "office"}, personal={"name": "name"})


def test_no_registered_query_gives_a_street_account_anything_from_outside_its_subdistrict(both):
    full, own = both
    from data.queries import findings

    ids = _own_ids(get_engine(full))
    assert ids == _own_ids(get_engine(own))
    places = findings.places_with_open_findings(get_engine(full), ARGS["on"], OWN, None, limit=1)
    place = {"subdistrict_code": OWN, "place_type": places["place_type"].iloc[0],
             "place_name": places["place_name"].iloc[0]}
    ran, refused, other_refused = [], [], []
    for name, fn in sorted(access.registered().items()):
        for asked in (None, OWN):
            kw = _kwargs(fn, ids, asked, place)
            if "subdistrict_code" in kw and fn.__name__ == "place_findings":
                kw["subdistrict_code"] = OWN
            got_full, got_own = _outcome(fn, full, kw), _outcome(fn, own, kw)
            if name in PUBLIC:
                assert got_full[0] == "ok", name
                continue
            assert got_full[0] == got_own[0], f"{name}({asked}): {got_full[0]} on the district, {got_own[0]} alone"
            if got_full[0] == "ok":
                _same(got_full[1], got_own[1], f"{name}(street={asked})")
                ran.append(name)
            else:
                refused.append(name)
        # another subdistrict, asked for by name, is refused outright
        if fn.__access__.scope == "street":
            kw = _kwargs(fn, ids, OTHER, place)
            assert _outcome(fn, full, kw)[0] == "refused", name
            other_refused.append(name)
    assert len(set(ran)) > 60 and len(set(other_refused)) > 60  # the sweep really ran
    assert {"data.domain.report.report_rows", "data.domain.figures.compute_all", "data.queries.affairs.roundtable",
            "data.queries.overview.targets_progress", "data.queries.weekly.weekly_targets",
            "data.writes.frozen.figures_for_display"} <= set(refused)


def _page_reads(who_role: str, who_street: str | None):
    """A page script that reads through data.db.cache.q as the signed-in principal, as every page does."""
    import streamlit as st

    from data.db import cache
    from data.security.access import AccessDenied, Principal
    from data.domain.period import parse
    from data.queries import aid

    st.session_state["_principal"] = Principal(f"t_{who_role}", who_role, who_street)
    asks = st.session_state.get("asks", [])
    for name, street in asks:
        try:
            kwargs = {"limit": 5} if name == "aid_recipients" else {}
            cache.q(getattr(aid, name), parse("2024-H1"), street, **kwargs)
            st.write(f"{name}: shown")
        except AccessDenied as exc:
            st.warning(str(exc))


@pytest.mark.anonymous
@pytest.mark.parametrize("role,street,asks,message", [
    ("display", None, [("aid_recipients", None)], "不能查看个人名单"),
    ("street", OWN, [("aid_overall", OTHER)], "只能查看本街道"),
], ids=["display-personal-list", "street-other-subdistrict"])
def test_each_refused_read_writes_one_audit_entry_without_personal_data(db_url, monkeypatch, role, street, asks,
                                                                        message):
    """Issue 17 item 25 (reads): a refused read through the page path is audited once per attempt."""
    import json

    from streamlit.testing.v1 import AppTest

    from data.security.audit import audit_entries

    monkeypatch.setenv("DATABASE_URL", db_url)
    engine = get_engine(db_url)
    at = AppTest.from_function(_page_reads, args=(role, street), default_timeout=60)
    at.session_state["asks"] = asks
    at.run()
    assert [w.value for w in at.warning] and message in at.warning[0].value
    at.run()  # the same attempt again: a second entry
    entries = audit_entries(engine, actions=("read_refused",))
    assert len(entries) == 2 and set(entries["username"]) == {f"t_{role}"} and not entries["ok"].any()
    detail = json.loads(entries.iloc[0]["detail"])
    assert detail["query"] == f"data.queries.aid.{asks[0][0]}" and message in detail["reason"]
    assert detail.get("asked_street") == asks[0][1]
    # nothing else was written for the refusals, and an allowed read writes nothing
    assert len(audit_entries(engine)) == 2
    at.session_state["asks"] = [("aid_overall", None)]
    at.run()
    assert not at.warning and len(audit_entries(engine)) == 2
