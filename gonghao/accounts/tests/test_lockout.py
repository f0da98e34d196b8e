"""Lockout: per 工号 (known or not), growing lock times, per-address limit, equal hashing work."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.cache import cache

from gonghao.accounts import services
from gonghao.accounts.models import EmployeeStatus
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import UNKNOWN_ID, api_login, count_hashes, events, failure_reasons, reload

WRONG = "Wrong-Password-0000"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def employee(db, frozen_clock):
    return make_employee("张三")


def _fail(who, times: int, **kwargs) -> list[int]:
    return [api_login(who, WRONG, **kwargs).status_code for _ in range(times)]


def test_five_failures_lock_even_the_right_password(employee, frozen_clock):
    statuses = _fail(employee, 4)
    assert statuses == [401, 401, 401, 401]

    fifth = api_login(employee, WRONG)
    assert fifth.status_code == 423
    assert fifth.json()["code"] == "account_locked"

    sixth = api_login(employee, PASSWORD)
    assert sixth.status_code == 423
    body = sixth.json()
    assert body["code"] == "account_locked"
    locked_until = datetime.fromisoformat(body["details"]["locked_until"])
    assert locked_until == frozen_clock() + timedelta(minutes=15)
    assert reload(employee).locked_until == frozen_clock() + timedelta(minutes=15)
    lockouts = events("auth.lockout")
    assert len(lockouts) == 1
    assert lockouts[0].target_id == str(employee.pk)
    assert lockouts[0].actor_kind == "anonymous"
    assert failure_reasons(employee.employee_id) == ["wrong_password"] * 5 + ["locked"]


def test_lock_ends_after_fifteen_minutes(employee, frozen_clock):
    _fail(employee, 5)
    frozen_clock.advance(minutes=14, seconds=59)
    assert api_login(employee).status_code == 423

    frozen_clock.advance(seconds=1)

    assert api_login(employee).status_code == 200
    fresh = reload(employee)
    assert fresh.locked_until is None
    assert fresh.failed_login_count == 0


def test_attempts_while_locked_do_not_extend_the_lock(employee, frozen_clock):
    _fail(employee, 5)
    frozen_clock.advance(minutes=10)
    assert _fail(employee, 5) == [423] * 5
    frozen_clock.advance(minutes=5)
    assert api_login(employee).status_code == 200


def test_failures_spread_over_more_than_the_window_do_not_lock(employee, frozen_clock):
    assert _fail(employee, 4) == [401] * 4
    frozen_clock.advance(minutes=15, seconds=1)
    assert _fail(employee, 4) == [401] * 4

    assert api_login(employee).status_code == 200
    assert events("auth.lockout") == []


def test_failures_within_the_window_lock(employee, frozen_clock):
    for _ in range(4):
        assert api_login(employee, WRONG).status_code == 401
        frozen_clock.advance(minutes=3, seconds=30)  # 14 minutes in all
    assert api_login(employee, WRONG).status_code == 423
    assert api_login(employee).status_code == 423


def test_each_further_lockout_lasts_longer(employee, frozen_clock):
    _fail(employee, 5)
    first_until = reload(employee).locked_until
    assert first_until == frozen_clock() + timedelta(minutes=15)
    frozen_clock.advance(minutes=15)

    _fail(employee, 5)

    second_until = reload(employee).locked_until
    assert second_until == frozen_clock() + timedelta(minutes=30)
    frozen_clock.advance(minutes=15)
    assert api_login(employee).status_code == 423
    frozen_clock.advance(minutes=15)
    _fail(employee, 5)
    assert reload(employee).locked_until == frozen_clock() + timedelta(minutes=60)
    assert [e.params["until"] for e in events("auth.lockout")] == [
        until.isoformat(timespec="seconds")
        for until in (first_until, second_until, reload(employee).locked_until)
    ]


def test_lockout_duration_doubles_up_to_the_cap(settings):
    settings.GONGHAO_LOCKOUT_DURATION = timedelta(minutes=15)
    settings.GONGHAO_LOCKOUT_MAX_DURATION = timedelta(hours=24)
    durations = [services.lockout_duration(n) for n in range(10)]
    assert durations[:4] == [timedelta(minutes=m) for m in (15, 30, 60, 120)]
    assert durations[-1] == timedelta(hours=24)
    assert services.lockout_duration(10_000) == timedelta(hours=24)


def test_successful_login_resets_the_counters(employee, frozen_clock):
    assert _fail(employee, 4) == [401] * 4
    assert api_login(employee).status_code == 200
    assert _fail(employee, 4) == [401] * 4
    assert api_login(employee).status_code == 200

    # After a lockout and a successful login, the next lockout is the short one again.
    _fail(employee, 5)
    frozen_clock.advance(minutes=15)
    assert api_login(employee).status_code == 200
    fresh = reload(employee)
    assert (fresh.failed_login_count, fresh.lockout_count, fresh.locked_until) == (0, 0, None)
    _fail(employee, 5)
    assert reload(employee).locked_until == frozen_clock() + timedelta(minutes=15)


def test_unknown_employee_id_locks_after_the_same_number_of_failures(employee):
    known = _fail(employee, 6)
    unknown = _fail(UNKNOWN_ID, 6)

    assert unknown == known == [401, 401, 401, 401, 423, 423]
    assert api_login(UNKNOWN_ID, WRONG).json()["code"] == "account_locked"
    # Only the real employee has a lockout event: the unknown 工号 is nobody to lock.
    assert len(events("auth.lockout")) == 1


def test_unknown_and_known_employee_ids_cannot_be_told_apart_by_the_lock(employee, frozen_clock):
    """Same answers, bodies included, through two lockouts and their ends."""

    def both(password: str = WRONG) -> tuple:
        known = api_login(employee, password)
        unknown = api_login(UNKNOWN_ID, password)
        return (known.status_code, known.json()), (unknown.status_code, unknown.json())

    for _round, lock_minutes in enumerate((15, 30)):
        for attempt in range(6):
            known, unknown = both()
            assert known == unknown, f"attempt {attempt + 1}"
        assert known[0] == 423
        locked_until = datetime.fromisoformat(known[1]["details"]["locked_until"])
        assert locked_until == frozen_clock() + timedelta(minutes=lock_minutes)
        frozen_clock.advance(minutes=lock_minutes - 1)
        known, unknown = both()
        assert known == unknown
        assert known[0] == 423
        frozen_clock.advance(minutes=1)
    known, unknown = both()
    assert known == unknown
    assert known[0] == 401


def test_unknown_employee_id_spelt_differently_is_one_counter(db):
    variants = [UNKNOWN_ID, UNKNOWN_ID.lower(), f" {UNKNOWN_ID} "]
    statuses = [api_login(variants[i % 3], WRONG).status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 423]


def test_the_lock_is_per_employee_id(employee):
    other = make_employee("李四")
    _fail(employee, 5)
    assert api_login(other).status_code == 200


@pytest.mark.parametrize("status", [EmployeeStatus.DISABLED, EmployeeStatus.DEPARTED])
def test_wrong_passwords_on_inactive_accounts_also_lock(db, frozen_clock, status):
    inactive = make_employee("王五", status=status)
    assert _fail(inactive, 6) == [401, 401, 401, 401, 423, 423]


# --- per-address limit -------------------------------------------------------------------------


def test_one_address_failing_across_employee_ids_is_limited(db, settings):
    settings.GONGHAO_IP_FAILURE_LIMIT = 3
    victims = [make_employee(f"员工{i}") for i in range(3)]
    for victim in victims[:2]:
        assert api_login(victim, WRONG, ip="10.0.0.1").status_code == 401
    assert api_login(UNKNOWN_ID, WRONG, ip="10.0.0.1").status_code == 401

    refused = api_login(victims[2], PASSWORD, ip="10.0.0.1")

    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_attempts"
    assert api_login(victims[0], WRONG, ip="10.0.0.1").status_code == 429
    # Another address is not affected, nor are the employees' own counters.
    assert api_login(victims[2], PASSWORD, ip="10.0.0.2").status_code == 200
    assert reload(victims[2]).failed_login_count == 0
    assert failure_reasons()[-2:] == ["ip_limited", "ip_limited"]


def test_refusals_other_than_wrong_credentials_do_not_count_for_the_address(db, settings):
    settings.GONGHAO_IP_FAILURE_LIMIT = 2
    employee = make_employee("张三")
    for _ in range(3):
        assert api_login("E1", WRONG, ip="10.0.0.3").status_code == 400  # malformed
    assert api_login(employee, PASSWORD, ip="10.0.0.3").status_code == 200


def test_the_per_address_limit_holds_before_the_employee_id_is_checked(db, settings):
    settings.GONGHAO_IP_FAILURE_LIMIT = 1
    assert api_login(UNKNOWN_ID, WRONG, ip="10.0.0.4").status_code == 401
    response = api_login("not-a-gonghao", WRONG, ip="10.0.0.4")
    assert response.status_code == 429


# --- equal work for unknown and known 工号 ------------------------------------------------------


def test_unknown_employee_id_and_wrong_password_each_run_one_argon2(employee, monkeypatch):
    hashes = count_hashes(monkeypatch)

    assert api_login(UNKNOWN_ID, WRONG).status_code == 401
    unknown = hashes.total
    hashes.reset()
    assert api_login(employee, WRONG).status_code == 401
    wrong = hashes.total

    assert unknown == wrong == 1


def test_locked_known_and_unknown_employee_ids_run_the_same_argon2(employee, monkeypatch):
    _fail(employee, 5)
    _fail(UNKNOWN_ID, 5)
    hashes = count_hashes(monkeypatch)

    assert api_login(UNKNOWN_ID, PASSWORD).status_code == 423
    unknown = hashes.total
    hashes.reset()
    assert api_login(employee, PASSWORD).status_code == 423
    known = hashes.total

    assert unknown == known == 1


def test_malformed_employee_id_runs_no_argon2(db, monkeypatch):
    hashes = count_hashes(monkeypatch)
    assert api_login("E1", WRONG).status_code == 400
    assert hashes.total == 0


def test_successful_login_runs_one_argon2(employee, monkeypatch):
    hashes = count_hashes(monkeypatch)
    assert api_login(employee).status_code == 200
    assert hashes.calls == ["verify"]


# --- the employee record -----------------------------------------------------------------------


def test_employee_record_keeps_failed_and_successful_login_times(employee, frozen_clock):
    failed_at = frozen_clock()
    api_login(employee, WRONG)
    fresh = reload(employee)
    assert fresh.last_failed_login_at == failed_at
    assert fresh.failed_login_count == 1
    assert fresh.last_login is None

    logged_in_at = frozen_clock.advance(minutes=1)
    api_login(employee)

    fresh = reload(employee)
    assert fresh.last_login == logged_in_at
    assert fresh.last_failed_login_at == failed_at
    assert fresh.failed_login_count == 0
