"""A login's password check holds no database lock, and a lockout reached while it runs wins."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection

from gonghao.accounts import services
from gonghao.accounts.models import Employee
from gonghao.core import clock
from gonghao.org.models import Department
from gonghao.testing.kit import PASSWORD, make_employee
from gonghao.testing.threads import start_in_own_connection

from .auth_support import count_hashes


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_other_writes_go_on_while_a_password_is_being_checked(monkeypatch):
    """On SQLite a write transaction holds the whole database: Argon2 must not run inside one."""
    employee = make_employee("王五")
    checking, finish = threading.Event(), threading.Event()
    original = Employee.check_password

    def slow_check(self, raw_password):
        checking.set()
        assert finish.wait(timeout=30)
        return original(self, raw_password)

    monkeypatch.setattr(Employee, "check_password", slow_check)
    outcome: dict = {}

    def log_in() -> None:
        try:
            outcome["employee"] = services.authenticate_employee(employee.employee_id, PASSWORD)
        except BaseException as error:  # reported to the test below
            outcome["error"] = error
        finally:
            connection.close()

    login = threading.Thread(target=log_in)
    login.start()
    try:
        assert checking.wait(timeout=30)
        # While the check runs, another connection writes at once (no busy wait on a lock).
        writer_done = threading.Event()

        def write() -> None:
            Department.objects.create(code="WHILE", name="写入于登录期间")
            writer_done.set()

        writer = start_in_own_connection(write)
        writer.join(timeout=5)
        assert writer_done.is_set(), "a write waited for the login's password check"
    finally:
        finish.set()
        login.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["employee"].pk == employee.pk


@pytest.mark.django_db
def test_a_lockout_reached_during_the_check_refuses_even_the_right_password(monkeypatch):
    employee = make_employee("赵六")
    original = Employee.check_password

    def check_while_others_lock(self, raw_password):
        # Parallel wrong guesses lock the account while this (right) password is checked.
        Employee.objects.filter(pk=self.pk).update(locked_until=clock.now() + timedelta(minutes=15))
        return original(self, raw_password)

    monkeypatch.setattr(Employee, "check_password", check_while_others_lock)

    with pytest.raises(services.AccountLocked):
        services.authenticate_employee(employee.employee_id, PASSWORD)


@pytest.mark.django_db
def test_a_password_changed_during_the_check_is_judged_by_the_new_one(monkeypatch):
    employee = make_employee("钱七")
    original = Employee.check_password
    calls = []

    def check_then_reset(self, raw_password):
        calls.append(self.password)
        if len(calls) == 1:  # a reset lands while the old password is being checked
            other = Employee.objects.get(pk=self.pk)
            other.set_password("A-brand-new-passw0rd!")
            other.save(update_fields=["password"])
        return original(self, raw_password)

    monkeypatch.setattr(Employee, "check_password", check_then_reset)

    with pytest.raises(services.InvalidCredentials):
        services.authenticate_employee(employee.employee_id, PASSWORD)
    assert len(calls) == 2 and calls[0] != calls[1]


@pytest.mark.django_db
def test_a_right_password_costs_one_argon2(monkeypatch):
    employee = make_employee("孙八")
    hashes = count_hashes(monkeypatch)

    services.authenticate_employee(employee.employee_id, PASSWORD)

    assert hashes.total == 1
