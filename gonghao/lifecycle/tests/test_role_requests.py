"""Role-change requests: gated roles refuse direct grants, a request is approved by a second
person (four eyes), the change applies with the request id in the audit trail."""

from __future__ import annotations

import pytest

from gonghao.access.models import Role, RoleGrant
from gonghao.audit.models import AuditEvent
from gonghao.lifecycle.access_models import RoleChangeRequest
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import api_for, make_employee

URL = "/api/v1/role-requests"
TOKEN_EVENT = "auth.token.create"
pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(db):
    cast = make_crm_cast()
    Role.objects.filter(code__in=["sales", "customer_service"]).update(
        grant_needs_approval=True, revoke_needs_approval=True
    )
    return cast


def last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


def events_since(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).exclude(action=TOKEN_EVENT).order_by("seq"))


def holds(employee, role: str) -> bool:
    return RoleGrant.objects.in_force().filter(employee=employee, role__code=role).exists()


def state() -> tuple:
    return (
        AuditEvent.objects.exclude(action=TOKEN_EVENT).count(),
        RoleGrant.objects.count(),
        list(RoleChangeRequest.objects.order_by("pk").values_list("status", flat=True)),
    )


def file(api, employee, role="sales", kind="grant", **extra) -> dict:
    response = api.post(
        URL, {"employee_id": employee.employee_id, "role": role, "kind": kind, **extra}
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def newcomer(crm):
    return make_employee("新同事", department=crm.sales_east, manager=crm.rep_a)


@pytest.fixture
def second_security_admin(crm):
    return make_employee("吴安全", roles=("security_admin", "sales"), department=crm.hq)


def test_the_flag_is_edited_on_the_role_and_refuses_direct_grants(crm, newcomer):
    api = api_for(crm.security_admin)
    response = api.patch("/api/v1/roles/marketing", {"grant_needs_approval": True})
    assert response.status_code == 200
    assert response.json()["grant_needs_approval"] is True
    assert response.json()["revoke_needs_approval"] is False
    event = AuditEvent.objects.filter(action="role.update").latest("seq")
    assert event.changes == {"grant_needs_approval": [False, True]}

    before = state()
    refused = api.post(f"/api/v1/employees/{newcomer.employee_id}/roles", {"role": "marketing"})
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "role_change_needs_approval"
    assert "/api/v1/role-requests" in body["message"]
    assert body["details"] == {
        "role": "marketing",
        "kind": "grant",
        "request_path": "/api/v1/role-requests",
    }
    assert state() == before
    # Revoking is not gated for this role; for sales it is.
    gated = api.delete(f"/api/v1/employees/{crm.rep_a.employee_id}/roles/sales")
    assert (gated.status_code, gated.json()["code"]) == (409, "role_change_needs_approval")
    assert holds(crm.rep_a, "sales")


def test_request_approve_grants_the_role_with_the_request_id(crm, newcomer, second_security_admin):
    assert not holds(newcomer, "sales")
    mark = last_seq()
    created = file(api_for(crm.head), newcomer, justification="新人入组")
    assert created["status"] == "submitted"
    assert created["requested_by"] == crm.head.employee_id
    events = events_since(mark)
    assert [e.action for e in events] == ["role_request.create"]
    assert events[0].params == {
        "request": created["id"],
        "kind": "grant",
        "role": "sales",
        "justification": "新人入组",
    }

    mark = last_seq()
    approved = api_for(second_security_admin).post(f"{URL}/{created['id']}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == second_security_admin.employee_id
    assert holds(newcomer, "sales")
    events = events_since(mark)
    assert [e.action for e in events] == ["role.grant", "role_request.approve"]
    assert events[0].params == {"role": "sales", "via": "role_request", "request": created["id"]}
    assert events[1].params == {"request": created["id"], "kind": "grant", "role": "sales"}
    assert events[1].changes == {"status": ["submitted", "approved"]}
    assert all(e.actor_employee_id == second_security_admin.employee_id for e in events)


def test_revoke_request_takes_the_role_back(crm, second_security_admin):
    created = file(api_for(crm.security_admin), crm.rep_b, kind="revoke")
    response = api_for(second_security_admin).post(f"{URL}/{created['id']}/approve")
    assert response.status_code == 200, response.content
    assert not holds(crm.rep_b, "sales")
    assert api_for(crm.rep_b).get("/api/v1/customers").status_code == 403


def test_four_eyes_refusals_change_nothing(crm, newcomer, second_security_admin, settings):
    own = file(api_for(crm.security_admin), newcomer, role="customer_service")
    for_self = file(api_for(crm.security_admin), second_security_admin, role="customer_service")
    requester_api = api_for(crm.security_admin)
    subject_api = api_for(second_security_admin)
    before = state()
    refused = requester_api.post(f"{URL}/{own['id']}/approve")
    assert (refused.status_code, refused.json()["code"]) == (403, "four_eyes_own_request")
    refused = subject_api.post(f"{URL}/{for_self['id']}/approve")
    assert (refused.status_code, refused.json()["code"]) == (403, "four_eyes_own_roles")
    # The second administrator does not hold customer_service: may not grant it …
    refused = subject_api.post(f"{URL}/{own['id']}/approve")
    assert (refused.status_code, refused.json()["code"]) == (403, "four_eyes_roles")
    assert refused.json()["details"] == {"roles": ["customer_service"]}
    # … and someone without the approval permission approves nothing.
    refused = api_for(crm.head).post(f"{URL}/{own['id']}/approve")
    assert (refused.status_code, refused.json()["code"]) == (404, "role_request_not_found")
    assert state() == before
    assert not holds(newcomer, "customer_service")

    settings.GONGHAO_APPROVER_MUST_HOLD_ROLES = False
    assert subject_api.post(f"{URL}/{own['id']}/approve").status_code == 200
    assert holds(newcomer, "customer_service")


def test_who_may_file(crm, newcomer):
    before = state()
    # A sales rep may neither grant roles nor heads a department.
    refused = api_for(crm.rep_a).post(
        URL, {"employee_id": newcomer.employee_id, "role": "sales", "kind": "grant"}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "not_allowed_to_request")
    # The head of Sales, for someone in Service: refused too.
    refused = api_for(crm.head).post(
        URL, {"employee_id": crm.agent.employee_id, "role": "sales", "kind": "grant"}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "not_allowed_to_request")
    assert state() == before
    # The head of Sales for someone in Sales East (below Sales): accepted.
    file(api_for(crm.head), newcomer)


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"role": "no-such"}, 422, "validation_error"),
        ({"kind": "swap"}, 422, "validation_error"),
        ({"expires_at": "2000-01-01T00:00:00Z"}, 422, "validation_error"),
        ({"employee_id": "E9999999"}, 404, "employee_not_found"),
        ({"employee_id": "not an id"}, 422, "validation_error"),
        ({"justification": "x" * 501}, 422, "validation_error"),
    ],
)
def test_bad_requests_store_nothing(crm, newcomer, body, status, code):
    api = api_for(crm.security_admin)
    before = state()
    payload = {"employee_id": newcomer.employee_id, "role": "sales", "kind": "grant", **body}
    response = api.post(URL, payload)
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert state() == before


