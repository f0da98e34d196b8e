"""Segregation of duties: pairs of roles or permissions one employee may not hold together."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.access.models import Role, RoleGrant, SodRule
from gonghao.audit.models import AuditEvent
from gonghao.testing.kit import api_for, make_employee

pytestmark = pytest.mark.django_db


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def state() -> tuple:
    return (
        list(RoleGrant.objects.order_by("pk").values_list("pk", "role__code", "revoked_at")),
        list(Role.objects.order_by("pk").values_list("code", "permissions", "data_scope")),
        AuditEvent.objects.filter(action__startswith="role.").count(),
    )


def grant(api, employee, role: str):
    return api.post(f"/api/v1/employees/{employee.employee_id}/roles", {"role": role})


def test_the_auditor_cannot_also_be_an_administrator(cast):
    other_security_admin = make_employee("孙安全", roles=("security_admin",))
    api = api_for(cast.security_admin)
    before = state()
    cases = [
        (cast.admin, "auditor", "auditor-vs-system-admin"),
        (cast.auditor, "system_admin", "auditor-vs-system-admin"),
        (other_security_admin, "auditor", "auditor-vs-security-admin"),
        (cast.auditor, "security_admin", "auditor-vs-security-admin"),
    ]
    for holder, role, rule in cases:
        response = grant(api, holder, role)
        assert response.status_code == 409, (role, response.content)
        body = response.json()
        assert body["code"] == "sod_conflict"
        assert body["details"] == {"rule": rule}
        assert rule in body["message"]
        assert body["message"].startswith("Segregation of duties:")
        assert "cannot be held by one employee" in body["message"]
    assert state() == before
    # Without a conflict the same roles are granted.
    assert grant(api, cast.employee, "auditor").status_code == 201


def test_the_message_is_in_the_callers_language(cast):
    response = grant(api_for(cast.security_admin, language="zh-hans"), cast.admin, "auditor")
    assert response.status_code == 409
    assert "auditor-vs-system-admin" in response.json()["message"]
    assert not response.json()["message"].startswith("Segregation of duties")


def test_a_permission_rule_blocks_grants(cast):
    SodRule.objects.create(
        code="audit-vs-employee-admin", left="perm:audit.view", right="perm:employee.manage"
    )
    Role.objects.create(
        code="hr", name_zh="人事", name_en="HR", permissions=["employee.view", "employee.manage"]
    )
    hr_clerk = make_employee("钱人事", roles=("hr",))
    api = api_for(cast.security_admin)
    before = state()
    response = grant(api, hr_clerk, "auditor")
    assert response.status_code == 409
    assert response.json()["details"] == {"rule": "audit-vs-employee-admin"}
    assert state() == before

    # A rule switched off no longer blocks.
    SodRule.objects.filter(code="audit-vs-employee-admin").update(is_active=False)
    assert grant(api, hr_clerk, "auditor").status_code == 201


def test_a_role_edit_that_would_breach_a_rule_is_refused(cast):
    SodRule.objects.create(
        code="audit-vs-employee-admin", left="perm:audit.view", right="perm:employee.manage"
    )
    api = api_for(cast.security_admin)
    system_admin = Role.objects.get(code="system_admin")
    before = state()
    response = api.patch(
        "/api/v1/roles/system_admin", {"permissions": [*system_admin.permissions, "audit.view"]}
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "sod_conflict"
    assert response.json()["details"] == {"rule": "audit-vs-employee-admin"}
    assert state() == before
    assert "audit.view" not in Role.objects.get(code="system_admin").permissions

    # Giving the auditor role employee.manage breaches the rule for its holder as well.
    response = api.patch(
        "/api/v1/roles/auditor", {"permissions": ["audit.view", "audit.verify", "employee.manage"]}
    )
    assert response.status_code == 409
    assert state() == before

    # A role nobody holds may carry both sides, but then nobody can be given it.
    response = api.patch(
        "/api/v1/roles/marketing", {"permissions": ["audit.view", "employee.manage"]}
    )
    assert response.status_code == 200
    response = grant(api, cast.employee, "marketing")
    assert response.status_code == 409
    assert response.json()["details"] == {"rule": "audit-vs-employee-admin"}
    assert not RoleGrant.objects.filter(employee=cast.employee).exists()


def test_sod_refusals_on_the_pages(cast):
    SodRule.objects.create(
        code="audit-vs-employee-admin", left="perm:audit.view", right="perm:employee.manage"
    )
    client = browser(cast.security_admin)
    before = state()
    response = client.post(f"/employees/{cast.admin.employee_id}/roles/", {"role": "auditor"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Segregation of duties" in html and "cannot be held by one employee" in html

    system_admin = Role.objects.get(code="system_admin")
    response = client.post(
        "/access/roles/system_admin/",
        {
            "name_zh": system_admin.name_zh,
            "name_en": system_admin.name_en,
            "data_scope": system_admin.data_scope,
            "permissions": [*system_admin.permissions, "audit.view"],
        },
    )
    assert response.status_code == 200
    assert "audit-vs-employee-admin" in response.content.decode()
    assert state() == before
