"""Schema migrations on both engines: empty → head → base → head, and the Chinese errors around them."""
import pytest
from sqlalchemy import inspect

from data.db.engine import DatabaseUnavailable, SchemaMissing, SchemaOutdated, check_connection, get_engine
from data.db.migrate import (SCHEMA_HEAD, current_revision, downgrade, ensure_current, head_revision, stored_revision,
                          upgrade)
from data.db.models import Base


def test_upgrade_downgrade_upgrade(bare_db_url):
    engine = get_engine(bare_db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    insp = inspect(engine)
    tables = set(insp.get_table_names()) | set(insp.get_view_names())  # district_daily_totals is a view on SQLite
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    downgrade(engine, "base")
    assert current_revision(engine) is None
    insp = inspect(engine)
    assert not ({t.name for t in Base.metadata.sorted_tables} & (set(insp.get_table_names()) | set(insp.get_view_names())))
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_the_start_up_check_expects_the_newest_migration(bare_db_url):
    # the dashboard checks the schema without alembic: its expected revision must be alembic's head, and its read
    # of the version table must agree with alembic's at every step
    assert SCHEMA_HEAD == head_revision()
    engine = get_engine(bare_db_url)
    assert stored_revision(engine) is None
    upgrade(engine, "0003")
    assert stored_revision(engine) == current_revision(engine) == "0003"
    with pytest.raises(SchemaOutdated, match="当前 0003，最新 " + SCHEMA_HEAD):
        ensure_current(engine)
    upgrade(engine)
    assert stored_revision(engine) == current_revision(engine) == SCHEMA_HEAD
    ensure_current(engine)  # current: no complaint
    downgrade(engine, "base")
    assert stored_revision(engine) is None and current_revision(engine) is None
    with pytest.raises(SchemaMissing):
        ensure_current(engine)


def test_missing_schema_says_how_to_initialise(bare_db_url):
    with pytest.raises(SchemaMissing, match="python -m data init"):
        ensure_current(get_engine(bare_db_url))


def test_outdated_schema_says_to_upgrade(bare_db_url):
    engine = get_engine(bare_db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    with pytest.raises(SchemaOutdated, match="python -m data upgrade"):
        ensure_current(engine)


def test_unreachable_database_message_is_chinese_and_hides_password():
    engine = get_engine("postgresql://bureau:secret@127.0.0.1:1/nowhere")
    with pytest.raises(DatabaseUnavailable) as info:
        check_connection(engine)
    assert "无法连接数据库" in str(info.value)
    assert "secret" not in str(info.value)