def test_conflicting_requests_are_409(crm, newcomer):
    api = api_for(crm.security_admin)
    file(api, newcomer)
    before = state()
    twice = api.post(URL, {"employee_id": newcomer.employee_id, "role": "sales"})
    assert (twice.status_code, twice.json()["code"]) == (409, "role_request_already_open")
    held = api.post(URL, {"employee_id": crm.rep_a.employee_id, "role": "sales"})
    assert (held.status_code, held.json()["code"]) == (409, "role_already_granted")
    not_held = api.post(
        URL, {"employee_id": newcomer.employee_id, "role": "marketing", "kind": "revoke"}
    )
    assert (not_held.status_code, not_held.json()["code"]) == (409, "grant_not_found")
    assert state() == before


def test_reject_needs_a_reason_and_withdraw_is_for_the_requester(
    crm, newcomer, second_security_admin
):
    created = file(api_for(crm.head), newcomer)
    approver = api_for(second_security_admin)
    assert approver.post(f"{URL}/{created['id']}/reject", {"reason": ""}).status_code == 422
    refused = approver.post(f"{URL}/{created['id']}/withdraw")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_requester")
    mark = last_seq()
    rejected = approver.post(f"{URL}/{created['id']}/reject", {"reason": "不符合岗位职责"})
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["reason"]) == ("rejected", "不符合岗位职责")
    assert [e.action for e in events_since(mark)] == ["role_request.reject"]
    assert not holds(newcomer, "sales")
    again = approver.post(f"{URL}/{created['id']}/approve")
    assert (again.status_code, again.json()["code"]) == (409, "request_not_open")

    second = file(api_for(crm.head), newcomer)
    withdrawn = api_for(crm.head).post(f"{URL}/{second['id']}/withdraw")
    assert withdrawn.json()["status"] == "withdrawn"


def test_a_sod_conflict_refuses_the_approval(crm, second_security_admin, settings):
    settings.GONGHAO_APPROVER_MUST_HOLD_ROLES = False
    Role.objects.filter(code="auditor").update(grant_needs_approval=True)
    created = file(api_for(crm.security_admin), crm.admin, role="auditor")
    before = state()
    response = api_for(second_security_admin).post(f"{URL}/{created['id']}/approve")
    assert (response.status_code, response.json()["code"]) == (409, "sod_conflict")
    assert state() == before


def test_who_sees_which_requests(crm, newcomer, second_security_admin):
    created = file(api_for(crm.head), newcomer)
    assert api_for(crm.head).get(URL).json()["count"] == 1
    assert api_for(second_security_admin).get(URL, {"status": "submitted"}).json()["count"] == 1
    assert api_for(crm.rep_a).get(URL).json() == {"items": [], "count": 0}
    assert api_for(crm.rep_a).get(f"{URL}/{created['id']}").status_code == 404
    assert api_for(crm.admin).get(f"{URL}/{created['id']}").status_code == 200


def test_someone_who_may_file_for_nobody_cannot_probe_employee_ids(crm, client):
    """Refused before the look-up: an existing and a missing 工号 answer alike (403)."""
    before = state()
    for employee_id in (crm.rep_b.employee_id, "E9999999"):
        answer = api_for(crm.rep_a).post(
            "/api/v1/role-requests", {"employee_id": employee_id, "role": "sales"}
        )
        assert answer.status_code == 403 and answer.json()["code"] == "not_allowed_to_request"
    assert state() == before
    client.force_login(crm.rep_a)
    assert client.get("/access/role-requests/new/").status_code == 403
    client.force_login(crm.head)
    assert client.get("/access/role-requests/new/").status_code == 200


def test_control_characters_in_a_justification_are_refused(crm, newcomer):
    before = state()
    answer = api_for(crm.head).post(
        URL,
        {"employee_id": newcomer.employee_id, "role": "sales", "justification": "需要\x07权限"},
    )
    assert answer.status_code == 422 and "justification" in answer.json()["details"]["fields"]
    assert state() == before
