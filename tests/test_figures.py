"""Every figure of the 2024 first-half report (F01–F76) on the demo district, through the query layer, on both engines.

The expected numbers are the report's (mission/figures.md), written here as literals: they are the
specification the independent generator (data/demo.py) must meet.
"""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Float, Integer, func, select

from data.demo import DEMO_PERIOD_END, SHOWCASE_COMMUNITY, SILENT_STREET, build_demo
from data.db import rollups
from data.db.engine import get_engine
from data.domain.figures import FIGURES, PAGES, SECTIONS, compute_all, figure, render
from data.security.idcard import is_valid_id
from data.db.migrate import upgrade
from data.db.models import AidPerson, Base, LivingAloneElder, Subdistrict
from data.domain.period import custom, parse
from data.queries import affairs, aid, facilities, findings, geography, services

H1 = parse("2024-H1")
END = date(2024, 12, 31)

# figures.md, the value column; a target also names its unit and deadline
EXPECTED = {
    "F01": {"total": 8, "embedded_nursing_home": 1, "home_care_center": 1, "meal_point": 6},
    "F02": {"operating": 7, "total": 8, "pending": 1},
    "F03": {"institutions": 8},
    "F04": {"target": 100, "unit": "%", "deadline": date(2025, 12, 31)},
    "F05": {"reserve": 1},
    "F06": {"day_care_centers": 1},
    "F07": {"target": 1, "unit": "家", "deadline": date(2024, 12, 31), "progress": 0},
    "F10": {"meal_points": 47},
    "F11": {"covered": 98, "communities": 172},
    "F12": {"target": 68, "unit": "个", "deadline": date(2024, 12, 31), "progress": 47},
    "F13": {"target": 65, "unit": "%", "deadline": date(2024, 12, 31)},
    "F14": {},
    "F15": {"names": ["桃花街道凉伞树社区助餐点"], "count": 1},
    "F20": {"visits": 12247},
    "F21": {"elders": 275},
    "F22": {"target": 2, "unit": "次", "deadline": date(2024, 12, 31)},
    "F23": {"visits": 1598},
    "F30": {"inspections": 4, "institutions": 8},
    "F31": {"inspections": 27},
    "F32": {"found": 178},
    "F33": {"found": 178, "rectified": 178, "open": 0},
    "F34": {"found": 23},
    "F35": {"found": 23, "rectified": 18, "open": 5},
    "F36": {"referred": 2},
    "F37": {"villages": 13},
    "F40": {"households": 2059, "persons": 2911},
    "F41": {"amount_fen": 1_398_750_000},
    "F42": {"persons": 164},
    "F43": {"amount_fen": 187_000_000},
    "F44": {"amount_fen": 19_790_000},
    "F45": {"amount_fen": 44_410_000},
    "F46": {"amount_fen": 222_220_000},
    "F47": {"amount_fen": 6_000_000},
    "F50": {"screened": 986},
    "F51": {"households": 102},
    "F52": {"households": 13},
    "F60": {"registrations": 1141},
    "F61": {"pledges": 809},
    "F62": {"ceremonies": 2, "classes": 2},
    "F63": {"letters": 6},
    "F64": {"stopped": 6},
    "F70": {"district": 1, "subdistrict": 10},
    "F71": {"social_workers": 22},
    "F72": {"trainings": 4},
    "F73": {"meetings": 2},
    "F74": {"resolved": 9},
    "F75": {"target": 100, "unit": "%", "deadline": date(2024, 12, 31)},
    "F76": {"target": 4, "unit": "项", "deadline": date(2024, 12, 31)},
}
# shares the report writes as whole percents
PERCENT = {"F11": ("rate", 57), "F13": ("progress", 57), "F33": ("rate", 100)}
IDS = list(EXPECTED)


@pytest.fixture(params=["totals", "records"])
def path(request):
    """Both ways of computing a district-wide figure: from the per-day totals (daily_totals, what the pages do)
    and from the records alone (data.db.rollups.from_records)."""
    if request.param == "totals":
        yield request.param
        return
    with rollups.from_records():
        yield request.param


@pytest.mark.parametrize("fid", IDS)
def test_figure_matches_the_report(demo_engine, fid, path):
    values = figure(fid).compute(demo_engine, H1)
    for key, expected in EXPECTED[fid].items():
        assert values[key] == expected, f"{fid}.{key}"
    if fid in PERCENT:
        key, pct = PERCENT[fid]
        value = values[key] * (100 if key == "rate" else 1)
        assert int(value + 0.5) == pct
    if fid == "F14":  # the report names the 幸福小蜜蜂 service without a number
        assert values["delivered"] > 0 and values["delivery_points"] > 0
    if fid in ("F04", "F75", "F76"):
        assert 0 < values["progress"] <= 100
    if fid == "F22":  # 1,598 visits to ~275 elders over six months: about one a month, short of the rule
        assert 0.9 < values["progress"] < 1.1
        assert 0 < values["below_target_last_month"] <= values["roster_last_month"] == 275


