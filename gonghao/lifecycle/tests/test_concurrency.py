"""Simultaneous approvals of one request approve it once (row lock / IMMEDIATE transactions)."""

from __future__ import annotations

import threading

import pytest

from gonghao.accounts.models import Employee, EmployeeIdRecord, EmployeeIdState
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.core.errors import Conflict
from gonghao.lifecycle import services
from gonghao.lifecycle.models import EmployeeRequest, RequestStatus
from gonghao.testing.kit import make_employee
from gonghao.testing.threads import run_together

from .conftest import make_world

THREADS = 6


def race(worker) -> tuple[list, list[BaseException]]:
    return run_together(lambda _index: worker(), THREADS)


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_approve_once():
    world = make_world()
    approvers = [make_employee(f"审批{i}", roles=("system_admin", "sales")) for i in range(THREADS)]
    request = services.file_request(
        actor=world.head,
        fields=services.resolve_fields(
            name="并发新人", department_id=world.sales.pk, roles=["sales"], email="a@example.cn"
        ),
    )
    queue = list(approvers)
    pick = threading.Lock()

    def approve():
        with pick:
            approver = queue.pop()
        found = EmployeeRequest.objects.get(pk=request.pk)
        return services.approve_request(found, actor=approver)

    results, errors = race(approve)
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, Conflict) and e.code == "request_not_open" for e in errors), errors
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert Employee.objects.filter(employee_id=request.id_record.employee_id).count() == 1
    assert EmployeeIdRecord.objects.get(pk=request.id_record_id).state == EmployeeIdState.ASSIGNED
    assert AuditEvent.objects.filter(action="employee_request.approve").count() == 1
    assert (
        AuditEvent.objects.filter(action="employee.create", params__request=request.pk).count() == 1
    )
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_approve_and_reject_do_one_of_them():
    world = make_world()
    request = services.file_request(
        actor=world.head,
        fields=services.resolve_fields(name="并发新人", department_id=world.sales.pk, roles=[]),
    )
    turn = iter(range(THREADS))
    pick = threading.Lock()

    def decide():
        with pick:
            index = next(turn)
        found = EmployeeRequest.objects.get(pk=request.pk)
        if index % 2:
            return services.reject_request(found, actor=world.approver, reason="并发")
        return services.approve_request(found, actor=world.approver)

    results, errors = race(decide)
    assert len(results) == 1, errors
    assert all(isinstance(e, Conflict) for e in errors), errors
    request.refresh_from_db()
    entry = EmployeeIdRecord.objects.get(pk=request.id_record_id)
    if request.status == RequestStatus.APPROVED:
        assert entry.state == EmployeeIdState.ASSIGNED
    else:
        assert request.status == RequestStatus.REJECTED
        assert entry.state == EmployeeIdState.RETIRED
        assert not Employee.objects.filter(employee_id=entry.employee_id).exists()
    decided = AuditEvent.objects.filter(
        action__in=["employee_request.approve", "employee_request.reject"]
    )
    assert decided.count() == 1
    assert verify_chain().ok
