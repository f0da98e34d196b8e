"""Employees through the API and the web pages: create, list, look up, and refuse bad input."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client

from gonghao.accounts.employee_ids import format_number, is_valid
from gonghao.accounts.models import (
    Employee,
    EmployeeIdCounter,
    EmployeeIdRecord,
    EmployeeStatus,
)
from gonghao.accounts.services import issue_token
from gonghao.audit.models import AuditEvent
from gonghao.org.models import Position
from gonghao.testing.kit import ApiClient, make_employee

pytestmark = pytest.mark.django_db


def api_for(employee) -> ApiClient:
    """A client with a real bearer token, issued directly: no Argon2 login per test."""
    return ApiClient(issue_token(employee, name="test")[0])


@pytest.fixture
def admin_api(cast) -> ApiClient:
    return api_for(cast.admin)


def snapshot() -> tuple[int, int, int, int]:
    counter = EmployeeIdCounter.objects.filter(prefix="E").first()
    return (
        Employee.objects.count(),
        EmployeeIdRecord.objects.count(),
        AuditEvent.objects.count(),
        counter.last_value if counter else 0,
    )


def web_client(employee: Employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


# --- POST /api/v1/employees --------------------------------------------------------------------


def test_admin_creates_an_employee(cast, admin_api):
    position = Position.objects.create(code="REP", name="销售代表")
    response = admin_api.post(
        "/api/v1/employees",
        {
            "name": "新员工",
            "department_id": cast.sales_dept.pk,
            "position_id": position.pk,
            "manager": cast.admin.employee_id.lower(),
            "phone": "+86 138 0013 8000",
            "email": "new@example.com",
            "hire_date": "2024-03-01",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"employee_id", "initial_password"}
    assert is_valid(body["employee_id"])

    employee = Employee.objects.get(employee_id=body["employee_id"])
    assert employee.name == "新员工"
    assert employee.department == cast.sales_dept
    assert employee.position == position
    assert employee.manager == cast.admin
    assert str(employee.phone) == "+8613800138000"
    assert employee.hire_date.isoformat() == "2024-03-01"
    assert employee.status == EmployeeStatus.ACTIVE
    assert employee.must_change_password is True
    assert employee.check_password(body["initial_password"])
    assert EmployeeIdRecord.objects.get(employee_id=employee.employee_id).holder == employee

    event = AuditEvent.objects.filter(action="employee.create").get()
    assert event.actor_employee_id == cast.admin.employee_id
    assert event.channel == "api"
    assert event.changes["manager"] == [None, cast.admin.employee_id]
    assert body["initial_password"] not in str(event.changes)

    shown = admin_api.get(f"/api/v1/employees/{employee.employee_id}").json()
    assert shown["department"]["code"] == "SALES"
    assert shown["position"]["code"] == "REP"
    assert shown["manager"] == cast.admin.employee_id


def test_the_new_employee_must_change_the_password_at_first_login(admin_api):
    body = admin_api.post("/api/v1/employees", {"name": "首登"}).json()
    login = ApiClient().post(
        "/api/v1/auth/token",
        {"employee_id": body["employee_id"], "password": body["initial_password"]},
    )
    assert login.status_code == 403
    assert login.json()["code"] == "password_change_required"


def test_each_new_employee_gets_a_fresh_number_and_password(admin_api):
    first = admin_api.post("/api/v1/employees", {"name": "甲"}).json()
    second = admin_api.post("/api/v1/employees", {"name": "乙"}).json()
    assert first["employee_id"] != second["employee_id"]
    assert first["initial_password"] != second["initial_password"]


@pytest.mark.parametrize("who", ["auditor", "security_admin", "employee"])
def test_only_a_system_admin_creates_employees(cast, who):
    api = api_for(getattr(cast, who))
    before = snapshot()
    response = api.post("/api/v1/employees", {"name": "越权"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert snapshot() == before


def test_anonymous_cannot_create_employees(cast):
    before = snapshot()
    response = ApiClient().post("/api/v1/employees", {"name": "匿名"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"
    assert snapshot() == before


BAD_BODIES = [
    ("empty-name", {"name": ""}, "name"),
    ("blank-name", {"name": "   "}, "name"),
    ("10kB-name", {"name": "长" * 10_240}, "name"),
    ("missing-name", {}, "name"),
    ("name-number", {"name": 123}, "name"),
    ("name-list", {"name": ["a"]}, "name"),
    ("name-null", {"name": None}, "name"),
    ("dept-string", {"name": "ok", "department_id": "abc"}, "department_id"),
    ("dept-unknown", {"name": "ok", "department_id": 987_654}, "department_id"),
    ("position-unknown", {"name": "ok", "position_id": 987_654}, "position_id"),
    ("manager-malformed", {"name": "ok", "manager": "E12"}, "manager"),
    ("manager-bad-check", {"name": "ok", "manager": "E0000018"}, "manager"),
    ("manager-unknown", {"name": "ok", "manager": format_number(99_999)}, "manager"),
    ("phone-invalid", {"name": "ok", "phone": "12345"}, "phone"),
    ("phone-text", {"name": "ok", "phone": "call me"}, "phone"),
    ("email-invalid", {"name": "ok", "email": "not-an-email"}, "email"),
    ("email-two-at", {"name": "ok", "email": "a@b@c"}, "email"),
    ("date-text", {"name": "ok", "hire_date": "yesterday"}, "hire_date"),
    ("date-impossible", {"name": "ok", "hire_date": "2024-02-30"}, "hire_date"),
]


def assert_refused(admin_api, cases) -> None:
    for label, body, field in cases:
        before = snapshot()
        response = admin_api.post("/api/v1/employees", body)
        assert response.status_code == 422, (label, response.content)
        error = response.json()
        assert error["code"] == "validation_error", label
        assert error["message"] == "Some fields are not valid.", label
        messages = error["details"]["fields"][field]
        assert messages and all(isinstance(m, str) and m for m in messages), (label, error)
        assert snapshot() == before, label


def test_bad_input_is_a_clear_422_and_changes_nothing(cast, admin_api):
    assert_refused(admin_api, BAD_BODIES)


@pytest.mark.parametrize("name", ["a\x00b", "a\x1b[31mb", "a\nb"])
def test_a_name_with_control_characters_is_refused(admin_api, name):
    assert_refused(admin_api, [(repr(name), {"name": name}, "name")])


def test_the_manager_error_says_what_is_wrong(admin_api):
    error = admin_api.post("/api/v1/employees", {"name": "ok", "manager": "E12"}).json()
    assert error["details"]["fields"]["manager"] == [
        "This is not a valid 工号. Please check it and try again."
    ]


def test_several_bad_references_are_reported_together(admin_api):
    error = admin_api.post(
        "/api/v1/employees",
        {"name": "ok", "department_id": 987_654, "position_id": 987_654, "manager": "x"},
    ).json()
    assert set(error["details"]["fields"]) == {"department_id", "position_id", "manager"}


# --- GET /api/v1/employees ---------------------------------------------------------------------


def test_list_is_paginated(cast, admin_api):
    for index in range(6):
        make_employee(f"批量{index}")
    total = Employee.objects.count()
    first = admin_api.get("/api/v1/employees", {"limit": 4, "offset": 0}).json()
    rest = admin_api.get("/api/v1/employees", {"limit": 100, "offset": 4}).json()
    assert first["count"] == rest["count"] == total == 10
    assert len(first["items"]) == 4
    assert len(rest["items"]) == total - 4
    ids = [e["employee_id"] for e in first["items"] + rest["items"]]
    assert ids == sorted(Employee.objects.values_list("employee_id", flat=True))
    assert set(first["items"][0]) >= {"employee_id", "name", "department", "status"}
    assert "password" not in first["items"][0]


def test_list_page_size_is_bounded(cast, admin_api):
    assert len(admin_api.get("/api/v1/employees", {"limit": 0}).json()["items"]) == 1
    assert len(admin_api.get("/api/v1/employees", {"limit": 10_000}).json()["items"]) == 4
    assert len(admin_api.get("/api/v1/employees", {"offset": -5}).json()["items"]) == 4


def test_list_filters(cast, admin_api):
    departed = make_employee("王离职", department=cast.sales_dept, status=EmployeeStatus.DEPARTED)

    by_name = admin_api.get("/api/v1/employees", {"q": "张"}).json()
    assert [e["employee_id"] for e in by_name["items"]] == [cast.employee.employee_id]

    by_id = admin_api.get("/api/v1/employees", {"q": cast.auditor.employee_id}).json()
    assert [e["name"] for e in by_id["items"]] == ["赵审计"]

    by_dept = admin_api.get("/api/v1/employees", {"department_id": cast.sales_dept.pk}).json()
    assert by_dept["count"] == 2
    assert {e["employee_id"] for e in by_dept["items"]} == {
        cast.employee.employee_id,
        departed.employee_id,
    }

    both = admin_api.get(
        "/api/v1/employees", {"department_id": cast.sales_dept.pk, "status": "departed"}
    ).json()
    assert [e["employee_id"] for e in both["items"]] == [departed.employee_id]
    assert both["items"][0]["status"] == "departed"

    nobody = admin_api.get("/api/v1/employees", {"department_id": cast.service_dept.pk}).json()
    assert nobody == {"items": [], "count": 0}
    assert admin_api.get("/api/v1/employees", {"status": "bogus"}).json()["count"] == 0


@pytest.mark.parametrize(
    "params", [{"department_id": "x"}, {"limit": "many"}, {"q": "q" * 101}, {"status": "s" * 17}]
)
def test_list_refuses_bad_query_parameters(admin_api, params):
    response = admin_api.get("/api/v1/employees", params)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_who_may_list_employees(cast):
    assert api_for(cast.security_admin).get("/api/v1/employees").status_code == 200
    for who in (cast.auditor, cast.employee):
        response = api_for(who).get("/api/v1/employees")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert ApiClient().get("/api/v1/employees").status_code == 401


# --- GET /api/v1/employees/{工号} ---------------------------------------------------------------


def test_get_one_employee_accepts_the_forms_people_type(cast, admin_api):
    eid = cast.employee.employee_id
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in eid)
    for typed in (eid, eid.lower(), f"{eid[:4]}-{eid[4:]}", full_width):
        response = admin_api.get(f"/api/v1/employees/{quote(typed)}")
        assert response.status_code == 200, typed
        body = response.json()
        assert body["employee_id"] == eid
        assert body["name"] == "张三"
        assert body["department"] == {"id": cast.sales_dept.pk, "code": "SALES", "name": "销售部"}


@pytest.mark.parametrize("typed", ["E12", "hello", "E0000018", "E0000071", "%20"])
def test_get_a_malformed_number_is_400(cast, admin_api, typed):
    response = admin_api.get(f"/api/v1/employees/{typed}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_employee_id"
    assert response.json()["message"] == "This is not a valid 工号. Please check it and try again."


def test_get_an_unknown_number_is_404(admin_api):
    response = admin_api.get(f"/api/v1/employees/{format_number(99_999)}")
    assert response.status_code == 404
    assert response.json()["code"] == "employee_not_found"


def test_get_one_needs_the_view_permission(cast):
    response = api_for(cast.auditor).get(f"/api/v1/employees/{cast.employee.employee_id}")
    assert response.status_code == 403


# --- web pages ---------------------------------------------------------------------------------


def test_employee_list_page(cast):
    for index in range(25):
        make_employee(f"翻页{index:02d}")
    client = web_client(cast.admin)
    page_one = client.get("/employees/")
    assert page_one.status_code == 200
    html = page_one.content.decode()
    assert f'href="/employees/{cast.admin.employee_id}/"' in html
    assert "Page 1 of 2" in html
    assert "29 records" in html
    assert 'href="/employees/new/"' in html
    page_two = client.get("/employees/", {"page": 2}).content.decode()
    assert "Page 2 of 2" in page_two
    last = f'href="/employees/{Employee.objects.order_by("employee_id").last().employee_id}/"'
    assert last in page_two and last not in html

    found = client.get("/employees/", {"q": "张三"}).content.decode()
    assert f'href="/employees/{cast.employee.employee_id}/"' in found
    assert f'href="/employees/{cast.admin.employee_id}/"' not in found
    assert "1 record" in found


def test_employee_pages_need_permission(cast):
    client = web_client(cast.employee)
    before = snapshot()
    assert client.get("/employees/").status_code == 403
    assert client.get("/employees/new/").status_code == 403
    assert client.post("/employees/new/", {"name": "越权"}).status_code == 403
    assert client.get(f"/employees/{cast.admin.employee_id}/").status_code == 403
    assert snapshot() == before
    anonymous = Client().get("/employees/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    # A security administrator views but does not create.
    viewer = web_client(cast.security_admin)
    assert viewer.get("/employees/").status_code == 200
    assert 'href="/employees/new/"' not in viewer.get("/employees/").content.decode()
    assert viewer.get("/employees/new/").status_code == 403


def test_admin_creates_an_employee_and_sees_the_password_once(cast):
    client = web_client(cast.admin)
    before = Employee.objects.count()
    response = client.post(
        "/employees/new/",
        {"name": "网页新人", "department": cast.sales_dept.pk, "phone": "13800138000"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="created"' in html
    created = Employee.objects.get(name="网页新人")
    assert Employee.objects.count() == before + 1
    assert created.employee_id in html
    assert created.department == cast.sales_dept
    assert created.must_change_password is True
    password = re.search(r'<code class="user-select-all">([^<]+)</code>', html).group(1)
    assert created.check_password(password)

    again = client.get("/employees/new/").content.decode()
    assert password not in again
    assert 'data-testid="created"' not in again
    assert password not in client.get(f"/employees/{created.employee_id}/").content.decode()


def test_employee_form_shows_errors_beside_the_field_and_creates_nothing(cast):
    client = web_client(cast.admin)
    before = snapshot()
    response = client.post(
        "/employees/new/", {"name": "", "phone": "12345", "email": "x", "manager": "E12"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="created"' not in html
    assert html.count("invalid-feedback") >= 3
    assert "This field is required." in html
    assert "Enter a valid email address." in html
    assert snapshot() == before

    response = client.post("/employees/new/", {"name": "好名字", "manager": "E12"})
    html = response.content.decode()
    assert "This is not a valid 工号" in html
    assert snapshot() == before


def test_employee_detail_page(cast):
    client = web_client(cast.admin)
    eid = cast.employee.employee_id
    response = client.get(f"/employees/{eid}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert eid in html and "张三" in html and "销售部" in html
    assert client.get(f"/employees/{eid.lower()}/").status_code == 200
    assert client.get(f"/employees/{format_number(99_999)}/").status_code == 404
    assert client.get("/employees/E12/").status_code == 404