def test_registry_covers_every_figure_once():
    assert [f.id for f in FIGURES] == IDS
    for f in FIGURES:
        assert f.section in SECTIONS and f.page in PAGES
        assert f.name and f.unit and f.definition and "{" in f.wording
        assert figure(f.id) is f
    with pytest.raises(KeyError, match="F99"):
        figure("F99")


def test_rendered_wording_in_the_reports_words(demo_engine):
    assert render("F40", figure("F40").compute(demo_engine, H1)) == "低保保障2059户2911人"
    assert render("F41", figure("F41").compute(demo_engine, H1)) == "发放低保金1398.75万元"
    assert render("F11", figure("F11").compute(demo_engine, H1)) == "社区服务覆盖率57.0%"
    assert render("F44", figure("F44").compute(demo_engine, H1)) == "临时救助金19.79万元"
    assert render("F43", figure("F43").compute(demo_engine, H1)) == "发放生活补贴、护理补贴187万元"
    assert render("F47", figure("F47").compute(demo_engine, H1)) == "开展应急救助与人道救助，发放救助款6万元"


def test_compute_all_gives_every_figure_with_its_text(demo_engine, path):
    rows = compute_all(demo_engine, H1)
    assert [r["id"] for r in rows] == IDS
    assert all(r["text"] and "{" not in r["text"] and "None" not in r["text"] for r in rows)
    by_street = compute_all(demo_engine, H1, street="360103014")
    assert next(r for r in by_street if r["id"] == "F15")["values"]["count"] == 1   # 凉伞树 is in 桃花街道
    assert next(r for r in by_street if r["id"] == "F12")["values"]["progress"] == 47  # district-level target


@pytest.mark.parametrize("fid,key", [("F10", "meal_points"), ("F20", "visits"), ("F41", "amount_fen"),
                                     ("F40", "households"), ("F50", "screened")])
def test_subdistricts_add_up_to_the_district(demo_engine, fid, key):
    fig = figure(fid)
    codes = list(geography.subdistricts(demo_engine)["code"])
    assert len(codes) == 10
    parts = [fig.compute(demo_engine, H1, street=c)[key] for c in codes]
    assert all(p > 0 for p in parts)
    assert sum(parts) == fig.compute(demo_engine, H1)[key]


# --- the demo's story beyond H1 2024 ---------------------------------------------------------------

def test_end_of_2024_meets_the_meal_targets(demo_engine):
    assert facilities.meal_points_operating(demo_engine, END) == 68
    assert facilities.meal_coverage_rate(demo_engine, END) >= 0.65
    assert figure("F12").compute(demo_engine, parse("2024"))["status"] == "已达成"
    assert figure("F13").compute(demo_engine, parse("2024"))["status"] == "已达成"


def test_second_half_of_2024_milestones(demo_engine):
    key = facilities.key_facilities(demo_engine, 2024, END)
    late = key[key["opened_on"] > date(2024, 6, 30)]
    assert list(late["kind"]) == ["meal_point"] and late["opened_on"].iloc[0].month == 7
    day_care = facilities.facilities_by_plan_year(demo_engine, 2024, END, kinds=["day_care_center"])
    assert len(day_care) == 1 and date(2024, 10, 1) <= day_care["opened_on"].iloc[0] <= END
    assert figure("F07").compute(demo_engine, parse("2024-H2"))["progress"] == 1
    assert figure("F05").compute(demo_engine, parse("2024"))["reserve"] == 1


def test_warning_signals_at_the_end_of_2024(demo_engine):
    silent_points = facilities.meal_points_without_records(demo_engine, END, days=10)
    assert len(silent_points) == 2
    # open and overdue: the 5 三资 findings, plus a few from meal and home-care supervision
    sanzi = findings.findings_summary(demo_engine, parse("2024"), sources=("sanzi",))
    assert (sanzi["found"], sanzi["rectified"], sanzi["open"], sanzi["overdue"]) == (23, 18, 5, 5)
    open_now = findings.open_findings_on(demo_engine, END, sources=("meal_supervision", "home_care_supervision"))
    assert 2 <= int(open_now["overdue"].sum()) <= 10
    december = services.living_alone_visit_compliance(demo_engine, parse("2024-12"))
    assert 0 < int((~december["compliant"]).sum()) <= 20
    # one subdistrict with no ledger record in the last week of 2024, every other one with some
    last_week = custom(date(2024, 12, 23), END)
    assert services.home_service_visits(demo_engine, last_week, SILENT_STREET) == 0
    assert services.living_alone_visits(demo_engine, last_week, SILENT_STREET) == 0
    assert facilities.meals_served(demo_engine, last_week, SILENT_STREET).empty
    assert aid.aid_totals(demo_engine, last_week, SILENT_STREET)["payments"].sum() == 0
    others = [c for c in geography.subdistricts(demo_engine)["code"] if c != SILENT_STREET]
    assert all(services.home_service_visits(demo_engine, last_week, c) > 0 for c in others)


def test_findings_look_like_real_rectification_work(demo_engine):
    every = findings.findings_list(demo_engine, custom(date(2023, 1, 1), END))
    assert set(every["severity"]) == {"一般", "较重", "严重"}
    assert {"消防安全", "食品安全", "设施设备", "台账管理", "资金管理", "资产台账"} <= set(every["category"])
    days = [(d - f).days for d, f in zip(every["deadline"], every["found_on"])]
    assert min(days) >= 15 and max(days) <= 60


