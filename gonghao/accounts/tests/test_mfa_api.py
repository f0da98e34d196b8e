"""Two-factor authentication in the API: the token endpoint's `otp`, the enrolment refusal,
and the administrators' reset of an employee's second factors (API and employee page)."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.accounts.models import ApiToken
from gonghao.messaging.models import Message
from gonghao.testing.kit import PASSWORD, api_for, make_employee

from .auth_support import TOKEN_URL, bearer, events, failure_reasons, reload
from .mfa_support import (
    SECRET,
    authenticators,
    clear_cache,
    code_at,
    enable_totp,
    follow_clock,
    wrong_code,
)

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, frozen_clock):
    clear_cache()
    follow_clock(monkeypatch, frozen_clock)
    yield
    clear_cache()


@pytest.fixture
def employee(db):
    return make_employee("张三", email="zhangsan@example.com")


def _token(employee, password: str = PASSWORD, otp: str | None = None, language: str = "en"):
    body = {"employee_id": employee.employee_id, "password": password}
    if otp is not None:
        body["otp"] = otp
    return Client().post(
        TOKEN_URL, body, content_type="application/json", headers={"Accept-Language": language}
    )


# --- the token endpoint --------------------------------------------------------------------------


def test_without_a_second_factor_the_password_is_enough(employee):
    assert _token(employee).status_code == 200


def test_no_otp_answers_second_factor_required(employee):
    enable_totp(employee)

    response = _token(employee)

    assert response.status_code == 401
    assert response.json()["code"] == "second_factor_required"
    assert response.json()["message"] == "A second factor is required."
    assert not ApiToken.objects.filter(employee=employee).exists()
    assert events("auth.login.succeeded") == []


def test_no_otp_and_a_wrong_password_get_the_same_answer_but_are_counted(employee):
    enable_totp(employee)

    response = _token(employee, password="Wrong-Password-0000")

    assert response.status_code == 401
    assert response.json()["code"] == "second_factor_required"
    assert failure_reasons(employee.employee_id) == ["wrong_password"]
    assert reload(employee).failed_login_count == 1


def test_the_message_is_translated(employee):
    enable_totp(employee)
    response = _token(employee, language="zh-hans")
    assert response.json()["code"] == "second_factor_required"


def test_a_correct_code_gives_a_token(employee, frozen_clock):
    enable_totp(employee)

    response = _token(employee, otp=code_at(SECRET, frozen_clock))

    assert response.status_code == 200, response.content
    token = response.json()["token"]
    me = Client().get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    [login] = events("auth.login.succeeded")
    assert login.actor_employee_id == employee.employee_id


def test_a_wrong_code_is_refused_audited_and_counted(employee, frozen_clock):
    enable_totp(employee)

    response = _token(employee, otp=wrong_code(SECRET, frozen_clock))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_second_factor"
    assert failure_reasons(employee.employee_id) == ["wrong_otp"]
    assert reload(employee).failed_login_count == 1
    assert not ApiToken.objects.filter(employee=employee).exists()


def test_wrong_codes_lock_the_employee_id(employee, frozen_clock, settings):
    enable_totp(employee)
    answers = [
        _token(employee, otp=wrong_code(SECRET, frozen_clock)).status_code
        for _attempt in range(settings.GONGHAO_LOCKOUT_THRESHOLD)
    ]

    assert answers[-1] == 423
    assert set(answers[:-1]) == {401}
    assert reload(employee).is_temporarily_locked
    assert _token(employee, otp=code_at(SECRET, frozen_clock)).status_code == 423


def test_the_same_code_is_refused_the_second_time(employee, frozen_clock):
    enable_totp(employee)
    code = code_at(SECRET, frozen_clock)

    assert _token(employee, otp=code).status_code == 200
    replay = _token(employee, otp=code)

    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_second_factor"
    frozen_clock.advance(seconds=30)
    assert _token(employee, otp=code_at(SECRET, frozen_clock)).status_code == 200


def test_a_recovery_code_works_once(employee):
    codes = enable_totp(employee)

    assert _token(employee, otp=codes[3]).status_code == 200
    assert _token(employee, otp=codes[3]).json()["code"] == "invalid_second_factor"


def test_a_right_code_with_a_wrong_password_is_refused(employee, frozen_clock):
    enable_totp(employee)
    response = _token(employee, password="Wrong-Password-0000", otp=code_at(SECRET, frozen_clock))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


# --- enrolment policy in the API -----------------------------------------------------------------


def test_a_required_role_without_a_second_factor_is_refused(db, settings, frozen_clock):
    settings.GONGHAO_MFA_REQUIRED_ROLES = ["system_admin", "security_admin", "auditor"]
    auditor = make_employee("赵审计", roles=("auditor",))
    response = _token(auditor)
    assert response.status_code == 200
    token = response.json()["token"]

    refused = Client().get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.json()["code"] == "second_factor_enrollment_required"

    enable_totp(auditor)
    assert Client().get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_the_policy_leaves_other_roles_alone(db, settings):
    settings.GONGHAO_MFA_REQUIRED_ROLES = ["system_admin", "security_admin", "auditor"]
    sales = make_employee("销售", roles=("sales",))
    assert api_for(sales).get("/api/v1/me").status_code == 200


# --- the administrators' reset -------------------------------------------------------------------


def _reset_url(employee) -> str:
    return f"/api/v1/employees/{employee.employee_id}/second-factors/reset"


def test_security_admin_resets_second_factors_audited_and_the_employee_is_told(
    employee, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.GONGHAO_OUTBOX_DIR = tmp_path
    settings.GONGHAO_EMAIL_BACKEND = "outbox"
    enable_totp(employee)
    security = make_employee("李安全", roles=("security_admin",))

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(security).post(_reset_url(employee))

    assert response.status_code == 200, response.content
    assert authenticators(employee) == []
    [reset] = events("auth.mfa.reset")
    assert reset.actor_employee_id == security.employee_id
    assert reset.target_label.startswith(employee.employee_id)
    assert reset.params == {"types": ["recovery_codes", "totp"]}
    [message] = Message.objects.filter(template="account.second_factor_reset")
    assert message.recipient == "zhangsan@example.com"
    assert message.employee_id == employee.pk
    files = list(tmp_path.rglob("*.txt"))
    assert len(files) == 1
    assert employee.employee_id in files[0].read_text(encoding="utf-8")
    # The employee logs in with the password alone again.
    assert _token(employee).status_code == 200


def test_reset_by_sms_when_there_is_no_email(db):
    employee = make_employee("无邮箱", phone="+8613800138000")
    enable_totp(employee)
    security = make_employee("李安全", roles=("security_admin",))

    assert api_for(security).post(_reset_url(employee)).status_code == 200

    [message] = Message.objects.filter(template="account.second_factor_reset")
    assert message.channel == "sms"
    assert message.recipient == "+8613800138000"


def test_reset_needs_the_permission(employee, db):
    enable_totp(employee)
    admin = make_employee("王管理", roles=("system_admin",))

    response = api_for(admin).post(_reset_url(employee))

    assert response.status_code == 403
    assert authenticators(employee) == ["recovery_codes", "totp"]
    assert events("auth.mfa.reset") == []


def test_reset_of_an_employee_without_second_factors_changes_nothing(employee):
    security = make_employee("李安全", roles=("security_admin",))
    assert api_for(security).post(_reset_url(employee)).status_code == 200
    assert events("auth.mfa.reset") == []
    assert not Message.objects.exists()


def test_employee_page_offers_the_reset_to_holders_only(employee, db):
    enable_totp(employee)
    security = make_employee("李安全", roles=("security_admin",))
    admin = make_employee("王管理", roles=("system_admin",))
    page_url = f"/employees/{employee.employee_id}/"

    admin_client = Client()
    admin_client.force_login(admin)
    assert 'data-testid="reset-second-factors"' not in admin_client.get(page_url).content.decode()
    refused = admin_client.post(f"{page_url}second-factors/reset/")
    assert refused.status_code in (302, 403)
    assert authenticators(employee) == ["recovery_codes", "totp"]

    client = Client()
    client.force_login(security)
    assert 'data-testid="reset-second-factors"' in client.get(page_url).content.decode()
    response = client.post(f"{page_url}second-factors/reset/")
    assert response.status_code == 302
    assert response["Location"] == page_url
    assert authenticators(employee) == []
    assert len(events("auth.mfa.reset")) == 1


def test_security_admin_role_holds_the_permission(db):
    from gonghao.access.models import Role
    from gonghao.access.services import has_permission

    security = make_employee("李安全", roles=("security_admin",))
    assert has_permission(security, "mfa.reset")
    assert "mfa.reset" in Role.objects.get(code="security_admin").permissions


def test_an_inactive_employee_with_2fa_is_not_told_the_password_was_right(employee, frozen_clock):
    enable_totp(employee)
    employee.status = "disabled"
    employee.save(update_fields=["status"])

    assert _token(employee).json()["code"] == "second_factor_required"
    wrong = _token(employee, otp=wrong_code(SECRET, frozen_clock))
    assert wrong.json()["code"] == "invalid_second_factor"
    right = _token(employee, otp=code_at(SECRET, frozen_clock))
    assert right.json()["code"] == "account_inactive"


def test_password_change_api_also_needs_the_second_factor(employee, frozen_clock):
    from .auth_support import NEW_PASSWORD, PASSWORD_URL

    enable_totp(employee)
    body = {"employee_id": employee.employee_id, "password": PASSWORD, "new_password": NEW_PASSWORD}

    def change(**extra):
        return Client().post(PASSWORD_URL, body | extra, content_type="application/json")

    assert change().json()["code"] == "second_factor_required"
    assert change(otp=wrong_code(SECRET, frozen_clock)).json()["code"] == "invalid_second_factor"
    assert reload(employee).check_password(PASSWORD)
    assert change(otp=code_at(SECRET, frozen_clock)).status_code == 200
    assert reload(employee).check_password(NEW_PASSWORD)
