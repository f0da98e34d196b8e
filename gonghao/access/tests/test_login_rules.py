"""Per-role login restrictions (allowed IP ranges and hours): the rule, the token and web
logins refused with a reason, the audit event, and editing them on the role API and page."""

from __future__ import annotations

from datetime import datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client

from gonghao.access.login_rules import refusal
from gonghao.access.models import Role
from gonghao.accounts.models import ApiToken
from gonghao.audit.models import AuditEvent
from gonghao.testing.kit import PASSWORD, api_for, make_cast, make_employee

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADDRESS_MESSAGE = "Your roles do not allow logging in from this network address."
TIME_MESSAGE = "Your roles do not allow logging in at this time."


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _role(networks=(), start=None, end=None):
    return SimpleNamespace(
        allowed_networks=list(networks), allowed_hours_start=start, allowed_hours_end=end
    )


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=SHANGHAI)


# --- the rule --------------------------------------------------------------------------------


def test_no_roles_or_an_unrestricted_role_allow_everything():
    assert refusal([], "203.0.113.9", _at(3)) is None
    office = _role(["10.0.0.0/8"], time(8), time(20))
    assert refusal([office, _role()], "203.0.113.9", _at(3)) is None


def test_address_ranges_ipv4_ipv6_and_mapped_addresses():
    office = _role(["10.0.0.0/8", "2001:db8::/32"])
    assert refusal([office], "10.200.1.1", _at(12)) is None
    assert refusal([office], "2001:db8:1::5", _at(12)) is None
    assert refusal([office], "::ffff:10.0.0.1", _at(12)) is None
    assert refusal([office], "11.0.0.1", _at(12)).code == "login_not_allowed_from_address"
    assert refusal([office], None, _at(12)).code == "login_not_allowed_from_address"


def test_hours_start_included_end_excluded_and_overnight():
    day = _role(start=time(8), end=time(20))
    assert refusal([day], "10.0.0.1", _at(8)) is None
    assert refusal([day], "10.0.0.1", _at(19, 59)) is None
    assert refusal([day], "10.0.0.1", _at(20)).code == "login_not_allowed_at_this_time"
    night = _role(start=time(22), end=time(6))
    assert refusal([night], "10.0.0.1", _at(23)) is None
    assert refusal([night], "10.0.0.1", _at(5, 59)) is None
    assert refusal([night], "10.0.0.1", _at(12)).code == "login_not_allowed_at_this_time"


def test_hours_are_read_in_the_company_time_zone():
    day = _role(start=time(8), end=time(20))
    # 02:00 UTC is 10:00 in Shanghai.
    assert refusal([day], "10.0.0.1", datetime(2026, 3, 2, 2, tzinfo=ZoneInfo("UTC"))) is None


def test_any_role_allowing_is_enough_and_the_reason_is_the_address_only_if_none_accepts_it():
    office_day = _role(["10.0.0.0/8"], time(8), time(20))
    remote_night = _role(["192.0.2.0/24"], time(22), time(6))
    assert refusal([office_day, remote_night], "192.0.2.7", _at(23)) is None
    assert refusal([office_day, remote_night], "10.0.0.1", _at(23)).code == (
        "login_not_allowed_at_this_time"
    )
    assert refusal([office_day, remote_night], "198.51.100.1", _at(12)).code == (
        "login_not_allowed_from_address"
    )


# --- logins ----------------------------------------------------------------------------------


@pytest.fixture
def restricted(db):
    make_cast()
    Role.objects.filter(code="sales").update(
        allowed_networks=["10.0.0.0/8"], allowed_hours_start=time(8), allowed_hours_end=time(20)
    )
    return make_employee("张三", roles=("sales",))


def _token(employee, ip: str, language: str = "en"):
    return Client().post(
        "/api/v1/auth/token",
        {"employee_id": employee.employee_id, "password": PASSWORD},
        content_type="application/json",
        headers={"Accept-Language": language},
        REMOTE_ADDR=ip,
    )


def _not_allowed_events():
    return list(AuditEvent.objects.filter(action="auth.login.not_allowed").order_by("seq"))


def test_token_login_from_a_disallowed_address_is_refused_and_audited(frozen_clock, restricted):
    frozen_clock.current = _at(10)

    response = _token(restricted, "192.168.1.5")

    assert response.status_code == 403
    assert response.json()["code"] == "login_not_allowed_from_address"
    assert response.json()["message"] == ADDRESS_MESSAGE
    assert not ApiToken.objects.filter(employee=restricted).exists()
    [event] = _not_allowed_events()
    assert event.target_id == str(restricted.pk)
    assert event.params == {"reason": "login_not_allowed_from_address"}
    assert event.client_ip == "192.168.1.5"
    assert not AuditEvent.objects.filter(action="auth.login.succeeded").exists()
    assert _token(restricted, "10.1.1.1").status_code == 200


