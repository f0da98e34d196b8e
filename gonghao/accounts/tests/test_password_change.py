"""Changing a password through the API, and the forced change of a one-time password."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from gonghao.accounts.models import ApiToken
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import (
    NEW_PASSWORD,
    PASSWORD_URL,
    UNKNOWN_ID,
    api_login,
    change_password_api,
    events,
    failure_reasons,
    reload,
)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def newcomer(db, frozen_clock):
    return make_employee(
        "Zhang Wei", must_change_password=True, phone="+8613812345678", email="zw@example.com"
    )


def test_token_is_refused_until_the_password_is_changed(newcomer):
    response = api_login(newcomer)

    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"
    assert ApiToken.objects.count() == 0
    assert failure_reasons(newcomer.employee_id) == ["password_change_required"]
    assert events("auth.login.succeeded") == []


def test_changing_the_password_lets_the_employee_in(newcomer, frozen_clock):
    changed_at = frozen_clock.advance(minutes=5)

    response = change_password_api(newcomer, NEW_PASSWORD)

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    fresh = reload(newcomer)
    assert fresh.must_change_password is False
    assert fresh.password_changed_at == changed_at
    assert fresh.check_password(NEW_PASSWORD)
    change = events("auth.password.change")
    assert len(change) == 1
    assert change[0].actor_employee_id == newcomer.employee_id
    assert change[0].target_id == str(newcomer.pk)
    assert change[0].channel == "api"
    assert NEW_PASSWORD not in str(change[0].params) + str(change[0].changes)
    login = api_login(newcomer, NEW_PASSWORD)
    assert login.status_code == 200
    assert api_login(newcomer, PASSWORD).status_code == 401


@pytest.mark.parametrize(
    "make_new_password",
    [
        pytest.param(lambda e: "Short-7a!", id="too-short"),
        pytest.param(lambda e: "x" * 129, id="too-long"),
        pytest.param(lambda e: "password1234", id="common"),
        pytest.param(lambda e: "abcabcabcabc", id="pattern"),
        pytest.param(lambda e: f"{e.employee_id}-Lantern!", id="employee-id"),
        pytest.param(lambda e: "Lantern-ZhangWei-7", id="name"),
        pytest.param(lambda e: "Lantern-13812345678", id="phone"),
        pytest.param(lambda e: PASSWORD, id="same-as-old"),
    ],
)
def test_policy_applies_to_the_new_password(newcomer, make_new_password):
    before = reload(newcomer).password

    response = change_password_api(newcomer, make_new_password(newcomer))

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "password_policy"
    assert body["details"]["fields"]["new_password"]
    assert all(isinstance(m, str) and m for m in body["details"]["fields"]["new_password"])
    fresh = reload(newcomer)
    assert fresh.password == before
    assert fresh.must_change_password is True
    assert events("auth.password.change") == []


def test_policy_messages_follow_the_request_language(newcomer):
    response = Client().post(
        PASSWORD_URL,
        {"employee_id": newcomer.employee_id, "password": PASSWORD, "new_password": "Short-7a!"},
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert response.json()["details"]["fields"]["new_password"] == [
        "The password must have at least 12 characters."
    ]


def test_wrong_old_password_is_a_failed_login(newcomer):
    response = change_password_api(newcomer, NEW_PASSWORD, password="Wrong-Password-0000")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    fresh = reload(newcomer)
    assert fresh.failed_login_count == 1
    assert fresh.must_change_password is True
    assert failure_reasons(newcomer.employee_id) == ["wrong_password"]


def test_password_change_obeys_the_lockout(newcomer):
    for _ in range(5):
        change_password_api(newcomer, NEW_PASSWORD, password="Wrong-Password-0000")

    response = change_password_api(newcomer, NEW_PASSWORD)

    assert response.status_code == 423
    assert response.json()["code"] == "account_locked"
    assert reload(newcomer).must_change_password is True


@pytest.mark.parametrize(
    ("employee_id", "status", "code"),
    [("E1", 400, "invalid_employee_id"), (UNKNOWN_ID, 401, "invalid_credentials")],
)
def test_password_change_for_bad_employee_ids(db, employee_id, status, code):
    response = Client().post(
        PASSWORD_URL,
        {"employee_id": employee_id, "password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == status
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "body",
    [
        {"password": PASSWORD, "new_password": NEW_PASSWORD},
        {"employee_id": "{id}", "password": PASSWORD},
        {"employee_id": "{id}", "password": PASSWORD, "new_password": ""},
        {"employee_id": "{id}", "password": PASSWORD, "new_password": 12345678901234},
        {"employee_id": "{id}", "password": PASSWORD, "new_password": "x" * 4097},
    ],
    ids=["no-id", "no-new-password", "empty", "number", "huge"],
)
def test_malformed_change_requests_change_nothing(newcomer, body):
    body = {k: (newcomer.employee_id if v == "{id}" else v) for k, v in body.items()}
    before = reload(newcomer).password
    response = Client().post(PASSWORD_URL, body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert reload(newcomer).password == before
    assert failure_reasons() == []


def test_an_active_employee_can_change_the_password_too(db, frozen_clock):
    employee = make_employee("李四")
    assert change_password_api(employee, NEW_PASSWORD).status_code == 200
    assert api_login(employee, NEW_PASSWORD).status_code == 200
    assert reload(employee).password_changed_at == frozen_clock()


@pytest.mark.parametrize("status", ["disabled", "departed", "pending"])
def test_inactive_employees_cannot_change_their_password(db, status):
    employee = make_employee("王五", status=status)
    response = change_password_api(employee, NEW_PASSWORD)
    assert response.status_code == 403
    assert response.json()["code"] == "account_inactive"
    assert reload(employee).check_password(PASSWORD)
