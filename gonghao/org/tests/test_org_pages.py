"""The department and position pages: everyone reads a paginated list, administrators add."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.audit.models import AuditEvent
from gonghao.org.models import Department, Position

pytestmark = pytest.mark.django_db

DEPARTMENTS = "/org/departments/"
POSITIONS = "/org/positions/"


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def state() -> tuple:
    return (
        list(Department.objects.order_by("pk").values_list()),
        list(Position.objects.order_by("pk").values_list()),
        AuditEvent.objects.count(),
    )


def field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


# --- reading -----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(cast):
    for path in (DEPARTMENTS, POSITIONS):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", [DEPARTMENTS, POSITIONS])
def test_a_plain_employee_sees_the_list_but_no_form(cast, path):
    Position.objects.create(code="REP", name="销售代表")
    response = browser(cast.employee).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert ("销售部" in html) if path == DEPARTMENTS else ("销售代表" in html)
    assert 'name="code"' not in html
    assert response.context["form"] is None
    assert "New department" not in html and "New position" not in html


@pytest.mark.parametrize("path", [DEPARTMENTS, POSITIONS])
def test_a_post_by_a_plain_employee_creates_nothing(cast, path):
    client = browser(cast.employee)
    before = state()
    response = client.post(path, {"code": "HACK", "name": "越权"})
    assert response.status_code == 302
    assert response["Location"] == path
    assert state() == before


@pytest.mark.parametrize("who", ["auditor", "security_admin"])
def test_other_duties_read_but_do_not_write(cast, who):
    client = browser(getattr(cast, who))
    before = state()
    assert client.get(DEPARTMENTS).status_code == 200
    client.post(DEPARTMENTS, {"code": "HACK", "name": "越权"})
    client.post(POSITIONS, {"code": "HACK", "name": "越权"})
    assert state() == before


def test_department_list_paginates(cast):
    Department.objects.bulk_create(
        Department(code=f"D{index:02d}", name=f"部门{index:02d}") for index in range(30)
    )
    client = browser(cast.employee)
    first = client.get(DEPARTMENTS).content.decode()
    assert "Page 1 of 2" in first
    assert "32 records" in first
    assert "<code>D00</code>" in first and "<code>SERVICE</code>" not in first
    second = client.get(DEPARTMENTS, {"page": 2}).content.decode()
    assert "Page 2 of 2" in second
    assert "<code>SERVICE</code>" in second and "<code>D00</code>" not in second


def test_position_list_paginates(cast):
    Position.objects.bulk_create(
        Position(code=f"P{index:02d}", name=f"岗位{index:02d}") for index in range(26)
    )
    client = browser(cast.employee)
    assert "Page 1 of 2" in client.get(POSITIONS).content.decode()
    second = client.get(POSITIONS, {"page": 2}).content.decode()
    assert "<code>P25</code>" in second and "<code>P00</code>" not in second


def test_htmx_gets_only_the_table(cast):
    response = browser(cast.employee).get(DEPARTMENTS, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<table" in html and "<code>SALES</code>" in html
    assert "<html" not in html.lower()


# --- creating ----------------------------------------------------------------------------------


def test_admin_creates_a_department(cast):
    client = browser(cast.admin)
    page = client.get(DEPARTMENTS).content.decode()
    assert 'name="code"' in page and "New department" in page

    response = client.post(
        DEPARTMENTS,
        {
            "code": "EAST",
            "name": "华东区",
            "parent": cast.sales_dept.pk,
            "head": cast.employee.employee_id.lower(),
        },
        follow=True,
    )
    assert response.redirect_chain == [(DEPARTMENTS, 302)]
    department = Department.objects.get(code="EAST")
    assert department.parent == cast.sales_dept
    assert department.head == cast.employee
    html = response.content.decode()
    assert "Department 华东区 created." in html
    assert "<code>EAST</code>" in html
    event = AuditEvent.objects.filter(action="department.create").get()
    assert event.actor_employee_id == cast.admin.employee_id
    assert event.channel == "web"


def test_admin_creates_a_position(cast):
    response = browser(cast.admin).post(POSITIONS, {"code": "CS", "name": "客服专员"}, follow=True)
    assert response.redirect_chain == [(POSITIONS, 302)]
    assert Position.objects.get(code="CS").name == "客服专员"
    assert "Position 客服专员 created." in response.content.decode()
    assert AuditEvent.objects.filter(action="position.create").count() == 1


@pytest.mark.parametrize("path", [DEPARTMENTS, POSITIONS])
def test_form_errors_are_shown_beside_the_field_in_english(cast, path):
    client = browser(cast.admin, "en")
    before = state()
    response = client.post(path, {"code": "", "name": ""})
    assert response.status_code == 200
    assert field_errors(response, "code") == ["This field is required."]
    assert field_errors(response, "name") == ["This field is required."]
    html = response.content.decode()
    assert html.count('class="invalid-feedback d-block">This field is required.</div>') == 2
    assert 'data-testid="form-errors"' not in html
    assert state() == before


def test_form_errors_are_in_chinese_for_chinese_readers(cast):
    response = browser(cast.admin, "zh-hans").post(DEPARTMENTS, {"code": "", "name": "x"})
    assert response.status_code == 200
    assert field_errors(response, "code") == ["这个字段是必填项。"]


@pytest.mark.parametrize("path", [DEPARTMENTS, POSITIONS])
def test_invalid_values_are_shown_beside_the_field(cast, path):
    client = browser(cast.admin)
    for data, field in (
        ({"code": "销售", "name": "x"}, "code"),
        ({"code": "a b", "name": "x"}, "code"),
        ({"code": "A" * 33, "name": "x"}, "code"),
        ({"code": "OK", "name": "名" * 101}, "name"),
        ({"code": "OK", "name": "a\x00b"}, "name"),
        ({"code": "OK", "name": "a\x1bb"}, "name"),
        ({"code": "OK", "name": "a\x7fb"}, "name"),
    ):
        before = state()
        response = client.post(path, data)
        assert response.status_code == 200, data
        assert field_errors(response, field), (data, response.context["form"].errors)
        assert not response.context["form"].non_field_errors(), data
        assert 'class="invalid-feedback d-block">' in response.content.decode()
        assert state() == before, data


def test_the_code_rule_is_explained_in_english(cast):
    response = browser(cast.admin).post(DEPARTMENTS, {"code": "a b", "name": "x"})
    assert field_errors(response, "code") == [
        "Use 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit."
    ]


@pytest.mark.parametrize("path", [DEPARTMENTS, POSITIONS])
def test_a_duplicate_code_is_shown_beside_the_code(cast, path):
    Position.objects.create(code="REP", name="销售代表")
    code = "sales" if path == DEPARTMENTS else "rep"
    client = browser(cast.admin)
    before = state()
    response = client.post(path, {"code": code, "name": "重复"})
    assert response.status_code == 200
    assert field_errors(response, "code") == [
        "A department with this code already exists."
        if path == DEPARTMENTS
        else "A position with this code already exists."
    ]
    assert state() == before


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ("E12", "This is not a valid 工号. Please check it and try again."),
        ("E0009995", "No employee has this 工号."),
    ],
)
def test_a_bad_head_is_shown_beside_the_head_field(cast, head, message):
    client = browser(cast.admin)
    before = state()
    response = client.post(DEPARTMENTS, {"code": "NEW", "name": "新", "head": head})
    assert response.status_code == 200
    assert field_errors(response, "head") == [message]
    assert state() == before


def test_an_unknown_parent_is_refused(cast):
    client = browser(cast.admin)
    before = state()
    response = client.post(DEPARTMENTS, {"code": "NEW", "name": "新", "parent": 987})
    assert response.status_code == 200
    assert field_errors(response, "parent")
    assert state() == before
