"""Offboarding (工号回收) through the API: logins end, records move, the report, scheduling,
the public pool, the refusals, the registry of handover steps and the audit events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from gonghao.accounts.models import ApiToken, Employee, EmployeeIdRecord, EmployeeIdState
from gonghao.accounts.services import allocate_employee_id, create_employee_with_id
from gonghao.audit.models import AuditEvent
from gonghao.core import jobs
from gonghao.core.errors import GonghaoError
from gonghao.crm.models import Customer, Interaction, Opportunity, Stage
from gonghao.lifecycle.handover import Move, register_handover_step, unregister_handover_step
from gonghao.lifecycle.models import (
    EmployeeRequest,
    HandoverItem,
    Offboarding,
    OffboardingStatus,
    RequestStatus,
)
from gonghao.testing.crm import make_crm_cast, make_customer
from gonghao.testing.kit import PASSWORD, ApiClient, api_as, api_for, make_employee

from .conftest import make_world


def url(employee, tail: str = "offboard") -> str:
    return f"/api/v1/employees/{employee.employee_id}/{tail}"


def last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


def events_since(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def make_opportunity(owner, customer, name: str, stage_code: str | None = None) -> Opportunity:
    stage = (
        Stage.objects.get(code=stage_code)
        if stage_code
        else Stage.objects.filter(is_won=False, is_lost=False).order_by("position").first()
    )
    return Opportunity.objects.create(
        customer=customer,
        name=name,
        stage=stage,
        owner=owner,
        owner_department=owner.department,
        created_by=owner,
    )


def make_follow_up(employee, customer, *, done: bool = False) -> Interaction:
    now = timezone.now()
    return Interaction.objects.create(
        customer=customer,
        employee=employee,
        kind="call",
        occurred_at=now - timedelta(days=1),
        content="电话沟通",
        next_follow_up=(now + timedelta(days=3)).date(),
        follow_up_done_at=now if done else None,
    )


@pytest.fixture
def crm(db):
    cast = make_crm_cast()
    cast.successor = make_employee(
        "接手人", roles=("sales",), department=cast.sales, manager=cast.head
    )
    return cast


def web_login(employee) -> Client:
    client = Client()
    assert client.login(username=employee.employee_id, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_full_path_offboard_ends_logins_moves_records_and_reports(crm):
    rep = crm.rep_a
    token_api = api_as(rep)  # a real login: a token issued by password
    session = web_login(rep)
    assert session.get("/").status_code == 200
    assert token_api.get("/api/v1/me").status_code == 200
    second_customer = make_customer(rep, "苏州丁公司")
    open_opp = make_opportunity(rep, crm.customer_a, "年度采购")
    won_opp = make_opportunity(rep, crm.customer_a, "去年订单", stage_code="won")
    follow_up = make_follow_up(rep, crm.customer_a)
    done_follow_up = make_follow_up(rep, crm.customer_a, done=True)
    admin = api_for(crm.admin)
    before = last_seq()

    response = admin.post(url(rep), {"successor": crm.successor.employee_id})

    assert response.status_code == 201, response.content
    events = events_since(before)
    body = response.json()
    assert body["status"] == "done"
    assert body["successor"] == crm.successor.employee_id
    assert body["effective"] == timezone.localdate().isoformat()
    assert body["tokens_revoked"] >= 1 and body["sessions_ended"] == 1
    # Login refused, web and token, and every existing login is dead.
    assert token_api.get("/api/v1/me").status_code == 401
    assert session.get("/").status_code == 302
    assert not Client().login(username=rep.employee_id, password=PASSWORD)
    refused = ApiClient().post(
        "/api/v1/auth/token", {"employee_id": rep.employee_id, "password": PASSWORD}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "account_inactive"
    assert not ApiToken.objects.filter(employee=rep, revoked_at__isnull=True).exists()
    assert not any(
        str(s.get_decoded().get("_auth_user_id")) == str(rep.pk) for s in Session.objects.all()
    )
    # Records moved.
    for customer in (crm.customer_a, second_customer):
        customer.refresh_from_db()
        assert customer.owner == crm.successor
        assert customer.owner_department == crm.sales
    open_opp.refresh_from_db()
    won_opp.refresh_from_db()
    assert open_opp.owner == crm.successor
    assert won_opp.owner == rep  # closed deals stay credited to who closed them
    follow_up.refresh_from_db()
    done_follow_up.refresh_from_db()
    assert follow_up.employee == crm.successor
    assert done_follow_up.employee == rep
    crm.rep_b.refresh_from_db()
    assert crm.rep_b.manager == crm.successor  # rep_b reported to rep_a
    # The 工号 stays as departed.
    rep.refresh_from_db()
    assert rep.status == "departed" and rep.departure_date == timezone.localdate()
    assert EmployeeIdRecord.objects.get(employee_id=rep.employee_id).state == "departed"
    # The report lists every moved record.
    kinds = sorted((i["kind"], i["record_id"]) for i in body["items"])
    assert kinds == sorted(
        [
            ("customer", str(crm.customer_a.pk)),
            ("customer", str(second_customer.pk)),
            ("opportunity", str(open_opp.pk)),
            ("follow_up", str(follow_up.pk)),
            ("report", str(crm.rep_b.pk)),
        ]
    )
    assert all(i["from_employee_id"] == rep.employee_id for i in body["items"])
    assert all(i["to_employee_id"] == crm.successor.employee_id for i in body["items"])
    assert body["count"] == 5
    report = admin.get(url(rep, "offboarding"))
    assert report.status_code == 200 and report.json()["items"] == body["items"]
    page = admin.get(url(rep, "offboarding"), {"limit": 2, "offset": 4}).json()
    assert page["count"] == 5 and page["items"] == body["items"][4:]
    # Audit: one handover.move per record, then the summary; nothing else.
    moves = [e for e in events if e.action == "handover.move"]
    assert len(moves) == 5
    assert {(e.target_type, e.target_id) for e in moves} >= {
        ("crm.customer", str(crm.customer_a.pk)),
        ("crm.opportunity", str(open_opp.pk)),
    }
    summary = [e for e in events if e.action == "employee.offboard"]
    assert len(summary) == 1
    assert summary[0].target_id == str(rep.pk) and summary[0].target_label.startswith(
        rep.employee_id
    )
    assert summary[0].actor_employee_id == crm.admin.employee_id
    assert summary[0].params["moved"] == 5 and summary[0].params["sessions"] == 1
    assert [e.action for e in events] == ["handover.move"] * 5 + ["employee.offboard"]
    # Audit events written by the employee before leaving still point at the 工号.
    assert AuditEvent.objects.filter(actor_employee_id=rep.employee_id).exists()


@pytest.mark.django_db
def test_public_pool_as_successor(crm):
    rep = crm.rep_b
    follow_up = make_follow_up(rep, crm.customer_b)
    opp = make_opportunity(rep, crm.customer_b, "试点项目")
    response = api_for(crm.admin).post(url(rep), {"successor": None})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["successor"] is None
    crm.customer_b.refresh_from_db()
    opp.refresh_from_db()
    follow_up.refresh_from_db()
    assert crm.customer_b.owner is None
    assert crm.customer_b.owner_department == crm.sales_east  # the pool keeps its department
    assert opp.owner is None
    assert follow_up.employee == rep  # left on the timeline, listed as not moved
    by_kind = {i["kind"]: i for i in body["items"]}
    assert by_kind["customer"]["to_employee_id"] is None and by_kind["customer"]["moved"]
    assert not by_kind["follow_up"]["moved"] and by_kind["follow_up"]["note"]


@pytest.mark.django_db
def test_requests_filed_move_to_the_successor_and_stay_for_approvers_without_one():
    world = make_world()
    head_api = api_for(world.head)
    filed = head_api.post(
        "/api/v1/employee-requests",
        {"name": "待批新人", "department_id": world.sales.pk, "roles": []},
    )
    assert filed.status_code == 201
    request_id = filed.json()["id"]
    other_head = make_employee("新部长", roles=("department_head",), department=world.sales)
    response = api_for(world.approver).post(url(world.head), {"successor": other_head.employee_id})
    assert response.status_code == 201, response.content
    request = EmployeeRequest.objects.get(pk=request_id)
    assert request.requested_by == other_head and request.status == RequestStatus.SUBMITTED
    assert [i["kind"] for i in response.json()["items"]] == ["employee_request"]

    # Without a successor the request stays for the approvers, who can still decide it.
    filed2 = api_for(other_head).post(
        "/api/v1/employee-requests",
        {"name": "另一新人", "department_id": world.sales.pk, "roles": []},
    )
    response = api_for(world.approver).post(url(other_head), {"successor": None})
    assert response.status_code == 201
    item = response.json()["items"][0]
    assert item["kind"] == "employee_request" and not item["moved"]
    request2 = EmployeeRequest.objects.get(pk=filed2.json()["id"])
    assert request2.requested_by == other_head
    approved = api_for(world.approver).post(f"/api/v1/employee-requests/{request2.pk}/approve")
    assert approved.status_code == 200


@pytest.mark.django_db
def test_future_offboarding_runs_on_its_day_via_the_job(crm, frozen_clock):
    rep = crm.rep_a
    rep_api = api_for(rep)
    effective = timezone.localdate(frozen_clock()) + timedelta(days=3)
    admin = api_for(crm.admin)
    before = last_seq()
    response = admin.post(
        url(rep), {"successor": crm.successor.employee_id, "effective": effective.isoformat()}
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "scheduled" and response.json()["items"] == []
    assert [e.action for e in events_since(before)] == ["employee.offboard.schedule"]
    rep.refresh_from_db()
    assert rep.status == "active"
    assert rep_api.get("/api/v1/me").status_code == 200
    # A second offboarding while one is scheduled is refused.
    again = admin.post(url(rep), {"successor": None})
    assert again.status_code == 409 and again.json()["code"] == "offboarding_scheduled"

    frozen_clock.advance(days=2)
    assert jobs.run_job(jobs.get_job("lifecycle.offboard_due"), force=True).result == {
        "offboarded": 0,
        "skipped": 0,
    }
    rep.refresh_from_db()
    assert rep.status == "active"

    frozen_clock.advance(days=1)
    outcome = jobs.run_job(jobs.get_job("lifecycle.offboard_due"), force=True)
    assert outcome.status == "done" and outcome.result["offboarded"] == 1
    rep.refresh_from_db()
    assert rep.status == "departed" and rep.departure_date == effective
    crm.customer_a.refresh_from_db()
    assert crm.customer_a.owner == crm.successor
    assert rep_api.get("/api/v1/me").status_code == 401
    summary = AuditEvent.objects.get(action="employee.offboard")
    assert summary.actor_kind == "system"
    # Idempotent: running again changes nothing and writes nothing.
    seq = last_seq()
    again = jobs.run_job(jobs.get_job("lifecycle.offboard_due"), force=True)
    assert again.result == {"offboarded": 0, "skipped": 0}
    assert last_seq() == seq
    assert HandoverItem.objects.filter(kind="customer").count() == 1


@pytest.mark.django_db
def test_scheduled_offboarding_can_be_cancelled_before_its_day(crm, frozen_clock):
    rep = crm.rep_a
    admin = api_for(crm.admin)
    effective = timezone.localdate(frozen_clock()) + timedelta(days=5)
    admin.post(url(rep), {"successor": None, "effective": effective.isoformat()})
    before = last_seq()
    cancelled = admin.post(url(rep, "offboarding/cancel"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [e.action for e in events_since(before)] == ["employee.offboard.cancel"]
    frozen_clock.advance(days=6)
    jobs.run_job(jobs.get_job("lifecycle.offboard_due"), force=True)
    rep.refresh_from_db()
    assert rep.status == "active"
    admin = api_for(crm.admin)  # the first token expired while the clock moved
    # Cancelling twice is a conflict; a new offboarding may follow the cancelled one.
    twice = admin.post(url(rep, "offboarding/cancel"))
    assert twice.status_code == 409 and twice.json()["code"] == "offboarding_not_scheduled"
    assert admin.post(url(rep), {"successor": None}).status_code == 201


@pytest.mark.django_db
def test_successor_gone_inactive_before_the_day_sends_records_to_the_pool(crm, frozen_clock):
    rep = crm.rep_a
    effective = timezone.localdate(frozen_clock()) + timedelta(days=1)
    api_for(crm.admin).post(
        url(rep), {"successor": crm.successor.employee_id, "effective": effective.isoformat()}
    )
    Employee.objects.filter(pk=crm.successor.pk).update(status="disabled")
    frozen_clock.advance(days=1)
    jobs.run_job(jobs.get_job("lifecycle.offboard_due"), force=True)
    crm.customer_a.refresh_from_db()
    assert crm.customer_a.owner is None
    offboarding = Offboarding.objects.get(employee=rep)
    assert offboarding.status == OffboardingStatus.DONE and offboarding.note


def _snapshot(crm):
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "owner_id")),
        list(Employee.objects.order_by("pk").values_list("pk", "status", "manager_id")),
        Offboarding.objects.count(),
        ApiToken.objects.filter(revoked_at__isnull=True).count(),
        last_seq(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("self", 403, "offboard_self"),
        ("no_permission", 403, "permission_denied"),
        ("inactive_successor", 422, "validation_error"),
        ("same_person", 422, "validation_error"),
        ("unknown_successor", 422, "validation_error"),
        ("past_date", 422, "validation_error"),
        ("already_departed", 409, "already_departed"),
        ("unknown_employee", 404, "employee_not_found"),
        ("malformed_employee", 400, "invalid_employee_id"),
    ],
)
def test_refusals_change_nothing_and_write_no_event(crm, case, status, code):
    admin = api_for(crm.admin)
    target = crm.rep_a
    body = {"successor": crm.successor.employee_id}
    caller = admin
    departed = make_employee("已离职", status="departed", department=crm.sales)
    if case == "self":
        target = crm.admin
    elif case == "no_permission":
        caller = api_for(crm.head)
    elif case == "inactive_successor":
        body["successor"] = make_employee("停用", status="disabled").employee_id
    elif case == "same_person":
        body["successor"] = target.employee_id
    elif case == "unknown_successor":
        body["successor"] = allocate_employee_id(actor=None, purpose="test").employee_id
    elif case == "past_date":
        body["effective"] = (timezone.localdate() - timedelta(days=1)).isoformat()
    elif case == "already_departed":
        target = departed
    before = _snapshot(crm)
    path = url(target)
    if case == "unknown_employee":
        unknown = allocate_employee_id(actor=None, purpose="t").employee_id
        path = f"/api/v1/employees/{unknown}/offboard"
        before = _snapshot(crm)
    elif case == "malformed_employee":
        path = "/api/v1/employees/E0000000/offboard"
    response = caller.post(path, body)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert _snapshot(crm) == before
    if status == 422:
        fields = response.json()["details"]["fields"]
        assert list(fields) in (["successor"], ["effective"])


@pytest.mark.django_db
def test_refusal_messages_in_both_languages(crm):
    inactive = make_employee("停用", status="disabled")
    en = api_for(crm.admin, language="en").post(url(crm.rep_a), {"successor": inactive.employee_id})
    zh = api_for(crm.admin, language="zh-hans").post(
        url(crm.rep_a), {"successor": inactive.employee_id}
    )
    assert en.json()["message"] == "Some fields are not valid."
    assert en.json()["details"]["fields"]["successor"] == [
        f"The successor {inactive.employee_id} is not active (Disabled)."
    ]
    # The frame and the status are in Chinese already; the sentence itself is translated by
    # the lead after the merge (new strings are extracted then).
    assert zh.json()["code"] == "validation_error"
    assert zh.json()["message"] == "部分字段填写有误。"
    assert "停用" in zh.json()["details"]["fields"]["successor"][0]


@pytest.mark.django_db
def test_reading_the_report_needs_the_permission(crm):
    api_for(crm.admin).post(url(crm.rep_a), {"successor": None})
    for who in (crm.head, crm.rep_b, crm.auditor):
        response = api_for(who).get(url(crm.rep_a, "offboarding"))
        assert response.status_code == 403
    missing = api_for(crm.admin).get(url(crm.rep_b, "offboarding"))
    assert missing.status_code == 404 and missing.json()["code"] == "offboarding_not_found"


@pytest.mark.django_db
def test_preview_changes_nothing(crm):
    admin = api_for(crm.admin)
    before = _snapshot(crm)
    response = admin.get(
        url(crm.rep_a, "offboarding/preview"), {"successor": crm.successor.employee_id}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2  # customer_a and the report rep_b
    assert {s["code"] for s in body["steps"]} >= {"crm.customers", "crm.opportunities"}
    assert _snapshot(crm) == before


@pytest.mark.django_db
def test_departed_employee_id_is_never_reissued(crm):
    rep = crm.rep_a
    api_for(crm.admin).post(url(rep), {"successor": None})
    entry = EmployeeIdRecord.objects.get(employee_id=rep.employee_id)
    assert entry.state == EmployeeIdState.DEPARTED and entry.holder_id == rep.pk
    issued = {allocate_employee_id(actor=None, purpose="test").employee_id for _ in range(30)}
    assert rep.employee_id not in issued
    with pytest.raises(GonghaoError) as refused:
        create_employee_with_id(actor=None, id_entry=entry, name="冒用")
    assert refused.value.code == "employee_id_not_reserved"


@pytest.mark.django_db
def test_other_apps_can_register_handover_steps(crm):
    moved = []

    def plan(employee, successor):
        return [Move("widget", "test.widget", 7, "小部件", to=successor)]

    def apply(employee, successor, moves):
        moved.extend(moves)

    register_handover_step("test.widgets", label="Widgets", plan=plan, apply=apply, order=99)
    try:
        response = api_for(crm.admin).post(url(crm.rep_c), {"successor": None})
    finally:
        unregister_handover_step("test.widgets")
    assert response.status_code == 201
    assert [m.record_id for m in moved] == [7]
    widget = [i for i in response.json()["items"] if i["kind"] == "widget"]
    assert widget == [
        {
            "step": "test.widgets",
            "kind": "widget",
            "record_id": "7",
            "label": "小部件",
            "from_employee_id": crm.rep_c.employee_id,
            "to_employee_id": None,
            "moved": True,
            "note": "",
        }
    ]
    assert AuditEvent.objects.filter(
        action="handover.move", target_type="test.widget", target_id="7"
    ).exists()


@pytest.mark.django_db
def test_a_failing_step_rolls_everything_back(crm):
    def plan(employee, successor):
        return [Move("widget", "test.widget", 1, "坏的")]

    def apply(employee, successor, moves):
        raise RuntimeError("boom")

    register_handover_step("test.broken", label="Broken", plan=plan, apply=apply, order=999)
    before = _snapshot(crm)
    try:
        with pytest.raises(RuntimeError):
            from gonghao.lifecycle.offboarding import offboard_employee

            offboard_employee(crm.rep_a, actor=crm.admin, successor=crm.successor)
    finally:
        unregister_handover_step("test.broken")
    assert _snapshot(crm) == before
