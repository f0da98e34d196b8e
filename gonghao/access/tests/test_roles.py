"""Built-in roles, the roles API and pages, granting and revoking roles, expiring grants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from gonghao.access.builtin import ensure_builtin_roles
from gonghao.access.catalogue import PERMISSIONS
from gonghao.access.models import DataScope, Role, RoleGrant, SodRule
from gonghao.access.services import permissions_of
from gonghao.audit.models import AuditEvent
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import api_for, authenticate_freshly

pytestmark = pytest.mark.django_db

CUSTOMER_FULL = {
    "customer.view",
    "customer.create",
    "customer.edit",
    "customer.delete",
    "customer.transfer",
    "customer.export",
    "customer.view_sensitive",
}


@pytest.fixture
def crm(db):
    return make_crm_cast()


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def events(prefix: str = "role.") -> list[AuditEvent]:
    """Events written by employees (the cast's own grants are written by the system)."""
    return list(
        AuditEvent.objects.filter(action__startswith=prefix, actor_kind="employee").order_by("seq")
    )


def grants_path(employee) -> str:
    return f"/api/v1/employees/{employee.employee_id}/roles"


# --- built-in roles ----------------------------------------------------------------------------


def test_builtin_roles_are_seeded_by_the_migrations():
    roles = {role.code: role for role in Role.objects.all()}
    assert set(roles) == {
        "system_admin",
        "security_admin",
        "auditor",
        "department_head",
        "sales",
        "customer_service",
        "marketing",
    }
    assert all(role.is_builtin for role in roles.values())
    for role in roles.values():
        assert set(role.permissions) <= set(PERMISSIONS), role.code
        assert role.name_zh and role.name_en

    def perms(code: str) -> set[str]:
        return set(roles[code].permissions)

    def customer_perms(code: str) -> set[str]:
        return {p for p in perms(code) if p.startswith("customer.")}

    # 等保2.0: three separated duties; none of the administrators reads the audit log.
    assert {"employee.manage", "org.manage", "customer.restore"} <= perms("system_admin")
    assert not perms("system_admin") & {"audit.view", "audit.verify", "role.manage"}
    assert {"role.manage", "token.manage", "role.view"} <= perms("security_admin")
    assert not perms("security_admin") & {"audit.view", "employee.manage"}
    assert perms("auditor") == {"audit.view", "audit.verify"}
    # Business roles.
    # Customer permissions exactly (other record types add their own permissions to roles).
    assert customer_perms("sales") == {
        "customer.view",
        "customer.create",
        "customer.edit",
        "customer.view_sensitive",
        "customer.share",
        "customer.claim",
    }
    assert customer_perms("customer_service") == {"customer.view"}
    assert customer_perms("marketing") == {"customer.export"}
    assert customer_perms("department_head") == CUSTOMER_FULL | {"customer.share"}
    assert customer_perms("system_admin") == {"customer.view", "customer.restore"}
    assert customer_perms("security_admin") == set()
    assert set(roles["marketing"].hidden_fields) == {
        "customer.notes",
        "customer.address",
        "customer.id_number",
    }
    scopes = {code: role.data_scope for code, role in roles.items()}
    assert scopes == {
        "system_admin": DataScope.ALL,
        "security_admin": DataScope.ALL,
        "auditor": DataScope.ALL,
        "department_head": DataScope.DEPARTMENT_TREE,
        "sales": DataScope.OWN,
        "customer_service": DataScope.ALL,
        "marketing": DataScope.ALL,
    }
    rules = {rule.code: (rule.left, rule.right) for rule in SodRule.objects.all()}
    assert rules["auditor-vs-system-admin"] == ("role:auditor", "role:system_admin")
    assert rules["auditor-vs-security-admin"] == ("role:auditor", "role:security_admin")


def test_reseeding_never_overwrites_an_edited_role():
    Role.objects.filter(code="sales").update(permissions=["customer.view"], data_scope="all")
    ensure_builtin_roles()
    sales = Role.objects.get(code="sales")
    assert sales.permissions == ["customer.view"]
    assert sales.data_scope == "all"


# --- the roles API -----------------------------------------------------------------------------


def test_role_view_holders_list_and_read_roles(cast):
    api = api_for(cast.admin)  # system_admin holds role.view
    response = api.get("/api/v1/roles")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7 == len(body["items"])
    by_code = {item["code"]: item for item in body["items"]}
    assert by_code["auditor"]["name"] == "Auditor"
    assert by_code["auditor"]["permissions"] == ["audit.verify", "audit.view"]
    assert by_code["sales"]["data_scope"] == "own"
    assert by_code["marketing"]["hidden_fields"] == [
        "customer.address",
        "customer.id_number",
        "customer.notes",
    ]

    response = api_for(cast.security_admin, language="zh-hans").get("/api/v1/roles/auditor")
    assert response.status_code == 200
    assert response.json()["name"] == "审计员"
    assert response.json()["is_builtin"] is True

    response = api.get("/api/v1/roles/no-such-role")
    assert response.status_code == 404
    assert response.json()["code"] == "role_not_found"


def test_roles_api_needs_role_view(cast):
    for employee in (cast.auditor, cast.employee):
        api = api_for(employee)
        assert api.get("/api/v1/roles").status_code == 403
        assert api.get("/api/v1/roles/sales").status_code == 403


def test_role_change_is_audited_with_before_and_after(cast):
    api = api_for(cast.security_admin)
    permissions_before = sorted(Role.objects.get(code="sales").permissions)
    response = api.patch(
        "/api/v1/roles/sales",
        {
            "permissions": ["customer.view", "customer.create", "customer.export"],
            "hidden_fields": ["customer.notes"],
            "data_scope": "department",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["permissions"] == ["customer.create", "customer.export", "customer.view"]
    assert body["hidden_fields"] == ["customer.notes"]
    assert body["data_scope"] == "department"
    sales = Role.objects.get(code="sales")
    assert sorted(sales.permissions) == ["customer.create", "customer.export", "customer.view"]

    [event] = events()
    assert event.action == "role.update"
    assert event.actor_employee_id == cast.security_admin.employee_id
    assert event.target_type == "access.role"
    assert event.target_id == str(sales.pk)
    assert event.changes == {
        "permissions": [
            permissions_before,
            ["customer.create", "customer.export", "customer.view"],
        ],
        "data_scope": ["own", "department"],
        "hidden_fields": [[], ["customer.notes"]],
    }

    # The same values again: nothing changes, nothing is written.
    again = api.patch(
        "/api/v1/roles/sales",
        {"permissions": ["customer.export", "customer.view", "customer.create"]},
    )
    assert again.status_code == 200
    assert len(events()) == 1

    renamed = api.patch("/api/v1/roles/sales", {"name_en": "  Sales rep  "})
    assert renamed.status_code == 200
    assert renamed.json()["name_en"] == "Sales rep"
    assert events()[-1].changes == {"name_en": ["Sales", "Sales rep"]}


def test_role_patch_refuses_bad_input_and_changes_nothing(cast):
    api = api_for(cast.security_admin)
    before = Role.objects.get(code="sales")
    cases = [
        ({"permissions": ["customer.view", "customer.fly"]}, "permissions", "customer.fly"),
        ({"hidden_fields": ["customer.salary"]}, "hidden_fields", "customer.salary"),
        ({"hidden_fields": ["customer.name"]}, "hidden_fields", "customer.name"),
        ({"data_scope": "galaxy"}, "data_scope", "Unknown data scope"),
        ({"name_en": "   "}, "name_en", "name is required"),
        ({"name_zh": ""}, "name_zh", "name is required"),
    ]
    for payload, field, fragment in cases:
        response = api.patch("/api/v1/roles/sales", payload)
        assert response.status_code == 422, payload
        body = response.json()
        assert body["code"] == "validation_error"
        assert fragment in " ".join(body["details"]["fields"][field]), body
    after = Role.objects.get(code="sales")
    assert (after.permissions, after.hidden_fields, after.data_scope, after.name_en) == (
        before.permissions,
        before.hidden_fields,
        before.data_scope,
        before.name_en,
    )
    assert events() == []
    response = api.patch("/api/v1/roles/no-such-role", {"name_en": "X"})
    assert response.status_code == 404
    assert response.json()["code"] == "role_not_found"


def test_only_role_manage_edits_roles(cast):
    for employee in (cast.admin, cast.auditor, cast.employee):
        response = api_for(employee).patch("/api/v1/roles/sales", {"permissions": []})
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert Role.objects.get(code="sales").permissions != []
    assert events() == []


# --- role pages --------------------------------------------------------------------------------


def test_permission_matrix_page(cast):
    response = browser(cast.security_admin).get("/access/roles/")
    assert response.status_code == 200
    roles = [role.code for role in response.context["roles"]]
    rows = {row["permission"].code: row["cells"] for row in response.context["rows"]}
    assert set(rows) == set(PERMISSIONS)
    audit_holders = {code for code, allowed in zip(roles, rows["audit.view"]) if allowed}
    assert audit_holders == {"auditor"}
    html = response.content.decode()
    assert "Roles and permissions" in html
    assert 'href="/access/roles/auditor/"' in html  # security admin may edit

    response = browser(cast.admin).get("/access/roles/")
    assert response.status_code == 200
    assert 'href="/access/roles/auditor/"' not in response.content.decode()
    assert browser(cast.auditor).get("/access/roles/").status_code == 403
    assert browser(cast.employee).get("/access/roles/").status_code == 403


def test_role_edit_page(cast):
    client = browser(cast.security_admin)
    response = client.get("/access/roles/customer_service/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="customer.view"' in html and "checked" in html
    initial = response.context["form"].initial["permissions"]
    assert initial == ["customer.view", "interaction.create"]

    response = client.post(
        "/access/roles/customer_service/",
        {
            "name_zh": "客服",
            "name_en": "Customer service",
            "data_scope": "department",
            "permissions": ["customer.view", "customer.export"],
            "hidden_fields": ["customer.notes"],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/access/roles/"
    role = Role.objects.get(code="customer_service")
    assert sorted(role.permissions) == ["customer.export", "customer.view"]
    assert role.hidden_fields == ["customer.notes"]
    assert role.data_scope == "department"
    assert [e.action for e in events()] == ["role.update"]

    # A permission that does not exist is a form error, not a change.
    response = client.post(
        "/access/roles/customer_service/",
        {"name_zh": "客服", "name_en": "CS", "data_scope": "all", "permissions": ["x.y"]},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["permissions"]
    assert Role.objects.get(code="customer_service").name_en == "Customer service"

    assert client.get("/access/roles/no-such-role/").status_code == 404
    for employee in (cast.admin, cast.auditor):
        other = browser(employee)
        assert other.get("/access/roles/sales/").status_code == 403
        assert other.post("/access/roles/sales/", {"name_en": "X"}).status_code == 403
    assert len(events()) == 1


# --- grants ------------------------------------------------------------------------------------


def test_grant_is_audited_and_refusals_write_nothing(crm, frozen_clock):
    api = api_for(crm.security_admin)
    until = frozen_clock() + timedelta(days=30)
    response = api.post(
        grants_path(crm.rep_a), {"role": "marketing", "expires_at": until.isoformat()}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "marketing"
    assert body["granted_by"] == crm.security_admin.employee_id
    assert body["in_force"] is True
    assert body["expires_at"] is not None
    assert "customer.export" in permissions_of(type(crm.rep_a).objects.get(pk=crm.rep_a.pk))
    [event] = events()
    assert event.action == "role.grant"
    assert event.actor_employee_id == crm.security_admin.employee_id
    assert event.target_id == str(crm.rep_a.pk)
    assert event.params == {"role": "marketing"}
    assert event.changes["roles"] == [None, "marketing"]
    assert event.changes["expires_at"][1] is not None

    grants_before = RoleGrant.objects.count()
    past = (frozen_clock() - timedelta(minutes=1)).isoformat()
    refusals = [
        (grants_path(crm.rep_a), {"role": "marketing"}, 409, "role_already_granted"),
        (grants_path(crm.rep_a), {"role": "astronaut"}, 404, "role_not_found"),
        (grants_path(crm.rep_a), {"role": "sales", "expires_at": past}, 422, "validation_error"),
        (grants_path(crm.rep_a), {"role": ""}, 422, "validation_error"),
        ("/api/v1/employees/E0000000/roles", {"role": "sales"}, 400, "invalid_employee_id"),
    ]
    for path, payload, status, code in refusals:
        response = api.post(path, payload)
        assert response.status_code == status, (payload, response.content)
        assert response.json()["code"] == code
    assert RoleGrant.objects.count() == grants_before
    assert len(events()) == 1
    expiry_error = api.post(grants_path(crm.rep_a), {"role": "sales", "expires_at": past}).json()
    assert expiry_error["details"]["fields"]["expires_at"] == ["The expiry must be in the future."]


def test_revoke_is_audited_and_takes_effect_at_once(crm):
    rep_api = api_for(crm.rep_a)
    assert rep_api.get("/api/v1/customers").status_code == 200
    api = api_for(crm.security_admin)

    response = api.delete(f"{grants_path(crm.rep_a)}/sales")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert response.json()["in_force"] is False
    [event] = events()
    assert event.action == "role.revoke"
    assert event.actor_employee_id == crm.security_admin.employee_id
    assert event.params == {"role": "sales"}
    assert event.changes == {"roles": ["sales", None]}

    # The same token, the next request: the permission is gone.
    assert rep_api.get("/api/v1/customers").status_code == 403
    assert rep_api.get("/api/v1/me").json()["roles"] == []

    again = api.delete(f"{grants_path(crm.rep_a)}/sales")
    assert again.status_code == 404
    assert again.json()["code"] == "grant_not_found"
    assert api.delete(f"{grants_path(crm.rep_a)}/astronaut").json()["code"] == "role_not_found"
    assert len(events()) == 1

    # Past and present grants are listed.
    assert api.post(grants_path(crm.rep_a), {"role": "sales"}).status_code == 201
    listing = api.get(grants_path(crm.rep_a)).json()
    assert listing["count"] == 2
    states = sorted((item["role"], item["in_force"]) for item in listing["items"])
    assert states == [("sales", False), ("sales", True)]
    assert rep_api.get("/api/v1/customers").status_code == 200


def test_only_role_manage_grants_and_revokes(crm):
    grants_before = list(RoleGrant.objects.order_by("pk").values_list("pk", "revoked_at"))
    for employee in (crm.admin, crm.head, crm.auditor, crm.rep_a, crm.nobody):
        api = api_for(employee)
        response = api.post(grants_path(crm.nobody), {"role": "sales"})
        assert response.status_code == 403, employee
        assert api.delete(f"{grants_path(crm.rep_b)}/sales").status_code == 403
    assert list(RoleGrant.objects.order_by("pk").values_list("pk", "revoked_at")) == grants_before
    assert events() == []
    # Reading grants needs role.view: the head may, the auditor may not.
    assert api_for(crm.head).get(grants_path(crm.rep_a)).status_code == 200
    assert api_for(crm.auditor).get(grants_path(crm.rep_a)).status_code == 403


def test_an_expired_grant_stops_counting_and_can_be_granted_again(frozen_clock, crm):
    admin_api = api_for(crm.security_admin)
    api = api_for(crm.nobody)
    assert api.get("/api/v1/customers").status_code == 403
    until = frozen_clock() + timedelta(hours=1)
    response = admin_api.post(
        grants_path(crm.nobody), {"role": "sales", "expires_at": until.isoformat()}
    )
    assert response.status_code == 201

    assert api.get("/api/v1/customers").status_code == 200
    assert [r["code"] for r in api.get("/api/v1/me").json()["roles"]] == ["sales"]

    frozen_clock.advance(minutes=59)
    assert api.get("/api/v1/customers").status_code == 200
    frozen_clock.advance(minutes=2)
    assert api.get("/api/v1/customers").status_code == 403
    me = api.get("/api/v1/me").json()
    assert me["roles"] == [] and "customer.view" not in me["permissions"]
    listing = admin_api.get(grants_path(crm.nobody)).json()
    assert [item["in_force"] for item in listing["items"]] == [False]
    # Revoking an expired grant finds nothing in force.
    authenticate_freshly(admin_api)  # an hour later, the step-up window has passed
    assert admin_api.delete(f"{grants_path(crm.nobody)}/sales").status_code == 404

    response = admin_api.post(grants_path(crm.nobody), {"role": "sales"})
    assert response.status_code == 201, response.content
    assert api.get("/api/v1/customers").status_code == 200
    listing = admin_api.get(grants_path(crm.nobody)).json()
    assert listing["count"] == 2
    assert sorted(item["in_force"] for item in listing["items"]) == [False, True]
    assert [e.action for e in events()] == ["role.grant", "role.grant"]


# --- the employee grants page ------------------------------------------------------------------


def test_grants_page_for_the_security_admin(crm):
    client = browser(crm.security_admin)
    path = f"/employees/{crm.rep_a.employee_id}/roles/"
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Grant a role" in html
    assert f"/employees/{crm.rep_a.employee_id}/roles/sales/revoke/" in html
    assert "in force" in html

    response = client.post(path, {"role": "marketing"})
    assert response.status_code == 302
    assert response["Location"] == path
    assert RoleGrant.objects.in_force().filter(employee=crm.rep_a, role__code="marketing").exists()

    response = client.post(path, {"role": "marketing"})
    assert response.status_code == 200
    assert "already holds this role" in response.content.decode()

    response = client.post(path, {"role": "customer_service", "expires_at": "2000-01-01T10:00"})
    assert response.status_code == 200
    assert response.context["form"].errors["expires_at"] == ["The expiry must be in the future."]

    response = client.post(f"{path}marketing/revoke/")
    assert response.status_code == 302
    assert not RoleGrant.objects.in_force().filter(employee=crm.rep_a, role__code="marketing")
    html = client.get(path).content.decode()
    assert "revoked" in html
    assert [e.action for e in events()] == ["role.grant", "role.revoke"]


def test_grants_page_for_others(crm):
    path = f"/employees/{crm.rep_a.employee_id}/roles/"
    head = browser(crm.head)  # role.view, not role.manage
    response = head.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Grant a role" not in html
    assert "/revoke/" not in html
    head.post(path, {"role": "marketing"})
    assert head.post(f"{path}sales/revoke/").status_code == 403
    assert browser(crm.auditor).get(path).status_code == 403
    assert browser(crm.admin).post(f"{path}sales/revoke/").status_code == 403
    assert set(
        RoleGrant.objects.in_force().filter(employee=crm.rep_a).values_list("role__code", flat=True)
    ) == {"sales"}
    assert events() == []
