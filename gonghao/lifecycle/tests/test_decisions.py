"""The four-eyes request base shared by onboarding and role-change requests, and the decision
endpoints answering with the record their service returns: the same answer as a fresh read, with
the record read once before its lock and never again."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghao.access.models import Role
from gonghao.lifecycle import services
from gonghao.lifecycle.access_models import AccessReviewItem, RoleChangeRequest, RoleRequestStatus
from gonghao.lifecycle.models import EmployeeRequest, RequestStatus
from gonghao.lifecycle.request_models import FourEyesRequest
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import api_for, make_employee

from .conftest import make_world

pytestmark = pytest.mark.django_db


def reads_of(model, queries) -> int:
    """SELECTs whose main table is the model's (joins to it from other tables do not count)."""
    main_table = re.compile(rf'^SELECT .*? FROM "{model._meta.db_table}"', re.DOTALL)
    return sum(1 for query in queries if main_table.match(query["sql"]))


def answer_and_reads(api, model, method: str, path: str, body: dict | None = None):
    with CaptureQueriesContext(connection) as queries:
        response = getattr(api, method)(path, body or {})
    assert response.status_code in (200, 201), response.content
    return response.json(), reads_of(model, queries.captured_queries)


# --- the shared model ------------------------------------------------------------------------


def test_both_request_types_share_the_base_and_its_statuses():
    assert issubclass(EmployeeRequest, FourEyesRequest)
    assert issubclass(RoleChangeRequest, FourEyesRequest)
    # A role-change request is never sent back: the shared statuses, in order, but "returned".
    assert RoleRequestStatus.choices == [
        (value, label) for value, label in RequestStatus.choices if value != "returned"
    ]
    for name in ("status", "requested_by", "decided_by", "decided_at", "reason"):
        onboarding = EmployeeRequest._meta.get_field(name).deconstruct()[3]
        role_change = RoleChangeRequest._meta.get_field(name).deconstruct()[3]
        onboarding.pop("choices", None), role_change.pop("choices", None)
        assert onboarding == role_change, name
    assert [index.name for index in EmployeeRequest._meta.indexes] == [
        "emp_request_status",
        "emp_request_requester",
    ]
    assert [index.name for index in RoleChangeRequest._meta.indexes] == [
        "role_request_status",
        "role_request_requester",
    ]


def test_an_approval_keeps_the_reason_the_request_was_sent_back_with():
    world = make_world()
    fields = services.resolve_fields(name="李新人", department_id=world.sales.pk, roles=["sales"])
    filed = services.file_request(actor=world.head, fields=fields)
    services.return_request(filed, actor=world.approver, reason="请补充入职日期")
    resubmitted = services.update_request(
        filed, actor=world.head, fields=services.resolve_fields(name="李新人")
    )
    approved = services.approve_request(resubmitted, actor=world.approver).request
    assert (approved.status, approved.reason) == (RequestStatus.APPROVED, "请补充入职日期")
    assert approved.decided_by == world.approver
    stored = EmployeeRequest.objects.get(pk=filed.pk)
    assert (stored.status, stored.reason, stored.decided_at) == (
        RequestStatus.APPROVED,
        "请补充入职日期",
        approved.decided_at,
    )


# --- onboarding requests -----------------------------------------------------------------------

ONBOARDING = "/api/v1/employee-requests"


@pytest.mark.parametrize("action", ["reject", "return", "withdraw"])
def test_onboarding_decisions_answer_without_reading_the_request_again(action):
    world = make_world()
    filed = api_for(world.head).post(
        ONBOARDING, {"name": "李新人", "department_id": world.sales.pk, "roles": ["sales"]}
    )
    assert filed.status_code == 201, filed.content
    assert filed.json() == api_for(world.head).get(f"{ONBOARDING}/{filed.json()['id']}").json()
    actor = world.head if action == "withdraw" else world.approver
    api = api_for(actor)
    body = {} if action == "withdraw" else {"reason": "岗位已取消"}
    path = f"{ONBOARDING}/{filed.json()['id']}"
    answer, reads = answer_and_reads(api, EmployeeRequest, "post", f"{path}/{action}", body)
    assert reads == 2  # the permission-checked fetch, then the row lock
    assert answer == api.get(path).json()
    assert answer["decided_by"] == actor.employee_id


def test_an_edited_request_answers_without_reading_it_again():
    world = make_world()
    head = api_for(world.head)
    filed = head.post(ONBOARDING, {"name": "李新人", "department_id": world.sales.pk}).json()
    path = f"{ONBOARDING}/{filed['id']}"
    assert api_for(world.approver).post(f"{path}/return", {"reason": "补充职位"}).status_code == 200
    manager = make_employee("赵经理", department=world.sales)
    answer, reads = answer_and_reads(
        head, EmployeeRequest, "patch", path, {"manager": manager.employee_id}
    )
    assert reads == 2
    assert answer == head.get(path).json()
    assert (answer["status"], answer["manager"]) == ("submitted", manager.employee_id)


# --- role-change requests and access-review items ----------------------------------------------

ROLE_REQUESTS = "/api/v1/role-requests"


@pytest.mark.parametrize("action", ["approve", "reject", "withdraw"])
def test_role_request_decisions_answer_without_reading_the_request_again(action):
    crm = make_crm_cast()
    Role.objects.filter(code="sales").update(grant_needs_approval=True)
    newcomer = make_employee("新同事", department=crm.sales_east)
    approver = make_employee("吴安全", roles=("security_admin", "sales"), department=crm.hq)
    filed = api_for(crm.head).post(
        ROLE_REQUESTS, {"employee_id": newcomer.employee_id, "role": "sales", "kind": "grant"}
    )
    assert filed.status_code == 201, filed.content
    path = f"{ROLE_REQUESTS}/{filed.json()['id']}"
    assert filed.json() == api_for(crm.head).get(path).json()
    api = api_for(crm.head if action == "withdraw" else approver)
    body = {"reason": "不需要"} if action == "reject" else {}
    answer, reads = answer_and_reads(api, RoleChangeRequest, "post", f"{path}/{action}", body)
    assert reads == 2
    assert answer == api.get(path).json()


def test_a_review_decision_answers_without_reading_the_item_again():
    crm = make_crm_cast()
    campaign = api_for(crm.security_admin).post(
        "/api/v1/access-reviews", {"scope": "department", "department_id": crm.sales.pk}
    )
    assert campaign.status_code == 201, campaign.content
    item = AccessReviewItem.objects.get(
        campaign_id=campaign.json()["id"], employee=crm.rep_b, role__code="sales"
    )
    api = api_for(crm.rep_a)
    path = f"/api/v1/access-reviews/items/{item.pk}"
    answer, reads = answer_and_reads(
        api, AccessReviewItem, "post", f"{path}/decide", {"decision": "revoke", "comment": "调岗"}
    )
    assert reads == 2  # the permission-checked fetch, then the row lock
    assert answer == api.get(path).json()
    assert (answer["decision"], answer["outcome"]) == ("revoke", "revoked")
