"""Two-factor authentication on the web: TOTP enrolment through allauth's pages, recovery
codes, the login's second-factor step, replay refusal, lockout, and the enrolment policy."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import events, failure_reasons, reload, web_login
from .mfa_support import (
    ACTIVATE_URL,
    AUTHENTICATE_URL,
    DEACTIVATE_URL,
    GENERATE_CODES_URL,
    MFA_INDEX_URL,
    RECOVERY_CODES_URL,
    SECRET,
    WEBAUTHN_ADD_URL,
    WEBAUTHN_LIST_URL,
    authenticators,
    clear_cache,
    code_at,
    enable_totp,
    follow_clock,
    wrong_code,
)

EN = {"Accept-Language": "en"}
REAUTHENTICATE_URL = "/accounts/reauthenticate/"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, frozen_clock):
    clear_cache()
    follow_clock(monkeypatch, frozen_clock)
    yield
    clear_cache()


@pytest.fixture
def employee(db):
    return make_employee("张三")


def _logged_in(employee) -> Client:
    """Logged in and freshly re-authenticated (allauth asks again before 2FA changes)."""
    client = Client()
    response = web_login(client, employee.employee_id)
    assert response.status_code == 302, response.content
    _reauthenticate(client)
    return client


def _reauthenticate(client: Client) -> None:
    response = client.post(REAUTHENTICATE_URL, {"password": PASSWORD}, headers=EN)
    assert response.status_code == 302, response.content


def _page(response) -> str:
    return response.content.decode()


def _enrol(client: Client, clock, commit) -> tuple[str, list[str]]:
    """Activate TOTP through allauth's page; returns the secret and the recovery codes.

    allauth sends its signals (our audit) on commit: `commit` runs those callbacks."""
    page = client.get(ACTIVATE_URL, headers=EN)
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    with commit(execute=True):
        response = client.post(ACTIVATE_URL, {"code": code_at(secret, clock)}, headers=EN)
    assert response.status_code == 302
    assert response["Location"] == RECOVERY_CODES_URL
    codes_page = client.get(RECOVERY_CODES_URL, headers=EN)
    textarea = _page(codes_page).split('id="recovery_codes"')[1].split("</textarea>")[0]
    codes = [line.strip() for line in textarea.split(">", 1)[1].split("\n") if line.strip()]
    return secret, codes


# --- enrolment ----------------------------------------------------------------------------------


def test_enrolment_page_shows_qr_code_and_secret_inside_our_layout(employee):
    client = _logged_in(employee)
    response = client.get(ACTIVATE_URL, headers=EN)

    assert response.status_code == 200
    page = _page(response)
    secret = client.session["mfa.totp.secret"]
    assert secret in page
    assert "data:image/svg+xml;base64," in page
    assert 'data-testid="whoami"' in page  # rendered inside base.html
    assert '<html lang="en">' in page


def test_enrolment_needs_a_correct_first_code(
    employee, frozen_clock, django_capture_on_commit_callbacks
):
    client = _logged_in(employee)
    client.get(ACTIVATE_URL, headers=EN)
    secret = client.session["mfa.totp.secret"]

    refused = client.post(ACTIVATE_URL, {"code": wrong_code(secret, frozen_clock)}, headers=EN)
    assert refused.status_code == 200
    assert "Incorrect code." in _page(refused)
    assert authenticators(employee) == []
    assert events("auth.mfa.activated") == []

    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(ACTIVATE_URL, {"code": code_at(secret, frozen_clock)}, headers=EN)
    assert accepted.status_code == 302
    assert authenticators(employee) == ["recovery_codes", "totp"]
    [activated] = events("auth.mfa.activated")
    assert activated.actor_employee_id == employee.employee_id
    assert activated.params == {"type": "totp"}
    [generated] = events("auth.mfa.recovery_codes_generated")
    assert generated.params == {"type": "recovery_codes"}


def test_ten_recovery_codes_are_shown_once_and_not_stored_in_clear(
    employee, frozen_clock, django_capture_on_commit_callbacks
):
    client = _logged_in(employee)
    _secret, codes = _enrol(client, frozen_clock, django_capture_on_commit_callbacks)

    assert len(codes) == 10
    assert len(set(codes)) == 10
    again = _page(client.get(RECOVERY_CODES_URL, headers=EN))
    assert not any(code in again for code in codes)
    stored = Authenticator.objects.get(user=employee, type="recovery_codes").data
    assert not any(code in str(stored) for code in codes)


def test_recovery_codes_can_be_regenerated(
    employee, frozen_clock, django_capture_on_commit_callbacks
):
    client = _logged_in(employee)
    _secret, old_codes = _enrol(client, frozen_clock, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(GENERATE_CODES_URL, {}, headers=EN)
    assert response.status_code == 302
    page = _page(client.get(RECOVERY_CODES_URL, headers=EN))
    assert not any(code in page for code in old_codes)
    assert len(events("auth.mfa.recovery_codes_generated")) == 2


def test_deactivating_totp_is_audited(employee, frozen_clock, django_capture_on_commit_callbacks):
    client = _logged_in(employee)
    _enrol(client, frozen_clock, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DEACTIVATE_URL, {}, headers=EN)

    assert response.status_code == 302
    assert authenticators(employee) == []
    assert [e.params["type"] for e in events("auth.mfa.deactivated")] == [
        "totp",
        "recovery_codes",
    ]


def test_mfa_and_webauthn_pages_render_for_an_enrolled_employee(
    employee, frozen_clock, django_capture_on_commit_callbacks
):
    client = _logged_in(employee)
    _enrol(client, frozen_clock, django_capture_on_commit_callbacks)

    for url in (MFA_INDEX_URL, WEBAUTHN_LIST_URL, WEBAUTHN_ADD_URL):
        response = client.get(url, headers=EN)
        assert response.status_code == 200, url
        assert 'data-testid="whoami"' in _page(response), url


# --- login with a second factor ------------------------------------------------------------------


def test_login_asks_for_the_code_and_audits_the_login_only_after_it(employee, frozen_clock):
    enable_totp(employee)
    client = Client()

    response = web_login(client, employee.employee_id)
    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE_URL
    assert events("auth.login.succeeded") == []
    assert client.get("/", headers=EN).status_code == 302  # not logged in yet

    refused = client.post(AUTHENTICATE_URL, {"code": wrong_code(SECRET, frozen_clock)}, headers=EN)
    assert refused.status_code == 200
    assert "Incorrect code." in _page(refused)
    assert events("auth.login.succeeded") == []
    [failed] = events("auth.mfa.failed")
    assert failed.target_label.startswith(employee.employee_id)
    assert reload(employee).failed_login_count == 1

    accepted = client.post(AUTHENTICATE_URL, {"code": code_at(SECRET, frozen_clock)}, headers=EN)
    assert accepted.status_code == 302
    assert accepted["Location"] == "/"
    assert client.get("/", headers=EN).status_code == 200
    [login] = events("auth.login.succeeded")
    assert login.actor_employee_id == employee.employee_id


def test_the_same_code_cannot_be_used_twice(employee, frozen_clock):
    enable_totp(employee)
    code = code_at(SECRET, frozen_clock)
    first = Client()
    web_login(first, employee.employee_id)
    assert first.post(AUTHENTICATE_URL, {"code": code}, headers=EN).status_code == 302

    second = Client()
    web_login(second, employee.employee_id)
    replay = second.post(AUTHENTICATE_URL, {"code": code}, headers=EN)
    assert replay.status_code == 200
    assert "Incorrect code." in _page(replay)

    frozen_clock.advance(seconds=30)
    fresh = second.post(AUTHENTICATE_URL, {"code": code_at(SECRET, frozen_clock)}, headers=EN)
    assert fresh.status_code == 302


def test_a_recovery_code_works_once(employee):
    codes = enable_totp(employee)
    first = Client()
    web_login(first, employee.employee_id)
    assert first.post(AUTHENTICATE_URL, {"code": codes[0]}, headers=EN).status_code == 302
    assert first.get("/", headers=EN).status_code == 200

    second = Client()
    web_login(second, employee.employee_id)
    replay = second.post(AUTHENTICATE_URL, {"code": codes[0]}, headers=EN)
    assert replay.status_code == 200
    assert second.post(AUTHENTICATE_URL, {"code": codes[1]}, headers=EN).status_code == 302


def test_wrong_codes_lock_the_employee_id(employee, frozen_clock, settings):
    enable_totp(employee)
    client = Client()
    web_login(client, employee.employee_id)
    for _attempt in range(settings.GONGHAO_LOCKOUT_THRESHOLD):
        client.post(AUTHENTICATE_URL, {"code": wrong_code(SECRET, frozen_clock)}, headers=EN)

    assert reload(employee).is_temporarily_locked
    assert len(events("auth.lockout")) == 1
    refused = client.post(AUTHENTICATE_URL, {"code": code_at(SECRET, frozen_clock)}, headers=EN)
    assert refused.status_code == 200
    assert "locked" in _page(refused)
    assert events("auth.login.succeeded") == []
    assert failure_reasons() == []  # counted as auth.mfa.failed, not as password failures


# --- enrolment policy ----------------------------------------------------------------------------


@pytest.fixture
def policy_on(settings):
    settings.GONGHAO_MFA_REQUIRED_ROLES = ["system_admin", "security_admin", "auditor"]
    settings.GONGHAO_MFA_REQUIRED_FOR_ALL = False
    return settings


def test_a_required_role_is_sent_to_enrolment_until_it_is_done(
    db, policy_on, frozen_clock, django_capture_on_commit_callbacks
):
    admin = make_employee("王管理", roles=("system_admin",))
    client = Client()
    web_login(client, admin.employee_id)

    response = client.get("/", headers=EN)
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_URL
    assert client.get("/customers/", headers=EN)["Location"] == ACTIVATE_URL
    # The login is a fresh check: enrolment follows at once, without the password again.
    assert client.get(ACTIVATE_URL, headers=EN).status_code == 200
    # Once the step-up window has passed, allauth asks for the password before a factor is
    # added.
    frozen_clock.advance(minutes=11)
    assert client.get(ACTIVATE_URL, headers=EN)["Location"].startswith(REAUTHENTICATE_URL)
    assert client.get(REAUTHENTICATE_URL, headers=EN).status_code == 200
    _reauthenticate(client)
    assert client.get(ACTIVATE_URL, headers=EN).status_code == 200

    _enrol(client, frozen_clock, django_capture_on_commit_callbacks)
    assert client.get("/", headers=EN).status_code == 200


def test_an_employee_without_a_required_role_is_not_forced(employee, policy_on):
    client = _logged_in(employee)
    assert client.get("/", headers=EN).status_code == 200


def test_everyone_must_enrol_when_required_for_all(employee, policy_on):
    policy_on.GONGHAO_MFA_REQUIRED_FOR_ALL = True
    client = _logged_in(employee)
    assert client.get("/", headers=EN)["Location"] == ACTIVATE_URL


def test_the_mlps3_preset_requires_it_for_everyone():
    import os
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.GONGHAO_MFA_REQUIRED_FOR_ALL)"
    env = {
        **os.environ,
        "GONGHAO_PASSWORD_PRESET": "mlps3",
        "DJANGO_SETTINGS_MODULE": "gonghao.settings",
    }
    env.pop("GONGHAO_MFA_REQUIRED_FOR_ALL", None)
    output = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert output.stdout.strip() == "True"
