"""Issue 17 items 8, 9, 26 and the account part of 25, on both engines with real threads (data.security.auth):
parallel wrong passwords lock the account with an exact count; an unknown user and a wrong password cannot be told
apart; a password change ends the account's other sessions; account changes are audited before → after, once."""
from __future__ import annotations

import json
import statistics
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import select

from data.security import auth
from data.security.audit import audit_entries
from data.db.engine import get_engine
from data.db.models.auth import User
from factories import subdistricts

PW = "Xihu#2024pass"
THREADS = 24


@pytest.fixture
def engine(db_url):
    engine = get_engine(db_url)
    subdistricts(engine, ("360103001", "南浦街道"), ("360103014", "桃花街道"))
    return engine


def _fire(n: int, fn) -> list:
    """Run fn(i) in n threads released together; return what each returned or raised."""
    barrier = threading.Barrier(n)
    out: list = [None] * n

    def run(i):
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    return out


def test_parallel_wrong_passwords_lock_the_account_and_each_one_counts(engine):
    auth.create_user(engine, "gao", PW, "office")
    results = _fire(THREADS, lambda i: auth.sign_in(engine, "gao", f"wrong-pass-{i}"))
    assert all(isinstance(r, auth.AuthError) for r in results), results
    with engine.connect() as conn:
        row = conn.execute(select(User.failed_attempts, User.locked_until).where(User.username == "gao")).one()
    assert row.locked_until is not None and row.locked_until > datetime.now()
    log = audit_entries(engine, username="gao")
    failed = log[log["action"] == "signin_failed"]
    assert len(failed) == THREADS  # every attempt audited once
    counted = sorted(json.loads(d)["failures"] for d in failed["detail"] if "failures" in json.loads(d))
    refused_as_locked = sum(json.loads(d).get("reason") == "locked" for d in failed["detail"])
    # each counted failure got its own number (no two read the same count), and the stored count is theirs
    assert counted == list(range(1, len(counted) + 1)) and row.failed_attempts == len(counted)
    assert len(counted) + refused_as_locked == THREADS and len(counted) >= auth.MAX_FAILURES
    assert list(log["action"]).count("lockout") == 1
    assert sum("已锁定" in str(r) for r in results) >= THREADS - auth.MAX_FAILURES + 1
    with pytest.raises(auth.AuthError, match="已锁定"):  # even the right password, while locked
        auth.sign_in(engine, "gao", PW)


def test_a_right_password_racing_the_lockout_does_not_unlock_it(engine):
    auth.create_user(engine, "lin", PW, "office")
    results = _fire(THREADS, lambda i: auth.sign_in(engine, "lin", PW if i % 6 == 5 else f"wrong-pass-{i}"))
    with engine.connect() as conn:
        row = conn.execute(select(User.failed_attempts, User.locked_until).where(User.username == "lin")).one()
    wrong = [r for i, r in enumerate(results) if i % 6 != 5]
    assert all(isinstance(r, auth.AuthError) for r in wrong)
    log = audit_entries(engine, username="lin")
    if row.locked_until is None:  # a right password landed after the last failure: then no lock was ever set…
        assert "lockout" not in set(log["action"])
    else:  # …otherwise the lock holds, whatever signed in before it
        assert list(log["action"]).count("lockout") == 1
        with pytest.raises(auth.AuthError, match="已锁定"):
            auth.sign_in(engine, "lin", PW)