def test_2023_is_there_for_year_over_year(demo_engine):
    h1_2023 = H1.year_earlier()
    assert 0 < facilities.meal_points_operating(demo_engine, h1_2023.end) < 47
    assert 0 < figure("F41").compute(demo_engine, h1_2023)["amount_fen"] < 1_398_750_000
    assert services.home_service_visits(demo_engine, h1_2023) > 10_000
    assert affairs.civil_event_count(demo_engine, h1_2023, kind="marriage_registration") > 1000


def test_persons_are_visibly_fictitious(demo_engine):
    with demo_engine.connect() as conn:
        ids = conn.execute(select(AidPerson.id_number).limit(500)).scalars().all()
        ids += conn.execute(select(LivingAloneElder.id_number)).scalars().all()
        phones = conn.execute(select(LivingAloneElder.phone).where(LivingAloneElder.phone.is_not(None))).scalars().all()
        names = conn.execute(select(LivingAloneElder.name)).scalars().all()
    assert all(i.startswith("999999") and is_valid_id(i) for i in ids)
    assert all(p.startswith("1990000") and len(p) == 11 for p in phones)
    assert all(any(c in n for c in "甲乙丙丁戊己庚辛壬癸") for n in names)


def test_showcase_is_the_real_community(demo_engine):
    cov = facilities.community_meal_coverage(demo_engine, H1.end)
    assert bool(cov.set_index("code").loc[SHOWCASE_COMMUNITY, "covered"])
    assert 55_000 <= int(cov["pop_60"].sum()) <= 65_000


# --- scale and determinism ---------------------------------------------------------------------------

# Written by the app itself (accounts, sign-ins, audit, imports, scenarios, frozen figures), not by the demo
# generator: other tests sign in and save on the shared demo database.
APP_WRITTEN = {"meta", "site_scenarios", "users", "user_sessions", "audit_log", "import_batches", "import_files",
               "frozen_figures"}


def _fingerprint(engine) -> dict:
    """Rows per table and sums of every numeric column (floats rounded), for comparing two builds."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in APP_WRITTEN:
                continue
            if table.name == "aid_counts_state":  # counts writes: per row on SQLite, per statement on PostgreSQL;
                continue                          # the counts it guards are compared (aid_period_counts)
            cols = [c for c in table.c if isinstance(c.type, (Integer, Float)) and not c.primary_key
                    and c.name != "version"]  # edit tests restore what they change, but versions move on
            row = conn.execute(select(func.count(), *[func.sum(c) for c in cols]).select_from(table)).one()
            out[table.name] = (row[0], *[round(float(v), 3) if v is not None else None for v in row[1:]])
    return out


@pytest.fixture(scope="module")
def sqlite_builds(tmp_path_factory):
    """A second ×1 build and a ×2 build, both on fresh SQLite files."""
    engines = {}
    for scale in (1, 2):
        url = f"sqlite:///{tmp_path_factory.mktemp('build')}/x{scale}_{uuid.uuid4().hex[:6]}.db"
        engine = get_engine(url)
        upgrade(engine)
        counts = build_demo(engine, scale=scale)
        engines[scale] = (engine, counts)
    yield engines
    for engine, _ in engines.values():
        engine.dispose()


def test_build_is_deterministic(demo_engine, sqlite_builds):
    again, _ = sqlite_builds[1]
    assert _fingerprint(again) == _fingerprint(demo_engine)


def test_scale_two_doubles_every_additive_figure(demo_engine, sqlite_builds):
    (one, counts1), (two, counts2) = sqlite_builds[1], sqlite_builds[2]
    assert {t: 2 * n for t, n in counts1.items() if t not in ("targets", "meta")} == \
        {t: n for t, n in counts2.items() if t not in ("targets", "meta")}
    for fid, key in [("F10", "meal_points"), ("F20", "visits"), ("F40", "persons"), ("F41", "amount_fen"),
                     ("F21", "elders"), ("F37", "villages"), ("F70", "subdistrict"), ("F74", "resolved")]:
        assert figure(fid).compute(two, H1)[key] == 2 * figure(fid).compute(demo_engine, H1)[key], fid
    assert figure("F11").compute(two, H1)["covered"] == 2 * 98
    assert figure("F12").compute(two, H1)["target"] == 2 * 68   # count targets grow with the replicas
    assert figure("F13").compute(two, H1)["target"] == 65       # rates do not
    with two.connect() as conn:
        names = dict(conn.execute(select(Subdistrict.code, Subdistrict.name)).all())
    assert names["360103014"] == "桃花街道" and names["360103014-1"] == "桃花街道（副本1）"
    replica = figure("F15").compute(two, H1, street="360103014-1")
    assert replica["names"] == ["桃花街道凉伞树社区助餐点（副本1）"]
    assert figure("F41").compute(two, H1, street="360103014-1") == figure("F41").compute(demo_engine, H1, "360103014")
    assert DEMO_PERIOD_END == END
