"""'My security': sessions (device, IP, last seen; sign out one / all others), login history,
and an administrator's view of any employee's sessions and API tokens (page and API)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from gonghao.access.models import Role
from gonghao.accounts.models import ApiToken
from gonghao.testing.kit import ApiClient, api_for, make_cast, make_employee

from .auth_support import events, web_login

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cast(db):
    return make_cast()


def _browser(employee, user_agent: str, ip: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    assert web_login(client, employee.employee_id).status_code == 302
    return client


def _is_logged_in(client: Client) -> bool:
    return client.get("/", headers={"Accept-Language": "en"}).status_code == 200


def test_my_sessions_list_device_ip_and_the_current_one(cast):
    laptop = _browser(cast.employee, FIREFOX, "10.1.2.3")
    _browser(cast.employee, SAFARI, "2001:db8::7")

    body = laptop.get("/api/v1/me/sessions").json()

    assert body["count"] == 2
    by_ip = {item["ip"]: item for item in body["items"]}
    assert by_ip["10.1.2.3"]["device"] == "Firefox · Windows"
    assert by_ip["10.1.2.3"]["current"] is True
    assert by_ip["2001:db8::7"]["device"] == "Safari · iOS"
    assert by_ip["2001:db8::7"]["current"] is False
    page = laptop.get("/me/security/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Firefox · Windows" in html and "2001:db8::7" in html and "This session" in html


def test_sign_out_all_other_sessions_keeps_this_one_and_is_audited(cast):
    laptop = _browser(cast.employee, FIREFOX, "10.1.2.3")
    phone = _browser(cast.employee, SAFARI, "10.9.9.9")
    tablet = _browser(cast.employee, SAFARI, "10.9.9.8")

    response = laptop.post("/me/security/sessions/end-others/")

    assert response.status_code == 302
    assert _is_logged_in(laptop)
    assert not _is_logged_in(phone) and not _is_logged_in(tablet)
    [event] = events("auth.session.end")
    assert event.actor_employee_id == cast.employee.employee_id
    assert event.params["count"] == 2 and event.params["reason"] == "other_sessions"
    assert laptop.get("/api/v1/me/sessions").json()["count"] == 1


def test_sign_out_one_session_from_the_page(cast):
    laptop = _browser(cast.employee, FIREFOX, "10.1.2.3")
    phone = _browser(cast.employee, SAFARI, "10.9.9.9")
    phone_session = next(
        s for s in laptop.get("/api/v1/me/sessions").json()["items"] if not s["current"]
    )

    laptop.post(f"/me/security/sessions/{phone_session['id']}/end/")

    assert not _is_logged_in(phone) and _is_logged_in(laptop)
    assert events("auth.session.end")[0].params["reason"] == "signed_out"


def test_someone_elses_session_is_not_found_for_an_employee(cast):
    _browser(cast.admin, FIREFOX, "10.1.2.3")
    theirs = cast.admin.usersession_set.get()
    mine = _browser(cast.employee, SAFARI, "10.9.9.9")

    api = api_for(cast.employee)
    response = api.delete(f"/api/v1/me/sessions/{theirs.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "session_not_found"
    mine.post(f"/me/security/sessions/{theirs.pk}/end/")
    assert cast.admin.usersession_set.filter(pk=theirs.pk).exists()
    assert events("auth.session.end") == []


def test_login_history_shows_successes_and_failures_with_ip_and_channel(cast):
    Client(REMOTE_ADDR="10.6.6.6").post(
        "/api/v1/auth/token",
        {"employee_id": cast.employee.employee_id, "password": "wrong-password-1"},
        content_type="application/json",
    )
    laptop = _browser(cast.employee, FIREFOX, "10.1.2.3")

    body = laptop.get("/api/v1/me/login-history?limit=1").json()
    assert body["count"] == 2
    [newest] = body["items"]
    assert newest["outcome"] == "success" and newest["client_ip"] == "10.1.2.3"
    assert newest["channel"] == "web"
    older = laptop.get("/api/v1/me/login-history?offset=1").json()["items"][0]
    assert older["outcome"] == "failure" and older["reason"] == "wrong_password"
    assert older["client_ip"] == "10.6.6.6" and older["channel"] == "api"
    html = laptop.get("/me/security/", headers={"Accept-Language": "en"}).content.decode()
    assert "10.6.6.6" in html and "wrong_password" in html


def test_security_admin_sees_and_ends_any_employees_sessions_through_the_api(cast):
    phone = _browser(cast.employee, SAFARI, "10.9.9.9")
    admin = api_for(cast.security_admin)
    path = f"/api/v1/employees/{cast.employee.employee_id}/sessions"

    listed = admin.get(path).json()
    assert listed["count"] == 1 and listed["items"][0]["ip"] == "10.9.9.9"
    ended = admin.delete(path)

    assert ended.status_code == 200 and ended.json() == {"ended": 1}
    assert not _is_logged_in(phone)
    [event] = events("auth.session.end")
    assert event.actor_employee_id == cast.security_admin.employee_id
    assert event.target_label == str(cast.employee)
    assert event.params["reason"] == "all_sessions"


def test_end_one_session_of_an_employee_through_the_api(cast):
    phone = _browser(cast.employee, SAFARI, "10.9.9.9")
    laptop = _browser(cast.employee, FIREFOX, "10.1.2.3")
    admin = api_for(cast.security_admin)
    path = f"/api/v1/employees/{cast.employee.employee_id}/sessions"
    phone_id = next(s["id"] for s in admin.get(path).json()["items"] if s["ip"] == "10.9.9.9")

    assert admin.delete(f"{path}/{phone_id}").json() == {"ended": 1}
    assert not _is_logged_in(phone) and _is_logged_in(laptop)
    other = make_employee("李四")
    wrong = admin.delete(f"/api/v1/employees/{other.employee_id}/sessions/{phone_id}")
    assert wrong.status_code == 404


@pytest.mark.parametrize("who", ["employee", "admin", "auditor"])
def test_without_session_manage_the_admin_api_refuses(cast, who):
    phone = _browser(cast.employee, SAFARI, "10.9.9.9")
    api = api_for(getattr(cast, who))
    path = f"/api/v1/employees/{cast.employee.employee_id}/sessions"

    for response in (api.get(path), api.delete(path)):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert _is_logged_in(phone)
    assert events("auth.session.end") == []


def test_security_admin_lists_and_revokes_an_employees_tokens(cast):
    employee_api = api_for(cast.employee)
    token = ApiToken.objects.get(employee=cast.employee)
    admin = api_for(cast.security_admin)
    base = f"/api/v1/employees/{cast.employee.employee_id}/tokens"

    listed = admin.get(base).json()
    assert listed["count"] == 1 and listed["items"][0]["prefix"] == token.prefix
    assert "token_hash" not in listed["items"][0]
    assert admin.post(f"{base}/{token.pk}/revoke").json() == {"ok": True}

    assert employee_api.get("/api/v1/me").status_code == 401
    [event] = events("auth.token.revoke")
    assert event.actor_employee_id == cast.security_admin.employee_id
    # A token id that belongs to someone else is not found under this employee.
    other = make_employee("李四")
    wrong = admin.post(f"/api/v1/employees/{other.employee_id}/tokens/{token.pk}/revoke")
    assert wrong.status_code == 404 and wrong.json()["code"] == "token_not_found"


def test_token_admin_api_needs_token_manage(cast):
    api_for(cast.employee)
    token = ApiToken.objects.get(employee=cast.employee)
    api = api_for(cast.admin)  # system administrator: no token.manage
    base = f"/api/v1/employees/{cast.employee.employee_id}/tokens"

    assert api.get(base).json()["code"] == "permission_denied"
    assert api.post(f"{base}/{token.pk}/revoke").status_code == 403
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_employee_security_page_for_the_security_admin(cast):
    phone = _browser(cast.employee, SAFARI, "10.9.9.9")
    api_for(cast.employee)
    token = ApiToken.objects.get(employee=cast.employee)
    admin = Client()
    admin.force_login(cast.security_admin)
    url = f"/employees/{cast.employee.employee_id}/security/"

    html = admin.get(url, headers={"Accept-Language": "en"}).content.decode()
    assert "10.9.9.9" in html and token.prefix in html
    detail = admin.get(
        f"/employees/{cast.employee.employee_id}/", headers={"Accept-Language": "en"}
    )
    assert url in detail.content.decode()

    admin.post(f"{url}tokens/{token.pk}/revoke/")
    admin.post(f"{url}sessions/end/")

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert not _is_logged_in(phone)
    assert [e.action for e in events("auth.session.end")] == ["auth.session.end"]


def test_employee_security_page_is_refused_without_the_permissions(cast):
    phone = _browser(cast.employee, SAFARI, "10.9.9.9")
    other = Client()
    other.force_login(cast.admin)
    url = f"/employees/{cast.employee.employee_id}/security/"

    assert other.get(url).status_code == 403
    assert other.post(f"{url}sessions/end/").status_code == 403
    assert _is_logged_in(phone)


def test_the_security_admin_role_holds_session_manage(db):
    make_cast()
    assert "session.manage" in Role.objects.get(code="security_admin").permissions
    assert "session.manage" not in Role.objects.get(code="auditor").permissions


def test_me_sessions_needs_a_login():
    assert ApiClient().get("/api/v1/me/sessions").status_code == 401


def test_login_history_refuses_a_non_numeric_page_with_its_declared_422(cast):
    answer = api_for(cast.employee).get("/api/v1/me/login-history", {"limit": "true"})
    assert answer.status_code == 422 and answer.json()["code"] == "validation_error"
    operation = api_for(cast.employee).get("/api/v1/openapi.json").json()["paths"]
    assert "422" in operation["/api/v1/me/login-history"]["get"]["responses"]


def test_address_and_last_seen_are_tracked_at_most_once_a_minute(cast, frozen_clock):
    browser = _browser(cast.employee, FIREFOX, "10.1.2.3")
    session = cast.employee.usersession_set.get()
    browser.get("/", REMOTE_ADDR="10.1.2.3")

    browser.get("/", REMOTE_ADDR="10.7.7.7")
    session.refresh_from_db()
    assert session.ip == "10.1.2.3"

    frozen_clock.advance(seconds=61)
    browser.get("/", REMOTE_ADDR="10.7.7.7")
    session.refresh_from_db()
    assert session.ip == "10.7.7.7"
