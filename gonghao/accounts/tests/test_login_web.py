"""Web login through allauth at /accounts/login/, the forced password change, logout."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from gonghao.accounts.models import EmployeeStatus
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import (
    CHANGE_URL,
    LOGIN_URL,
    NEW_PASSWORD,
    UNKNOWN_ID,
    events,
    failure_reasons,
    reload,
    web_login,
)

SESSION_COOKIE = django_settings.SESSION_COOKIE_NAME


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def employee(db):
    return make_employee("张三")


def _page(response) -> str:
    return response.content.decode()


def _is_logged_in(client: Client) -> bool:
    response = client.get("/", headers={"Accept-Language": "en"})
    return response.status_code == 200


def test_login_page_asks_for_employee_id_and_password(db):
    response = Client().get(LOGIN_URL, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = _page(response)
    assert 'name="login"' in page
    assert 'name="password"' in page
    assert '<html lang="en">' in page


def test_successful_login_redirects_and_rotates_the_session(employee, frozen_clock):
    client = Client()
    anonymous_key = client.session.session_key  # a session that exists before the login
    assert anonymous_key

    response = web_login(client, employee.employee_id)

    assert response.status_code == 302
    assert response["Location"] == "/"
    new_key = client.cookies[SESSION_COOKIE].value
    assert new_key != anonymous_key
    assert not Session.objects.filter(session_key=anonymous_key).exists()
    session = Session.objects.get(session_key=new_key).get_decoded()
    assert session["_auth_user_id"] == str(employee.pk)
    assert _is_logged_in(client)
    assert reload(employee).last_login is not None
    [login] = events("auth.login.succeeded")
    assert login.actor_employee_id == employee.employee_id
    assert login.channel == "web"


def test_login_goes_to_the_next_page(employee):
    client = Client()
    response = client.post(
        f"{LOGIN_URL}?next=/me/tokens/", {"login": employee.employee_id, "password": PASSWORD}
    )
    assert response["Location"] == "/me/tokens/"


def test_login_refuses_an_offsite_next(employee):
    client = Client()
    response = client.post(
        LOGIN_URL,
        {"login": employee.employee_id, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_employee_id_is_normalised_on_the_web_too(employee):
    client = Client()
    typed = " " + employee.employee_id.lower() + " "
    assert web_login(client, typed).status_code == 302
    assert _is_logged_in(client)


@pytest.mark.parametrize(
    ("login", "password", "message", "reason"),
    [
        (
            "{id}",
            "Wrong-Password-0000",
            "The 工号 or the password is not correct.",
            "wrong_password",
        ),
        (UNKNOWN_ID, PASSWORD, "The 工号 or the password is not correct.", "unknown_employee_id"),
        ("E1", PASSWORD, "This is not a valid 工号. Please check it and try again.", "malformed"),
    ],
    ids=["wrong-password", "unknown", "malformed"],
)
def test_failed_login_shows_the_error_in_the_request_language(
    employee, login, password, message, reason
):
    client = Client()
    login = employee.employee_id if login == "{id}" else login

    response = web_login(client, login, password)

    assert response.status_code == 200
    page = _page(response)
    assert 'data-testid="login-error"' in page
    assert message in page
    assert '<html lang="en">' in page
    assert password not in page  # the password is never echoed back
    assert not _is_logged_in(client)
    assert failure_reasons() == [reason]


def test_locked_employee_sees_the_lock_on_the_web(employee):
    client = Client()
    for _ in range(5):
        web_login(client, employee.employee_id, "Wrong-Password-0000")

    response = web_login(client, employee.employee_id)

    assert response.status_code == 200
    assert "is locked" in _page(response)
    assert not _is_logged_in(client)
    assert len(events("auth.lockout")) == 1


@pytest.mark.parametrize(
    "status", [EmployeeStatus.DISABLED, EmployeeStatus.DEPARTED, EmployeeStatus.PENDING]
)
def test_inactive_employee_cannot_log_in_on_the_web(db, status):
    inactive = make_employee("王五", status=status)
    client = Client()

    response = web_login(client, inactive.employee_id)

    assert response.status_code == 200
    assert "This account cannot log in." in _page(response)
    assert not _is_logged_in(client)
    assert failure_reasons(inactive.employee_id) == [f"status_{status}"]


# --- forced password change --------------------------------------------------------------------


@pytest.fixture
def newcomer(db):
    return make_employee("新员工", must_change_password=True)


def _change_form(old: str, new: str, again: str | None = None) -> dict[str, str]:
    return {"oldpassword": old, "password1": new, "password2": new if again is None else again}


@pytest.mark.parametrize("path", ["/", "/me/tokens/", "/employees/", "/org/departments/"])
def test_must_change_password_is_sent_to_the_change_page_from_anywhere(newcomer, path):
    client = Client()
    assert web_login(client, newcomer.employee_id).status_code == 302

    response = client.get(path, headers={"Accept-Language": "en"})

    assert response.status_code == 302
    assert response["Location"] == CHANGE_URL


def test_must_change_password_can_reach_the_change_page_and_log_out(newcomer):
    client = Client()
    web_login(client, newcomer.employee_id)

    page = client.get(CHANGE_URL, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'name="password1"' in _page(page)

    assert client.post("/accounts/logout/").status_code == 302
    assert not _is_logged_in(client)


def test_must_change_password_session_cannot_use_the_api(newcomer):
    client = Client()
    web_login(client, newcomer.employee_id)
    response = client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


def test_changing_the_password_on_the_web_lifts_the_redirect(newcomer, frozen_clock):
    client = Client()
    web_login(client, newcomer.employee_id)
    changed_at = frozen_clock.advance(minutes=2)

    response = client.post(
        CHANGE_URL, _change_form(PASSWORD, NEW_PASSWORD), headers={"Accept-Language": "en"}
    )

    assert response.status_code == 302
    fresh = reload(newcomer)
    assert fresh.must_change_password is False
    assert fresh.password_changed_at == changed_at
    assert fresh.check_password(NEW_PASSWORD)
    assert _is_logged_in(client)  # the session survives its own password change
    [change] = events("auth.password.change")
    assert change.actor_employee_id == newcomer.employee_id
    assert change.channel == "web"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (_change_form("Wrong-Password-0000", NEW_PASSWORD), "oldpassword"),
        (_change_form(PASSWORD, "Short-7a!"), "password1"),
        (_change_form(PASSWORD, "password1234"), "password1"),
        (_change_form(PASSWORD, NEW_PASSWORD, "Ginkgo-Lantern-7306?"), "password2"),
        (_change_form(PASSWORD, PASSWORD), "password1"),
    ],
    ids=["wrong-old", "short", "common", "mismatch", "same-as-old"],
)
def test_web_change_refuses_bad_new_passwords(newcomer, form, field):
    client = Client()
    web_login(client, newcomer.employee_id)

    response = client.post(CHANGE_URL, form, headers={"Accept-Language": "en"})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    fresh = reload(newcomer)
    assert fresh.must_change_password is True
    assert fresh.password == newcomer.password
    assert client.get("/")["Location"] == CHANGE_URL


# --- logout ------------------------------------------------------------------------------------


def test_logout_ends_the_session_and_is_audited(employee):
    client = Client()
    web_login(client, employee.employee_id)
    session_key = client.cookies[SESSION_COOKIE].value

    response = client.post("/accounts/logout/", headers={"Accept-Language": "en"})

    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not _is_logged_in(client)
    [logout] = events("auth.logout")
    assert logout.actor_employee_id == employee.employee_id
    assert logout.channel == "web"


def test_logout_needs_a_post(employee):
    client = Client(raise_request_exception=False)
    web_login(client, employee.employee_id)
    response = client.get("/accounts/logout/", headers={"Accept-Language": "en"})
    assert response.status_code != 302
    assert _is_logged_in(client)
    assert events("auth.logout") == []


def test_logout_confirmation_page_renders(employee):
    client = Client()
    web_login(client, employee.employee_id)
    response = client.get("/accounts/logout/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert 'action="/accounts/logout/"' in _page(response)


def test_logout_checks_csrf(employee):
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN_URL)
    client.post(
        LOGIN_URL,
        {
            "login": employee.employee_id,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert _is_logged_in(client)

    assert client.post("/accounts/logout/").status_code == 403
    assert _is_logged_in(client)


def test_login_form_checks_csrf(employee):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN_URL, {"login": employee.employee_id, "password": PASSWORD})
    assert response.status_code == 403
    assert not _is_logged_in(client)
    assert events("auth.login.succeeded") == []
