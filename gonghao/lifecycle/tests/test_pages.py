"""The onboarding pages: the queue, the request form with errors beside fields, the buttons."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gonghao.accounts.models import Employee, EmployeeIdRecord, EmployeeIdState
from gonghao.audit.models import AuditEvent
from gonghao.lifecycle.models import EmployeeRequest

BASE = "/employees/requests/"


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def form_data(world, **overrides) -> dict:
    data = {
        "name": "页面新人",
        "department": world.sales.pk,
        "position": "",
        "manager": "",
        "phone": "",
        "email": "ye@example.cn",
        "roles": ["sales"],
        "start_date": "2026-12-01",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_file_approve_through_the_pages(world):
    head = browser(world.head)
    response = head.post(f"{BASE}new/", form_data(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    request = EmployeeRequest.objects.get()
    assert response["Location"] == f"{BASE}{request.pk}/"
    page = head.get(response["Location"]).content.decode()
    assert request.id_record.employee_id in page
    assert 'data-testid="approve"' not in page

    approver = browser(world.approver)
    queue = approver.get(f"{BASE}?status=submitted").content.decode()
    assert request.id_record.employee_id in queue
    detail = approver.get(f"{BASE}{request.pk}/").content.decode()
    assert 'data-testid="approve"' in detail and 'data-testid="reject"' in detail
    approved = approver.post(f"{BASE}{request.pk}/approve/")
    assert approved.status_code == 200
    text = approved.content.decode()
    match = re.search(r'<code class="user-select-all">([^<]+)</code>', text)
    assert match
    employee = Employee.objects.get(employee_id=request.id_record.employee_id)
    assert employee.check_password(match.group(1).replace("&amp;", "&"))
    assert employee.must_change_password
    # Shown once: the next view of the page has no password.
    assert "user-select-all" not in approver.get(f"{BASE}{request.pk}/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language, message", [("en", "Enter a valid"), ("zh-hans", "有效")])
def test_form_errors_show_beside_the_fields_and_store_nothing(world, language, message):
    head = browser(world.head, language)
    before = (EmployeeRequest.objects.count(), EmployeeIdRecord.objects.count())
    response = head.post(f"{BASE}new/", form_data(world, email="nope", name=""))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("invalid-feedback") >= 2
    assert message in page
    assert (EmployeeRequest.objects.count(), EmployeeIdRecord.objects.count()) == before


@pytest.mark.django_db
def test_out_of_tree_department_is_shown_on_the_form(world):
    head = browser(world.head)
    response = head.post(f"{BASE}new/", form_data(world, department=world.service.pk))
    assert response.status_code == 200
    assert "form-errors" in response.content.decode()
    assert not EmployeeRequest.objects.exists()


@pytest.mark.django_db
def test_reject_needs_a_reason_on_the_page(world):
    browser(world.head).post(f"{BASE}new/", form_data(world))
    request = EmployeeRequest.objects.get()
    approver = browser(world.approver)
    events = AuditEvent.objects.count()
    refused = approver.post(f"{BASE}{request.pk}/reject/", {"reason": ""})
    assert refused.status_code == 200
    assert "invalid-feedback" in refused.content.decode()
    assert AuditEvent.objects.count() == events
    rejected = approver.post(f"{BASE}{request.pk}/reject/", {"reason": "不需要"})
    assert rejected.status_code == 302
    request.refresh_from_db()
    assert request.status == "rejected"
    assert request.id_record.state == EmployeeIdState.RETIRED


@pytest.mark.django_db
def test_return_edit_and_withdraw_pages(world):
    head = browser(world.head)
    head.post(f"{BASE}new/", form_data(world))
    request = EmployeeRequest.objects.get()
    browser(world.approver).post(f"{BASE}{request.pk}/return/", {"reason": "改名"})
    request.refresh_from_db()
    assert request.status == "returned"
    assert head.get(f"{BASE}{request.pk}/edit/").status_code == 200
    edited = head.post(f"{BASE}{request.pk}/edit/", form_data(world, name="新名字"))
    assert edited.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.name) == ("submitted", "新名字")
    assert head.post(f"{BASE}{request.pk}/withdraw/").status_code == 302
    request.refresh_from_db()
    assert request.status == "withdrawn"


@pytest.mark.django_db
def test_pages_refuse_employees_without_the_permissions(world):
    nobody = browser(world.nobody)
    assert nobody.get(BASE).status_code == 403
    assert nobody.get(f"{BASE}new/").status_code == 403
    assert browser(world.approver).get(f"{BASE}new/").status_code == 403
    assert browser(world.head).get(f"{BASE}999/").status_code == 404


@pytest.mark.django_db
def test_the_edit_form_is_only_for_the_requester_of_a_returned_request(world):
    from gonghao.lifecycle import services

    filed = services.file_request(
        actor=world.head,
        fields=services.resolve_fields(name="编辑新人", department_id=world.sales.pk, roles=[]),
    )
    edit = f"{BASE}{filed.pk}/edit/"
    # An approver may see the request but not edit it: no form that could only fail on submit.
    assert browser(world.approver).get(edit).status_code == 403
    # The requester, while it is with the approvers: back to the request, with the reason.
    response = browser(world.head).get(edit)
    assert response.status_code == 302 and response.url == f"{BASE}{filed.pk}/"
    services.return_request(filed, actor=world.approver, reason="补充材料")
    assert browser(world.head).get(edit).status_code == 200