def _median_seconds(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        with pytest.raises(auth.AuthError):
            fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def test_unknown_user_and_wrong_password_give_the_same_answer_in_about_the_same_time(engine):
    for name in ("qian", "sun", "zhou"):
        auth.create_user(engine, name, PW, "office")
    auth.create_user(engine, "chu", PW, "office")
    admin = auth.create_user(engine, "boss", PW, "admin") and auth.sign_in(engine, "boss", PW).principal
    version = int(auth.users(engine).set_index("username").loc["chu", "version"])
    auth.update_user(engine, admin, "chu", version, active=False)
    messages = set()
    for who in ("nobody", "qian", "chu"):  # unknown, wrong password, disabled account with a wrong password
        with pytest.raises(auth.AuthError) as refused:
            auth.sign_in(engine, who, "wrong-pass-0")
        messages.add(str(refused.value))
    assert len(messages) == 1 and "用户名或密码错误" in messages.pop()
    with pytest.raises(auth.AuthError, match="已停用"):  # told only to whoever knows the password
        auth.sign_in(engine, "chu", PW)
    unknown, wrong = [], []
    for rnd in range(3):  # interleaved, 3 wrong tries per account (below the lockout)
        unknown.append(_median_seconds(lambda: auth.sign_in(engine, f"ghost{rnd}", "wrong-pass-1"), 3))
        for name in ("qian", "sun", "zhou"):
            wrong.append(_median_seconds(lambda: auth.sign_in(engine, name, "wrong-pass-1"), 1))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2, (unknown, wrong)


def test_changing_ones_password_ends_the_other_sessions_only(engine):
    auth.create_user(engine, "he", PW, "office")
    here, laptop, phone = (auth.sign_in(engine, "he", PW).token for _ in range(3))
    ended = auth.change_password(engine, "he", PW, "New#pass-2025", keep_token=here)
    assert ended == 2
    assert auth.resume(engine, here) is not None
    assert auth.resume(engine, laptop) is None and auth.resume(engine, phone) is None
    with pytest.raises(auth.AuthError, match="用户名或密码错误"):
        auth.sign_in(engine, "he", PW)
    other = auth.sign_in(engine, "he", "New#pass-2025").token
    auth.change_password(engine, "he", "New#pass-2025", "Newer#pass-2026")  # from nowhere: every session ends
    assert auth.resume(engine, here) is None and auth.resume(engine, other) is None
    entry = audit_entries(engine, username="he", actions=("password_change",)).iloc[1]
    assert json.loads(entry["detail"]) == {"password": "changed", "other_sessions_ended": 2}


def test_account_changes_are_audited_before_and_after_and_a_no_change_save_is_not(engine):
    auth.create_user(engine, "boss", PW, "admin")
    admin = auth.sign_in(engine, "boss", PW).principal
    auth.create_user(engine, "xu", PW, "office", display_name="徐")
    v = int(auth.users(engine).set_index("username").loc["xu", "version"])
    v2 = auth.update_user(engine, admin, "xu", v, role="street", subdistrict_code="360103001", display_name="徐某",
                          active=True)
    assert v2 == v + 1
    entry = audit_entries(engine, actions=("user_update",)).iloc[0]
    detail = json.loads(entry["detail"])
    assert detail["changes"] == {"role": {"before": "office", "after": "street"},
                                 "subdistrict_code": {"before": None, "after": "360103001"},
                                 "display_name": {"before": "徐", "after": "徐某"}}
    assert detail["version"] == {"before": v, "after": v + 1}
    # the same values again: nothing written, no audit row, the version unchanged
    n = len(audit_entries(engine, actions=("user_update",)))
    assert auth.update_user(engine, admin, "xu", v2, role="street", subdistrict_code="360103001",
                            display_name="徐某", active=True) == v2
    assert len(audit_entries(engine, actions=("user_update",))) == n
    assert int(auth.users(engine).set_index("username").loc["xu", "version"]) == v2
    # a stale save is refused and audited as a refusal
    with pytest.raises(auth.AuthError, match="已被他人修改"):
        auth.update_user(engine, admin, "xu", v, display_name="别人")
    refusal = audit_entries(engine, actions=("user_update",)).iloc[0]
    assert not refusal["ok"] and json.loads(refusal["detail"])["reason"] == "changed by someone else"
    # a reset: the password is never written, only that it was reset
    auth.update_user(engine, admin, "xu", v2, reset_password="Reset#pass-2025")
    detail = json.loads(audit_entries(engine, actions=("user_update",)).iloc[0]["detail"])
    assert detail["changes"]["password"]["after"] == "已重置" and "Reset#pass-2025" not in json.dumps(detail)
    assert detail["changes"]["must_change_password"] == {"before": False, "after": True}


def test_a_fresh_lock_names_the_lockout_minutes_not_one_more():
    from datetime import datetime

    from data.security.auth import LOCKOUT, _locked_message

    now = datetime(2024, 6, 30, 9, 0, 0)
    assert f"请 {int(LOCKOUT.total_seconds() // 60)} 分钟后再试" in _locked_message(now + LOCKOUT, now)
    assert "请 1 分钟后再试" in _locked_message(now + (LOCKOUT / 900), now)  # one second left
