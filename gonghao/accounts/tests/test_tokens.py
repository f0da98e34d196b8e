"""Personal API tokens: list, create, revoke, read-only scope, other people's tokens, web page."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from gonghao.accounts import services
from gonghao.accounts.models import ApiToken, Employee, EmployeeStatus, TokenScope
from gonghao.org.models import Department
from gonghao.testing.kit import ApiClient, make_employee

from .auth_support import api_login, bearer, events, web_login

TOKENS = "/api/v1/auth/tokens"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(db):
    return make_employee("张三")


@pytest.fixture
def owner_api(owner):
    return ApiClient(api_login(owner).json()["token"])


def _personal_token(employee: Employee, scope: str = TokenScope.READ, name: str = "script"):
    raw, token = services.issue_token(employee, name=name, scope=scope)
    return raw, token


def test_create_a_personal_token(owner, owner_api, frozen_clock):
    response = owner_api.post(TOKENS, {"name": "报表脚本", "days": 7, "scope": "write"})

    assert response.status_code == 201
    body = response.json()
    raw = body["token"]
    assert raw.startswith("ghk_")
    details = body["details"]
    assert details["name"] == "报表脚本"
    assert details["scope"] == "write"
    assert raw.startswith(details["prefix"])
    expires = datetime.fromisoformat(details["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (frozen_clock() + timedelta(days=7))) < timedelta(milliseconds=1)
    stored = ApiToken.objects.get(pk=details["id"])
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert stored.employee == owner
    # The new token works on its own.
    me = Client().get("/api/v1/me", headers=bearer(raw))
    assert me.json()["employee_id"] == owner.employee_id
    [created] = events("auth.token.create", target_id=str(stored.pk))
    assert created.actor_employee_id == owner.employee_id
    assert created.params == {"name": "报表脚本"}
    assert raw not in str(created.params) + str(created.changes)


def test_personal_tokens_are_read_only_unless_asked(owner_api):
    body = owner_api.post(TOKENS, {"name": "dashboard"}).json()
    assert body["details"]["scope"] == "read"
    assert ApiToken.objects.get(pk=body["details"]["id"]).scope == "read"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "n" * 101},
        {"name": "x", "days": 0},
        {"name": "x", "days": 367},
        {"name": "x", "scope": "admin"},
        {"name": ["x"]},
    ],
    ids=["no-name", "empty-name", "long-name", "zero-days", "too-many-days", "scope", "list"],
)
def test_bad_token_requests_are_refused(owner, owner_api, payload):
    before = ApiToken.objects.count()
    response = owner_api.post(TOKENS, payload)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert ApiToken.objects.count() == before


def test_list_shows_my_tokens_only_and_never_a_secret(owner, owner_api):
    _personal_token(owner, name="mine")
    _personal_token(make_employee("李四"), name="theirs")

    response = owner_api.get(TOKENS)

    assert response.status_code == 200
    body = response.json()
    assert sorted(item["name"] for item in body["items"]) == ["login", "mine"]
    assert body["count"] == 2
    for item in body["items"]:
        assert set(item) == {
            "id",
            "name",
            "prefix",
            "scope",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        }


def test_revoke_my_token(owner, owner_api):
    raw, token = _personal_token(owner, scope=TokenScope.WRITE)
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200

    response = owner_api.delete(f"{TOKENS}/{token.pk}")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    [revoked] = events("auth.token.revoke")
    assert revoked.actor_employee_id == owner.employee_id
    assert revoked.params == {"name": "script", "token": token.prefix}
    # Revoking again changes nothing and writes nothing.
    assert owner_api.delete(f"{TOKENS}/{token.pk}").status_code == 200
    assert len(events("auth.token.revoke")) == 1


def test_revoking_a_missing_token_is_not_found(owner_api):
    response = owner_api.delete(f"{TOKENS}/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "token_not_found"


def test_one_employee_cannot_revoke_anothers_token(owner, owner_api):
    other = make_employee("李四")
    raw, token = _personal_token(other)

    response = owner_api.delete(f"{TOKENS}/{token.pk}")

    assert response.status_code == 404
    assert response.json()["code"] == "token_not_found"
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200
    assert events("auth.token.revoke") == []


def test_security_admin_can_revoke_anyones_token(cast):
    raw, token = _personal_token(cast.employee)
    security = ApiClient(api_login(cast.security_admin).json()["token"])

    response = security.delete(f"{TOKENS}/{token.pk}")

    assert response.status_code == 200
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 401
    [revoked] = events("auth.token.revoke")
    assert revoked.actor_employee_id == cast.security_admin.employee_id
    assert revoked.target_id == str(cast.employee.pk)


def test_system_admin_cannot_revoke_anothers_token(cast):
    _raw, token = _personal_token(cast.employee)
    admin = ApiClient(api_login(cast.admin).json()["token"])
    assert admin.delete(f"{TOKENS}/{token.pk}").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


# --- read-only scope ---------------------------------------------------------------------------


def test_read_only_token_can_read(owner):
    raw, _token = _personal_token(owner, scope=TokenScope.READ)
    reader = ApiClient(raw)
    assert reader.get("/api/v1/me").status_code == 200
    assert reader.get(TOKENS).status_code == 200


def test_read_only_token_cannot_write(db):
    admin = make_employee("王管理", roles=("system_admin",))
    department = Department.objects.create(code="OPS", name="运营部")
    raw, _token = _personal_token(admin, scope=TokenScope.READ)
    _other_raw, other_token = _personal_token(admin, name="other")
    reader = ApiClient(raw)
    tokens_before = ApiToken.objects.count()

    attempts = [
        reader.post(TOKENS, {"name": "escalate", "scope": "write"}),
        reader.delete(f"{TOKENS}/{other_token.pk}"),
        reader.patch(f"/api/v1/departments/{department.pk}", {"name": "改名"}),
        reader.post("/api/v1/auth/logout"),
    ]

    for response in attempts:
        assert response.status_code == 403
        assert response.json()["code"] == "token_read_only"
    assert ApiToken.objects.count() == tokens_before
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0
    department.refresh_from_db()
    assert department.name == "运营部"


def test_write_token_can_write(db):
    admin = make_employee("王管理", roles=("system_admin",))
    department = Department.objects.create(code="OPS", name="运营部")
    raw, _token = _personal_token(admin, scope=TokenScope.WRITE)
    response = ApiClient(raw).patch(f"/api/v1/departments/{department.pk}", {"name": "改名"})
    assert response.status_code == 200
    department.refresh_from_db()
    assert department.name == "改名"


# --- usage and the employee's state -----------------------------------------------------------


def test_last_use_is_written_at_most_once_a_minute(owner, frozen_clock):
    raw, token = _personal_token(owner)
    reader = ApiClient(raw)
    first_use = frozen_clock()
    reader.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == first_use

    frozen_clock.advance(seconds=59)
    reader.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == first_use

    later = frozen_clock.advance(seconds=2)
    reader.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == later


@pytest.mark.parametrize(
    "status", [EmployeeStatus.DISABLED, EmployeeStatus.DEPARTED, EmployeeStatus.PENDING]
)
def test_tokens_of_inactive_employees_stop_working(owner, status):
    login_token = api_login(owner).json()["token"]
    personal, _token = _personal_token(owner, scope=TokenScope.WRITE)
    Employee.objects.filter(pk=owner.pk).update(status=status)

    for raw in (login_token, personal):
        response = Client().get("/api/v1/me", headers=bearer(raw))
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_personal_token_expires(owner, frozen_clock):
    raw, _token = services.issue_token(owner, name="short", ttl=timedelta(days=1))
    frozen_clock.advance(hours=23, minutes=59)
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200
    frozen_clock.advance(minutes=1)
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 401


# --- the web page ------------------------------------------------------------------------------


def test_web_page_shows_a_new_token_once(owner):
    client = Client()
    web_login(client, owner.employee_id)

    response = client.post(
        "/me/tokens/",
        {"name": "报表脚本", "days": "30", "scope": "read"},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    token = ApiToken.objects.get(employee=owner, name="报表脚本")
    raw = response.context["new_token"]
    assert raw.startswith(token.prefix)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert page.count(raw) == 1
    assert 'data-testid="new-token"' in page
    again = client.get("/me/tokens/", headers={"Accept-Language": "en"}).content.decode()
    assert raw not in again
    assert token.prefix in again
    assert "报表脚本" in again
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200


def test_web_page_revokes_my_token_but_not_anothers(owner):
    client = Client()
    web_login(client, owner.employee_id)
    _raw, mine = _personal_token(owner)
    _raw, theirs = _personal_token(make_employee("李四"))

    client.post(f"/me/tokens/{theirs.pk}/revoke/")
    client.post(f"/me/tokens/{mine.pk}/revoke/")

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None
    assert client.get(f"/me/tokens/{mine.pk}/revoke/").status_code == 405


def test_web_page_needs_a_login(db):
    response = Client().get("/me/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
