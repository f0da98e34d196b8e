"""API login: POST /api/v1/auth/token, bearer tokens on /api/v1/me, logout, hashed storage."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from django.apps import apps
from django.core import serializers
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gonghao.accounts.employee_ids import is_valid, normalise
from gonghao.accounts.models import ApiToken, Employee
from gonghao.audit.models import AuditEvent
from gonghao.org.models import Department
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import (
    TOKEN_URL,
    UNKNOWN_ID,
    api_login,
    bearer,
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
def employee(db):
    return make_employee("张三")


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _wrong_check_digit(employee_id: str) -> str:
    return employee_id[:-1] + str((int(employee_id[-1]) + 1) % 10)


# --- success -----------------------------------------------------------------------------------


def test_token_login_answers_token_and_expiry(employee, frozen_clock):
    response = api_login(employee)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    assert body["token"].startswith("ghk_")
    assert len(body["token"]) > 40
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    # JSON carries milliseconds.
    assert abs(expires - (frozen_clock() + timedelta(hours=12))) < timedelta(milliseconds=1)
    token = ApiToken.objects.get(employee=employee)
    assert token.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert reload(employee).last_login == frozen_clock()


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(str.lower, id="lower-case"),
        pytest.param(lambda e: f"  {e[:1]} {e[1:4]} {e[4:]} ", id="spaces"),
        pytest.param(lambda e: f"{e[:4]}-{e[4:]}", id="dash"),
        pytest.param(_full_width, id="full-width"),
        pytest.param(lambda e: _full_width(e).lower(), id="full-width-lower"),
    ],
)
def test_employee_id_is_normalised(employee, variant):
    typed = variant(employee.employee_id)
    assert typed != employee.employee_id

    response = api_login(typed)

    assert response.status_code == 200, response.content
    assert ApiToken.objects.filter(employee=employee).count() == 1


def test_me_with_bearer_token(db):
    department = Department.objects.create(code="OPS", name="运营部")
    employee = make_employee("李四", department=department, roles=("auditor",))
    token = api_login(employee).json()["token"]

    response = Client().get("/api/v1/me", headers=bearer(token))

    assert response.status_code == 200
    body = response.json()
    assert body["employee_id"] == employee.employee_id
    assert body["name"] == "李四"
    assert body["department"] == {"id": department.pk, "code": "OPS", "name": "运营部"}
    assert [role["code"] for role in body["roles"]] == ["auditor"]
    assert {"audit.view", "audit.verify"} <= set(body["permissions"])
    assert "employee.manage" not in body["permissions"]
    assert body["must_change_password"] is False


def test_me_without_roles_has_no_permissions(employee):
    token = api_login(employee).json()["token"]
    body = Client().get("/api/v1/me", headers=bearer(token)).json()
    assert body["roles"] == []
    assert body["permissions"] == []
    assert body["department"] is None


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_typed",
    [
        pytest.param(_wrong_check_digit, id="wrong-check-digit"),
        pytest.param(lambda e: e[:-2] + e[-1] + e[-2], id="swapped-digits"),
        pytest.param(lambda e: e + "1", id="extra-digit"),
        pytest.param(lambda e: "E1", id="too-short"),
        pytest.param(lambda e: "E" + "1" * 19, id="too-many-digits"),
        pytest.param(lambda e: "张三", id="a-name"),
        pytest.param(lambda e: "E00-00?12", id="punctuation"),
        pytest.param(lambda e: "' OR 1=1 --", id="injection"),
    ],
)
def test_malformed_employee_id_is_refused_before_lookup(employee, make_typed):
    typed = make_typed(employee.employee_id)
    assert not is_valid(normalise(typed))  # the case really is malformed

    with CaptureQueriesContext(connection) as queries:
        response = api_login(typed)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_employee_id"
    assert "not a valid 工号" in body["message"]
    employee_table = Employee._meta.db_table
    looked_up = [q["sql"] for q in queries if employee_table in q["sql"]]
    assert looked_up == []
    assert failure_reasons() == ["malformed"]
    assert reload(employee).failed_login_count == 0


def test_unknown_employee_id_and_wrong_password_get_the_same_answer(employee):
    unknown = api_login(UNKNOWN_ID)
    wrong = api_login(employee, "Wrong-Password-0000")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.json()["code"] == "invalid_credentials"
    assert unknown["WWW-Authenticate"] == wrong["WWW-Authenticate"] == "Bearer"
    # Also in Chinese, the two answers cannot be told apart.
    unknown_zh = api_login(UNKNOWN_ID, language="zh-hans")
    wrong_zh = api_login(employee, "Wrong-Password-0000", language="zh-hans")
    assert unknown_zh.json() == wrong_zh.json()
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"employee_id": 12345, "password": PASSWORD}, id="id-is-a-number"),
        pytest.param({"employee_id": "{id}", "password": 12345678}, id="password-is-a-number"),
        pytest.param({"employee_id": "{id}", "password": [PASSWORD]}, id="password-is-a-list"),
        pytest.param({"employee_id": ["{id}"], "password": PASSWORD}, id="id-is-a-list"),
        pytest.param({"employee_id": None, "password": PASSWORD}, id="id-is-null"),
        pytest.param({"employee_id": "{id}", "password": None}, id="password-is-null"),
        pytest.param({"employee_id": "", "password": PASSWORD}, id="id-empty"),
        pytest.param({"employee_id": "{id}", "password": ""}, id="password-empty"),
        pytest.param({"employee_id": "{id}"}, id="password-missing"),
        pytest.param({"password": PASSWORD}, id="id-missing"),
        pytest.param({"employee_id": "E" * 65, "password": PASSWORD}, id="id-huge"),
        pytest.param({"employee_id": "{id}", "password": "x" * 4097}, id="password-huge"),
        pytest.param({"employee_id": "{id}", "password": "x", "name": "n" * 101}, id="name-huge"),
    ],
)
def test_bad_payloads_are_refused_and_change_nothing(employee, body):
    body = {k: (employee.employee_id if v == "{id}" else v) for k, v in body.items()}
    before = AuditEvent.objects.count()

    for _attempt in range(6):  # more than the lockout threshold
        response = Client().post(
            TOKEN_URL, body, content_type="application/json", headers={"Accept-Language": "en"}
        )
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "validation_error"

    assert AuditEvent.objects.count() == before
    fresh = reload(employee)
    assert fresh.failed_login_count == 0
    assert fresh.last_failed_login_at is None
    assert fresh.locked_until is None
    assert api_login(employee).status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("not json", "application/json"),
        ("employee_id=E1&password=x", "application/x-www-form-urlencoded"),
        ("x" * 3_000_000, "application/json"),
    ],
    ids=["not-json", "form-encoded", "over-body-limit"],
)
def test_unparseable_bodies_are_client_errors(employee, content, content_type):
    before = AuditEvent.objects.count()
    response = Client().post(TOKEN_URL, content, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert AuditEvent.objects.count() == before
    assert reload(employee).failed_login_count == 0


# --- bearer tokens -----------------------------------------------------------------------------


def test_revoked_token_is_refused(employee, frozen_clock):
    token = api_login(employee).json()["token"]
    ApiToken.objects.filter(employee=employee).update(revoked_at=frozen_clock())

    response = Client().get("/api/v1/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_expired_token_is_refused(employee, frozen_clock):
    token = api_login(employee).json()["token"]
    frozen_clock.advance(hours=11, minutes=59)
    assert Client().get("/api/v1/me", headers=bearer(token)).status_code == 200

    frozen_clock.advance(minutes=1)

    response = Client().get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ghk_not-a-real-token",
        "Bearer not-even-our-prefix",
        "Bearer " + "ghk_" + "a" * 300,
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
)
def test_garbage_tokens_are_refused(employee, header):
    response = Client().get(
        "/api/v1/me", headers={"Authorization": header, "Accept-Language": "en"}
    )
    assert response.status_code == 401


def test_logout_revokes_the_token_used(employee):
    first = api_login(employee).json()["token"]
    second = api_login(employee).json()["token"]

    response = Client().post("/api/v1/auth/logout", headers=bearer(first))

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert Client().get("/api/v1/me", headers=bearer(first)).status_code == 401
    # Only the token used is revoked: the other session goes on.
    assert Client().get("/api/v1/me", headers=bearer(second)).status_code == 200
    revoked = ApiToken.objects.get(token_hash=hashlib.sha256(first.encode()).hexdigest())
    assert revoked.revoked_at is not None
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1
    assert [e.actor_employee_id for e in events("auth.logout")] == [employee.employee_id]
    assert [e.params["token"] for e in events("auth.token.revoke")] == [revoked.prefix]


def test_logout_without_token_is_unauthenticated(db):
    response = Client().post("/api/v1/auth/logout", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert events("auth.logout") == []


def test_tokens_are_stored_hashed_and_the_raw_token_is_nowhere(employee):
    raw = api_login(employee).json()["token"]
    token = ApiToken.objects.get(employee=employee)

    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert len(token.token_hash) == 64
    assert raw.startswith(token.prefix)
    assert len(token.prefix) < len(raw) // 4
    # Dump every table the project and its libraries keep: the token is in none of them.
    dumped = "".join(
        serializers.serialize("json", model._default_manager.all())
        for model in apps.get_models()
        if model._meta.managed
    )
    assert token.token_hash in dumped
    assert raw not in dumped
    assert raw[len(token.prefix) :] not in dumped
