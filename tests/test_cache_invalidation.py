"""An import is visible on the next rerun: every page query goes through data.db.cache.q, keyed on the database's data
version, and every write bumps that version in its own transaction (data.queries.common.bump_data_version).

On both engines, through AppTest of the 救助发放 page: a payment written together with the version bump shows in the
next rerun's headline figure; a row slipped in without the bump does not (so the figure really comes from the cache
and the test would catch a write path that forgot to bump).
"""
from __future__ import annotations

from cards import cards

from pathlib import Path

import pytest
from sqlalchemy import insert, select
from streamlit.testing.v1 import AppTest

from conftest import ENGINES, fresh_database
from data.db.engine import get_engine
from data.db.migrate import upgrade
from data.db.models import AidPayment
from data.domain.period import parse
from data.queries.common import bump_data_version, data_version

ROOT = Path(__file__).resolve().parent.parent
LABEL = "救助发放合计（万元）"


@pytest.fixture(params=ENGINES)
def own_demo_url(request, tmp_path):
    """A demo district (×1) of this test's own: the test writes to it."""
    from data.demo import build_demo

    with fresh_database(request.param, tmp_path) as url:
        engine = get_engine(url)
        upgrade(engine)
        build_demo(engine, scale=1)
        yield url


def _headline(at) -> float:
    shown = {m.label: m.value for m in cards(at)}
    return float(shown[LABEL].replace(",", ""))


def _payment_row(engine, at, subtype: str) -> dict:
    """A new payment like an existing one in the period the page shows (same person, household, subdistrict, day),
    under a subtype of its own (a payment's identity is person + programme + subtype + day)."""
    period = parse(at.query_params["period"])
    with engine.connect() as conn:
        row = conn.execute(select(AidPayment).where(AidPayment.paid_on.between(period.start, period.end),
                                                    AidPayment.programme == "dibao")
                           .order_by(AidPayment.id).limit(1)).mappings().one()
    return {"programme": "dibao", "subtype": subtype, "household_id": row["household_id"], "person_id": row["person_id"],
            "subdistrict_code": row["subdistrict_code"], "paid_on": row["paid_on"]}


def test_a_write_that_bumps_the_version_shows_on_the_next_rerun(monkeypatch, own_demo_url):
    monkeypatch.setenv("DATABASE_URL", own_demo_url)
    monkeypatch.chdir(ROOT)
    engine = get_engine(own_demo_url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["period"] = "2024-06"
    at.run()
    at.switch_page("pages/aid.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["period"] == "2024-06"
    before = _headline(at)

    # Without the bump the cached figure stays: the page does read through the cache.
    with engine.begin() as conn:
        conn.execute(insert(AidPayment).values(**_payment_row(engine, at, "补发一"), amount_fen=50_000_000))  # 50 万元
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _headline(at) == pytest.approx(before)

    # An import: the row and the version bump in one transaction → the next rerun shows both rows.
    version = data_version(engine)
    with engine.begin() as conn:
        conn.execute(insert(AidPayment).values(**_payment_row(engine, at, "补发二"), amount_fen=1_000_000))  # 1 万元
        bump_data_version(conn)
    assert data_version(engine) == version + 1
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _headline(at) == pytest.approx(before + 50 + 1)


def test_results_are_kept_on_disk_only_where_the_server_may_write(monkeypatch, tmp_path):
    from data.db.cache import disk_persist

    monkeypatch.setenv("HOME", str(tmp_path))
    assert disk_persist() == "disk" and (tmp_path / ".streamlit" / "cache").is_dir()
    monkeypatch.setenv("HOME", "/proc")  # not writable, even for root
    assert disk_persist() is None
