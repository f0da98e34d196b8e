"""The "why" explainer: which grants give an employee a permission, and who holds one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from gonghao.accounts.employee_ids import format_number
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import api_for, make_employee

pytestmark = pytest.mark.django_db

WHY = "/api/v1/access/why"
WHO = "/api/v1/access/who"


@pytest.fixture
def crm(db):
    return make_crm_cast()


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def test_why_names_every_grant_that_gives_the_permission(crm, frozen_clock):
    until = frozen_clock() + timedelta(days=7)
    response = api_for(crm.security_admin).post(
        f"/api/v1/employees/{crm.rep_a.employee_id}/roles",
        {"role": "department_head", "expires_at": until.isoformat()},
    )
    assert response.status_code == 201
    api = api_for(crm.head)

    body = api.get(WHY, {"employee_id": crm.rep_a.employee_id, "permission": "customer.view"})
    assert body.status_code == 200
    body = body.json()
    assert body["employee_id"] == crm.rep_a.employee_id
    assert body["permission"] == "customer.view"
    assert body["allowed"] is True
    because = {item["role"]: item for item in body["because"]}
    assert set(because) == {"department_head", "sales"}
    assert because["sales"]["data_scope"] == "own"
    assert because["sales"]["granted_by"] is None  # seeded by the system
    assert because["sales"]["expires_at"] is None
    assert because["department_head"]["data_scope"] == "department_tree"
    assert because["department_head"]["granted_by"] == crm.security_admin.employee_id
    assert because["department_head"]["expires_at"].startswith(until.date().isoformat())
    assert because["department_head"]["role_name"] == "Department head"

    # Only the grant that carries the permission is named.
    body = api.get(WHY, {"employee_id": crm.rep_a.employee_id, "permission": "customer.export"})
    assert [item["role"] for item in body.json()["because"]] == ["department_head"]

    # A 工号 typed with spaces and in lower case is the same employee.
    typed = " " + crm.rep_a.employee_id.lower()
    assert api.get(WHY, {"employee_id": typed, "permission": "customer.view"}).status_code == 200


def test_why_answers_no_when_nothing_gives_it(crm, frozen_clock):
    api = api_for(crm.head)
    for employee, permission in (
        (crm.rep_a, "audit.view"),
        (crm.nobody, "customer.view"),
        (crm.admin, "audit.view"),  # 等保: the system administrator does not read the audit log
        (crm.auditor, "customer.view"),
    ):
        body = api.get(WHY, {"employee_id": employee.employee_id, "permission": permission})
        assert body.status_code == 200
        assert body.json()["allowed"] is False, (employee, permission)
        assert body.json()["because"] == []

    # An expired grant gives nothing either.
    api_for(crm.security_admin).post(
        f"/api/v1/employees/{crm.nobody.employee_id}/roles",
        {"role": "sales", "expires_at": (frozen_clock() + timedelta(hours=1)).isoformat()},
    )
    query = {"employee_id": crm.nobody.employee_id, "permission": "customer.view"}
    assert api.get(WHY, query).json()["allowed"] is True
    frozen_clock.advance(hours=2)
    assert api.get(WHY, query).json()["allowed"] is False


def test_why_refuses_bad_questions(crm):
    api = api_for(crm.head)
    unknown_id = format_number(999_999)
    cases = [
        ({"employee_id": crm.rep_a.employee_id, "permission": "customer.fly"}, 422, "permission"),
        ({"employee_id": "E12345", "permission": "customer.view"}, 400, None),
        ({"employee_id": "不是工号", "permission": "customer.view"}, 400, None),
        ({"employee_id": unknown_id, "permission": "customer.view"}, 404, None),
        ({"permission": "customer.view"}, 422, "employee_id"),
        ({"employee_id": crm.rep_a.employee_id}, 422, "permission"),
    ]
    for params, status, field in cases:
        response = api.get(WHY, params)
        assert response.status_code == status, (params, response.content)
        body = response.json()
        if status == 400:
            assert body["code"] == "invalid_employee_id"
        if status == 404:
            assert body["code"] == "employee_not_found"
        if field:
            assert field in body["details"]["fields"]
    response = api.get(WHO, {"permission": "customer.fly"})
    assert response.status_code == 422
    assert response.json()["details"]["fields"]["permission"] == ["Unknown permission."]


def test_who_lists_every_active_holder(crm):
    departed = make_employee("离职者", roles=("sales",), status="departed")
    disabled = make_employee("停用者", roles=("sales",), status="disabled")
    api_for(crm.security_admin).delete(f"/api/v1/employees/{crm.rep_c.employee_id}/roles/sales")
    response = api_for(crm.admin).get(WHO, {"permission": "customer.view"})
    assert response.status_code == 200
    body = response.json()
    assert body["permission"] == "customer.view"
    holders = {(item["employee_id"], item["grant"]["role"]) for item in body["items"]}
    assert holders == {
        (crm.admin.employee_id, "system_admin"),
        (crm.head.employee_id, "department_head"),
        (crm.rep_a.employee_id, "sales"),
        (crm.rep_b.employee_id, "sales"),
        (crm.agent.employee_id, "customer_service"),
    }
    assert body["count"] == 5
    ids = {item["employee_id"] for item in body["items"]}
    assert not ids & {departed.employee_id, disabled.employee_id, crm.rep_c.employee_id}
    assert [item["employee_id"] for item in body["items"]] == sorted(
        item["employee_id"] for item in body["items"]
    )

    body = api_for(crm.admin).get(WHO, {"permission": "audit.verify"}).json()
    assert [item["employee_id"] for item in body["items"]] == [crm.auditor.employee_id]


def test_why_and_who_need_role_view(crm):
    query = {"employee_id": crm.rep_a.employee_id, "permission": "customer.view"}
    for employee in (crm.auditor, crm.rep_a, crm.agent, crm.nobody):
        api = api_for(employee)
        assert api.get(WHY, query).status_code == 403
        assert api.get(WHO, {"permission": "customer.view"}).status_code == 403
        assert browser(employee).get("/access/why/", query).status_code == 403
    for employee in (crm.admin, crm.security_admin, crm.head):
        assert api_for(employee).get(WHY, query).status_code == 200


def test_why_page_shows_the_answer(crm):
    client = browser(crm.security_admin)
    response = client.get("/access/why/")
    assert response.status_code == 200
    assert response.context["answer"] is None

    response = client.get(
        "/access/why/", {"employee_id": crm.rep_a.employee_id, "permission": "customer.view"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{crm.rep_a.employee_id} can <code>customer.view</code> because of:" in html
    assert "Sales (Own records)" in html
    assert "Everyone who can" in html
    assert crm.agent.employee_id in html  # customer service holds customer.view
    assert [r.role.code for r in response.context["answer"]["reasons"]] == ["sales"]

    response = client.get(
        "/access/why/", {"employee_id": crm.rep_a.employee_id, "permission": "audit.view"}
    )
    html = response.content.decode()
    assert f"{crm.rep_a.employee_id} cannot <code>audit.view</code>" in html
    assert crm.auditor.employee_id in html  # listed among everyone who can

    response = client.get("/access/why/", {"employee_id": "E12", "permission": "audit.view"})
    assert response.status_code == 200
    assert response.context["answer"] is None
    assert "not a valid 工号" in response.context["form"].errors["employee_id"][0]
