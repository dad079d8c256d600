"""`python -m data` on both engines: init (with the demo), status, upgrade, and Chinese errors without tracebacks."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, url):
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)


def test_init_demo_then_status_then_upgrade(bare_db_url):
    first = cli("status", url=bare_db_url)
    assert first.returncode == 0 and "未初始化" in first.stdout

    init = cli("init", "--demo", url=bare_db_url)
    assert init.returncode == 0, init.stderr
    assert "已加载演示数据（×1）" in init.stdout

    status = cli("status", url=bare_db_url)
    assert status.returncode == 0
    assert "最新" in status.stdout and "2023-01-01 至 2024-12-31" in status.stdout and "演示数据：×1" in status.stdout
    assert "aid_payments" in status.stdout

    again = cli("init", "--demo", url=bare_db_url)  # idempotent: the demo is not loaded twice
    assert again.returncode == 0 and "未重复加载" in again.stdout
    assert cli("status", url=bare_db_url).stdout == status.stdout

    up = cli("upgrade", url=bare_db_url)
    assert up.returncode == 0 and "已升级" in up.stdout
    assert "已重算" not in up.stdout  # the demo's distinct aid counts are current: nothing to do

    from sqlalchemy import text

    from data.db import rollups
    from data.db.engine import get_engine

    engine = get_engine(bare_db_url)
    with engine.begin() as conn:  # a payment changed by hand: the counts are no longer current
        conn.execute(text("UPDATE aid_payments SET paid_on = paid_on WHERE id = (SELECT min(id) FROM aid_payments)"))
    assert not rollups.period_counts_current(engine)
    up = cli("upgrade", url=bare_db_url)
    assert up.returncode == 0 and "已重算救助发放各标准统计期的去重户数、人数" in up.stdout, up.stdout
    assert rollups.period_counts_current(engine)


def test_unreachable_database_is_explained_without_traceback():
    out = cli("status", url="postgresql://bureau:secret@127.0.0.1:1/none")
    assert out.returncode == 2
    assert "无法连接数据库" in out.stderr and "Traceback" not in out.stderr and "secret" not in out.stderr


def test_bad_scale_is_refused(tmp_path):
    out = cli("init", "--demo", "--scale", "0", url=f"sqlite:///{tmp_path}/x.db")
    assert out.returncode == 2 and "--scale" in out.stderr
