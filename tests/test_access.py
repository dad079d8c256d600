"""Roles enforced in the query layer (data.security.access), on both engines, over every named query in data/queries.

A 街道 account gets no row of another subdistrict whatever arguments it sends; 展示 and 管理员 never receive
a name, ID number or phone; personal lists come back masked unless revealed, and a reveal is audited.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from datetime import date

import pandas as pd
import pytest

import data.queries as dq
from data.security import access
from data.security.access import AccessDenied, Principal
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.domain.period import parse
from data.queries import aid, geography, weekly

OWN, OTHER = "360103001", "360103014"  # 南浦街道, 桃花街道
STREET = Principal("t_street", "street", OWN)
DISPLAY = Principal("t_display", "display")
ADMIN = Principal("t_admin", "admin")
OFFICE = Principal("t_office", "office")
ID_RE = re.compile(r"\b\d{17}[\dX]\b")
PHONE_RE = re.compile(r"\b1\d{10}\b")

ARGS = {  # a value for each parameter name the named queries use
    "period": parse("2024-H1"), "week": parse("2024-W23"), "month_period": parse("2024-06"),
    "on": date(2024, 6, 30), "plan_year": 2024, "ends": [date(2024, 5, 31), date(2024, 6, 30)],
    "indicator": "meal_points", "start": date(2024, 5, 1), "end": date(2024, 5, 31),
}
SKIP = {"frame", "scalar", "data_version", "table_counts"}  # plumbing, CLI only


def named_queries():
    out = []
    for m in pkgutil.iter_modules(dq.__path__):
        mod = importlib.import_module(f"data.queries.{m.name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            params = list(inspect.signature(fn).parameters)
            if fn.__module__ == mod.__name__ and not name.startswith("_") and params[:1] == ["engine"] \
                    and name not in SKIP:
                out.append(fn)
    return out


QUERIES = named_queries()


def _kwargs(fn, engine, street=None) -> dict | None:
    kw = {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if p.name in ARGS:
            kw[p.name] = ARGS[p.name]
        elif p.name in ("street", "subdistrict_code"):
            kw[p.name] = street
        elif p.name == "facility_id":
            from sqlalchemy import select

            from data.db.models import Facility
            with engine.connect() as conn:
                kw[p.name] = conn.execute(select(Facility.id).where(Facility.subdistrict_code == OTHER,
                                                                     Facility.kind == "meal_point")).scalars().first()
        elif p.default is inspect.Parameter.empty:
            return None  # needs an argument this sweep cannot invent (tested on its own)
    return kw


def _frames(value):
    if isinstance(value, pd.DataFrame):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _frames(v)


def _other_names(engine) -> set[str]:
    names = geography.subdistrict_names(engine)
    return {n for c, n in names.items() if c != OWN}


@pytest.mark.parametrize("asked", [None, OTHER], ids=["no-filter", "other-street"])
def test_street_account_gets_no_row_of_another_subdistrict(demo_url, asked):
    engine = get_engine(demo_url)
    others, other_codes = _other_names(engine), set(geography.subdistrict_names(engine)) - {OWN}
    ran = refused = 0
    for fn in QUERIES:
        kw = _kwargs(fn, engine, asked)
        if kw is None:
            continue
        try:
            result = access.call(STREET, fn, engine, **kw)
        except AccessDenied:
            refused += 1
            continue
        ran += 1
        if fn.__access__.scope == "public":
            continue
        for df in _frames(result):
            for col in ("subdistrict_code", "street"):
                if col in df.columns:
                    assert not set(df[col].dropna()) & other_codes, f"{fn.__name__} leaked {col}"
            if "subdistrict_name" in df.columns:
                assert not set(df["subdistrict_name"].dropna()) & others, f"{fn.__name__} leaked another subdistrict"
        if isinstance(result, dict):
            for k in ("subdistrict_code", "street"):
                assert result.get(k) in (None, OWN) or not isinstance(result.get(k), str)
    if asked is None:
        assert ran > 40  # the sweep really ran the queries
    else:
        assert refused > 40  # asking for another subdistrict is refused, not silently answered


def test_street_account_own_figures_match_the_office_view_of_that_street(demo_url):
    engine = get_engine(demo_url)
    h1 = parse("2024-H1")
    assert access.call(STREET, aid.aid_overall, engine, h1) == aid.aid_overall(engine, h1, OWN)
    assert access.call(STREET, aid.aid_overall, engine, h1, None) == aid.aid_overall(engine, h1, OWN)
    assert access.call(OFFICE, aid.aid_overall, engine, h1) == aid.aid_overall(engine, h1)
    with pytest.raises(AccessDenied, match="本街道"):
        access.call(STREET, aid.aid_overall, engine, h1, OTHER)


def test_street_account_cannot_open_a_meal_point_of_another_subdistrict(demo_url):
    from data.queries import maps

    engine = get_engine(demo_url)
    kw = _kwargs(maps.meal_point_monthly, engine)
    with pytest.raises(AccessDenied):
        access.call(STREET, maps.meal_point_monthly, engine, **kw)
    assert isinstance(access.call(OFFICE, maps.meal_point_monthly, engine, **kw), pd.DataFrame)


def test_district_totals_are_refused_to_a_street_account(demo_url):
    from data.queries import affairs

    engine = get_engine(demo_url)
    with pytest.raises(AccessDenied, match="全区"):
        access.call(STREET, affairs.roundtable, engine, parse("2024-H1"))


@pytest.mark.parametrize("who", [DISPLAY, ADMIN], ids=["display", "admin"])
def test_aggregate_roles_never_receive_a_name_id_or_phone(demo_url, who):
    engine = get_engine(demo_url)
    from sqlalchemy import select

    from data.db.models import AidPerson, LivingAloneElder
    with engine.connect() as conn:
        person_names = set(conn.execute(select(AidPerson.name)).scalars()) | \
            set(conn.execute(select(LivingAloneElder.name)).scalars())
    refused = []
    for fn in QUERIES:
        kw = _kwargs(fn, engine)
        if kw is None:
            continue
        try:
            result = access.call(who, fn, engine, **kw)
        except AccessDenied:
            refused.append(fn.__name__)
            continue
        for df in _frames(result):
            assert not {"id_number", "phone"} & set(df.columns), fn.__name__
            text = df.astype(str).to_string()
            assert not ID_RE.search(text) and not PHONE_RE.search(text), fn.__name__
            for col in df.columns:
                if df[col].dtype == object:
                    assert not set(df[col].dropna().astype(str)) & person_names, f"{fn.__name__}.{col}"
    assert {"aid_recipients", "visits_below_rule", "action_lists"} <= set(refused)


def test_personal_lists_are_masked_unless_revealed_and_a_reveal_is_audited(demo_url):
    engine = get_engine(demo_url)
    h1 = parse("2024-H1")
    masked = access.call(OFFICE, aid.aid_recipients, engine, h1, limit=20)
    raw = aid.aid_recipients(engine, h1, limit=20)
    assert len(masked) == len(raw) == 20
    assert all("*" in n for n in masked["name"]) and not any("*" in n for n in raw["name"])
    assert all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", v) for v in masked["id_number"])
    with pytest.raises(AccessDenied, match="理由"):
        access.grant_reveal(engine, OFFICE, "", "救助对象名单")
    before = len(audit_entries(engine, actions=("reveal_personal",)))
    revealed = access.grant_reveal(engine, OFFICE, "核对六月发放名单", "救助对象名单")
    entries = audit_entries(engine, actions=("reveal_personal",))
    assert len(entries) == before + 1 and entries.iloc[0]["username"] == "t_office"
    assert "核对六月发放名单" in entries.iloc[0]["detail"]
    shown = access.call(revealed, aid.aid_recipients, engine, h1, limit=20)
    assert list(shown["name"]) == list(raw["name"])
    with pytest.raises(AccessDenied):
        access.grant_reveal(engine, DISPLAY, "想看看名单内容", "救助对象名单")


def test_street_weekly_lists_hold_only_its_own_elders(demo_url):
    engine = get_engine(demo_url)
    week = parse("2024-W23")
    lists = access.call(STREET, weekly.action_lists, engine, week)
    below = lists["visits_below_rule"]
    assert len(below) and set(below["subdistrict_code"]) == {OWN}
    assert all("*" in n for n in below["name"])


def test_write_permission_follows_role_and_subdistrict():
    access.require_write(OFFICE, OTHER)
    access.require_write(STREET, OWN)
    with pytest.raises(AccessDenied):
        access.require_write(STREET, OTHER)
    for who in (DISPLAY, ADMIN, Principal("t_leader", "leader")):
        with pytest.raises(AccessDenied):
            access.require_write(who, OWN)


def test_map_settings_are_changed_by_office_or_admin_only_and_audited(db_url):
    from data.ops.settings import MapSettings, map_settings, save_map_settings

    engine = get_engine(db_url)
    with pytest.raises(AccessDenied, match="地图设置"):
        save_map_settings(engine, MapSettings("none", "", 900), by=STREET)
    assert map_settings(engine).walk_radius_m != 900
    save_map_settings(engine, MapSettings("none", "", 900), by=ADMIN)
    assert map_settings(engine).walk_radius_m == 900
    entry = audit_entries(engine, actions=("settings",)).iloc[0]
    assert entry["username"] == "t_admin" and "900" in entry["detail"]
