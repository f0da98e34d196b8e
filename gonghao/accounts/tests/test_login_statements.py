"""The database work of a password login is pinned: each statement and each commit is paid on
every login (issue #7's login benchmark), so one more must be a deliberate change here.

The counts are those of a real request, in real transactions (not the savepoints of a test
wrapped in one), BEGIN and COMMIT included.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gonghao.accounts import audit_actions
from gonghao.accounts.models import Employee
from gonghao.audit.models import AuditEvent
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import LOGIN_URL

# (statements, commits). The web login commits once: the last-login stamp, its audit event,
# the session itself and the session's row for "My security" (on PostgreSQL every commit
# waits for the disk).
WEB_LOGIN = {"sqlite": (11, 1), "postgresql": (10, 1)}
# The token, its audit event, the last-login stamp and the login's audit event: one commit.
API_LOGIN = {"sqlite": (11, 1), "postgresql": (9, 1)}
# PostgreSQL writes an audit event in one statement where SQLite reads its chain's head first:
# the connection (warmed up by a first login) appends to the chain it left (docs/audit.md).


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


class _Counted:
    def __init__(self, monkeypatch):
        self.commits = 0
        wrapper = type(connections["default"])
        commit = wrapper._commit

        def counting_commit(this):
            self.commits += 1
            return commit(this)

        monkeypatch.setattr(wrapper, "_commit", counting_commit)
        self.queries = CaptureQueriesContext(connection)

    def __enter__(self):
        self.commits = 0
        self.queries.__enter__()
        return self

    def __exit__(self, *exc):
        self.queries.__exit__(*exc)

    def check(self, expected: tuple[int, int]) -> None:
        statements = [q["sql"] for q in self.queries.captured_queries]
        listing = "\n".join(f"{n:2d} {sql[:160]}" for n, sql in enumerate(statements, 1))
        assert (len(statements), self.commits) == expected, listing


def _login_audited(employee: Employee) -> bool:
    return AuditEvent.objects.filter(
        action=audit_actions.LOGIN_SUCCEEDED, actor_id=employee.pk
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_a_web_password_login_runs_a_pinned_number_of_statements(monkeypatch):
    employee, warm_up = make_employee("王五"), make_employee("赵六")
    client = Client(headers={"Accept-Language": "en"})
    client.post(LOGIN_URL, {"login": warm_up.employee_id, "password": PASSWORD})
    client.cookies.clear()
    with _Counted(monkeypatch) as counted:
        response = client.post(LOGIN_URL, {"login": employee.employee_id, "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == employee.pk
    assert _login_audited(employee)
    assert Employee.objects.get(pk=employee.pk).last_login is not None
    counted.check(WEB_LOGIN[connection.vendor])


@pytest.mark.django_db(transaction=True)
def test_an_api_password_login_runs_a_pinned_number_of_statements(monkeypatch):
    employee, warm_up = make_employee("王五"), make_employee("赵六")
    client = Client(headers={"Accept-Language": "en"})

    def log_in(who: Employee):
        return client.post(
            "/api/v1/auth/token",
            {"employee_id": who.employee_id, "password": PASSWORD},
            content_type="application/json",
        )

    log_in(warm_up)
    with _Counted(monkeypatch) as counted:
        response = log_in(employee)
    assert response.status_code == 200, response.content
    assert _login_audited(employee)
    counted.check(API_LOGIN[connection.vendor])
