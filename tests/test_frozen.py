"""冻结季度数: freeze a quarter, a late correction changes live but not frozen, the difference; migration 0003."""
from datetime import date, datetime

import pytest
from sqlalchemy import inspect, insert

from auth_helpers import principal
from data.writes import frozen as fz
from data.security.access import AccessDenied
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.db.migrate import current_revision, downgrade, upgrade
from data.db.models import MealRecord
from data.domain.period import quarter
from data.queries.common import data_version
from test_weekly import _small

Q4 = quarter(2024, 4)
OFFICE = principal("office")


def test_freeze_then_late_correction(db_url):
    engine = _small(db_url)
    live = fz.presentation_figures(engine, Q4)
    assert fz.value_of(live, "meals") == 65 and fz.value_of(live, "meal_points") == 2
    v0 = data_version(engine)
    n = fz.freeze(engine, OFFICE, Q4, "局办公室", as_of=date(2025, 1, 5), now=datetime(2025, 1, 5, 9, 30))
    assert n == len(live) and data_version(engine) == v0 + 1
    info = fz.frozen_info(engine, Q4)
    assert info["as_of"] == date(2025, 1, 5) and info["frozen_by"] == "局办公室"

    # a late ledger correction arrives
    with engine.begin() as conn:
        conn.execute(insert(MealRecord), [{"facility_id": 2, "served_on": date(2024, 12, 28), "dine_in": 7,
                                           "delivered": 3}])
    shown, info = fz.figures_for_display(engine, Q4)
    assert fz.value_of(shown, "meals") == 65  # the presentation keeps the reported number
    assert (shown["definition"].str.len() > 0).all()
    assert fz.value_of(fz.presentation_figures(engine, Q4), "meals") == 75
    cmp = fz.compare(engine, Q4).set_index("key")
    assert cmp.loc["meals", "live"] == 75 and cmp.loc["meals", "frozen"] == 65 and cmp.loc["meals", "difference"] == 10
    assert list(cmp.index[cmp["changed"]]) == ["meals"]

    with pytest.raises(fz.AlreadyFrozen):
        fz.freeze(engine, OFFICE, Q4, "局办公室")
    fz.freeze(engine, OFFICE, Q4, "局办公室", replace=True)
    assert fz.value_of(fz.frozen_figures(engine, Q4), "meals") == 75
    assert fz.unfreeze(engine, Q4) == len(live)
    assert fz.frozen_info(engine, Q4) is None


def test_freeze_needs_a_name(db_url):
    with pytest.raises(ValueError, match="冻结人"):
        fz.freeze(get_engine(db_url), OFFICE, Q4, " ")


@pytest.mark.parametrize("role, street", [("display", None), ("admin", None), ("street", "360103001")])
def test_only_leader_and_office_may_freeze(db_url, role, street):
    engine = _small(db_url)
    v0 = data_version(engine)
    with pytest.raises(AccessDenied, match="不能冻结"):
        fz.freeze(engine, principal(role, street), Q4, "某人")
    assert fz.frozen_info(engine, Q4) is None and data_version(engine) == v0
    refused = audit_entries(engine, actions=("freeze",))  # the refused attempt audited once (issue 17 item 25)
    assert len(refused) == 1 and not refused["ok"].iloc[0] and refused["role"].iloc[0] == role
    assert refused["target"].iloc[0] == "frozen_figures:2024-Q4" and "不能冻结" in refused["detail"].iloc[0]


