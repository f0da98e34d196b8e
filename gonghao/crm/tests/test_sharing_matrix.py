"""Every built-in role × the sharing and public-pool endpoints and pages × in / out of scope.

Same rule as the customer matrix: no permission at all → 403; outside the view scope → 404;
in scope without the action's permission → 403. Each success writes its one audit event, each
refusal none.
"""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.audit.models import AuditEvent
from gonghao.crm.models import Customer, CustomerShare
from gonghao.testing.kit import api_for
from gonghao.testing.matrix import (
    CUSTOMER_REFUSAL_CODES,
    CUSTOMER_SCOPES,
    ROLES,
    answer_problem,
    customer_target,
    each_in_savepoint,
)

API_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("shares", "in"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("shares", "out"): {"head": 404, "rep_a": 404},
    ("share", "in"): {"admin": 403, "head": 201, "rep_a": 201, "agent": 403},
    ("share", "out"): {"head": 404, "rep_a": 404},
    ("unshare", "in"): {"admin": 403, "head": 204, "rep_a": 204, "agent": 403},
    ("unshare", "out"): {"head": 404, "rep_a": 404},
    ("release", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("release", "out"): {"head": 404, "rep_a": 404},
    # The pool is for customer.claim holders only (sales), whatever their customer scope.
    ("pool", "-"): {"admin": 403, "head": 403, "rep_a": 200, "agent": 403},
    ("pool_customer", "-"): {"admin": 403, "head": 403, "rep_a": 200, "agent": 403},
    ("claim", "-"): {"admin": 403, "head": 403, "rep_a": 200, "agent": 403},
    ("shared_with_me", "-"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
}

AUDIT_ON_SUCCESS = {
    "shares": None,
    "share": "customer.share",
    "unshare": "customer.unshare",
    "release": "customer.pool_release",
    "pool": None,
    "pool_customer": "customer.pool_view",
    "claim": "customer.pool_claim",
    "shared_with_me": None,
}


@pytest.fixture
def world(crm):
    """A live share on each cast customer (to revoke) and one customer in the pool."""
    for customer in (crm.customer_a, crm.customer_b, crm.customer_c):
        CustomerShare.objects.create(
            customer=customer,
            department=crm.hq,
            created_by=customer.owner,
            created_at=customer.created_at,
        )
    crm.pooled = Customer.objects.create(name="公海客户", phone="+8613600001111")
    return crm


def _call_api(api, crm, operation: str, customer: Customer | None):
    if operation == "pool":
        return api.get("/api/v1/customers/pool")
    if operation == "pool_customer":
        return api.get(f"/api/v1/customers/pool/{crm.pooled.pk}")
    if operation == "claim":
        return api.post(f"/api/v1/customers/{crm.pooled.pk}/claim")
    if operation == "shared_with_me":
        return api.get("/api/v1/customers", {"shared": "with_me"})
    path = f"/api/v1/customers/{customer.pk}"
    if operation == "shares":
        return api.get(f"{path}/shares")
    if operation == "share":
        recipient = crm.rep_c if customer.owner_id != crm.rep_c.pk else crm.rep_a
        return api.post(f"{path}/shares", {"employee": recipient.employee_id})
    if operation == "unshare":
        share = CustomerShare.objects.get(customer=customer)
        return api.delete(f"{path}/shares/{share.pk}")
    if operation == "release":
        return api.post(f"{path}/release", {"reason": "矩阵测试"})
    raise AssertionError(operation)


def _events() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="customer.")
        .exclude(action="customer.view")
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(world, role):
    api = api_for(getattr(world, role))

    def check(operation, scope, status):
        customer = None if scope == "-" else customer_target(world, role, scope)
        return answer_problem(
            lambda: _call_api(api, world, operation, customer),
            status,
            events=_events,
            on_success=AUDIT_ON_SUCCESS[operation],
            refusal_codes=CUSTOMER_REFUSAL_CODES,
        )

    assert each_in_savepoint(CUSTOMER_SCOPES.cases(API_EXPECTED, role), check) == []


@pytest.mark.parametrize("operation", sorted({op for op, _scope in API_EXPECTED}))
def test_api_anonymous_gets_401(world, operation):
    from gonghao.testing.kit import ApiClient

    response = _call_api(ApiClient(), world, operation, world.customer_a)
    assert response.status_code == 401


def test_shares_listing_shows_only_what_the_caller_may_see(world):
    """A recipient of a department share sees the customer and its shares; counts agree."""
    body = api_for(world.rep_c).get("/api/v1/customers", {"shared": "with_me"}).json()
    # Every cast customer is shared with HQ without its sub-departments: rep_c (Service) sees none.
    assert body == {"items": [], "count": 0, "count_capped": False, "sort": "-updated"}
    api_for(world.head).post(
        f"/api/v1/customers/{world.customer_b.pk}/shares",
        {"department_id": world.service.pk},
    )
    body = api_for(world.rep_c).get("/api/v1/customers", {"shared": "with_me"}).json()
    assert [c["name"] for c in body["items"]] == ["杭州乙公司"] and body["count"] == 1


# --- pages ------------------------------------------------------------------------------------

PAGE_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("share_page", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("share_page", "out"): {"head": 404, "rep_a": 404},
    ("share", "in"): {"admin": 403, "head": 302, "rep_a": 302, "agent": 403},
    ("share", "out"): {"head": 404, "rep_a": 404},
    ("revoke", "in"): {"admin": 403, "head": 302, "rep_a": 302, "agent": 403},
    ("revoke", "out"): {"head": 404, "rep_a": 404},
    ("release_page", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("release_page", "out"): {"head": 404, "rep_a": 404},
    ("release", "in"): {"admin": 403, "head": 302, "rep_a": 302, "agent": 403},
    ("release", "out"): {"head": 404, "rep_a": 404},
    ("pool", "-"): {"admin": 403, "head": 403, "rep_a": 200, "agent": 403},
    ("pool_customer", "-"): {"admin": 403, "head": 403, "rep_a": 200, "agent": 403},
    ("claim", "-"): {"admin": 403, "head": 403, "rep_a": 302, "agent": 403},
    ("shared_with_me", "-"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
}

PAGE_AUDIT = {
    "share": "customer.share",
    "revoke": "customer.unshare",
    "release": "customer.pool_release",
    "claim": "customer.pool_claim",
    "pool_customer": "customer.pool_view",
}


def _call_page(client: Client, crm, operation: str, customer: Customer | None):
    if operation == "pool":
        return client.get("/customers/pool/")
    if operation == "pool_customer":
        return client.get(f"/customers/pool/{crm.pooled.pk}/")
    if operation == "claim":
        return client.post(f"/customers/{crm.pooled.pk}/claim/")
    if operation == "shared_with_me":
        return client.get("/customers/", {"shared": "with_me"})
    path = f"/customers/{customer.pk}"
    if operation == "share_page":
        return client.get(f"{path}/shares/")
    if operation == "share":
        recipient = crm.rep_c if customer.owner_id != crm.rep_c.pk else crm.rep_a
        return client.post(f"{path}/shares/", {"employee": recipient.employee_id, "access": "read"})
    if operation == "revoke":
        share = CustomerShare.objects.get(customer=customer)
        return client.post(f"{path}/shares/{share.pk}/revoke/")
    if operation == "release_page":
        return client.get(f"{path}/release/")
    if operation == "release":
        return client.post(f"{path}/release/", {"reason": "矩阵测试"})
    raise AssertionError(operation)


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(world, client, role):
    client.force_login(getattr(world, role))

    def check(operation, scope, status):
        customer = None if scope == "-" else customer_target(world, role, scope)
        return answer_problem(
            lambda: _call_page(client, world, operation, customer),
            status,
            events=_events,
            on_success=PAGE_AUDIT.get(operation),
        )

    assert each_in_savepoint(CUSTOMER_SCOPES.cases(PAGE_EXPECTED, role), check) == []
