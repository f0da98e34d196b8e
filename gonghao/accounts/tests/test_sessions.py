"""Web sessions: cookie flags, sliding idle timeout, absolute lifetime, inactive employees."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import gonghao
from gonghao.accounts import services
from gonghao.accounts.models import ApiToken, Employee, EmployeeStatus
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import LOGIN_URL, NEW_PASSWORD, events, web_login

SESSION_COOKIE = django_settings.SESSION_COOKIE_NAME


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def employee(db):
    return make_employee("张三")


@pytest.fixture
def logged_in(employee):
    client = Client()
    assert web_login(client, employee.employee_id).status_code == 302
    return client


def _session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[SESSION_COOKIE].value)


# --- the cookie --------------------------------------------------------------------------------


def test_session_cookie_is_httponly_samesite_lax_and_ends_with_the_browser(employee):
    response = web_login(Client(), employee.employee_id)

    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    assert cookie["path"] == "/"


def _load_settings(monkeypatch, tmp_path: Path, **env: str):
    """Execute gonghao/settings.py afresh with a chosen environment."""
    for name in ("GONGHAO_DEBUG", "GONGHAO_LOCAL_HTTP", "GONGHAO_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GONGHAO_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GONGHAO_SECRET_KEY", "x" * 64)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = Path(gonghao.__file__).parent / "settings.py"
    spec = importlib.util.spec_from_file_location("gonghao_settings_probe", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({}, True),
        ({"GONGHAO_LOCAL_HTTP": "1"}, False),
        ({"GONGHAO_DEBUG": "1"}, False),
        ({"GONGHAO_LOCAL_HTTP": "1", "GONGHAO_SECURE_COOKIES": "1"}, True),
    ],
    ids=["production", "local-http", "debug", "forced"],
)
def test_cookies_are_secure_by_default(monkeypatch, tmp_path, env, secure):
    probe = _load_settings(monkeypatch, tmp_path, **env)
    assert probe.SESSION_COOKIE_SECURE is secure
    assert probe.CSRF_COOKIE_SECURE is secure
    assert probe.SESSION_COOKIE_HTTPONLY is True
    assert probe.SESSION_COOKIE_SAMESITE == "Lax"


# --- idle timeout ------------------------------------------------------------------------------


def test_idle_timeout_is_thirty_minutes_and_slides(logged_in):
    assert django_settings.SESSION_COOKIE_AGE == 1800
    expires = _session_row(logged_in).expire_date
    assert abs(expires - (timezone.now() + timedelta(minutes=30))) < timedelta(seconds=30)

    # Nearly idle for half an hour: one request pushes the end back to 30 minutes from now.
    Session.objects.filter(pk=_session_row(logged_in).pk).update(
        expire_date=timezone.now() + timedelta(seconds=20)
    )
    assert logged_in.get("/").status_code == 200
    expires = _session_row(logged_in).expire_date
    assert expires - timezone.now() > timedelta(minutes=29)


def _set_session_end(client: Client, end) -> None:
    Session.objects.filter(pk=_session_row(client).pk).update(expire_date=end)


def test_a_page_within_the_refresh_window_writes_no_session(logged_in):
    """The sliding expiry is not written on every request: within the first minute of the
    idle window since the last save, a page reads the session and writes nothing."""
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is False
    assert django_settings.GONGHAO_SESSION_REFRESH_SECONDS == 60
    logged_in.get("/")  # settles what the login left (activity tracking, messages)
    _set_session_end(logged_in, timezone.now() + timedelta(minutes=29, seconds=30))

    with CaptureQueriesContext(connection) as captured:
        assert logged_in.get("/").status_code == 200

    writes = [
        q["sql"]
        for q in captured.captured_queries
        if "django_session" in q["sql"] and q["sql"].lstrip().startswith(("UPDATE", "INSERT"))
    ]
    assert writes == []
    end = _session_row(logged_in).expire_date
    assert end - timezone.now() < timedelta(minutes=29, seconds=31)


def test_a_page_past_the_refresh_window_slides_the_end(logged_in):
    logged_in.get("/")
    _set_session_end(logged_in, timezone.now() + timedelta(minutes=28, seconds=50))

    assert logged_in.get("/").status_code == 200

    assert _session_row(logged_in).expire_date - timezone.now() > timedelta(minutes=29, seconds=50)


def test_idle_expiry_still_ends_a_session_that_skipped_its_writes(logged_in):
    """Pages within the refresh window do not push the end back: the session still ends
    GONGHAO_SESSION_IDLE after its last save, never later."""
    logged_in.get("/")
    _set_session_end(logged_in, timezone.now() + timedelta(minutes=29, seconds=30))
    assert logged_in.get("/").status_code == 200
    end = _session_row(logged_in).expire_date

    _set_session_end(logged_in, timezone.now() - timedelta(seconds=1))  # that end has passed
    response = logged_in.get("/")

    assert end - timezone.now() <= timedelta(minutes=30)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_idle_session_is_over(logged_in):
    Session.objects.filter(pk=_session_row(logged_in).pk).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = logged_in.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


# --- absolute lifetime -------------------------------------------------------------------------


def test_session_ends_twelve_hours_after_login_however_busy(employee, frozen_clock):
    client = Client()
    web_login(client, employee.employee_id)
    for _ in range(3):
        frozen_clock.advance(hours=3, minutes=59)
        assert client.get("/").status_code == 200  # 11h57m in all
    assert events("auth.session.expired") == []

    frozen_clock.advance(minutes=4)  # 12h01m
    response = client.get("/me/tokens/", headers={"Accept-Language": "en"})

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next=/me/tokens/"
    [expired] = events("auth.session.expired")
    assert expired.actor_employee_id == employee.employee_id
    assert expired.params == {"reason": "absolute_lifetime"}
    assert client.get("/").status_code == 302  # the session is gone, not just refused once
    assert len(events("auth.session.expired")) == 1
    # Logging in again starts a new twelve hours.
    web_login(client, employee.employee_id)
    assert client.get("/").status_code == 200


def test_expired_session_is_refused_by_the_api(employee, frozen_clock):
    client = Client()
    web_login(client, employee.employee_id)
    assert client.get("/api/v1/me").status_code == 200
    frozen_clock.advance(hours=12, minutes=1)

    response = client.get("/api/v1/me", headers={"Accept-Language": "en"})

    assert response.status_code == 401
    assert len(events("auth.session.expired")) == 1


# --- the employee behind the session -----------------------------------------------------------


@pytest.mark.parametrize(
    "status", [EmployeeStatus.DISABLED, EmployeeStatus.DEPARTED, EmployeeStatus.PENDING]
)
def test_session_ends_when_the_employee_is_no_longer_active(employee, logged_in, status):
    Employee.objects.filter(pk=employee.pk).update(status=status)
    response = logged_in.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert logged_in.get("/api/v1/me").status_code == 401


def test_session_ends_when_the_password_changes_elsewhere(employee, logged_in):
    services.set_password(employee, NEW_PASSWORD, actor=employee)
    assert logged_in.get("/").status_code == 302


def test_api_writes_with_a_session_need_the_csrf_token(employee):
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
    assert client.get("/api/v1/me").status_code == 200

    refused = client.post("/api/v1/auth/tokens", {"name": "x"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert not ApiToken.objects.exists()

    accepted = client.post(
        "/api/v1/auth/tokens",
        {"name": "x"},
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert accepted.status_code == 201


# --- what a login writes -----------------------------------------------------------------------


def _session_writes(captured) -> list[str]:
    return [
        q["sql"].split()[0]
        for q in captured.captured_queries
        if '"django_session"' in q["sql"] and q["sql"].lstrip().startswith(("INSERT", "UPDATE"))
    ]


def test_a_web_login_writes_its_new_session_once(employee):
    """The key cycled at login is stored with the login's changes at the end of the request,
    not inserted and then updated."""
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        assert web_login(client, employee.employee_id).status_code == 302

    assert _session_writes(captured) == ["INSERT"]
    assert client.get("/").status_code == 200  # the stored session is the one in the cookie
    assert _session_row(client).get_decoded()


def test_a_web_login_writes_its_session_in_the_login_commit(employee):
    """The session row is written with the login's audit event and "My security" row, in
    the same transaction, and holds the session as it ends the request (allauth's expiry
    included): SessionMiddleware has nothing left to write."""
    from allauth.usersessions.models import UserSession

    client = Client()
    with CaptureQueriesContext(connection) as captured:
        assert web_login(client, employee.employee_id).status_code == 302
    statements = [q["sql"] for q in captured.captured_queries]
    session_insert = next(
        n for n, sql in enumerate(statements) if sql.startswith('INSERT INTO "django_session"')
    )
    tracked = next(
        n
        for n, sql in enumerate(statements)
        if sql.startswith('INSERT INTO "usersessions_usersession"')
    )
    assert session_insert < tracked  # one transaction: no COMMIT between them
    assert not any(
        sql.startswith(("COMMIT", "BEGIN")) for sql in statements[session_insert:tracked]
    )
    row = _session_row(client)
    assert row.get_decoded()["_session_expiry"] == 0  # ends with the browser, as allauth sets
    assert UserSession.objects.get(user=employee).session_key == row.session_key


def test_a_login_checks_only_its_employees_sessions_by_key(employee):
    """Dropping the employee's ended sessions from "My security" looks up each of their rows'
    own session by key, not every live session of every employee (which made each login
    slower the more people were logged in)."""
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        assert web_login(client, employee.employee_id).status_code == 302
    (purge,) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('DELETE FROM "usersessions_usersession"')
    ]
    assert "EXISTS" in purge and "IN (SELECT" not in purge


def test_a_session_changed_after_its_early_write_is_written_again(employee):
    """`write_now` only spares the end-of-request write while nothing changed since."""
    from gonghao.accounts.session_store import SessionStore

    session = SessionStore()
    session["a"] = 1
    session.cycle_key()
    with CaptureQueriesContext(connection) as captured:
        session.write_now()
        session.save()  # unchanged: nothing to write
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["INSERT"]

    session["a"] = 2
    session.save()
    assert SessionStore(session.session_key).load() == {"a": 2}


def test_a_login_does_not_recheck_every_earlier_session(employee):
    """Logging in costs the same however many sessions the employee already has; the earlier
    ones stay listed, and one that ended is dropped from the list at the next login."""
    from allauth.usersessions.models import UserSession

    from gonghao.accounts.user_sessions import sessions_of

    clients = [Client() for _ in range(4)]

    def login_queries(client) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert web_login(client, employee.employee_id).status_code == 302
        return len(captured.captured_queries)

    second = [login_queries(client) for client in clients[:2]][1]
    assert login_queries(clients[2]) == second
    assert len(sessions_of(employee)) == 3

    ended = _session_row(clients[0]).session_key
    Session.objects.filter(pk=ended).delete()  # ended elsewhere
    login_queries(clients[3])
    assert not UserSession.objects.filter(session_key=ended).exists()
    listed = {s.session_key for s in sessions_of(employee)}
    assert listed == {_session_row(c).session_key for c in clients[1:]}
