"""Onboarding through the API: request → approve → first login, reject, withdraw, return,
four eyes, SoD, the department tree, bad input, delivery and the exact audit events."""

from __future__ import annotations

import pytest

from gonghao.access.services import roles_of
from gonghao.accounts.employee_ids import is_valid
from gonghao.accounts.models import Employee, EmployeeIdRecord, EmployeeIdState
from gonghao.accounts.services import allocate_employee_id
from gonghao.audit.models import AuditEvent
from gonghao.lifecycle.models import EmployeeRequest, RequestStatus
from gonghao.messaging.models import Message
from gonghao.testing.kit import ApiClient, api_for, make_employee

URL = "/api/v1/employee-requests"
NEW_PASSWORD = "Huangshan-Pine-7315!"


def payload(world, **overrides) -> dict:
    body = {
        "name": "李新人",
        "department_id": world.sales.pk,
        "email": "li.xinren@example.cn",
        "phone": "",
        "roles": ["sales"],
        "start_date": "2026-12-01",
    }
    body.update(overrides)
    return body


def last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


def events_since(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def actions_since(seq: int) -> list[str]:
    return [e.action for e in events_since(seq)]


def counts() -> tuple[int, int, int, int]:
    return (
        EmployeeRequest.objects.count(),
        EmployeeIdRecord.objects.count(),
        AuditEvent.objects.count(),
        Employee.objects.count(),
    )


def file(world, api=None, **overrides) -> dict:
    api = api or api_for(world.head)
    response = api.post(URL, payload(world, **overrides))
    assert response.status_code == 201, response.content
    return response.json()


# --- the full path -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_request_approve_then_first_login_forces_a_password_change(world):
    head_api, approver_api = api_for(world.head), api_for(world.approver)
    created = head_api.post(URL, payload(world)).json()
    employee_id = created["employee_id"]
    assert is_valid(employee_id)
    assert created["status"] == "submitted"
    assert created["requested_by"] == world.head.employee_id
    assert created["department"]["code"] == "SALES"
    entry = EmployeeIdRecord.objects.get(employee_id=employee_id)
    assert (entry.state, entry.purpose, entry.holder) == ("reserved", "onboarding", None)
    assert not Employee.objects.filter(employee_id=employee_id).exists()

    queue = approver_api.get(URL, {"status": "submitted"}).json()
    assert queue["count"] == 1
    assert queue["items"][0]["employee_id"] == employee_id

    response = approver_api.post(f"{URL}/{created['id']}/approve")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"employee_id", "initial_password"}
    assert body["employee_id"] == employee_id
    password = body["initial_password"]

    employee = Employee.objects.get(employee_id=employee_id)
    assert employee.status == "active"
    assert employee.must_change_password
    assert employee.department == world.sales
    assert str(employee.hire_date) == "2026-12-01"
    assert [r.code for r in roles_of(employee)] == ["sales"]
    entry.refresh_from_db()
    assert (entry.state, entry.holder) == (EmployeeIdState.ASSIGNED, employee)
    detail = approver_api.get(f"{URL}/{created['id']}").json()
    assert detail["status"] == "approved"
    assert detail["decided_by"] == world.approver.employee_id
    assert "initial_password" not in detail

    anonymous = ApiClient()
    login = {"employee_id": employee_id, "password": password}
    refused = anonymous.post("/api/v1/auth/token", login)
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    changed = anonymous.post("/api/v1/auth/password", {**login, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.content
    token = anonymous.post(
        "/api/v1/auth/token", {"employee_id": employee_id, "password": NEW_PASSWORD}
    )
    assert token.status_code == 200, token.content
    me = ApiClient(token.json()["token"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["employee_id"] == employee_id
    assert [r["code"] for r in me.json()["roles"]] == ["sales"]


@pytest.mark.django_db
def test_exact_audit_events_of_filing_and_approval(world):
    head_api, approver_api = api_for(world.head), api_for(world.approver)
    mark = last_seq()
    created = file(world, head_api)
    request_id, employee_id = created["id"], created["employee_id"]
    events = events_since(mark)
    assert [e.action for e in events] == ["employee_id.allocate", "employee_request.create"]
    assert events[0].params == {"purpose": "onboarding"}
    assert events[1].params == {"request": request_id, "employee_id": employee_id, "name": "李新人"}
    assert events[1].target_type == "lifecycle.employeerequest"
    assert events[1].target_id == str(request_id)
    assert events[1].actor_employee_id == world.head.employee_id
    assert events[1].changes["roles"] == [None, ["sales"]]

    mark = last_seq()
    password = approver_api.post(f"{URL}/{request_id}/approve").json()["initial_password"]
    events = events_since(mark)
    assert [e.action for e in events] == [
        "employee.create",
        "role.grant",
        "message.queue",
        "employee_request.approve",
    ]
    assert all(e.actor_employee_id == world.approver.employee_id for e in events)
    assert events[0].params == {"request": request_id}
    assert events[0].target_label.startswith(employee_id)
    assert events[1].params == {"role": "sales", "via": "onboarding", "request": request_id}
    assert events[2].params["template"] == "account.initial_password"
    assert events[3].params == {
        "request": request_id,
        "employee_id": employee_id,
        "name": "李新人",
        "delivered_by": "email",
    }
    assert events[3].changes == {"status": ["submitted", "approved"]}
    for event in events:  # the password is never in the log
        assert password not in str(event.params) + str(event.changes)


# --- delivery ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_password_is_mailed_with_the_employee_id(
    world, outbox, django_capture_on_commit_callbacks
):
    created = file(world)
    with django_capture_on_commit_callbacks(execute=True):
        body = api_for(world.approver).post(f"{URL}/{created['id']}/approve").json()
    message = Message.objects.get(template="account.initial_password")
    assert message.channel == "email"
    assert message.recipient == "li.xinren@example.cn"
    assert message.employee.employee_id == body["employee_id"]
    files = sorted(outbox.glob("*.txt"))
    assert len(files) == 1
    text = files[0].read_text()
    assert body["employee_id"] in text
    assert body["initial_password"] in text


@pytest.mark.django_db
def test_without_email_the_password_goes_by_sms(world):
    created = file(world, email="", phone="13800138000")
    api_for(world.approver).post(f"{URL}/{created['id']}/approve")
    message = Message.objects.get(template="account.initial_password")
    assert (message.channel, message.recipient) == ("sms", "+8613800138000")
    assert created["employee_id"] in message.body


@pytest.mark.django_db
def test_without_email_or_phone_the_password_is_only_shown(world):
    created = file(world, email="", phone="")
    mark = last_seq()
    response = api_for(world.approver).post(f"{URL}/{created['id']}/approve")
    assert response.status_code == 200
    assert response.json()["initial_password"]
    assert not Message.objects.exists()
    events = events_since(mark)
    assert "message.queue" not in [e.action for e in events]
    assert events[-1].params["delivered_by"] == "approver"


# --- reject, withdraw, return ------------------------------------------------------------------


@pytest.mark.django_db
def test_reject_retires_the_employee_id_for_good(world):
    created = file(world)
    approver_api = api_for(world.approver)
    mark = last_seq()
    response = approver_api.post(f"{URL}/{created['id']}/reject", {"reason": "编制已满"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rejected"
    assert response.json()["reason"] == "编制已满"
    events = events_since(mark)
    assert [e.action for e in events] == ["employee_request.reject"]
    assert events[0].params == {
        "request": created["id"],
        "employee_id": created["employee_id"],
        "name": "李新人",
        "reason": "编制已满",
    }
    assert events[0].changes == {"status": ["submitted", "rejected"]}
    entry = EmployeeIdRecord.objects.get(employee_id=created["employee_id"])
    assert entry.state == EmployeeIdState.RETIRED
    assert not Employee.objects.filter(employee_id=created["employee_id"]).exists()

    following = file(world)
    assert following["employee_id"] != created["employee_id"]
    issued = {allocate_employee_id(actor=None, purpose="test").employee_id for _ in range(20)}
    assert created["employee_id"] not in issued
    assert EmployeeIdRecord.objects.filter(employee_id=created["employee_id"]).count() == 1

    again = api_for(world.approver).post(f"{URL}/{created['id']}/approve")
    assert again.status_code == 409
    assert again.json()["code"] == "request_not_open"


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}])
def test_reject_needs_a_reason_of_1_to_500_characters(world, body):
    created = file(world)
    approver_api = api_for(world.approver)
    before = counts()
    response = approver_api.post(f"{URL}/{created['id']}/reject", body)
    assert response.status_code == 422
    assert "reason" in response.json()["details"]["fields"]
    assert counts() == before
    assert EmployeeRequest.objects.get().status == "submitted"


@pytest.mark.django_db
def test_withdraw_by_the_requester_retires_the_employee_id(world):
    created = file(world)
    other = api_for(world.approver).post(f"{URL}/{created['id']}/withdraw")
    assert other.status_code == 403
    head_api = api_for(world.head)
    mark = last_seq()
    response = head_api.post(f"{URL}/{created['id']}/withdraw")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    assert actions_since(mark) == ["employee_request.withdraw"]
    entry = EmployeeIdRecord.objects.get(employee_id=created["employee_id"])
    assert entry.state == EmployeeIdState.RETIRED
    twice = head_api.post(f"{URL}/{created['id']}/withdraw")
    assert twice.status_code == 409


@pytest.mark.django_db
def test_returned_request_is_edited_and_resubmitted_by_the_requester(world):
    head_api, approver_api = api_for(world.head), api_for(world.approver)
    created = file(world)
    url = f"{URL}/{created['id']}"
    not_returned = head_api.patch(url, {"name": "李改名"})
    assert not_returned.status_code == 409

    mark = last_seq()
    returned = approver_api.post(f"{url}/return", {"reason": "请补充入职日期"})
    assert returned.status_code == 200
    assert returned.json()["status"] == "returned"
    assert approver_api.post(f"{url}/approve").status_code == 409
    assert approver_api.patch(url, {"name": "李改名"}).status_code == 403

    edited = head_api.patch(url, {"name": "李改名", "department_id": world.east.pk})
    assert edited.status_code == 200, edited.content
    assert edited.json()["status"] == "submitted"
    assert edited.json()["name"] == "李改名"
    assert edited.json()["employee_id"] == created["employee_id"]
    events = events_since(mark)
    assert [e.action for e in events] == ["employee_request.return", "employee_request.update"]
    assert events[0].params["reason"] == "请补充入职日期"
    assert events[1].changes == {
        "name": ["李新人", "李改名"],
        "department": [world.sales.pk, world.east.pk],
        "status": ["returned", "submitted"],
    }
    approved = approver_api.post(f"{url}/approve")
    assert approved.status_code == 200
    assert Employee.objects.get(employee_id=created["employee_id"]).name == "李改名"


# --- four eyes, SoD, scope ---------------------------------------------------------------------


@pytest.mark.django_db
def test_no_one_approves_their_own_request(world):
    both = make_employee(
        "吴双岗", roles=("department_head", "system_admin", "sales"), department=world.sales
    )
    api = api_for(both)
    created = file(world, api)
    before = counts()
    response = api.post(f"{URL}/{created['id']}/approve")
    assert response.status_code == 403
    assert response.json()["code"] == "four_eyes_own_request"
    assert counts() == before
    assert EmployeeRequest.objects.get().status == "submitted"


@pytest.mark.django_db
def test_no_one_grants_roles_they_do_not_hold(world, settings):
    created = file(world, roles=["sales", "marketing"])
    approver_api = api_for(world.approver)
    before = counts()
    response = approver_api.post(f"{URL}/{created['id']}/approve")
    assert response.status_code == 403
    assert response.json()["code"] == "four_eyes_roles"
    assert response.json()["details"] == {"roles": ["marketing"]}
    assert counts() == before

    settings.GONGHAO_APPROVER_MUST_HOLD_ROLES = False
    response = approver_api.post(f"{URL}/{created['id']}/approve")
    assert response.status_code == 200
    employee = Employee.objects.get(employee_id=created["employee_id"])
    assert [r.code for r in roles_of(employee)] == ["marketing", "sales"]


@pytest.mark.django_db
def test_a_sod_conflict_refuses_the_approval_and_changes_nothing(world, settings):
    settings.GONGHAO_APPROVER_MUST_HOLD_ROLES = False
    created = file(world, roles=["auditor", "system_admin"])
    approver_api = api_for(world.approver)
    before = counts()
    messages = Message.objects.count()
    response = approver_api.post(f"{URL}/{created['id']}/approve")
    assert response.status_code == 409
    assert response.json()["code"] == "sod_conflict"
    assert counts() == before
    assert Message.objects.count() == messages
    assert EmployeeRequest.objects.get().status == "submitted"
    entry = EmployeeIdRecord.objects.get(employee_id=created["employee_id"])
    assert entry.state == EmployeeIdState.RESERVED


@pytest.mark.django_db
def test_a_department_head_requests_only_inside_their_department_tree(world):
    head_api = api_for(world.head)
    assert head_api.post(URL, payload(world, department_id=world.east.pk)).status_code == 201
    before = counts()
    for department in (world.service, world.hq):
        response = head_api.post(URL, payload(world, department_id=department.pk))
        assert response.status_code == 403
        assert response.json()["code"] == "department_out_of_scope"
    assert counts() == before


@pytest.mark.django_db
def test_who_sees_which_requests(world):
    other_head = make_employee("郑部长", roles=("department_head",), department=world.sales)
    mine = file(world)
    theirs = file(world, api_for(other_head), name="王其他")
    head_api = api_for(world.head)
    listed = head_api.get(URL).json()
    assert listed["count"] == 1
    assert [i["id"] for i in listed["items"]] == [mine["id"]]
    assert head_api.get(f"{URL}/{theirs['id']}").status_code == 404
    assert head_api.post(f"{URL}/{theirs['id']}/withdraw").status_code == 404
    assert api_for(world.approver).get(URL).json()["count"] == 2
    assert api_for(world.approver).get(URL, {"status": "approved"}).json()["count"] == 0
    assert api_for(world.approver).get(URL, {"status": "bogus"}).status_code == 422

    nobody = api_for(world.nobody)
    assert nobody.get(URL).status_code == 403
    assert nobody.post(URL, payload(world)).status_code == 403
    assert head_api.post(f"{URL}/{mine['id']}/approve").status_code == 403
    assert head_api.post(f"{URL}/{mine['id']}/reject", {"reason": "x"}).status_code == 403


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "坏\x07名"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"department_id": None}, "department_id"),
        ({"department_id": 999999}, "department_id"),
        ({"department_id": 10**30}, "department_id"),
        ({"position_id": 999999}, "position_id"),
        ({"manager": "E0000000"}, "manager"),
        ({"manager": "not-an-id"}, "manager"),
        ({"roles": ["no-such-role"]}, "roles"),
        ({"roles": "sales"}, "roles"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"start_date": "2026-13-45"}, "start_date"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(world, overrides, field):
    head_api = api_for(world.head)
    before = counts()
    response = head_api.post(URL, payload(world, **overrides))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]["fields"], response.json()
    assert counts() == before


@pytest.mark.django_db
def test_non_object_bodies_and_bad_ids_are_refused(world):
    head_api = api_for(world.head)
    before = counts()
    assert head_api.post(URL, ["not", "an", "object"]).status_code in (400, 422)
    assert head_api.get(f"{URL}/0").status_code == 422
    assert head_api.get(f"{URL}/{10**30}").status_code == 422
    assert head_api.get(f"{URL}/12345").status_code == 404
    assert counts() == before


@pytest.mark.django_db
def test_every_operation_is_documented(world):
    from gonghao.api import api

    paths = api.get_openapi_schema()["paths"]
    operations = [
        op
        for path, methods in paths.items()
        if path.startswith("/api/v1/employee-requests")
        for op in methods.values()
    ]
    assert len(operations) == 8
    for op in operations:
        assert op.get("summary")
        assert op.get("tags") == ["employee requests"]
        assert {"401", "403", "422"} <= {str(code) for code in op["responses"]}


@pytest.mark.django_db
def test_status_choices_are_the_five_states():
    assert RequestStatus.values == ["submitted", "returned", "approved", "rejected", "withdrawn"]
