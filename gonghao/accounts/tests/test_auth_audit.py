"""Every authentication event is audited: the exact events each flow writes, and what they say."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from gonghao.accounts.models import EmployeeStatus
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.testing.kit import PASSWORD, ApiClient, make_employee

from .auth_support import (
    NEW_PASSWORD,
    UNKNOWN_ID,
    api_login,
    change_password_api,
    web_login,
)

WRONG = "Wrong-Password-0000"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def employee(db):
    return make_employee("张三")


class NewEvents:
    """The events written since the marker, oldest first."""

    def __init__(self) -> None:
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        self.after = last or 0

    def all(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(seq__gt=self.after).order_by("seq"))

    def actions(self) -> list[str]:
        return [event.action for event in self.all()]


def test_api_login_writes_token_creation_and_login(employee):
    new = NewEvents()

    response = api_login(employee, ip="10.1.2.3", HTTP_USER_AGENT="pytest-agent")

    assert response.status_code == 200
    created, login = new.all()
    assert (created.action, login.action) == ("auth.token.create", "auth.login.succeeded")
    for event in (created, login):
        assert event.actor_kind == "employee"
        assert event.actor_employee_id == employee.employee_id
        assert event.channel == "api"
        assert event.client_ip == "10.1.2.3"
        assert event.user_agent == "pytest-agent"
        assert event.request_id == response["X-Request-ID"]
    assert login.target_id == str(employee.pk)
    assert created.params == {"name": "login"}


def test_web_login_writes_one_login_event(employee):
    new = NewEvents()
    web_login(Client(), employee.employee_id, REMOTE_ADDR="10.9.8.7")

    [login] = new.all()
    assert login.action == "auth.login.succeeded"
    assert login.actor_employee_id == employee.employee_id
    assert login.channel == "web"
    assert login.client_ip == "10.9.8.7"


@pytest.mark.parametrize(
    ("setup", "login_as", "password", "reason"),
    [
        ("active", "{id}", WRONG, "wrong_password"),
        ("active", UNKNOWN_ID, PASSWORD, "unknown_employee_id"),
        ("active", "E00000X", PASSWORD, "malformed"),
        (EmployeeStatus.DISABLED, "{id}", PASSWORD, "status_disabled"),
        (EmployeeStatus.DEPARTED, "{id}", PASSWORD, "status_departed"),
        (EmployeeStatus.PENDING, "{id}", PASSWORD, "status_pending"),
        ("must_change", "{id}", PASSWORD, "password_change_required"),
    ],
)
def test_each_failed_api_login_is_audited_with_its_reason(db, setup, login_as, password, reason):
    if setup == "must_change":
        subject = make_employee("张三", must_change_password=True)
    elif setup == "active":
        subject = make_employee("张三")
    else:
        subject = make_employee("张三", status=setup)
    login_as = subject.employee_id if login_as == "{id}" else login_as
    new = NewEvents()

    response = api_login(login_as, password, ip="10.0.0.9")

    assert 400 <= response.status_code < 500
    [failed] = new.all()
    assert failed.action == "auth.login.failed"
    assert failed.actor_kind == "anonymous"
    assert failed.params == {"reason": reason}
    # Text not shaped like a 工号 may be a mistyped password: only its length is kept.
    assert failed.target_label == (login_as if reason != "malformed" else f"({len(login_as)})")
    assert failed.client_ip == "10.0.0.9"
    assert failed.target_type == "accounts.employee"
    if login_as == subject.employee_id:
        assert failed.target_id == str(subject.pk)
    else:
        assert failed.target_id == ""


def test_inactive_employee_cannot_log_in_even_with_the_right_password(db):
    for status in (EmployeeStatus.DISABLED, EmployeeStatus.DEPARTED, EmployeeStatus.PENDING):
        inactive = make_employee("王五", status=status)
        response = api_login(inactive)
        assert response.status_code == 403
        assert response.json()["code"] == "account_inactive"


def test_lockout_sequence(employee):
    new = NewEvents()
    for _ in range(5):
        api_login(employee, WRONG)
    api_login(employee, PASSWORD)

    assert new.actions() == ["auth.login.failed"] * 5 + ["auth.lockout", "auth.login.failed"]
    reasons = [e.params.get("reason") for e in new.all() if e.action == "auth.login.failed"]
    assert reasons == ["wrong_password"] * 5 + ["locked"]
    lockout = new.all()[5]
    assert lockout.target_id == str(employee.pk)
    assert set(lockout.params) == {"until"}


def test_per_address_limit_is_audited(employee, settings):
    settings.GONGHAO_IP_FAILURE_LIMIT = 1
    api_login(UNKNOWN_ID, WRONG, ip="10.0.0.5")
    new = NewEvents()

    assert api_login(employee, PASSWORD, ip="10.0.0.5").status_code == 429

    [limited] = new.all()
    assert limited.params == {"reason": "ip_limited"}
    assert limited.client_ip == "10.0.0.5"


def test_api_logout_sequence(employee):
    token = api_login(employee).json()["token"]
    new = NewEvents()

    ApiClient(token).post("/api/v1/auth/logout")

    revoke, logout = new.all()
    assert (revoke.action, logout.action) == ("auth.token.revoke", "auth.logout")
    assert revoke.actor_employee_id == logout.actor_employee_id == employee.employee_id


def test_web_logout_sequence(employee):
    client = Client()
    web_login(client, employee.employee_id)
    new = NewEvents()

    client.post("/accounts/logout/")

    assert new.actions() == ["auth.logout"]


def test_password_change_sequence(employee):
    new = NewEvents()
    change_password_api(employee, NEW_PASSWORD)
    [change] = new.all()
    assert change.action == "auth.password.change"
    assert change.target_id == str(employee.pk)


def test_token_creation_and_revocation_are_audited(employee):
    api = ApiClient(api_login(employee).json()["token"])
    new = NewEvents()

    created = api.post("/api/v1/auth/tokens", {"name": "ci", "scope": "write"}).json()
    api.delete(f"/api/v1/auth/tokens/{created['details']['id']}")

    assert new.actions() == ["auth.token.create", "auth.token.revoke"]


def test_no_password_or_token_ever_reaches_the_audit_log(employee):
    token = api_login(employee).json()["token"]
    api_login(employee, WRONG)
    api_login(UNKNOWN_ID, WRONG)
    change_password_api(employee, "Short-7a!")
    change_password_api(employee, NEW_PASSWORD)
    ApiClient(token).post("/api/v1/auth/logout")
    web_login(Client(), employee.employee_id, NEW_PASSWORD)

    dumped = " ".join(
        f"{e.target_label} {e.params} {e.changes} {e.user_agent}" for e in AuditEvent.objects.all()
    )
    for secret in (PASSWORD, WRONG, NEW_PASSWORD, "Short-7a!", token):
        assert secret not in dumped
    assert verify_chain().ok
