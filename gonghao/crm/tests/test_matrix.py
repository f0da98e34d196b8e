"""Every built-in role × every customer endpoint and page × in-scope / out-of-scope record.

The rule: no customer permission at all → 403 whatever the record; a record outside the
caller's view scope → 404; in scope but without the needed permission → 403. Anonymous API
calls get 401, anonymous pages redirect to the login page. Every success writes its audit
event; every refusal writes none.
"""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.audit.models import AuditEvent
from gonghao.crm.models import Customer
from gonghao.testing.kit import api_for
from gonghao.testing.matrix import (
    CUSTOMER_REFUSAL_CODES,
    CUSTOMER_SCOPES,
    ROLES,
    answer_problem,
    customer_target,
    each_in_savepoint,
)

# (operation, scope) → expected status per role; roles without access expect 403 unless listed.
API_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("list", "-"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("export", "-"): {"admin": 403, "head": 200, "rep_a": 403, "agent": 403, "marketer": 200},
    ("create", "-"): {"admin": 403, "head": 201, "rep_a": 201, "agent": 403},
    ("detail", "in"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("detail", "out"): {"head": 404, "rep_a": 404},
    ("update", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("update", "out"): {"head": 404, "rep_a": 404},
    ("delete", "in"): {"admin": 403, "head": 204, "rep_a": 403, "agent": 403},
    ("delete", "out"): {"head": 404, "rep_a": 404},
    ("transfer", "in"): {"admin": 403, "head": 200, "rep_a": 403, "agent": 403},
    ("transfer", "out"): {"head": 404, "rep_a": 404},
    ("reveal", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("reveal", "out"): {"head": 404, "rep_a": 404},
}

AUDIT_ON_SUCCESS = {
    "list": None,
    "export": "customer.export",
    "create": "customer.create",
    "detail": "customer.view",
    "update": "customer.update",
    "delete": "customer.delete",
    "transfer": "customer.transfer",
    "reveal": "customer.reveal",
}


def _call_api(api, crm, operation: str, customer: Customer | None):
    base = "/api/v1/customers"
    if operation == "list":
        return api.get(base)
    if operation == "export":
        return api.get(f"{base}/export.csv")
    if operation == "create":
        return api.post(base, {"name": "新客户有限公司", "phone": "13800138000"})
    path = f"{base}/{customer.pk}"
    if operation == "detail":
        return api.get(path)
    if operation == "update":
        return api.patch(path, {"industry": "制造业"})
    if operation == "delete":
        return api.delete(path)
    if operation == "transfer":
        return api.post(f"{path}/transfer", {"owner": crm.head.employee_id})
    if operation == "reveal":
        return api.post(f"{path}/reveal", {"fields": ["phone"]})
    raise AssertionError(operation)


def _customer_events() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="customer.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(crm, role):
    api = api_for(getattr(crm, role))

    def check(operation, scope, status):
        customer = None if scope == "-" else customer_target(crm, role, scope)
        return answer_problem(
            lambda: _call_api(api, crm, operation, customer),
            status,
            events=_customer_events,
            on_success=AUDIT_ON_SUCCESS[operation],
            refusal_codes=CUSTOMER_REFUSAL_CODES,
        )

    assert each_in_savepoint(CUSTOMER_SCOPES.cases(API_EXPECTED, role), check) == []


@pytest.mark.parametrize("operation", sorted({op for op, _scope in API_EXPECTED}))
def test_api_anonymous_gets_401(crm, operation):
    from gonghao.testing.kit import ApiClient

    response = _call_api(ApiClient(), crm, operation, crm.customer_a)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_restore_matrix(crm):
    deleted = crm.customer_b
    assert api_for(crm.head).delete(f"/api/v1/customers/{deleted.pk}").status_code == 204
    for role in ROLES:
        if role == "admin":
            continue
        response = api_for(getattr(crm, role)).post(f"/api/v1/customers/{deleted.pk}/restore")
        assert response.status_code == 403, role
    response = api_for(crm.admin).post(f"/api/v1/customers/{deleted.pk}/restore")
    assert response.status_code == 200
    assert Customer.objects.get(pk=deleted.pk).deleted_at is None
    assert _customer_events()[-1] == "customer.restore"


# --- pages ----------------------------------------------------------------------------------

PAGE_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("list", "-"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("export", "-"): {"admin": 403, "head": 200, "rep_a": 403, "agent": 403, "marketer": 200},
    ("new", "-"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("detail", "in"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("detail", "out"): {"head": 404, "rep_a": 404},
    ("edit", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("edit", "out"): {"head": 404, "rep_a": 404},
    ("transfer", "in"): {"admin": 403, "head": 200, "rep_a": 403, "agent": 403},
    ("transfer", "out"): {"head": 404, "rep_a": 404},
    ("delete", "in"): {"admin": 403, "head": 302, "rep_a": 403, "agent": 403},
    ("delete", "out"): {"head": 404, "rep_a": 404},
    ("reveal", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("reveal", "out"): {"head": 404, "rep_a": 404},
}


def _call_page(client: Client, operation: str, customer: Customer | None):
    if operation == "list":
        return client.get("/customers/")
    if operation == "export":
        return client.get("/customers/export/")
    if operation == "new":
        return client.get("/customers/new/")
    path = f"/customers/{customer.pk}/"
    if operation == "detail":
        return client.get(path)
    if operation == "edit":
        return client.get(f"{path}edit/")
    if operation == "transfer":
        return client.get(f"{path}transfer/")
    if operation == "delete":
        return client.post(f"{path}delete/")
    if operation == "reveal":
        return client.post(f"{path}reveal/phone/")
    raise AssertionError(operation)


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(crm, client, role):
    client.force_login(getattr(crm, role))

    def check(operation, scope, status):
        customer = None if scope == "-" else customer_target(crm, role, scope)
        return answer_problem(
            lambda: _call_page(client, operation, customer), status, events=_customer_events
        )

    assert each_in_savepoint(CUSTOMER_SCOPES.cases(PAGE_EXPECTED, role), check) == []


@pytest.mark.parametrize("operation", sorted({op for op, _scope in PAGE_EXPECTED}))
def test_pages_anonymous_redirect_to_login(crm, client, operation):
    response = _call_page(client, operation, crm.customer_a)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
