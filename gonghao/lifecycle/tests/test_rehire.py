"""Rehiring: a new 工号 linked to the old one, through the employee API and form and through
onboarding requests; refusals change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.accounts.employee_ids import format_number
from gonghao.accounts.models import Employee, EmployeeIdRecord
from gonghao.audit.models import AuditEvent
from gonghao.lifecycle.models import EmployeeRequest
from gonghao.lifecycle.offboarding import offboard_employee
from gonghao.testing.kit import api_for, make_employee

from .conftest import make_world


@pytest.fixture
def client():
    """Pages in English: these tests read English text (the default language is zh-Hans)."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def former(cast):
    person = make_employee("回归者", department=cast.sales_dept)
    offboard_employee(person, actor=cast.admin, successor=None)
    person.refresh_from_db()
    return person


@pytest.mark.django_db
def test_rehire_through_the_employee_api_links_both_ways(cast, former):
    admin = api_for(cast.admin)
    response = admin.post("/api/v1/employees", {"name": "回归者", "rehire_of": former.employee_id})
    assert response.status_code == 201, response.content
    new_id = response.json()["employee_id"]
    assert new_id != former.employee_id
    rehired = Employee.objects.get(employee_id=new_id)
    assert rehired.rehire_of == former
    assert admin.get(f"/api/v1/employees/{new_id}").json()["rehire_of"] == former.employee_id
    old = admin.get(f"/api/v1/employees/{former.employee_id}").json()
    assert old["rehired_as"] == [new_id] and old["status"] == "departed"
    listed = admin.get("/api/v1/employees", {"q": new_id}).json()["items"][0]
    assert listed["rehire_of"] == former.employee_id
    created = AuditEvent.objects.get(action="employee.create", target_id=str(rehired.pk))
    assert created.changes["rehire_of"] == [None, former.employee_id]


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["active", "unknown", "malformed", "twice"])
def test_rehire_refusals_create_nothing(cast, former, case):
    admin = api_for(cast.admin)
    if case == "active":
        target = cast.employee.employee_id
    elif case == "unknown":
        target = format_number(999999)  # well-formed, never issued
    elif case == "malformed":
        target = "E12"
    else:
        admin.post("/api/v1/employees", {"name": "第一次", "rehire_of": former.employee_id})
        target = former.employee_id
    employees, ids = Employee.objects.count(), EmployeeIdRecord.objects.count()
    response = admin.post("/api/v1/employees", {"name": "被拒", "rehire_of": target})
    assert response.status_code == 422, response.content
    assert list(response.json()["details"]["fields"]) == ["rehire_of"]
    assert (Employee.objects.count(), EmployeeIdRecord.objects.count()) == (employees, ids)


@pytest.mark.django_db
def test_rehire_through_an_onboarding_request():
    world = make_world()
    former = make_employee("老员工", department=world.sales)
    offboard_employee(former, actor=world.approver, successor=None)
    response = api_for(world.head).post(
        "/api/v1/employee-requests",
        {
            "name": "老员工",
            "department_id": world.sales.pk,
            "roles": [],
            "rehire_of": former.employee_id,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["rehire_of"] == former.employee_id
    assert body["employee_id"] != former.employee_id
    approved = api_for(world.approver).post(f"/api/v1/employee-requests/{body['id']}/approve")
    assert approved.status_code == 200
    employee = Employee.objects.get(employee_id=approved.json()["employee_id"])
    assert employee.rehire_of == former

    refused = api_for(world.head).post(
        "/api/v1/employee-requests",
        {"name": "在职", "department_id": world.sales.pk, "rehire_of": world.nobody.employee_id},
    )
    assert refused.status_code == 422
    assert list(refused.json()["details"]["fields"]) == ["rehire_of"]
    assert EmployeeRequest.objects.count() == 1


@pytest.mark.django_db
def test_rehire_shown_on_both_employee_pages_and_the_request_page(client):
    world = make_world()
    former = make_employee("老员工", department=world.sales)
    offboard_employee(former, actor=world.approver, successor=None)
    client.force_login(world.head)
    response = client.post(
        "/employees/requests/new/",
        {
            "name": "老员工",
            "department": world.sales.pk,
            "email": "",
            "phone": "",
            "manager": "",
            "rehire_of": former.employee_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    request = EmployeeRequest.objects.get()
    assert request.rehire_of == former
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="rehire-of"' in page and former.employee_id in page

    bad = client.post(
        "/employees/requests/new/",
        {"name": "在职", "department": world.sales.pk, "rehire_of": world.nobody.employee_id},
    )
    assert bad.status_code == 200
    assert "Only a departed employee can be rehired" in bad.content.decode()

    approver = client
    approver.force_login(world.approver)
    approver.post(f"/employees/requests/{request.pk}/approve/")
    new = Employee.objects.get(rehire_of=former)
    new_page = approver.get(f"/employees/{new.employee_id}/").content.decode()
    assert 'data-testid="rehire-of"' in new_page and former.employee_id in new_page
    old_page = approver.get(f"/employees/{former.employee_id}/").content.decode()
    assert 'data-testid="rehired-as"' in old_page and new.employee_id in old_page


@pytest.mark.django_db
def test_rehire_through_the_employee_form(cast, former, client):
    client.force_login(cast.admin)
    response = client.post(
        "/employees/new/",
        {"name": "回归者", "rehire_of": former.employee_id, "phone": "", "email": ""},
    )
    assert response.status_code == 200
    assert Employee.objects.filter(rehire_of=former).exists()
    bad = client.post("/employees/new/", {"name": "x", "rehire_of": cast.employee.employee_id})
    assert "Only a departed employee can be rehired" in bad.content.decode()
