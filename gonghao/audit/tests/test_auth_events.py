"""Logins through the API leave exactly the expected audit events (lockout is tested elsewhere)."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.accounts.employee_ids import format_number
from gonghao.accounts.models import ApiToken
from gonghao.audit.models import ActorKind
from gonghao.audit.services import verify_chain
from gonghao.testing.kit import PASSWORD

from .util import actions_after, events_after, last_seq

TOKEN = "/api/v1/auth/token"


def login(employee_id: str, password: str, **headers):
    return Client().post(
        TOKEN,
        {"employee_id": employee_id, "password": password},
        content_type="application/json",
        headers={"Accept-Language": "en", **headers},
    )


def test_a_successful_login_writes_token_create_then_login(cast):
    employee = cast.employee
    before = last_seq()

    response = login(employee.employee_id, PASSWORD, **{"User-Agent": "cli/1.0"})

    assert response.status_code == 200
    assert actions_after(before) == ["auth.token.create", "auth.login.succeeded"]
    token_event, login_event = events_after(before)
    token = ApiToken.objects.get(employee=employee)
    assert (token_event.target_type, token_event.target_id) == ("accounts.apitoken", str(token.pk))
    assert token_event.params == {"name": "login"}
    assert (login_event.target_type, login_event.target_id) == (
        "accounts.employee",
        str(employee.pk),
    )
    for event in (token_event, login_event):
        assert event.actor_kind == ActorKind.EMPLOYEE
        assert event.actor_employee_id == employee.employee_id
        assert (event.channel, event.client_ip, event.user_agent) == ("api", "127.0.0.1", "cli/1.0")
    # One request, one request id on both events, echoed to the client.
    assert token_event.request_id == login_event.request_id == response["X-Request-ID"]
    assert verify_chain().ok


def test_a_wrong_password_writes_one_failed_login(cast):
    before = last_seq()

    response = login(cast.employee.employee_id, "wrong-password")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert actions_after(before) == ["auth.login.failed"]
    event = events_after(before)[0]
    assert event.params == {"reason": "wrong_password"}
    assert event.actor_kind == ActorKind.ANONYMOUS
    assert event.actor_employee_id == ""
    assert (event.target_type, event.target_id, event.target_label) == (
        "accounts.employee",
        str(cast.employee.pk),
        cast.employee.employee_id,
    )


@pytest.mark.parametrize(
    "employee_id, reason, status",
    [
        (format_number(999_998), "unknown_employee_id", 401),
        ("E12", "malformed", 400),
        # A NUL character must not stop the failure from being recorded (PostgreSQL text
        # cannot hold NUL): the login answers 400, not 500, and the event is written.
        ("E00\x0000017", "malformed", 400),
    ],
)
def test_failed_logins_record_their_reason(cast, employee_id, reason, status):
    before = last_seq()

    response = login(employee_id, PASSWORD)

    assert response.status_code == status
    assert actions_after(before) == ["auth.login.failed"]
    event = events_after(before)[0]
    assert event.params == {"reason": reason}
    assert event.target_type == "accounts.employee"
    # Something not shaped like a 工号 may be a mistyped password: only its length is kept.
    expected_label = employee_id if reason != "malformed" else f"({len(employee_id)})"
    assert event.target_label == expected_label
    assert verify_chain().ok


def test_logging_out_revokes_the_token_then_records_the_logout(cast):
    token = login(cast.employee.employee_id, PASSWORD).json()["token"]
    before = last_seq()

    response = Client().post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert actions_after(before) == ["auth.token.revoke", "auth.logout"]
    assert {e.actor_employee_id for e in events_after(before)} == {cast.employee.employee_id}