def test_refreezing_carries_the_old_frozen_values_who_and_when(db_url):
    """A re-freeze's audit entry keeps what it replaced — the old values, 冻结人, as-of date and time — beside the
    new; a re-freeze identical to what is frozen writes nothing (issue 17 item 25)."""
    import json

    engine = _small(db_url)
    fz.freeze(engine, OFFICE, Q4, "局办公室", as_of=date(2025, 1, 5), now=datetime(2025, 1, 5, 9, 30))
    with engine.begin() as conn:  # a late correction
        conn.execute(insert(MealRecord), [{"facility_id": 2, "served_on": date(2024, 12, 28), "dine_in": 7,
                                           "delivered": 3}])
    v0 = data_version(engine)
    fz.freeze(engine, principal("leader"), Q4, "局领导办公室", as_of=date(2025, 1, 20), replace=True,
              now=datetime(2025, 1, 20, 16, 0))
    entry = audit_entries(engine, actions=("freeze",)).iloc[0]
    detail = json.loads(entry["detail"])
    assert detail["replaced"] is True and entry["username"] == "t_leader"
    assert detail["before"] == {"as_of": "2025-01-05", "frozen_by": "局办公室", "frozen_at": "2025-01-05 09:30:00",
                                "figures": detail["after"]["figures"]}
    assert detail["after"]["as_of"] == "2025-01-20" and detail["after"]["frozen_by"] == "局领导办公室"
    assert detail["after"]["frozen_at"] == "2025-01-20 16:00:00"
    assert detail["changes"] == {"meals": {"before": 65.0, "after": 75.0}}
    assert data_version(engine) == v0 + 1
    # the same again — same figures, as-of date and 冻结人 — changes nothing: refused, no entry, no bump
    with pytest.raises(fz.AlreadyFrozen, match="完全相同"):
        fz.freeze(engine, OFFICE, Q4, "局领导办公室", as_of=date(2025, 1, 20), replace=True)
    assert len(audit_entries(engine, actions=("freeze",))) == 2 and data_version(engine) == v0 + 1
    # unfreezing is audited with what was frozen
    fz.unfreeze(engine, Q4, OFFICE)
    entry = json.loads(audit_entries(engine, actions=("freeze",)).iloc[0]["detail"])
    assert entry["op"] == "unfreeze" and entry["before"]["frozen_by"] == "局领导办公室"
    assert entry["before"]["values"]["meals"] == 75.0 and entry["after"] is None


def test_freeze_is_audited_and_names_the_principal_by_default(db_url):
    engine = _small(db_url)
    leader = principal("leader")
    n = fz.freeze(engine, leader, Q4)
    assert fz.frozen_info(engine, Q4)["frozen_by"] == leader.username
    log = audit_entries(engine, actions=("freeze",))
    assert len(log) == 1
    entry = log.iloc[0]
    assert entry["username"] == leader.username and entry["role"] == "leader" and bool(entry["ok"])
    assert entry["target"] == "frozen_figures:2024-Q4" and f'"figures": {n}' in entry["detail"]


def test_small_counts_of_people_are_suppressed():
    assert fz.fmt_value(2, "户", True) == "<3"
    assert fz.fmt_value(0, "户", True) == "0户"
    assert fz.fmt_value(3, "户", True) == "3户"
    assert fz.fmt_value(2, "个", False) == "2个"
    assert fz.fmt_value(56.97, "%") == "57.0%" and fz.fmt_value(952.97, "万元") == "952.97万元"


def test_demo_h1_roundtable_figures(demo_engine):
    h1 = fz.presentation_figures(demo_engine, quarter(2024, 2))
    assert fz.value_of(h1, "rt_meetings_ytd") == 2 and fz.value_of(h1, "rt_resolved_ytd") == 9
    assert set(h1["step"]) == {1, 2, 3, 4, 5}


def test_migration_0003_up_and_down(bare_db_url):
    engine = get_engine(bare_db_url)
    upgrade(engine, "0002")
    assert "frozen_figures" not in inspect(engine).get_table_names()
    upgrade(engine, "0003")
    assert current_revision(engine) == "0003"
    cols = {c["name"] for c in inspect(engine).get_columns("frozen_figures")}
    assert {"figure_key", "value", "unit", "definition", "as_of", "frozen_by", "frozen_at"} <= cols
    downgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    assert "frozen_figures" not in inspect(engine).get_table_names()