def test_token_login_outside_the_hours_is_refused(frozen_clock, restricted):
    frozen_clock.current = _at(21)
    response = _token(restricted, "10.1.1.1", language="zh-hans")
    assert response.status_code == 403
    assert response.json()["code"] == "login_not_allowed_at_this_time"
    assert _not_allowed_events()[0].params["reason"] == "login_not_allowed_at_this_time"
    frozen_clock.current = _at(9)
    assert _token(restricted, "10.1.1.1").status_code == 200


def test_a_wrong_password_says_wrong_password_not_the_restriction(frozen_clock, restricted):
    frozen_clock.current = _at(10)
    response = Client().post(
        "/api/v1/auth/token",
        {"employee_id": restricted.employee_id, "password": "Wrong-Password-1!"},
        content_type="application/json",
        REMOTE_ADDR="192.168.1.5",
    )
    assert response.json()["code"] == "invalid_credentials"
    assert _not_allowed_events() == []


def test_web_login_from_a_disallowed_address_is_refused_with_the_reason(frozen_clock, restricted):
    frozen_clock.current = _at(10)
    browser = Client(REMOTE_ADDR="192.168.1.5")

    response = browser.post(
        "/accounts/login/",
        {"login": restricted.employee_id, "password": PASSWORD},
        headers={"Accept-Language": "en"},
        follow=True,
    )

    assert ADDRESS_MESSAGE in response.content.decode()
    assert browser.get("/", headers={"Accept-Language": "en"}).status_code == 302
    assert _not_allowed_events()[0].channel == "web"
    assert not AuditEvent.objects.filter(action="auth.login.succeeded").exists()
    office = Client(REMOTE_ADDR="10.2.3.4")
    office.post("/accounts/login/", {"login": restricted.employee_id, "password": PASSWORD})
    assert office.get("/", headers={"Accept-Language": "en"}).status_code == 200


# --- editing ---------------------------------------------------------------------------------


@pytest.fixture
def cast(db):
    return make_cast()


def test_role_api_sets_and_clears_the_restrictions_audited(cast):
    api = api_for(cast.security_admin)

    response = api.patch(
        "/api/v1/roles/sales",
        {"allowed_networks": ["10.1.2.3", "2001:DB8::/32"], "allowed_hours": "22:00-06:00"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["allowed_networks"] == ["10.1.2.3/32", "2001:db8::/32"]
    assert body["allowed_hours"] == "22:00-06:00"
    role = Role.objects.get(code="sales")
    assert (role.allowed_hours_start, role.allowed_hours_end) == (time(22), time(6))
    event = AuditEvent.objects.filter(action="role.update").latest("seq")
    assert event.changes["allowed_hours"] == ["", "22:00-06:00"]
    cleared = api.patch("/api/v1/roles/sales", {"allowed_networks": [], "allowed_hours": ""})
    assert cleared.json()["allowed_networks"] == [] and cleared.json()["allowed_hours"] == ""


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"allowed_networks": ["10.0.0.0/33"]}, "allowed_networks"),
        ({"allowed_networks": ["office"]}, "allowed_networks"),
        ({"allowed_hours": "25:00-06:00"}, "allowed_hours"),
        ({"allowed_hours": "08:00-08:00"}, "allowed_hours"),
        ({"allowed_hours": "8 to 20"}, "allowed_hours"),
    ],
)
def test_role_api_refuses_bad_restrictions_and_changes_nothing(cast, payload, field):
    api = api_for(cast.security_admin)
    response = api.patch("/api/v1/roles/sales", payload)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]["fields"]
    role = Role.objects.get(code="sales")
    assert role.allowed_networks == [] and role.allowed_hours_start is None
    assert not AuditEvent.objects.filter(action="role.update").exists()


def test_role_page_edits_the_restrictions(cast):
    browser = Client()
    browser.force_login(cast.security_admin)
    role = Role.objects.get(code="sales")
    page = browser.get("/access/roles/sales/", headers={"Accept-Language": "en"})
    assert "Login allowed from" in page.content.decode()

    response = browser.post(
        "/access/roles/sales/",
        {
            "name_zh": role.name_zh,
            "name_en": role.name_en,
            "data_scope": role.data_scope,
            "permissions": role.permissions,
            "allowed_networks": "10.0.0.0/8\n192.0.2.0/24",
            "allowed_hours": "08:00-20:00",
        },
    )

    assert response.status_code == 302
    role.refresh_from_db()
    assert role.allowed_networks == ["10.0.0.0/8", "192.0.2.0/24"]
    assert role.allowed_hours_start == time(8)
    bad = browser.post(
        "/access/roles/sales/",
        {
            "name_zh": role.name_zh,
            "name_en": role.name_en,
            "data_scope": role.data_scope,
            "allowed_networks": "not-a-range",
        },
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 200 and "Not an IP range" in bad.content.decode()
